//! Routing: a path and a method select a route; each `/login` endpoint is one line,
//! which parses the body into the endpoint's request type and calls its use case. Then
//! the envelope, CORS, and the log lines an operator needs (see [`super::log`]).

use serde::Serialize;
use serde_json::Value;
use worker::{Context, Date, Env, Request, Response};

use super::body::{let_go_of_unread_body, read_body};
use super::documents;
use super::http::{envelope_response, preflight_response, with_cors, Reply};
use super::log;
use super::startup::{self, Cloudflare, Isolate};
use crate::app::platform::{App, Call};
use crate::app::ports::{AfterAnswer, Deferred};
use crate::app::{
    account_delete, deactivate, login, password_change, password_reset, phone_change, refresh, register,
    send_sms, sessions_list, sms_login, status,
};
use crate::domain::client_address::Caller;
use crate::domain::device::Device;
use crate::domain::endpoint::{Endpoint, Route};
use crate::domain::error::{ApiError, Backend, Fault};
use crate::domain::language::Language;
use crate::domain::random::{random_id, SecureRandom};
use crate::domain::requests::{FromRequest, Headers};
use crate::domain::settings::origin_of;

/// Answers one request. Never fails: every error becomes an envelope.
pub async fn serve(mut req: Request, env: &Env, ctx: &Context) -> Response {
    let isolate = startup::isolate(env);
    let log_requests = matches!(isolate, Ok(app) if app.settings.log_requests);
    let started = log_requests.then(|| Date::now().as_millis());
    // The method as sent: `req.method()` would read an unknown one (`QUERY`) as GET.
    let (path, method) = (req.path(), req.inner().method());
    // Headers are read only where they are used: each read crosses into JavaScript.
    let origin = header(&req, "Origin");

    let allowed_origins = match isolate {
        Ok(app) => &app.settings.allowed_origins,
        Err(broken) => &broken.allowed_origins,
    };
    // The URL as the runtime hands it over, read as text (only for an origin off the
    // list): parsing it with `url` would bring that crate's Unicode tables into the wasm
    // (docs/performance.md, "The request URL as text").
    let own_origin = || origin_of(&req.inner().url()).to_string();
    let from_elsewhere = allowed_origins.refuses(origin.as_deref(), own_origin);
    let reply = route(&mut req, &path, &method, env, isolate, ctx, from_elsewhere).await;
    // Whatever route answered: one that did not read the body must not wait for it.
    let_go_of_unread_body(&mut req).await;
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
struct WaitUntil<'a>(&'a Context);

impl AfterAnswer for WaitUntil<'_> {
    fn defer(&self, doing: &'static str, work: Deferred) {
        self.0.wait_until(async move {
            if let Err(error) = work.await {
                log::unanswered(doing, &error);
            }
        });
    }
}

/// A request's headers as its parsing reads them.
struct RequestHeaders<'a>(&'a Request);

impl Headers for RequestHeaders<'_> {
    fn get(&self, name: &str) -> Option<String> {
        header(self.0, name)
    }
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// The device a login comes from, as its session records it (see [`Device`]).
fn device(req: &Request) -> Device {
    let country = req.cf().and_then(|cf| cf.country());
    let address = header(req, "CF-Connecting-IP");
    Device::describe(header(req, "User-Agent").as_deref(), country.as_deref(), address.as_deref())
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
    isolate: &'static Isolate,
    ctx: &Context,
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
    let page_off = matches!(isolate, Ok(app) if !app.settings.demo_page);
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
            Ok(app) => match read_body(req).await {
                Ok(body) => {
                    let device = || device(req);
                    let call = Call { caller: caller(req), after_answer: &WaitUntil(ctx), device: &device };
                    call_endpoint(app, endpoint, &body, &RequestHeaders(req), &call).await
                }
                Err(error) => Err(error),
            },
        }),
    }
}

/// Each endpoint: its request parsed from the body (and a header the contract allows in
/// place of a field), then its use case. One line each.
async fn call_endpoint(
    app: &'static App<Cloudflare>,
    endpoint: Endpoint,
    body: &[u8],
    headers: &dyn Headers,
    call: &Call<'_>,
) -> Result<Value, ApiError> {
    let request = Incoming { body, headers };
    match endpoint {
        Endpoint::SendSms => data(send_sms::send(app, request.parse()?, call).await),
        Endpoint::Register => data(register::register(app, request.parse()?, call).await),
        Endpoint::GetJwt => data(login::log_in(app, request.parse()?, call).await),
        Endpoint::SmsLogin => data(sms_login::sign_in(app, request.parse()?, call).await),
        Endpoint::RefreshJwt => data(refresh::refresh(app, request.parse()?, call).await),
        Endpoint::DeactivateJwt => data(deactivate::deactivate(app, request.parse()?, call).await),
        Endpoint::JwtStatus => data(status::status(app, request.parse()?).await),
        Endpoint::ResetPassword => data(password_reset::reset(app, request.parse()?, call).await),
        Endpoint::ChangePassword => data(password_change::change(app, request.parse()?, call).await),
        Endpoint::ChangePhone => data(phone_change::change(app, request.parse()?, call).await),
        Endpoint::DeleteAccount => data(account_delete::delete(app, request.parse()?, call).await),
        Endpoint::ListSessions => data(sessions_list::list(app, request.parse()?, call.device).await),
    }
}

/// A request's body and headers, which each endpoint parses into its own request type.
struct Incoming<'a> {
    body: &'a [u8],
    headers: &'a dyn Headers,
}

impl Incoming<'_> {
    fn parse<R: FromRequest>(&self) -> Result<R, ApiError> {
        R::from_request(self.body, self.headers)
    }
}

/// A use case's outcome as the envelope's `data`.
fn data<T: Serialize>(outcome: Result<T, ApiError>) -> Result<Value, ApiError> {
    let value = serde_json::to_value(outcome?);
    value.map_err(|error| Fault::backend(Backend::Runtime, "write an answer", error).into())
}
