//! The `RateWindow` Durable Object: one sliding window of events per key (SMS sends per
//! client IP, failed logins per account and per IP, with the holds of logins in flight),
//! and the Worker's client for it.
//! An object handles one request at a time between storage calls, and each operation here is a load and a save with no
//! other await between, so concurrent requests are counted one by one, wherever in the
//! world they arrive: what a limit in KV (eventually consistent) could not promise.

use std::cell::RefCell;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use worker::{durable_object, Delay, DurableObject, Env, Request, Response, Result, State};

use super::durable::{answer, unexpected, ObjectClient, Protocol};
use super::platform::{OrFault, WorkerClock};
use crate::app::ports::{Clock, RateLimiter};
use crate::domain::error::{ApiError, Backend};
use crate::domain::rate_limit::{HoldRefused, Limit, SlidingWindow};

const WINDOW_KEY: &str = "window";

/// What the Worker asks of a window.
#[derive(Debug, Serialize, Deserialize)]
pub enum WindowCall {
    /// Count an event if the limit allows it.
    Take(Limit),
    /// Hold a place for an attempt still to be decided, if the limit allows it.
    Hold(Limit),
    /// The hold with this stamp counts.
    Settle(u64),
    /// Forget the event or hold with this stamp.
    GiveBack(u64),
    /// Forget the hold with this stamp and every event up to it.
    ClearThrough(u64),
    /// Forget every event counted so far.
    Clear,
}

/// What a window answers.
#[derive(Debug, Serialize, Deserialize)]
pub enum WindowReply {
    /// The event was counted, or the place held, with this stamp.
    Taken(u64),
    /// Every place is held by attempts still in flight: ask again in a moment.
    Busy,
    Done,
}

/// The protocol of `RATE_WINDOW` objects.
pub struct RateWindowProtocol;

impl Protocol for RateWindowProtocol {
    const BINDING: &'static str = "RATE_WINDOW";
    type Call = WindowCall;
    type Reply = WindowReply;
}

/// What is stored: the window's counted events and the limit it was last used with (for
/// the alarm). Its holds are not stored (see [`RateWindow`]).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    window: SlidingWindow,
    window_seconds: u64,
}

/// The object keeps its window in memory once loaded, and writes to storage only when the
/// counted events change. Holds live in memory alone: an attempt in flight keeps its
/// object active, so the object is not evicted under it, and a hold would otherwise cost
/// a storage write (and the wait for it to be durable) on every login. Were an object
/// restarted all the same, the holds of the attempts then in flight would be lost, and
/// those few attempts not counted.
#[durable_object(alarm)]
pub struct RateWindow {
    state: State,
    loaded: RefCell<Option<Stored>>,
}

impl DurableObject for RateWindow {
    fn new(state: State, _env: Env) -> Self {
        RateWindow { state, loaded: RefCell::new(None) }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        answer::<RateWindowProtocol, _>(req, |call| self.run(call)).await
    }

    /// Once the newest event has left the window, the object forgets its events, so an
    /// IP seen once does not keep storage for ever. The alarm is set when a window starts
    /// (not on every event, which would cost a storage write each); if events came since,
    /// it is set again for when the newest of them leaves.
    async fn alarm(&self) -> Result<Response> {
        let storage = self.state.storage();
        let mut stored = self.load().await?;
        let leaves_at = stored.window.last_leaves_at(stored.window_seconds);
        let expired = !matches!(leaves_at, Some(at) if at > WorkerClock.now_millis());
        if expired {
            stored.window.events.clear();
        }
        self.loaded.replace(Some(stored));
        match leaves_at {
            Some(at) if !expired => storage.set_alarm((at + 1) as i64).await?,
            _ => storage.delete_all().await?,
        }
        Response::ok("")
    }
}

impl RateWindow {
    /// The window in memory, or from storage the first time. Taken out of the cell until
    /// the caller puts it back (before its next await).
    async fn load(&self) -> Result<Stored> {
        let in_memory = self.loaded.borrow_mut().take();
        match in_memory {
            Some(stored) => Ok(stored),
            None => Ok(self.state.storage().get(WINDOW_KEY).await?.unwrap_or_default()),
        }
    }

    async fn run(&self, call: WindowCall) -> std::result::Result<WindowReply, ApiError> {
        let storage = self.state.storage();
        let doing = "keep a rate window";
        let mut stored = self.load().await.or_fault(Backend::ObjectStorage, doing)?;
        let events_before = stored.window.events.clone();
        let now = WorkerClock.now_millis();
        let window = &mut stored.window;
        // A take or a hold, and what came of it; the other calls always succeed.
        let taken = match call {
            WindowCall::Take(limit) => Some((
                limit,
                window
                    .try_record(now, limit)
                    .map_err(|retry_after_seconds| HoldRefused::Full { retry_after_seconds }),
            )),
            WindowCall::Hold(limit) => Some((limit, window.try_hold(now, limit))),
            WindowCall::Settle(stamp) => {
                window.settle(stamp);
                None
            }
            WindowCall::GiveBack(stamp) => {
                window.give_back(stamp);
                None
            }
            WindowCall::ClearThrough(stamp) => {
                window.clear_through(stamp);
                None
            }
            WindowCall::Clear => {
                window.clear_events();
                None
            }
        };
        let reply = match taken {
            None => Ok(WindowReply::Done),
            Some((limit, Ok(()))) => {
                stored.window_seconds = limit.window_seconds;
                Ok(WindowReply::Taken(now))
            }
            Some((_, Err(HoldRefused::Busy))) => Ok(WindowReply::Busy),
            Some((_, Err(HoldRefused::Full { retry_after_seconds }))) => {
                Err(ApiError::RateLimited { retry_after_seconds })
            }
        };
        // What is stored (the counted events), taken before the window goes back in
        // memory: that happens before any await, so the next call sees this one's change.
        let saved = (stored.window.events != events_before).then(|| Stored {
            window: SlidingWindow { events: stored.window.events.clone(), held: Vec::new() },
            window_seconds: stored.window_seconds,
        });
        let leaves_at = stored.window.last_leaves_at(stored.window_seconds);
        self.loaded.replace(Some(stored));
        match saved {
            None => {}
            Some(saved) if saved.window.events.is_empty() => {
                storage.delete(WINDOW_KEY).await.or_fault(Backend::ObjectStorage, doing)?;
            }
            Some(saved) => {
                storage.put(WINDOW_KEY, &saved).await.or_fault(Backend::ObjectStorage, doing)?;
                if let Some(at) = leaves_at.filter(|_| events_before.is_empty()) {
                    storage.set_alarm((at + 1) as i64).await.or_fault(Backend::ObjectStorage, doing)?;
                }
            }
        }
        reply
    }
}

/// The Worker's side: one object per key.
pub type DurableRateWindows = ObjectClient<RateWindowProtocol>;

/// How long an attempt waits for a place in a window full of other attempts' holds,
/// and how often it asks again. A login takes tens of milliseconds, so a burst of
/// correct logins finds places within a few tries; past the wait it is refused.
const BUSY_WAIT_MILLIS: u64 = 3_000;
const BUSY_RETRY_MILLIS: u64 = 20;

impl RateLimiter for DurableRateWindows {
    async fn take(&self, key: &str, limit: Limit) -> std::result::Result<u64, ApiError> {
        taken(self.call(key, &WindowCall::Take(limit)).await?)
    }

    async fn give_back(&self, key: &str, stamp: u64) -> std::result::Result<(), ApiError> {
        done(self.call(key, &WindowCall::GiveBack(stamp)).await?)
    }

    async fn hold(&self, key: &str, limit: Limit) -> std::result::Result<u64, ApiError> {
        let started = WorkerClock.now_millis();
        loop {
            match self.call(key, &WindowCall::Hold(limit)).await? {
                WindowReply::Busy if WorkerClock.now_millis() < started + BUSY_WAIT_MILLIS => {
                    Delay::from(Duration::from_millis(BUSY_RETRY_MILLIS)).await;
                }
                WindowReply::Busy => return Err(ApiError::RateLimited { retry_after_seconds: 1 }),
                reply => return taken(reply),
            }
        }
    }

    async fn settle(&self, key: &str, stamp: u64) -> std::result::Result<(), ApiError> {
        done(self.call(key, &WindowCall::Settle(stamp)).await?)
    }

    async fn clear_through(&self, key: &str, stamp: u64) -> std::result::Result<(), ApiError> {
        done(self.call(key, &WindowCall::ClearThrough(stamp)).await?)
    }

    async fn clear(&self, key: &str) -> std::result::Result<(), ApiError> {
        done(self.call(key, &WindowCall::Clear).await?)
    }
}

fn taken(reply: WindowReply) -> std::result::Result<u64, ApiError> {
    match reply {
        WindowReply::Taken(stamp) => Ok(stamp),
        _ => Err(unexpected::<RateWindowProtocol>()),
    }
}

fn done(reply: WindowReply) -> std::result::Result<(), ApiError> {
    match reply {
        WindowReply::Done => Ok(()),
        _ => Err(unexpected::<RateWindowProtocol>()),
    }
}
