//! `POST /login/jwt/status`

use serde::Serialize;

use super::platform::{App, Platform};
use super::ports::Clock;
use super::session;
use crate::domain::clock::display_time;
use crate::domain::error::ApiError;
use crate::domain::requests::TokenRequest;
use crate::domain::token::{TokenKind, UserData};

/// What status says of a token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Seconds left.
    pub exp: u64,
    pub uid: u64,
    /// The account's name: the one a code sign-in made, too.
    pub account: String,
    pub jwt_data: UserData,
    pub exp_date: String,
    pub iat_date: String,
}

/// What an access token says, once it has passed every check. The one check that may
/// use what this isolate read a moment ago (see [`super::recent`]): frontends call it
/// often.
pub async fn status<P: Platform>(app: &App<P>, request: TokenRequest) -> Result<Status, ApiError> {
    let (verified, user) = session::check(app, &request.jwt, Some(TokenKind::Access), true).await?;
    let offset = app.session_policy.display_utc_offset;
    let data = verified.claims.data;
    Ok(Status {
        exp: verified.expires_at.saturating_sub(app.clock.now_seconds()),
        uid: data.uid,
        account: user.account,
        exp_date: display_time(verified.expires_at, offset),
        iat_date: display_time(verified.issued_at, offset),
        jwt_data: data,
    })
}
