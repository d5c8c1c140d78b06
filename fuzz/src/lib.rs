//! Fixtures shared by the fuzz targets and by `examples/make_seeds.rs`: one key, one
//! scope, one clock, and the tokens issued with them.
//!
//! [`verify_token`] is the only place that calls `login_worker::domain::token::verify`;
//! when its signature changes (key rotation: several keys), adapt it there.

use std::cell::Cell;

use login_worker::domain::error::AuthError;
use login_worker::domain::random::SequenceRandom;
use login_worker::domain::token::{
    issue, verify, NewToken, SigningKey, TokenKind, TokenScope, UserData, VerifiedToken,
};

/// The fuzzing key (40 bytes, over the 32-byte minimum).
pub const SECRET: &str = "fuzzing-secret-0123456789abcdef-0123456";
/// Another key, for tokens that must fail the signature check.
pub const OTHER_SECRET: &str = "another-fuzzing-secret-fedcba9876543210";
/// The fixed "now" of every check (2023-11-14T22:13:20Z).
pub const NOW: u64 = 1_700_000_000;
pub const ACCESS_TTL: u64 = 86_400;
pub const REFRESH_TTL: u64 = 604_800;

pub fn key() -> SigningKey {
    SigningKey::new(Some(SECRET)).expect("the fuzzing secret is long enough")
}

pub fn other_key() -> SigningKey {
    SigningKey::new(Some(OTHER_SECRET)).expect("the other secret is long enough")
}

pub fn scope() -> TokenScope {
    TokenScope { issuer: "login".into(), audience: "login".into() }
}

/// The one call to `verify`: the fuzzing key and scope at [`NOW`].
pub fn verify_token(
    key: &SigningKey,
    token: &str,
    expected: Option<TokenKind>,
) -> Result<VerifiedToken, AuthError> {
    verify(key, &scope(), token, expected, NOW)
}

/// A token issued deterministically (the `jti` comes from a fixed byte sequence), so the
/// seed files and the targets' list of genuine tokens agree byte for byte.
pub fn issue_with(
    key: &SigningKey,
    scope: &TokenScope,
    kind: TokenKind,
    uid: u64,
    issued_at: u64,
    ttl_seconds: u64,
    jti_start: u8,
) -> String {
    let user = UserData { uid, rid: vec!["1".into(), "3".into()] };
    let new = NewToken { kind, user: &user, sid: "fuzz-session", ttl_seconds };
    issue(key, scope, new, issued_at, &SequenceRandom(Cell::new(jti_start))).expect("issue never fails here")
}

/// Every token [`issue_with`] makes with the fuzzing key for the seeds, named. Only these
/// can ever verify: anything else the fuzzer finds valid is a forgery.
pub fn genuine_tokens() -> Vec<(&'static str, String)> {
    let key = key();
    let scope = scope();
    vec![
        ("access", issue_with(&key, &scope, TokenKind::Access, 1, NOW, ACCESS_TTL, 0)),
        ("refresh", issue_with(&key, &scope, TokenKind::Refresh, 1, NOW, REFRESH_TTL, 16)),
        ("access-uid-max", issue_with(&key, &scope, TokenKind::Access, u64::MAX, NOW - 60, ACCESS_TTL, 32)),
        ("expired", issue_with(&key, &scope, TokenKind::Access, 1, NOW - 2 * ACCESS_TTL, ACCESS_TTL, 48)),
        ("not-yet-valid", issue_with(&key, &scope, TokenKind::Refresh, 1, NOW + 3600, REFRESH_TTL, 64)),
        (
            "other-issuer",
            issue_with(
                &key,
                &TokenScope { issuer: "else".into(), audience: "login".into() },
                TokenKind::Access,
                1,
                NOW,
                ACCESS_TTL,
                80,
            ),
        ),
        (
            "other-audience",
            issue_with(
                &key,
                &TokenScope { issuer: "login".into(), audience: "else".into() },
                TokenKind::Access,
                1,
                NOW,
                ACCESS_TTL,
                96,
            ),
        ),
    ]
}
