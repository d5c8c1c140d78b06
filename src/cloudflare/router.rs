//! Routing: a path and a method select a route; each `/login` endpoint parses its body
//! into its request type and makes one call into the [`Services`]. Then the envelope,
//! CORS, and the log lines an operator needs (see [`super::log`]).

use std::rc::Rc;

use serde_json::Value;
use worker::{Context, Date, Env, Request, Response};

use super::body::read_body;
use super::documents;
use super::http::{envelope_response, preflight_response, with_cors, Reply};
use super::log;
use super::services::{Isolate, Services};
use crate::app::login::LoginAftermath;
use crate::app::Caller;
use crate::domain::endpoint::{Endpoint, Route};
use crate::domain::error::ApiError;
use crate::domain::language::Language;
use crate::domain::random::{random_id, SecureRandom};
use crate::domain::requests::{
    ChangePasswordRequest, DeactivateRequest, LoginRequest, RegisterRequest, ResetPasswordRequest,
    SendSmsRequest, TokenRequest,
};
use crate::domain::settings::origin_of;

/// Answers one request. Never fails: every error becomes an envelope.
pub async fn serve(mut req: Request, env: &Env, ctx: &Context) -> Response {
    let isolate = Services::for_isolate(env);
    let log_requests = matches!(isolate.as_ref(), Ok(services) if services.settings.log_requests);
    let started = log_requests.then(|| Date::now().as_millis());
    // The method as sent: `req.method()` would read an unknown one (`QUERY`) as GET.
    let (path, method) = (req.path(), req.inner().method());
    // Headers are read only where they are used: each read crosses into JavaScript.
    let origin = header(&req, "Origin");
    let after_answer = AfterAnswer { ctx, isolate: Rc::clone(&isolate) };

    let allowed_origins = match isolate.as_ref() {
        Ok(services) => &services.settings.allowed_origins,
        Err(broken) => &broken.allowed_origins,
    };
    // The URL as the runtime hands it over, read as text (only for an origin off the
    // list): parsing it with `url` would bring that crate's Unicode tables into the wasm
    // (about 70 KB gzipped, measured).
    let own_origin = || origin_of(&req.inner().url()).to_string();
    let from_elsewhere = allowed_origins.refuses(origin.as_deref(), own_origin);
    let reply = route(&mut req, &path, &method, env, &isolate, &after_answer, from_elsewhere).await;
    // Cloudflare's own request id, read only when a line is written.
    let request_id = || header(&req, "cf-ray").unwrap_or_else(|| random_id(&SecureRandom));
    let (response, code) = match reply {
        Reply::Ready(response, code) => (response, code),
        Reply::Envelope(outcome) => {
            let code = outcome.as_ref().map(|_| 200).unwrap_or_else(ApiError::code);
            if let Err(error) = &outcome {
                log::failure(error, &path, request_id);
            }
            // Only an error's message has a language.
            let language = match &outcome {
                Ok(_) => Language::default(),
                Err(_) => Language::negotiate(header(&req, "Accept-Language").as_deref()),
            };
            (envelope_response(&outcome, language), code)
        }
    };
    let response = with_cors(response, allowed_origins, origin.as_deref());
    if let Some(started) = started {
        let ms = Date::now().as_millis().saturating_sub(started);
        log::request(&request_id(), &method, &path, code, response.status_code(), ms);
    }
    response
}

/// Work that waits until the answer is out: the runtime keeps the request alive for it
/// (`ctx.wait_until`), and the client does not wait.
struct AfterAnswer<'a> {
    ctx: &'a Context,
    isolate: Rc<Isolate>,
}

impl AfterAnswer<'_> {
    fn settle_login(&self, aftermath: LoginAftermath) {
        if aftermath.is_empty() {
            return;
        }
        let isolate = Rc::clone(&self.isolate);
        self.ctx.wait_until(async move {
            if let Ok(services) = isolate.as_ref() {
                if let Err(error) = services.settle_login(aftermath).await {
                    log::after_answer("settle a login's limits", &error);
                }
            }
        });
    }
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// Who is calling: the client's address, which Cloudflare (and wrangler dev) always sets,
/// as the limits count it.
fn caller(req: &Request) -> Caller {
    Caller::at(header(req, "CF-Connecting-IP").as_deref())
}

async fn route(
    req: &mut Request,
    path: &str,
    method: &str,
    env: &Env,
    isolate: &Isolate,
    after_answer: &AfterAnswer<'_>,
    from_elsewhere: bool,
) -> Reply {
    #[cfg(feature = "bench")]
    match path {
        "/__bench/pbkdf2" => return super::bench::pbkdf2(isolate).await,
        "/__bench/memory" => return super::bench::memory(),
        _ => {}
    }
    let Some(route) = Route::from_path(path) else { return Reply::Envelope(Err(ApiError::NotFound)) };
    // A demo page that is off is no route at all, whatever the method.
    let page_off = matches!(isolate, Ok(services) if !services.settings.demo_page);
    if route == Route::DemoPage && page_off {
        return Reply::Envelope(Err(ApiError::NotFound));
    }
    if !route.takes(method) {
        return Reply::Envelope(Err(ApiError::MethodNotAllowed { allow: route.allow() }));
    }
    match route {
        Route::Health => documents::health(isolate),
        Route::PublicKeys => documents::jwks(isolate),
        Route::DemoPage => documents::demo_page(req, env, isolate).await,
        Route::Document => documents::openapi(req, env).await,
        Route::Login(_) if method == "OPTIONS" => Reply::Ready(preflight_response(), 204),
        // Before the body is read: such a request has no effect at all.
        Route::Login(_) if from_elsewhere => Reply::Envelope(Err(ApiError::OriginNotAllowed)),
        Route::Login(endpoint) => Reply::Envelope(match isolate {
            Err(broken) => Err(broken.error()),
            Ok(services) => match read_body(req).await {
                Ok(body) => call_endpoint(services, endpoint, &body, req, after_answer).await,
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
    req: &Request,
    after_answer: &AfterAnswer<'_>,
) -> Result<Value, ApiError> {
    match endpoint {
        Endpoint::SendSms => {
            let mut request = SendSmsRequest::parse(body)?;
            // A Turnstile token may come as the header the widget's docs name instead.
            if request.turnstile_token.is_none() && services.settings.turnstile.is_some() {
                request.turnstile_token =
                    header(req, "CF-Turnstile-Response").filter(|token| !token.trim().is_empty());
            }
            services.send_sms(request, &caller(req)).await
        }
        Endpoint::Register => services.register(RegisterRequest::parse(body)?, &caller(req)).await,
        Endpoint::GetJwt => {
            let (outcome, aftermath) = services.log_in(LoginRequest::parse(body)?, &caller(req)).await;
            after_answer.settle_login(aftermath);
            outcome
        }
        Endpoint::RefreshJwt => services.refresh(TokenRequest::parse_refresh(body)?).await,
        Endpoint::DeactivateJwt => services.deactivate(DeactivateRequest::parse(body)?).await,
        Endpoint::JwtStatus => services.status(TokenRequest::parse(body)?).await,
        Endpoint::ResetPassword => {
            services.reset_password(ResetPasswordRequest::parse(body)?, &caller(req)).await
        }
        Endpoint::ChangePassword => {
            let request = ChangePasswordRequest::parse(body)?;
            let (outcome, aftermath) = services.change_password(request, &caller(req)).await;
            after_answer.settle_login(aftermath);
            outcome
        }
    }
}
