//! Ed25519 as the key ring needs it, behind a port. The Worker signs and verifies with its
//! runtime's implementation (workerd's `node:crypto`, native code; see
//! `cloudflare::node_crypto`), which keeps the curve arithmetic out of the wasm (11.5 KB
//! gzipped, measured); native code (the tests, tools) uses `ed25519-compact`.

/// One Ed25519 key: a key pair made from its seed, or a public key alone.
pub trait Ed25519Key {
    /// The public key's 32 bytes (RFC 8032), which name the key and are published.
    fn public(&self) -> [u8; 32];

    /// The signature of `message`; `None` for a public key alone, or if the implementation
    /// failed.
    fn sign(&self, message: &[u8]) -> Option<[u8; 64]>;

    /// Whether `signature` is this key's signature of `message`.
    fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool;
}

/// Makes keys; a refusal says why.
pub trait Ed25519 {
    /// The key pair of a 32-byte seed (`openssl rand -base64 32`).
    fn key_pair(&self, seed: &[u8; 32]) -> Result<Box<dyn Ed25519Key>, String>;

    /// A key that verifies but cannot sign.
    fn public_key(&self, public: &[u8; 32]) -> Result<Box<dyn Ed25519Key>, String>;
}

/// Ed25519 from `ed25519-compact`, for native code.
#[cfg(not(target_arch = "wasm32"))]
pub mod native {
    use ed25519_compact::{KeyPair, PublicKey, SecretKey, Seed, Signature};

    use super::{Ed25519, Ed25519Key};

    pub struct NativeEd25519;

    struct Key {
        secret: Option<SecretKey>,
        public: PublicKey,
    }

    impl Ed25519Key for Key {
        fn public(&self) -> [u8; 32] {
            *self.public
        }

        fn sign(&self, message: &[u8]) -> Option<[u8; 64]> {
            Some(*self.secret.as_ref()?.sign(message, None))
        }

        fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
            self.public.verify(message, &Signature::new(*signature)).is_ok()
        }
    }

    impl Ed25519 for NativeEd25519 {
        fn key_pair(&self, seed: &[u8; 32]) -> Result<Box<dyn Ed25519Key>, String> {
            let pair = KeyPair::from_seed(Seed::new(*seed));
            Ok(Box::new(Key { secret: Some(pair.sk), public: pair.pk }))
        }

        fn public_key(&self, public: &[u8; 32]) -> Result<Box<dyn Ed25519Key>, String> {
            Ok(Box::new(Key { secret: None, public: PublicKey::new(*public) }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::native::NativeEd25519;
    use super::*;

    fn hex<const N: usize>(text: &str) -> [u8; N] {
        let bytes: Vec<u8> =
            (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect();
        bytes.try_into().unwrap()
    }

    /// RFC 8032 §7.1, test 2: the seed, its public key, and the signature of one byte.
    #[test]
    fn the_native_keys_match_rfc_8032() {
        let seed = hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
        let key = NativeEd25519.key_pair(&seed).unwrap();
        assert_eq!(key.public(), hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"));
        let signature: [u8; 64] = hex(concat!(
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da",
            "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        ));
        assert_eq!(key.sign(&[0x72]), Some(signature));

        let public = NativeEd25519.public_key(&key.public()).unwrap();
        assert!(public.verify(&[0x72], &signature));
        assert!(!public.verify(&[0x73], &signature), "another message");
        assert_eq!(public.sign(&[0x72]), None, "a public key alone cannot sign");
    }
}
