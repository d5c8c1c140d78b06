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

/// Which sessions a `session.revoked` says ended.
pub enum Revoked<'a> {
    /// The one session with this id.
    Session(&'a str),
    /// Every one but the session with this id.
    Others(&'a str),
    All,
}

/// `session.revoked` of `user`'s sessions, for `reason` (`signed_out`, or a
/// [`super::platform::REFRESH_REPLAYED`]).
pub fn session_revoked(user: &StoredUser, revoked: Revoked<'_>, reason: &str) -> Event {
    let event = about(EventType::SessionRevoked, user).with("reason", reason);
    match revoked {
        Revoked::Session(sid) => event.with("scope", "session").with("sid", sid),
        Revoked::Others(kept) => event.with("scope", "others").with("kept_sid", kept),
        Revoked::All => event.with("scope", "all"),
    }
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

    use crate::app::account_purge::purge_due;
    use crate::app::deactivate::deactivate;
    use crate::app::in_memory::{app_with, call_from, leak, Deferrals, MemoryUsers, OneUser, NOW_MS};
    use crate::app::login;
    use crate::app::platform::App;
    use crate::app::ports::UserStore;
    use crate::app::session;
    use crate::domain::requests::LoginRequest;
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
        let logout = DeactivateRequest { jwt: "not.a.token".into(), scope: LogoutScope::All };
        assert!(block_on(deactivate(world.0, logout, &call_from("1.2.3.4", &Deferrals::default()))).is_err());
        assert_eq!(world.0.events.as_ref().unwrap().types(), Vec::<String>::new());
    }

    #[test]
    fn with_events_off_nothing_is_queued_and_a_deletion_still_runs() {
        let users = MemoryUsers::with_user("Foo", OneUser::PHONE, "old_pass", 1_000);
        let world = OneUser(leak(App { users, events: None, ..app_with(&[]) }));
        let deferrals = Deferrals::default();
        let request = LoginRequest { account: "foo".into(), pwd: "old_pass".into() };
        block_on(login::log_in(world.0, request, &call_from("1.2.3.4", &deferrals))).unwrap();
        assert_eq!(deferrals.doings(), ["record a session", "settle a login's limits"]);
        block_on(world.0.users.schedule_deletion(1, NOW_MS, NOW_MS)).unwrap();
        assert_eq!(block_on(purge_due(world.0)).unwrap().removed, 1);
    }
}
