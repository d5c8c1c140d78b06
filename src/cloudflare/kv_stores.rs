//! Workers KV: live SMS codes and revoked sessions, each with a time to live.

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::Env;

use super::platform::OrFault;
use crate::app::ports::{CodeStore, RevocationList};
use crate::domain::error::{Backend, Fault};
use crate::domain::phone::Phone;
use crate::domain::settings::MIN_KV_TTL_SECONDS;

/// The binding name in `wrangler.toml`.
pub const KV_BINDING: &str = "KV";

// The runtime's KV namespace, called directly rather than through `worker::kv::KvStore`,
// whose `put` runs its options (and any value) through serde-wasm-bindgen with a JSON
// value for metadata: code in the wasm that three calls taking strings do not need
// (docs/performance.md, "KV called directly").
#[wasm_bindgen]
extern "C" {
    #[derive(Clone)]
    pub type KvNamespace;
    #[wasm_bindgen(method, catch)]
    fn get(this: &KvNamespace, key: &str) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn put(this: &KvNamespace, key: &str, value: &str, options: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn delete(this: &KvNamespace, key: &str) -> Result<Promise, JsValue>;
}

impl KvNamespace {
    /// The namespace bound as `name`, `None` when there is none.
    pub fn from_env(env: &Env, name: &str) -> Option<KvNamespace> {
        let value = Reflect::get(env, &JsValue::from_str(name)).ok()?;
        // A KV namespace is the binding that has KV's methods (its class is not global).
        let is_kv = Reflect::has(&value, &JsValue::from_str("getWithMetadata")).unwrap_or(false);
        is_kv.then(|| value.unchecked_into())
    }

    /// The text stored under `key`, `None` when there is none.
    async fn text(&self, key: &str) -> Result<Option<String>, JsValue> {
        Ok(JsFuture::from(self.get(key)?).await?.as_string())
    }

    async fn remove(&self, key: &str) -> Result<(), JsValue> {
        JsFuture::from(self.delete(key)?).await.map(drop)
    }
}

/// Sealed SMS codes under `sms_code:<E.164 phone>:<code id>`. Only the phone's Durable
/// Object reads and writes them (see `app::code_gate` for why that keeps them consistent).
/// The gate decides when a code dies; the TTL (at least KV's 60 s) only clears it away.
pub struct KvCodeStore(pub KvNamespace);

/// The one place a code's KV key is made.
fn code_key(phone: &Phone, code_id: &str) -> String {
    format!("sms_code:{}:{code_id}", phone.e164())
}

impl CodeStore for KvCodeStore {
    async fn put(
        &self,
        phone: &Phone,
        code_id: &str,
        sealed_code: &str,
        ttl_seconds: u64,
    ) -> Result<(), Fault> {
        let ttl = ttl_seconds.max(MIN_KV_TTL_SECONDS);
        put_text(&self.0, &code_key(phone, code_id), sealed_code, ttl, "keep a code").await
    }

    async fn get(&self, phone: &Phone, code_id: &str) -> Result<Option<String>, Fault> {
        self.0
            .text(&code_key(phone, code_id))
            .await
            .map_err(worker::Error::from)
            .or_fault(Backend::Kv, "read a code")
    }

    async fn delete(&self, phone: &Phone, code_id: &str) -> Result<(), Fault> {
        self.0
            .remove(&code_key(phone, code_id))
            .await
            .map_err(worker::Error::from)
            .or_fault(Backend::Kv, "delete a code")
    }
}

/// Revoked sessions under `revoked_session:<sid>`.
pub struct KvRevocationList(pub KvNamespace);

fn revocation_key(session_id: &str) -> String {
    format!("revoked_session:{session_id}")
}

impl RevocationList for KvRevocationList {
    async fn revoke(&self, session_id: &str, ttl_seconds: u64) -> Result<(), Fault> {
        let ttl = ttl_seconds.max(MIN_KV_TTL_SECONDS);
        put_text(&self.0, &revocation_key(session_id), "1", ttl, "revoke a session").await
    }

    async fn is_revoked(&self, session_id: &str) -> Result<bool, Fault> {
        let entry = self
            .0
            .text(&revocation_key(session_id))
            .await
            .map_err(worker::Error::from)
            .or_fault(Backend::Kv, "read a revocation")?;
        Ok(entry.is_some())
    }
}

/// Stores `text` under `key` for `ttl_seconds`.
async fn put_text(
    kv: &KvNamespace,
    key: &str,
    text: &str,
    ttl_seconds: u64,
    doing: &str,
) -> Result<(), Fault> {
    let options = Object::new();
    Reflect::set(&options, &JsValue::from_str("expirationTtl"), &JsValue::from_f64(ttl_seconds as f64))
        .map_err(worker::Error::from)
        .or_fault(Backend::Kv, doing)?;
    let put = kv.put(key, text, &options).map_err(worker::Error::from).or_fault(Backend::Kv, doing)?;
    JsFuture::from(put).await.map(drop).map_err(worker::Error::from).or_fault(Backend::Kv, doing)
}
