//! Routes compiled into `make bench`'s worker only (feature `bench`).

use serde_json::json;

use super::http::Reply;
use super::startup::{self, Isolate};
use super::web_crypto::WebCryptoPbkdf2;
use crate::domain::password::Pbkdf2;

/// One WebCrypto PBKDF2 at the configured iterations and nothing else, the yardstick for
/// `/login/jwt/get`.
pub async fn pbkdf2(isolate: &Isolate) -> Reply {
    let iterations = isolate.as_ref().map(|app| app.settings.passwords.iterations).unwrap_or(100_000);
    let outcome = WebCryptoPbkdf2.derive(b"bench password", b"bench salt 16 by", iterations).await;
    Reply::Envelope(outcome.map(|_| json!([])).map_err(Into::into))
}

/// The size of this isolate's wasm linear memory, which only grows (flat across a run
/// means requests leak nothing on the Rust side), and how many times this isolate built
/// its services (1: they are built once, not per request).
pub fn memory() -> Reply {
    use wasm_bindgen::JsCast;
    let bytes = wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map(|memory| memory.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length())
        .unwrap_or(0);
    Reply::Envelope(Ok(json!({ "wasm_memory_bytes": bytes, "services_built": startup::times_built() })))
}
