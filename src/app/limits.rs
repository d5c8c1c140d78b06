//! The limit windows the use cases count in, by name, and the one count several of them
//! share. Each window is a key in the [`RateLimiter`] (on Cloudflare, a Durable Object per
//! key).

use super::ports::RateLimiter;
use crate::domain::client_address::Caller;
use crate::domain::error::ApiError;
use crate::domain::rate_limit::Limit;

/// Whose failed logins a window counts: the user that the name found, or, where it found
/// none, the name as typed (by its [`AccountLookup::limit_name`], so `Foo`, `FOO` and
/// `Ｆｏｏ` share one). By the user and not the name: a look-alike name of another user
/// (an account made before keys, whose name maps to another's key) shares no window
/// with it, so one's success clears nothing of the other's.
///
/// [`AccountLookup::limit_name`]: crate::domain::account::AccountLookup::limit_name
#[derive(Debug, Clone, Copy)]
pub enum LoginTarget<'a> {
    User(u64),
    Name(&'a str),
}

impl std::fmt::Display for LoginTarget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Distinct prefixes: no name's window is a user's.
        match self {
            LoginTarget::User(id) => write!(f, "user:{id}"),
            LoginTarget::Name(name) => write!(f, "name:{name}"),
        }
    }
}

/// The window of an account's failed logins from all addresses. A password reset clears
/// it.
pub fn account_limit_key(target: LoginTarget) -> String {
    format!("login-account:{target}")
}

/// The window of an account's failed logins from one address. The address comes first:
/// it never holds a `|`, so no pair of account and address can name another's window.
/// A password reset clears the one of the address it comes from.
pub fn account_and_ip_limit_key(target: LoginTarget, caller: &Caller) -> String {
    format!("login-ip-account:{}|{target}", caller.ip)
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
