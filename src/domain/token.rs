//! Access and refresh tokens: JWTs with the contract's claims, signed with HS256 (the
//! default) or EdDSA (Ed25519), under a key ring that lets keys rotate.
//!
//! Security lives in the types: a key names its own algorithm, and a token is checked
//! with the algorithm of the key its `kid` selects, never the one its header claims (so
//! `none`, or HS256 "signed" with a public key, never verifies); a [`TokenKey`] cannot
//! be made from a secret under 32 bytes; and every verification says which kind of token
//! it expects, so an access token is never accepted where a refresh token is, or the
//! reverse.

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use chrono::{DateTime, Duration, Utc};
use ed25519_compact::{KeyPair, PublicKey, SecretKey, Seed};
use jwt_compact::alg::{Ed25519, Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Claims, Header, TimeOptions, UntrustedToken, ValidationError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::error::AuthError;
use super::random::{random_id, Randomness};

/// HS256 needs a key at least as long as its hash (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;

/// Clock skew tolerated between the machine that issued a token and the one checking it.
pub const LEEWAY_SECONDS: i64 = 5;

/// Which of the two tokens of a session this is; a signed claim (`token_use`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Access,
    Refresh,
}

/// The user data every token carries, as the original's `data` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserData {
    pub uid: u64,
    /// Role ids, as strings.
    pub rid: Vec<String>,
}

/// The claims besides `exp`, `nbf` and `iat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    pub iss: String,
    pub aud: String,
    /// The user id, as a string (RFC 7519 says `sub` is a string).
    pub sub: String,
    pub jti: String,
    /// The session: shared by the tokens of one login and every access token refreshed
    /// from it, so that revoking it ends them all.
    pub sid: String,
    pub token_use: TokenKind,
    pub data: UserData,
    /// When the token was issued, in milliseconds: `iat` counts whole seconds, too coarse
    /// to tell a token made just before "log out everywhere" from one made just after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_ms: Option<u64>,
}

/// What a key signs and checks with.
enum KeyMaterial {
    Hmac(Hs256Key),
    /// An Ed25519 key pair, or only its public half (a previous key that still verifies).
    Ed25519 {
        secret: Option<SecretKey>,
        public: PublicKey,
    },
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

fn key_id(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(&Sha256::digest(bytes)[..8])
}

/// 32 bytes in base64url or standard base64 (padded or not).
fn decode_32(name: &'static str, text: &str) -> Result<[u8; 32], KeyError> {
    let text = text.trim().trim_end_matches('=');
    let bytes = Base64UrlUnpadded::decode_vec(text)
        .or_else(|_| Base64::decode_vec(&format!("{text}{}", "=".repeat((4 - text.len() % 4) % 4))))
        .map_err(|_| KeyError::Malformed { name, reason: "not base64".into() })?;
    bytes.try_into().map_err(|bytes: Vec<u8>| KeyError::Malformed {
        name,
        reason: format!("{} bytes where an Ed25519 key has 32", bytes.len()),
    })
}

impl TokenKey {
    /// An HS256 key from a secret of at least 32 bytes.
    pub fn hs256(name: &'static str, secret: &str) -> Result<TokenKey, KeyError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::TooShort { name, bytes: secret.len() });
        }
        Ok(TokenKey {
            material: KeyMaterial::Hmac(Hs256Key::new(secret.as_bytes())),
            kid: key_id(secret.as_bytes()),
        })
    }

    /// An Ed25519 key pair from its 32-byte seed (`openssl rand -base64 32`).
    pub fn ed25519_private(name: &'static str, seed: &str) -> Result<TokenKey, KeyError> {
        let pair = KeyPair::from_seed(Seed::new(decode_32(name, seed)?));
        Ok(TokenKey {
            kid: key_id(pair.pk.as_ref()),
            material: KeyMaterial::Ed25519 { secret: Some(pair.sk), public: pair.pk },
        })
    }

    /// An Ed25519 public key (32 bytes), which verifies but cannot sign.
    pub fn ed25519_public(name: &'static str, public: &str) -> Result<TokenKey, KeyError> {
        let public = PublicKey::new(decode_32(name, public)?);
        Ok(TokenKey { kid: key_id(public.as_ref()), material: KeyMaterial::Ed25519 { secret: None, public } })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK (RFC 8037) of an Ed25519 key; a secret key has none.
    pub fn public_jwk(&self) -> Option<Value> {
        match &self.material {
            KeyMaterial::Hmac(_) => None,
            KeyMaterial::Ed25519 { public, .. } => Some(json!({
                "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.kid,
                "x": Base64UrlUnpadded::encode_string(public.as_ref()),
            })),
        }
    }

    /// Prints the public key of a seed, for `JWT_PREVIOUS_PUBLIC_KEYS` after a rotation.
    pub fn public_key_base64url(&self) -> Option<String> {
        match &self.material {
            KeyMaterial::Hmac(_) => None,
            KeyMaterial::Ed25519 { public, .. } => Some(Base64UrlUnpadded::encode_string(public.as_ref())),
        }
    }
}

/// The key that signs new tokens, and the previous keys that still verify old ones.
pub struct KeyRing {
    signing: TokenKey,
    previous: Vec<TokenKey>,
}

/// The `JWT_*` settings a key ring is made from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySettings {
    /// `JWT_ALG`: `HS256` (default) or `EdDSA`.
    pub algorithm: Option<String>,
    /// `JWT_SECRET`: the HS256 secret.
    pub secret: Option<String>,
    /// `JWT_PRIVATE_KEY`: the Ed25519 seed, for `EdDSA`.
    pub private_key: Option<String>,
    /// `JWT_PREVIOUS_SECRETS`: comma-separated HS256 secrets that still verify.
    pub previous_secrets: Option<String>,
    /// `JWT_PREVIOUS_PUBLIC_KEYS`: comma-separated Ed25519 public keys that still verify.
    pub previous_public_keys: Option<String>,
}

impl KeyRing {
    /// A ring of one HS256 key.
    pub fn hs256(secret: &str) -> Result<KeyRing, KeyError> {
        Ok(KeyRing { signing: TokenKey::hs256("JWT_SECRET", secret)?, previous: vec![] })
    }

    /// The ring the settings describe. Every key must be usable: a previous secret under
    /// 32 bytes is refused like a current one, rather than quietly skipped.
    pub fn from_settings(settings: &KeySettings) -> Result<KeyRing, KeyError> {
        let signing = match settings.algorithm.as_deref().unwrap_or("HS256") {
            "HS256" => TokenKey::hs256(
                "JWT_SECRET",
                settings.secret.as_deref().ok_or(KeyError::Missing("JWT_SECRET"))?,
            )?,
            "EdDSA" => TokenKey::ed25519_private(
                "JWT_PRIVATE_KEY",
                settings.private_key.as_deref().ok_or(KeyError::Missing("JWT_PRIVATE_KEY"))?,
            )?,
            other => {
                return Err(KeyError::Malformed {
                    name: "JWT_ALG",
                    reason: format!("{other:?} is not HS256 or EdDSA"),
                })
            }
        };
        let list = |text: &Option<String>| -> Vec<String> {
            text.as_deref()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        };
        let mut previous = Vec::new();
        for secret in list(&settings.previous_secrets) {
            previous.push(TokenKey::hs256("JWT_PREVIOUS_SECRETS", &secret)?);
        }
        for public in list(&settings.previous_public_keys) {
            previous.push(TokenKey::ed25519_public("JWT_PREVIOUS_PUBLIC_KEYS", &public)?);
        }
        Ok(KeyRing { signing, previous })
    }

    /// The key that signs.
    pub fn signing(&self) -> &TokenKey {
        &self.signing
    }

    fn find(&self, kid: &str) -> Option<&TokenKey> {
        std::iter::once(&self.signing).chain(&self.previous).find(|key| key.kid == kid)
    }

    /// `GET /.well-known/jwks.json`: the public keys, current first. HS256 keys are
    /// secrets and never listed, so with HS256 only the set is empty.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> =
            std::iter::once(&self.signing).chain(&self.previous).filter_map(TokenKey::public_jwk).collect();
        json!({ "keys": keys })
    }
}

/// Who issues tokens and for whom: the `iss` and `aud` claims.
#[derive(Debug, Clone)]
pub struct TokenScope {
    pub issuer: String,
    pub audience: String,
}

/// A token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub claims: SessionClaims,
    pub issued_at: u64,
    pub issued_at_millis: u64,
    pub expires_at: u64,
}

fn moment(seconds: u64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(seconds as i64, 0).unwrap_or_default()
}

fn time_options(now_seconds: u64) -> TimeOptions<impl Fn() -> DateTime<Utc>> {
    TimeOptions::new(Duration::seconds(LEEWAY_SECONDS), move || moment(now_seconds))
}

/// What a new token is for.
pub struct NewToken<'a> {
    pub kind: TokenKind,
    pub user: &'a UserData,
    pub sid: &'a str,
    pub ttl_seconds: u64,
    /// The token's id; `None` makes a random one. Refresh rotation names its refresh
    /// tokens itself, to know which one is current.
    pub jti: Option<&'a str>,
}

/// Signs a new token. `nbf` equals `iat` (the original's `iat + 1` made fresh tokens
/// fail their first check).
pub fn issue(
    keys: &KeyRing,
    scope: &TokenScope,
    token: NewToken<'_>,
    now_millis: u64,
    rng: &impl Randomness,
) -> Result<String, String> {
    let now_seconds = now_millis / 1000;
    let custom = SessionClaims {
        iss: scope.issuer.clone(),
        aud: scope.audience.clone(),
        sub: token.user.uid.to_string(),
        jti: token.jti.map_or_else(|| random_id(rng), str::to_string),
        sid: token.sid.to_string(),
        token_use: token.kind,
        data: token.user.clone(),
        iat_ms: Some(now_millis),
    };
    let claims = Claims::new(custom)
        .set_duration_and_issuance(&time_options(now_seconds), Duration::seconds(token.ttl_seconds as i64))
        .set_not_before(moment(now_seconds));
    let key = keys.signing();
    let header = Header::empty().with_key_id(key.kid.clone()).with_token_type("JWT");
    let signed = match &key.material {
        KeyMaterial::Hmac(secret) => Hs256.token(&header, &claims, secret),
        KeyMaterial::Ed25519 { secret: Some(secret), .. } => Ed25519.token(&header, &claims, secret),
        KeyMaterial::Ed25519 { secret: None, .. } => return Err("the signing key has no private half".into()),
    };
    signed.map_err(|error| format!("cannot sign a token: {error}"))
}

/// Checks a token fully: form, algorithm, key id, signature, `exp`, `nbf`, `iss`, `aud`
/// and kind. Revocation is the caller's part, as it needs storage.
pub fn verify(
    keys: &KeyRing,
    scope: &TokenScope,
    token: &str,
    expected: Option<TokenKind>,
    now_seconds: u64,
) -> Result<VerifiedToken, AuthError> {
    let untrusted = UntrustedToken::new(token).map_err(|_| AuthError::Malformed)?;
    // A missing, unknown or retired `kid` has no key to verify with.
    let key =
        untrusted.header().key_id.as_deref().and_then(|kid| keys.find(kid)).ok_or(AuthError::BadSignature)?;
    let validated = match &key.material {
        KeyMaterial::Hmac(secret) => Hs256.validator::<SessionClaims>(secret).validate(&untrusted),
        KeyMaterial::Ed25519 { public, .. } => {
            Ed25519.validator::<SessionClaims>(public).validate(&untrusted)
        }
    };
    let token = validated.map_err(|error| match error {
        ValidationError::AlgorithmMismatch { .. } | ValidationError::InvalidSignature => {
            AuthError::BadSignature
        }
        _ => AuthError::Malformed,
    })?;
    let claims = token.claims();
    let options = time_options(now_seconds);
    claims.validate_expiration(&options).map_err(|error| match error {
        ValidationError::Expired => AuthError::Expired,
        _ => AuthError::Malformed,
    })?;
    claims.validate_maturity(&options).map_err(|error| match error {
        ValidationError::NotMature => AuthError::NotYetValid,
        _ => AuthError::Malformed,
    })?;
    let (Some(issued_at), Some(expires_at)) = (claims.issued_at, claims.expiration) else {
        return Err(AuthError::Malformed);
    };
    let custom = &claims.custom;
    if custom.iss != scope.issuer {
        return Err(AuthError::WrongIssuer);
    }
    if custom.aud != scope.audience {
        return Err(AuthError::WrongAudience);
    }
    if expected.is_some_and(|kind| kind != custom.token_use) {
        return Err(AuthError::WrongTokenType);
    }
    let issued_at = issued_at.timestamp().max(0) as u64;
    Ok(VerifiedToken {
        claims: custom.clone(),
        issued_at,
        // A token without it was made somewhere in its `iat` second; the latest moment
        // of that second is the safe reading for "not before" checks.
        issued_at_millis: custom.iat_ms.unwrap_or(issued_at * 1000 + 999),
        expires_at: expires_at.timestamp().max(0) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::random::SecureRandom;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const NOW: u64 = 1_700_000_000;

    fn scope() -> TokenScope {
        TokenScope { issuer: "login".into(), audience: "app".into() }
    }

    fn user() -> UserData {
        UserData { uid: 7, rid: vec!["1".into(), "3".into()] }
    }

    fn sign(kind: TokenKind, now: u64, ttl: u64) -> String {
        let keys = KeyRing::hs256(SECRET).unwrap();
        let user = user();
        let token = NewToken { kind, user: &user, sid: "session-1", ttl_seconds: ttl, jti: None };
        issue(&keys, &scope(), token, now * 1000, &SecureRandom).unwrap()
    }

    fn check(token: &str, expected: Option<TokenKind>, now: u64) -> Result<VerifiedToken, AuthError> {
        verify(&KeyRing::hs256(SECRET).unwrap(), &scope(), token, expected, now)
    }

    fn b64(json: &str) -> String {
        Base64UrlUnpadded::encode_string(json.as_bytes())
    }

    fn part(token: &str, index: usize) -> String {
        let bytes = Base64UrlUnpadded::decode_vec(token.split('.').nth(index).unwrap()).unwrap();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn hs256_matches_rfc_7515_appendix_a1() {
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.\
            eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.\
            dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let key = Base64UrlUnpadded::decode_vec(
            "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
        )
        .unwrap();
        let untrusted = UntrustedToken::new(token).unwrap();
        let verified = Hs256.validator::<serde_json::Value>(&Hs256Key::new(&key)).validate(&untrusted);
        assert!(verified.is_ok(), "{verified:?}");
        let forged =
            Hs256.validator::<serde_json::Value>(&Hs256Key::new(b"another key")).validate(&untrusted);
        assert!(forged.is_err());
    }

    #[test]
    fn a_fresh_token_verifies_with_the_contracts_claims() {
        let token = sign(TokenKind::Access, NOW, 86_400);
        let verified = check(&token, Some(TokenKind::Access), NOW).unwrap();
        assert_eq!((verified.issued_at, verified.expires_at), (NOW, NOW + 86_400));
        assert_eq!(verified.claims.data, user());
        assert_eq!(verified.claims.sub, "7");
        let payload: serde_json::Value = serde_json::from_str(&part(&token, 1)).unwrap();
        assert_eq!(payload["nbf"], payload["iat"], "nbf = iat");
        for claim in ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", "sid", "token_use", "data"] {
            assert!(payload.get(claim).is_some(), "missing {claim}");
        }
        let header: serde_json::Value = serde_json::from_str(&part(&token, 0)).unwrap();
        assert_eq!(header["alg"], "HS256");
        assert!(header["kid"].is_string());
    }

    #[test]
    fn two_tokens_never_share_a_jti() {
        let a = check(&sign(TokenKind::Access, NOW, 60), None, NOW).unwrap();
        let b = check(&sign(TokenKind::Access, NOW, 60), None, NOW).unwrap();
        assert_ne!(a.claims.jti, b.claims.jti);
    }

    #[test]
    fn short_or_missing_secrets_cannot_sign() {
        let missing = KeyRing::from_settings(&KeySettings::default()).err();
        assert_eq!(missing, Some(KeyError::Missing("JWT_SECRET")));
        assert_eq!(KeyRing::hs256("short").err(), Some(KeyError::TooShort { name: "JWT_SECRET", bytes: 5 }));
    }

    #[test]
    fn alg_none_is_refused() {
        let token = sign(TokenKind::Access, NOW, 60);
        let payload = token.split('.').nth(1).unwrap();
        let kid = KeyRing::hs256(SECRET).unwrap().signing().kid.clone();
        let header = b64(&format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}"}}"#));
        for forged in [format!("{header}.{payload}."), format!("{header}.{payload}")] {
            assert!(check(&forged, None, NOW).is_err(), "{forged}");
        }
    }

    #[test]
    fn another_algorithm_in_the_header_is_refused() {
        let token = sign(TokenKind::Access, NOW, 60);
        let mut parts: Vec<&str> = token.split('.').collect();
        let kid = KeyRing::hs256(SECRET).unwrap().signing().kid.clone();
        let header = b64(&format!(r#"{{"alg":"HS512","kid":"{kid}"}}"#));
        parts[0] = &header;
        assert_eq!(check(&parts.join("."), None, NOW), Err(AuthError::BadSignature));
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = KeyRing::hs256("another secret of at least 32 bytes!").unwrap();
        let user = user();
        let new = NewToken { kind: TokenKind::Access, user: &user, sid: "s", ttl_seconds: 60, jti: None };
        let token = issue(&other, &scope(), new, NOW * 1000, &SecureRandom).unwrap();
        assert_eq!(check(&token, None, NOW), Err(AuthError::BadSignature));
        // Even with our key id in its header.
        let own_kid = KeyRing::hs256(SECRET).unwrap().signing().kid.clone();
        let header = b64(&format!(r#"{{"alg":"HS256","kid":"{own_kid}","typ":"JWT"}}"#));
        let rest: Vec<&str> = token.splitn(2, '.').collect();
        assert_eq!(check(&format!("{header}.{}", rest[1]), None, NOW), Err(AuthError::BadSignature));
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let token = sign(TokenKind::Access, NOW, 60);
        let parts: Vec<&str> = token.split('.').collect();
        let payload = part(&token, 1).replace(r#""uid":7"#, r#""uid":1"#);
        let forged = format!("{}.{}.{}", parts[0], b64(&payload), parts[2]);
        assert_eq!(check(&forged, None, NOW), Err(AuthError::BadSignature));
    }

    #[test]
    fn expiry_and_not_before_are_enforced() {
        let token = sign(TokenKind::Access, NOW, 60);
        assert!(check(&token, None, NOW + 60).is_ok());
        assert_eq!(check(&token, None, NOW + 60 + LEEWAY_SECONDS as u64 + 1), Err(AuthError::Expired));
        assert_eq!(check(&token, None, NOW - 60), Err(AuthError::NotYetValid));
    }

    #[test]
    fn token_kinds_are_not_interchangeable() {
        let access = sign(TokenKind::Access, NOW, 60);
        let refresh = sign(TokenKind::Refresh, NOW, 60);
        assert_eq!(check(&access, Some(TokenKind::Refresh), NOW), Err(AuthError::WrongTokenType));
        assert_eq!(check(&refresh, Some(TokenKind::Access), NOW), Err(AuthError::WrongTokenType));
        assert!(check(&refresh, None, NOW).is_ok());
    }

    #[test]
    fn issuer_and_audience_are_checked() {
        let token = sign(TokenKind::Access, NOW, 60);
        let key = KeyRing::hs256(SECRET).unwrap();
        let other_issuer = TokenScope { issuer: "else".into(), audience: "app".into() };
        let other_audience = TokenScope { issuer: "login".into(), audience: "else".into() };
        assert_eq!(verify(&key, &other_issuer, &token, None, NOW), Err(AuthError::WrongIssuer));
        assert_eq!(verify(&key, &other_audience, &token, None, NOW), Err(AuthError::WrongAudience));
    }

    #[test]
    fn junk_is_malformed_not_a_panic() {
        for junk in ["", "abc", "a.b", "a.b.c", "....", "eyJ.eyJ.", &"x".repeat(8192), "\u{0}.\u{1}.\u{2}"] {
            assert!(check(junk, None, NOW).is_err(), "{junk:?}");
        }
    }

    const SEED: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const OTHER_SEED: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

    fn ring(settings: &[(&str, &str)]) -> KeyRing {
        let get = |name: &str| settings.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
        KeyRing::from_settings(&KeySettings {
            algorithm: get("alg"),
            secret: get("secret"),
            private_key: get("private"),
            previous_secrets: get("previous"),
            previous_public_keys: get("previous_public"),
        })
        .unwrap()
    }

    fn sign_with(keys: &KeyRing) -> String {
        let user = user();
        let new = NewToken { kind: TokenKind::Access, user: &user, sid: "s", ttl_seconds: 60, jti: None };
        issue(keys, &scope(), new, NOW * 1000, &SecureRandom).unwrap()
    }

    #[test]
    fn previous_secrets_verify_until_they_are_removed() {
        const NEW: &str = "the new secret, at least 32 bytes long";
        let old_token = sign(TokenKind::Access, NOW, 60);
        let rotated = ring(&[("secret", NEW), ("previous", &format!("x{}, {SECRET}", "y".repeat(40)))]);
        assert!(verify(&rotated, &scope(), &old_token, None, NOW).is_ok());
        let new_token = sign_with(&rotated);
        let new_kid = KeyRing::hs256(NEW).unwrap().signing().kid.clone();
        assert_eq!(serde_json::from_str::<Value>(&part(&new_token, 0)).unwrap()["kid"], json!(new_kid));
        let retired = ring(&[("secret", NEW)]);
        assert_eq!(verify(&retired, &scope(), &old_token, None, NOW), Err(AuthError::BadSignature));
        assert!(verify(&retired, &scope(), &new_token, None, NOW).is_ok());
    }

    #[test]
    fn a_short_previous_secret_is_refused_not_skipped() {
        let settings = KeySettings {
            secret: Some(SECRET.into()),
            previous_secrets: Some("short".into()),
            ..KeySettings::default()
        };
        assert_eq!(
            KeyRing::from_settings(&settings).err(),
            Some(KeyError::TooShort { name: "JWT_PREVIOUS_SECRETS", bytes: 5 })
        );
    }

    #[test]
    fn a_missing_or_unknown_kid_is_refused() {
        let token = sign(TokenKind::Access, NOW, 60);
        let parts: Vec<&str> = token.split('.').collect();
        for header in [r#"{"alg":"HS256","typ":"JWT"}"#, r#"{"alg":"HS256","kid":"unknown"}"#] {
            let forged = format!("{}.{}.{}", b64(header), parts[1], parts[2]);
            assert_eq!(check(&forged, None, NOW), Err(AuthError::BadSignature), "{header}");
        }
    }

    #[test]
    fn eddsa_signs_and_publishes_its_public_key() {
        let keys = ring(&[("alg", "EdDSA"), ("private", SEED)]);
        let token = sign_with(&keys);
        assert_eq!(serde_json::from_str::<Value>(&part(&token, 0)).unwrap()["alg"], "EdDSA");
        assert!(verify(&keys, &scope(), &token, None, NOW).is_ok());
        let jwks = keys.jwks();
        assert_eq!(jwks["keys"][0]["kty"], "OKP");
        assert_eq!(jwks["keys"][0]["kid"], json!(keys.signing().kid()));
        assert_eq!(
            ring(&[("secret", SECRET)]).jwks(),
            json!({ "keys": [] }),
            "HS256 secrets are never published"
        );
        // Another key pair's token does not verify; after rotation, the old public key does.
        let other = ring(&[("alg", "EdDSA"), ("private", OTHER_SEED)]);
        assert_eq!(verify(&other, &scope(), &token, None, NOW), Err(AuthError::BadSignature));
        let public = keys.signing().public_key_base64url().unwrap();
        let rotated = ring(&[("alg", "EdDSA"), ("private", OTHER_SEED), ("previous_public", &public)]);
        assert!(verify(&rotated, &scope(), &token, None, NOW).is_ok());
        assert_eq!(rotated.jwks()["keys"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn hs256_signed_with_the_public_key_is_refused() {
        // The classic confusion: an attacker "signs" HS256 with the published public key.
        let keys = ring(&[("alg", "EdDSA"), ("private", SEED)]);
        let public = Base64UrlUnpadded::decode_vec(&keys.signing().public_key_base64url().unwrap()).unwrap();
        let header = Header::empty().with_key_id(keys.signing().kid().to_string());
        let claims = Claims::new(serde_json::json!({"iss": "login"}));
        let forged = Hs256.token(&header, &claims, &Hs256Key::new(&public)).unwrap();
        assert_eq!(verify(&keys, &scope(), &forged, None, NOW), Err(AuthError::BadSignature));
    }

    #[test]
    fn malformed_key_settings_name_the_variable() {
        let error = KeyRing::from_settings(&KeySettings {
            algorithm: Some("EdDSA".into()),
            private_key: Some("abc".into()),
            ..KeySettings::default()
        });
        assert!(error.err().unwrap().to_string().contains("JWT_PRIVATE_KEY"));
        let error = KeyRing::from_settings(&KeySettings {
            algorithm: Some("RS256".into()),
            ..KeySettings::default()
        });
        assert!(error.err().unwrap().to_string().contains("JWT_ALG"));
    }
}
