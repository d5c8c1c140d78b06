//! The [`Crypto`] primitives from the runtime: workerd's `node:crypto`, whose hashes,
//! HMACs, `sign` and `verify` are synchronous (WebCrypto's are promises,
//! which jwt-compact's signing and the domain's pure functions cannot wait for) and run as
//! native code. `wrangler.toml` turns Node.js compatibility on (`nodejs_compat`; on by
//! default from compatibility date 2026-08-04 too); the module is reached with
//! `process.getBuiltinModule` rather than an import, which `worker-build`'s bundler would
//! try to resolve on disk. [`NodeCrypto::check`] runs when the isolate is built, so a
//! runtime without it is a configuration error on every route rather than an exception.
//! The Ed25519 keys are made once per isolate, with the key ring.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

use crate::domain::crypto::{Crypto, Ed25519Key};

#[wasm_bindgen(inline_js = r#"
let cached;
const nodeCrypto = () => (cached ??= globalThis.process.getBuiltinModule("node:crypto"));
// The DER wrappings of a raw Ed25519 key (RFC 8410): PKCS#8 for a seed, SPKI for a public key.
const PKCS8 = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
const SPKI = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
const der = (prefix, raw) => {
  const bytes = new Uint8Array(prefix.length + raw.length);
  bytes.set(prefix);
  bytes.set(raw, prefix.length);
  return bytes;
};
export function node_crypto_check() {
  if (typeof nodeCrypto().createHmac !== "function") throw new Error("node:crypto has no createHmac");
}
export function digest(algorithm, data) {
  return nodeCrypto().createHash(algorithm).update(data).digest();
}
export function hmac(algorithm, key, data) {
  return nodeCrypto().createHmac(algorithm, key).update(data).digest();
}
export function ed25519_private_key(seed) {
  return nodeCrypto().createPrivateKey({ key: der(PKCS8, seed), format: "der", type: "pkcs8" });
}
export function ed25519_public_key(raw) {
  return nodeCrypto().createPublicKey({ key: der(SPKI, raw), format: "der", type: "spki" });
}
export function ed25519_public_of(privateKey) {
  return nodeCrypto().createPublicKey(privateKey);
}
export function ed25519_raw_public(publicKey) {
  return new Uint8Array(publicKey.export({ format: "der", type: "spki" })).slice(SPKI.length);
}
export function ed25519_sign(privateKey, message) {
  return new Uint8Array(nodeCrypto().sign(null, message, privateKey));
}
export function ed25519_verify(publicKey, message, signature) {
  return nodeCrypto().verify(null, message, publicKey, signature);
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    fn node_crypto_check() -> Result<(), JsValue>;
    // Once the check passed, hashes of bytes with a fixed algorithm do not throw. The
    // byte slices are views of the wasm memory, read before these return; a digest comes
    // back as a Buffer (a Uint8Array), copied into the wasm.
    fn digest(algorithm: &str, data: &[u8]) -> Vec<u8>;
    fn hmac(algorithm: &str, key: &[u8], data: &[u8]) -> Vec<u8>;
    #[wasm_bindgen(catch)]
    fn ed25519_private_key(seed: &[u8]) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn ed25519_public_key(raw: &[u8]) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn ed25519_public_of(private_key: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch)]
    fn ed25519_raw_public(public_key: &JsValue) -> Result<Vec<u8>, JsValue>;
    #[wasm_bindgen(catch)]
    fn ed25519_sign(private_key: &JsValue, message: &[u8]) -> Result<Vec<u8>, JsValue>;
    #[wasm_bindgen(catch)]
    fn ed25519_verify(public_key: &JsValue, message: &[u8], signature: &[u8]) -> Result<bool, JsValue>;
}

/// The primitives through `node:crypto`.
#[derive(Debug, Default, Clone, Copy)]
pub struct NodeCrypto;

impl NodeCrypto {
    /// Whether the runtime has `node:crypto`; the reason if not.
    pub fn check() -> Result<(), String> {
        node_crypto_check().map_err(|error| {
            format!("node:crypto is missing (Node.js compatibility, `nodejs_compat`, must be on): {error:?}")
        })
    }
}

/// A digest of its algorithm's length, which is all the runtime gives.
fn exactly<const N: usize>(bytes: Vec<u8>) -> [u8; N] {
    bytes.try_into().expect("a digest has its algorithm's length")
}

/// `node:crypto` key objects, with the public key's bytes read once.
struct Key {
    private: Option<JsValue>,
    public: JsValue,
    raw_public: [u8; 32],
}

fn refused(error: JsValue) -> String {
    format!("node:crypto refused the key: {error:?}")
}

impl Key {
    fn boxed(private: Option<JsValue>, public: JsValue) -> Result<Box<dyn Ed25519Key>, String> {
        let raw = ed25519_raw_public(&public).map_err(refused)?;
        let raw_public =
            raw.try_into().map_err(|raw: Vec<u8>| format!("a public key of {} bytes", raw.len()))?;
        Ok(Box::new(Key { private, public, raw_public }))
    }
}

impl Ed25519Key for Key {
    fn public(&self) -> [u8; 32] {
        self.raw_public
    }

    fn sign(&self, message: &[u8]) -> Option<[u8; 64]> {
        ed25519_sign(self.private.as_ref()?, message).ok()?.try_into().ok()
    }

    fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        ed25519_verify(&self.public, message, signature).unwrap_or(false)
    }
}

impl Crypto for NodeCrypto {
    fn sha256(&self, data: &[u8]) -> [u8; 32] {
        exactly(digest("sha256", data))
    }

    fn hmac_sha256(&self, key: &[u8], data: &[u8]) -> [u8; 32] {
        exactly(hmac("sha256", key, data))
    }

    fn hmac_sha1(&self, key: &[u8], data: &[u8]) -> [u8; 20] {
        exactly(hmac("sha1", key, data))
    }

    fn md5(&self, data: &[u8]) -> [u8; 16] {
        exactly(digest("md5", data))
    }

    fn ed25519_key_pair(&self, seed: &[u8; 32]) -> Result<Box<dyn Ed25519Key>, String> {
        let private = ed25519_private_key(seed).map_err(refused)?;
        let public = ed25519_public_of(&private).map_err(refused)?;
        Key::boxed(Some(private), public)
    }

    fn ed25519_public_key(&self, public: &[u8; 32]) -> Result<Box<dyn Ed25519Key>, String> {
        Key::boxed(None, ed25519_public_key(public).map_err(refused)?)
    }
}
