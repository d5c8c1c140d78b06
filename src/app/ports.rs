//! Every port: what the use cases need from the outside world, named by role. The
//! Cloudflare side implements each with a backend (`D1UserStore`, `KvRevocationList`,
//! `DurableCodeGate`, ...), and `in_memory` with native stand-ins for the tests.
//!
//! Errors: a port backed by storage reports a [`Fault`] (which backend, doing what, why);
//! a port answered by a Durable Object ([`CodeGate`], [`RateLimiter`],
//! [`RefreshFamilies`]) carries the [`ApiError`] the object decided (a 9905, a 50017) as
//! it is. Either way the envelope is made in one place, on the Cloudflare side.

use serde::{Deserialize, Serialize};

use std::future::Future;
use std::pin::Pin;

use crate::domain::account::{Account, AccountLookup};
use crate::domain::client_address::Caller;
use crate::domain::code_gate_state::CodeGateState;
use crate::domain::device::Device;
use crate::domain::error::{ApiError, ConfigError, Fault};
use crate::domain::events::QueuedEvent;
use crate::domain::password::{PasswordHash, NO_PASSWORD};
use crate::domain::phone::Phone;
use crate::domain::rate_limit::Limit;
use crate::domain::refresh_rotation::Rotation;
use crate::domain::sms_code::{CodePurpose, SmsCode};
pub use crate::domain::sms_provider::Sms;
use crate::domain::turnstile::Verdict;

/// Time and randomness are ports too; they live in the domain because pure code (token
/// issue, code generation) takes them as well.
pub use crate::domain::clock::Clock;
/// PBKDF2, which WebCrypto computes on Cloudflare and the `pbkdf2` crate natively.
pub use crate::domain::password::Pbkdf2;
pub use crate::domain::random::Randomness;

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub account: Account,
    /// The account's key under the username profile, which is unique.
    pub account_key: String,
    pub phone: Phone,
    /// `None` for an account made by a code sign-in, which has no password.
    pub password_hash: Option<PasswordHash>,
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUser {
    pub id: u64,
    /// The account name as registered (the limits of failed logins are keyed by it).
    pub account: String,
    /// The phone, in E.164.
    pub phone: String,
    /// The stored password hash text; see [`PasswordHash::decode`].
    pub password_hash: String,
    pub disabled: bool,
    /// Role ids, as strings, in ascending order.
    pub roles: Vec<String>,
    /// The user's session epoch: the time (Unix ms) of the last "log out everywhere",
    /// password reset or change, 0 if none. A session opened under another epoch is over
    /// (see [`crate::domain::token::SessionClaims::epoch`]).
    pub sessions_not_before_ms: u64,
    /// The one session of an older epoch that still lives, by its id: the one a "log out
    /// everywhere else" was asked from. By its id alone: its refresh token and its
    /// refreshed access tokens carry different epochs.
    pub kept_sid: Option<String>,
    /// When the deletion the user asked for may run (Unix ms); `None` if none was asked
    /// for. Until then the user is unavailable to everything but a code sign-in, which
    /// cancels it.
    pub delete_after_ms: Option<u64>,
}

impl StoredUser {
    /// Whether the user asked to be deleted (and has not signed in with a code since).
    pub fn is_leaving(&self) -> bool {
        self.delete_after_ms.is_some()
    }

    /// Whether the user has a password (a user a code sign-in made has none).
    pub fn has_password(&self) -> bool {
        self.password_hash != NO_PASSWORD
    }
}

/// What [`UserStore::change_phone`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneChange {
    Changed,
    /// Another user has the phone (or this one has it already): nothing was written.
    Taken,
    /// The kept session is no longer the user's: nothing was written.
    SessionEnded,
}

/// The session a "log out everywhere else" keeps: its id, and the epoch the token that
/// asked carries. The write that keeps it goes through only while that session is still
/// the user's (of the current epoch, or the one kept before), so that two such requests
/// from two devices at once cannot both succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptSession {
    pub sid: String,
    pub epoch: u64,
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
    async fn create(&self, user: &NewUser, now_seconds: u64) -> Result<Created, Fault>;
    /// The user whose account key is the lookup's, or (an account made before keys,
    /// which has none) whose name is the lookup's, ignoring ASCII case.
    async fn find_by_account(&self, account: &AccountLookup) -> Result<Option<StoredUser>, Fault>;
    async fn find_by_id(&self, id: u64) -> Result<Option<StoredUser>, Fault>;
    async fn find_by_phone(&self, phone: &Phone) -> Result<Option<StoredUser>, Fault>;
    /// Up to `limit` accounts made before keys (no key stored), with ids after `after_id`,
    /// by id: their ids and names.
    async fn keyless(&self, after_id: u64, limit: u32) -> Result<Vec<(u64, String)>, Fault>;
    /// Stores these keys for accounts made before keys, each where no other account holds
    /// it (a key held stays with its holder, and the account keeps none).
    async fn give_keys(&self, keys: &[(u64, String)]) -> Result<(), Fault>;
    /// Replaces a user's password hash `verified` (to raise its iteration count) with
    /// `stronger`, unless it changed meanwhile: a reset or change that landed since must
    /// not be undone by a hash of the old password. This is not a password change:
    /// sessions go on.
    async fn upgrade_password_hash(
        &self,
        id: u64,
        verified: &str,
        stronger: &PasswordHash,
    ) -> Result<(), Fault>;
    /// A new password (a reset or a change): the hash is replaced and every session
    /// ends, as [`UserStore::end_sessions`], in one write. Returns the new epoch.
    async fn replace_password(&self, id: u64, hash: &PasswordHash, not_before_ms: u64) -> Result<u64, Fault>;
    /// Ends every session of the user but `kept`, if given: the epoch moves to
    /// `not_before_ms`, or just past the current one if that is later, so that every such
    /// write gives a new epoch, and the kept session goes on. Returns the new epoch, or
    /// `None` when `kept` was no longer the user's (nothing is written then).
    async fn end_sessions(
        &self,
        id: u64,
        not_before_ms: u64,
        kept: Option<&KeptSession>,
    ) -> Result<Option<u64>, Fault>;
    /// The user asked to be deleted: from `delete_after_ms` on, [`UserStore::purge`] may
    /// remove it. Every session ends, as [`UserStore::end_sessions`], in the same write.
    async fn schedule_deletion(&self, id: u64, delete_after_ms: u64, not_before_ms: u64)
        -> Result<(), Fault>;
    /// Gives the user the phone `phone`, if no user has it, and ends every session of the
    /// user but `kept`, in one write that goes through only while `kept` is still the
    /// user's (as [`UserStore::end_sessions`] with it).
    async fn change_phone(
        &self,
        id: u64,
        phone: &Phone,
        not_before_ms: u64,
        kept: &KeptSession,
    ) -> Result<PhoneChange, Fault>;
    /// Cancels the user's deletion if it is still waiting at `now_ms`; `false` if there
    /// was none to cancel (never asked for, due, or done).
    async fn cancel_deletion(&self, id: u64, now_ms: u64) -> Result<bool, Fault>;
    /// Up to `limit` users whose deletion is due at `now_ms`, with ids after `after_id`,
    /// by id.
    async fn due_for_deletion(
        &self,
        now_ms: u64,
        after_id: u64,
        limit: u32,
    ) -> Result<Vec<StoredUser>, Fault>;
    /// Removes the user, with its roles, session epoch and sessions, in one write, if its
    /// deletion is (still) due at `now_ms`; `false` if there was nothing to remove (done
    /// already, perhaps by a run beside this one, or cancelled).
    async fn purge(&self, id: u64, now_ms: u64) -> Result<bool, Fault>;
}

/// A session as "your devices" lists it, recorded when its login answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub sid: String,
    pub uid: u64,
    /// The user's session epoch it was opened under.
    pub epoch: u64,
    pub created_ms: u64,
    /// Its last refresh (at most a minute behind), or `created_ms`.
    pub last_used_ms: u64,
    /// When its refresh token expires.
    pub expires_ms: u64,
    pub device: Device,
}

/// The users' sessions, for "your devices": written after the answers (a login records
/// one, a refresh marks it used, a log-out ends it), read by the list.
pub trait SessionStore {
    /// Records a session just opened, unless one with its id is known: ended before its
    /// record arrived, it stays ended.
    async fn record(&self, session: &SessionRecord) -> Result<(), Fault>;
    /// The session was used at `now_ms`, under the user's epoch `epoch` (a session kept
    /// by "log out everywhere else" moves to the new one at its refresh), and lives until
    /// `expires_ms` (or longer): written only if its last use is a minute old or more, or
    /// its epoch moved, so a session costs at most one write a minute however often it
    /// refreshes.
    async fn touch(&self, sid: &str, now_ms: u64, expires_ms: u64, epoch: u64) -> Result<(), Fault>;
    /// The session `sid` of user `uid` ended; its record is kept, ended, until
    /// `until_ms`, so that a late [`SessionStore::record`] cannot revive it.
    async fn end(&self, uid: u64, sid: &str, until_ms: u64) -> Result<(), Fault>;
    /// The user's sessions neither ended nor expired at `now_ms`, newest first, at most
    /// [`SESSIONS_LISTED`]. Whether each is of the user's epoch is for the caller to judge.
    async fn of_user(&self, uid: u64, now_ms: u64) -> Result<Vec<SessionRecord>, Fault>;
    /// Forgets the records of sessions expired at `now_ms`, ended ones included.
    async fn forget_expired(&self, now_ms: u64) -> Result<(), Fault>;
}

/// The most sessions a list shows: the newest.
pub const SESSIONS_LISTED: u32 = 100;

/// Where live SMS codes are kept, sealed (see [`crate::domain::sms_code::CodeSeal`]),
/// with their time to live: one entry per code issued to a phone, named by the code's id
/// (see [`super::code_gate`] for why each code has its own).
pub trait CodeStore {
    async fn put(
        &self,
        phone: &Phone,
        code_id: &str,
        sealed_code: &str,
        ttl_seconds: u64,
    ) -> Result<(), Fault>;
    async fn get(&self, phone: &Phone, code_id: &str) -> Result<Option<String>, Fault>;
    async fn delete(&self, phone: &Phone, code_id: &str) -> Result<(), Fault>;
}

/// Why an SMS was not delivered, for the log (the client gets 50018).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// No usable provider is configured.
    NotConfigured(ConfigError),
    /// The provider answered and refused (its code and message).
    Refused(String),
    /// No usable answer: unreachable, timed out, or a request that could not be built.
    NoReply(String),
}

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeliveryError::NotConfigured(error) => write!(f, "{error}"),
            DeliveryError::Refused(reason) | DeliveryError::NoReply(reason) => f.write_str(reason),
        }
    }
}

/// Asks Turnstile's siteverify whether a token shows a person; a fault when it cannot
/// tell (unreachable, slow, answering nonsense, refusing our secret).
pub trait HumanCheck {
    async fn verify(&self, token: &str, remote_ip: Option<&str>) -> Result<Verdict, Fault>;
}

/// Delivers an SMS.
pub trait SmsSender {
    async fn send(&self, sms: &Sms<'_>) -> Result<(), DeliveryError>;
}

/// Proof that one request took a phone's code, from [`CodeGate::take`]: what gives it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim(pub String);

/// The per-phone gate that serializes everything done with a phone's codes (on
/// Cloudflare, a Durable Object per phone running [`super::code_gate::CodeGateCore`]).
pub trait CodeGate {
    /// Makes, keeps and sends a new code for `purpose`, unless one is live (50017),
    /// the phone's daily limit, or its daily limit for the caller's address, is reached
    /// (9905) or sending fails (50018). Returns the
    /// code, for `EXPOSE_SMS_CODE`.
    async fn issue(&self, phone: &Phone, purpose: CodePurpose, caller: &Caller) -> Result<SmsCode, ApiError>;
    /// What a reset send to a phone without a user does instead: refused and counted
    /// exactly as [`CodeGate::issue`] would be, and the phone is busy for a code's life
    /// as after a real send, but nothing is kept or sent. So a stranger cannot tell from
    /// the answers which phones have users.
    async fn issue_decoy(&self, phone: &Phone, caller: &Caller) -> Result<(), ApiError>;
    /// Checks `code` for `purpose` and uses it up (50001 if wrong, for another purpose,
    /// or used; a wrong code or purpose counts as a wrong guess, from the caller's
    /// address). The phone may be sent a new code at once.
    async fn take(
        &self,
        phone: &Phone,
        code: &SmsCode,
        purpose: CodePurpose,
        caller: &Caller,
    ) -> Result<Claim, ApiError>;
    /// What the code was taken for failed: it may be used again, unless the phone was
    /// sent another since.
    async fn give_back(&self, phone: &Phone, claim: &Claim) -> Result<(), ApiError>;
}

/// A gate's own storage for its [`CodeGateState`] (on Cloudflare, the object's
/// transactional storage, whose calls keep other requests out), and its memory of the
/// last code it issued (on Cloudflare, the object's, while it stays loaded).
pub trait CodeGateStorage {
    async fn load(&self) -> Result<CodeGateState, Fault>;
    async fn save(&self, state: &CodeGateState) -> Result<(), Fault>;
    /// Keeps in memory that the code `code_id` is sealed as `sealed` (`None`: a decoy,
    /// which has no code), so that a guess at it need not read KV.
    fn remember(&self, code_id: &str, sealed: Option<&str>);
    /// What [`Self::remember`] kept for `code_id`; `None` when it kept nothing for it (a
    /// later code replaced it, or the object was unloaded since).
    fn recall(&self, code_id: &str) -> Option<Option<String>>;
}

/// What a gate remembers of its last code: its id and sealed form.
#[derive(Debug, Clone, Default)]
pub struct RememberedCode {
    pub code_id: String,
    pub sealed: Option<String>,
}

impl RememberedCode {
    pub fn of(code_id: &str, sealed: Option<&str>) -> Self {
        RememberedCode { code_id: code_id.into(), sealed: sealed.map(Into::into) }
    }

    /// Its sealed form, if it is the code `code_id`.
    pub fn recall(&self, code_id: &str) -> Option<Option<String>> {
        (!self.code_id.is_empty() && self.code_id == code_id).then(|| self.sealed.clone())
    }
}

/// Revoked sessions.
pub trait RevocationList {
    async fn revoke(&self, session_id: &str, ttl_seconds: u64) -> Result<(), Fault>;
    async fn is_revoked(&self, session_id: &str) -> Result<bool, Fault>;
}

/// Strongly consistent event counts under sliding-window limits, one count per key
/// (`sms-ip:<address>`, ...). On Cloudflare, a Durable Object per key.
pub trait RateLimiter {
    /// Counts one event for `key` if `limit` allows it and returns its stamp; otherwise
    /// 9905 with the seconds until one is allowed.
    async fn take(&self, key: &str, limit: Limit) -> Result<u64, ApiError>;
    /// The event or hold stamped `stamp` turned out not to count (nothing was sent, or
    /// the attempt failed for a reason that is not a guess).
    async fn give_back(&self, key: &str, stamp: u64) -> Result<(), ApiError>;
    /// Holds a place for an attempt still to be decided and returns its stamp. While the
    /// window is full only of other attempts' holds, waits a moment for one to end; 9905
    /// once counted events fill it (see [`crate::domain::rate_limit`]).
    async fn hold(&self, key: &str, limit: Limit) -> Result<u64, ApiError>;
    /// The held attempt failed: it counts.
    async fn settle(&self, key: &str, stamp: u64) -> Result<(), ApiError>;
    /// The held attempt succeeded: it and the events before it are forgotten (a
    /// successful login clears its account's failures).
    async fn clear_through(&self, key: &str, stamp: u64) -> Result<(), ApiError>;
    /// Every event counted so far is forgotten (a password reset clears its account's
    /// failures); holds of attempts in flight stay.
    async fn clear(&self, key: &str) -> Result<(), ApiError>;
}

/// The families of refresh tokens, one per session (`REFRESH_ROTATION`).
pub trait RefreshFamilies {
    /// [`crate::domain::refresh_rotation::FamilyState::rotate`] on the session's family,
    /// atomically.
    async fn rotate(&self, sid: &str, presented: &str, fresh: &str) -> Result<Rotation, ApiError>;
}

/// Where events for the app's backend go, to be delivered (on Cloudflare, a Queue, whose
/// consumer POSTs them). Cloned into the work after an answer, so a cheap handle.
pub trait EventQueue: Clone + 'static {
    async fn enqueue(&self, event: &QueuedEvent) -> Result<(), Fault>;
}

/// Work a use case leaves for after its answer, boxed: the platform keeps it running
/// once the answer is out, after the request's own borrows have ended.
pub type Deferred = Pin<Box<dyn Future<Output = Result<(), ApiError>>>>;

/// Where work goes that the client should not wait for (on Cloudflare, the request's
/// `ctx.wait_until`). A use case schedules its own, so the router knows nothing of it.
pub trait AfterAnswer {
    /// Runs `work` once the answer is out; a failure is logged as `doing` (no client
    /// sees it).
    fn defer(&self, doing: &'static str, work: Deferred);
}
