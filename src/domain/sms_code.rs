//! The 6-digit SMS codes.

use super::random::Randomness;
use serde::{Deserialize, Serialize};

/// A 6-digit code, kept as its text so that leading zeros survive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsCode(String);

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

#[cfg(test)]
mod tests {
    use super::*;
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
}
