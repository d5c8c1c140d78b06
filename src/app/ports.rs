//! What the use cases need from the outside world, named by role. The Cloudflare side
//! implements each with a backend (`D1UserStore`, `KvRevocationList`, ...).

use crate::domain::account::Account;
use crate::domain::error::ApiError;
use crate::domain::password::PasswordHash;
use crate::domain::phone::Phone;
use crate::domain::rate_limit::Limit;
use crate::domain::sms_code::SmsCode;

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub account: Account,
    pub phone: Phone,
    pub password_hash: PasswordHash,
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUser {
    pub id: u64,
    /// The stored password hash text; see [`PasswordHash::decode`].
    pub password_hash: String,
    pub disabled: bool,
    /// Role ids, as strings, in ascending order.
    pub roles: Vec<String>,
    /// Tokens issued before this (Unix ms) no longer verify: "log out everywhere".
    pub sessions_not_before_ms: u64,
}

/// The outcome of creating a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    User(u64),
    /// The account (ignoring ASCII case) or the phone is registered already.
    Taken,
}

/// Users and their roles.
pub trait UserStore {
    /// Creates the user with the default role, atomically; [`Created::Taken`] when the
    /// account or phone exists, even when two registrations race.
    async fn create(&self, user: &NewUser, now_seconds: u64) -> Result<Created, ApiError>;
    async fn find_by_account(&self, account: &Account) -> Result<Option<StoredUser>, ApiError>;
    async fn find_by_id(&self, id: u64) -> Result<Option<StoredUser>, ApiError>;
    /// Replaces a user's password hash (to raise its iteration count). This is not a
    /// password change: sessions go on.
    async fn update_password_hash(&self, id: u64, hash: &PasswordHash) -> Result<(), ApiError>;
    /// Ends every session of the user: tokens issued before `not_before_ms` stop
    /// verifying. Never moves the time back. (A password change or disabling a user,
    /// when they exist, end sessions through this.)
    async fn end_sessions(&self, id: u64, not_before_ms: u64) -> Result<(), ApiError>;
}

/// Where live SMS codes are kept, sealed (see [`crate::domain::sms_code::CodeSeal`]),
/// with their time to live. Keys are chosen by the gate (one per code issued, see
/// [`crate::app::sms_gate`]).
pub trait CodeStore {
    async fn put(&self, key: &str, sealed_code: &str, ttl_seconds: u64) -> Result<(), ApiError>;
    async fn get(&self, key: &str) -> Result<Option<String>, ApiError>;
    async fn delete(&self, key: &str) -> Result<(), ApiError>;
}

/// Delivers an SMS. The error is the provider's reason, for the log.
pub trait SmsSender {
    async fn send(&self, phone: &Phone, code: &SmsCode) -> Result<(), String>;
}

/// Proof that one registration holds a phone's code, from [`CodeGate::claim`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Claim(pub String);

/// The per-phone gate that serializes everything done with a phone's codes (on
/// Cloudflare, a Durable Object per phone; see [`crate::app::sms_gate`]).
pub trait CodeGate {
    /// Makes, keeps and sends a new code, unless one is live (50017) or sending fails
    /// (50018). Returns the code, for `EXPOSE_SMS_CODE`.
    async fn issue(&self, phone: &Phone) -> Result<SmsCode, ApiError>;
    /// Checks `code` and holds it for one registration (50001 if wrong, used or held).
    async fn claim(&self, phone: &Phone, code: &SmsCode) -> Result<Claim, ApiError>;
    /// The held code registered a user: it can never be used again.
    async fn consume(&self, phone: &Phone, claim: &Claim) -> Result<(), ApiError>;
    /// The registration failed after the claim: the code may be used again.
    async fn release(&self, phone: &Phone, claim: &Claim) -> Result<(), ApiError>;
}

/// Revoked sessions.
pub trait RevocationList {
    async fn revoke(&self, session_id: &str, ttl_seconds: u64) -> Result<(), ApiError>;
    async fn is_revoked(&self, session_id: &str) -> Result<bool, ApiError>;
}

/// Strongly consistent event counts under sliding-window limits, one count per key
/// (`sms-ip:<address>`, ...). On Cloudflare, a Durable Object per key.
pub trait RateLimiter {
    /// Counts one event for `key` if `limit` allows it and returns its stamp; otherwise
    /// 9905 with the seconds until one is allowed.
    async fn take(&self, key: &str, limit: Limit) -> Result<u64, ApiError>;
    /// The event stamped `stamp` turned out not to count (nothing was sent).
    async fn give_back(&self, key: &str, stamp: u64) -> Result<(), ApiError>;
    /// Forgets every event of `key` (a successful login clears its account's failures).
    async fn clear(&self, key: &str) -> Result<(), ApiError>;
}
