//! Calling a Durable Object: `POST https://<object>/<operation>` with a JSON body, JSON
//! back. Each object kind defines its own call and answer types.

use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{Method, ObjectNamespace, Request, RequestInit, Result};

/// Calls the object named `name` in `namespace`.
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
