//! The 6-digit SMS codes.

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize};

use super::crypto::{constant_time_eq, Crypto};
use super::phone::Phone;
use super::random::Randomness;

/// A 6-digit code, kept as its text so that leading zeros survive. Read back from JSON
/// (a Durable Object call) through [`SmsCode::parse`], so no other text becomes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct SmsCode(String);

impl TryFrom<String> for SmsCode {
    type Error = &'static str;

    fn try_from(text: String) -> Result<SmsCode, Self::Error> {
        SmsCode::parse(&text).ok_or("an SMS code has six digits")
    }
}

impl SmsCode {
    /// A uniformly random code. Rejection sampling keeps every code equally likely:
    /// 4,294,000,000 is the largest multiple of 10^6 below 2^32.
    pub fn generate(rng: &impl Randomness) -> SmsCode {
        const LIMIT: u32 = 4_294_000_000;
        loop {
            let value = u32::from_le_bytes(rng.bytes::<4>());
            if value < LIMIT {
                return SmsCode(format!("{:06}", value % 1_000_000));
            }
        }
    }

    /// Exactly six ASCII digits.
    pub fn parse(input: &str) -> Option<SmsCode> {
        let input = input.trim();
        (input.len() == 6 && input.bytes().all(|b| b.is_ascii_digit())).then(|| SmsCode(input.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares without an early exit, so timing does not reveal how many leading digits
    /// of a guess were right.
    pub fn matches(&self, other: &SmsCode) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// What a code was sent for. A code is good only for its own purpose: a registration
/// code never resets a password, and a reset code never registers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodePurpose {
    /// `/login/register` (the default: what every code was before purposes existed).
    #[default]
    Register,
    /// `/login/password/reset`.
    Reset,
    /// `/login/jwt/sms`: signing in with the code.
    Login,
    /// `/login/account/delete`: the account's own phone confirms its deletion.
    Delete,
    /// `/login/phone/change`: the new phone of the user with this id proves it is theirs.
    /// The user is part of the purpose, so another user's code for the same number is a
    /// code for another purpose.
    #[serde(rename = "change_phone")]
    ChangePhone(u64),
}

impl CodePurpose {
    /// The name a send asks for it by (`change_phone` without its user).
    pub fn name(&self) -> &'static str {
        match self {
            CodePurpose::Register => "register",
            CodePurpose::Reset => "reset",
            CodePurpose::Login => "login",
            CodePurpose::Delete => "delete",
            CodePurpose::ChangePhone(_) => "change_phone",
        }
    }

    /// The purpose named in a request body (`change_phone` is not one: its user comes
    /// from the request's token).
    pub fn from_name(name: &str) -> Option<CodePurpose> {
        match name {
            "register" => Some(CodePurpose::Register),
            "reset" => Some(CodePurpose::Reset),
            "login" => Some(CodePurpose::Login),
            "delete" => Some(CodePurpose::Delete),
            _ => None,
        }
    }
}

/// `SMS_TEST_NUMBERS`: phones whose codes are fixed and never sent, for app-store reviewers
/// and automated tests (`+8613800000000:246810,+15555550100:135790`). Every other rule
/// holds for them: purposes, one live code, guesses, caps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestNumbers(Vec<(String, SmsCode)>);

impl TestNumbers {
    /// The list, or why it is not one. The reason names an entry by its place, never by
    /// its text: the variable is a secret.
    pub fn parse(text: &str) -> Result<TestNumbers, String> {
        let mut numbers = Vec::new();
        for (place, entry) in text.split(',').map(str::trim).filter(|entry| !entry.is_empty()).enumerate() {
            let parsed = entry.split_once(':').and_then(|(phone, code)| {
                let phone = Phone::parse(phone.trim()).filter(|_| phone.trim().starts_with('+'))?;
                Some((phone.e164().to_string(), SmsCode::parse(code)?))
            });
            let entry = parsed.ok_or_else(|| {
                format!("SMS_TEST_NUMBERS: entry {} is not +<country code and number>:<6 digits>", place + 1)
            })?;
            numbers.push(entry);
        }
        Ok(TestNumbers(numbers))
    }

    /// The fixed code of `phone`, if it is a test number.
    pub fn code_for(&self, phone: &Phone) -> Option<&SmsCode> {
        self.0.iter().find(|(number, _)| number == phone.e164()).map(|(_, code)| code)
    }
}

/// A code secret is a key: as long as the JWT secret must be.
pub const MIN_CODE_SECRET_BYTES: usize = 32;

/// Seals codes before they are stored: HMAC-SHA256 under `SMS_CODE_SECRET` of the code
/// and where it belongs. A six-digit code has only a million values, so a plain hash in
/// KV would give every code away to whoever can list the namespace; without the secret,
/// a sealed one gives nothing. Binding the phone and the code's id in means a sealed
/// value copied to another key does not verify there.
pub struct CodeSeal {
    key: Vec<u8>,
    crypto: &'static dyn Crypto,
}

impl CodeSeal {
    /// `None` when the secret is shorter than [`MIN_CODE_SECRET_BYTES`].
    pub fn new(crypto: &'static dyn Crypto, secret: &[u8]) -> Option<CodeSeal> {
        (secret.len() >= MIN_CODE_SECRET_BYTES).then(|| CodeSeal { key: secret.to_vec(), crypto })
    }

    fn mac(&self, phone: &str, code_id: &str, code: &SmsCode) -> [u8; 32] {
        // Each part after its length, so that no two triples give the same input.
        let mut input = Vec::new();
        for part in [phone, code_id, code.as_str()] {
            input.extend_from_slice(&(part.len() as u32).to_be_bytes());
            input.extend_from_slice(part.as_bytes());
        }
        self.crypto.hmac_sha256(&self.key, &input)
    }

    /// The sealed form of `code`, as stored (base64url).
    pub fn seal(&self, phone: &str, code_id: &str, code: &SmsCode) -> String {
        Base64UrlUnpadded::encode_string(&self.mac(phone, code_id, code))
    }

    /// Whether `guess` is the code that was sealed, compared in constant time.
    pub fn opens(&self, sealed: &str, phone: &str, code_id: &str, guess: &SmsCode) -> bool {
        match Base64UrlUnpadded::decode_vec(sealed) {
            Ok(tag) => constant_time_eq(&self.mac(phone, code_id, guess), &tag),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_numbers_are_e164_phones_with_six_digit_codes() {
        let numbers = TestNumbers::parse(" +8613800000000:246810, +15555550100:135790 ,").unwrap();
        let code = |phone: &str| numbers.code_for(&Phone::parse(phone).unwrap()).map(SmsCode::as_str);
        assert_eq!(code("13800000000"), Some("246810"));
        assert_eq!(code("+15555550100"), Some("135790"));
        assert_eq!(code("13800000001"), None);
        assert_eq!(TestNumbers::parse(""), Ok(TestNumbers::default()));
        for (text, place) in [
            ("13800000000:246810", 1),
            ("+8613800000000:24681", 1),
            ("+8613800000000:246810,+8613800000001", 2),
            ("+8613800000000 246810", 1),
            ("+86138:246810", 1),
        ] {
            let reason = TestNumbers::parse(text).unwrap_err();
            assert!(reason.contains(&format!("entry {place} ")), "{text}: {reason}");
            assert!(
                !reason.contains("246810") && !reason.contains("13800000000"),
                "the secret is not echoed: {reason}"
            );
        }
    }
    use crate::domain::crypto::native::NativeCrypto;
    use crate::domain::random::{SecureRandom, SequenceRandom};

    #[test]
    fn generated_codes_are_six_digits() {
        for _ in 0..1000 {
            let code = SmsCode::generate(&SecureRandom);
            assert!(SmsCode::parse(code.as_str()).is_some(), "{code:?}");
        }
    }

    #[test]
    fn generated_codes_keep_leading_zeros() {
        // Bytes 0,1,2,3 make 0x03020100 = 50462976, which is 462976 mod 10^6.
        let code = SmsCode::generate(&SequenceRandom::default());
        assert_eq!(code.as_str(), "462976");
    }

    #[test]
    fn parse_accepts_exactly_six_digits() {
        assert!(SmsCode::parse("012345").is_some());
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６", "-12345"] {
            assert!(SmsCode::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn matching_is_exact() {
        let code = SmsCode::parse("123456").unwrap();
        assert!(code.matches(&SmsCode::parse("123456").unwrap()));
        assert!(!code.matches(&SmsCode::parse("123457").unwrap()));
    }

    #[test]
    fn a_sealed_code_opens_only_with_its_code_phone_and_id() {
        let seal = CodeSeal::new(&NativeCrypto, &[7u8; 32]).unwrap();
        let code = SmsCode::parse("012345").unwrap();
        let sealed = seal.seal("+8613911119999", "id1", &code);
        assert!(!sealed.contains("012345"));
        assert!(seal.opens(&sealed, "+8613911119999", "id1", &code));
        assert!(!seal.opens(&sealed, "+8613911119999", "id1", &SmsCode::parse("012346").unwrap()));
        assert!(!seal.opens(&sealed, "+8613911118888", "id1", &code));
        assert!(!seal.opens(&sealed, "+8613911119999", "id2", &code));
        assert!(!seal.opens("not base64!", "+8613911119999", "id1", &code));
        let other = CodeSeal::new(&NativeCrypto, &[8u8; 32]).unwrap();
        assert!(!other.opens(&sealed, "+8613911119999", "id1", &code));
    }

    #[test]
    fn a_short_code_secret_is_refused() {
        assert!(CodeSeal::new(&NativeCrypto, &[0u8; 31]).is_none());
    }
}
