//! Workers KV: live SMS codes and revoked sessions, each with a time to live.

use worker::kv::KvStore;

use super::platform::OrFault;
use crate::app::ports::{CodeStore, RevocationList};
use crate::domain::error::{Backend, Fault};
use crate::domain::phone::Phone;
use crate::domain::settings::MIN_KV_TTL_SECONDS;

/// The binding name in `wrangler.toml`.
pub const KV_BINDING: &str = "KV";

/// Sealed SMS codes under `sms_code:<E.164 phone>:<code id>`. Only the phone's Durable
/// Object reads and writes them (see `app::code_gate` for why that keeps them consistent).
/// The gate decides when a code dies; the TTL (at least KV's 60 s) only clears it away.
pub struct KvCodeStore(pub KvStore);

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
        self.0.get(&code_key(phone, code_id)).text().await.or_fault(Backend::Kv, "read a code")
    }

    async fn delete(&self, phone: &Phone, code_id: &str) -> Result<(), Fault> {
        self.0.delete(&code_key(phone, code_id)).await.or_fault(Backend::Kv, "delete a code")
    }
}

/// Revoked sessions under `revoked_session:<sid>`.
pub struct KvRevocationList(pub KvStore);

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
            .get(&revocation_key(session_id))
            .text()
            .await
            .or_fault(Backend::Kv, "read a revocation")?;
        Ok(entry.is_some())
    }
}

/// Stores `text` under `key` for `ttl_seconds`. As bytes: `KvStore::put` runs any value
/// through serde (with a float formatter and JSON) even for a string, which costs wasm.
async fn put_text(kv: &KvStore, key: &str, text: &str, ttl_seconds: u64, doing: &str) -> Result<(), Fault> {
    let put = kv.put_bytes(key, text.as_bytes()).or_fault(Backend::Kv, doing)?;
    put.expiration_ttl(ttl_seconds).execute().await.or_fault(Backend::Kv, doing)
}
