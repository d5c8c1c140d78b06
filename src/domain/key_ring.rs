//! The keys tokens are signed and checked with: the key that signs and the previous keys
//! that still verify, so that keys can rotate without logging everyone out.
//!
//! A key names its own algorithm, and a token is checked with the algorithm of the key its
//! `kid` selects, never the one its header claims (so `none`, or HS256 "signed" with a
//! public key, never verifies); a [`TokenKey`] cannot be made from a secret under 32
//! bytes. Built once per isolate from [`KeySettings`]; HS256 and EdDSA are implemented
//! here for jwt-compact over the [`Crypto`] port, so that the worker signs with its
//! runtime's code.

use std::borrow::Cow;
use std::num::NonZeroUsize;

use base64ct::{Base64UrlUnpadded, Encoding};
use jwt_compact::{
    Algorithm, AlgorithmExt, AlgorithmSignature, Claims, Header, Token, UntrustedToken, ValidationError,
};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use super::crypto::{constant_time_eq, Crypto, Ed25519Key};
use super::error::AuthError;
use super::error::ConfigError;

/// HS256 needs a key at least as long as its hash (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;

/// What a key signs and checks with.
enum KeyMaterial {
    Hmac(HmacKey),
    /// An Ed25519 key pair, or only its public half (a previous key that still verifies).
    Ed25519(Box<dyn Ed25519Key>),
}

struct HmacKey {
    secret: Vec<u8>,
    crypto: &'static dyn Crypto,
}

/// JWS `HS256` (RFC 7518 §3.2) over the [`Crypto`] port.
struct Hs256;

/// JWS `EdDSA` (RFC 8037) over the [`Crypto`] port.
struct EdDsa;

/// A signature of `N` bytes; `None` where the port failed to sign, which
/// [`TokenKey::sign`] reports.
struct Signature<const N: usize>(Option<[u8; N]>);

impl<const N: usize> AlgorithmSignature for Signature<N> {
    // jwt-compact refuses any other length before `try_from_slice`.
    const LENGTH: Option<NonZeroUsize> = NonZeroUsize::new(N);

    fn try_from_slice(slice: &[u8]) -> anyhow::Result<Self> {
        Ok(Signature(Some(slice.try_into()?)))
    }

    fn as_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self.0.as_ref().map_or(&[], |bytes| bytes.as_slice()))
    }
}

impl Algorithm for Hs256 {
    type SigningKey = HmacKey;
    type VerifyingKey = HmacKey;
    type Signature = Signature<32>;

    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("HS256")
    }

    fn sign(&self, key: &HmacKey, message: &[u8]) -> Signature<32> {
        Signature(Some(key.crypto.hmac_sha256(&key.secret, message)))
    }

    fn verify_signature(&self, signature: &Signature<32>, key: &HmacKey, message: &[u8]) -> bool {
        let expected = key.crypto.hmac_sha256(&key.secret, message);
        signature.0.is_some_and(|signature| constant_time_eq(&signature, &expected))
    }
}

impl Algorithm for EdDsa {
    type SigningKey = Box<dyn Ed25519Key>;
    type VerifyingKey = Box<dyn Ed25519Key>;
    type Signature = Signature<64>;

    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("EdDSA")
    }

    fn sign(&self, key: &Self::SigningKey, message: &[u8]) -> Signature<64> {
        Signature(key.sign(message))
    }

    fn verify_signature(&self, signature: &Signature<64>, key: &Self::VerifyingKey, message: &[u8]) -> bool {
        signature.0.is_some_and(|signature| key.verify(message, &signature))
    }
}

/// One key of the ring, with its key id: derived from the key, so every instance of the
/// Worker names the same key the same way without more configuration. 8 bytes of SHA-256
/// say nothing useful about a secret of 32 bytes or more.
pub struct TokenKey {
    material: KeyMaterial,
    kid: String,
}

/// Why the keys cannot be used; names the variable at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    Missing(&'static str),
    TooShort { name: &'static str, bytes: usize },
    Malformed { name: &'static str, reason: String },
}

impl KeyError {
    /// The variable at fault.
    pub fn variable(&self) -> &'static str {
        match self {
            KeyError::Missing(name) | KeyError::TooShort { name, .. } | KeyError::Malformed { name, .. } => {
                name
            }
        }
    }
}

impl From<KeyError> for ConfigError {
    fn from(error: KeyError) -> ConfigError {
        ConfigError::new(error.variable(), error.to_string())
    }
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::Missing(name) => write!(f, "{name} is not set"),
            KeyError::TooShort { name, bytes } => {
                write!(f, "{name} has a secret of {bytes} bytes; at least {MIN_SECRET_BYTES} are needed")
            }
            KeyError::Malformed { name, reason } => write!(f, "{name}: {reason}"),
        }
    }
}

fn key_id(crypto: &dyn Crypto, bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(&crypto.sha256(bytes)[..8])
}

/// 32 bytes in base64url or standard base64 (padded or not).
fn decode_32(name: &'static str, text: &str) -> Result<[u8; 32], KeyError> {
    // Standard base64 as base64url: the wasm then holds one decoder, not two.
    let url: String = text
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let bytes = Base64UrlUnpadded::decode_vec(&url)
        .map_err(|_| KeyError::Malformed { name, reason: "not base64".into() })?;
    bytes.try_into().map_err(|bytes: Vec<u8>| KeyError::Malformed {
        name,
        reason: format!("{} bytes where an Ed25519 key has 32", bytes.len()),
    })
}

impl TokenKey {
    /// An HS256 key from a secret of at least 32 bytes. It keeps the port, to compute its
    /// HMACs with later; an Ed25519 key is made by the port and needs it no more.
    pub fn hs256(
        crypto: &'static dyn Crypto,
        name: &'static str,
        secret: &str,
    ) -> Result<TokenKey, KeyError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::TooShort { name, bytes: secret.len() });
        }
        Ok(TokenKey {
            kid: key_id(crypto, secret.as_bytes()),
            material: KeyMaterial::Hmac(HmacKey { secret: secret.as_bytes().to_vec(), crypto }),
        })
    }

    /// An Ed25519 key pair from its 32-byte seed (`openssl rand -base64 32`).
    pub fn ed25519_private(
        crypto: &dyn Crypto,
        name: &'static str,
        seed: &str,
    ) -> Result<TokenKey, KeyError> {
        TokenKey::ed25519(crypto, name, crypto.ed25519_key_pair(&decode_32(name, seed)?))
    }

    /// An Ed25519 public key (32 bytes), which verifies but cannot sign.
    pub fn ed25519_public(
        crypto: &dyn Crypto,
        name: &'static str,
        public: &str,
    ) -> Result<TokenKey, KeyError> {
        TokenKey::ed25519(crypto, name, crypto.ed25519_public_key(&decode_32(name, public)?))
    }

    fn ed25519(
        crypto: &dyn Crypto,
        name: &'static str,
        key: Result<Box<dyn Ed25519Key>, String>,
    ) -> Result<TokenKey, KeyError> {
        let key = key.map_err(|reason| KeyError::Malformed { name, reason })?;
        Ok(TokenKey { kid: key_id(crypto, &key.public()), material: KeyMaterial::Ed25519(key) })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWS `alg` this key signs with.
    pub fn algorithm(&self) -> &'static str {
        match self.material {
            KeyMaterial::Hmac(_) => "HS256",
            KeyMaterial::Ed25519(_) => "EdDSA",
        }
    }

    /// The public JWK (RFC 8037) of an Ed25519 key; a secret key has none.
    pub fn public_jwk(&self) -> Option<Value> {
        match &self.material {
            KeyMaterial::Hmac(_) => None,
            KeyMaterial::Ed25519(key) => Some(json!({
                "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.kid,
                "x": Base64UrlUnpadded::encode_string(&key.public()),
            })),
        }
    }

    /// Signs `claims` with this key, naming it in the header's `kid`.
    pub fn sign<T: Serialize>(&self, claims: &Claims<T>) -> Result<String, String> {
        let header = Header::empty().with_key_id(self.kid.clone()).with_token_type("JWT");
        let signed = match &self.material {
            KeyMaterial::Hmac(secret) => Hs256.token(&header, claims, secret),
            KeyMaterial::Ed25519(key) => match EdDsa.token(&header, claims, key) {
                // An empty signature: the key has no private half, or the port failed.
                Ok(token) if token.ends_with('.') => {
                    return Err("cannot sign a token: no Ed25519 signature".into())
                }
                signed => signed,
            },
        };
        signed.map_err(|error| format!("cannot sign a token: {error}"))
    }

    /// Prints the public key of a seed, for `JWT_PREVIOUS_PUBLIC_KEYS` after a rotation.
    pub fn public_key_base64url(&self) -> Option<String> {
        match &self.material {
            KeyMaterial::Hmac(_) => None,
            KeyMaterial::Ed25519(key) => Some(Base64UrlUnpadded::encode_string(&key.public())),
        }
    }
}

/// The key that signs new tokens, and the previous keys that still verify old ones.
pub struct KeyRing {
    signing: TokenKey,
    previous: Vec<TokenKey>,
}

/// The `JWT_*` settings a key ring is made from. The secrets print as `[REDACTED]`.
#[derive(Debug, Clone, Default)]
pub struct KeySettings {
    /// `JWT_ALG`: `HS256` (default) or `EdDSA`.
    pub algorithm: Option<String>,
    /// `JWT_SECRET`: the HS256 secret.
    pub secret: Option<SecretString>,
    /// `JWT_PRIVATE_KEY`: the Ed25519 seed, for `EdDSA`.
    pub private_key: Option<SecretString>,
    /// `JWT_PREVIOUS_SECRETS`: comma-separated HS256 secrets that still verify.
    pub previous_secrets: Option<SecretString>,
    /// `JWT_PREVIOUS_PUBLIC_KEYS`: comma-separated Ed25519 public keys that still verify.
    pub previous_public_keys: Option<String>,
}

impl KeyRing {
    /// A ring of one HS256 key, with the native primitives (for tests and tools).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn hs256(secret: &str) -> Result<KeyRing, KeyError> {
        let crypto = &super::crypto::native::NativeCrypto;
        Ok(KeyRing { signing: TokenKey::hs256(crypto, "JWT_SECRET", secret)?, previous: vec![] })
    }

    /// The ring the settings describe. Every key must be usable: a previous secret under
    /// 32 bytes is refused like a current one, rather than quietly skipped.
    pub fn from_settings(settings: &KeySettings, crypto: &'static dyn Crypto) -> Result<KeyRing, KeyError> {
        let signing = match settings.algorithm.as_deref().unwrap_or("HS256") {
            "HS256" => TokenKey::hs256(
                crypto,
                "JWT_SECRET",
                settings.secret.as_ref().ok_or(KeyError::Missing("JWT_SECRET"))?.expose_secret(),
            )?,
            "EdDSA" => TokenKey::ed25519_private(
                crypto,
                "JWT_PRIVATE_KEY",
                settings.private_key.as_ref().ok_or(KeyError::Missing("JWT_PRIVATE_KEY"))?.expose_secret(),
            )?,
            other => {
                return Err(KeyError::Malformed {
                    name: "JWT_ALG",
                    reason: format!("{other:?} is not HS256 or EdDSA"),
                })
            }
        };
        let list = |text: Option<&str>| -> Vec<String> {
            text.unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
        };
        let mut previous = Vec::new();
        for secret in list(settings.previous_secrets.as_ref().map(|s| s.expose_secret())) {
            previous.push(TokenKey::hs256(crypto, "JWT_PREVIOUS_SECRETS", &secret)?);
        }
        for public in list(settings.previous_public_keys.as_deref()) {
            previous.push(TokenKey::ed25519_public(crypto, "JWT_PREVIOUS_PUBLIC_KEYS", &public)?);
        }
        Ok(KeyRing { signing, previous })
    }

    /// How many keys verify: the signing key and the previous ones.
    pub fn key_count(&self) -> usize {
        1 + self.previous.len()
    }

    /// The key that signs.
    pub fn signing(&self) -> &TokenKey {
        &self.signing
    }

    fn find(&self, kid: &str) -> Option<&TokenKey> {
        std::iter::once(&self.signing).chain(&self.previous).find(|key| key.kid == kid)
    }

    /// Checks the signature with the key the token's `kid` selects, in that key's own
    /// algorithm. A missing, unknown or retired `kid` has no key to verify with. Claims
    /// are the caller's to check.
    pub fn validate<H: Clone, T: DeserializeOwned + Clone>(
        &self,
        untrusted: &UntrustedToken<'_, H>,
    ) -> Result<Token<T, H>, AuthError> {
        let key = untrusted
            .header()
            .key_id
            .as_deref()
            .and_then(|kid| self.find(kid))
            .ok_or(AuthError::BadSignature)?;
        let validated = match &key.material {
            KeyMaterial::Hmac(secret) => Hs256.validator::<T>(secret).validate(untrusted),
            KeyMaterial::Ed25519(key) => EdDsa.validator::<T>(key).validate(untrusted),
        };
        validated.map_err(|error| match error {
            ValidationError::AlgorithmMismatch { .. } | ValidationError::InvalidSignature => {
                AuthError::BadSignature
            }
            _ => AuthError::Malformed,
        })
    }

    /// `GET /.well-known/jwks.json`: the public keys, current first. HS256 keys are
    /// secrets and never listed, so with HS256 only the set is empty.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> =
            std::iter::once(&self.signing).chain(&self.previous).filter_map(TokenKey::public_jwk).collect();
        json!({ "keys": keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::crypto::native::NativeCrypto;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn short_or_missing_secrets_cannot_sign() {
        let missing = KeyRing::from_settings(&KeySettings::default(), &NativeCrypto).err();
        assert_eq!(missing, Some(KeyError::Missing("JWT_SECRET")));
        assert_eq!(KeyRing::hs256("short").err(), Some(KeyError::TooShort { name: "JWT_SECRET", bytes: 5 }));
    }

    #[test]
    fn a_short_previous_secret_is_refused_not_skipped() {
        let settings = KeySettings {
            secret: Some(SECRET.into()),
            previous_secrets: Some("short".into()),
            ..KeySettings::default()
        };
        assert_eq!(
            KeyRing::from_settings(&settings, &NativeCrypto).err(),
            Some(KeyError::TooShort { name: "JWT_PREVIOUS_SECRETS", bytes: 5 })
        );
    }

    #[test]
    fn malformed_key_settings_name_the_variable() {
        let error = KeyRing::from_settings(
            &KeySettings {
                algorithm: Some("EdDSA".into()),
                private_key: Some("abc".into()),
                ..KeySettings::default()
            },
            &NativeCrypto,
        );
        let error = ConfigError::from(error.err().unwrap());
        assert_eq!(error.variable, "JWT_PRIVATE_KEY");
        assert!(error.to_string().contains("JWT_PRIVATE_KEY"));
        let error = KeyRing::from_settings(
            &KeySettings { algorithm: Some("RS256".into()), ..KeySettings::default() },
            &NativeCrypto,
        );
        assert!(error.err().unwrap().to_string().contains("JWT_ALG"));
    }

    /// Seeds come as base64url or standard base64, padded or not.
    #[test]
    fn a_seed_reads_in_either_alphabet() {
        use base64ct::Base64;
        // Bytes whose encodings hold '+' and '/' (standard) or '-' and '_' (url).
        let seed: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(67) | 0xf8).collect();
        let kid = |text: &str| TokenKey::ed25519_private(&NativeCrypto, "JWT_PRIVATE_KEY", text).unwrap().kid;
        let standard = Base64::encode_string(&seed);
        assert!(standard.contains('+') && standard.contains('/') && standard.ends_with('='), "{standard}");
        let url = Base64UrlUnpadded::encode_string(&seed);
        assert_eq!(kid(&standard), kid(&url));
        assert_eq!(kid(standard.trim_end_matches('=')), kid(&url));
        assert_eq!(decode_32("JWT_PRIVATE_KEY", &standard).unwrap().to_vec(), seed);
        assert!(decode_32("JWT_PRIVATE_KEY", "not*base64").is_err());
    }

    #[test]
    fn hs256_matches_rfc_7515_appendix_a1() {
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.\
            eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.\
            dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let secret = Base64UrlUnpadded::decode_vec(
            "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
        )
        .unwrap();
        let untrusted = UntrustedToken::new(token).unwrap();
        let key = HmacKey { secret, crypto: &NativeCrypto };
        let verified = Hs256.validator::<Value>(&key).validate(&untrusted);
        assert!(verified.is_ok(), "{verified:?}");
        let other = HmacKey { secret: b"another key".to_vec(), crypto: &NativeCrypto };
        assert!(Hs256.validator::<Value>(&other).validate(&untrusted).is_err());
    }

    #[test]
    fn our_hs256_tokens_verify_with_jwt_compacts_own() {
        let key = TokenKey::hs256(&NativeCrypto, "JWT_SECRET", SECRET).unwrap();
        let token = key.sign(&Claims::new(json!({ "sub": "7" }))).unwrap();
        let theirs = jwt_compact::alg::Hs256Key::new(SECRET.as_bytes());
        let untrusted = UntrustedToken::new(&token).unwrap();
        assert!(jwt_compact::alg::Hs256.validator::<Value>(&theirs).validate(&untrusted).is_ok());
    }

    /// A key whose port signs nothing and accepts every signature.
    struct Broken;

    impl Ed25519Key for Broken {
        fn public(&self) -> [u8; 32] {
            [1; 32]
        }

        fn sign(&self, _: &[u8]) -> Option<[u8; 64]> {
            None
        }

        fn verify(&self, _: &[u8], _: &[u8; 64]) -> bool {
            true
        }
    }

    /// A key that cannot sign (a public key alone, or a port that fails) issues no token:
    /// never one with an empty signature.
    #[test]
    fn an_ed25519_key_without_a_signature_issues_nothing() {
        let claims = Claims::new(json!({ "sub": "7" }));
        let broken = TokenKey { material: KeyMaterial::Ed25519(Box::new(Broken)), kid: "k".into() };
        assert!(broken.sign(&claims).is_err());
        let public =
            Base64UrlUnpadded::encode_string(&NativeCrypto.ed25519_key_pair(&[7; 32]).unwrap().public());
        let verifier = TokenKey::ed25519_public(&NativeCrypto, "JWT_PREVIOUS_PUBLIC_KEYS", &public).unwrap();
        assert!(verifier.sign(&claims).unwrap_err().contains("no Ed25519 signature"));
    }

    /// An empty signature never verifies, even with a key that would accept anything.
    #[test]
    fn an_empty_signature_never_verifies() {
        let broken: Box<dyn Ed25519Key> = Box::new(Broken);
        assert!(!EdDsa.verify_signature(&Signature(None), &broken, b"message"));
    }

    #[test]
    fn the_settings_debug_output_hides_the_secrets() {
        let settings = KeySettings {
            secret: Some(SECRET.into()),
            previous_secrets: Some("another secret that is long enough!!".into()),
            ..KeySettings::default()
        };
        let text = format!("{settings:?}");
        assert!(!text.contains(SECRET) && !text.contains("another secret"), "{text}");
    }
}
