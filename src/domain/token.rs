//! Access and refresh tokens: HS256 JWTs with the contract's claims.
//!
//! Security lives in the types: the algorithm is pinned to HS256 (a token whose header
//! names another algorithm, `none` included, never verifies), a [`SigningKey`] cannot be
//! made from a secret under 32 bytes, and every verification says which kind of token it
//! expects, so an access token is never accepted where a refresh token is, or the reverse.

use base64ct::{Base64UrlUnpadded, Encoding};
use chrono::{DateTime, Duration, Utc};
use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Claims, Header, TimeOptions, UntrustedToken, ValidationError};
use serde::{Deserialize, Serialize};
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
}

/// An HS256 key that is long enough, with its key id.
pub struct SigningKey {
    key: Hs256Key,
    kid: String,
}

/// Why a secret cannot sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    Missing,
    TooShort(usize),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::Missing => write!(f, "JWT_SECRET is not set"),
            KeyError::TooShort(n) => {
                write!(f, "JWT_SECRET has {n} bytes; at least {MIN_SECRET_BYTES} are needed")
            }
        }
    }
}

impl SigningKey {
    pub fn new(secret: Option<&str>) -> Result<SigningKey, KeyError> {
        let secret = secret.ok_or(KeyError::Missing)?;
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::TooShort(secret.len()));
        }
        // The key id is derived from the secret, so every instance of the Worker names the
        // same key the same way without more configuration. 8 bytes of SHA-256 say
        // nothing useful about a secret of 32 bytes or more.
        let digest = Sha256::digest(secret.as_bytes());
        let kid = Base64UrlUnpadded::encode_string(&digest[..8]);
        Ok(SigningKey { key: Hs256Key::new(secret.as_bytes()), kid })
    }

    pub fn kid(&self) -> &str {
        &self.kid
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
}

/// Signs a new token. `nbf` equals `iat` (the original's `iat + 1` made fresh tokens
/// fail their first check).
pub fn issue(
    key: &SigningKey,
    scope: &TokenScope,
    token: NewToken<'_>,
    now_seconds: u64,
    rng: &impl Randomness,
) -> Result<String, String> {
    let custom = SessionClaims {
        iss: scope.issuer.clone(),
        aud: scope.audience.clone(),
        sub: token.user.uid.to_string(),
        jti: random_id(rng),
        sid: token.sid.to_string(),
        token_use: token.kind,
        data: token.user.clone(),
    };
    let claims = Claims::new(custom)
        .set_duration_and_issuance(&time_options(now_seconds), Duration::seconds(token.ttl_seconds as i64))
        .set_not_before(moment(now_seconds));
    let header = Header::empty().with_key_id(key.kid.clone()).with_token_type("JWT");
    Hs256.token(&header, &claims, &key.key).map_err(|error| format!("cannot sign a token: {error}"))
}

/// Checks a token fully: form, algorithm, key id, signature, `exp`, `nbf`, `iss`, `aud`
/// and kind. Revocation is the caller's part, as it needs storage.
pub fn verify(
    key: &SigningKey,
    scope: &TokenScope,
    token: &str,
    expected: Option<TokenKind>,
    now_seconds: u64,
) -> Result<VerifiedToken, AuthError> {
    let untrusted = UntrustedToken::new(token).map_err(|_| AuthError::Malformed)?;
    if untrusted.header().key_id.as_deref() != Some(key.kid.as_str()) {
        return Err(AuthError::BadSignature);
    }
    let token =
        Hs256.validator::<SessionClaims>(&key.key).validate(&untrusted).map_err(|error| match error {
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
    Ok(VerifiedToken {
        claims: custom.clone(),
        issued_at: issued_at.timestamp().max(0) as u64,
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
        let key = SigningKey::new(Some(SECRET)).unwrap();
        let user = user();
        let token = NewToken { kind, user: &user, sid: "session-1", ttl_seconds: ttl };
        issue(&key, &scope(), token, now, &SecureRandom).unwrap()
    }

    fn check(token: &str, expected: Option<TokenKind>, now: u64) -> Result<VerifiedToken, AuthError> {
        verify(&SigningKey::new(Some(SECRET)).unwrap(), &scope(), token, expected, now)
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
        assert_eq!(SigningKey::new(None).err(), Some(KeyError::Missing));
        assert_eq!(SigningKey::new(Some("short")).err(), Some(KeyError::TooShort(5)));
    }

    #[test]
    fn alg_none_is_refused() {
        let token = sign(TokenKind::Access, NOW, 60);
        let payload = token.split('.').nth(1).unwrap();
        let kid = SigningKey::new(Some(SECRET)).unwrap().kid;
        let header = b64(&format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}"}}"#));
        for forged in [format!("{header}.{payload}."), format!("{header}.{payload}")] {
            assert!(check(&forged, None, NOW).is_err(), "{forged}");
        }
    }

    #[test]
    fn another_algorithm_in_the_header_is_refused() {
        let token = sign(TokenKind::Access, NOW, 60);
        let mut parts: Vec<&str> = token.split('.').collect();
        let kid = SigningKey::new(Some(SECRET)).unwrap().kid;
        let header = b64(&format!(r#"{{"alg":"HS512","kid":"{kid}"}}"#));
        parts[0] = &header;
        assert_eq!(check(&parts.join("."), None, NOW), Err(AuthError::BadSignature));
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = SigningKey::new(Some("another secret of at least 32 bytes!")).unwrap();
        let user = user();
        let new = NewToken { kind: TokenKind::Access, user: &user, sid: "s", ttl_seconds: 60 };
        let token = issue(&other, &scope(), new, NOW, &SecureRandom).unwrap();
        assert_eq!(check(&token, None, NOW), Err(AuthError::BadSignature));
        // Even with our key id in its header.
        let own_kid = SigningKey::new(Some(SECRET)).unwrap().kid;
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
        let key = SigningKey::new(Some(SECRET)).unwrap();
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
}
