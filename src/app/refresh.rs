//! `POST /login/jwt/refresh`

use serde::Serialize;

use super::events::{self, Revoked};
use super::platform::{App, Call, Platform, REFRESH_REPLAYED, REFRESH_WITHIN_GRACE};
use super::ports::{Clock, RefreshFamilies, SessionStore, StoredUser};
use super::session;
use crate::domain::error::{ApiError, AuthError};
use crate::domain::random::random_id;
use crate::domain::refresh_rotation::Rotation;
use crate::domain::requests::RefreshRequest;
use crate::domain::token::{TokenKind, TokenPair, UserData, VerifiedToken};

/// What `/login/jwt/refresh` returns: a new access token, or with rotation a new pair.
/// Untagged, so the JSON is the document's string, or the pair's object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Refreshed {
    Access(String),
    Pair(TokenPair),
}

/// A new access token for a valid refresh token, with the user's roles read again. With
/// rotation, a new refresh token too, retiring the one presented; a replay of a retired
/// token ends the whole session.
///
/// The session's entry in "your devices" is marked used after the answer (at most once a
/// minute).
pub async fn refresh<P: Platform>(
    app: &'static App<P>,
    request: RefreshRequest,
    call: &Call<'_>,
) -> Result<Refreshed, ApiError> {
    let (verified, user) = session::check(app, &request.jwt, Some(TokenKind::Refresh), false).await?;
    let policy = &app.session_policy;
    let now = app.clock.now_millis();
    let sid = verified.claims.sid.clone();
    // The epoch as checked: should the user's sessions end while this refresh runs, the
    // new tokens are over with them.
    let epoch = user.sessions_not_before_ms;
    let refreshed = if policy.rotate_refresh_tokens {
        rotate(app, verified, user, call).await.map(Refreshed::Pair)
    } else {
        let data = UserData { uid: user.id, rid: user.roles };
        let signed_in = verified.claims.auth_time;
        session::sign(app, TokenKind::Access, &data, &sid, None, epoch, signed_in).map(Refreshed::Access)
    };
    if refreshed.is_ok() {
        // A rotated refresh token lives from now: so does its session.
        let expires = if policy.rotate_refresh_tokens { now + policy.refresh_ttl_seconds * 1000 } else { 0 };
        let touch = async move { Ok(app.sessions.touch(&sid, now, expires, epoch).await?) };
        call.after_answer.defer("mark a session used", Box::pin(touch));
    }
    refreshed
}

async fn rotate<P: Platform>(
    app: &App<P>,
    verified: VerifiedToken,
    user: StoredUser,
    call: &Call<'_>,
) -> Result<TokenPair, ApiError> {
    let sid = &verified.claims.sid;
    let fresh = random_id(&app.rng);
    match app.families.rotate(sid, &verified.claims.jti, &fresh).await? {
        Rotation::Next(jti) => {
            if jti != fresh {
                P::log_refresh_event(REFRESH_WITHIN_GRACE, user.id, sid);
            }
            let epoch = user.sessions_not_before_ms;
            let data = UserData { uid: user.id, rid: user.roles };
            let signed_in = verified.claims.auth_time;
            Ok(TokenPair {
                jwt: session::sign(app, TokenKind::Access, &data, sid, None, epoch, signed_in)?,
                refresh_jwt: session::sign(
                    app,
                    TokenKind::Refresh,
                    &data,
                    sid,
                    Some(&jti),
                    epoch,
                    signed_in,
                )?,
            })
        }
        Rotation::Reused => {
            P::log_refresh_event(REFRESH_REPLAYED, user.id, sid);
            session::revoke(app, user.id, sid).await?;
            let revoked = events::session_revoked(&user, Revoked::Session(sid), REFRESH_REPLAYED);
            events::report(app, call, revoked);
            Err(ApiError::Unauthorized(AuthError::Revoked))
        }
    }
}
