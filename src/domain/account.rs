//! Account names.

use super::random::Randomness;
use super::username::{username_key, UnicodeFacts};

/// An account name: 1 to 64 characters after trimming, with no control characters. The
/// name keeps the width and case the user chose; uniqueness is on its key (see
/// [`AccountLookup`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account(String);

/// Why a string is not an account name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountError {
    Empty,
    TooLong,
    ControlCharacter,
}

pub const MAX_ACCOUNT_CHARS: usize = 64;

impl Account {
    pub fn parse(input: &str) -> Result<Account, AccountError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(AccountError::Empty);
        }
        if trimmed.chars().count() > MAX_ACCOUNT_CHARS {
            return Err(AccountError::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(AccountError::ControlCharacter);
        }
        Ok(Account(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A name for an account a code sign-in makes: `user_` and 8 random characters of
    /// `[a-z0-9]` (36^8, about 2.8 × 10^12 names), which the username profile takes as
    /// they are. Each character is drawn from a byte below 252, the largest multiple of
    /// 36 under 256, so that every one is equally likely.
    pub fn generated(rng: &impl Randomness) -> Account {
        const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut name = String::from("user_");
        while name.len() < 13 {
            for byte in rng.bytes::<8>() {
                if byte < 252 && name.len() < 13 {
                    name.push(ALPHABET[usize::from(byte % 36)] as char);
                }
            }
        }
        Account(name)
    }
}

/// An account name as lookups and limits see it: as typed (trimmed), and its key under
/// the PRECIS username profile ([`username_key`]), which uniqueness is on. A name the
/// profile refuses has no key: no account registered since can hold one, but one made
/// before may, and it is found by its name as before (ASCII case ignored, as the D1
/// column's `COLLATE NOCASE` compares). Takes raw text because a login's account name
/// is never parsed (an impossible name just fails to log in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountLookup {
    pub name: String,
    pub key: Option<String>,
}

impl AccountLookup {
    pub fn of(typed: &str, facts: &dyn UnicodeFacts) -> AccountLookup {
        let name = typed.trim().to_string();
        let key = username_key(&name, facts).ok();
        AccountLookup { name, key }
    }

    /// A name no account can have (empty, or longer than any), as the limits count it:
    /// no key, cut to the longest a name can be.
    pub fn without_key(typed: &str) -> AccountLookup {
        AccountLookup { name: typed.trim().chars().take(MAX_ACCOUNT_CHARS).collect(), key: None }
    }

    /// What the failed-login limits count by: the key (so look-alikes share a window),
    /// or for a name without one its ASCII case folded.
    pub fn limit_name(&self) -> String {
        self.key.clone().unwrap_or_else(|| self.name.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_has_the_profiles_key_and_limits_count_by_it() {
        let names = crate::domain::username::native::NativeUnicode;
        let lookup = AccountLookup::of(" Ｆoo ", &names);
        assert_eq!((lookup.name.as_str(), lookup.key.as_deref()), ("Ｆoo", Some("foo")));
        assert_eq!(lookup.limit_name(), "foo");
        // A name only an account made before can hold: no key, ASCII case folded.
        let legacy = AccountLookup::of("Old\u{200B}Name", &names);
        assert_eq!(legacy.key, None);
        assert_eq!(legacy.limit_name(), "old\u{200B}name");
    }

    #[test]
    fn accounts_are_trimmed() {
        assert_eq!(Account::parse("  Foo ").unwrap().as_str(), "Foo");
    }

    #[test]
    fn unicode_accounts_count_characters_not_bytes() {
        let name = "张".repeat(64);
        assert!(Account::parse(&name).is_ok());
        assert_eq!(Account::parse(&"张".repeat(65)), Err(AccountError::TooLong));
    }

    #[test]
    fn empty_and_control_characters_are_refused() {
        assert_eq!(Account::parse("   "), Err(AccountError::Empty));
        assert_eq!(Account::parse("a\u{0}b"), Err(AccountError::ControlCharacter));
        assert_eq!(Account::parse("a\nb"), Err(AccountError::ControlCharacter));
    }
}
