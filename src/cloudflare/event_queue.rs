//! Events through Cloudflare Queues: the request path sends each event to the `EVENTS`
//! queue (after its answer), and this Worker's queue consumer delivers them to
//! `EVENTS_WEBHOOK_URL`. Queues keeps a message until it is acknowledged, retries it when
//! told to (after the wait [`EventsSettings::retry_delay_seconds`] gives), and after
//! `max_retries` moves it to the dead-letter queue, whose consumer (here too) logs it.
//!
//! The runtime's queue and messages are called directly, like KV: `worker`'s wrappers do
//! not expose a message's `attempts`, which the backoff needs.

use js_sys::{Array, Object, Promise, Reflect};
use serde_json::json;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{Date, Env};

use super::node_crypto::NodeCrypto;
use super::platform::{post_within, OrFault};
use crate::app::ports::EventQueue;
use crate::domain::error::{Backend, Fault};
use crate::domain::events::{
    delivered, retry_delay_seconds, EventsSettings, QueuedEvent, DEFAULT_FIRST_RETRY_SECONDS,
};

/// The producer's binding name in `wrangler.toml`.
pub const EVENTS_BINDING: &str = "EVENTS";

/// A queue whose name ends so is a dead-letter queue: what reaches it is logged, not
/// delivered (`wrangler.toml` names the events' own `login-events-dead-letter`).
pub const DEAD_LETTER_SUFFIX: &str = "-dead-letter";

#[wasm_bindgen]
extern "C" {
    /// A queue producer binding.
    #[derive(Clone)]
    pub type Queue;
    #[wasm_bindgen(method, catch)]
    fn send(this: &Queue, body: &str) -> Result<Promise, JsValue>;

    /// What the runtime hands the `queue` handler.
    pub type MessageBatch;
    #[wasm_bindgen(method, getter)]
    fn queue(this: &MessageBatch) -> String;
    #[wasm_bindgen(method, getter)]
    fn messages(this: &MessageBatch) -> Array;

    type Message;
    #[wasm_bindgen(method, getter)]
    fn body(this: &Message) -> JsValue;
    /// How many times it was handed to a consumer, this time included.
    #[wasm_bindgen(method, getter)]
    fn attempts(this: &Message) -> u32;
    // Caught, so that a message the runtime will not settle (one settled already) cannot
    // throw out of the handler and fail the whole batch.
    #[wasm_bindgen(method, catch)]
    fn ack(this: &Message) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn retry(this: &Message, options: &Object) -> Result<(), JsValue>;
}

impl Queue {
    /// The queue bound as `name`, `None` when there is none.
    pub fn from_env(env: &Env, name: &str) -> Option<Queue> {
        let value = Reflect::get(env, &JsValue::from_str(name)).ok()?;
        let is_queue = Reflect::has(&value, &JsValue::from_str("sendBatch")).unwrap_or(false);
        is_queue.then(|| value.unchecked_into())
    }
}

impl EventQueue for Queue {
    /// Sends the event, and once more if the queue refused it: an event the queue never
    /// took is lost (and logged by the caller).
    async fn enqueue(&self, event: &QueuedEvent) -> Result<(), Fault> {
        let body = format!("{} {} {}", event.id, event.type_name, event.payload);
        let send = || async { JsFuture::from(self.send(&body)?).await };
        let sent = match send().await {
            Ok(sent) => Ok(sent),
            Err(_) => send().await,
        };
        sent.map(drop).map_err(worker::Error::from).or_fault(Backend::Queue, "queue an event")
    }
}

/// The queue handler: delivers a batch of events as `settings` say (`None`: events are
/// off, or the worker is misconfigured), or logs what reached the dead-letter queue.
/// Every message is acknowledged or retried here; nothing is thrown.
pub async fn consume(batch: MessageBatch, settings: Option<&'static EventsSettings>) {
    let messages: Vec<Message> = batch.messages().iter().map(JsCast::unchecked_into).collect();
    if batch.queue().ends_with(DEAD_LETTER_SUFFIX) {
        for message in &messages {
            let event = parse_message(message);
            let (id, type_name) = event.map(|event| (event.id, event.type_name)).unwrap_or_default();
            let line = json!({ "event": "event_undelivered", "id": id, "type": type_name,
                               "queue": batch.queue() });
            worker::console_error!("{line}");
            let _ = message.ack();
        }
        return;
    }
    // All at once, so that a slow receiver holds up a batch for one try's time, not six
    // (wrangler.toml's max_batch_size: an invocation has at most 6 connections open, and
    // a seventh delivery would wait for one while its time ran). Through the runtime's
    // Promise.all: futures_util's join_all cost 2.3 KB of wasm.
    let tries = Array::new();
    for message in messages {
        let delivery = async move {
            deliver(settings, &message).await;
            Ok(JsValue::UNDEFINED)
        };
        tries.push(&wasm_bindgen_futures::future_to_promise(delivery));
    }
    let _ = JsFuture::from(Promise::all(&tries)).await;
}

/// One delivery of one message: acknowledged once the receiver took it, retried after a
/// wait otherwise (a refusal, no answer in time, or events turned off meanwhile).
async fn deliver(settings: Option<&'static EventsSettings>, message: &Message) {
    let Some(event) = parse_message(message) else {
        // Nothing any try could deliver.
        worker::console_error!("{}", json!({ "event": "event_unreadable" }));
        let _ = message.ack();
        return;
    };
    let attempt = message.attempts();
    let failure = match settings {
        None => "EVENTS_WEBHOOK_URL is not set, or the worker is misconfigured".to_string(),
        Some(settings) => {
            let now = (Date::now().as_millis() / 1000) as i64;
            let request = settings.request(&NodeCrypto, &event, now);
            match post_within(&request, settings.timeout_ms).await {
                Ok((status, _)) if delivered(status) => {
                    let _ = message.ack();
                    return;
                }
                Ok((status, _)) => format!("HTTP {status}"),
                Err(why) => why,
            }
        }
    };
    // Without settings, as events were on when this one was queued: the default waits, so
    // that a worker misconfigured for a while loses none of the backlog.
    let first_retry = settings.map_or(DEFAULT_FIRST_RETRY_SECONDS, |settings| settings.first_retry_seconds);
    let delay = retry_delay_seconds(first_retry, attempt);
    let line = json!({ "event": "event_delivery_failed", "id": event.id, "type": event.type_name,
                       "attempt": attempt, "retry_in_seconds": delay, "reason": failure });
    worker::console_warn!("{line}");
    let options = Object::new();
    let _ = Reflect::set(&options, &JsValue::from_str("delaySeconds"), &JsValue::from(delay));
    let _ = message.retry(&options);
}

/// The event a message carries; `None` for a body this worker did not write. A message is
/// one string, `<id> <type> <payload>` (the id and the type have no spaces): written and
/// read only here, and the least code in the wasm of the ways tried (serde's derives, an
/// object of three strings).
fn parse_message(message: &Message) -> Option<QueuedEvent> {
    let body = message.body().as_string()?;
    let mut parts = body.splitn(3, ' ');
    let (id, type_name, payload) = (parts.next()?, parts.next()?, parts.next()?);
    Some(QueuedEvent { id: id.into(), type_name: type_name.into(), payload: payload.into() })
}
