//! `POST /login/password/reset`: a reset code proves the phone. It ends every session of
//! the user, as "log out everywhere" does: whoever knew the old password is out.

use super::code_claim::with_code;
use super::events;
use super::limits::{account_and_ip_limit_key, account_limit_key, LoginTarget};
use super::platform::{App, Call, Platform};
use super::ports::{RateLimiter, UserStore};
use super::session;
use crate::domain::envelope::NoData;
use crate::domain::error::ApiError;
use crate::domain::events::EventType;
use crate::domain::password::PasswordHash;
use crate::domain::requests::ResetPasswordRequest;
use crate::domain::sms_code::CodePurpose;

/// With the phone's reset code taken (50001; see [`with_code`]), sets the new password,
/// which ends every session, and clears the account's failed logins (over all addresses,
/// and from the caller's), so a locked-out owner gets back in. Should a step fail, the
/// code is given back, and a retry with it does the whole reset again.
pub async fn reset<P: Platform>(
    app: &App<P>,
    request: ResetPasswordRequest,
    call: &Call<'_>,
) -> Result<NoData, ApiError> {
    let work = set_password(app, &request, call);
    with_code(app, &request.phone, &request.code, CodePurpose::Reset, &call.caller, work).await
}

async fn set_password<P: Platform>(
    app: &App<P>,
    request: &ResetPasswordRequest,
    call: &Call<'_>,
) -> Result<NoData, ApiError> {
    let caller = &call.caller;
    // A reset code is only sent to a phone with a user; one that is gone since (an
    // operator removed it), or waiting to be deleted since, has nothing to reset.
    let user = app.users.find_by_phone(&request.phone).await?;
    let user = user.filter(|user| !user.is_leaving()).ok_or(ApiError::WrongSmsCode)?;
    let password = request.password.as_str();
    let hash = PasswordHash::create(&app.kdf, &app.rng, password, &app.settings.passwords).await?;
    session::replace_password(app, user.id, &hash).await?;
    // Should this fail, the reset answers 9999 and gives the code back: a retry sets the
    // same password again and clears the count then, rather than leaving the owner locked
    // out behind a success.
    let target = LoginTarget::User(user.id);
    let (everywhere, here) = futures_util::future::join(
        app.limiter.clear(&account_limit_key(target)),
        app.limiter.clear(&account_and_ip_limit_key(target, caller)),
    )
    .await;
    everywhere.and(here)?;
    // Only now: a reset that answered 9999 is done again by its retry, which reports it.
    events::report(app, call, events::about(EventType::UserPasswordReset, &user));
    Ok(NoData)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::app::in_memory::{call_from, native_hash, Deferrals, MemoryCodeGate, OneUser};
    use crate::app::ports::UserStore;
    use crate::domain::error::AuthError;
    use crate::domain::requests::LoginRequest;
    use pollster::block_on;

    const REVOKED: Result<(), ApiError> = Err(ApiError::Unauthorized(AuthError::Revoked));

    fn reset_with(world: &OneUser, code: &str) -> Result<NoData, ApiError> {
        let body = json!({"phone": OneUser::PHONE, "code": code, "password": "new_pass",
                          "password_confirmation": "new_pass"});
        let request = ResetPasswordRequest::parse(body.to_string().as_bytes()).unwrap();
        block_on(reset(world.0, request, &call_from("1.2.3.4", &Deferrals::default())))
    }

    fn with_reset_code() -> OneUser {
        OneUser::with_gate(MemoryCodeGate::with_code_for(OneUser::PHONE, "123456", CodePurpose::Reset))
    }

    #[test]
    fn a_reset_sets_the_password_ends_every_session_and_uses_the_code() {
        let world = with_reset_code();
        let before = world.log_in("old_pass").unwrap();
        reset_with(&world, "123456").unwrap();
        assert!(world.0.gate.consumed());
        assert_eq!(world.status(&before.jwt), REVOKED);
        assert!(matches!(world.log_in("old_pass"), Err(ApiError::LoginFailed { .. })));
        // Logged in within the same millisecond as the reset: it reads the new epoch.
        let pair = world.log_in("new_pass").unwrap();
        assert!(world.status(&pair.jwt).is_ok());
        assert_eq!(reset_with(&world, "123456"), Err(ApiError::WrongSmsCode), "used up");
    }

    #[test]
    fn a_registration_code_does_not_reset() {
        let world = OneUser::with_gate(MemoryCodeGate::with_code(OneUser::PHONE, "123456"));
        assert_eq!(reset_with(&world, "123456"), Err(ApiError::WrongSmsCode));
        assert!(!world.0.gate.consumed());
        assert!(world.log_in("old_pass").is_ok());
    }

    #[test]
    fn a_reset_lets_a_locked_out_owner_back_in() {
        let world = with_reset_code();
        for _ in 0..3 {
            assert!(matches!(world.log_in("guess"), Err(ApiError::LoginFailed { .. })));
        }
        assert!(matches!(world.log_in("old_pass"), Err(ApiError::RateLimited { .. })));
        reset_with(&world, "123456").unwrap();
        assert!(world.log_in("new_pass").is_ok());
    }

    #[test]
    fn a_login_that_upgrades_a_hash_does_not_undo_a_reset_that_landed_meanwhile() {
        let world = with_reset_code();
        // A hash weaker than the policy, which a login replaces after its answer.
        block_on(world.0.users.replace_password(1, &native_hash("old_pass", 500), 0)).unwrap();
        let request = LoginRequest { account: "Foo".into(), pwd: "old_pass".into() };
        let after_login = Deferrals::default();
        let outcome =
            block_on(crate::app::login::log_in(world.0, request, &call_from("1.2.3.4", &after_login)));
        assert!(outcome.is_ok());
        reset_with(&world, "123456").unwrap();
        after_login.run();
        assert!(matches!(world.log_in("old_pass"), Err(ApiError::LoginFailed { .. })));
        assert!(world.log_in("new_pass").is_ok());
    }
}
