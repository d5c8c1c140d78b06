//! Passwords and their stored hashes.
//!
//! Stored hashes are PBKDF2-HMAC-SHA256 in a self-describing string,
//! `$pbkdf2-sha256$i=<iterations>$<salt>$<hash>` (salt and hash in unpadded standard
//! base64, as the PHC string format has it), so the iteration count can be raised later
//! without breaking older hashes.
//!
//! The derivation itself is behind [`Pbkdf2`], so that another implementation (such as
//! WebCrypto's, much faster than the crate compiled to wasm) can replace the `pbkdf2`
//! crate without touching the format or the use cases.

use base64ct::{Base64Unpadded, Encoding};

use super::random::Randomness;

pub const MIN_PASSWORD_CHARS: usize = 6;
pub const MAX_PASSWORD_CHARS: usize = 64;
const SALT_BYTES: usize = 16;
const HASH_BYTES: usize = 32;
const SCHEME: &str = "pbkdf2-sha256";

/// A password that passed the registration rules: 6 to 64 letters, digits or underscores.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

/// Why a string is not an acceptable new password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordError {
    Charset,
    Length,
}

impl Password {
    pub fn parse(input: &str) -> Result<Password, PasswordError> {
        if !input.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(PasswordError::Charset);
        }
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&input.len()) {
            return Err(PasswordError::Length);
        }
        Ok(Password(input.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// Never print a password, not even in a debug log.
impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// PBKDF2-HMAC-SHA256 with a 32-byte output.
pub trait Pbkdf2 {
    async fn derive(&self, password: &[u8], salt: &[u8], iterations: u32)
        -> Result<[u8; HASH_BYTES], String>;
}

/// The `pbkdf2` crate: the reference implementation, used natively and as the fallback.
#[derive(Debug, Default, Clone, Copy)]
pub struct NativePbkdf2;

impl Pbkdf2 for NativePbkdf2 {
    async fn derive(
        &self,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
    ) -> Result<[u8; HASH_BYTES], String> {
        let mut out = [0u8; HASH_BYTES];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out);
        Ok(out)
    }
}

/// A stored password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl PasswordHash {
    /// Hashes `password` with a fresh random salt.
    pub async fn create(
        kdf: &impl Pbkdf2,
        rng: &impl Randomness,
        password: &str,
        iterations: u32,
    ) -> Result<PasswordHash, String> {
        let salt = rng.bytes::<SALT_BYTES>().to_vec();
        let hash = kdf.derive(password.as_bytes(), &salt, iterations).await?.to_vec();
        Ok(PasswordHash { iterations, salt, hash })
    }

    /// A hash no password matches, costing what a real one costs to check: verifying a
    /// login for an unknown account against it takes as long as a wrong password does,
    /// so timing does not tell which accounts exist.
    pub fn dummy(iterations: u32) -> PasswordHash {
        PasswordHash { iterations, salt: vec![0x5a; SALT_BYTES], hash: vec![0; HASH_BYTES] }
    }

    /// Whether `password` matches, comparing in constant time.
    pub async fn verify(&self, kdf: &impl Pbkdf2, password: &str) -> Result<bool, String> {
        let derived = kdf.derive(password.as_bytes(), &self.salt, self.iterations).await?;
        let same_length = derived.len() == self.hash.len();
        let difference = derived.iter().zip(&self.hash).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        Ok(same_length && difference == 0)
    }

    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// The self-describing text stored in D1.
    pub fn encode(&self) -> String {
        format!(
            "${SCHEME}$i={}${}${}",
            self.iterations,
            Base64Unpadded::encode_string(&self.salt),
            Base64Unpadded::encode_string(&self.hash)
        )
    }

    /// Reads a stored hash; `None` for anything not written by [`PasswordHash::encode`].
    pub fn decode(text: &str) -> Option<PasswordHash> {
        let mut parts = text.strip_prefix('$')?.split('$');
        let (scheme, params, salt, hash) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if scheme != SCHEME || parts.next().is_some() {
            return None;
        }
        let iterations: u32 = params.strip_prefix("i=")?.parse().ok().filter(|&i| i > 0)?;
        let salt = Base64Unpadded::decode_vec(salt).ok()?;
        let hash = Base64Unpadded::decode_vec(hash).ok()?;
        (hash.len() == HASH_BYTES && !salt.is_empty()).then_some(PasswordHash { iterations, salt, hash })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::random::SecureRandom;
    use pollster::block_on;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn pbkdf2_sha256_matches_known_answers() {
        // RFC 6070's inputs with SHA-256; the answers are the widely published ones
        // (also what Python's hashlib.pbkdf2_hmac gives).
        let cases: [(&[u8], &[u8], u32, &str); 3] = [
            (b"password", b"salt", 1, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"),
            (b"password", b"salt", 2, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"),
            (b"password", b"salt", 4096, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"),
        ];
        for (password, salt, iterations, expected) in cases {
            let derived = block_on(NativePbkdf2.derive(password, salt, iterations)).unwrap();
            assert_eq!(hex(&derived), expected, "{iterations} iterations");
        }
    }

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let hash = block_on(PasswordHash::create(&NativePbkdf2, &SecureRandom, "secret_1", 1000)).unwrap();
        assert!(block_on(hash.verify(&NativePbkdf2, "secret_1")).unwrap());
        assert!(!block_on(hash.verify(&NativePbkdf2, "secret_2")).unwrap());
    }

    #[test]
    fn one_password_hashes_differently_for_two_users() {
        let a = block_on(PasswordHash::create(&NativePbkdf2, &SecureRandom, "same_pw", 1000)).unwrap();
        let b = block_on(PasswordHash::create(&NativePbkdf2, &SecureRandom, "same_pw", 1000)).unwrap();
        assert_ne!(a.encode(), b.encode());
    }

    #[test]
    fn the_format_records_algorithm_iterations_and_salt() {
        let hash = block_on(PasswordHash::create(&NativePbkdf2, &SecureRandom, "abc123", 1234)).unwrap();
        let text = hash.encode();
        assert!(text.starts_with("$pbkdf2-sha256$i=1234$"), "{text}");
        assert!(!text.contains("abc123"));
        assert_eq!(PasswordHash::decode(&text), Some(hash));
    }

    #[test]
    fn malformed_stored_hashes_are_not_read() {
        for text in [
            "",
            "abc",
            "$pbkdf2-sha256$i=0$c2FsdA$AAAA",
            "$md5$i=1$c2FsdA$AAAA",
            "$pbkdf2-sha256$1000$c2FsdA$AAAA",
            "$pbkdf2-sha256$i=10$$AAAA",
            "$pbkdf2-sha256$i=10$c2FsdA$AAAA$extra",
        ] {
            assert_eq!(PasswordHash::decode(text), None, "{text}");
        }
    }

    #[test]
    fn the_dummy_hash_matches_no_password() {
        let dummy = PasswordHash::dummy(10);
        assert!(!block_on(dummy.verify(&NativePbkdf2, "")).unwrap());
        assert!(!block_on(dummy.verify(&NativePbkdf2, "password")).unwrap());
    }

    #[test]
    fn new_passwords_follow_the_documents_rules() {
        assert!(Password::parse("1234567").is_ok());
        assert!(Password::parse("abc_DEF_123").is_ok());
        assert_eq!(Password::parse("12345"), Err(PasswordError::Length));
        assert_eq!(Password::parse(&"a".repeat(65)), Err(PasswordError::Length));
        assert_eq!(Password::parse("pass word"), Err(PasswordError::Charset));
        assert_eq!(Password::parse("pässword"), Err(PasswordError::Charset));
    }
}
