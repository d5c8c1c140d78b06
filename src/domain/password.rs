//! Passwords and their stored hashes.
//!
//! Stored hashes are PBKDF2-HMAC-SHA256 in a self-describing string,
//! `$pbkdf2-sha256$i=<iterations>$<salt>$<hash>` (salt and hash in unpadded standard
//! base64, as the PHC string format has it), so the iteration count can be raised later
//! without breaking older hashes. With a pepper (`PASSWORD_PEPPER`, a secret kept out of
//! D1) the password is first replaced by HMAC-SHA256(pepper, password), and the hash says
//! so: `$pbkdf2-sha256$i=<iterations>,pepper=1$...`. A stolen database alone then cannot
//! be attacked offline, which makes up for the 100,000-iteration ceiling of Cloudflare's
//! WebCrypto.
//!
//! Users moved in from the original PHP service (`make import`) arrive with its unsalted
//! `md5(password)`. That is never stored bare: it is the input of the same PBKDF2 (salt,
//! iterations, pepper), under a scheme of its own, `$pbkdf2-sha256-md5$...`, which checks
//! a password by its md5 first. Such a hash is always weaker than the policy, so the
//! first successful login replaces it with a normal one.
//!
//! The derivation itself is behind [`Pbkdf2`], so that another implementation (such as
//! WebCrypto's, much faster than the crate compiled to wasm) can replace the `pbkdf2`
//! crate without touching the format or the use cases; the pepper's HMAC and the md5
//! come from the [`Crypto`] that goes with it.

use base64ct::{Base64Unpadded, Encoding};

use super::crypto::{constant_time_eq, Crypto};
use super::error::Fault;
use super::random::Randomness;

pub const MIN_PASSWORD_CHARS: usize = 6;
pub const MAX_PASSWORD_CHARS: usize = 64;
const SALT_BYTES: usize = 16;
const HASH_BYTES: usize = 32;
const SCHEME: &str = "pbkdf2-sha256";
/// PBKDF2 over the lower-case hex of the password's md5 (imported hashes).
const MD5_SCHEME: &str = "pbkdf2-sha256-md5";

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
    async fn derive(&self, password: &[u8], salt: &[u8], iterations: u32) -> Result<[u8; HASH_BYTES], Fault>;

    /// The primitives of the same implementation, for what a password goes through before
    /// the derivation (the pepper's HMAC, an imported md5).
    fn crypto(&self) -> &'static dyn Crypto;
}

/// PBKDF2-HMAC-SHA256 by the `pbkdf2` crate: the reference, and in the worker the
/// fallback for what its runtime refuses.
pub fn pbkdf2_crate(password: &[u8], salt: &[u8], iterations: u32) -> [u8; HASH_BYTES] {
    let mut out = [0u8; HASH_BYTES];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out);
    out
}

/// The `pbkdf2` crate, compiled optimized (`login-native-kdf`), with the native
/// primitives, for native code.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Default, Clone, Copy)]
pub struct NativePbkdf2;

#[cfg(not(target_arch = "wasm32"))]
impl Pbkdf2 for NativePbkdf2 {
    async fn derive(&self, password: &[u8], salt: &[u8], iterations: u32) -> Result<[u8; HASH_BYTES], Fault> {
        Ok(login_native_kdf::pbkdf2_hmac_sha256(password, salt, iterations))
    }

    fn crypto(&self) -> &'static dyn Crypto {
        &super::crypto::native::NativeCrypto
    }
}

/// How new hashes are made, and the pepper that peppered hashes need.
#[derive(Clone)]
pub struct PasswordPolicy {
    pub iterations: u32,
    pub pepper: Option<Vec<u8>>,
}

// The pepper is a secret: never print it.
impl std::fmt::Debug for PasswordPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PasswordPolicy {{ iterations: {}, pepper: {} }}", self.iterations, self.pepper.is_some())
    }
}

impl PasswordPolicy {
    pub fn new(iterations: u32) -> PasswordPolicy {
        PasswordPolicy { iterations, pepper: None }
    }
}

/// What PBKDF2 is given as the password: the password itself, or its HMAC with the pepper.
fn kdf_input(crypto: &dyn Crypto, password: &[u8], pepper: Option<&[u8]>) -> Vec<u8> {
    match pepper {
        None => password.to_vec(),
        Some(pepper) => crypto.hmac_sha256(pepper, password).to_vec(),
    }
}

/// The original service's stored password: `md5(password)` as 32 hex digits (kept here
/// in lower case, as PHP's `md5()` writes it).
#[derive(Clone, PartialEq, Eq)]
pub struct LegacyMd5(String);

impl LegacyMd5 {
    pub fn parse(hex: &str) -> Option<LegacyMd5> {
        let hex = hex.trim();
        (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| LegacyMd5(hex.to_ascii_lowercase()))
    }

    /// What the original service stored for `password`.
    pub fn digest(crypto: &dyn Crypto, password: &str) -> LegacyMd5 {
        LegacyMd5(crypto.md5(password.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect())
    }

    /// [`LegacyMd5::digest`] with the native primitives (for tests and tools).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn of(password: &str) -> LegacyMd5 {
        LegacyMd5::digest(&super::crypto::native::NativeCrypto, password)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// An md5 of a password is as good as the password to whoever can look it up: never print it.
impl std::fmt::Debug for LegacyMd5 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LegacyMd5(..)")
    }
}

/// The stored password of an account that has none (made by a code sign-in): no hash
/// decodes from it, so a password login fails as a wrong password does, after the same
/// work, until a reset sets one.
pub const NO_PASSWORD: &str = "!";

/// A stored password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: u32,
    peppered: bool,
    /// Derived from the password's md5 (an imported hash), not from the password.
    wraps_md5: bool,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl PasswordHash {
    /// Hashes `password` with a fresh random salt, as `policy` says.
    pub async fn create(
        kdf: &impl Pbkdf2,
        rng: &impl Randomness,
        password: &str,
        policy: &PasswordPolicy,
    ) -> Result<PasswordHash, Fault> {
        PasswordHash::derive(kdf, rng, password.as_bytes(), policy, false).await
    }

    /// Wraps an imported md5 in PBKDF2 as `policy` says: the hash that the database holds
    /// instead of the md5, until the user's first login replaces it.
    pub async fn wrap_md5(
        kdf: &impl Pbkdf2,
        rng: &impl Randomness,
        md5: &LegacyMd5,
        policy: &PasswordPolicy,
    ) -> Result<PasswordHash, Fault> {
        PasswordHash::derive(kdf, rng, md5.as_str().as_bytes(), policy, true).await
    }

    async fn derive(
        kdf: &impl Pbkdf2,
        rng: &impl Randomness,
        secret: &[u8],
        policy: &PasswordPolicy,
        wraps_md5: bool,
    ) -> Result<PasswordHash, Fault> {
        let salt = rng.bytes::<SALT_BYTES>().to_vec();
        let input = kdf_input(kdf.crypto(), secret, policy.pepper.as_deref());
        let hash = kdf.derive(&input, &salt, policy.iterations).await?.to_vec();
        Ok(PasswordHash {
            iterations: policy.iterations,
            peppered: policy.pepper.is_some(),
            wraps_md5,
            salt,
            hash,
        })
    }

    /// A hash no password matches, costing what a real one costs to check: verifying a
    /// login for an unknown account against it takes as long as a wrong password does,
    /// so timing does not tell which accounts exist.
    pub fn dummy(policy: &PasswordPolicy) -> PasswordHash {
        PasswordHash {
            iterations: policy.iterations,
            peppered: policy.pepper.is_some(),
            wraps_md5: false,
            salt: vec![0x5a; SALT_BYTES],
            hash: vec![0; HASH_BYTES],
        }
    }

    /// Whether `password` matches, comparing in constant time. A peppered hash needs the
    /// policy's pepper; without it, it is an error, not a mismatch.
    pub async fn verify(
        &self,
        kdf: &impl Pbkdf2,
        password: &str,
        policy: &PasswordPolicy,
    ) -> Result<bool, Fault> {
        let pepper = match (self.peppered, policy.pepper.as_deref()) {
            (false, _) => None,
            (true, Some(pepper)) => Some(pepper),
            (true, None) => {
                return Err(Fault::Crypto("a stored hash needs PASSWORD_PEPPER, which is not set".into()))
            }
        };
        let crypto = kdf.crypto();
        let input = match self.wraps_md5 {
            true => kdf_input(crypto, LegacyMd5::digest(crypto, password).as_str().as_bytes(), pepper),
            false => kdf_input(crypto, password.as_bytes(), pepper),
        };
        let derived = kdf.derive(&input, &self.salt, self.iterations).await?;
        Ok(constant_time_eq(&derived, &self.hash))
    }

    /// Whether this hash is weaker than `policy` would make it now: fewer iterations, no
    /// pepper where one is configured, or an imported md5 inside.
    pub fn is_weaker_than(&self, policy: &PasswordPolicy) -> bool {
        self.wraps_md5 || self.iterations < policy.iterations || (policy.pepper.is_some() && !self.peppered)
    }

    /// Whether this is an imported md5 wrapped in PBKDF2.
    pub fn wraps_md5(&self) -> bool {
        self.wraps_md5
    }

    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    pub fn is_peppered(&self) -> bool {
        self.peppered
    }

    /// The self-describing text stored in D1.
    pub fn encode(&self) -> String {
        format!(
            "${}$i={}{}${}${}",
            if self.wraps_md5 { MD5_SCHEME } else { SCHEME },
            self.iterations,
            if self.peppered { ",pepper=1" } else { "" },
            Base64Unpadded::encode_string(&self.salt),
            Base64Unpadded::encode_string(&self.hash)
        )
    }

    /// What is stored for a new user: the hash, or [`NO_PASSWORD`].
    pub fn stored(hash: Option<&PasswordHash>) -> String {
        hash.map_or_else(|| NO_PASSWORD.to_string(), PasswordHash::encode)
    }

    /// Reads a stored hash; `None` for anything not written by [`PasswordHash::encode`].
    pub fn decode(text: &str) -> Option<PasswordHash> {
        let mut parts = text.strip_prefix('$')?.split('$');
        let (scheme, params, salt, hash) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let wraps_md5 = match scheme {
            SCHEME => false,
            MD5_SCHEME => true,
            _ => return None,
        };
        if parts.next().is_some() {
            return None;
        }
        let (iterations, peppered) = match params.split_once(',') {
            None => (params, false),
            Some((iterations, "pepper=1")) => (iterations, true),
            Some(_) => return None,
        };
        let iterations: u32 = iterations.strip_prefix("i=")?.parse().ok().filter(|&i| i > 0)?;
        let salt = Base64Unpadded::decode_vec(salt).ok()?;
        let hash = Base64Unpadded::decode_vec(hash).ok()?;
        (hash.len() == HASH_BYTES && !salt.is_empty()).then_some(PasswordHash {
            iterations,
            peppered,
            wraps_md5,
            salt,
            hash,
        })
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
            // The worker's fallback, compiled here rather than in login-native-kdf.
            assert_eq!(hex(&pbkdf2_crate(password, salt, iterations)), expected, "{iterations} iterations");
        }
    }

    fn policy(iterations: u32) -> PasswordPolicy {
        PasswordPolicy::new(iterations)
    }

    fn peppered(iterations: u32, pepper: &str) -> PasswordPolicy {
        PasswordPolicy { iterations, pepper: Some(pepper.as_bytes().to_vec()) }
    }

    fn create(password: &str, policy: &PasswordPolicy) -> PasswordHash {
        block_on(PasswordHash::create(&NativePbkdf2, &SecureRandom, password, policy)).unwrap()
    }

    fn verify(hash: &PasswordHash, password: &str, policy: &PasswordPolicy) -> Result<bool, Fault> {
        block_on(hash.verify(&NativePbkdf2, password, policy))
    }

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let hash = create("secret_1", &policy(1000));
        assert!(verify(&hash, "secret_1", &policy(1000)).unwrap());
        assert!(!verify(&hash, "secret_2", &policy(1000)).unwrap());
    }

    #[test]
    fn a_peppered_hash_needs_its_pepper() {
        let pepper = peppered(1000, "a pepper of at least thirty-two bytes");
        let hash = create("secret_1", &pepper);
        assert!(hash.encode().starts_with("$pbkdf2-sha256$i=1000,pepper=1$"), "{}", hash.encode());
        assert_eq!(PasswordHash::decode(&hash.encode()), Some(hash.clone()));
        assert!(verify(&hash, "secret_1", &pepper).unwrap());
        assert!(!verify(&hash, "secret_1", &peppered(1000, "another pepper of thirty-two bytes")).unwrap());
        assert!(verify(&hash, "secret_1", &policy(1000)).is_err(), "no pepper: an error, not a mismatch");
    }

    #[test]
    fn a_pepper_is_hmac_sha256_of_the_password() {
        // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?").
        let input = kdf_input(NativePbkdf2.crypto(), b"what do ya want for nothing?", Some(b"Jefe"));
        assert_eq!(hex(&input), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn weaker_hashes_are_recognized() {
        let plain = create("pw_123", &policy(1000));
        assert!(!plain.is_weaker_than(&policy(1000)));
        assert!(plain.is_weaker_than(&policy(2000)));
        assert!(plain.is_weaker_than(&peppered(1000, "p")));
        assert!(!create("pw_123", &peppered(1000, "p")).is_weaker_than(&peppered(1000, "p")));
    }

    #[test]
    fn one_password_hashes_differently_for_two_users() {
        let a = create("same_pw", &policy(1000));
        let b = create("same_pw", &policy(1000));
        assert_ne!(a.encode(), b.encode());
    }

    #[test]
    fn the_format_records_algorithm_iterations_and_salt() {
        let hash = create("abc123", &policy(1234));
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
            "$pbkdf2-sha256$i=10,pepper=2$c2FsdA$AAAA",
        ] {
            assert_eq!(PasswordHash::decode(text), None, "{text}");
        }
    }

    #[test]
    fn the_dummy_hash_matches_no_password() {
        let dummy = PasswordHash::dummy(&policy(10));
        assert!(!verify(&dummy, "", &policy(10)).unwrap());
        assert!(!verify(&dummy, "password", &policy(10)).unwrap());
        let peppered_dummy = PasswordHash::dummy(&peppered(10, "p"));
        assert!(!verify(&peppered_dummy, "password", &peppered(10, "p")).unwrap());
    }

    fn wrap(password: &str, policy: &PasswordPolicy) -> PasswordHash {
        let md5 = LegacyMd5::of(password);
        block_on(PasswordHash::wrap_md5(&NativePbkdf2, &SecureRandom, &md5, policy)).unwrap()
    }

    #[test]
    fn an_md5_is_what_php_writes() {
        // md5('password') and md5('') as PHP (and RFC 1321) give them; the dump's case
        // does not matter.
        assert_eq!(LegacyMd5::of("password").as_str(), "5f4dcc3b5aa765d61d8327deb882cf99");
        assert_eq!(LegacyMd5::of("").as_str(), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(LegacyMd5::parse(" 5F4DCC3B5AA765D61D8327DEB882CF99 "), Some(LegacyMd5::of("password")));
        for text in [
            "",
            "5f4dcc3b5aa765d61d8327deb882cf9",
            "5f4dcc3b5aa765d61d8327deb882cf99a",
            "zf4dcc3b5aa765d61d8327deb882cf99",
        ] {
            assert_eq!(LegacyMd5::parse(text), None, "{text}");
        }
        assert_eq!(format!("{:?}", LegacyMd5::of("password")), "LegacyMd5(..)");
    }

    #[test]
    fn a_wrapped_md5_verifies_the_password_and_is_always_weaker() {
        for policy in [policy(1000), peppered(1000, "a pepper of at least thirty-two bytes")] {
            // Four characters: the original allowed what register now refuses.
            let hash = wrap("abcd", &policy);
            let text = hash.encode();
            assert!(text.starts_with("$pbkdf2-sha256-md5$i=1000"), "{text}");
            assert!(!text.contains(LegacyMd5::of("abcd").as_str()), "never the md5 itself");
            assert_eq!(PasswordHash::decode(&text), Some(hash.clone()));
            assert!(verify(&hash, "abcd", &policy).unwrap());
            assert!(!verify(&hash, "abcde", &policy).unwrap());
            assert!(
                !verify(&hash, LegacyMd5::of("abcd").as_str(), &policy).unwrap(),
                "the md5 is no password"
            );
            assert!(hash.wraps_md5() && hash.is_weaker_than(&policy));
        }
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
