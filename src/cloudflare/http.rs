//! HTTP on the way out: the one place where an outcome becomes a response, and CORS.

use serde_json::Value;
use worker::{Headers, Response};

use crate::domain::endpoint::LOGIN_METHODS;
use crate::domain::envelope;
use crate::domain::error::{ApiError, Backend, Fault};
use crate::domain::language::Language;
use crate::domain::settings::AllowedOrigins;

// Setting a header fails only for a name or value that is not valid HTTP. Every name here
// is a constant, and every value a constant, a number, or an origin the allow list already
// matched, so each `let _ = headers.set(..)` below drops a `Result` that cannot be an error.

/// What a preflight may ask for besides the safelisted headers.
const ALLOWED_HEADERS: &str = "Content-Type, Accept-Language, Authorization";

/// What a route produced: a finished response with the code it stands for (for the log),
/// or an outcome still to be put in the envelope, in the language the request asked for.
pub enum Reply {
    Ready(Response, u32),
    Envelope(Result<Value, ApiError>),
}

impl Reply {
    /// A response of `status` with this body and `Content-Type`; plus extra headers.
    pub fn document(body: impl Into<String>, status: u16, headers: &[(&str, &str)]) -> Reply {
        let set = Headers::new();
        for (name, value) in headers {
            let _ = set.set(name, value);
        }
        match Response::ok(body.into()) {
            Ok(response) => Reply::Ready(response.with_status(status).with_headers(set), u32::from(status)),
            Err(error) => {
                Reply::Envelope(Err(Fault::backend(Backend::Runtime, "build a response", error).into()))
            }
        }
    }
}

/// The envelope response for a use case's outcome: status, JSON body, and for errors
/// their extra headers (`Allow` with 9903, `Retry-After` with 9905); never cached. The detail of a 5xx
/// never goes into the body (the router logs it).
pub fn envelope_response(outcome: &Result<Value, ApiError>, language: Language) -> Response {
    let (status, body) = envelope::from_result(outcome, language);
    let headers = Headers::new();
    let _ = headers.set("Content-Type", "application/json; charset=utf-8");
    // Answers carry tokens, codes and a user's data: no cache may keep one (RFC 6749 §5.1
    // asks it of token responses), and an error is no more worth keeping.
    let _ = headers.set("Cache-Control", "no-store");
    if let Err(error) = outcome {
        match error {
            ApiError::MethodNotAllowed { allow } => {
                let _ = headers.set("Allow", allow);
            }
            ApiError::RateLimited { retry_after_seconds } => {
                let _ = headers.set("Retry-After", &retry_after_seconds.to_string());
                // A page on another origin may read it (a client waits that long).
                let _ = headers.set("Access-Control-Expose-Headers", "Retry-After");
            }
            _ => {}
        }
    }
    match Response::from_bytes(body.to_json().into_bytes()) {
        Ok(response) => response.with_status(status).with_headers(headers),
        Err(_) => plain_failure(),
    }
}

/// The answer to a CORS preflight (or any `OPTIONS`) on an endpoint's path.
pub fn preflight_response() -> Response {
    let headers = Headers::new();
    let _ = headers.set("Access-Control-Allow-Methods", LOGIN_METHODS);
    let _ = headers.set("Access-Control-Allow-Headers", ALLOWED_HEADERS);
    let _ = headers.set("Access-Control-Max-Age", "86400");
    let _ = headers.set("Allow", LOGIN_METHODS);
    match Response::empty() {
        Ok(response) => response.with_status(204).with_headers(headers),
        Err(_) => plain_failure(),
    }
}

/// Adds `Access-Control-Allow-Origin` when the request's origin is allowed, and with a
/// list of origins `Vary: Origin` to every answer: it depends on the Origin header (its
/// CORS header, or a refusal), so caches must keep the answers apart.
pub fn with_cors(mut response: Response, allowed: &AllowedOrigins, origin: Option<&str>) -> Response {
    let headers = response.headers_mut();
    if let Some(value) = allowed.allow(origin) {
        let _ = headers.set("Access-Control-Allow-Origin", &value);
    }
    if let AllowedOrigins::List(_) = allowed {
        let _ = headers.set("Vary", "Origin");
    }
    response
}

/// Only if the runtime cannot build a response at all.
fn plain_failure() -> Response {
    Response::error("系统繁忙，请稍后尝试", 500)
        .unwrap_or_else(|_| Response::empty().expect("an empty response"))
}
