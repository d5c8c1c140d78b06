//! In-memory stand-ins for the ports, and the [`Native`] platform that names them, for
//! the native tests of the use cases. The end-to-end tests use the real D1, KV and
//! Durable Object under `wrangler dev` instead.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use super::platform::{App, Call, Platform};
use super::ports::{
    AfterAnswer, Claim, CodeGate, CodeGateStorage, CodeStore, Created, Deferred, DeliveryError, EventQueue,
    HumanCheck, KeptSession, NewUser, PhoneChange, RateLimiter, RefreshFamilies, RememberedCode,
    RevocationList, SessionRecord, SessionStore, SmsSender, StoredUser, UserStore, SESSIONS_LISTED,
};
use super::recent::{RecentRevocations, RecentUsers};
use crate::domain::account::{Account, AccountLookup};
use crate::domain::client_address::Caller;
use crate::domain::clock::Clock;
use crate::domain::code_gate_state::{CodeGatePolicy, CodeGateState};
use crate::domain::crypto::Crypto;
use crate::domain::device::Device;
use crate::domain::error::{ApiError, Fault};
use crate::domain::events::QueuedEvent;
use crate::domain::key_ring::KeyRing;
use crate::domain::password::{NativePbkdf2, PasswordHash, PasswordPolicy, Pbkdf2};
use crate::domain::phone::Phone;
use crate::domain::random::SecureRandom;
use crate::domain::rate_limit::{HoldRefused, Limit, SlidingWindow};
use crate::domain::refresh_rotation::{FamilyState, Rotation};
use crate::domain::session_policy::SessionPolicy;
use crate::domain::settings::Settings;
use crate::domain::sms_code::{CodePurpose, CodeSeal, SmsCode};
use crate::domain::sms_provider::Sms;
use crate::domain::turnstile::Verdict;
use crate::domain::username::native::NativeUnicode;
use crate::domain::username::username_key;

/// The ports as the native tests stand them in.
pub enum Native {}

impl Platform for Native {
    type Users = MemoryUsers;
    type Sessions = MemorySessions;
    type Gate = MemoryCodeGate;
    type Limiter = MemoryLimiter;
    type Revocations = MemoryRevocations;
    type Families = MemoryFamilies;
    type HumanCheck = MemoryHumanCheck;
    type Events = RecordingEvents;
    type Kdf = CountingPbkdf2;
    type Clock = ManualClock;
    type Rng = SecureRandom;
    type Names = NativeUnicode;
    type Codes = MemoryCodes;
    type Sender = RecordingSender;
    type GateStorage = MemoryCodeGateStorage;

    fn log_failure(doing: &str, error: &ApiError) {
        LOGGED.with(|logged| logged.borrow_mut().push(format!("{doing}: {error}")));
    }

    fn log_refresh_event(event: &'static str, uid: u64, sid: &str) {
        EVENTS.with(|events| events.borrow_mut().push(format!("{event} {uid} {sid}")));
    }
}

thread_local! {
    // Each test runs on a thread of its own.
    static LOGGED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static EVENTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The refresh events [`Native`] was asked to log on this thread, as `event uid sid`.
pub fn logged_refresh_events() -> Vec<String> {
    EVENTS.with(|events| events.borrow().clone())
}

/// The failures [`Native`] was asked to log on this thread, as `doing: error`.
pub fn logged_failures() -> Vec<String> {
    LOGGED.with(|logged| logged.borrow().clone())
}

/// The moment of the original document's example, 2023-12-16 09:35:20 UTC, in ms.
pub const NOW_MS: u64 = 1_702_719_320_000;

/// An app over fresh stand-ins, with the settings `vars` give (besides test secrets and a
/// cheap password hash), its clock at [`NOW_MS`].
pub fn app_with(vars: &[(&str, &str)]) -> App<Native> {
    let defaults = [
        ("JWT_SECRET", "a test secret that is long enough!"),
        ("SMS_CODE_SECRET", "a test code secret that is long enough"),
        ("PBKDF2_ITERATIONS", "1000"),
    ];
    let lookup = |name: &str| {
        let given = vars.iter().chain(&defaults).find(|(key, _)| *key == name);
        given.map(|(_, value)| value.to_string())
    };
    let settings = Settings::from_lookup(lookup).unwrap();
    let crypto = NativePbkdf2.crypto();
    let secret =
        settings.sms.code_secret.as_ref().map(|s| secrecy::ExposeSecret::expose_secret(s).to_string());
    App {
        keys: KeyRing::from_settings(&settings.jwt_keys, crypto).unwrap(),
        seal: CodeSeal::new(crypto, secret.unwrap_or_default().as_bytes()).unwrap(),
        session_policy: SessionPolicy::from_settings(&settings),
        gate_policy: CodeGatePolicy::from_settings(&settings.sms),
        recent_users: RecentUsers::new(settings.status_user_cache_seconds),
        recent_revocations: RecentRevocations::new(settings.status_revocation_cache_seconds),
        keys_given: Default::default(),
        users: MemoryUsers::default(),
        sessions: MemorySessions::default(),
        gate: MemoryCodeGate::issuing(),
        limiter: MemoryLimiter::default(),
        revocations: MemoryRevocations::default(),
        families: MemoryFamilies::default(),
        human_check: None,
        events: Some(RecordingEvents::default()),
        kdf: CountingPbkdf2::default(),
        clock: ManualClock(Cell::new(NOW_MS)),
        rng: SecureRandom,
        names: NativeUnicode,
        codes: MemoryCodes::default(),
        sender: RecordingSender::default(),
        settings,
    }
}

/// [`app_with`] the default settings.
pub fn app() -> App<Native> {
    app_with(&[])
}

/// For the use cases that leave work for after the answer, which may hold on to the app:
/// a test's app lives as long as the test's process.
pub fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// The events queued, in order: every test app reports them (as if `EVENTS_WEBHOOK_URL`
/// were set), so that each use case's tests can check its events.
#[derive(Clone, Default)]
pub struct RecordingEvents(std::rc::Rc<RefCell<Vec<QueuedEvent>>>);

impl EventQueue for RecordingEvents {
    async fn enqueue(&self, event: &QueuedEvent) -> Result<(), Fault> {
        self.0.borrow_mut().push(event.clone());
        Ok(())
    }
}

impl RecordingEvents {
    /// The payloads queued so far, parsed.
    pub fn payloads(&self) -> Vec<serde_json::Value> {
        self.0.borrow().iter().map(|event| serde_json::from_str(&event.payload).unwrap()).collect()
    }

    /// The types queued so far.
    pub fn types(&self) -> Vec<String> {
        self.0.borrow().iter().map(|event| event.type_name.clone()).collect()
    }

    /// The ids queued so far.
    pub fn ids(&self) -> Vec<String> {
        self.0.borrow().iter().map(|event| event.id.clone()).collect()
    }
}

/// Work left for after the answer, kept until the test runs it.
#[derive(Default)]
pub struct Deferrals(RefCell<Vec<(&'static str, Deferred)>>);

impl AfterAnswer for Deferrals {
    fn defer(&self, doing: &'static str, work: Deferred) {
        self.0.borrow_mut().push((doing, work));
    }
}

impl Deferrals {
    /// What was left so far, by what it does.
    pub fn doings(&self) -> Vec<&'static str> {
        self.0.borrow().iter().map(|(doing, _)| *doing).collect()
    }

    /// Runs what was left so far, as the runtime does once the answer is out; a failure
    /// fails the test.
    pub fn run(&self) {
        let work: Vec<_> = self.0.borrow_mut().drain(..).collect();
        for (doing, work) in work {
            pollster::block_on(work).unwrap_or_else(|error| panic!("{doing}: {error}"));
        }
    }
}

/// A call from `ip` whose work after the answer goes to `deferrals`.
pub fn call_from<'a>(ip: &str, deferrals: &'a Deferrals) -> Call<'a> {
    Call { caller: Caller::at(Some(ip)), after_answer: deferrals, device: &test_device }
}

/// The device every test call comes from.
pub fn test_device() -> Device {
    Device::describe(Some("test-agent/1.0"), Some("CN"), Some("1.2.3.4"))
}

/// A clock the test sets.
pub struct ManualClock(pub Cell<u64>);

impl ManualClock {
    pub fn set(&self, millis: u64) {
        self.0.set(millis);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> u64 {
        self.0.get()
    }
}

/// PBKDF2 by the `pbkdf2` crate, noting the iteration count of every derivation.
#[derive(Default)]
pub struct CountingPbkdf2(pub RefCell<Vec<u32>>);

impl CountingPbkdf2 {
    /// The iteration counts derived so far, forgotten.
    pub fn take(&self) -> Vec<u32> {
        self.0.borrow_mut().drain(..).collect()
    }
}

impl Pbkdf2 for CountingPbkdf2 {
    async fn derive(&self, password: &[u8], salt: &[u8], iterations: u32) -> Result<[u8; 32], Fault> {
        self.0.borrow_mut().push(iterations);
        NativePbkdf2.derive(password, salt, iterations).await
    }

    fn crypto(&self) -> &'static dyn Crypto {
        NativePbkdf2.crypto()
    }
}

#[derive(Default)]
pub struct MemoryUsers {
    /// (account key, phone, user)
    rows: RefCell<Vec<(String, String, StoredUser)>>,
}

impl MemoryUsers {
    /// One user, id 1, with this account, phone and password hashed natively at
    /// `iterations`.
    pub fn with_user(account: &str, phone: &str, password: &str, iterations: u32) -> MemoryUsers {
        let users = MemoryUsers::default();
        let user = NewUser {
            account: Account::parse(account).unwrap(),
            account_key: username_key(account, &NativeUnicode).unwrap(),
            phone: Phone::parse(phone).unwrap(),
            password_hash: Some(native_hash(password, iterations)),
        };
        assert_eq!(pollster::block_on(users.create(&user, 0)).unwrap(), Created::User(1));
        users
    }

    /// Adds an account made before keys (migration 0002 gave none to a name beyond
    /// printable ASCII): found only by its exact name.
    pub fn insert_keyless(&self, account: &str, phone: &str, password: &str, iterations: u32) -> u64 {
        let mut rows = self.rows.borrow_mut();
        let id = rows.len() as u64 + 1;
        let user = StoredUser {
            id,
            account: account.to_string(),
            phone: Phone::parse(phone).unwrap().e164().to_string(),
            password_hash: native_hash(password, iterations).encode(),
            disabled: false,
            roles: vec!["1".into()],
            sessions_not_before_ms: 0,
            kept_sid: None,
            delete_after_ms: None,
        };
        rows.push((String::new(), Phone::parse(phone).unwrap().e164().to_string(), user));
        id
    }

    pub fn count(&self) -> usize {
        self.rows.borrow().len()
    }

    /// Puts a user with this id and roles in place (replacing one with the same id).
    pub fn insert_user(&self, id: u64, roles: Vec<String>) {
        let mut rows = self.rows.borrow_mut();
        rows.retain(|(_, _, user)| user.id != id);
        let user = StoredUser {
            id,
            account: format!("user{id}"),
            phone: format!("+{id}"),
            password_hash: String::new(),
            disabled: false,
            roles,
            sessions_not_before_ms: 0,
            kept_sid: None,
            delete_after_ms: None,
        };
        rows.push((format!("user{id}"), format!("+{id}"), user));
    }

    pub fn disable(&self, id: u64) {
        for (_, _, user) in self.rows.borrow_mut().iter_mut().filter(|(_, _, user)| user.id == id) {
            user.disabled = true;
        }
    }
}

impl UserStore for MemoryUsers {
    async fn create(&self, user: &NewUser, _now_seconds: u64) -> Result<Created, Fault> {
        let mut rows = self.rows.borrow_mut();
        let account = user.account_key.clone();
        if rows.iter().any(|(a, p, _)| *a == account || p == user.phone.e164()) {
            return Ok(Created::Taken);
        }
        let id = rows.len() as u64 + 1;
        let stored = StoredUser {
            id,
            account: user.account.as_str().to_string(),
            phone: user.phone.e164().to_string(),
            password_hash: PasswordHash::stored(user.password_hash.as_ref()),
            disabled: false,
            roles: vec!["1".into()],
            sessions_not_before_ms: 0,
            kept_sid: None,
            delete_after_ms: None,
        };
        rows.push((account, user.phone.e164().to_string(), stored));
        Ok(Created::User(id))
    }

    /// As D1 finds them: by the key, or a row without one (kept as `""`) by its name, the
    /// account of exactly the name typed first.
    async fn find_by_account(&self, account: &AccountLookup) -> Result<Option<StoredUser>, Fault> {
        let rows = self.rows.borrow();
        let found = |(key, _, user): &&(String, String, StoredUser)| {
            account.key.as_ref() == Some(key) || (key.is_empty() && user.account == account.name)
        };
        let exact = rows.iter().filter(found).find(|(_, _, user)| user.account == account.name);
        Ok(exact.or_else(|| rows.iter().find(found)).map(|(_, _, user)| user.clone()))
    }

    async fn find_by_id(&self, id: u64) -> Result<Option<StoredUser>, Fault> {
        Ok(self.rows.borrow().iter().find(|(_, _, user)| user.id == id).map(|(_, _, user)| user.clone()))
    }

    async fn find_by_phone(&self, phone: &Phone) -> Result<Option<StoredUser>, Fault> {
        let rows = self.rows.borrow();
        Ok(rows.iter().find(|(_, p, _)| p == phone.e164()).map(|(_, _, user)| user.clone()))
    }

    async fn keyless(&self, after_id: u64, limit: u32) -> Result<Vec<(u64, String)>, Fault> {
        let rows = self.rows.borrow();
        let keyless = rows.iter().filter(|(key, _, user)| key.is_empty() && user.id > after_id);
        Ok(keyless.take(limit as usize).map(|(_, _, user)| (user.id, user.account.clone())).collect())
    }

    async fn give_keys(&self, keys: &[(u64, String)]) -> Result<(), Fault> {
        let mut rows = self.rows.borrow_mut();
        for (id, key) in keys {
            if rows.iter().any(|(held, _, _)| held == key) {
                continue;
            }
            if let Some(row) = rows.iter_mut().find(|(held, _, user)| held.is_empty() && user.id == *id) {
                row.0 = key.clone();
            }
        }
        Ok(())
    }

    async fn upgrade_password_hash(
        &self,
        id: u64,
        verified: &str,
        stronger: &PasswordHash,
    ) -> Result<(), Fault> {
        let mut rows = self.rows.borrow_mut();
        let still_verified =
            rows.iter_mut().filter(|(_, _, user)| user.id == id && user.password_hash == verified);
        for (_, _, user) in still_verified {
            user.password_hash = stronger.encode();
        }
        Ok(())
    }

    async fn replace_password(&self, id: u64, hash: &PasswordHash, not_before_ms: u64) -> Result<u64, Fault> {
        for (_, _, user) in self.rows.borrow_mut().iter_mut().filter(|(_, _, user)| user.id == id) {
            user.password_hash = hash.encode();
        }
        Ok(self.end_sessions(id, not_before_ms, None).await?.unwrap_or_default())
    }

    async fn end_sessions(
        &self,
        id: u64,
        not_before_ms: u64,
        kept: Option<&KeptSession>,
    ) -> Result<Option<u64>, Fault> {
        let mut rows = self.rows.borrow_mut();
        let Some((_, _, user)) = rows.iter_mut().find(|(_, _, user)| user.id == id) else {
            return Ok(Some(0));
        };
        let still_the_users = |kept: &KeptSession| {
            kept.epoch == user.sessions_not_before_ms || user.kept_sid.as_deref() == Some(kept.sid.as_str())
        };
        if kept.is_some_and(|kept| !still_the_users(kept)) {
            return Ok(None);
        }
        user.sessions_not_before_ms = (user.sessions_not_before_ms + 1).max(not_before_ms);
        user.kept_sid = kept.map(|kept| kept.sid.clone());
        Ok(Some(user.sessions_not_before_ms))
    }

    async fn schedule_deletion(
        &self,
        id: u64,
        delete_after_ms: u64,
        not_before_ms: u64,
    ) -> Result<(), Fault> {
        for (_, _, user) in self.rows.borrow_mut().iter_mut().filter(|(_, _, user)| user.id == id) {
            user.delete_after_ms = Some(delete_after_ms);
        }
        self.end_sessions(id, not_before_ms, None).await.map(|_| ())
    }

    async fn change_phone(
        &self,
        id: u64,
        phone: &Phone,
        not_before_ms: u64,
        kept: &KeptSession,
    ) -> Result<PhoneChange, Fault> {
        if self.rows.borrow().iter().any(|(_, p, _)| p == phone.e164()) {
            return Ok(PhoneChange::Taken);
        }
        if self.end_sessions(id, not_before_ms, Some(kept)).await?.is_none() {
            return Ok(PhoneChange::SessionEnded);
        }
        for (_, p, user) in self.rows.borrow_mut().iter_mut().filter(|(_, _, user)| user.id == id) {
            *p = phone.e164().to_string();
            user.phone = phone.e164().to_string();
        }
        Ok(PhoneChange::Changed)
    }

    async fn cancel_deletion(&self, id: u64, now_ms: u64) -> Result<bool, Fault> {
        let mut rows = self.rows.borrow_mut();
        let waiting =
            rows.iter_mut().find(|(_, _, user)| user.id == id && user.delete_after_ms > Some(now_ms));
        Ok(waiting.map(|(_, _, user)| user.delete_after_ms = None).is_some())
    }

    async fn due_for_deletion(
        &self,
        now_ms: u64,
        after_id: u64,
        limit: u32,
    ) -> Result<Vec<StoredUser>, Fault> {
        let rows = self.rows.borrow();
        let due = rows
            .iter()
            .filter(|(_, _, user)| user.id > after_id && user.delete_after_ms.is_some_and(|at| at <= now_ms));
        Ok(due.take(limit as usize).map(|(_, _, user)| user.clone()).collect())
    }

    async fn purge(&self, id: u64, now_ms: u64) -> Result<bool, Fault> {
        let mut rows = self.rows.borrow_mut();
        let before = rows.len();
        rows.retain(|(_, _, user)| !(user.id == id && user.delete_after_ms.is_some_and(|at| at <= now_ms)));
        Ok(rows.len() < before)
    }
}

/// The sessions as D1 keeps them: a record per session, an ended one kept.
#[derive(Default)]
pub struct MemorySessions(pub RefCell<Vec<(SessionRecord, bool)>>);

impl SessionStore for MemorySessions {
    async fn record(&self, session: &SessionRecord) -> Result<(), Fault> {
        let mut rows = self.0.borrow_mut();
        if !rows.iter().any(|(row, _)| row.sid == session.sid) {
            rows.push((session.clone(), false));
        }
        Ok(())
    }

    async fn touch(&self, sid: &str, now_ms: u64, expires_ms: u64, epoch: u64) -> Result<(), Fault> {
        let mut rows = self.0.borrow_mut();
        let stale = |row: &SessionRecord| row.last_used_ms + 60_000 <= now_ms || row.epoch < epoch;
        for (row, _) in rows.iter_mut().filter(|(row, ended)| row.sid == sid && !ended && stale(row)) {
            row.last_used_ms = now_ms;
            row.expires_ms = row.expires_ms.max(expires_ms);
            row.epoch = row.epoch.max(epoch);
        }
        Ok(())
    }

    async fn end(&self, uid: u64, sid: &str, until_ms: u64) -> Result<(), Fault> {
        let mut rows = self.0.borrow_mut();
        match rows.iter_mut().find(|(row, _)| row.sid == sid) {
            Some((_, ended)) => *ended = true,
            None => {
                let tombstone = SessionRecord {
                    sid: sid.into(),
                    uid,
                    epoch: 0,
                    created_ms: 0,
                    last_used_ms: 0,
                    expires_ms: until_ms,
                    device: Device::default(),
                };
                rows.push((tombstone, true));
            }
        }
        Ok(())
    }

    async fn of_user(&self, uid: u64, now_ms: u64) -> Result<Vec<SessionRecord>, Fault> {
        let rows = self.0.borrow();
        let mut live: Vec<SessionRecord> = rows
            .iter()
            .filter(|(row, ended)| row.uid == uid && !ended && row.expires_ms > now_ms)
            .map(|(row, _)| row.clone())
            .collect();
        live.sort_by_key(|row| std::cmp::Reverse(row.created_ms));
        live.truncate(SESSIONS_LISTED as usize);
        Ok(live)
    }

    async fn forget_expired(&self, now_ms: u64) -> Result<(), Fault> {
        self.0.borrow_mut().retain(|(row, _)| row.expires_ms > now_ms);
        Ok(())
    }
}

/// A password hash made natively at `iterations`, without pepper.
pub fn native_hash(password: &str, iterations: u32) -> PasswordHash {
    let policy = PasswordPolicy::new(iterations);
    pollster::block_on(PasswordHash::create(&NativePbkdf2, &SecureRandom, password, &policy)).unwrap()
}

#[derive(Default)]
pub struct MemoryCodes {
    entries: RefCell<HashMap<String, String>>,
    /// Every read gives way once before answering, as a KV read inside a Durable Object
    /// lets other requests run.
    pub yielding: Cell<bool>,
    /// The reads so far.
    pub reads: Cell<u32>,
}

impl MemoryCodes {
    pub fn is_empty(&self) -> bool {
        self.entries.borrow().is_empty()
    }

    /// Every value stored, for checking what KV would hold.
    pub fn values(&self) -> Vec<String> {
        self.entries.borrow().values().cloned().collect()
    }
}

/// Where this stand-in keeps a code (the KV store names its keys in `kv_stores::code_key`).
fn entry(phone: &Phone, code_id: &str) -> String {
    format!("{}:{code_id}", phone.e164())
}

impl CodeStore for MemoryCodes {
    async fn put(&self, phone: &Phone, code_id: &str, sealed_code: &str, _ttl: u64) -> Result<(), Fault> {
        self.entries.borrow_mut().insert(entry(phone, code_id), sealed_code.to_string());
        Ok(())
    }

    async fn get(&self, phone: &Phone, code_id: &str) -> Result<Option<String>, Fault> {
        self.reads.set(self.reads.get() + 1);
        if self.yielding.get() {
            YieldOnce(false).await;
        }
        Ok(self.entries.borrow().get(&entry(phone, code_id)).cloned())
    }

    async fn delete(&self, phone: &Phone, code_id: &str) -> Result<(), Fault> {
        self.entries.borrow_mut().remove(&entry(phone, code_id));
        Ok(())
    }
}

/// A future that is pending once, then ready.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

#[derive(Default)]
pub struct MemoryCodeGateStorage(pub RefCell<CodeGateState>, pub RefCell<RememberedCode>);

impl MemoryCodeGateStorage {
    /// Forgets what memory held, as an object unloaded and loaded again does.
    pub fn unload(&self) {
        *self.1.borrow_mut() = RememberedCode::default();
    }
}

impl CodeGateStorage for MemoryCodeGateStorage {
    async fn load(&self) -> Result<CodeGateState, Fault> {
        Ok(self.0.borrow().clone())
    }

    async fn save(&self, state: &CodeGateState) -> Result<(), Fault> {
        *self.0.borrow_mut() = state.clone();
        Ok(())
    }

    fn remember(&self, code_id: &str, sealed: Option<&str>) {
        *self.1.borrow_mut() = RememberedCode::of(code_id, sealed);
    }

    fn recall(&self, code_id: &str) -> Option<Option<String>> {
        self.1.borrow().recall(code_id)
    }
}

/// Records what it sends; can be told to fail once.
#[derive(Default)]
pub struct RecordingSender {
    sent: RefCell<Vec<(Phone, SmsCode)>>,
    fail_next: Cell<bool>,
}

impl RecordingSender {
    pub fn sent(&self) -> Vec<(Phone, SmsCode)> {
        self.sent.borrow().clone()
    }

    pub fn fail_next(&self) {
        self.fail_next.set(true);
    }
}

impl SmsSender for RecordingSender {
    async fn send(&self, sms: &Sms<'_>) -> Result<(), DeliveryError> {
        if self.fail_next.replace(false) {
            return Err(DeliveryError::Refused("provider said no".into()));
        }
        self.sent.borrow_mut().push((sms.phone.clone(), sms.code.clone()));
        Ok(())
    }
}

/// A gate holding one known code for one phone and purpose (every new send is refused
/// with 50017), or one that issues a code to every send.
pub struct MemoryCodeGate {
    phone: Phone,
    code: SmsCode,
    purpose: Cell<CodePurpose>,
    used: Cell<bool>,
    issuing: bool,
    issued: Cell<usize>,
    last_purpose: Cell<Option<CodePurpose>>,
    decoys: Cell<usize>,
    /// Giving a code back fails, as an object that cannot be reached does.
    pub broken: Cell<bool>,
}

impl MemoryCodeGate {
    pub fn with_code(phone: &str, code: &str) -> Self {
        MemoryCodeGate::with_code_for(phone, code, CodePurpose::Register)
    }

    pub fn with_code_for(phone: &str, code: &str, purpose: CodePurpose) -> Self {
        MemoryCodeGate {
            phone: Phone::parse(phone).unwrap(),
            code: SmsCode::parse(code).unwrap(),
            purpose: Cell::new(purpose),
            used: Cell::new(false),
            issuing: false,
            issued: Cell::new(0),
            last_purpose: Cell::new(None),
            decoys: Cell::new(0),
            broken: Cell::new(false),
        }
    }

    pub fn issuing() -> Self {
        MemoryCodeGate { issuing: true, ..MemoryCodeGate::with_code("13900000000", "000000") }
    }

    /// How many codes it issued.
    pub fn issued(&self) -> usize {
        self.issued.get()
    }

    /// The purpose of the last code it issued.
    pub fn issued_for(&self) -> Option<CodePurpose> {
        self.last_purpose.get()
    }

    /// How many decoys it was asked for.
    pub fn decoys(&self) -> usize {
        self.decoys.get()
    }

    pub fn consumed(&self) -> bool {
        self.used.get()
    }

    /// The phone is sent the same code again, for `purpose`.
    pub fn resend_for(&self, purpose: CodePurpose) {
        self.purpose.set(purpose);
        self.used.set(false);
    }
}

impl CodeGate for MemoryCodeGate {
    async fn issue(
        &self,
        _phone: &Phone,
        purpose: CodePurpose,
        _caller: &Caller,
    ) -> Result<SmsCode, ApiError> {
        if !self.issuing {
            return Err(ApiError::SmsStillLive);
        }
        self.issued.set(self.issued.get() + 1);
        self.last_purpose.set(Some(purpose));
        Ok(self.code.clone())
    }

    async fn issue_decoy(&self, _phone: &Phone, _caller: &Caller) -> Result<(), ApiError> {
        if !self.issuing {
            return Err(ApiError::SmsStillLive);
        }
        self.decoys.set(self.decoys.get() + 1);
        Ok(())
    }

    async fn take(
        &self,
        phone: &Phone,
        code: &SmsCode,
        purpose: CodePurpose,
        _caller: &Caller,
    ) -> Result<Claim, ApiError> {
        let right = *phone == self.phone && self.code.matches(code) && purpose == self.purpose.get();
        if !right || self.used.get() {
            return Err(ApiError::WrongSmsCode);
        }
        self.used.set(true);
        Ok(Claim("the claim".into()))
    }

    async fn give_back(&self, _phone: &Phone, _claim: &Claim) -> Result<(), ApiError> {
        if self.broken.get() {
            return Err(Fault::Protocol("the gate cannot be reached".into()).into());
        }
        self.used.set(false);
        Ok(())
    }
}

#[derive(Default)]
pub struct MemoryRevocations(RefCell<Vec<String>>);

impl RevocationList for MemoryRevocations {
    async fn revoke(&self, session_id: &str, _ttl_seconds: u64) -> Result<(), Fault> {
        self.0.borrow_mut().push(session_id.to_string());
        Ok(())
    }

    async fn is_revoked(&self, session_id: &str) -> Result<bool, Fault> {
        Ok(self.0.borrow().iter().any(|sid| sid == session_id))
    }
}

/// Turnstile's siteverify as the tests need it: `good` passes, `broken` cannot be checked
/// (a fault), anything else is refused. It keeps the addresses it was asked about.
#[derive(Default)]
pub struct MemoryHumanCheck {
    pub asked_for: RefCell<Vec<Option<String>>>,
}

impl HumanCheck for MemoryHumanCheck {
    async fn verify(&self, token: &str, remote_ip: Option<&str>) -> Result<Verdict, Fault> {
        self.asked_for.borrow_mut().push(remote_ip.map(str::to_string));
        match token {
            "good" => Ok(Verdict::Passed),
            "broken" => Err(Fault::Protocol("siteverify answered nonsense".into())),
            _ => Ok(Verdict::Refused("invalid-input-response".into())),
        }
    }
}

/// Sliding windows per key, at a time the test sets.
#[derive(Default)]
pub struct MemoryLimiter {
    pub now_millis: Cell<u64>,
    windows: RefCell<HashMap<String, SlidingWindow>>,
}

impl MemoryLimiter {
    fn window<T>(&self, key: &str, change: impl FnOnce(&mut SlidingWindow, u64) -> T) -> T {
        let mut windows = self.windows.borrow_mut();
        change(windows.entry(key.to_string()).or_default(), self.now_millis.get())
    }
}

impl RateLimiter for MemoryLimiter {
    async fn take(&self, key: &str, limit: Limit) -> Result<u64, ApiError> {
        self.window(key, |window, now| {
            window
                .try_record(now, limit)
                .map(|()| now)
                .map_err(|retry_after_seconds| ApiError::RateLimited { retry_after_seconds })
        })
    }

    async fn give_back(&self, key: &str, stamp: u64) -> Result<(), ApiError> {
        self.window(key, |window, _| window.give_back(stamp));
        Ok(())
    }

    /// Tests run one attempt at a time, so nothing would free a busy window: it refuses
    /// at once, as the Durable Object client does once its wait is over.
    async fn hold(&self, key: &str, limit: Limit) -> Result<u64, ApiError> {
        self.window(key, |window, now| match window.try_hold(now, limit) {
            Ok(()) => Ok(now),
            Err(HoldRefused::Full { retry_after_seconds }) => {
                Err(ApiError::RateLimited { retry_after_seconds })
            }
            Err(HoldRefused::Busy) => Err(ApiError::RateLimited { retry_after_seconds: 1 }),
        })
    }

    async fn settle(&self, key: &str, stamp: u64) -> Result<(), ApiError> {
        self.window(key, |window, _| window.settle(stamp));
        Ok(())
    }

    async fn clear_through(&self, key: &str, stamp: u64) -> Result<(), ApiError> {
        self.window(key, |window, _| window.clear_through(stamp));
        Ok(())
    }

    async fn clear(&self, key: &str) -> Result<(), ApiError> {
        self.window(key, |window, _| window.clear_events());
        Ok(())
    }
}

/// Refresh-token families by session id, at a time the test sets.
#[derive(Default)]
pub struct MemoryFamilies {
    pub now_millis: Cell<u64>,
    families: RefCell<HashMap<String, FamilyState>>,
}

impl RefreshFamilies for MemoryFamilies {
    async fn rotate(&self, sid: &str, presented: &str, fresh: &str) -> Result<Rotation, ApiError> {
        let mut families = self.families.borrow_mut();
        Ok(families.entry(sid.to_string()).or_default().rotate(presented, fresh, self.now_millis.get()))
    }
}

/// An app with one user, `Foo` with the password `old_pass` and the phone
/// [`OneUser::PHONE`], at a standing clock (as a Worker's is between two I/O calls), and
/// the flows the password tests run on it. Failed logins: 3 per account and address.
pub struct OneUser(pub &'static App<Native>);

impl OneUser {
    pub const PHONE: &'static str = "13911119999";

    pub fn new() -> OneUser {
        OneUser::with_gate(MemoryCodeGate::issuing())
    }

    pub fn with_gate(gate: MemoryCodeGate) -> OneUser {
        let users = MemoryUsers::with_user("Foo", OneUser::PHONE, "old_pass", 1_000);
        let limits = [("LOGIN_FAILURES_PER_ACCOUNT_AND_IP", "3"), ("LOGIN_FAILURES_PER_ACCOUNT", "30")];
        OneUser(leak(App { users, gate, ..app_with(&limits) }))
    }

    /// A login of `foo` from 1.2.3.4, its bookkeeping done.
    pub fn log_in(&self, pwd: &str) -> Result<crate::domain::token::TokenPair, ApiError> {
        let request = crate::domain::requests::LoginRequest { account: "foo".into(), pwd: pwd.into() };
        let deferrals = Deferrals::default();
        let outcome =
            pollster::block_on(super::login::log_in(self.0, request, &call_from("1.2.3.4", &deferrals)));
        deferrals.run();
        outcome
    }

    /// Status's verdict on `jwt`.
    pub fn status(&self, jwt: &str) -> Result<(), ApiError> {
        let request = crate::domain::requests::TokenRequest { jwt: jwt.into() };
        pollster::block_on(super::status::status(self.0, request)).map(|_| ())
    }
}
