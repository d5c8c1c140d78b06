//! Account names.

/// An account name: 1 to 64 characters after trimming, with no control characters.
/// Uniqueness ignores ASCII case (the D1 column is `COLLATE NOCASE`); the name keeps the
/// case the user chose.
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

    /// This account as uniqueness and limits see it; see [`Account::key_of`].
    pub fn key(&self) -> String {
        Account::key_of(&self.0)
    }

    /// Any account name as uniqueness and limits see it: trimmed, with ASCII case folded,
    /// which is what the D1 column's `COLLATE NOCASE` compares. Takes raw text because a
    /// login's account name is never parsed (an impossible name just fails to log in).
    pub fn key_of(text: &str) -> String {
        text.trim().to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_ascii_case_only() {
        assert_eq!(Account::parse(" Foo ").unwrap().key(), "foo");
        assert_eq!(Account::key_of(" FOO"), "foo");
        assert_eq!(Account::key_of("ÄBC"), "Äbc", "as COLLATE NOCASE: ASCII only");
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
