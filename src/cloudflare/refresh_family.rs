//! The `RefreshFamily` Durable Object: one per session, holding which refresh token is
//! current (`app::refresh_rotation`). Each rotation is a load, the pure decision and a
//! save, with no other await between, so two refreshes racing from two locations are
//! decided one after the other.

use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

use super::durable::{answer, ObjectClient, Protocol};
use super::platform::{OrFault, WorkerClock};
use crate::app::ports::{Clock, RefreshFamilies};
use crate::domain::error::{ApiError, Backend};
use crate::domain::refresh_rotation::{FamilyState, Rotation};

const STATE_KEY: &str = "family";

/// What the Worker asks of a session's family.
#[derive(Debug, Serialize, Deserialize)]
pub enum FamilyCall {
    /// [`FamilyState::rotate`] from `presented` to `fresh`.
    Rotate { presented: String, fresh: String },
}

/// The protocol of `REFRESH_FAMILY` objects.
pub struct RefreshFamilyProtocol;

impl Protocol for RefreshFamilyProtocol {
    const BINDING: &'static str = "REFRESH_FAMILY";
    type Call = FamilyCall;
    type Reply = Rotation;
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
        answer::<RefreshFamilyProtocol, _>(req, |call| self.run(call)).await
    }
}

impl RefreshFamily {
    async fn run(&self, call: FamilyCall) -> std::result::Result<Rotation, ApiError> {
        let FamilyCall::Rotate { presented, fresh } = call;
        let storage = self.state.storage();
        let doing = "keep a refresh family";
        let mut family: FamilyState =
            storage.get(STATE_KEY).await.or_fault(Backend::ObjectStorage, doing)?.unwrap_or_default();
        let rotation = family.rotate(&presented, &fresh, WorkerClock.now_millis());
        storage.put(STATE_KEY, &family).await.or_fault(Backend::ObjectStorage, doing)?;
        Ok(rotation)
    }
}

/// The Worker's side: one object per session id.
pub type DurableRefreshFamilies = ObjectClient<RefreshFamilyProtocol>;

impl RefreshFamilies for DurableRefreshFamilies {
    async fn rotate(
        &self,
        sid: &str,
        presented: &str,
        fresh: &str,
    ) -> std::result::Result<Rotation, ApiError> {
        let call = FamilyCall::Rotate { presented: presented.to_string(), fresh: fresh.to_string() };
        self.call(sid, &call).await
    }
}
