//! `POST /login/sessions/list`: "your devices".

use serde::Serialize;

use super::platform::{App, Platform};
use super::ports::{Clock, SessionRecord, SessionStore};
use super::session;
use crate::domain::clock::display_time;
use crate::domain::device::Device;
use crate::domain::error::ApiError;
use crate::domain::requests::TokenRequest;
use crate::domain::token::TokenKind;

/// One live session of the user, as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedSession {
    pub sid: String,
    /// The session of the token the list was asked with.
    pub current: bool,
    /// When its login was, and its last refresh (at most a minute behind), as `iat_date`.
    pub created_date: String,
    pub last_used_date: String,
    pub user_agent: String,
    pub country: String,
    /// Masked to the network (see [`crate::domain::device::masked_address`]).
    pub address: String,
}

/// The live sessions of the access token's user, newest first: neither ended (by a
/// log-out, a password change, ...) nor expired. The token is checked as refresh checks
/// it (from D1 and KV, never a recent read), and the sessions are read at the same time,
/// so the list costs one round trip.
///
/// A session is recorded after its login's answer, so the token's own session may not be
/// recorded yet when a client lists at once: it is then listed from the token and this
/// request, which come from the same device.
pub async fn list<P: Platform>(
    app: &App<P>,
    request: TokenRequest,
    device: &dyn Fn() -> Device,
) -> Result<Vec<ListedSession>, ApiError> {
    let now = app.clock.now_millis();
    let verified = session::verify(app, &request.jwt, Some(TokenKind::Access))?;
    let uid = verified.claims.data.uid;
    let (checked, records) = futures_util::future::join(
        // Not what this isolate read a moment ago: a session that another isolate's
        // log-out ended must leave the list at once. The read costs no time beside the
        // sessions' own.
        session::check_verified(app, verified, false),
        app.sessions.of_user(uid, now),
    )
    .await;
    let (verified, user) = checked?;
    let records = records?;
    let offset = app.session_policy.display_utc_offset;
    let own = &verified.claims.sid;
    let date = |ms: u64| display_time(ms / 1000, offset);
    let shown = |record: &SessionRecord| ListedSession {
        sid: record.sid.clone(),
        current: record.sid == *own,
        created_date: date(record.created_ms),
        last_used_date: date(record.last_used_ms),
        user_agent: record.device.user_agent.clone(),
        country: record.device.country.clone(),
        address: record.device.address.clone(),
    };
    let mut listed: Vec<ListedSession> =
        records.iter().filter(|record| session::is_current(record, &user)).map(shown).collect();
    if !listed.iter().any(|session| session.current) {
        let device = device();
        let at = verified.issued_at_millis;
        listed.insert(
            0,
            ListedSession {
                sid: own.clone(),
                current: true,
                created_date: date(at),
                last_used_date: date(at),
                user_agent: device.user_agent,
                country: device.country,
                address: device.address,
            },
        );
    }
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use pollster::block_on;

    use super::*;
    use crate::app::deactivate::deactivate;
    use crate::app::in_memory::{call_from, test_device, Deferrals, OneUser, NOW_MS};
    use crate::app::refresh::{refresh, Refreshed};
    use crate::domain::error::{AuthError, Field, Rule};
    use crate::domain::requests::{DeactivateRequest, LogoutScope, RefreshRequest};
    use crate::domain::token::TokenPair;

    const REVOKED: Result<(), ApiError> = Err(ApiError::Unauthorized(AuthError::Revoked));

    fn list_with(world: &OneUser, jwt: &str) -> Result<Vec<ListedSession>, ApiError> {
        block_on(list(world.0, TokenRequest { jwt: jwt.into() }, &test_device))
    }

    fn end(world: &OneUser, jwt: &str, scope: LogoutScope) -> Result<(), ApiError> {
        let request = DeactivateRequest { jwt: jwt.into(), scope };
        block_on(deactivate(world.0, request, &call_from("1.2.3.4", &Deferrals::default()))).map(|_| ())
    }

    fn refreshed(world: &OneUser, pair: &TokenPair) -> String {
        let request = RefreshRequest { jwt: pair.refresh_jwt.clone() };
        let deferrals = Deferrals::default();
        let outcome = block_on(refresh(world.0, request, &call_from("1.2.3.4", &deferrals)));
        deferrals.run();
        match outcome.unwrap() {
            Refreshed::Access(jwt) => jwt,
            other => panic!("no rotation here: {other:?}"),
        }
    }

    /// Logs in at `at_ms` past [`NOW_MS`].
    fn log_in_at(world: &OneUser, at_ms: u64) -> TokenPair {
        world.0.clock.set(NOW_MS + at_ms);
        world.log_in("old_pass").unwrap()
    }

    #[test]
    fn the_list_shows_each_login_newest_first_with_its_device() {
        let world = OneUser::new();
        let first = log_in_at(&world, 0);
        let second = log_in_at(&world, 61_000);
        let listed = list_with(&world, &first.jwt).unwrap();
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert_eq!(listed.iter().map(|s| s.current).collect::<Vec<_>>(), [false, true]);
        assert_eq!(
            (listed[0].created_date.as_str(), listed[1].created_date.as_str()),
            ("2023-12-16 17:36:21", "2023-12-16 17:35:20")
        );
        let shown = &listed[1];
        assert_eq!(
            (shown.user_agent.as_str(), shown.country.as_str(), shown.address.as_str()),
            ("test-agent/1.0", "CN", "1.2.3.0/24")
        );
        assert_eq!(shown.last_used_date, shown.created_date);
        // The other login's list says which one it is.
        let theirs = list_with(&world, &second.jwt).unwrap();
        assert_eq!(theirs.iter().map(|s| s.current).collect::<Vec<_>>(), [true, false]);
        assert_eq!(theirs[0].sid, listed[0].sid);
    }

    #[test]
    fn the_list_takes_a_live_access_token_only() {
        let world = OneUser::new();
        let pair = log_in_at(&world, 0);
        let wrong = Err(ApiError::Unauthorized(AuthError::WrongTokenType));
        assert_eq!(list_with(&world, &pair.refresh_jwt).map(|_| ()), wrong);
        end(&world, &pair.jwt, LogoutScope::Session).unwrap();
        assert_eq!(list_with(&world, &pair.jwt).map(|_| ()), REVOKED);
    }

    #[test]
    fn ending_a_session_by_its_id_ends_exactly_that_one() {
        let world = OneUser::new();
        let (one, two, three) = (log_in_at(&world, 0), log_in_at(&world, 1), log_in_at(&world, 2));
        let sid_of = |pair: &TokenPair| {
            list_with(&world, &pair.jwt).unwrap().into_iter().find(|s| s.current).unwrap().sid
        };
        let sids = [sid_of(&one), sid_of(&two), sid_of(&three)];
        end(&world, &one.jwt, LogoutScope::Sid(sids[1].clone())).unwrap();
        assert_eq!(world.status(&two.jwt), REVOKED);
        assert!(world.status(&one.jwt).is_ok() && world.status(&three.jwt).is_ok());
        let left: Vec<String> = list_with(&world, &three.jwt).unwrap().into_iter().map(|s| s.sid).collect();
        assert_eq!(left, [sids[2].clone(), sids[0].clone()]);
        // Ended already, unknown, or another user's: all the same 9906.
        let unknown = Err(ApiError::field(Field::Sid, Rule::Unknown));
        assert_eq!(end(&world, &one.jwt, LogoutScope::Sid(sids[1].clone())), unknown);
        assert_eq!(end(&world, &one.jwt, LogoutScope::Sid("nobody".into())), unknown);
        let stranger = crate::app::ports::SessionRecord {
            sid: "theirs".into(),
            uid: 2,
            epoch: 0,
            created_ms: NOW_MS,
            last_used_ms: NOW_MS,
            expires_ms: NOW_MS + 3_600_000,
            device: test_device(),
        };
        block_on(world.0.sessions.record(&stranger)).unwrap();
        assert_eq!(end(&world, &one.jwt, LogoutScope::Sid("theirs".into())), unknown);
        // Its own id ends the token's session, recorded or not.
        end(&world, &three.jwt, LogoutScope::Sid(sids[2].clone())).unwrap();
        assert_eq!(world.status(&three.jwt), REVOKED);
    }

    #[test]
    fn everywhere_else_ends_every_other_session_and_keeps_this_one_through_its_refreshes() {
        let world = OneUser::new();
        let (one, two, three) = (log_in_at(&world, 0), log_in_at(&world, 1), log_in_at(&world, 2));
        world.0.clock.set(NOW_MS + 10);
        end(&world, &two.jwt, LogoutScope::Others).unwrap();
        assert_eq!(world.status(&one.jwt), REVOKED);
        assert_eq!(world.status(&three.jwt), REVOKED);
        assert!(world.status(&two.jwt).is_ok());
        assert_eq!(list_with(&world, &two.jwt).unwrap().len(), 1);
        // Refreshed into the new epoch, it is still listed, once.
        world.0.clock.set(NOW_MS + 120_000);
        let fresh = refreshed(&world, &two);
        assert!(world.status(&fresh).is_ok() && world.status(&two.jwt).is_ok());
        let listed = list_with(&world, &fresh).unwrap();
        assert_eq!((listed.len(), listed[0].current), (1, true), "{listed:?}");
        assert_eq!(listed[0].last_used_date, "2023-12-16 17:37:20");
        // Everywhere else again, from its refreshed token: its refresh token, of the old
        // epoch, goes on too.
        end(&world, &fresh, LogoutScope::Others).unwrap();
        world.0.clock.set(NOW_MS + 125_000);
        let fresher = refreshed(&world, &two);
        assert!(world.status(&fresher).is_ok() && world.status(&fresh).is_ok());
        // A later login stands beside it; "all" then ends both.
        let four = log_in_at(&world, 130_000);
        assert_eq!(list_with(&world, &four.jwt).unwrap().len(), 2);
        end(&world, &fresh, LogoutScope::All).unwrap();
        assert_eq!(world.status(&fresh), REVOKED);
        assert_eq!(world.status(&four.jwt), REVOKED);
    }

    #[test]
    fn of_two_devices_ending_each_other_at_once_one_wins() {
        let world = OneUser::new();
        let (one, two) = (log_in_at(&world, 0), log_in_at(&world, 1));
        // Both checked their token before either wrote: the second write finds its
        // session no longer the user's.
        let verify = |jwt: &str| session::verify(world.0, jwt, None).unwrap();
        let (first, second) = (verify(&one.jwt), verify(&two.jwt));
        world.0.clock.set(NOW_MS + 10);
        block_on(session::end_others(world.0, &first, 1)).unwrap();
        assert_eq!(block_on(session::end_others(world.0, &second, 1)), REVOKED);
        assert!(world.status(&one.jwt).is_ok());
        assert_eq!(world.status(&two.jwt), REVOKED);
    }

    #[test]
    fn a_session_is_marked_used_at_most_once_a_minute() {
        let world = OneUser::new();
        let pair = log_in_at(&world, 0);
        let last_used = || list_with(&world, &pair.jwt).unwrap()[0].last_used_date.clone();
        world.0.clock.set(NOW_MS + 59_000);
        refreshed(&world, &pair);
        assert_eq!(last_used(), "2023-12-16 17:35:20");
        world.0.clock.set(NOW_MS + 60_000);
        refreshed(&world, &pair);
        assert_eq!(last_used(), "2023-12-16 17:36:20");
    }

    #[test]
    fn a_session_whose_record_has_not_arrived_is_listed_from_its_token() {
        let world = OneUser::new();
        let request = crate::domain::requests::LoginRequest { account: "foo".into(), pwd: "old_pass".into() };
        let deferrals = Deferrals::default();
        let call = call_from("1.2.3.4", &deferrals);
        let pair = block_on(crate::app::login::log_in(world.0, request, &call)).unwrap();
        let listed = list_with(&world, &pair.jwt).unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].current && listed[0].created_date == "2023-12-16 17:35:20");
        assert_eq!(listed[0].address, "1.2.3.0/24");
        deferrals.run();
        assert_eq!(list_with(&world, &pair.jwt).unwrap(), listed, "the record says the same");
    }

    #[test]
    fn a_session_ended_before_its_record_arrived_stays_ended() {
        let world = OneUser::new();
        let request = crate::domain::requests::LoginRequest { account: "foo".into(), pwd: "old_pass".into() };
        let deferrals = Deferrals::default();
        let late =
            block_on(crate::app::login::log_in(world.0, request, &call_from("1.2.3.4", &deferrals))).unwrap();
        let other = log_in_at(&world, 5);
        end(&world, &late.jwt, LogoutScope::Session).unwrap();
        deferrals.run();
        assert_eq!(list_with(&world, &other.jwt).unwrap().len(), 1);
    }
}
