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
        let put = self.0.put(&code_key(phone, code_id), sealed_code).or_fault(Backend::Kv, "keep a code")?;
        put.expiration_ttl(ttl).execute().await.or_fault(Backend::Kv, "keep a code")
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
        let put = self.0.put(&revocation_key(session_id), "1").or_fault(Backend::Kv, "revoke a session")?;
        put.expiration_ttl(ttl).execute().await.or_fault(Backend::Kv, "revoke a session")
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
