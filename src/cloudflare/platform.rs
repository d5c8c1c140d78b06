//! The Worker runtime's clock, its vars and secrets, and how a platform error becomes a
//! [`Fault`] that says what was being done.

use std::fmt::Display;

use worker::{Date, Env};

use crate::domain::clock::Clock;
use crate::domain::error::{Backend, Fault};

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

/// A `POST` of `body` to `url` with these headers, made on `web_sys` directly:
/// `worker::Request::new_with_init` converts every option a request can have, which
/// costs 13 KB of wasm for the three this worker sets.
pub fn post_request(url: &str, headers: &[(&str, &str)], body: &str) -> Result<worker::Request, String> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&wasm_bindgen::JsValue::from_str(body));
    if !headers.is_empty() {
        let set = web_sys::Headers::new().map_err(|_| "cannot make headers".to_string())?;
        for (name, value) in headers {
            set.set(name, value).map_err(|_| format!("header {name} is not valid"))?;
        }
        init.set_headers(&set);
    }
    web_sys::Request::new_with_str_and_init(url, &init)
        .map(worker::Request::from)
        .map_err(|_| format!("cannot make a request to {url}"))
}
