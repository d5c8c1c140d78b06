//! Use cases: one module per flow, each a struct of the ports it needs (`&'a` fields)
//! with one public entry, written against the traits of [`ports`], so that the flows run
//! natively in tests with in-memory stand-ins and on Cloudflare with D1, KV and the
//! Durable Objects.

pub mod code_gate;
pub mod login;
pub mod password;
pub mod ports;
pub mod recent;
pub mod refresh_rotation;
pub mod register;
pub mod send_sms;
pub mod session;

#[cfg(test)]
pub(crate) mod in_memory;

/// Counts one attempt with an SMS code (a registration, a reset) against the caller's
/// address (9905 past `limit`). Every attempt counts, right or wrong: what it bounds is
/// how fast one address can guess at codes or ask which account names are taken.
pub async fn count_code_attempt(
    limiter: &impl ports::RateLimiter,
    caller: &Caller,
    limit: crate::domain::rate_limit::Limit,
) -> Result<(), crate::domain::error::ApiError> {
    limiter.take(&format!("code-ip:{}", caller.ip), limit).await.map(|_| ())
}

/// Who is calling, as far as limits and checks care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The client's address as the limits count it (`CF-Connecting-IP`, which Cloudflare
    /// always sets; see [`crate::domain::client_address`]).
    pub ip: String,
    /// The address as it came, for checks that want the client's own (Turnstile's
    /// `remoteip`).
    pub address: Option<String>,
}

impl Caller {
    /// The caller at `address` (`CF-Connecting-IP`).
    pub fn at(address: Option<&str>) -> Caller {
        Caller {
            ip: crate::domain::client_address::limit_key(address),
            address: address.map(|text| text.trim().to_string()),
        }
    }
}
