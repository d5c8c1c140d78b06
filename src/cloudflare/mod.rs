//! The Cloudflare side: the fetch entry point and router, the app built once per
//! isolate (`startup`), and the D1, KV and Durable Object implementations of the use cases' ports.
//! Kept thin: parse, call a use case, answer with the envelope.

#[cfg(feature = "bench")]
mod bench;
mod body;
mod d1;
mod d1_sessions;
mod d1_user_store;
mod documents;
mod durable;
mod event_queue;
mod http;
mod kv_stores;
mod log;
mod node_crypto;
mod platform;
mod rate_window;
mod refresh_family;
mod router;
mod sms_gate;
mod sms_gate_object;
mod sms_sender;
mod startup;
mod turnstile;
mod unicode;
mod web_crypto;

pub use rate_window::RateWindow;
pub use refresh_family::RefreshFamily;
pub use sms_gate_object::SmsGate;

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use worker::{event, Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};

use crate::app::account_purge;

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    Ok(router::serve(req, &env, &ctx).await)
}

/// The Cron Trigger (`[triggers] crons` in wrangler.toml): accounts due for deletion are
/// removed. Each run logs what it did.
#[event(scheduled)]
pub async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let purged = match startup::isolate(&env) {
        Ok(app) => account_purge::purge_due(app).await,
        Err(broken) => Err(broken.error()),
    };
    match purged {
        Ok(purged) => log::purged(purged.removed, purged.failed),
        Err(error) => log::unanswered("remove the accounts due for deletion", &error),
    }
}

/// The queue consumer (`[[queues.consumers]]` in wrangler.toml): delivers the events to
/// `EVENTS_WEBHOOK_URL`, and logs those that reached the dead-letter queue. Exported by
/// hand rather than with `#[event(queue)]`, whose batch type hides each message's
/// `attempts` (see `event_queue`).
#[wasm_bindgen]
pub async fn queue(
    batch: event_queue::MessageBatch,
    env: Env,
    _ctx: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    let settings = startup::isolate(&env).as_ref().ok().and_then(|app| app.settings.events.as_ref());
    event_queue::consume(batch, settings).await;
    Ok(JsValue::UNDEFINED)
}
