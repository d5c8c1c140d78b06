//! The limit windows the use cases count in, by name, and the one count several of them
//! share. Each window is a key in the [`RateLimiter`] (on Cloudflare, a Durable Object per
//! key).

use super::ports::RateLimiter;
use crate::domain::client_address::Caller;
use crate::domain::error::ApiError;
use crate::domain::rate_limit::Limit;

/// The window of an account's failed logins from all addresses, named by the name's
/// [`crate::domain::account::AccountLookup::limit_name`] (so `Foo`, `FOO` and `Ｆｏｏ`
/// share one). A password reset clears it.
pub fn account_limit_key(limit_name: &str) -> String {
    format!("login-account:{limit_name}")
}

/// The window of an account's failed logins from one address. The address comes first:
/// it never holds a `|`, so no pair of account and address can name another's window.
/// A password reset clears the one of the address it comes from.
pub fn account_and_ip_limit_key(limit_name: &str, caller: &Caller) -> String {
    format!("login-ip-account:{}|{limit_name}", caller.ip)
}

/// The window of an address's failed logins, over all accounts.
pub fn ip_limit_key(caller: &Caller) -> String {
    format!("login-ip:{}", caller.ip)
}

/// The window of an address's SMS sends.
pub fn sms_ip_key(caller: &Caller) -> String {
    format!("sms-ip:{}", caller.ip)
}

/// Counts one attempt with an SMS code (a registration, a reset) against the caller's
/// address (9905 past `limit`). Every attempt counts, right or wrong: what it bounds is
/// how fast one address can guess at codes or ask which account names are taken.
pub async fn count_code_attempt(
    limiter: &impl RateLimiter,
    caller: &Caller,
    limit: Limit,
) -> Result<(), ApiError> {
    limiter.take(&format!("code-ip:{}", caller.ip), limit).await.map(|_| ())
}
