//! Access and refresh tokens: JWTs with the contract's claims, signed with HS256 (the
//! default) or EdDSA (Ed25519) by the [`KeyRing`] (see [`super::key_ring`] for how keys
//! are chosen and why `alg` in a header is never trusted).
//!
//! Every verification says which kind of token it expects, so an access token is never
//! accepted where a refresh token is, or the reverse.

use chrono::{DateTime, Duration, Utc};
use jwt_compact::{Claims, TimeOptions, UntrustedToken, ValidationError};
use serde::{Deserialize, Serialize};

use super::error::AuthError;
use super::key_ring::KeyRing;
use super::random::{random_id, Randomness};

/// Clock skew tolerated between the machine that issued a token and the one checking it.
pub const LEEWAY_SECONDS: i64 = 5;

/// Which of the two tokens of a session this is; a signed claim (`token_use`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Access,
    Refresh,
}

/// The two tokens a login returns: `data` of `/login/jwt/get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenPair {
    pub jwt: String,
    pub refresh_jwt: String,
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
    /// The user's session epoch when the session was opened: the "not before" time of
    /// the user's sessions as read then. "Log out everywhere", a password reset and a
    /// change each move it, and a token whose epoch is no longer the user's is over. An
    /// epoch rather than a time: a login or refresh that read the user just before such
    /// a write, and signs just after it, still carries the old epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u64>,
    /// When the token was issued, in milliseconds; written by earlier versions, which had
    /// no epoch, and read for their tokens only.
    #[serde(default, skip_serializing)]
    pub iat_ms: Option<u64>,
    /// When the session's user signed in (Unix seconds; OpenID Connect's name), kept
    /// through every refresh: a step that asks for a recent sign-in reads it, and a refresh
    /// does not make a sign-in recent. Tokens from before it have none, and count as old.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
}

/// How recent a sign-in a step that asks for one takes: a phone change of an account
/// without a password.
pub const RECENT_SIGN_IN_SECONDS: u64 = 600;

impl VerifiedToken {
    /// Whether the session's user signed in at most [`RECENT_SIGN_IN_SECONDS`] before
    /// `now_seconds`.
    pub fn signed_in_recently(&self, now_seconds: u64) -> bool {
        self.claims.auth_time.is_some_and(|at| now_seconds.saturating_sub(at) <= RECENT_SIGN_IN_SECONDS)
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
    /// The user's session epoch as read for this token (see [`SessionClaims::epoch`]).
    pub epoch: u64,
    /// When the session's user signed in (see [`SessionClaims::auth_time`]).
    pub auth_time: Option<u64>,
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
        epoch: Some(token.epoch),
        iat_ms: None,
        auth_time: token.auth_time,
    };
    let claims = Claims::new(custom)
        .set_duration_and_issuance(&time_options(now_seconds), Duration::seconds(token.ttl_seconds as i64))
        .set_not_before(moment(now_seconds));
    keys.signing().sign(&claims)
}

/// The longest `sid` or `jti` accepted: ours are 22 characters. A signed token with
/// longer ones was not made by this worker, and a session id also names a KV key, which
/// has a length limit of its own.
const MAX_ID_CHARS: usize = 64;
/// The longest role id accepted (a u64's digits).
const MAX_ROLE_ID_CHARS: usize = 20;

/// The header fields `jwt-compact` does not read itself.
#[derive(Debug, Clone, Deserialize)]
struct HeaderExtras {
    /// Extensions the verifier must understand (RFC 7515 §4.1.11); this one understands
    /// none, so a token that names any is refused.
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

/// Whether the field is there at all, whatever its value (`null` included).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// Checks a token fully: form, algorithm, key id, signature, `exp`, `nbf`, `iat`, `iss`,
/// `aud`, kind, and that its header asks for no extension (`crit`) and its claims are no
/// longer than the worker issues. Revocation is the caller's part, as it needs storage.
pub fn verify(
    keys: &KeyRing,
    scope: &TokenScope,
    token: &str,
    expected: Option<TokenKind>,
    now_seconds: u64,
) -> Result<VerifiedToken, AuthError> {
    let untrusted = UntrustedToken::<HeaderExtras>::try_from(token).map_err(|_| AuthError::Malformed)?;
    if untrusted.header().other_fields.crit {
        return Err(AuthError::Malformed);
    }
    let token = keys.validate::<HeaderExtras, SessionClaims>(&untrusted)?;
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
    // Issued in the future, beyond the clock skew allowed: not a token this worker made.
    if issued_at > moment(now_seconds) + Duration::seconds(LEEWAY_SECONDS) {
        return Err(AuthError::NotYetValid);
    }
    let custom = &claims.custom;
    let too_long = custom.sid.len() > MAX_ID_CHARS
        || custom.jti.len() > MAX_ID_CHARS
        || custom.data.rid.iter().any(|rid| rid.len() > MAX_ROLE_ID_CHARS)
        // Milliseconds outside the `iat` second they refine would move the token's
        // issuance anywhere, past any "log out everywhere".
        || custom.iat_ms.is_some_and(|ms| ms / 1000 != issued_at.timestamp().max(0) as u64);
    if too_long {
        return Err(AuthError::Malformed);
    }
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
        // A token without it was made somewhere in its `iat` second; the first moment of
        // that second is the reading that fails closed (a log-out in the same second
        // ends it).
        issued_at_millis: custom.iat_ms.unwrap_or(issued_at * 1000),
        expires_at: expires_at.timestamp().max(0) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::crypto::native::NativeCrypto;
    use crate::domain::key_ring::KeySettings;
    use crate::domain::random::SecureRandom;
    use base64ct::{Base64UrlUnpadded, Encoding};
    use jwt_compact::alg::{Hs256, Hs256Key};
    use jwt_compact::{AlgorithmExt, Header};
    use serde_json::{json, Value};

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
        let token = NewToken {
            kind,
            user: &user,
            sid: "session-1",
            ttl_seconds: ttl,
            jti: None,
            epoch: 0,
            auth_time: None,
        };
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

    /// A token of this header and payload, signed with [`SECRET`] as the ring would.
    fn signed_raw(header: &Value, payload: &Value) -> String {
        use hmac::{Hmac, Mac};
        let signing_input = format!("{}.{}", b64(&header.to_string()), b64(&payload.to_string()));
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(signing_input.as_bytes());
        format!("{signing_input}.{}", Base64UrlUnpadded::encode_string(&mac.finalize().into_bytes()))
    }

    fn genuine_parts() -> (Value, Value) {
        let token = sign(TokenKind::Access, NOW, 60);
        (serde_json::from_str(&part(&token, 0)).unwrap(), serde_json::from_str(&part(&token, 1)).unwrap())
    }

    #[test]
    fn a_re_signed_genuine_token_verifies() {
        let (header, payload) = genuine_parts();
        assert!(
            check(&signed_raw(&header, &payload), None, NOW).is_ok(),
            "the helper signs as the ring does"
        );
    }

    #[test]
    fn a_header_naming_critical_extensions_is_refused() {
        let (mut header, payload) = genuine_parts();
        for crit in [json!(["exp"]), json!([]), json!("b64"), json!(null)] {
            header["crit"] = crit.clone();
            assert_eq!(check(&signed_raw(&header, &payload), None, NOW), Err(AuthError::Malformed), "{crit}");
        }
    }

    #[test]
    fn a_token_issued_in_the_future_is_refused() {
        let (header, mut payload) = genuine_parts();
        payload["iat"] = json!(NOW + LEEWAY_SECONDS as u64 + 1);
        payload["exp"] = json!(NOW + 86_400);
        assert_eq!(check(&signed_raw(&header, &payload), None, NOW), Err(AuthError::NotYetValid));
        payload["iat"] = json!(NOW + LEEWAY_SECONDS as u64);
        assert!(check(&signed_raw(&header, &payload), None, NOW).is_ok(), "within the leeway");
    }

    #[test]
    fn claims_longer_than_the_worker_issues_are_refused() {
        let (header, genuine) = genuine_parts();
        let long = "x".repeat(MAX_ID_CHARS + 1);
        for (claim, value) in [
            ("sid", json!(long)),
            ("jti", json!(long)),
            ("data", json!({"uid": 7, "rid": ["1".repeat(MAX_ROLE_ID_CHARS + 1)]})),
        ] {
            let mut payload = genuine.clone();
            payload[claim] = value;
            assert_eq!(
                check(&signed_raw(&header, &payload), None, NOW),
                Err(AuthError::Malformed),
                "{claim}"
            );
        }
    }

    #[test]
    fn milliseconds_outside_their_second_are_refused() {
        let (header, mut payload) = genuine_parts();
        payload["iat_ms"] = json!(u64::MAX);
        assert_eq!(check(&signed_raw(&header, &payload), None, NOW), Err(AuthError::Malformed));
        payload["iat_ms"] = json!(NOW * 1000 + 999);
        assert_eq!(
            check(&signed_raw(&header, &payload), None, NOW).unwrap().issued_at_millis,
            NOW * 1000 + 999
        );
    }

    #[test]
    fn a_token_without_its_milliseconds_counts_from_the_start_of_its_second() {
        let (header, mut payload) = genuine_parts();
        payload.as_object_mut().unwrap().remove("epoch");
        let verified = check(&signed_raw(&header, &payload), None, NOW).unwrap();
        assert_eq!((verified.claims.epoch, verified.issued_at_millis), (None, NOW * 1000));
    }

    #[test]
    fn two_tokens_never_share_a_jti() {
        let a = check(&sign(TokenKind::Access, NOW, 60), None, NOW).unwrap();
        let b = check(&sign(TokenKind::Access, NOW, 60), None, NOW).unwrap();
        assert_ne!(a.claims.jti, b.claims.jti);
    }

    #[test]
    fn alg_none_is_refused() {
        let token = sign(TokenKind::Access, NOW, 60);
        let payload = token.split('.').nth(1).unwrap();
        let kid = KeyRing::hs256(SECRET).unwrap().signing().kid().to_string();
        let header = b64(&format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}"}}"#));
        for forged in [format!("{header}.{payload}."), format!("{header}.{payload}")] {
            assert!(check(&forged, None, NOW).is_err(), "{forged}");
        }
    }

    #[test]
    fn another_algorithm_in_the_header_is_refused() {
        let token = sign(TokenKind::Access, NOW, 60);
        let mut parts: Vec<&str> = token.split('.').collect();
        let kid = KeyRing::hs256(SECRET).unwrap().signing().kid().to_string();
        let header = b64(&format!(r#"{{"alg":"HS512","kid":"{kid}"}}"#));
        parts[0] = &header;
        assert_eq!(check(&parts.join("."), None, NOW), Err(AuthError::BadSignature));
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = KeyRing::hs256("another secret of at least 32 bytes!").unwrap();
        let token = sign_with(&other);
        assert_eq!(check(&token, None, NOW), Err(AuthError::BadSignature));
        // Even with our key id in its header.
        let own_kid = KeyRing::hs256(SECRET).unwrap().signing().kid().to_string();
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
        KeyRing::from_settings(
            &KeySettings {
                algorithm: get("alg"),
                secret: get("secret").map(Into::into),
                private_key: get("private").map(Into::into),
                previous_secrets: get("previous").map(Into::into),
                previous_public_keys: get("previous_public"),
            },
            &NativeCrypto,
        )
        .unwrap()
    }

    fn sign_with(keys: &KeyRing) -> String {
        let user = user();
        let new = NewToken {
            kind: TokenKind::Access,
            user: &user,
            sid: "s",
            ttl_seconds: 60,
            jti: None,
            epoch: 0,
            auth_time: None,
        };
        issue(keys, &scope(), new, NOW * 1000, &SecureRandom).unwrap()
    }

    #[test]
    fn previous_secrets_verify_until_they_are_removed() {
        const NEW: &str = "the new secret, at least 32 bytes long";
        let old_token = sign(TokenKind::Access, NOW, 60);
        let rotated = ring(&[("secret", NEW), ("previous", &format!("x{}, {SECRET}", "y".repeat(40)))]);
        assert!(verify(&rotated, &scope(), &old_token, None, NOW).is_ok());
        let new_token = sign_with(&rotated);
        let new_kid = KeyRing::hs256(NEW).unwrap().signing().kid().to_string();
        assert_eq!(serde_json::from_str::<Value>(&part(&new_token, 0)).unwrap()["kid"], json!(new_kid));
        let retired = ring(&[("secret", NEW)]);
        assert_eq!(verify(&retired, &scope(), &old_token, None, NOW), Err(AuthError::BadSignature));
        assert!(verify(&retired, &scope(), &new_token, None, NOW).is_ok());
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
}
