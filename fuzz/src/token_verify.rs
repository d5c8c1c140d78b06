//! The `token_verify` target's check: arbitrary bytes, as a lossy UTF-8 string, to
//! `token::verify` with a rotated key ring (current HS256, previous HS256, previous
//! Ed25519), expecting an access token, a refresh token and either. It must never panic, and nothing but a token issued with a
//! key of the ring may pass: the genuine tokens are known (`Genuine`: the seeds' HS256
//! tokens exactly, and their Ed25519 tokens' header and payload with a canonical
//! signature), so any other input that verifies is a forgery (a malleable encoding, a
//! skipped check, a key or algorithm mix-up).

use login_worker::domain::key_ring::KeyRing;
use login_worker::domain::token::{TokenKind, LEEWAY_SECONDS};

use super::{keys, scope, verify_token, Genuine, NOW};

struct Fixture {
    keys: KeyRing,
    genuine: Genuine,
}

/// Built once, on the one thread libFuzzer runs the target on: a key ring is not `Sync`
/// (its Ed25519 keys are the port's, which in the worker are the runtime's objects).
fn fixture() -> &'static Fixture {
    thread_local! {
        static FIXTURE: &'static Fixture =
            Box::leak(Box::new(Fixture { keys: keys(), genuine: Genuine::new() }));
    }
    FIXTURE.with(|fixture| *fixture)
}

/// One input, verified as each kind of token.
pub fn check_token(data: &[u8]) {
    let fixture = fixture();
    let token = String::from_utf8_lossy(data);
    let scope = scope();
    for expected in [Some(TokenKind::Access), Some(TokenKind::Refresh), None] {
        let Ok(verified) = verify_token(&fixture.keys, &token, expected) else { continue };
        assert!(fixture.genuine.contains(&token), "a token that was never issued verified: {token:?}");
        assert_eq!(verified.claims.iss, scope.issuer);
        assert_eq!(verified.claims.aud, scope.audience);
        if let Some(kind) = expected {
            assert_eq!(verified.claims.token_use, kind);
        }
        assert!(
            verified.issued_at <= NOW + LEEWAY_SECONDS as u64
                && NOW <= verified.expires_at + LEEWAY_SECONDS as u64,
            "{verified:?}"
        );
    }
}
