//! The Worker runtime's clock, its vars and secrets, how a platform error becomes a
//! [`Fault`] that says what was being done, and outgoing POSTs with a deadline.

use std::fmt::Display;
use std::time::Duration;

use futures_util::future::{select, Either};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{Date, Delay, Env};

use crate::domain::clock::Clock;
use crate::domain::error::{Backend, Fault};
use crate::domain::outgoing::{url_origin, OutgoingRequest};

/// The runtime's clock (`Date.now()`). Inside a request it advances only with I/O, as
/// Workers coarsen timers against side channels; that is precise enough for tokens.
#[derive(Debug, Default, Clone, Copy)]
pub struct WorkerClock;

impl Clock for WorkerClock {
    fn now_millis(&self) -> u64 {
        Date::now().as_millis()
    }
}

/// A var or secret by name, `None` when it is not set.
pub fn env_value(env: &Env, name: &str) -> Option<String> {
    env.var(name).or_else(|_| env.secret(name)).ok().map(|value| value.to_string())
}

/// `.or_fault(Backend::D1, "find a user")`: the platform's error, with what was being done.
pub trait OrFault<T> {
    fn or_fault(self, backend: Backend, doing: &str) -> Result<T, Fault>;
}

impl<T, E: Display> OrFault<T> for Result<T, E> {
    fn or_fault(self, backend: Backend, doing: &str) -> Result<T, Fault> {
        self.map_err(|cause| Fault::backend(backend, doing, cause))
    }
}

// The runtime's `fetch`, called directly: `worker::Request::new_with_init` converts every
// option a request can have, code in the wasm for all of them where this worker sets
// three (docs/performance.md, "fetch called directly"), and `worker::Response::text`
// reads a reply chunk by chunk, each chunk a round trip between wasm and JavaScript,
// where the runtime's own `text()` reads it in one.
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(url: &str, init: &web_sys::RequestInit) -> Result<js_sys::Promise, JsValue>;
}

/// POSTs `body` to `url` with these headers and reads the whole reply: its status and text.
async fn post(
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    signal: &web_sys::AbortSignal,
) -> Result<(u16, String), String> {
    let failed = |error: JsValue| worker::Error::from(error).to_string();
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    init.set_signal(Some(signal));
    // A redirect is an answer, not a place to carry the body to: a 3xx stays a 3xx (a
    // failed send), rather than a GET that answers 2xx or the code re-POSTed elsewhere.
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if !headers.is_empty() {
        let set = web_sys::Headers::new().map_err(|_| "cannot make headers".to_string())?;
        for (name, value) in headers {
            set.set(name, value).map_err(|_| format!("header {name} is not valid"))?;
        }
        init.set_headers(&set);
    }
    let response: web_sys::Response =
        JsFuture::from(global_fetch(url, &init).map_err(failed)?).await.map_err(failed)?.unchecked_into();
    let text = JsFuture::from(response.text().map_err(failed)?).await.map_err(failed)?;
    Ok((response.status(), text.as_string().unwrap_or_default()))
}

/// POSTs the request and reads the whole reply, or gives up (and aborts the request)
/// after `timeout_ms`. The error is for the log; it never holds the body sent, nor more of
/// the URL than its origin (an app's webhook URL may carry a token in its path or query).
pub async fn post_within(outgoing: &OutgoingRequest, timeout_ms: u64) -> Result<(u16, String), String> {
    let headers: Vec<(&str, &str)> =
        outgoing.headers.iter().map(|(name, value)| (name.as_ref(), value.as_ref())).collect();
    let controller =
        web_sys::AbortController::new().map_err(|_| "cannot make an AbortController".to_string())?;
    let signal = controller.signal();
    let exchange = post(&outgoing.url, &headers, &outgoing.body, &signal);
    let deadline = Delay::from(Duration::from_millis(timeout_ms));
    let exchange = std::pin::pin!(exchange);
    match select(exchange, deadline).await {
        Either::Left((Ok(reply), _)) => Ok(reply),
        Either::Left((Err(error), _)) => Err(format!("no reply from {}: {error}", url_origin(&outgoing.url))),
        Either::Right(_) => {
            controller.abort();
            Err(format!("no reply from {} within {timeout_ms} ms", url_origin(&outgoing.url)))
        }
    }
}
