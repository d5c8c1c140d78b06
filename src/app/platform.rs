//! The one type parameter of every use case. A [`Platform`] names the implementation of
//! each port (on Cloudflare D1, KV, the Durable Objects and WebCrypto; in the native
//! tests, in-memory stand-ins), and an [`App`] holds one of each, beside the settings and
//! what is made from them once: the key ring, the code seal, the policies, the recent
//! reads. A use case is then `fn(&App<P>, request, &Call)`, whatever it needs.

use std::cell::Cell;

use super::ports::{
    AfterAnswer, CodeGate, CodeGateStorage, CodeStore, EventQueue, HumanCheck, RateLimiter, RefreshFamilies,
    RevocationList, SessionStore, SmsSender, UserStore,
};
use super::recent::{RecentRevocations, RecentUsers};
use crate::domain::client_address::Caller;
use crate::domain::clock::Clock;
use crate::domain::code_gate_state::CodeGatePolicy;
use crate::domain::device::Device;
use crate::domain::error::ApiError;
use crate::domain::key_ring::KeyRing;
use crate::domain::password::Pbkdf2;
use crate::domain::random::Randomness;
use crate::domain::session_policy::SessionPolicy;
use crate::domain::settings::Settings;
use crate::domain::sms_code::CodeSeal;
use crate::domain::username::UnicodeFacts;

/// Which implementation each port has. Only types: the instances live in an [`App`].
pub trait Platform: 'static {
    type Users: UserStore;
    /// The sessions "your devices" lists.
    type Sessions: SessionStore;
    /// The per-phone code gate, as the use cases call it.
    type Gate: CodeGate;
    type Limiter: RateLimiter;
    type Revocations: RevocationList;
    type Families: RefreshFamilies;
    type HumanCheck: HumanCheck;
    /// Where events for the app's backend are queued.
    type Events: EventQueue;
    type Kdf: Pbkdf2;
    type Clock: Clock;
    type Rng: Randomness;
    type Names: UnicodeFacts;
    /// What only the gate's own side uses (`app::code_gate`, inside the phone's object):
    /// the sealed codes, the SMS provider, the object's storage.
    type Codes: CodeStore;
    type Sender: SmsSender;
    type GateStorage: CodeGateStorage;

    /// Writes a line for a failure that no client is told of: work after the answer, or
    /// a step whose failure leaves the outcome standing (the operator's only view of it).
    fn log_failure(doing: &str, error: &ApiError);

    /// Writes a line for something a session's refresh tokens did that an operator may
    /// want to see: `event` is [`REFRESH_REPLAYED`] or [`REFRESH_WITHIN_GRACE`].
    fn log_refresh_event(event: &'static str, uid: u64, sid: &str);
}

/// A retired refresh token came back after the grace window: the session was ended (a
/// stolen token's reuse, or a client that kept an old one).
pub const REFRESH_REPLAYED: &str = "refresh_token_replayed";
/// A retired refresh token came back within the grace window and was given the current
/// one: two refreshes of one session raced (tabs without a shared lock, say). Harmless,
/// but a client that coordinates its refreshes never causes it.
pub const REFRESH_WITHIN_GRACE: &str = "refresh_token_reused_within_grace";

/// Everything the use cases work with, built once (on Cloudflare, once per isolate).
pub struct App<P: Platform> {
    pub settings: Settings,
    pub keys: KeyRing,
    pub seal: CodeSeal,
    pub session_policy: SessionPolicy,
    pub gate_policy: CodeGatePolicy,
    /// Users and revocations as recently read, which status may use (see
    /// [`super::recent`]).
    pub recent_users: RecentUsers,
    pub recent_revocations: RecentRevocations,
    /// Every account made before keys was given its key, as far as this isolate knows
    /// (see [`super::account_keys`]).
    pub keys_given: Cell<bool>,
    pub users: P::Users,
    pub sessions: P::Sessions,
    pub gate: P::Gate,
    pub limiter: P::Limiter,
    pub revocations: P::Revocations,
    pub families: P::Families,
    /// Turnstile's check, when `TURNSTILE_SECRET_KEY` is set.
    pub human_check: Option<P::HumanCheck>,
    /// The queue of events for the app's backend, when `EVENTS_WEBHOOK_URL` is set.
    pub events: Option<P::Events>,
    pub kdf: P::Kdf,
    pub clock: P::Clock,
    pub rng: P::Rng,
    /// What account names are compared with (see `domain::username`).
    pub names: P::Names,
    pub codes: P::Codes,
    pub sender: P::Sender,
}

/// One request as a use case sees it: who sends it, and where work goes that the client
/// should not wait for.
pub struct Call<'r> {
    pub caller: Caller,
    pub after_answer: &'r dyn AfterAnswer,
    /// The device the request comes from, as a session records it: read only by a login,
    /// so that other requests do not pay for the headers.
    pub device: &'r dyn Fn() -> Device,
}

/// Leaves `outcome`'s failure in the log as a failure of `doing`, for a step whose failure
/// does not change the answer.
pub fn log_if_failed<P: Platform>(doing: &str, outcome: Result<(), ApiError>) {
    if let Err(error) = outcome {
        P::log_failure(doing, &error);
    }
}
