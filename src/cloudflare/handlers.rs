//! Routing and the endpoint handlers: parse the body, build what the use case needs from
//! the bindings, call it, answer with the envelope.

use futures_util::StreamExt;
use serde_json::{json, Value};
use worker::{Date, Env, Method, Request, Response};

use super::d1_user_store::{D1UserStore, D1_BINDING};
use super::http::{envelope_response, preflight_response, with_cors};
use super::kv_stores::{KvRevocationList, KV_BINDING};
use super::platform::{settings, WorkerClock};
use super::rate_window::{DurableRateWindows, RATE_WINDOW_BINDING};
use super::refresh_family::{DurableRefreshFamilies, REFRESH_FAMILY_BINDING};
use super::sms_gate::{DurableSmsGate, SMS_GATE_BINDING};
use super::web_crypto::WebCryptoPbkdf2;
use crate::app::login::Login;
use crate::app::register::Registration;
use crate::app::send_sms::SmsSending;
use crate::app::session::{SessionPolicy, SessionService};
use crate::domain::endpoint::Endpoint;
use crate::domain::error::{ApiError, ValidationError};
use crate::domain::language::Language;
use crate::domain::random::{random_id, SecureRandom};
use crate::domain::requests::{
    DeactivateRequest, LoginRequest, RegisterRequest, SendSmsRequest, TokenRequest, MAX_BODY_BYTES,
};
use crate::domain::settings::{AllowedOrigins, Settings};
use crate::domain::token::{KeyRing, TokenScope};

/// How much of an oversized body without a declared length is read (and dropped) before
/// answering 413.
const DRAIN_LIMIT_BYTES: usize = 8 << 20;

/// What a route produced: a finished response, or an outcome still to be put in the
/// envelope (in the language the request asked for).
enum Reply {
    Ready(Response, u32),
    Envelope(Result<Value, ApiError>),
}

/// Answers one request. Never fails: every error becomes an envelope.
pub async fn serve(mut req: Request, env: &Env) -> Response {
    let started = Date::now().as_millis();
    let path = req.path();
    let method = req.method();
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let origin = header("Origin");
    let language = Language::negotiate(header("Accept-Language").as_deref());
    // Cloudflare's own request id, which `wrangler tail` and the dashboard show too.
    let request_id = header("cf-ray").unwrap_or_else(|| random_id(&SecureRandom));
    // The client's address, which Cloudflare (and wrangler dev) always sets.
    let caller = Caller { ip: header("CF-Connecting-IP").unwrap_or_else(|| "unknown".into()) };
    let settings = settings(env);
    let allowed_origins = match &settings {
        Ok(settings) => settings.allowed_origins.clone(),
        Err(_) => AllowedOrigins::List(vec![]),
    };

    let reply = match (Endpoint::from_path(&path), method.clone()) {
        (None, _) if path == "/healthz" => health(&method),
        (None, Method::Get) if path == "/openapi.json" => openapi(),
        (None, Method::Get) if path == "/.well-known/jwks.json" => jwks(&settings),
        (None, Method::Get) if path == "/" => demo_page(),
        #[cfg(feature = "bench")]
        (None, _) if path == "/__bench/pbkdf2" => bench_pbkdf2(&settings).await,
        #[cfg(feature = "bench")]
        (None, _) if path == "/__bench/memory" => bench_memory(),
        (None, _) => Reply::Envelope(Err(ApiError::NotFound)),
        (Some(_), Method::Options) => Reply::Ready(preflight_response(), 204),
        (Some(_), method) if method != Method::Post => Reply::Envelope(Err(ApiError::MethodNotAllowed)),
        (Some(endpoint), _) => Reply::Envelope(match settings {
            Ok(settings) => match read_body(&mut req).await {
                Ok(body) => handle(endpoint, &body, &caller, env, &settings).await,
                Err(error) => Err(error),
            },
            Err(reason) => Err(ApiError::internal(format!("configuration: {reason}"))),
        }),
    };
    let (response, code) = match reply {
        Reply::Ready(response, code) => (response, code),
        Reply::Envelope(outcome) => {
            let code = outcome.as_ref().map(|_| 200).unwrap_or_else(ApiError::code);
            (envelope_response(&outcome, language), code)
        }
    };
    let response = with_cors(response, &allowed_origins, origin.as_deref());
    // One line per request, for `wrangler tail`. Never a body: bodies hold passwords,
    // codes and tokens.
    let log = json!({
        "request_id": request_id, "method": method.to_string(), "path": path, "code": code,
        "status": response.status_code(), "ms": Date::now().as_millis().saturating_sub(started),
    });
    worker::console_log!("{log}");
    response
}

/// `GET /healthz`, for monitors: 200 while the Worker serves. Not an envelope route.
fn health(method: &Method) -> Reply {
    match method {
        Method::Get | Method::Head => match Response::from_json(&json!({ "status": "ok" })) {
            Ok(response) => Reply::Ready(response, 200),
            Err(error) => Reply::Envelope(Err(ApiError::internal(error))),
        },
        _ => Reply::Envelope(Err(ApiError::MethodNotAllowed)),
    }
}

/// `GET /`: a page that drives every endpoint from the browser and shows each envelope,
/// for a frontend developer's first look (plain HTML and JavaScript, nothing external).
fn demo_page() -> Reply {
    fixed_document(include_str!("demo.html"), "text/html; charset=utf-8")
}

/// The API's OpenAPI 3.1 document (`api/openapi.json`), which `make test` holds the
/// implementation to with schemathesis.
fn openapi() -> Reply {
    fixed_document(include_str!("../../api/openapi.json"), "application/json; charset=utf-8")
}

/// `GET /.well-known/jwks.json`: the public keys tokens are signed with (EdDSA), so that
/// other services verify tokens without a secret. Empty with HS256, whose keys are secret.
fn jwks(settings: &Result<Settings, String>) -> Reply {
    let keys = match settings {
        Ok(settings) => KeyRing::from_settings(&settings.jwt_keys).map_err(ApiError::internal),
        Err(reason) => Err(ApiError::internal(format!("configuration: {reason}"))),
    };
    let set = match keys {
        Ok(keys) => keys.jwks(),
        Err(error) => return Reply::Envelope(Err(error)),
    };
    let headers = worker::Headers::new();
    let _ = headers.set("Content-Type", "application/jwk-set+json");
    // Verifiers may cache the set; a rotation keeps the old key listed while it verifies.
    let _ = headers.set("Cache-Control", "public, max-age=300");
    match Response::ok(set.to_string()) {
        Ok(response) => Reply::Ready(response.with_headers(headers), 200),
        Err(error) => Reply::Envelope(Err(ApiError::internal(error))),
    }
}

/// A document compiled into the worker, served as it is.
fn fixed_document(body: &'static str, content_type: &str) -> Reply {
    let headers = worker::Headers::new();
    let _ = headers.set("Content-Type", content_type);
    match Response::ok(body) {
        Ok(response) => Reply::Ready(response.with_headers(headers), 200),
        Err(error) => Reply::Envelope(Err(ApiError::internal(error))),
    }
}

/// `make bench` only: one WebCrypto PBKDF2 at the configured iterations and nothing else,
/// the yardstick for `/login/jwt/get`.
#[cfg(feature = "bench")]
async fn bench_pbkdf2(settings: &Result<Settings, String>) -> Reply {
    use crate::domain::password::Pbkdf2;
    let iterations = settings.as_ref().map(|s| s.passwords.iterations).unwrap_or(100_000);
    let outcome = WebCryptoPbkdf2.derive(b"bench password", b"bench salt 16 by", iterations).await;
    Reply::Envelope(outcome.map(|_| json!([])).map_err(ApiError::internal))
}

/// `make bench` only: the size of this isolate's wasm linear memory, which only grows;
/// flat across a run means requests leak nothing on the Rust side.
#[cfg(feature = "bench")]
fn bench_memory() -> Reply {
    use wasm_bindgen::JsCast;
    let bytes = wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map(|memory| memory.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length())
        .unwrap_or(0);
    Reply::Envelope(Ok(json!({ "wasm_memory_bytes": bytes })))
}

/// The body, read no further than the limit: a declared length over it is refused before
/// reading, and a chunked upload as soon as it passes it, so that a huge body can never
/// fill the Worker's 128 MB of memory.
async fn read_body(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    let too_large = ApiError::Invalid(ValidationError::BodyTooLarge);
    let declared =
        req.headers().get("Content-Length").ok().flatten().and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(too_large);
    }
    // No body at all (a POST without one) reads as empty, which is no JSON object.
    let Ok(mut stream) = req.stream() else { return Ok(Vec::new()) };
    let mut body = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        // An unreadable body (a broken upload) is as good as no JSON object.
        let chunk = chunk.map_err(|_| ApiError::Invalid(ValidationError::BodyNotObject))?;
        seen += chunk.len();
        if seen > MAX_BODY_BYTES {
            // Past the limit the rest is read and dropped, up to a bound: answering while
            // the client is still uploading can cost it the answer (seen under wrangler
            // dev as "Network connection lost" instead of the 413).
            if seen > DRAIN_LIMIT_BYTES {
                break;
            }
            continue;
        }
        body.extend_from_slice(&chunk);
    }
    if seen > MAX_BODY_BYTES {
        return Err(too_large);
    }
    Ok(body)
}

/// Who is calling, as far as limits care.
struct Caller {
    ip: String,
}

async fn handle(
    endpoint: Endpoint,
    body: &[u8],
    caller: &Caller,
    env: &Env,
    settings: &Settings,
) -> Result<Value, ApiError> {
    match endpoint {
        Endpoint::SendSms => {
            let request = SendSmsRequest::parse(body)?;
            let sending = SmsSending {
                gate: &sms_gate(env)?,
                limiter: &rate_windows(env)?,
                allowed_country_codes: &settings.sms.allowed_country_codes,
                per_ip: settings.sms.per_ip,
                expose_code: settings.sms.expose_code,
            };
            sending.send(&request, &caller.ip).await
        }
        Endpoint::Register => {
            let request = RegisterRequest::parse(body)?;
            let registration = Registration {
                users: &users(env)?,
                gate: &sms_gate(env)?,
                kdf: &WebCryptoPbkdf2,
                clock: &WorkerClock,
                rng: &SecureRandom,
                passwords: &settings.passwords,
            };
            registration.register(&request).await.map(|()| json!([]))
        }
        Endpoint::GetJwt => {
            let request = LoginRequest::parse(body)?;
            let users = users(env)?;
            let login = Login {
                users: &users,
                kdf: &WebCryptoPbkdf2,
                rng: &SecureRandom,
                passwords: &settings.passwords,
                limiter: &rate_windows(env)?,
                limits: settings.login_limits,
            };
            let (keys, policy, revocations) = session_parts(env, settings)?;
            let sessions = session_service(&keys, &policy, &revocations, &users);
            let pair = login.log_in_limited(&sessions, &request, &caller.ip).await?;
            Ok(json!(pair))
        }
        Endpoint::RefreshJwt => {
            let request = TokenRequest::parse_refresh(body)?;
            let (keys, policy, revocations) = session_parts(env, settings)?;
            let users = users(env)?;
            let sessions = session_service(&keys, &policy, &revocations, &users);
            if settings.refresh_rotation {
                let families = DurableRefreshFamilies(
                    env.durable_object(REFRESH_FAMILY_BINDING).map_err(ApiError::internal)?,
                );
                return Ok(json!(sessions.refresh_rotating(&families, &request.jwt).await?));
            }
            Ok(Value::String(sessions.refresh(&request.jwt).await?))
        }
        Endpoint::DeactivateJwt => {
            let request = DeactivateRequest::parse(body)?;
            let (keys, policy, revocations) = session_parts(env, settings)?;
            let users = users(env)?;
            session_service(&keys, &policy, &revocations, &users)
                .deactivate(&request.jwt, request.scope)
                .await?;
            Ok(json!([]))
        }
        Endpoint::JwtStatus => {
            let request = TokenRequest::parse(body)?;
            let (keys, policy, revocations) = session_parts(env, settings)?;
            let users = users(env)?;
            session_service(&keys, &policy, &revocations, &users).status(&request.jwt).await
        }
    }
}

fn users(env: &Env) -> Result<D1UserStore, ApiError> {
    Ok(D1UserStore(env.d1(D1_BINDING).map_err(ApiError::internal)?))
}

fn rate_windows(env: &Env) -> Result<DurableRateWindows, ApiError> {
    Ok(DurableRateWindows(env.durable_object(RATE_WINDOW_BINDING).map_err(ApiError::internal)?))
}

fn sms_gate(env: &Env) -> Result<DurableSmsGate, ApiError> {
    Ok(DurableSmsGate(env.durable_object(SMS_GATE_BINDING).map_err(ApiError::internal)?))
}

/// The key ring (9999 with a logged reason when a key is missing, short or malformed),
/// the token policy and the revocation list.
fn session_parts(
    env: &Env,
    settings: &Settings,
) -> Result<(KeyRing, SessionPolicy, KvRevocationList), ApiError> {
    let keys = KeyRing::from_settings(&settings.jwt_keys).map_err(ApiError::internal)?;
    let policy = SessionPolicy {
        scope: TokenScope { issuer: settings.jwt_issuer.clone(), audience: settings.jwt_audience.clone() },
        access_ttl_seconds: settings.access_ttl_seconds,
        refresh_ttl_seconds: settings.refresh_ttl_seconds,
        display_utc_offset: settings.display_utc_offset,
    };
    let revocations = KvRevocationList(env.kv(KV_BINDING).map_err(ApiError::internal)?);
    Ok((keys, policy, revocations))
}

type WorkerSessions<'a> = SessionService<'a, KvRevocationList, D1UserStore, WorkerClock, SecureRandom>;

fn session_service<'a>(
    keys: &'a KeyRing,
    policy: &'a SessionPolicy,
    revocations: &'a KvRevocationList,
    users: &'a D1UserStore,
) -> WorkerSessions<'a> {
    SessionService { keys, policy, revocations, users, clock: &WorkerClock, rng: &SecureRandom }
}
