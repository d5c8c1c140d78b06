//! Routing: a path and a method select a route; each `/login` endpoint parses its body
//! into its request type and makes one call into the [`Services`]. Then the envelope,
//! CORS and one log line.

use serde_json::{json, Value};
use worker::{Date, Env, Method, Request, Response};

use super::body::read_body;
use super::documents;
use super::http::{envelope_response, preflight_response, with_cors, Reply};
use super::services::{Isolate, Services};
use crate::app::Caller;
use crate::domain::endpoint::Endpoint;
use crate::domain::error::ApiError;
use crate::domain::language::Language;
use crate::domain::random::{random_id, SecureRandom};
use crate::domain::requests::{
    DeactivateRequest, LoginRequest, RegisterRequest, SendSmsRequest, TokenRequest,
};

/// Answers one request. Never fails: every error becomes an envelope.
pub async fn serve(mut req: Request, env: &Env) -> Response {
    let started = Date::now().as_millis();
    let (path, method) = (req.path(), req.method());
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let origin = header("Origin");
    let language = Language::negotiate(header("Accept-Language").as_deref());
    // Cloudflare's own request id, which `wrangler tail` and the dashboard show too.
    let request_id = header("cf-ray").unwrap_or_else(|| random_id(&SecureRandom));
    // The client's address, which Cloudflare (and wrangler dev) always sets.
    let caller = Caller { ip: header("CF-Connecting-IP").unwrap_or_else(|| "unknown".into()) };
    let isolate = Services::for_isolate(env);

    let reply = route(&mut req, &path, &method, &isolate, &caller).await;
    let (response, code) = match reply {
        Reply::Ready(response, code) => (response, code),
        Reply::Envelope(outcome) => {
            let code = outcome.as_ref().map(|_| 200).unwrap_or_else(ApiError::code);
            (envelope_response(&outcome, language), code)
        }
    };
    let allowed_origins = match isolate.as_ref() {
        Ok(services) => &services.settings.allowed_origins,
        Err(broken) => &broken.allowed_origins,
    };
    let response = with_cors(response, allowed_origins, origin.as_deref());
    // One line per request, for `wrangler tail`. Never a body: bodies hold passwords,
    // codes and tokens.
    let log = json!({
        "request_id": request_id, "method": method.to_string(), "path": path, "code": code,
        "status": response.status_code(), "ms": Date::now().as_millis().saturating_sub(started),
    });
    worker::console_log!("{log}");
    response
}

async fn route(req: &mut Request, path: &str, method: &Method, isolate: &Isolate, caller: &Caller) -> Reply {
    let get = *method == Method::Get;
    match Endpoint::from_path(path) {
        None => match path {
            // Monitors may probe with HEAD.
            "/healthz" if get || *method == Method::Head => documents::health(isolate),
            "/openapi.json" if get => documents::openapi(),
            "/.well-known/jwks.json" if get => documents::jwks(isolate),
            "/" if get => documents::demo_page(),
            "/healthz" => Reply::Envelope(Err(ApiError::MethodNotAllowed)),
            #[cfg(feature = "bench")]
            "/__bench/pbkdf2" => super::bench::pbkdf2(isolate).await,
            #[cfg(feature = "bench")]
            "/__bench/memory" => super::bench::memory(),
            _ => Reply::Envelope(Err(ApiError::NotFound)),
        },
        Some(_) if *method == Method::Options => Reply::Ready(preflight_response(), 204),
        Some(_) if *method != Method::Post => Reply::Envelope(Err(ApiError::MethodNotAllowed)),
        Some(endpoint) => Reply::Envelope(match isolate {
            Err(broken) => Err(broken.error()),
            Ok(services) => match read_body(req).await {
                Ok(body) => call_endpoint(services, endpoint, &body, caller).await,
                Err(error) => Err(error),
            },
        }),
    }
}

/// Each endpoint: its body parsed into its request type, then one call.
async fn call_endpoint(
    services: &Services,
    endpoint: Endpoint,
    body: &[u8],
    caller: &Caller,
) -> Result<Value, ApiError> {
    match endpoint {
        Endpoint::SendSms => services.send_sms(SendSmsRequest::parse(body)?, caller).await,
        Endpoint::Register => services.register(RegisterRequest::parse(body)?).await,
        Endpoint::GetJwt => services.log_in(LoginRequest::parse(body)?, caller).await,
        Endpoint::RefreshJwt => services.refresh(TokenRequest::parse_refresh(body)?).await,
        Endpoint::DeactivateJwt => services.deactivate(DeactivateRequest::parse(body)?).await,
        Endpoint::JwtStatus => services.status(TokenRequest::parse(body)?).await,
    }
}
