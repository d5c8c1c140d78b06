//! The application, built once per isolate: the parsed settings, the key ring, the code
//! seal and the D1, KV and Durable Object implementations of the ports, made from the
//! `Env` on the first request and kept. That relies on vars, secrets and bindings being
//! fixed for an isolate's life: changing one (`wrangler deploy`, `wrangler secret put`)
//! makes a new version of the Worker, which Cloudflare serves from new isolates. Each
//! endpoint is one method, which hands these to its use case.
//!
//! To add an endpoint: its path in `domain::endpoint`, its request type in
//! `domain::requests`, its use case in `app/` (with any new port in `app::ports`), a
//! method here, an arm in `router::call_endpoint`, and the path in `scripts/openapi.py`.

#[cfg(feature = "bench")]
use std::cell::Cell;
use std::cell::OnceCell;
use std::rc::Rc;

use secrecy::ExposeSecret;
use serde_json::{json, Value};
use worker::Env;

use super::d1_user_store::{D1UserStore, D1_BINDING};
use super::durable::ObjectClient;
use super::kv_stores::{KvCodeStore, KvNamespace, KvRevocationList, KV_BINDING};
use super::node_crypto::NodeCrypto;
use super::platform::{env_value, WorkerClock};
use super::rate_window::DurableRateWindows;
use super::refresh_family::DurableRefreshFamilies;
use super::sms_gate::{DurableCodeGate, DurableCodeGateStorage};
use super::sms_sender::ProviderSender;
use super::turnstile::SiteVerify;
use super::unicode::RuntimeUnicode;
use super::web_crypto::WebCryptoPbkdf2;
use crate::app::code_gate::{CodeGateCore, CodeGatePolicy, LEASE_MARGIN_MILLIS};
use crate::app::login::{Login, LoginAftermath};
use crate::app::password::{PasswordChange, PasswordReset};
use crate::app::recent::{RecentRevocations, RecentUsers};
use crate::app::register::Registration;
use crate::app::send_sms::SmsSending;
use crate::app::session::{SessionPolicy, SessionService};
use crate::app::Caller;
use crate::domain::error::ApiError;
use crate::domain::key_ring::KeyRing;
use crate::domain::random::SecureRandom;
use crate::domain::requests::{
    ChangePasswordRequest, DeactivateRequest, LoginRequest, RegisterRequest, ResetPasswordRequest,
    SendSmsRequest, TokenRequest,
};
use crate::domain::settings::{AllowedOrigins, ConfigError, Settings};
use crate::domain::sms_code::{CodeSeal, MIN_CODE_SECRET_BYTES};
use crate::domain::token::TokenScope;

/// What an isolate was built into: the services, or the configuration error it answers
/// every request with.
pub type Isolate = Result<Services, Misconfigured>;

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

/// Everything a request needs, built once.
pub struct Services {
    pub settings: Settings,
    keys: KeyRing,
    session_policy: SessionPolicy,
    users: D1UserStore,
    revocations: KvRevocationList,
    limiter: DurableRateWindows,
    gate: DurableCodeGate,
    families: DurableRefreshFamilies,
    recent_users: RecentUsers,
    recent_revocations: RecentRevocations,
    unicode: RuntimeUnicode,
    human_check: Option<SiteVerify>,
    // What only the `SmsGate` object uses (it runs in an isolate of this Worker too):
    seal: CodeSeal,
    codes: KvCodeStore,
    sender: ProviderSender,
    gate_policy: CodeGatePolicy,
}

thread_local! {
    // An isolate runs on one thread, so a thread-local is the isolate's own.
    static ISOLATE: OnceCell<Rc<Isolate>> = const { OnceCell::new() };
}

#[cfg(feature = "bench")]
thread_local! {
    static TIMES_BUILT: Cell<u32> = const { Cell::new(0) };
}

/// How many times this isolate built its services: 1 once it has served (`make bench`
/// reads it from a bench route; the end-to-end tests count the `isolate_ready` lines).
#[cfg(feature = "bench")]
pub fn times_built() -> u32 {
    TIMES_BUILT.with(Cell::get)
}

type WorkerSessions<'a> =
    SessionService<'a, KvRevocationList, D1UserStore, DurableRefreshFamilies, WorkerClock, SecureRandom>;

type WorkerLogin<'a> =
    Login<'a, D1UserStore, WebCryptoPbkdf2, SecureRandom, DurableRateWindows, WorkerSessions<'a>>;

/// The gate's logic as the `SmsGate` object runs it.
pub type ObjectCodeGate<'a> =
    CodeGateCore<'a, DurableCodeGateStorage, KvCodeStore, ProviderSender, WorkerClock, SecureRandom>;

impl Services {
    /// This isolate's services, built from `env` by the first call.
    pub fn for_isolate(env: &Env) -> Rc<Isolate> {
        ISOLATE.with(|cell| cell.get_or_init(|| Rc::new(Services::build_logged(env))).clone())
    }

    fn build_logged(env: &Env) -> Isolate {
        #[cfg(feature = "bench")]
        TIMES_BUILT.with(|count| count.set(count.get() + 1));
        let built = Services::build(env).map_err(|error| Misconfigured {
            error,
            allowed_origins: AllowedOrigins::from_setting(env_value(env, "CORS_ALLOWED_ORIGINS").as_deref()),
        });
        // Once per isolate: what an operator needs to know about this instance.
        match &built {
            Ok(services) => worker::console_log!(
                "{}",
                json!({ "event": "isolate_ready", "alg": services.keys.signing().algorithm(),
                        "keys": services.keys.key_count() })
            ),
            Err(broken) => worker::console_error!(
                "{}",
                json!({ "event": "misconfigured", "variable": broken.error.variable,
                        "reason": broken.error.reason })
            ),
        }
        built
    }

    fn build(env: &Env) -> Result<Services, ConfigError> {
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
            binding(
                KV_BINDING,
                "KV",
                worker::Error::RustError("no KV namespace is bound by that name".into()),
            )
        })?;
        let session_policy = SessionPolicy {
            scope: TokenScope {
                issuer: settings.jwt_issuer.clone(),
                audience: settings.jwt_audience.clone(),
            },
            access_ttl_seconds: settings.access_ttl_seconds,
            refresh_ttl_seconds: settings.refresh_ttl_seconds,
            display_utc_offset: settings.display_utc_offset,
            rotate_refresh_tokens: settings.refresh_rotation,
        };
        let gate_policy = CodeGatePolicy {
            code_ttl_seconds: settings.sms.code_ttl_seconds,
            max_guesses: settings.sms.max_guesses,
            max_guesses_per_code: settings.sms.max_guesses_per_code,
            per_phone: settings.sms.per_phone,
            lease_millis: settings.sms.provider_timeout_ms + LEASE_MARGIN_MILLIS,
        };
        let sender = ProviderSender {
            provider: settings.sms.provider.clone(),
            timeout_ms: settings.sms.provider_timeout_ms,
        };
        Ok(Services {
            keys,
            session_policy,
            users: D1UserStore(d1),
            revocations: KvRevocationList(kv.clone()),
            limiter: ObjectClient::from_env(env)?,
            gate: ObjectClient::from_env(env)?,
            families: ObjectClient::from_env(env)?,
            recent_users: RecentUsers::new(settings.status_user_cache_seconds),
            recent_revocations: RecentRevocations::new(settings.status_revocation_cache_seconds),
            unicode: RuntimeUnicode::default(),
            human_check: settings.turnstile.clone().map(SiteVerify),
            seal,
            codes: KvCodeStore(kv),
            sender,
            gate_policy,
            settings,
        })
    }

    /// `POST /login/send/sms`
    pub async fn send_sms(&self, request: SendSmsRequest, caller: &Caller) -> Result<Value, ApiError> {
        let sms = &self.settings.sms;
        let sending = SmsSending {
            gate: &self.gate,
            limiter: &self.limiter,
            users: &self.users,
            allowed_country_codes: &sms.allowed_country_codes,
            per_ip: sms.per_ip,
            expose_code: sms.expose_code,
            human_check: self.human_check.as_ref(),
        };
        sending.send(&request, caller).await
    }

    /// `POST /login/register`
    pub async fn register(&self, request: RegisterRequest, caller: &Caller) -> Result<Value, ApiError> {
        let registration = Registration {
            users: &self.users,
            gate: &self.gate,
            limiter: &self.limiter,
            attempts_per_ip: self.settings.sms.attempts_per_ip,
            kdf: &WebCryptoPbkdf2,
            clock: &WorkerClock,
            rng: &SecureRandom,
            passwords: &self.settings.passwords,
            names: &self.unicode,
        };
        registration.register(&request, caller).await.map(|()| json!([]))
    }

    /// `POST /login/jwt/get`: the answer, and the bookkeeping to do once it is out
    /// ([`Services::settle_login`]).
    pub async fn log_in(
        &self,
        request: LoginRequest,
        caller: &Caller,
    ) -> (Result<Value, ApiError>, LoginAftermath) {
        let sessions = self.sessions();
        let (outcome, aftermath) = self.login(&sessions).log_in(&request, caller).await;
        (outcome.map(|pair| json!(pair)), aftermath)
    }

    /// `POST /login/password/reset`
    pub async fn reset_password(
        &self,
        request: ResetPasswordRequest,
        caller: &Caller,
    ) -> Result<Value, ApiError> {
        let reset = PasswordReset {
            users: &self.users,
            gate: &self.gate,
            limiter: &self.limiter,
            attempts_per_ip: self.settings.sms.attempts_per_ip,
            kdf: &WebCryptoPbkdf2,
            rng: &SecureRandom,
            passwords: &self.settings.passwords,
            sessions: &self.sessions(),
            names: &self.unicode,
        };
        reset.reset(&request, caller).await.map(|()| json!([]))
    }

    /// `POST /login/password/change`: the answer, and the password check's bookkeeping
    /// to do once it is out ([`Services::settle_login`]).
    pub async fn change_password(
        &self,
        request: ChangePasswordRequest,
        caller: &Caller,
    ) -> (Result<Value, ApiError>, LoginAftermath) {
        let sessions = self.sessions();
        let login = self.login(&sessions);
        let (outcome, aftermath) = PasswordChange { login: &login }.change(&request, caller).await;
        (outcome.map(|pair| json!(pair)), aftermath)
    }

    /// Ends a login's (or a password check's) holds in the limit windows and stores an
    /// upgraded hash.
    pub async fn settle_login(&self, aftermath: LoginAftermath) -> Result<(), ApiError> {
        self.login(&self.sessions()).settle(aftermath).await
    }

    fn login<'a>(&'a self, sessions: &'a WorkerSessions<'a>) -> WorkerLogin<'a> {
        Login {
            users: &self.users,
            kdf: &WebCryptoPbkdf2,
            rng: &SecureRandom,
            passwords: &self.settings.passwords,
            limiter: &self.limiter,
            limits: self.settings.login_limits,
            sessions,
            names: &self.unicode,
        }
    }

    /// `POST /login/jwt/refresh`
    pub async fn refresh(&self, request: TokenRequest) -> Result<Value, ApiError> {
        self.sessions().refresh(&request.jwt).await.map(|refreshed| json!(refreshed))
    }

    /// `POST /login/jwt/deactivate`
    pub async fn deactivate(&self, request: DeactivateRequest) -> Result<Value, ApiError> {
        self.sessions().deactivate(&request.jwt, request.scope).await.map(|()| json!([]))
    }

    /// `POST /login/jwt/status`
    pub async fn status(&self, request: TokenRequest) -> Result<Value, ApiError> {
        self.sessions().status(&request.jwt).await
    }

    /// `GET /.well-known/jwks.json`
    pub fn jwks(&self) -> Value {
        self.keys.jwks()
    }

    fn sessions(&self) -> WorkerSessions<'_> {
        SessionService {
            keys: &self.keys,
            policy: &self.session_policy,
            revocations: &self.revocations,
            users: &self.users,
            families: &self.families,
            recent_users: &self.recent_users,
            recent_revocations: &self.recent_revocations,
            clock: &WorkerClock,
            rng: &SecureRandom,
        }
    }

    /// The phone gate's logic over one `SmsGate` object's storage.
    pub fn code_gate_core<'a>(&'a self, storage: &'a DurableCodeGateStorage) -> ObjectCodeGate<'a> {
        CodeGateCore {
            state: storage,
            codes: &self.codes,
            sender: &self.sender,
            clock: &WorkerClock,
            rng: &SecureRandom,
            seal: &self.seal,
            policy: self.gate_policy,
        }
    }
}
