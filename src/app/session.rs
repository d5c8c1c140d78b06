//! Sessions: opening one (at a login), checking a token against its session and user,
//! and ending sessions. `refresh`, `deactivate` and `status` are the endpoints built on it.
//!
//! A session is the tokens of one login: its refresh token and every access token minted
//! from it share a session id (`sid`). Revoking the session revokes them all, with one
//! entry in the [`RevocationList`] that outlives every token the session could still have.

use serde_json::json;

use super::events;
use super::platform::{log_if_failed, App, Call, Platform};
use super::ports::{
    Clock, KeptSession, PhoneChange, RevocationList, SessionRecord, SessionStore, StoredUser, UserStore,
};
use crate::domain::error::{ApiError, AuthError, Fault};
use crate::domain::events::EventType;
use crate::domain::password::PasswordHash;
use crate::domain::phone::Phone;
use crate::domain::random::random_id;
use crate::domain::token::{self, NewToken, TokenKind, TokenPair, UserData, VerifiedToken};

/// Opens a session of `user` as [`open`] does, for a sign-in by `method` (`password` or
/// `sms`), which is reported as `user.signed_in` with the session's id and device.
pub fn sign_in<P: Platform>(
    app: &'static App<P>,
    user: &StoredUser,
    method: &'static str,
    call: &Call<'_>,
) -> Result<TokenPair, ApiError> {
    let data = UserData { uid: user.id, rid: user.roles.clone() };
    let (pair, record) = open(app, &data, user.sessions_not_before_ms, call)?;
    let device = &record.device;
    let event =
        events::about(EventType::UserSignedIn, user).with("method", method).with("sid", record.sid).with(
            "device",
            json!({ "user_agent": device.user_agent, "country": device.country, "address": device.address }),
        );
    events::report(app, call, event);
    Ok(pair)
}

/// Opens a session of the user, whose session epoch was `epoch` when the user was read
/// (the session ends if it moves), and records it for "your devices" once the answer is
/// out: the login does not wait for the write. Returns its tokens and its record.
pub fn open<P: Platform>(
    app: &'static App<P>,
    user: &UserData,
    epoch: u64,
    call: &Call<'_>,
) -> Result<(TokenPair, SessionRecord), ApiError> {
    let sid = random_id(&app.rng);
    let now = app.clock.now_millis();
    let signed_in = Some(now / 1000);
    let pair = TokenPair {
        jwt: sign(app, TokenKind::Access, user, &sid, None, epoch, signed_in)?,
        refresh_jwt: sign(app, TokenKind::Refresh, user, &sid, None, epoch, signed_in)?,
    };
    let record = SessionRecord {
        sid,
        uid: user.uid,
        epoch,
        created_ms: now,
        last_used_ms: now,
        expires_ms: now + app.session_policy.refresh_ttl_seconds * 1000,
        device: (call.device)(),
    };
    let kept = record.clone();
    let write = async move { Ok(app.sessions.record(&kept).await?) };
    call.after_answer.defer("record a session", Box::pin(write));
    Ok((pair, record))
}

/// A token of the session `sid`, with the id `jti` if given (a random one otherwise),
/// whose user signed in at `auth_time`.
pub fn sign<P: Platform>(
    app: &App<P>,
    kind: TokenKind,
    user: &UserData,
    sid: &str,
    jti: Option<&str>,
    epoch: u64,
    auth_time: Option<u64>,
) -> Result<String, ApiError> {
    let policy = &app.session_policy;
    let ttl_seconds = match kind {
        TokenKind::Access => policy.access_ttl_seconds,
        TokenKind::Refresh => policy.refresh_ttl_seconds,
    };
    let new = NewToken { kind, user, sid, ttl_seconds, jti, epoch, auth_time };
    token::issue(&app.keys, &policy.scope, new, app.clock.now_millis(), &app.rng)
        .map_err(|reason| Fault::Crypto(reason).into())
}

/// Verifies `jwt` fully: the token itself, its session's revocation (KV), and its user
/// (D1: still there, not disabled, and the session opened under the user's current
/// epoch). The two reads run at once. With `recent`, what this isolate read a moment ago
/// may stand in for them: the session's revocation, and the user unless its epoch is not
/// the token's (then the copy is behind, or the token is over, and D1 decides).
pub async fn check<P: Platform>(
    app: &App<P>,
    jwt: &str,
    expected: Option<TokenKind>,
    recent: bool,
) -> Result<(VerifiedToken, StoredUser), ApiError> {
    check_verified(app, verify(app, jwt, expected)?, recent).await
}

/// The token itself: signature, times, issuer, audience, and its kind if `expected`.
pub fn verify<P: Platform>(
    app: &App<P>,
    jwt: &str,
    expected: Option<TokenKind>,
) -> Result<VerifiedToken, ApiError> {
    let scope = &app.session_policy.scope;
    token::verify(&app.keys, scope, jwt, expected, app.clock.now_seconds()).map_err(ApiError::Unauthorized)
}

/// [`check`] of a token [`verify`] accepted: its session and its user.
pub async fn check_verified<P: Platform>(
    app: &App<P>,
    verified: VerifiedToken,
    recent: bool,
) -> Result<(VerifiedToken, StoredUser), ApiError> {
    let uid = verified.claims.data.uid;
    let now = app.clock.now_millis();
    let (recent_users, recent_revocations) = (&app.recent_users, &app.recent_revocations);
    // Noted before the reads: a change made here while they are under way (a log-out)
    // keeps what they find out of the cache.
    let (users_seen, revocations_seen) = (recent_users.generation(), recent_revocations.generation());
    let read_user = async {
        let cached = recent.then(|| recent_users.get(uid, now)).flatten();
        if let Some(user) = cached.filter(|user| in_epoch(&verified, user)) {
            return Ok(Some(user));
        }
        let user = app.users.find_by_id(uid).await?;
        match &user {
            Some(user) => recent_users.put(user, now, users_seen),
            None => recent_users.forget(uid),
        }
        Ok(user)
    };
    let sid = &verified.claims.sid;
    let read_revoked = async {
        if let Some(revoked) = recent.then(|| recent_revocations.get(sid, now)).flatten() {
            return Ok(revoked);
        }
        let revoked = app.revocations.is_revoked(sid).await?;
        recent_revocations.note_read(sid, revoked, now, revocations_seen);
        Ok(revoked)
    };
    let (revoked, user): (Result<bool, Fault>, Result<Option<StoredUser>, Fault>) =
        futures_util::future::join(read_revoked, read_user).await;
    if revoked? {
        return Err(ApiError::Unauthorized(AuthError::Revoked));
    }
    let user = match user? {
        Some(user) if !user.disabled && !user.is_leaving() => user,
        _ => return Err(ApiError::Unauthorized(AuthError::UserUnavailable)),
    };
    if !in_epoch(&verified, &user) {
        return Err(ApiError::Unauthorized(AuthError::Revoked));
    }
    Ok((verified, user))
}

/// The user of an access token that passes every check status makes, with the user read
/// from the store (never a cached copy): 9908 otherwise.
pub async fn user_of_access_token<P: Platform>(app: &App<P>, jwt: &str) -> Result<StoredUser, ApiError> {
    Ok(check(app, jwt, Some(TokenKind::Access), false).await?.1)
}

/// Revokes one session of user `uid`, for longer than any of its tokens can live, and
/// takes it off the user's list.
pub async fn revoke<P: Platform>(app: &App<P>, uid: u64, sid: &str) -> Result<(), ApiError> {
    let policy = &app.session_policy;
    // The last token this session can mint is an access token made by a refresh at the
    // end of the refresh token's life; the entry must outlive that one too, with the clock
    // leeway verification allows on both.
    let leeway = 2 * token::LEEWAY_SECONDS as u64;
    let ttl = policy.refresh_ttl_seconds + policy.access_ttl_seconds + leeway;
    let now = app.clock.now_millis();
    let (revoked, unlisted) = futures_util::future::join(
        app.revocations.revoke(sid, ttl),
        app.sessions.end(uid, sid, now + ttl * 1000),
    )
    .await;
    // Noted even if the write failed: the client asked for the session to end, and this
    // isolate's status rather shows it ended than alive.
    app.recent_revocations.note_revoked(sid, now);
    // The revocation is what ends the session; should only its record fail, the session
    // is over all the same, and the log says its record was left.
    log_if_failed::<P>("mark an ended session's record", unlisted.map_err(ApiError::from));
    Ok(revoked?)
}

/// Ends every session of the user but the one `verified` belongs to, which goes on
/// (its next refresh moves it to the new epoch). 9908 if that session ended meanwhile:
/// of two devices ending each other's sessions at once, one wins.
pub async fn end_others<P: Platform>(
    app: &App<P>,
    verified: &VerifiedToken,
    uid: u64,
) -> Result<(), ApiError> {
    let ended = app.users.end_sessions(uid, cutoff(app), Some(&kept(verified))).await;
    app.recent_users.forget(uid);
    match ended? {
        Some(_) => Ok(()),
        None => Err(ApiError::Unauthorized(AuthError::Revoked)),
    }
}

/// Gives the user the phone `phone` and ends every session of the user but the one
/// `verified` belongs to, in one write: 50007 if a user has the phone by then, 9908 if
/// the session ended meanwhile (as [`end_others`]).
pub async fn change_phone<P: Platform>(
    app: &App<P>,
    verified: &VerifiedToken,
    uid: u64,
    phone: &Phone,
) -> Result<(), ApiError> {
    let changed = app.users.change_phone(uid, phone, cutoff(app), &kept(verified)).await;
    app.recent_users.forget(uid);
    match changed? {
        PhoneChange::Changed => Ok(()),
        PhoneChange::Taken => Err(ApiError::AlreadyRegistered { account: phone.e164().to_string() }),
        PhoneChange::SessionEnded => Err(ApiError::Unauthorized(AuthError::Revoked)),
    }
}

/// The session of `verified`, as a write that keeps it names it.
fn kept(verified: &VerifiedToken) -> KeptSession {
    KeptSession { sid: verified.claims.sid.clone(), epoch: verified.claims.epoch.unwrap_or(0) }
}

/// Ends every session of the user: every token issued up to and including this
/// millisecond stops verifying; a login a moment later starts a session that works.
pub async fn end_all<P: Platform>(app: &App<P>, uid: u64) -> Result<(), ApiError> {
    let ended = app.users.end_sessions(uid, cutoff(app), None).await;
    app.recent_users.forget(uid);
    ended.map(|_| ()).map_err(ApiError::from)
}

/// Stores a new password hash and ends every session of the user, in one write (a reset,
/// a change). Returns the new epoch, for a session opened after it.
pub async fn replace_password<P: Platform>(
    app: &App<P>,
    uid: u64,
    hash: &PasswordHash,
) -> Result<u64, ApiError> {
    let written = app.users.replace_password(uid, hash, cutoff(app)).await;
    app.recent_users.forget(uid);
    Ok(written?)
}

/// Schedules the user's deletion for `delete_after_ms` and ends every session of the
/// user, in one write.
pub async fn end_for_deletion<P: Platform>(
    app: &App<P>,
    uid: u64,
    delete_after_ms: u64,
) -> Result<(), ApiError> {
    let written = app.users.schedule_deletion(uid, delete_after_ms, cutoff(app)).await;
    app.recent_users.forget(uid);
    Ok(written?)
}

/// The epoch that ends every session of a user now: a time, so that tokens from before
/// epochs existed (judged by when they were issued) issued up to and including this
/// millisecond end too. Whoever writes it forgets the cached user, whether or not the
/// write went through, so that this isolate's next status reads it again.
fn cutoff<P: Platform>(app: &App<P>) -> u64 {
    app.clock.now_millis() + 1
}

/// Whether the token's session was opened under the user's current epoch, or is the one
/// session a "log out everywhere else" kept. A token from before epochs existed carries
/// none; it is judged by when it was issued.
fn in_epoch(verified: &VerifiedToken, user: &StoredUser) -> bool {
    let claims = &verified.claims;
    let current = match claims.epoch {
        Some(epoch) => epoch == user.sessions_not_before_ms,
        None => verified.issued_at_millis >= user.sessions_not_before_ms,
    };
    current || is_kept(&claims.sid, user)
}

/// Whether a recorded session is still one of the user's: of the current epoch, or kept.
pub fn is_current(record: &SessionRecord, user: &StoredUser) -> bool {
    record.epoch == user.sessions_not_before_ms || is_kept(&record.sid, user)
}

fn is_kept(sid: &str, user: &StoredUser) -> bool {
    user.kept_sid.as_deref() == Some(sid)
}

#[cfg(test)]
mod tests {
    use std::ops::Deref;

    use serde_json::{json, Value};

    use super::*;
    use crate::app::in_memory::{app, app_with, call_from, leak, logged_refresh_events, Deferrals, Native};
    use crate::app::platform::{REFRESH_REPLAYED, REFRESH_WITHIN_GRACE};
    use crate::app::refresh::{refresh, Refreshed};
    use crate::app::{deactivate, status};
    use crate::domain::clock::FixedClock;
    use crate::domain::requests::{DeactivateRequest, LogoutScope, RefreshRequest, TokenRequest};
    use pollster::block_on;

    const NOW: u64 = 1_702_719_320;

    /// An app with one user, id 1 with roles 1 and 3.
    struct World(&'static App<Native>);

    impl Deref for World {
        type Target = App<Native>;

        fn deref(&self) -> &App<Native> {
            self.0
        }
    }

    impl World {
        fn new() -> Self {
            World::with(app())
        }

        fn rotating() -> Self {
            World::with(app_with(&[("REFRESH_ROTATION", "true")]))
        }

        fn with(app: App<Native>) -> Self {
            app.users.insert_user(1, vec!["1".into(), "3".into()]);
            World(leak(app))
        }

        /// The session endpoints, the app's clock at `clock`.
        fn at(&self, clock: &FixedClock) -> At {
            self.0.clock.set(clock.0);
            At(self.0)
        }
    }

    /// The session endpoints, each called as a request would be, its work after the
    /// answer done.
    struct At(&'static App<Native>);

    impl At {
        async fn open(&self, user: &UserData, epoch: u64) -> Result<TokenPair, ApiError> {
            let deferrals = Deferrals::default();
            let opened = open(self.0, user, epoch, &call_from("1.2.3.4", &deferrals)).map(|(pair, _)| pair);
            deferrals.run();
            opened
        }

        async fn refresh(&self, jwt: &str) -> Result<Refreshed, ApiError> {
            let deferrals = Deferrals::default();
            let refreshed =
                refresh(self.0, RefreshRequest { jwt: jwt.into() }, &call_from("1.2.3.4", &deferrals)).await;
            deferrals.run();
            refreshed
        }

        async fn deactivate(&self, jwt: &str, scope: LogoutScope) -> Result<(), ApiError> {
            let deferrals = Deferrals::default();
            let request = DeactivateRequest { jwt: jwt.into(), scope };
            let done = deactivate::deactivate(self.0, request, &call_from("1.2.3.4", &deferrals)).await;
            deferrals.run();
            done.map(|_| ())
        }

        async fn status(&self, jwt: &str) -> Result<Value, ApiError> {
            let status = status::status(self.0, TokenRequest { jwt: jwt.into() }).await?;
            Ok(serde_json::to_value(status).unwrap())
        }
    }

    fn user() -> UserData {
        UserData { uid: 1, rid: vec!["1".into(), "3".into()] }
    }

    #[test]
    fn status_shows_the_documents_fields_in_shanghai_time() {
        let world = World::new();
        let clock = FixedClock(NOW * 1000);
        let pair = block_on(world.at(&clock).open(&user(), 0)).unwrap();
        let later = FixedClock((NOW + 167) * 1000);
        let status = block_on(world.at(&later).status(&pair.jwt)).unwrap();
        assert_eq!(
            status,
            json!({"exp": 86_233, "uid": 1, "account": "user1", "jwt_data": {"uid": 1, "rid": ["1", "3"]},
                   "exp_date": "2023-12-17 17:35:20", "iat_date": "2023-12-16 17:35:20"})
        );
    }

    #[test]
    fn deactivating_either_token_ends_the_whole_session() {
        let world = World::new();
        let clock = FixedClock(NOW * 1000);
        let service = world.at(&clock);
        let pair = block_on(service.open(&user(), 0)).unwrap();
        let refreshed = access(block_on(service.refresh(&pair.refresh_jwt)).unwrap());
        block_on(service.deactivate(&pair.jwt, LogoutScope::Session)).unwrap();
        let revoked = Err(ApiError::Unauthorized(AuthError::Revoked));
        assert_eq!(block_on(service.status(&pair.jwt)).map(|_| ()), revoked);
        assert_eq!(block_on(service.status(&refreshed)).map(|_| ()), revoked);
        assert_eq!(block_on(service.refresh(&pair.refresh_jwt)).map(|_| ()), revoked);
        assert_eq!(block_on(service.deactivate(&pair.refresh_jwt, LogoutScope::Session)), revoked);
    }

    #[test]
    fn logging_out_everywhere_ends_every_session_of_the_user_even_those_opened_meanwhile() {
        let world = World::new();
        let at = |ms: u64| FixedClock(NOW * 1000 + ms);
        let one = block_on(world.at(&at(100)).open(&user(), 0)).unwrap();
        let two = block_on(world.at(&at(200)).open(&user(), 0)).unwrap();
        block_on(world.at(&at(300)).deactivate(&two.jwt, LogoutScope::All)).unwrap();
        // A login that read the user before the log-out and signs after it: its epoch is
        // the old one, whatever the time it signs at.
        let in_flight = block_on(world.at(&at(900)).open(&user(), 0)).unwrap();
        let revoked = Err(ApiError::Unauthorized(AuthError::Revoked));
        for token in [&one.jwt, &two.jwt, &in_flight.jwt] {
            assert_eq!(block_on(world.at(&at(1_000)).status(token)).map(|_| ()), revoked);
        }
        for token in [&one.refresh_jwt, &two.refresh_jwt, &in_flight.refresh_jwt] {
            assert_eq!(block_on(world.at(&at(1_000)).refresh(token)).map(|_| ()), revoked);
        }
        // A login that reads the user now works, in the same millisecond too.
        let epoch = block_on(world.users.find_by_id(1)).unwrap().unwrap().sessions_not_before_ms;
        let after = block_on(world.at(&at(300)).open(&user(), epoch)).unwrap();
        assert!(block_on(world.at(&at(300)).status(&after.jwt)).is_ok(), "a later login works");
        let refreshed = access(block_on(world.at(&at(300)).refresh(&after.refresh_jwt)).unwrap());
        assert!(block_on(world.at(&at(300)).status(&refreshed)).is_ok());
        // Every log-out gives a new epoch, even within one millisecond.
        block_on(world.at(&at(300)).deactivate(&after.jwt, LogoutScope::All)).unwrap();
        assert_eq!(block_on(world.at(&at(300)).status(&refreshed)).map(|_| ()), revoked);
    }

    #[test]
    fn status_reads_the_store_again_for_a_session_newer_than_its_copy_of_the_user() {
        let world = World::new();
        let clock = FixedClock(NOW * 1000);
        let old = block_on(world.at(&clock).open(&user(), 0)).unwrap();
        block_on(world.at(&clock).status(&old.jwt)).unwrap();
        // Logged out everywhere and in again through another isolate: this one's copy of
        // the user still has the old epoch.
        let epoch = block_on(world.users.end_sessions(1, NOW * 1000 + 1, None)).unwrap().unwrap();
        let new = block_on(world.at(&clock).open(&user(), epoch)).unwrap();
        assert!(block_on(world.at(&clock).status(&new.jwt)).is_ok());
        let revoked = Err(ApiError::Unauthorized(AuthError::Revoked));
        assert_eq!(block_on(world.at(&clock).status(&old.jwt)).map(|_| ()), revoked);
    }

    #[test]
    fn a_token_from_before_epochs_is_judged_by_when_it_was_issued() {
        let token = |iat_ms: u64| VerifiedToken {
            claims: token::SessionClaims {
                iss: "login".into(),
                aud: "login".into(),
                sub: "1".into(),
                jti: "j".into(),
                sid: "s".into(),
                token_use: TokenKind::Access,
                data: user(),
                epoch: None,
                iat_ms: Some(iat_ms),
                auth_time: None,
            },
            issued_at: iat_ms / 1000,
            issued_at_millis: iat_ms,
            expires_at: iat_ms / 1000 + 60,
        };
        let mut user = block_on(World::new().users.find_by_id(1)).unwrap().unwrap();
        user.sessions_not_before_ms = 5_000;
        assert!(!in_epoch(&token(4_999), &user));
        assert!(in_epoch(&token(5_000), &user));
    }

    #[test]
    fn status_may_use_a_user_read_a_moment_ago_but_refresh_never_does() {
        let world = World::new();
        let clock = FixedClock(NOW * 1000);
        let pair = block_on(world.at(&clock).open(&user(), 0)).unwrap();
        block_on(world.at(&clock).status(&pair.jwt)).unwrap();
        // Disabled in the store behind this isolate's back (an operator's D1 edit).
        world.users.disable(1);
        let unavailable = Err(ApiError::Unauthorized(AuthError::UserUnavailable));
        let soon = FixedClock(NOW * 1000 + 4_999);
        assert!(block_on(world.at(&soon).status(&pair.jwt)).is_ok(), "within the cache time");
        assert_eq!(block_on(world.at(&soon).refresh(&pair.refresh_jwt)).map(|_| ()), unavailable);
        // The refresh read the store, and status sees what it read.
        assert_eq!(block_on(world.at(&soon).status(&pair.jwt)).map(|_| ()), unavailable);
        let other = World::new();
        let pair = block_on(other.at(&clock).open(&user(), 0)).unwrap();
        block_on(other.at(&clock).status(&pair.jwt)).unwrap();
        other.users.disable(1);
        let later = FixedClock(NOW * 1000 + 5_000);
        assert_eq!(block_on(other.at(&later).status(&pair.jwt)).map(|_| ()), unavailable);
    }

    #[test]
    fn status_may_use_a_revocation_read_a_moment_ago_but_sees_a_log_out_here_at_once() {
        let revoked = Err(ApiError::Unauthorized(AuthError::Revoked));
        let session_of = |world: &World, jwt: &str| {
            let scope = &world.session_policy.scope;
            token::verify(&world.keys, scope, jwt, None, NOW).unwrap().claims.sid
        };
        let clock = FixedClock(NOW * 1000);
        let soon = FixedClock(NOW * 1000 + 4_999);
        let world = World::new();
        let pair = block_on(world.at(&clock).open(&user(), 0)).unwrap();
        block_on(world.at(&clock).status(&pair.jwt)).unwrap();
        // Revoked through another isolate: this one's status may not know for 5 s.
        block_on(world.revocations.revoke(&session_of(&world, &pair.jwt), 60)).unwrap();
        assert!(block_on(world.at(&soon).status(&pair.jwt)).is_ok(), "within the cache time");
        assert_eq!(block_on(world.at(&soon).refresh(&pair.refresh_jwt)).map(|_| ()), revoked);
        // The refresh read the list, and status sees what it read.
        assert_eq!(block_on(world.at(&soon).status(&pair.jwt)).map(|_| ()), revoked);
        let later = FixedClock(NOW * 1000 + 5_000);
        let other = World::new();
        let pair = block_on(other.at(&clock).open(&user(), 0)).unwrap();
        block_on(other.at(&clock).status(&pair.jwt)).unwrap();
        block_on(other.revocations.revoke(&session_of(&other, &pair.jwt), 60)).unwrap();
        assert_eq!(block_on(other.at(&later).status(&pair.jwt)).map(|_| ()), revoked);
        // A log-out through this isolate is seen by its next status, cache or not.
        let here = World::new();
        let pair = block_on(here.at(&clock).open(&user(), 0)).unwrap();
        block_on(here.at(&clock).status(&pair.jwt)).unwrap();
        block_on(here.at(&clock).deactivate(&pair.refresh_jwt, LogoutScope::Session)).unwrap();
        assert_eq!(block_on(here.at(&clock).status(&pair.jwt)).map(|_| ()), revoked);
    }

    #[test]
    fn without_rotation_a_refresh_gives_an_access_token_only() {
        let world = World::new();
        let clock = FixedClock(NOW * 1000);
        let pair = block_on(world.at(&clock).open(&user(), 0)).unwrap();
        let refreshed = block_on(world.at(&clock).refresh(&pair.refresh_jwt)).unwrap();
        assert!(matches!(refreshed, Refreshed::Access(_)), "{refreshed:?}");
        assert!(serde_json::to_value(&refreshed).unwrap().is_string(), "the document's shape");
    }

    #[test]
    fn a_replayed_refresh_token_ends_the_session() {
        let world = World::rotating();
        let at = |s: u64| FixedClock((NOW + s) * 1000);
        let pair = block_on(world.at(&at(0)).open(&user(), 0)).unwrap();
        let (t1, t2) = (at(1), at(2));
        world.families.now_millis.set(1_000);
        let first = pair_of(block_on(world.at(&t1).refresh(&pair.refresh_jwt)).unwrap());
        assert_eq!(logged_refresh_events(), Vec::<String>::new(), "a rotation is no event");
        world.families.now_millis.set(2_000);
        let second = pair_of(block_on(world.at(&t2).refresh(&pair.refresh_jwt)).unwrap());
        assert!(block_on(world.at(&t2).status(&second.jwt)).is_ok(), "within the grace window");
        let sid = verify(world.0, &first.jwt, None).unwrap().claims.sid;
        // The operator's view: the race within the window, then the replay that ended it.
        assert_eq!(logged_refresh_events(), [format!("{REFRESH_WITHIN_GRACE} 1 {sid}")]);
        let late = at(30);
        world.families.now_millis.set(30_000);
        let replay = block_on(world.at(&late).refresh(&pair.refresh_jwt));
        assert_eq!(replay, Err(ApiError::Unauthorized(AuthError::Revoked)));
        assert_eq!(logged_refresh_events()[1], format!("{REFRESH_REPLAYED} 1 {sid}"));
        // And the app's backend hears of the session's end.
        let events = world.events.as_ref().unwrap();
        assert_eq!(events.types(), ["session.revoked"]);
        let data = &events.payloads()[0]["data"];
        assert_eq!((&data["sid"], &data["reason"]), (&sid.as_str().into(), &REFRESH_REPLAYED.into()));
        let revoked = Err(ApiError::Unauthorized(AuthError::Revoked));
        assert_eq!(block_on(world.at(&late).status(&first.jwt)).map(|_| ()), revoked);
        assert_eq!(block_on(world.at(&late).refresh(&first.refresh_jwt)).map(|_| ()), revoked);
    }

    fn access(refreshed: Refreshed) -> String {
        match refreshed {
            Refreshed::Access(jwt) => jwt,
            other => panic!("expected an access token, got {other:?}"),
        }
    }

    fn pair_of(refreshed: Refreshed) -> TokenPair {
        match refreshed {
            Refreshed::Pair(pair) => pair,
            other => panic!("expected a rotated pair, got {other:?}"),
        }
    }

    #[test]
    fn a_disabled_user_fails_status_too() {
        let world = World::new();
        let clock = FixedClock(NOW * 1000);
        let pair = block_on(world.at(&clock).open(&user(), 0)).unwrap();
        world.users.disable(1);
        let unavailable = Err(ApiError::Unauthorized(AuthError::UserUnavailable));
        assert_eq!(block_on(world.at(&clock).status(&pair.jwt)).map(|_| ()), unavailable);
    }

    #[test]
    fn refresh_reads_roles_again_and_refuses_disabled_users() {
        let world = World::new();
        let clock = FixedClock(NOW * 1000);
        let service = world.at(&clock);
        let pair = block_on(service.open(&user(), 0)).unwrap();
        world.users.insert_user(1, vec!["2".into()]);
        let fresh = access(block_on(service.refresh(&pair.refresh_jwt)).unwrap());
        assert_eq!(block_on(service.status(&fresh)).unwrap()["jwt_data"]["rid"], json!(["2"]));
        world.users.disable(1);
        assert_eq!(
            block_on(service.refresh(&pair.refresh_jwt)),
            Err(ApiError::Unauthorized(AuthError::UserUnavailable))
        );
    }

    #[test]
    fn access_and_refresh_tokens_are_not_interchangeable() {
        let world = World::new();
        let clock = FixedClock(NOW * 1000);
        let service = world.at(&clock);
        let pair = block_on(service.open(&user(), 0)).unwrap();
        let wrong = Err(ApiError::Unauthorized(AuthError::WrongTokenType));
        assert_eq!(block_on(service.refresh(&pair.jwt)).map(|_| ()), wrong);
        assert_eq!(block_on(service.status(&pair.refresh_jwt)).map(|_| ()), wrong);
    }
}
