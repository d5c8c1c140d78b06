//! `POST /login/phone/change`: a user moves the account to a new phone number. Both sides
//! prove themselves: the account (its password, or for an account without one a recent
//! sign-in) and the new number (a code sent to it for `change_phone`, bound to this user).

use super::code_claim::with_code_and;
use super::events;
use super::login::check_password_of;
use super::platform::{App, Call, Platform};
use super::ports::Clock;
use super::session;
use crate::domain::envelope::NoData;
use crate::domain::error::{ApiError, AuthError, Field, Rule};
use crate::domain::events::EventType;
use crate::domain::phone::masked;
use crate::domain::requests::ChangePhoneRequest;
use crate::domain::sms_code::CodePurpose;
use crate::domain::token::TokenKind;

/// Checks the new number's country (9906), the access token (9908 for anything status
/// would refuse), and the account's proof: the password as a login of the account
/// (9906 without one, 50006 wrong, 9905 past the limits), or, for an account without a
/// password, a sign-in at most 10 minutes old (9908 `需要重新登录`; a refresh does not
/// renew it). Then it takes the code sent to the new number for this user (50001) while
/// the password is checked, and gives the account the number, ending every other
/// session, in one write that finds the number still free (50007 otherwise, the code
/// given back).
pub async fn change<P: Platform>(
    app: &'static App<P>,
    request: ChangePhoneRequest,
    call: &Call<'_>,
) -> Result<NoData, ApiError> {
    let ChangePhoneRequest { jwt, phone, code, pwd } = request;
    if !app.settings.sms.allowed_country_codes.allows(&phone) {
        return Err(ApiError::field(Field::Phone, Rule::Malformed));
    }
    let (verified, user) = session::check(app, &jwt, Some(TokenKind::Access), false).await?;
    let pwd = match (user.has_password(), pwd) {
        (true, Some(pwd)) => Some(pwd),
        (true, None) => return Err(ApiError::field(Field::LoginPassword, Rule::Required)),
        (false, _) if verified.signed_in_recently(app.clock.now_seconds()) => None,
        (false, _) => return Err(ApiError::Unauthorized(AuthError::SignInAgain)),
    };
    let uid = user.id;
    let changed = events::about(EventType::UserPhoneChanged, &user).with("phone", masked(phone.e164()));
    let changed = changed.with("previous_phone", masked(&user.phone));
    let account_proved = async {
        match pwd {
            Some(pwd) => check_password_of(app, user, &pwd, call).await.map(|_| ()),
            None => Ok(()),
        }
    };
    let purpose = CodePurpose::ChangePhone(uid);
    let commit = |()| session::change_phone(app, &verified, uid, &phone);
    with_code_and(app, &phone, &code, purpose, &call.caller, account_proved, commit).await?;
    events::report(app, call, changed);
    Ok(NoData)
}

#[cfg(test)]
mod tests {
    use pollster::block_on;
    use serde_json::{json, Value};

    use super::*;
    use crate::app::in_memory::{call_from, Deferrals, MemoryCodeGate, OneUser, NOW_MS};
    use crate::app::ports::{NewUser, StoredUser, UserStore};
    use crate::app::refresh::{refresh, Refreshed};
    use crate::domain::account::Account;
    use crate::domain::phone::Phone;
    use crate::domain::requests::RefreshRequest;
    use crate::domain::token::{TokenPair, UserData};
    use crate::domain::username::native::NativeUnicode;
    use crate::domain::username::username_key;

    const NEW_PHONE: &str = "13922228888";

    /// `Foo` (`old_pass`, [`OneUser::PHONE`]), and a code `123456` sent to [`NEW_PHONE`]
    /// for a phone change of user `for_user`.
    fn world_with_code_for(for_user: u64) -> OneUser {
        OneUser::with_gate(MemoryCodeGate::with_code_for(
            NEW_PHONE,
            "123456",
            CodePurpose::ChangePhone(for_user),
        ))
    }

    fn change_with(world: &OneUser, body: Value) -> Result<NoData, ApiError> {
        let request = ChangePhoneRequest::parse(body.to_string().as_bytes())?;
        let deferrals = Deferrals::default();
        let outcome = block_on(change(world.0, request, &call_from("1.2.3.4", &deferrals)));
        deferrals.run();
        outcome
    }

    fn user(world: &OneUser, id: u64) -> StoredUser {
        block_on(world.0.users.find_by_id(id)).unwrap().unwrap()
    }

    /// A second user, id 2, with `phone` and no password (as a code sign-in makes one),
    /// and a session of it opened now.
    fn passwordless_user(world: &OneUser, phone: &str) -> TokenPair {
        let new = NewUser {
            account: Account::parse("Bar").unwrap(),
            account_key: username_key("Bar", &NativeUnicode).unwrap(),
            phone: Phone::parse(phone).unwrap(),
            password_hash: None,
        };
        block_on(world.0.users.create(&new, 0)).unwrap();
        let deferrals = Deferrals::default();
        let data = UserData { uid: 2, rid: vec!["1".into()] };
        let (pair, _) = session::open(world.0, &data, 0, &call_from("1.2.3.4", &deferrals)).unwrap();
        deferrals.run();
        pair
    }

    #[test]
    fn the_password_and_the_new_numbers_code_move_the_account_and_end_every_other_session() {
        let world = world_with_code_for(1);
        let pair = world.log_in("old_pass").unwrap();
        let other = world.log_in("old_pass").unwrap();
        let body = |code: &str, pwd: Option<&str>| json!({ "jwt": pair.jwt, "phone": NEW_PHONE, "code": code, "pwd": pwd });
        let missing = change_with(&world, body("123456", None));
        assert_eq!(missing, Err(ApiError::field(Field::LoginPassword, Rule::Required)));
        assert_eq!(change_with(&world, body("654321", Some("old_pass"))), Err(ApiError::WrongSmsCode));
        let wrong = change_with(&world, body("123456", Some("guess")));
        assert_eq!(wrong, Err(ApiError::LoginFailed { account: "Foo".into() }));
        assert!(!world.0.gate.consumed(), "a failed change gives the code back");
        assert_eq!(user(&world, 1).phone, "+8613911119999");

        assert_eq!(change_with(&world, body("123456", Some("old_pass"))), Ok(NoData));
        assert_eq!(user(&world, 1).phone, "+8613922228888");
        assert!(world.0.gate.consumed());
        assert!(world.status(&pair.jwt).is_ok(), "the session that asked goes on");
        assert_eq!(world.status(&other.jwt), Err(ApiError::Unauthorized(AuthError::Revoked)));
        let refreshed = block_on(refresh(
            world.0,
            RefreshRequest { jwt: pair.refresh_jwt.clone() },
            &call_from("1.2.3.4", &Deferrals::default()),
        ));
        assert!(matches!(refreshed, Ok(Refreshed::Access(_))), "{refreshed:?}");
        // The account is found by its new number, not by the old one.
        let by_new = block_on(world.0.users.find_by_phone(&Phone::parse(NEW_PHONE).unwrap())).unwrap();
        assert_eq!(by_new.map(|user| user.id), Some(1));
        assert!(block_on(world.0.users.find_by_phone(&Phone::parse(OneUser::PHONE).unwrap()))
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_number_taken_by_the_time_of_the_change_is_50007_and_the_code_is_given_back() {
        let world = world_with_code_for(1);
        let pair = world.log_in("old_pass").unwrap();
        let other = world.log_in("old_pass").unwrap();
        // Taken after the code was sent: the change, not the send, finds out.
        passwordless_user(&world, NEW_PHONE);
        let body = json!({ "jwt": pair.jwt, "phone": NEW_PHONE, "code": "123456", "pwd": "old_pass" });
        let taken = change_with(&world, body);
        assert_eq!(taken, Err(ApiError::AlreadyRegistered { account: "+8613922228888".into() }));
        assert!(!world.0.gate.consumed());
        assert_eq!(user(&world, 1).phone, "+8613911119999");
        assert!(world.status(&other.jwt).is_ok(), "nothing was written");
    }

    #[test]
    fn a_code_sent_for_another_users_change_or_another_purpose_is_a_wrong_guess() {
        for purpose in [CodePurpose::ChangePhone(2), CodePurpose::Register, CodePurpose::Login] {
            let world = OneUser::with_gate(MemoryCodeGate::with_code_for(NEW_PHONE, "123456", purpose));
            let pair = world.log_in("old_pass").unwrap();
            let body = json!({ "jwt": pair.jwt, "phone": NEW_PHONE, "code": "123456", "pwd": "old_pass" });
            assert_eq!(change_with(&world, body), Err(ApiError::WrongSmsCode), "{purpose:?}");
        }
    }

    #[test]
    fn a_refresh_token_a_number_off_the_list_or_an_ended_session_changes_nothing() {
        let world = world_with_code_for(1);
        let pair = world.log_in("old_pass").unwrap();
        let with = |jwt: &str, phone: &str| json!({ "jwt": jwt, "phone": phone, "code": "123456", "pwd": "old_pass" });
        let wrong_type = Err(ApiError::Unauthorized(AuthError::WrongTokenType));
        assert_eq!(change_with(&world, with(&pair.refresh_jwt, NEW_PHONE)), wrong_type);
        let abroad = change_with(&world, with(&pair.jwt, "+447700900123"));
        assert_eq!(abroad, Err(ApiError::field(Field::Phone, Rule::Malformed)));
        block_on(session::end_all(world.0, 1)).unwrap();
        let ended = change_with(&world, with(&pair.jwt, NEW_PHONE));
        assert_eq!(ended, Err(ApiError::Unauthorized(AuthError::Revoked)));
        assert!(!world.0.gate.consumed());
    }

    #[test]
    fn an_account_without_a_password_needs_a_sign_in_of_the_last_ten_minutes_which_a_refresh_does_not_renew()
    {
        let world = world_with_code_for(2);
        let pair = passwordless_user(&world, "13933337777");
        let body = |jwt: &str| json!({ "jwt": jwt, "phone": NEW_PHONE, "code": "123456" });
        world.0.clock.set(NOW_MS + 601_000);
        let refreshed = block_on(refresh(
            world.0,
            RefreshRequest { jwt: pair.refresh_jwt.clone() },
            &call_from("1.2.3.4", &Deferrals::default()),
        ));
        let Ok(Refreshed::Access(fresh_token)) = refreshed else { panic!("{refreshed:?}") };
        let again = Err(ApiError::Unauthorized(AuthError::SignInAgain));
        assert_eq!(change_with(&world, body(&pair.jwt)), again);
        assert_eq!(change_with(&world, body(&fresh_token)), again, "a refresh is no sign-in");
        assert!(!world.0.gate.consumed(), "refused before the code");
        assert_eq!(ApiError::Unauthorized(AuthError::SignInAgain).message(), "认证失败：需要重新登录");

        world.0.clock.set(NOW_MS + 600_000);
        assert_eq!(change_with(&world, body(&pair.jwt)), Ok(NoData));
        assert_eq!(user(&world, 2).phone, "+8613922228888");
    }
}
