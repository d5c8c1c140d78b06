//! Workers KV: live SMS codes and revoked sessions, each with a time to live.

use worker::kv::KvStore;

use crate::app::ports::{CodeStore, RevocationList};
use crate::domain::error::ApiError;
use crate::domain::settings::MIN_KV_TTL_SECONDS;

/// The binding name in `wrangler.toml`.
pub const KV_BINDING: &str = "KV";

/// Sealed SMS codes under `sms_code:<E.164 phone>:<code id>`. Only the phone's Durable
/// Object reads and writes them (see `app::sms_gate` for why that keeps them consistent).
/// The gate decides when a code dies; the TTL (at least KV's 60 s) only clears it away.
pub struct KvCodeStore(pub KvStore);

fn code_key(key: &str) -> String {
    format!("sms_code:{key}")
}

impl CodeStore for KvCodeStore {
    async fn put(&self, key: &str, sealed_code: &str, ttl_seconds: u64) -> Result<(), ApiError> {
        let ttl = ttl_seconds.max(MIN_KV_TTL_SECONDS);
        let put = self.0.put(&code_key(key), sealed_code).map_err(ApiError::internal)?;
        put.expiration_ttl(ttl).execute().await.map_err(ApiError::internal)
    }

    async fn get(&self, key: &str) -> Result<Option<String>, ApiError> {
        self.0.get(&code_key(key)).text().await.map_err(ApiError::internal)
    }

    async fn delete(&self, key: &str) -> Result<(), ApiError> {
        self.0.delete(&code_key(key)).await.map_err(ApiError::internal)
    }
}

/// Revoked sessions under `revoked_session:<sid>`.
pub struct KvRevocationList(pub KvStore);

fn revocation_key(session_id: &str) -> String {
    format!("revoked_session:{session_id}")
}

impl RevocationList for KvRevocationList {
    async fn revoke(&self, session_id: &str, ttl_seconds: u64) -> Result<(), ApiError> {
        let ttl = ttl_seconds.max(MIN_KV_TTL_SECONDS);
        let put = self.0.put(&revocation_key(session_id), "1").map_err(ApiError::internal)?;
        put.expiration_ttl(ttl).execute().await.map_err(ApiError::internal)
    }

    async fn is_revoked(&self, session_id: &str) -> Result<bool, ApiError> {
        let entry = self.0.get(&revocation_key(session_id)).text().await.map_err(ApiError::internal)?;
        Ok(entry.is_some())
    }
}
