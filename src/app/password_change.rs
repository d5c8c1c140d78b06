//! `POST /login/password/change`: an access token and the current password. It ends
//! every session of the user, the one sent included, as "log out everywhere" does, and
//! opens a new one so the caller stays signed in.

use super::events;
use super::login::check_password_of;
use super::platform::{App, Call, Platform};
use super::session;
use crate::domain::error::ApiError;
use crate::domain::events::EventType;
use crate::domain::password::PasswordHash;
use crate::domain::requests::ChangePasswordRequest;
use crate::domain::token::{TokenPair, UserData};

/// Checks the access token (9908 for anything status would refuse, or a refresh token),
/// then the current password as a login of the account would (50006, 9905 past the
/// limits), sets the new one, which ends every session of the user, and opens a new
/// session.
pub async fn change<P: Platform>(
    app: &'static App<P>,
    request: ChangePasswordRequest,
    call: &Call<'_>,
) -> Result<TokenPair, ApiError> {
    let user = session::user_of_access_token(app, &request.jwt).await?;
    let user = check_password_of(app, user, &request.pwd, call).await?;
    let password = request.password.as_str();
    let hash = PasswordHash::create(&app.kdf, &app.rng, password, &app.settings.passwords).await?;
    let epoch = session::replace_password(app, user.id, &hash).await?;
    let data = UserData { uid: user.id, rid: user.roles.clone() };
    let (pair, session) = session::open(app, &data, epoch, call)?;
    // With the session that goes on, so that the backend knows its id as a sign-in's.
    let changed = events::about(EventType::UserPasswordChanged, &user).with("sid", session.sid);
    events::report(app, call, changed);
    Ok(pair)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::app::in_memory::{call_from, Deferrals, OneUser};
    use crate::app::refresh::{refresh, Refreshed};
    use crate::app::{deactivate, in_memory::NOW_MS};
    use crate::domain::error::AuthError;
    use crate::domain::requests::{DeactivateRequest, LogoutScope, RefreshRequest};
    use pollster::block_on;

    const REVOKED: Result<(), ApiError> = Err(ApiError::Unauthorized(AuthError::Revoked));

    /// A change with the token `jwt` and the current password `pwd`, its bookkeeping done.
    fn change_with(world: &OneUser, jwt: &str, pwd: &str) -> Result<TokenPair, ApiError> {
        let body = json!({"jwt": jwt, "pwd": pwd, "password": "new_pass",
                          "password_confirmation": "new_pass"});
        let request = ChangePasswordRequest::parse(body.to_string().as_bytes()).unwrap();
        let deferrals = Deferrals::default();
        let outcome = block_on(change(world.0, request, &call_from("1.2.3.4", &deferrals)));
        deferrals.run();
        outcome
    }

    #[test]
    fn a_change_ends_every_session_and_returns_a_pair_that_works() {
        let world = OneUser::new();
        assert_eq!(world.0.clock.0.get(), NOW_MS, "a standing clock");
        let sent = world.log_in("old_pass").unwrap();
        let other = world.log_in("old_pass").unwrap();
        let fresh = change_with(&world, &sent.jwt, "old_pass").unwrap();
        // Same millisecond as the change: the new pair works, and so does what it refreshes.
        assert!(world.status(&fresh.jwt).is_ok());
        let request = RefreshRequest { jwt: fresh.refresh_jwt };
        let refreshed =
            block_on(refresh(world.0, request, &call_from("1.2.3.4", &Deferrals::default()))).unwrap();
        let Refreshed::Access(refreshed) = refreshed else { panic!("no rotation here") };
        assert!(world.status(&refreshed).is_ok());
        assert_eq!(world.status(&sent.jwt), REVOKED);
        assert_eq!(world.status(&other.jwt), REVOKED);
        assert!(matches!(world.log_in("old_pass"), Err(ApiError::LoginFailed { .. })));
        assert!(world.log_in("new_pass").is_ok());
    }

    #[test]
    fn a_wrong_current_password_counts_as_a_failed_login_of_the_account() {
        let world = OneUser::new();
        let pair = world.log_in("old_pass").unwrap();
        for _ in 0..3 {
            let failed = change_with(&world, &pair.jwt, "guess");
            assert_eq!(failed, Err(ApiError::LoginFailed { account: "Foo".into() }));
        }
        assert!(matches!(change_with(&world, &pair.jwt, "old_pass"), Err(ApiError::RateLimited { .. })));
        assert!(matches!(world.log_in("old_pass"), Err(ApiError::RateLimited { .. })));
    }

    #[test]
    fn a_change_takes_only_a_live_access_token() {
        let world = OneUser::new();
        let pair = world.log_in("old_pass").unwrap();
        let wrong_type = Err(ApiError::Unauthorized(AuthError::WrongTokenType));
        let logout = DeactivateRequest { jwt: pair.jwt.clone(), scope: LogoutScope::Session };
        block_on(deactivate::deactivate(world.0, logout, &call_from("1.2.3.4", &Deferrals::default())))
            .unwrap();
        // As many refused tokens as the account has failures: none of them counts.
        for _ in 0..world.0.settings.login_limits.per_account_and_ip.max {
            assert_eq!(change_with(&world, &pair.refresh_jwt, "guess").map(|_| ()), wrong_type);
            assert_eq!(change_with(&world, &pair.jwt, "guess").map(|_| ()), REVOKED);
        }
        assert!(world.log_in("old_pass").is_ok(), "refused tokens cost the account nothing");
    }
}
