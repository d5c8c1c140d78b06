//! The one way the Worker talks to a Durable Object. Each object declares a [`Protocol`]:
//! an enum of the calls it takes and the type of its replies. A call is `POST`ed as JSON;
//! the object answers with an [`Answer`]: its reply, or the API error it decided (so a
//! 9905 or 50017 made inside the object reaches the envelope unchanged; a fault inside
//! it arrives as its text, for the log).

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{Env, Request, Response};

use super::platform::OrFault;
use crate::domain::error::ConfigError;
use crate::domain::error::{ApiError, Backend, Fault, WireError};

/// What one kind of object understands.
pub trait Protocol {
    /// The binding name in `wrangler.toml`.
    const BINDING: &'static str;
    /// Every call the object takes.
    type Call: Serialize + DeserializeOwned;
    /// What a call gives back when it succeeds.
    type Reply: Serialize + DeserializeOwned;
}

/// What an object answers. An enum, not two options: a reply may itself be `null`.
#[derive(Debug, Serialize, Deserialize)]
pub enum Answer<T> {
    Reply(T),
    Error(WireError),
}

/// The object's side: reads the call, runs it, answers with its outcome.
pub async fn answer<P, F>(mut req: Request, run: impl FnOnce(P::Call) -> F) -> worker::Result<Response>
where
    P: Protocol,
    F: std::future::Future<Output = Result<P::Reply, ApiError>>,
{
    let outcome = match req.json::<P::Call>().await {
        Ok(call) => run(call).await,
        Err(error) => Err(Fault::Protocol(format!("{} cannot read a call: {error}", P::BINDING)).into()),
    };
    Response::from_json(&match outcome {
        Ok(reply) => Answer::Reply(reply),
        Err(error) => Answer::Error(WireError::from(&error)),
    })
}

// The runtime's namespace and stub, called directly rather than through `worker::Stub`:
// its `Response::text` reads a reply chunk by chunk, each chunk a round trip between wasm
// and JavaScript, where the runtime's own `json()` reads and parses it in one (and
// serde-wasm-bindgen, which `worker` has anyway, maps it: a smaller wasm than serde_json
// reading the text, whose code for each reply type is larger); `getByName` is one call
// where `idFromName` and `get` are two; and `fetch(url, init)` makes no Request object on
// our side. So a login's object calls cost the worker less CPU (docs/performance.md,
// "Objects' answers through serde-wasm-bindgen" and "Durable Object calls").
#[wasm_bindgen]
extern "C" {
    type Namespace;
    #[wasm_bindgen(method, catch, js_name = getByName)]
    fn get_by_name(this: &Namespace, name: &str) -> Result<ObjectStub, JsValue>;

    type ObjectStub;
    #[wasm_bindgen(method, catch)]
    fn fetch(this: &ObjectStub, url: &str, init: &web_sys::RequestInit) -> Result<js_sys::Promise, JsValue>;
}

/// The Worker's side: calls objects of one kind by name.
pub struct ObjectClient<P> {
    namespace: Namespace,
    protocol: PhantomData<P>,
}

impl<P: Protocol> ObjectClient<P> {
    /// The client for the binding; a missing binding is a configuration error.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let namespace = env.durable_object(P::BINDING).map_err(|error| {
            ConfigError::new(
                P::BINDING,
                format!("the Durable Object binding {} is missing: {error}", P::BINDING),
            )
        })?;
        Ok(ObjectClient { namespace: JsValue::from(namespace).unchecked_into(), protocol: PhantomData })
    }

    /// Sends `call` to the object named `name` and returns its reply or its error.
    pub async fn call(&self, name: &str, call: &P::Call) -> Result<P::Reply, ApiError> {
        let doing = format!("call {}", P::BINDING);
        let body = serde_json::to_string(call).or_fault(Backend::Runtime, &doing)?;
        let answer = post_to_object(&self.namespace, name, P::BINDING, body).await?;
        match serde_wasm_bindgen::from_value(answer).or_fault(Backend::DurableObject, &doing)? {
            Answer::Reply(reply) => Ok(reply),
            Answer::Error(error) => Err(error.into()),
        }
    }
}

/// The part of a call that does not depend on the protocol, compiled once rather than
/// once per object kind: POSTs `body` to the object named `name`, returns its answer.
async fn post_to_object(
    namespace: &Namespace,
    name: &str,
    binding: &str,
    body: String,
) -> Result<JsValue, Fault> {
    let failed = |error: JsValue| {
        Fault::backend(Backend::DurableObject, &format!("call {binding}"), format!("{error:?}"))
    };
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&body));
    let stub = namespace.get_by_name(name).map_err(failed)?;
    let sent = stub.fetch(&format!("https://durable-object/{binding}"), &init).map_err(failed)?;
    let response: web_sys::Response = JsFuture::from(sent).await.map_err(failed)?.unchecked_into();
    JsFuture::from(response.json().map_err(failed)?).await.map_err(failed)
}

/// A reply that belongs to another call: the two sides of a protocol disagree. (The
/// reply is not printed: its `Debug` would cost wasm for a case that is a bug.)
pub fn unexpected<P: Protocol>() -> ApiError {
    Fault::Protocol(format!("{} answered another call's reply", P::BINDING)).into()
}
