//! `POST /login/jwt/deactivate`

use super::platform::{App, Platform};
use super::session;
use crate::domain::envelope::NoData;
use crate::domain::error::ApiError;
use crate::domain::requests::{DeactivateRequest, LogoutScope};

/// Ends the session of the token (an access or a refresh token), or with
/// [`LogoutScope::All`] every session of its user.
pub async fn deactivate<P: Platform>(app: &App<P>, request: DeactivateRequest) -> Result<NoData, ApiError> {
    let (verified, user) = session::check(app, &request.jwt, None, false).await?;
    match request.scope {
        LogoutScope::Session => session::revoke(app, &verified.claims.sid).await?,
        LogoutScope::All => session::end_all(app, user.id).await?,
    }
    Ok(NoData)
}
