//! The `RefreshFamily` Durable Object: one per session, holding which refresh token is
//! current (`app::refresh_rotation`). Each rotation is a load, the pure decision and a
//! save, with no other await between, so two refreshes racing from two locations are
//! decided one after the other.

use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, ObjectNamespace, Request, Response, Result, State};

use super::durable::call_object;
use super::platform::WorkerClock;
use crate::app::refresh_rotation::{FamilyState, RefreshFamilies, Rotation};
use crate::domain::clock::Clock;
use crate::domain::error::ApiError;

/// The binding name in `wrangler.toml`.
pub const REFRESH_FAMILY_BINDING: &str = "REFRESH_FAMILY";

const STATE_KEY: &str = "family";

#[derive(Debug, Serialize, Deserialize)]
struct RotateCall {
    presented: String,
    fresh: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct RotateAnswer {
    rotation: Option<Rotation>,
    error: Option<ApiError>,
}

#[durable_object(fetch)]
pub struct RefreshFamily {
    state: State,
}

impl DurableObject for RefreshFamily {
    fn new(state: State, _env: Env) -> Self {
        RefreshFamily { state }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let outcome = match req.json::<RotateCall>().await {
            Ok(call) => self.rotate(call).await,
            Err(error) => Err(ApiError::internal(format!("bad refresh family call: {error}"))),
        };
        Response::from_json(&match outcome {
            Ok(rotation) => RotateAnswer { rotation: Some(rotation), error: None },
            Err(error) => RotateAnswer { rotation: None, error: Some(error) },
        })
    }
}

impl RefreshFamily {
    async fn rotate(&self, call: RotateCall) -> std::result::Result<Rotation, ApiError> {
        let storage = self.state.storage();
        let mut family: FamilyState =
            storage.get(STATE_KEY).await.map_err(ApiError::internal)?.unwrap_or_default();
        let rotation = family.rotate(&call.presented, &call.fresh, WorkerClock.now_millis());
        storage.put(STATE_KEY, &family).await.map_err(ApiError::internal)?;
        Ok(rotation)
    }
}

/// The Worker's side: one object per session id.
pub struct DurableRefreshFamilies(pub ObjectNamespace);

impl RefreshFamilies for DurableRefreshFamilies {
    async fn rotate(
        &self,
        sid: &str,
        presented: &str,
        fresh: &str,
    ) -> std::result::Result<Rotation, ApiError> {
        let call = RotateCall { presented: presented.to_string(), fresh: fresh.to_string() };
        let answer: RotateAnswer = call_object(&self.0, sid, "rotate", &call)
            .await
            .map_err(|error| ApiError::internal(format!("refresh family: {error}")))?;
        match (answer.rotation, answer.error) {
            (_, Some(error)) => Err(error),
            (Some(rotation), None) => Ok(rotation),
            (None, None) => Err(ApiError::internal("refresh family gave no answer")),
        }
    }
}
