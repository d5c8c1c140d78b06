//! The fuzz targets' checks ([`request_bodies`], [`token_verify`]: the files in
//! `fuzz_targets/` only hand them libFuzzer's input), and the fixtures they share with
//! `examples/make_seeds.rs`: one key ring, one scope, one clock, and the tokens issued
//! with them. `make test` runs both checks on every seed (`tests/fuzz_seeds.rs` in the
//! main crate, which includes this file), so they build and hold as the code changes.
//!
//! [`verify_token`] is the only place that calls `login_worker::domain::token::verify`;
//! when its signature changes, adapt it there.
//!
//! The ring is the one a rotation leaves: the current HS256 secret signs, and a previous
//! HS256 secret and a previous Ed25519 public key still verify. Tokens of all three (and
//! of a key outside the ring) are seeded, so the fuzzer starts from each `kid` and
//! algorithm and can try to mix them up.

pub mod request_bodies;
pub mod token_verify;

use std::cell::Cell;
use std::collections::HashSet;

use base64ct::{Base64UrlUnpadded, Encoding};

use login_worker::domain::crypto::native::NativeCrypto;
use login_worker::domain::error::AuthError;
use login_worker::domain::key_ring::{KeyRing, KeySettings, TokenKey};
use login_worker::domain::random::SequenceRandom;
use login_worker::domain::token::{issue, verify, NewToken, TokenKind, TokenScope, UserData, VerifiedToken};

/// The current HS256 secret (40 bytes, over the 32-byte minimum).
pub const SECRET: &str = "fuzzing-secret-0123456789abcdef-0123456";
/// A previous HS256 secret, which still verifies.
pub const PREVIOUS_SECRET: &str = "previous-fuzzing-secret-0123456789abcdef";
/// A previous Ed25519 key: its seed (bytes 0 to 31, base64url), whose public half is in
/// the ring.
pub const PREVIOUS_ED25519_SEED: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
/// A key outside the ring, for tokens that must fail the signature check.
pub const OTHER_SECRET: &str = "another-fuzzing-secret-fedcba9876543210";
/// The fixed "now" of every check (2023-11-14T22:13:20Z).
pub const NOW: u64 = 1_700_000_000;
pub const ACCESS_TTL: u64 = 86_400;
pub const REFRESH_TTL: u64 = 604_800;

fn ring(settings: KeySettings) -> KeyRing {
    KeyRing::from_settings(&settings, &NativeCrypto).expect("the fuzzing keys are valid")
}

/// The public half of [`PREVIOUS_ED25519_SEED`], base64url.
pub fn previous_ed25519_public() -> String {
    TokenKey::ed25519_private(&NativeCrypto, "PREVIOUS_ED25519_SEED", PREVIOUS_ED25519_SEED)
        .expect("a 32-byte seed")
        .public_key_base64url()
        .expect("an Ed25519 key has a public half")
}

/// The ring every check uses.
pub fn keys() -> KeyRing {
    ring(KeySettings {
        secret: Some(SECRET.into()),
        previous_secrets: Some(PREVIOUS_SECRET.into()),
        previous_public_keys: Some(previous_ed25519_public()),
        ..KeySettings::default()
    })
}

/// The rings that signed before the rotation, and one outside it.
pub fn previous_hs256_keys() -> KeyRing {
    ring(KeySettings { secret: Some(PREVIOUS_SECRET.into()), ..KeySettings::default() })
}

pub fn previous_ed25519_keys() -> KeyRing {
    ring(KeySettings {
        algorithm: Some("EdDSA".into()),
        private_key: Some(PREVIOUS_ED25519_SEED.into()),
        ..KeySettings::default()
    })
}

pub fn other_keys() -> KeyRing {
    ring(KeySettings { secret: Some(OTHER_SECRET.into()), ..KeySettings::default() })
}

pub fn scope() -> TokenScope {
    TokenScope { issuer: "login".into(), audience: "login".into() }
}

/// The one call to `verify`: the given ring and the fuzzing scope at [`NOW`].
pub fn verify_token(
    keys: &KeyRing,
    token: &str,
    expected: Option<TokenKind>,
) -> Result<VerifiedToken, AuthError> {
    verify(keys, &scope(), token, expected, NOW)
}

/// What a seed token is.
pub struct Minted<'a> {
    pub keys: &'a KeyRing,
    pub scope: &'a TokenScope,
    pub kind: TokenKind,
    pub uid: u64,
    pub issued_at: u64,
    pub ttl_seconds: u64,
    pub jti: &'a str,
}

/// A token issued with a fixed `jti`, so that its header and payload are the same on every
/// run. An HS256 token is then the same byte for byte; an Ed25519 one is not, as
/// jwt-compact signs with random noise (hedged signatures).
pub fn mint(token: Minted<'_>) -> String {
    let user = UserData { uid: token.uid, rid: vec!["1".into(), "3".into()] };
    let new = NewToken {
        kind: token.kind,
        user: &user,
        sid: "fuzz-session",
        ttl_seconds: token.ttl_seconds,
        jti: Some(token.jti),
        epoch: 0,
        auth_time: None,
    };
    issue(token.keys, token.scope, new, token.issued_at * 1000, &SequenceRandom(Cell::new(0)))
        .expect("issue never fails here")
}

/// Every token the seeds hold that is signed by a key of [`keys`], named. Only these
/// can ever verify (see [`Genuine`]): anything else the fuzzer finds valid is a forgery.
pub fn genuine_tokens() -> Vec<(&'static str, String)> {
    let current = keys();
    let previous_hs256 = previous_hs256_keys();
    let previous_ed25519 = previous_ed25519_keys();
    let scope = scope();
    let other_issuer = TokenScope { issuer: "else".into(), audience: "login".into() };
    let other_audience = TokenScope { issuer: "login".into(), audience: "else".into() };
    let base = Minted {
        keys: &current,
        scope: &scope,
        kind: TokenKind::Access,
        uid: 1,
        issued_at: NOW,
        ttl_seconds: ACCESS_TTL,
        jti: "jti-access",
    };
    let refresh =
        || Minted { kind: TokenKind::Refresh, ttl_seconds: REFRESH_TTL, jti: "jti-refresh", ..base };
    vec![
        ("access", mint(Minted { ..base })),
        ("refresh", mint(refresh())),
        ("access-uid-max", mint(Minted { uid: u64::MAX, issued_at: NOW - 60, jti: "jti-max", ..base })),
        ("expired", mint(Minted { issued_at: NOW - 2 * ACCESS_TTL, jti: "jti-expired", ..base })),
        ("not-yet-valid", mint(Minted { issued_at: NOW + 3600, jti: "jti-future", ..refresh() })),
        ("other-issuer", mint(Minted { scope: &other_issuer, jti: "jti-iss", ..base })),
        ("other-audience", mint(Minted { scope: &other_audience, jti: "jti-aud", ..base })),
        ("previous-hs256-access", mint(Minted { keys: &previous_hs256, jti: "jti-prev-hs", ..base })),
        ("previous-ed25519-access", mint(Minted { keys: &previous_ed25519, jti: "jti-prev-ed", ..base })),
        (
            "previous-ed25519-refresh",
            mint(Minted { keys: &previous_ed25519, jti: "jti-prev-ed-r", ..refresh() }),
        ),
    ]
}

/// What may verify: the HS256 tokens of [`genuine_tokens`] exactly, and for its Ed25519
/// tokens, whose signatures differ on every run, their header and payload with any
/// signature in canonical base64url (64 bytes). A token outside this set that verifies is
/// a forgery: a second encoding of a signature, a key or algorithm mix-up, a skipped check.
pub struct Genuine {
    exact: HashSet<String>,
    ed25519_signing_inputs: HashSet<String>,
}

impl Genuine {
    pub fn new() -> Genuine {
        let mut genuine = Genuine { exact: HashSet::new(), ed25519_signing_inputs: HashSet::new() };
        for (_, token) in genuine_tokens() {
            let (input, _) = token.rsplit_once('.').expect("three segments");
            let header = Base64UrlUnpadded::decode_vec(input.split('.').next().unwrap()).unwrap();
            if String::from_utf8_lossy(&header).contains(r#""alg":"EdDSA""#) {
                genuine.ed25519_signing_inputs.insert(input.to_string());
            } else {
                genuine.exact.insert(token);
            }
        }
        genuine
    }

    pub fn contains(&self, token: &str) -> bool {
        if self.exact.contains(token) {
            return true;
        }
        let Some((input, signature)) = token.rsplit_once('.') else { return false };
        self.ed25519_signing_inputs.contains(input)
            && Base64UrlUnpadded::decode_vec(signature)
                .is_ok_and(|bytes| bytes.len() == 64 && Base64UrlUnpadded::encode_string(&bytes) == signature)
    }
}

impl Default for Genuine {
    fn default() -> Self {
        Genuine::new()
    }
}
