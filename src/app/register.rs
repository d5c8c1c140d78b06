//! `POST /login/register`

use super::account_keys::give_missing_keys;
use super::code_claim::with_code;
use super::events;
use super::platform::{App, Call, Platform};
use super::ports::{Clock, Created, NewUser, UserStore};
use crate::domain::envelope::NoData;
use crate::domain::error::{ApiError, Field, Rule};
use crate::domain::events::{Event, EventType};
use crate::domain::look_alikes::check_new_name;
use crate::domain::password::PasswordHash;
use crate::domain::requests::RegisterRequest;
use crate::domain::sms_code::CodePurpose;
use crate::domain::username::username_key;

/// A name the username profile refuses, or one that imitates another across scripts
/// ([`check_new_name`]; a new name only: the key is the profile's alone), is a 9906
/// before anything else. Then, with the phone's registration code taken (50001; see
/// [`with_code`]), creates the user with the default role (50007 if the account or phone
/// is taken, a look-alike of an account made before keys included, the code given back for
/// another try with another name).
pub async fn register<P: Platform>(
    app: &App<P>,
    request: RegisterRequest,
    call: &Call<'_>,
) -> Result<NoData, ApiError> {
    let account = request.account.as_str();
    let refused = || ApiError::field(Field::Account, Rule::Malformed);
    let account_key = username_key(account, &app.names).map_err(|_| refused())?;
    check_new_name(account, &app.names).map_err(|_| refused())?;
    let create = async {
        // So that a look-alike of an account made before keys meets its key.
        give_missing_keys(app).await?;
        let password = request.password.as_str();
        let password_hash =
            PasswordHash::create(&app.kdf, &app.rng, password, &app.settings.passwords).await?;
        let user = NewUser {
            account: request.account.clone(),
            account_key,
            phone: request.phone.clone(),
            password_hash: Some(password_hash),
        };
        match app.users.create(&user, app.clock.now_seconds()).await? {
            Created::User(uid) => {
                // From the request: the user is not read back.
                let event = Event::about(EventType::UserRegistered, uid, account, request.phone.e164());
                events::report(app, call, event.with("method", "password"));
                Ok(NoData)
            }
            Created::Taken => {
                Err(ApiError::AlreadyRegistered { account: request.account.as_str().to_string() })
            }
        }
    };
    with_code(app, &request.phone, &request.code, CodePurpose::Register, &call.caller, create).await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::app::in_memory::{
        app, app_with, call_from, logged_failures, Deferrals, MemoryCodeGate, MemoryUsers, Native,
    };
    use crate::domain::account::AccountLookup;
    use crate::domain::requests::RegisterRequest;
    use pollster::block_on;

    fn request(account: &str, phone: &str, code: &str) -> RegisterRequest {
        let body = json!({"account": account, "password": "secret1", "password_confirmation": "secret1",
                          "phone": phone, "code": code});
        RegisterRequest::parse(body.to_string().as_bytes()).unwrap()
    }

    /// An app whose gate has `code` for `phone`, for a registration.
    fn with_registration_code(phone: &str, code: &str) -> App<Native> {
        App { gate: MemoryCodeGate::with_code(phone, code), ..app() }
    }

    fn register_from(app: &App<Native>, request: RegisterRequest, ip: &str) -> Result<NoData, ApiError> {
        block_on(super::register(app, request, &call_from(ip, &Deferrals::default())))
    }

    fn register_from_anywhere(app: &App<Native>, request: RegisterRequest) -> Result<NoData, ApiError> {
        register_from(app, request, "1.2.3.4")
    }

    #[test]
    fn a_look_alike_of_an_account_made_before_keys_is_taken() {
        // `Café` and `张三abc` were made before keys, and have none stored.
        let users = MemoryUsers::default();
        users.insert_keyless("Café", "13911118888", "secret1", 1_000);
        users.insert_keyless("张三abc", "13911117777", "secret1", 1_000);
        let app = App { users, gate: MemoryCodeGate::with_code("13911119999", "123456"), ..app() };
        for look_alike in ["Cafe\u{301}", "CAFÉ", "张三ａｂｃ"] {
            let taken = register_from_anywhere(&app, request(look_alike, "13911119999", "123456"));
            assert_eq!(
                taken,
                Err(ApiError::AlreadyRegistered { account: look_alike.into() }),
                "{look_alike}"
            );
        }
        register_from_anywhere(&app, request("Cafe", "13911119999", "123456")).unwrap();
        // The accounts made before keys are found by the key now too.
        let found = block_on(app.users.find_by_account(&AccountLookup::of("Cafe\u{301}", &app.names)));
        assert_eq!(found.unwrap().unwrap().account, "Café");
    }

    #[test]
    fn an_address_gets_thirty_code_attempts_an_hour_right_or_wrong() {
        let app = App {
            gate: MemoryCodeGate::with_code("13911119999", "123456"),
            ..app_with(&[("CODE_ATTEMPTS_PER_IP", "3")])
        };
        for _ in 0..3 {
            let wrong = register_from_anywhere(&app, request("Foo", "13911119999", "000000"));
            assert_eq!(wrong, Err(ApiError::WrongSmsCode));
        }
        let limited = register_from_anywhere(&app, request("Foo", "13911119999", "123456"));
        assert_eq!(limited, Err(ApiError::RateLimited { retry_after_seconds: 3_600 }));
        assert!(register_from(&app, request("Foo", "13911119999", "123456"), "5.6.7.8").is_ok());
    }

    #[test]
    fn a_name_the_profile_refuses_costs_no_code_attempt_and_look_alikes_are_taken() {
        let app = App {
            gate: MemoryCodeGate::with_code("13911119999", "123456"),
            ..app_with(&[("CODE_ATTEMPTS_PER_IP", "1")])
        };
        for name in ["Fo\u{200B}o", "Foo\u{202E}", "\u{FB01}ne"] {
            let refused = register_from_anywhere(&app, request(name, "13911119999", "123456"));
            assert_eq!(refused, Err(ApiError::field(Field::Account, Rule::Malformed)), "{name:?}");
        }
        // The one attempt the address has left still registers, and the look-alike is the
        // same account.
        register_from_anywhere(&app, request("Ｆｏｏ", "13911119999", "123456")).unwrap();
        assert_eq!(app.users.count(), 1);
        let second = App { users: app.users, ..with_registration_code("13922229999", "222222") };
        let taken = register_from_anywhere(&second, request("FOO", "13922229999", "222222"));
        assert_eq!(taken, Err(ApiError::AlreadyRegistered { account: "FOO".into() }));
    }

    #[test]
    fn a_name_that_imitates_another_across_scripts_costs_no_code_attempt() {
        let app = App {
            gate: MemoryCodeGate::with_code("13911119999", "123456"),
            ..app_with(&[("CODE_ATTEMPTS_PER_IP", "1")])
        };
        for name in ["p\u{430}ypal", "エ藤", "\u{131}\u{307}van", "张三\u{302A}"] {
            let refused = register_from_anywhere(&app, request(name, "13911119999", "123456"));
            assert_eq!(refused, Err(ApiError::field(Field::Account, Rule::Malformed)), "{name:?}");
        }
        register_from_anywhere(&app, request("工藤", "13911119999", "123456")).unwrap();
        assert_eq!(app.users.count(), 1);
    }

    #[test]
    fn a_good_code_registers_and_is_consumed() {
        let app = with_registration_code("13911119999", "123456");
        register_from_anywhere(&app, request("Foo", "13911119999", "123456")).unwrap();
        assert_eq!(app.users.count(), 1);
        assert!(app.gate.consumed());
        let again = register_from_anywhere(&app, request("Bar", "13911119999", "123456"));
        assert_eq!(again, Err(ApiError::WrongSmsCode));
    }

    #[test]
    fn a_code_that_cannot_be_given_back_leaves_the_answer_standing_and_a_log_line() {
        let users = MemoryUsers::with_user("Foo", "13911118888", "secret1", 1_000);
        let app = App { users, ..with_registration_code("13911119999", "123456") };
        app.gate.broken.set(true);
        let taken = register_from_anywhere(&app, request("Foo", "13911119999", "123456"));
        assert_eq!(taken, Err(ApiError::AlreadyRegistered { account: "Foo".into() }));
        let logged = logged_failures();
        assert!(logged.iter().any(|line| line.starts_with("give a code back")), "{logged:?}");
    }

    #[test]
    fn a_wrong_code_creates_nobody() {
        let app = with_registration_code("13911119999", "123456");
        let result = register_from_anywhere(&app, request("Foo", "13911119999", "654321"));
        assert_eq!(result, Err(ApiError::WrongSmsCode));
        assert_eq!(app.users.count(), 0);
    }

    #[test]
    fn a_reset_code_does_not_register() {
        let app =
            App { gate: MemoryCodeGate::with_code_for("13911119999", "123456", CodePurpose::Reset), ..app() };
        let result = register_from_anywhere(&app, request("Foo", "13911119999", "123456"));
        assert_eq!(result, Err(ApiError::WrongSmsCode));
        assert_eq!(app.users.count(), 0);
    }

    #[test]
    fn a_taken_account_gives_the_code_back() {
        let first = with_registration_code("13911119999", "123456");
        register_from_anywhere(&first, request("Foo", "13911119999", "123456")).unwrap();
        let second = App { users: first.users, ..with_registration_code("13922229999", "222222") };
        let taken = register_from_anywhere(&second, request("foo", "13922229999", "222222"));
        assert_eq!(taken, Err(ApiError::AlreadyRegistered { account: "foo".into() }));
        assert!(!second.gate.consumed());
        register_from_anywhere(&second, request("Baz", "13922229999", "222222")).unwrap();
    }
}
