//! The `RefreshFamily` Durable Object: one per session, holding which refresh token is
//! current (`app::refresh_rotation`). Each rotation is a load, the pure decision and a
//! save, with no other await between, so two refreshes racing from two locations are
//! decided one after the other.

use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, ObjectNamespace, Request, Response, Result, State};

use super::durable::{answer, call};
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

#[durable_object(fetch)]
pub struct RefreshFamily {
    state: State,
}

impl DurableObject for RefreshFamily {
    fn new(state: State, _env: Env) -> Self {
        RefreshFamily { state }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        answer(req, "refresh family", |call: RotateCall| self.rotate(call)).await
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
        let rotate = RotateCall { presented: presented.to_string(), fresh: fresh.to_string() };
        call(&self.0, sid, "rotate", &rotate).await
    }
}
