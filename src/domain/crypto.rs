//! The cryptographic primitives the domain needs, behind one port: hashes, HMACs and
//! Ed25519 (PBKDF2 has a port of its own, `password::Pbkdf2`). The Worker takes them from
//! its runtime (workerd's `node:crypto`, native code; see `cloudflare::node_crypto`),
//! which keeps their code out of the wasm (docs/performance.md has the sizes); native code (the
//! tests, the import tool) takes them from RustCrypto's crates and `ed25519-compact`.
//!
//! Holders keep a `&'static dyn Crypto`: both implementations are unit values. `Sync`, so
//! that tests can keep values holding one in statics.

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

pub trait Crypto: Sync {
    /// SHA-256 of `data` (key ids).
    fn sha256(&self, data: &[u8]) -> [u8; 32];

    /// HMAC-SHA256 of `data` (HS256, the code seals, the pepper).
    fn hmac_sha256(&self, key: &[u8], data: &[u8]) -> [u8; 32];

    /// HMAC-SHA1 of `data` (Aliyun's request signatures).
    fn hmac_sha1(&self, key: &[u8], data: &[u8]) -> [u8; 20];

    /// MD5 of `data` (the passwords of users imported from the original service).
    fn md5(&self, data: &[u8]) -> [u8; 16];

    /// The Ed25519 key pair of a 32-byte seed (`openssl rand -base64 32`); a refusal says
    /// why.
    fn ed25519_key_pair(&self, seed: &[u8; 32]) -> Result<Box<dyn Ed25519Key>, String>;

    /// An Ed25519 key that verifies but cannot sign.
    fn ed25519_public_key(&self, public: &[u8; 32]) -> Result<Box<dyn Ed25519Key>, String>;
}

/// Whether `a` and `b` are equal, in time that depends on their length only.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // black_box keeps the compiler from stopping at the first difference.
    a.len() == b.len() && std::hint::black_box(a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y))) == 0
}

/// The primitives from Rust crates, for native code.
#[cfg(not(target_arch = "wasm32"))]
pub mod native {
    use ed25519_compact::{KeyPair, PublicKey, SecretKey, Seed, Signature};
    use hmac::{Hmac, Mac};
    use sha1::Sha1;
    use sha2::{Digest, Sha256};

    use super::{Crypto, Ed25519Key};

    #[derive(Debug, Default, Clone, Copy)]
    pub struct NativeCrypto;

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

    impl Crypto for NativeCrypto {
        fn sha256(&self, data: &[u8]) -> [u8; 32] {
            Sha256::digest(data).into()
        }

        fn hmac_sha256(&self, key: &[u8], data: &[u8]) -> [u8; 32] {
            let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(data);
            mac.finalize().into_bytes().into()
        }

        fn hmac_sha1(&self, key: &[u8], data: &[u8]) -> [u8; 20] {
            let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(data);
            mac.finalize().into_bytes().into()
        }

        fn md5(&self, data: &[u8]) -> [u8; 16] {
            md5::Md5::digest(data).into()
        }

        fn ed25519_key_pair(&self, seed: &[u8; 32]) -> Result<Box<dyn Ed25519Key>, String> {
            let pair = KeyPair::from_seed(Seed::new(*seed));
            Ok(Box::new(Key { secret: Some(pair.sk), public: pair.pk }))
        }

        fn ed25519_public_key(&self, public: &[u8; 32]) -> Result<Box<dyn Ed25519Key>, String> {
            Ok(Box::new(Key { secret: None, public: PublicKey::new(*public) }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::native::NativeCrypto;
    use super::*;

    fn hex<const N: usize>(text: &str) -> [u8; N] {
        let bytes: Vec<u8> =
            (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect();
        bytes.try_into().unwrap()
    }

    /// RFC 8032 §7.1, test 2: the seed, its public key, and the signature of one byte.
    #[test]
    fn the_native_ed25519_keys_match_rfc_8032() {
        let seed = hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
        let key = NativeCrypto.ed25519_key_pair(&seed).unwrap();
        assert_eq!(key.public(), hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"));
        let signature: [u8; 64] = hex(concat!(
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da",
            "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        ));
        assert_eq!(key.sign(&[0x72]), Some(signature));

        let public = NativeCrypto.ed25519_public_key(&key.public()).unwrap();
        assert!(public.verify(&[0x72], &signature));
        assert!(!public.verify(&[0x73], &signature), "another message");
        assert_eq!(public.sign(&[0x72]), None, "a public key alone cannot sign");
    }

    /// RFC 4231 test 2 (HMAC-SHA256), RFC 2202 test 2 (HMAC-SHA1), RFC 1321 (MD5),
    /// FIPS 180-2 (SHA-256).
    #[test]
    fn the_native_hashes_match_their_standards() {
        let crypto = NativeCrypto;
        assert_eq!(
            crypto.hmac_sha256(b"Jefe", b"what do ya want for nothing?"),
            hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
        assert_eq!(
            crypto.hmac_sha1(b"Jefe", b"what do ya want for nothing?"),
            hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        );
        assert_eq!(crypto.md5(b"abc"), hex("900150983cd24fb0d6963f7d28e17f72"));
        assert_eq!(
            crypto.sha256(b"abc"),
            hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }

    #[test]
    fn constant_time_eq_compares_lengths_and_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
