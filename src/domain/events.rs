//! Events for the app's own backend (docs/events.md): what happened to a user, as JSON
//! `{"type", "timestamp", "data"}` (the Standard Webhooks spec's own shape), POSTed to
//! `EVENTS_WEBHOOK_URL` and signed as that spec says. The use cases report them; a
//! Cloudflare Queue carries them to the consumer that delivers them, with retries, so
//! that a receiver that is slow or down never slows or fails a request.
//!
//! An event's data says whom it is about (`uid`, `account`, the phone masked) and what
//! the event adds (a sign-in's `method`, a session's `sid`); never a password, code, token
//! or secret.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::clock::date_and_time;
use super::crypto::Crypto;
use super::outgoing::OutgoingRequest;
use super::phone::masked;
use super::standard_webhooks::WebhookSecret;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// A user was made: by a registration, or by a first code sign-in (`SMS_SIGNUP`).
    UserRegistered,
    /// A session was opened, with a password or a code (`method`).
    UserSignedIn,
    UserPasswordChanged,
    UserPasswordReset,
    /// The user moved to another phone (`phone` is the new one, `previous_phone` the old).
    UserPhoneChanged,
    /// Sessions were ended by the user (`scope`: this one, one by `sid`, the others, all),
    /// or because a retired refresh token came back.
    SessionRevoked,
    UserDeletionScheduled,
    /// A code sign-in cancelled the deletion the user had asked for.
    UserRestored,
    /// The Cron Trigger removed the user, its deletion due.
    UserDeleted,
}

impl EventType {
    /// Its `type`, as receivers match on it.
    pub fn name(self) -> &'static str {
        match self {
            EventType::UserRegistered => "user.registered",
            EventType::UserSignedIn => "user.signed_in",
            EventType::UserPasswordChanged => "user.password_changed",
            EventType::UserPasswordReset => "user.password_reset",
            EventType::UserPhoneChanged => "user.phone_changed",
            EventType::SessionRevoked => "session.revoked",
            EventType::UserDeletionScheduled => "user.deletion_scheduled",
            EventType::UserRestored => "user.restored",
            EventType::UserDeleted => "user.deleted",
        }
    }
}

/// An event to report: its type and data. The moment and the id are given when it is
/// queued ([`Event::queued`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    kind: EventType,
    data: Map<String, Value>,
}

impl Event {
    /// An event about the user `uid`, whose account is `account` and phone `phone` (E.164,
    /// masked here).
    pub fn about(kind: EventType, uid: u64, account: &str, phone: &str) -> Event {
        let mut data = Map::new();
        data.insert("uid".into(), uid.into());
        data.insert("account".into(), account.into());
        data.insert("phone".into(), masked(phone).into());
        Event { kind, data }
    }

    /// The event with `name: value` in its data as well.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Event {
        self.data.insert(name.into(), value.into());
        self
    }

    /// The event as the queue carries it: the body every delivery of it POSTs, made now,
    /// so that it says when the event happened, not when it was delivered; and its
    /// `webhook-id`, the same for every try, so that a receiver can drop what it has
    /// seen already.
    pub fn queued(self, id: String, at_ms: u64) -> QueuedEvent {
        let kind = self.kind.name();
        // In the spec's order. Written out, as the type and the time need no escaping:
        // a derived Serialize would add code to the wasm for this one shape.
        let payload = format!(
            r#"{{"type":"{kind}","timestamp":"{}","data":{}}}"#,
            rfc3339_millis(at_ms),
            Value::Object(self.data)
        );
        QueuedEvent { id, type_name: kind.into(), payload }
    }
}

/// A queue message: an event's id, its `type` (for the log) and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEvent {
    pub id: String,
    pub type_name: String,
    pub payload: String,
}

/// The most Cloudflare Queues delays a retry: 12 hours.
pub const MAX_RETRY_DELAY_SECONDS: u32 = 43_200;

/// `EVENTS_RETRY_DELAY_SECONDS` unless set: the wait before the first retry.
pub const DEFAULT_FIRST_RETRY_SECONDS: u32 = 5;

/// How long to wait before trying again after the `attempts`-th try failed, the first
/// retry waiting `first_retry_seconds` and each next one three times longer, up to
/// [`MAX_RETRY_DELAY_SECONDS`]: with the default, 5 s, 15 s, 45 s, ... 12 h, which ten
/// retries spread over about a day.
pub fn retry_delay_seconds(first_retry_seconds: u32, attempts: u32) -> u32 {
    let growth = 3u32.saturating_pow(attempts.saturating_sub(1));
    first_retry_seconds.saturating_mul(growth).min(MAX_RETRY_DELAY_SECONDS)
}

/// Where events go and how they are delivered: `EVENTS_WEBHOOK_URL`, the secret
/// `EVENTS_WEBHOOK_SECRET`, `EVENTS_WEBHOOK_TIMEOUT_MS` and `EVENTS_RETRY_DELAY_SECONDS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsSettings {
    pub url: String,
    pub secret: WebhookSecret,
    /// How long a delivery may take before it counts as failed (and is retried).
    pub timeout_ms: u64,
    /// The wait before the first retry; each next one waits three times longer, up to
    /// [`MAX_RETRY_DELAY_SECONDS`].
    pub first_retry_seconds: u32,
}

impl EventsSettings {
    /// The delivery of `event` at `now` (Unix seconds): the spec's headers over its body.
    pub fn request(&self, crypto: &dyn Crypto, event: &QueuedEvent, now: i64) -> OutgoingRequest {
        OutgoingRequest {
            url: self.url.clone(),
            headers: self.secret.headers(crypto, &event.id, now, &event.payload),
            body: event.payload.clone(),
        }
    }

    /// [`retry_delay_seconds`] with this `first_retry_seconds`.
    pub fn retry_delay_seconds(&self, attempts: u32) -> u32 {
        retry_delay_seconds(self.first_retry_seconds, attempts)
    }
}

/// Whether a receiver that answered `status` took the event: any 2xx, as the spec says.
pub fn delivered(status: u16) -> bool {
    (200..300).contains(&status)
}

/// `2026-12-07T06:00:00.123Z`: RFC 3339 in UTC, to the millisecond.
pub fn rfc3339_millis(ms: u64) -> String {
    let moment = DateTime::<Utc>::from_timestamp_millis(ms as i64).unwrap_or_default();
    format!("{}.{:03}Z", date_and_time(&moment.naive_utc(), 'T'), ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::crypto::native::NativeCrypto;

    fn settings(first_retry_seconds: u32) -> EventsSettings {
        EventsSettings {
            url: "https://app.example.com/hooks/login".into(),
            secret: WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap(),
            timeout_ms: 10_000,
            first_retry_seconds,
        }
    }

    #[test]
    fn an_event_is_the_specs_shape_with_the_phone_masked() {
        let event = Event::about(EventType::UserSignedIn, 7, "Alice", "+8613912349999").with("method", "sms");
        // 2026-12-07 06:00:00.042 UTC.
        let queued = event.queued("msg_1".into(), 1_796_623_200_042);
        assert_eq!(queued.type_name, "user.signed_in");
        let payload: Value = serde_json::from_str(&queued.payload).unwrap();
        assert_eq!(
            payload,
            serde_json::json!({
                "type": "user.signed_in",
                "timestamp": "2026-12-07T06:00:00.042Z",
                "data": { "uid": 7, "account": "Alice", "phone": "+86139****9999", "method": "sms" },
            })
        );
        assert!(queued.payload.starts_with(r#"{"type":"user.signed_in","timestamp":"#), "{}", queued.payload);
    }

    #[test]
    fn each_retry_waits_three_times_longer_up_to_twelve_hours() {
        let waits: Vec<u32> = (1..=11).map(|attempts| settings(5).retry_delay_seconds(attempts)).collect();
        assert_eq!(waits, [5, 15, 45, 135, 405, 1_215, 3_645, 10_935, 32_805, 43_200, 43_200]);
        // Ten retries, as wrangler.toml sets: a receiver down for a day still gets them.
        let total: u32 = waits[..10].iter().sum();
        assert!((86_400..2 * 86_400).contains(&total), "{total}");
        assert_eq!(settings(0).retry_delay_seconds(4), 0);
        assert_eq!(settings(3_600).retry_delay_seconds(u32::MAX), MAX_RETRY_DELAY_SECONDS);
        assert_eq!(retry_delay_seconds(DEFAULT_FIRST_RETRY_SECONDS, 2), 15);
    }

    #[test]
    fn a_delivery_is_signed_over_its_body_with_the_events_id() {
        let queued = Event::about(EventType::UserDeleted, 1, "a", "+8613912349999").queued("msg_x".into(), 0);
        let request = settings(5).request(&NativeCrypto, &queued, 1_614_265_330);
        assert_eq!(request.url, "https://app.example.com/hooks/login");
        assert_eq!(request.body, queued.payload);
        let expected = settings(5).secret.headers(&NativeCrypto, "msg_x", 1_614_265_330, &queued.payload);
        assert_eq!(request.headers, expected);
        assert!(delivered(204) && !delivered(301) && !delivered(500) && !delivered(199));
    }
}
