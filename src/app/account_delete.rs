//! `POST /login/account/delete`: a user leaves (注销). The account stops working at once
//! and is removed after `ACCOUNT_DELETE_GRACE_DAYS` by the Cron Trigger
//! ([`super::account_purge`]); within them, a code sign-in cancels it
//! ([`super::sms_login`]).

use serde::Serialize;

use super::code_claim::with_code;
use super::events;
use super::login::check_password_of;
use super::platform::{App, Call, Platform};
use super::ports::{Clock, StoredUser};
use super::session;
use crate::domain::clock::display_time;
use crate::domain::error::{ApiError, Fault};
use crate::domain::events::{rfc3339_millis, EventType};
use crate::domain::phone::Phone;
use crate::domain::requests::{DeleteAccountRequest, DeletionProof};
use crate::domain::sms_code::CodePurpose;

/// What a deletion answers: when the account will be removed, as `iat_date`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeletionScheduled {
    pub delete_date: String,
}

/// Checks the access token (9908 for anything status would refuse), then the proof: a
/// code sent to the account's own phone for `delete` (50001, a wrong guess as for
/// register), or the password (50006, a failed login of the account, 9905 past the
/// limits). Then every session ends and the deletion is scheduled, in one write.
pub async fn delete<P: Platform>(
    app: &'static App<P>,
    request: DeleteAccountRequest,
    call: &Call<'_>,
) -> Result<DeletionScheduled, ApiError> {
    let user = session::user_of_access_token(app, &request.jwt).await?;
    match request.proof {
        DeletionProof::Password(pwd) => {
            schedule(app, check_password_of(app, user, &pwd, call).await?, call).await
        }
        DeletionProof::Code(code) => {
            let phone = Phone::parse(&user.phone)
                .ok_or_else(|| Fault::Protocol(format!("user {} has an unreadable phone", user.id)))?;
            let scheduled = schedule(app, user, call);
            with_code(app, &phone, &code, CodePurpose::Delete, &call.caller, scheduled).await
        }
    }
}

async fn schedule<P: Platform>(
    app: &App<P>,
    user: StoredUser,
    call: &Call<'_>,
) -> Result<DeletionScheduled, ApiError> {
    let delete_after = app.clock.now_millis() + app.settings.account_delete_grace_days * 86_400_000;
    session::end_for_deletion(app, user.id, delete_after).await?;
    let event = events::about(EventType::UserDeletionScheduled, &user);
    events::report(app, call, event.with("delete_after", rfc3339_millis(delete_after)));
    let offset = app.session_policy.display_utc_offset;
    Ok(DeletionScheduled { delete_date: display_time(delete_after / 1000, offset) })
}

#[cfg(test)]
mod tests {
    use pollster::block_on;
    use serde_json::json;

    use super::*;
    use crate::app::account_purge::{purge_due, Purged};
    use crate::app::in_memory::{call_from, Deferrals, MemoryCodeGate, OneUser, NOW_MS};
    use crate::app::ports::UserStore;
    use crate::app::refresh::refresh;
    use crate::app::sms_login::sign_in;
    use crate::domain::error::{AuthError, Field, Rule};
    use crate::domain::requests::{RefreshRequest, SmsLoginRequest};
    use crate::domain::token::TokenPair;

    const DAY_MS: u64 = 86_400_000;

    fn delete_with(world: &OneUser, body: serde_json::Value) -> Result<DeletionScheduled, ApiError> {
        let request = DeleteAccountRequest::parse(body.to_string().as_bytes())?;
        let deferrals = Deferrals::default();
        let outcome = block_on(delete(world.0, request, &call_from("1.2.3.4", &deferrals)));
        deferrals.run();
        outcome
    }

    fn signed_in_with_code(world: &OneUser) -> Result<serde_json::Value, ApiError> {
        let body = json!({ "phone": OneUser::PHONE, "code": "123456" }).to_string();
        let request = SmsLoginRequest::parse(body.as_bytes()).unwrap();
        let deferrals = Deferrals::default();
        let signed_in = block_on(sign_in(world.0, request, &call_from("1.2.3.4", &deferrals)));
        // As the runtime does, whatever the answer.
        deferrals.run();
        Ok(serde_json::to_value(signed_in?).unwrap())
    }

    fn user(world: &OneUser) -> Option<StoredUser> {
        block_on(world.0.users.find_by_id(1)).unwrap()
    }

    #[test]
    fn a_deletion_ends_every_session_and_stops_every_way_in_until_it_is_done() {
        let world = OneUser::new();
        let TokenPair { jwt, refresh_jwt } = world.log_in("old_pass").unwrap();
        let other = world.log_in("old_pass").unwrap();
        let scheduled = delete_with(&world, json!({ "jwt": jwt, "pwd": "old_pass" })).unwrap();
        // 15 days after 2023-12-16 17:35:20 in Shanghai.
        assert_eq!(scheduled.delete_date, "2023-12-31 17:35:20");
        assert_eq!(user(&world).unwrap().delete_after_ms, Some(NOW_MS + 15 * DAY_MS));
        let unavailable = Err(ApiError::Unauthorized(AuthError::UserUnavailable));
        assert_eq!(world.status(&jwt), unavailable);
        assert_eq!(world.status(&other.jwt), unavailable);
        let refreshed = block_on(refresh(
            world.0,
            RefreshRequest { jwt: refresh_jwt },
            &call_from("1.2.3.4", &Deferrals::default()),
        ));
        assert_eq!(refreshed.map(|_| ()), unavailable);
        assert_eq!(world.log_in("old_pass"), Err(ApiError::LoginFailed { account: "foo".into() }));
        // Not yet due: nothing is removed.
        assert_eq!(block_on(purge_due(world.0)).unwrap(), Purged::default());
        assert!(user(&world).is_some());
    }

    #[test]
    fn a_wrong_password_is_a_failed_login_and_changes_nothing() {
        let world = OneUser::new();
        let pair = world.log_in("old_pass").unwrap();
        let failed = delete_with(&world, json!({ "jwt": pair.jwt, "pwd": "guess" }));
        assert_eq!(failed, Err(ApiError::LoginFailed { account: "Foo".into() }));
        assert!(world.status(&pair.jwt).is_ok());
        assert_eq!(user(&world).unwrap().delete_after_ms, None);
        let wrong_type = Err(ApiError::Unauthorized(AuthError::WrongTokenType));
        assert_eq!(delete_with(&world, json!({ "jwt": pair.refresh_jwt, "pwd": "old_pass" })), wrong_type);
    }

    #[test]
    fn a_delete_code_confirms_and_a_code_sign_in_within_the_grace_restores_the_account() {
        let world =
            OneUser::with_gate(MemoryCodeGate::with_code_for(OneUser::PHONE, "123456", CodePurpose::Delete));
        let pair = world.log_in("old_pass").unwrap();
        assert_eq!(
            delete_with(&world, json!({ "jwt": pair.jwt, "code": "654321" })),
            Err(ApiError::WrongSmsCode)
        );
        delete_with(&world, json!({ "jwt": pair.jwt, "code": "123456" })).unwrap();
        assert!(world.0.gate.consumed());
        // A sign-in code for the phone (the gate's next code) restores it.
        world.0.gate.resend_for(CodePurpose::Login);
        let signed_in = signed_in_with_code(&world).unwrap();
        assert_eq!(signed_in["restored"], json!(true));
        assert_eq!(user(&world).unwrap().delete_after_ms, None);
        assert!(world.status(signed_in["jwt"].as_str().unwrap()).is_ok());
        assert!(world.log_in("old_pass").is_ok());
        // Nothing was due: nothing is removed, then or later.
        world.0.clock.set(NOW_MS + 20 * DAY_MS);
        assert_eq!(block_on(purge_due(world.0)).unwrap(), Purged::default());
        let events = world.0.events.as_ref().unwrap();
        assert_eq!(
            events.types(),
            [
                "user.signed_in",
                "user.deletion_scheduled",
                "user.restored",
                "user.signed_in",
                "user.signed_in"
            ]
        );
        let scheduled = &events.payloads()[1];
        assert_eq!(scheduled["data"]["delete_after"], "2023-12-31T09:35:20.000Z");
        assert_eq!(scheduled["timestamp"], "2023-12-16T09:35:20.000Z");
        assert_eq!(events.payloads()[2]["data"]["phone"], "+86139****9999");
        assert_eq!(events.payloads()[3]["data"]["method"], "sms");
    }

    #[test]
    fn past_the_grace_the_account_is_removed_once_and_a_code_no_longer_restores_it() {
        let world =
            OneUser::with_gate(MemoryCodeGate::with_code_for(OneUser::PHONE, "123456", CodePurpose::Login));
        let pair = world.log_in("old_pass").unwrap();
        delete_with(&world, json!({ "jwt": pair.jwt, "pwd": "old_pass" })).unwrap();
        world.0.clock.set(NOW_MS + 15 * DAY_MS);
        assert_eq!(signed_in_with_code(&world), Err(ApiError::WrongSmsCode));
        assert!(!world.0.gate.consumed(), "the code is given back");
        assert_eq!(block_on(purge_due(world.0)).unwrap(), Purged { removed: 1, failed: 0 });
        assert!(user(&world).is_none());
        assert_eq!(block_on(purge_due(world.0)).unwrap(), Purged::default(), "a second run finds nothing");
        let events = world.0.events.as_ref().unwrap();
        assert_eq!(events.types(), ["user.signed_in", "user.deletion_scheduled", "user.deleted"]);
        let deleted = &events.payloads()[2];
        assert_eq!(deleted["data"], json!({ "uid": 1, "account": "Foo", "phone": "+86139****9999" }));
        assert_eq!(deleted["timestamp"], "2023-12-31T09:35:20.000Z");
    }

    #[test]
    fn a_deletion_takes_a_code_or_a_password_not_both() {
        let both = DeleteAccountRequest::parse(br#"{"jwt":"t","code":"123456","pwd":"x"}"#);
        assert_eq!(both, Err(ApiError::field(Field::LoginPassword, Rule::Duplicate)));
        let neither = DeleteAccountRequest::parse(br#"{"jwt":"t"}"#);
        assert_eq!(neither, Err(ApiError::field(Field::LoginPassword, Rule::Required)));
        let code = DeleteAccountRequest::parse(br#"{"jwt":"t","code":123456,"pwd":null}"#).unwrap();
        assert!(matches!(code.proof, DeletionProof::Code(_)));
    }
}
