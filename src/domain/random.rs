//! Randomness, injected like time. The real source is `getrandom`, which reads the
//! operating system natively and `crypto.getRandomValues` inside the Worker.

/// A source of random bytes.
pub trait Randomness {
    fn fill(&self, bytes: &mut [u8]);

    fn bytes<const N: usize>(&self) -> [u8; N] {
        let mut bytes = [0u8; N];
        self.fill(&mut bytes);
        bytes
    }
}

/// Cryptographically secure randomness from `getrandom`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SecureRandom;

impl Randomness for SecureRandom {
    fn fill(&self, bytes: &mut [u8]) {
        // getrandom only fails where the platform has no secure source at all; a Worker
        // and every supported OS have one, so there is nothing sensible to fall back to.
        getrandom::fill(bytes).expect("no secure random source on this platform");
    }
}

/// Bytes from a fixed sequence, for deterministic tests.
#[derive(Debug, Default)]
pub struct SequenceRandom(pub std::cell::Cell<u8>);

impl Randomness for SequenceRandom {
    fn fill(&self, bytes: &mut [u8]) {
        for byte in bytes {
            *byte = self.0.get();
            self.0.set(self.0.get().wrapping_add(1));
        }
    }
}

/// 16 random bytes as unpadded base64url: ids (`jti`, session ids) that are unguessable.
pub fn random_id(rng: &impl Randomness) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::encode_string(&rng.bytes::<16>())
}
