//! `POST /login/jwt/sms`: signing in with a code sent for `purpose: "login"`.

use serde::Serialize;

use super::account_keys::give_missing_keys;
use super::code_claim::with_code_and;
use super::events;
use super::platform::{App, Call, Platform};
use super::ports::{Clock, Created, NewUser, StoredUser, UserStore};
use super::session;
use crate::domain::account::Account;
use crate::domain::error::{ApiError, Fault};
use crate::domain::events::{Event, EventType};
use crate::domain::phone::Phone;
use crate::domain::requests::SmsLoginRequest;
use crate::domain::sms_code::CodePurpose;
use crate::domain::token::TokenPair;
use crate::domain::username::username_key;

/// What a code sign-in answers: the token pair, as a password login does, and, when this
/// sign-in made the user, `new_user: true` and the account's generated name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedIn {
    pub jwt: String,
    pub refresh_jwt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_user: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// `true` when this sign-in cancelled the deletion the user had asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restored: Option<bool>,
}

/// With the phone's login code taken (50001; see [`with_code_and`]), opens a session of the
/// phone's user, as a password login does: 50006 for a disabled user. Failed-password
/// lock-outs do not stop it: the code proves the phone, as a reset's does. Without a
/// user, `SMS_SIGNUP` makes one (the default role, a generated name, no password); without
/// `SMS_SIGNUP` no code was sent to such a phone (a decoy was), so it is a 50001.
///
/// A user waiting to be deleted is restored (`restored: true`): the sign-in cancels the
/// deletion, within `ACCOUNT_DELETE_GRACE_DAYS`; past them it is a 50001, as for a phone
/// without a user.
///
/// Two first sign-ins of one phone cannot both make a user: only one takes the code, and
/// the phone is unique in D1 besides.
pub async fn sign_in<P: Platform>(
    app: &'static App<P>,
    request: SmsLoginRequest,
    call: &Call<'_>,
) -> Result<SignedIn, ApiError> {
    let phone = &request.phone;
    let work = |found: Option<StoredUser>| async move {
        let (user, made) = match found {
            Some(user) => (user, false),
            None if app.settings.sms.signup => make_user(app, phone, call).await?,
            // The user was removed since the code was sent.
            None => return Err(ApiError::WrongSmsCode),
        };
        if user.disabled {
            return Err(ApiError::LoginFailed { account: user.account });
        }
        // Within the grace, the sign-in cancels a deletion; past it, the account is as
        // good as gone (the Cron Trigger has yet to remove it).
        let restored = user.is_leaving();
        if restored {
            let cancelled = app.users.cancel_deletion(user.id, app.clock.now_millis()).await;
            app.recent_users.forget(user.id);
            if !cancelled? {
                return Err(ApiError::WrongSmsCode);
            }
        }
        if restored {
            events::report(app, call, events::about(EventType::UserRestored, &user));
        }
        let TokenPair { jwt, refresh_jwt } = session::sign_in(app, &user, "sms", call)?;
        Ok(SignedIn {
            jwt,
            refresh_jwt,
            new_user: made.then_some(true),
            account: made.then_some(user.account),
            restored: restored.then_some(true),
        })
    };
    // The user is read while the code is taken: the answer waits for one round trip, not
    // two, and its time does not depend on whether the phone has a user.
    let found = async { Ok(app.users.find_by_phone(phone).await?) };
    with_code_and(app, phone, &request.code, CodePurpose::Login, &call.caller, found, work).await
}

/// A new user for `phone`, with a generated name, reported as `user.registered` as soon as
/// it is made (should what follows fail, the retry finds the user made); `false` with the
/// user another request made for the phone meanwhile. A generated name already taken
/// (about one chance in a million with a million users) is drawn again.
async fn make_user<P: Platform>(
    app: &App<P>,
    phone: &Phone,
    call: &Call<'_>,
) -> Result<(StoredUser, bool), ApiError> {
    // So that a generated name meets the key of an account made before keys.
    give_missing_keys(app).await?;
    for _ in 0..3 {
        let account = Account::generated(&app.rng);
        let account_key = username_key(account.as_str(), &app.names)
            .map_err(|_| Fault::Protocol(format!("a generated name has no key: {}", account.as_str())))?;
        let user = NewUser { account, account_key, phone: phone.clone(), password_hash: None };
        match app.users.create(&user, app.clock.now_seconds()).await? {
            Created::User(id) => {
                let made = Event::about(EventType::UserRegistered, id, user.account.as_str(), phone.e164());
                events::report(app, call, made.with("method", "sms"));
                let made = app.users.find_by_id(id).await?;
                return made.map(|user| (user, true)).ok_or_else(|| {
                    Fault::Protocol(format!("user {id} is gone right after it was made")).into()
                });
            }
            Created::Taken => {
                if let Some(user) = app.users.find_by_phone(phone).await? {
                    return Ok((user, false));
                }
            }
        }
    }
    Err(Fault::Protocol("three generated names in a row were taken".into()).into())
}

#[cfg(test)]
mod tests {
    use pollster::block_on;

    use super::*;
    use crate::app::in_memory::{app_with, call_from, leak, Deferrals, MemoryCodeGate, MemoryUsers, OneUser};
    use crate::domain::error::AuthError;

    const STRANGER: &str = "13922223333";

    fn sign_in_with(
        app: &'static App<crate::app::in_memory::Native>,
        phone: &str,
        code: &str,
    ) -> Result<SignedIn, ApiError> {
        let body = serde_json::json!({ "phone": phone, "code": code }).to_string();
        let request = SmsLoginRequest::parse(body.as_bytes()).unwrap();
        block_on(sign_in(app, request, &call_from("1.2.3.4", &Deferrals::default())))
    }

    fn with_login_code(phone: &str, vars: &[(&str, &str)]) -> &'static App<crate::app::in_memory::Native> {
        let users = MemoryUsers::with_user("Foo", OneUser::PHONE, "old_pass", 1_000);
        let gate = MemoryCodeGate::with_code_for(phone, "123456", CodePurpose::Login);
        leak(App { users, gate, ..app_with(vars) })
    }

    #[test]
    fn a_login_code_signs_in_the_phones_user_and_is_used_up() {
        let app = with_login_code(OneUser::PHONE, &[]);
        let signed_in = sign_in_with(app, OneUser::PHONE, "123456").unwrap();
        assert_eq!((signed_in.new_user, signed_in.account), (None, None));
        let world = OneUser(app);
        world.status(&signed_in.jwt).unwrap();
        assert!(app.gate.consumed());
        assert_eq!(sign_in_with(app, OneUser::PHONE, "123456"), Err(ApiError::WrongSmsCode));
    }

    #[test]
    fn only_a_login_code_signs_in_and_a_wrong_one_is_50001() {
        for purpose in [CodePurpose::Register, CodePurpose::Reset] {
            let users = MemoryUsers::with_user("Foo", OneUser::PHONE, "old_pass", 1_000);
            let gate = MemoryCodeGate::with_code_for(OneUser::PHONE, "123456", purpose);
            let app = leak(App { users, gate, ..app_with(&[]) });
            assert_eq!(
                sign_in_with(app, OneUser::PHONE, "123456"),
                Err(ApiError::WrongSmsCode),
                "{purpose:?}"
            );
        }
        let app = with_login_code(OneUser::PHONE, &[]);
        assert_eq!(sign_in_with(app, OneUser::PHONE, "654321"), Err(ApiError::WrongSmsCode));
        assert!(!app.gate.consumed());
    }

    #[test]
    fn a_disabled_user_is_50006_and_keeps_the_code() {
        let app = with_login_code(OneUser::PHONE, &[]);
        app.users.disable(1);
        assert!(matches!(sign_in_with(app, OneUser::PHONE, "123456"), Err(ApiError::LoginFailed { .. })));
        assert!(!app.gate.consumed());
    }

    #[test]
    fn without_signup_a_phone_without_a_user_gets_no_user() {
        let app = with_login_code(STRANGER, &[]);
        assert_eq!(sign_in_with(app, STRANGER, "123456"), Err(ApiError::WrongSmsCode));
        assert_eq!(app.users.count(), 1);
    }

    #[test]
    fn with_signup_the_first_sign_in_makes_a_user_without_a_password() {
        let app = with_login_code(STRANGER, &[("SMS_SIGNUP", "true")]);
        let signed_in = sign_in_with(app, STRANGER, "123456").unwrap();
        assert_eq!(signed_in.new_user, Some(true));
        let account = signed_in.account.clone().unwrap();
        assert!(
            account.len() == 13
                && account.starts_with("user_")
                && account[5..].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "{account}"
        );
        assert_eq!(app.users.count(), 2);
        let phone = Phone::parse(STRANGER).unwrap();
        let user = block_on(app.users.find_by_phone(&phone)).unwrap().unwrap();
        assert_eq!(
            (user.account.as_str(), user.roles.as_slice()),
            (account.as_str(), ["1".to_string()].as_slice())
        );
        // No password logs in to it, not even the stored text.
        assert_eq!(user.password_hash, crate::domain::password::NO_PASSWORD);
        for pwd in ["", "!", "old_pass"] {
            let request = crate::domain::requests::LoginRequest { account: account.clone(), pwd: pwd.into() };
            let outcome = block_on(crate::app::login::log_in(
                app,
                request,
                &call_from("1.2.3.4", &Deferrals::default()),
            ));
            assert!(matches!(outcome, Err(ApiError::LoginFailed { .. })), "{pwd:?}: {outcome:?}");
        }
        // The session is one like any other.
        assert_eq!(
            OneUser(app).status(&signed_in.refresh_jwt),
            Err(ApiError::Unauthorized(AuthError::WrongTokenType))
        );
    }

    #[test]
    fn generated_names_are_of_the_alphabet_and_differ() {
        let app = app_with(&[]);
        let names: std::collections::HashSet<String> =
            (0..200).map(|_| Account::generated(&app.rng).as_str().to_string()).collect();
        assert_eq!(names.len(), 200);
        for name in names {
            assert!(username_key(&name, &app.names).is_ok_and(|key| key == name), "{name}");
        }
    }
}
