//! PBKDF2 through the runtime's WebCrypto (`crypto.subtle.deriveBits`), which runs as
//! native code: much faster than the `pbkdf2` crate compiled to wasm, with identical
//! bytes (docs/performance.md, "PBKDF2 through WebCrypto"). The crate stays in the
//! wasm for what WebCrypto refuses: Cloudflare derives at most 100,000 iterations, in
//! WebCrypto and `node:crypto` alike (workerd issue 1346; the local runtime has no limit).

use js_sys::{Array, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Crypto, CryptoKey, Pbkdf2Params, SubtleCrypto};

use super::node_crypto::NodeCrypto;
use crate::domain::crypto::Crypto as Primitives;
use crate::domain::error::Fault;
use crate::domain::password::{pbkdf2_crate, Pbkdf2};

/// WebCrypto's PBKDF2-HMAC-SHA256, falling back to the `pbkdf2` crate where WebCrypto is
/// missing or refuses (more than 100,000 iterations on Cloudflare).
#[derive(Debug, Default, Clone, Copy)]
pub struct WebCryptoPbkdf2;

fn subtle() -> Option<SubtleCrypto> {
    // workerd's global object is no `WorkerGlobalScope` instance (a checked cast fails),
    // so read its `crypto` property directly.
    let crypto = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).ok()?;
    if crypto.is_undefined() {
        return None;
    }
    Some(crypto.unchecked_into::<Crypto>().subtle())
}

async fn derive_with(
    subtle: &SubtleCrypto,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> Result<Vec<u8>, JsValue> {
    let usages = Array::of1(&JsValue::from_str("deriveBits"));
    let import = subtle.import_key_with_str("raw", &Uint8Array::from(password), "PBKDF2", false, &usages)?;
    let key: CryptoKey = JsFuture::from(import).await?.unchecked_into();
    let params =
        Pbkdf2Params::new("PBKDF2", &JsValue::from_str("SHA-256"), iterations, &Uint8Array::from(salt));
    let bits = JsFuture::from(subtle.derive_bits_with_object(&params, &key, 256)?).await?;
    Ok(Uint8Array::new(&bits).to_vec())
}

/// Logged whenever the slow path is taken, so that it never goes unnoticed (the end-to-end
/// tests look for it).
pub const FALLBACK_WARNING: &str = "pbkdf2: WebCrypto unavailable, using the pbkdf2 crate";

impl Pbkdf2 for WebCryptoPbkdf2 {
    async fn derive(&self, password: &[u8], salt: &[u8], iterations: u32) -> Result<[u8; 32], Fault> {
        let reason = match subtle() {
            None => "no crypto.subtle".to_string(),
            Some(subtle) => match derive_with(&subtle, password, salt, iterations).await {
                Ok(bytes) => match <[u8; 32]>::try_from(bytes) {
                    Ok(bytes) => return Ok(bytes),
                    Err(bytes) => format!("{} bytes derived", bytes.len()),
                },
                Err(error) => format!("{error:?}"),
            },
        };
        worker::console_warn!("{FALLBACK_WARNING} ({reason}; {iterations} iterations)");
        Ok(pbkdf2_crate(password, salt, iterations))
    }

    fn crypto(&self) -> &'static dyn Primitives {
        &NodeCrypto
    }
}
