//! The composition root: the Cloudflare [`Platform`] (which implementation each port
//! has) and the [`App`] built from the `Env` once per isolate, on its first request, and
//! kept. That relies on vars, secrets and bindings being fixed for an isolate's life:
//! changing one (`wrangler deploy`, `wrangler secret put`) makes a new version of the
//! Worker, which Cloudflare serves from new isolates.

#[cfg(feature = "bench")]
use std::cell::Cell;
use std::cell::OnceCell;

use secrecy::ExposeSecret;
use serde_json::json;
use worker::Env;

use super::d1_sessions::D1Sessions;
use super::d1_user_store::{D1UserStore, D1_BINDING};
use super::durable::ObjectClient;
use super::event_queue::{Queue, EVENTS_BINDING};
use super::kv_stores::{KvCodeStore, KvNamespace, KvRevocationList, KV_BINDING};
use super::log;
use super::node_crypto::NodeCrypto;
use super::platform::{env_value, WorkerClock};
use super::rate_window::DurableRateWindows;
use super::refresh_family::DurableRefreshFamilies;
use super::sms_gate::{DurableCodeGate, DurableCodeGateStorage};
use super::sms_sender::ProviderSender;
use super::turnstile::SiteVerify;
use super::unicode::RuntimeUnicode;
use super::web_crypto::WebCryptoPbkdf2;
use crate::app::platform::{App, Platform};
use crate::app::recent::{RecentRevocations, RecentUsers};
use crate::domain::code_gate_state::CodeGatePolicy;
use crate::domain::error::{ApiError, ConfigError};
use crate::domain::key_ring::KeyRing;
use crate::domain::random::SecureRandom;
use crate::domain::session_policy::SessionPolicy;
use crate::domain::settings::{AllowedOrigins, Settings};
use crate::domain::sms_code::{CodeSeal, MIN_CODE_SECRET_BYTES};

/// The ports as this Worker implements them.
pub enum Cloudflare {}

impl Platform for Cloudflare {
    type Users = D1UserStore;
    type Sessions = D1Sessions;
    type Gate = DurableCodeGate;
    type Limiter = DurableRateWindows;
    type Revocations = KvRevocationList;
    type Families = DurableRefreshFamilies;
    type HumanCheck = SiteVerify;
    type Events = Queue;
    type Kdf = WebCryptoPbkdf2;
    type Clock = WorkerClock;
    type Rng = SecureRandom;
    type Names = RuntimeUnicode;
    type Codes = KvCodeStore;
    type Sender = ProviderSender;
    type GateStorage = DurableCodeGateStorage;

    fn log_failure(doing: &str, error: &ApiError) {
        log::unanswered(doing, error);
    }

    fn log_refresh_event(event: &'static str, uid: u64, sid: &str) {
        log::refresh_event(event, uid, sid);
    }
}

/// What an isolate was built into: the app, or the configuration error it answers every
/// request with.
pub type Isolate = Result<App<Cloudflare>, Misconfigured>;

/// A configuration that cannot serve, kept so that every route can say so: a 9999 on the
/// API (with CORS, so a browser can read it) and a 503 on `/healthz` naming the variable.
pub struct Misconfigured {
    pub error: ConfigError,
    /// `CORS_ALLOWED_ORIGINS` read on its own, which never fails.
    pub allowed_origins: AllowedOrigins,
}

impl Misconfigured {
    /// The envelope's error (its reason is logged, never sent).
    pub fn error(&self) -> ApiError {
        ApiError::from(self.error.clone())
    }
}

thread_local! {
    // An isolate runs on one thread, so a thread-local is the isolate's own. Built once
    // and never dropped, so it is `'static`: work after an answer (`ctx.wait_until`) may
    // hold on to it.
    static ISOLATE: OnceCell<&'static Isolate> = const { OnceCell::new() };
}

#[cfg(feature = "bench")]
thread_local! {
    static TIMES_BUILT: Cell<u32> = const { Cell::new(0) };
}

/// How many times this isolate built its app: 1 once it has served (`make bench` reads it
/// from a bench route; the end-to-end tests count the `isolate_ready` lines).
#[cfg(feature = "bench")]
pub fn times_built() -> u32 {
    TIMES_BUILT.with(Cell::get)
}

/// This isolate's app, built from `env` by the first call.
pub fn isolate(env: &Env) -> &'static Isolate {
    ISOLATE.with(|cell| *cell.get_or_init(|| Box::leak(Box::new(build_logged(env)))))
}

fn build_logged(env: &Env) -> Isolate {
    #[cfg(feature = "bench")]
    TIMES_BUILT.with(|count| count.set(count.get() + 1));
    let built = build(env).map_err(|error| Misconfigured {
        error,
        allowed_origins: AllowedOrigins::from_setting(env_value(env, "CORS_ALLOWED_ORIGINS").as_deref()),
    });
    // Once per isolate: what an operator needs to know about this instance.
    match &built {
        Ok(app) => worker::console_log!(
            "{}",
            json!({ "event": "isolate_ready", "alg": app.keys.signing().algorithm(),
                    "keys": app.keys.key_count() })
        ),
        Err(broken) => worker::console_error!(
            "{}",
            json!({ "event": "misconfigured", "variable": broken.error.variable,
                    "reason": broken.error.reason })
        ),
    }
    built
}

fn build(env: &Env) -> Result<App<Cloudflare>, ConfigError> {
    let settings = Settings::from_lookup(|name| env_value(env, name))?;
    NodeCrypto::check().map_err(|reason| ConfigError::new("nodejs_compat", reason))?;
    let keys = KeyRing::from_settings(&settings.jwt_keys, &NodeCrypto)?;
    let seal = settings
        .sms
        .code_secret
        .as_ref()
        .and_then(|secret| CodeSeal::new(&NodeCrypto, secret.expose_secret().as_bytes()))
        .ok_or_else(|| {
            ConfigError::new(
                "SMS_CODE_SECRET",
                format!("SMS_CODE_SECRET must be set, with at least {MIN_CODE_SECRET_BYTES} bytes"),
            )
        })?;
    let binding = |name: &str, kind: &str, error: worker::Error| {
        ConfigError::new(name, format!("the {kind} binding {name} is missing: {error}"))
    };
    let d1 = env.d1(D1_BINDING).map_err(|e| binding(D1_BINDING, "D1", e))?;
    let kv = KvNamespace::from_env(env, KV_BINDING).ok_or_else(|| {
        binding(KV_BINDING, "KV", worker::Error::RustError("no KV namespace is bound by that name".into()))
    })?;
    // Events need their queue; without EVENTS_WEBHOOK_URL none are reported.
    let events = match settings.events {
        None => None,
        Some(_) => Some(Queue::from_env(env, EVENTS_BINDING).ok_or_else(|| {
            let missing = worker::Error::RustError("no queue is bound by that name".into());
            binding(EVENTS_BINDING, "queue producer", missing)
        })?),
    };
    Ok(App {
        keys,
        seal,
        session_policy: SessionPolicy::from_settings(&settings),
        gate_policy: CodeGatePolicy::from_settings(&settings.sms),
        recent_users: RecentUsers::new(settings.status_user_cache_seconds),
        recent_revocations: RecentRevocations::new(settings.status_revocation_cache_seconds),
        keys_given: Default::default(),
        sessions: D1Sessions(env.d1(D1_BINDING).map_err(|e| binding(D1_BINDING, "D1", e))?),
        users: D1UserStore(d1),
        gate: ObjectClient::from_env(env)?,
        limiter: ObjectClient::from_env(env)?,
        revocations: KvRevocationList(kv.clone()),
        families: ObjectClient::from_env(env)?,
        human_check: settings.turnstile.clone().map(SiteVerify),
        events,
        kdf: WebCryptoPbkdf2,
        clock: WorkerClock,
        rng: SecureRandom,
        names: RuntimeUnicode::default(),
        codes: KvCodeStore(kv),
        sender: ProviderSender::new(settings.sms.providers.clone(), settings.sms.provider_timeout_ms),
        settings,
    })
}
