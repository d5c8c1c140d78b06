//! `POST /login/jwt/deactivate`

use super::events::{self, Revoked};
use super::platform::{App, Call, Platform};
use super::ports::{Clock, SessionStore};
use super::session;
use crate::domain::envelope::NoData;
use crate::domain::error::{ApiError, Field, Rule};
use crate::domain::requests::{DeactivateRequest, LogoutScope};

/// Ends the session of the token (an access or a refresh token); with
/// [`LogoutScope::All`] every session of its user, with [`LogoutScope::Others`] every one
/// but the token's, and with [`LogoutScope::Sid`] that one session of the token's user
/// (9906 `sid 不存在` for any other id: another user's session is as unknown as none).
/// Reported as `session.revoked`, with the `scope` (`session` and its `sid`, `others`
/// and the `kept_sid`, or `all`).
pub async fn deactivate<P: Platform>(
    app: &App<P>,
    request: DeactivateRequest,
    call: &Call<'_>,
) -> Result<NoData, ApiError> {
    let (verified, user) = session::check(app, &request.jwt, None, false).await?;
    let own = &verified.claims.sid;
    let revoked = match &request.scope {
        LogoutScope::Session => {
            session::revoke(app, user.id, own).await?;
            Revoked::Session(own)
        }
        LogoutScope::All => {
            session::end_all(app, user.id).await?;
            Revoked::All
        }
        LogoutScope::Others => {
            session::end_others(app, &verified, user.id).await?;
            Revoked::Others(own)
        }
        // The token's own session lives, whether or not its record has arrived yet.
        LogoutScope::Sid(sid) if sid == own => {
            session::revoke(app, user.id, own).await?;
            Revoked::Session(own)
        }
        LogoutScope::Sid(sid) => {
            let listed = app.sessions.of_user(user.id, app.clock.now_millis()).await?;
            if !listed.iter().any(|record| record.sid == *sid && session::is_current(record, &user)) {
                return Err(ApiError::field(Field::Sid, Rule::Unknown));
            }
            session::revoke(app, user.id, sid).await?;
            Revoked::Session(sid)
        }
    };
    let revoked = events::session_revoked(&user, revoked, "signed_out");
    events::report(app, call, revoked);
    Ok(NoData)
}
