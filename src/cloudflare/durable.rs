//! Calling a Durable Object: `POST https://<object>/<operation>` with a JSON body, and a
//! JSON [`Answer`] back: the value, or the API error as it is (so a 9905 or 50017 made
//! inside the object reaches the envelope unchanged).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use worker::{Method, ObjectNamespace, Request, RequestInit, Response, Result};

use crate::domain::error::ApiError;

/// What an object answers. An enum, not two options: a value may itself be `null`.
#[derive(Debug, Serialize, Deserialize)]
pub enum Answer<T> {
    Value(T),
    Error(ApiError),
}

/// The object's side: reads the call from `req`, runs it, answers with its outcome.
/// `what` names the object in the error for a call it cannot read.
pub async fn answer<C, T, F>(mut req: Request, what: &str, run: impl FnOnce(C) -> F) -> Result<Response>
where
    C: DeserializeOwned,
    T: Serialize,
    F: std::future::Future<Output = std::result::Result<T, ApiError>>,
{
    let outcome = match req.json::<C>().await {
        Ok(call) => run(call).await,
        Err(error) => Err(ApiError::internal(format!("bad {what} call: {error}"))),
    };
    Response::from_json(&match outcome {
        Ok(value) => Answer::Value(value),
        Err(error) => Answer::Error(error),
    })
}

/// The Worker's side: calls the object named `name` in `namespace` with `call` and
/// returns its value or its error.
pub async fn call<C: Serialize, T: DeserializeOwned>(
    namespace: &ObjectNamespace,
    name: &str,
    operation: &str,
    call: &C,
) -> std::result::Result<T, ApiError> {
    let answer: Answer<T> = call_object(namespace, name, operation, call)
        .await
        .map_err(|error| ApiError::internal(format!("durable object {operation}: {error}")))?;
    match answer {
        Answer::Value(value) => Ok(value),
        Answer::Error(error) => Err(error),
    }
}

/// Sends `call` to the object named `name` and reads its JSON answer.
pub async fn call_object<C: Serialize, A: DeserializeOwned>(
    namespace: &ObjectNamespace,
    name: &str,
    operation: &str,
    call: &C,
) -> Result<A> {
    let stub = namespace.id_from_name(name)?.get_stub()?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(serde_json::to_string(call)?.into()));
    let request = Request::new_with_init(&format!("https://durable-object/{operation}"), &init)?;
    stub.fetch_with_request(request).await?.json::<A>().await
}
