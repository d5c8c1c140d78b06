//! Reporting events to the app's backend (see [`crate::domain::events`]): a use case
//! reports what happened, and the event is queued once the answer is out, so that the
//! request never waits for the queue, let alone for the receiver.

use super::platform::{App, Call, Platform};
use super::ports::{Clock, EventQueue, StoredUser};
use crate::domain::error::ApiError;
use crate::domain::events::{Event, EventType, QueuedEvent};
use crate::domain::random::random_id;

/// An event about `user`.
pub fn about(kind: EventType, user: &StoredUser) -> Event {
    Event::about(kind, user.id, &user.account, &user.phone)
}

/// Queues `event` once the answer to `call` is out, if events are on; a failure to queue
/// it is logged.
pub fn report<P: Platform>(app: &App<P>, call: &Call<'_>, event: Event) {
    if let Some(queue) = app.events.clone() {
        let queued = stamp(app, event);
        let work = async move { Ok(queue.enqueue(&queued).await?) };
        call.after_answer.defer("queue an event", Box::pin(work));
    }
}

/// Queues `event` now, if events are on: for work no client waits for (the Cron Trigger).
pub async fn report_now<P: Platform>(app: &App<P>, event: Event) -> Result<(), ApiError> {
    match &app.events {
        Some(queue) => Ok(queue.enqueue(&stamp(app, event)).await?),
        None => Ok(()),
    }
}

/// The event as it happened now, with the id every delivery of it carries.
fn stamp<P: Platform>(app: &App<P>, event: Event) -> QueuedEvent {
    event.queued(format!("msg_{}", random_id(&app.rng)), app.clock.now_millis())
}

#[cfg(test)]
mod tests {
    use pollster::block_on;
    use serde_json::json;

    use crate::app::deactivate::deactivate;
    use crate::app::in_memory::{call_from, Deferrals, OneUser};
    use crate::app::session;
    use crate::domain::requests::{DeactivateRequest, LogoutScope};

    #[test]
    fn a_sign_in_reports_its_method_session_and_device_and_a_log_out_its_scope() {
        let world = OneUser::new();
        let pair = world.log_in("old_pass").unwrap();
        let sid = session::verify(world.0, &pair.jwt, None).unwrap().claims.sid;
        let events = world.0.events.as_ref().unwrap();
        let signed_in = &events.payloads()[0];
        assert_eq!(
            signed_in["data"],
            json!({
                "uid": 1, "account": "Foo", "phone": "+86139****9999", "method": "password", "sid": sid,
                "device": { "user_agent": "test-agent/1.0", "country": "CN", "address": "1.2.3.0/24" },
            })
        );
        for (scope, reported) in [
            (LogoutScope::Others, json!({ "scope": "others", "kept_sid": sid })),
            (LogoutScope::Session, json!({ "scope": "session", "sid": sid })),
        ] {
            let deferrals = Deferrals::default();
            let request = DeactivateRequest { jwt: pair.jwt.clone(), scope };
            block_on(deactivate(world.0, request, &call_from("1.2.3.4", &deferrals))).unwrap();
            deferrals.run();
            let data = events.payloads().pop().unwrap()["data"].take();
            assert_eq!(data["reason"], "signed_out");
            for (name, value) in reported.as_object().unwrap() {
                assert_eq!(&data[name], value, "{name}");
            }
        }
        assert_eq!(events.types(), ["user.signed_in", "session.revoked", "session.revoked"]);
        let ids = events.ids();
        assert!(ids.iter().all(|id| id.starts_with("msg_") && id.len() == 26), "{ids:?}");
        assert!(ids[0] != ids[1] && ids[1] != ids[2]);
    }

    #[test]
    fn a_refused_request_reports_nothing() {
        let world = OneUser::new();
        assert!(world.log_in("guess").is_err());
        assert_eq!(world.0.events.as_ref().unwrap().types(), Vec::<String>::new());
    }
}
