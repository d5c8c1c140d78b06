//! The `RateWindow` Durable Object: one sliding window of events per key (SMS sends per
//! client IP, failed logins per account and per IP), and the Worker's client for it.
//! An object handles one request at a time between storage calls, and each operation here is a load and a save with no
//! other await between, so concurrent requests are counted one by one, wherever in the
//! world they arrive: what a limit in KV (eventually consistent) could not promise.

use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

use super::durable::{answer, unexpected, ObjectClient, Protocol};
use super::platform::{OrFault, WorkerClock};
use crate::app::ports::{Clock, RateLimiter};
use crate::domain::error::{ApiError, Backend};
use crate::domain::rate_limit::{Limit, SlidingWindow};

const WINDOW_KEY: &str = "window";

/// What the Worker asks of a window.
#[derive(Debug, Serialize, Deserialize)]
pub enum WindowCall {
    /// Count an event if the limit allows it.
    Take(Limit),
    /// Forget the event with this stamp.
    GiveBack(u64),
    /// Forget every event.
    Clear,
}

/// What a window answers.
#[derive(Debug, Serialize, Deserialize)]
pub enum WindowReply {
    /// The event was counted, with this stamp.
    Taken(u64),
    Done,
}

/// The protocol of `RATE_WINDOW` objects.
pub struct RateWindowProtocol;

impl Protocol for RateWindowProtocol {
    const BINDING: &'static str = "RATE_WINDOW";
    type Call = WindowCall;
    type Reply = WindowReply;
}

/// What is stored: the window and the limit it was last used with (for the alarm).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    window: SlidingWindow,
    window_seconds: u64,
}

#[durable_object(alarm)]
pub struct RateWindow {
    state: State,
}

impl DurableObject for RateWindow {
    fn new(state: State, _env: Env) -> Self {
        RateWindow { state }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        answer::<RateWindowProtocol, _>(req, |call| self.run(call)).await
    }

    /// Once the newest event has left the window, the object forgets everything, so an
    /// IP seen once does not keep storage for ever. The alarm is set when a window starts
    /// (not on every event, which would cost a storage write each); if events came since,
    /// it is set again for when the newest of them leaves.
    async fn alarm(&self) -> Result<Response> {
        let storage = self.state.storage();
        let stored: Stored = storage.get(WINDOW_KEY).await?.unwrap_or_default();
        match stored.window.events.iter().max() {
            Some(newest) if newest + stored.window_seconds * 1000 > WorkerClock.now_millis() => {
                storage.set_alarm((newest + stored.window_seconds * 1000 + 1) as i64).await?;
            }
            _ => storage.delete_all().await?,
        }
        Response::ok("")
    }
}

impl RateWindow {
    async fn run(&self, call: WindowCall) -> std::result::Result<WindowReply, ApiError> {
        let storage = self.state.storage();
        let doing = "keep a rate window";
        let mut stored: Stored =
            storage.get(WINDOW_KEY).await.or_fault(Backend::ObjectStorage, doing)?.unwrap_or_default();
        let now = WorkerClock.now_millis();
        let was_empty = stored.window.events.is_empty();
        let reply = match call {
            WindowCall::Take(limit) => {
                stored
                    .window
                    .try_record(now, limit)
                    .map_err(|retry_after_seconds| ApiError::RateLimited { retry_after_seconds })?;
                stored.window_seconds = limit.window_seconds;
                WindowReply::Taken(now)
            }
            WindowCall::GiveBack(stamp) => {
                stored.window.forget(stamp);
                WindowReply::Done
            }
            WindowCall::Clear => {
                storage.delete_all().await.or_fault(Backend::ObjectStorage, doing)?;
                return Ok(WindowReply::Done);
            }
        };
        storage.put(WINDOW_KEY, &stored).await.or_fault(Backend::ObjectStorage, doing)?;
        if was_empty {
            if let Some(newest) = stored.window.events.last() {
                let forget_at = newest + stored.window_seconds * 1000 + 1;
                storage.set_alarm(forget_at as i64).await.or_fault(Backend::ObjectStorage, doing)?;
            }
        }
        Ok(reply)
    }
}

/// The Worker's side: one object per key.
pub type DurableRateWindows = ObjectClient<RateWindowProtocol>;

impl RateLimiter for DurableRateWindows {
    async fn take(&self, key: &str, limit: Limit) -> std::result::Result<u64, ApiError> {
        match self.call(key, &WindowCall::Take(limit)).await? {
            WindowReply::Taken(stamp) => Ok(stamp),
            _ => Err(unexpected::<RateWindowProtocol>()),
        }
    }

    async fn give_back(&self, key: &str, stamp: u64) -> std::result::Result<(), ApiError> {
        done(self.call(key, &WindowCall::GiveBack(stamp)).await?)
    }

    async fn clear(&self, key: &str) -> std::result::Result<(), ApiError> {
        done(self.call(key, &WindowCall::Clear).await?)
    }
}

fn done(reply: WindowReply) -> std::result::Result<(), ApiError> {
    match reply {
        WindowReply::Done => Ok(()),
        WindowReply::Taken(_) => Err(unexpected::<RateWindowProtocol>()),
    }
}
