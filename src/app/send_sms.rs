//! `POST /login/send/sms`

use serde::Serialize;

use super::limits::sms_ip_key;
use super::platform::{log_if_failed, App, Call, Platform};
use super::ports::{CodeGate, HumanCheck, RateLimiter, UserStore};
use super::session;
use crate::domain::envelope::NoData;
use crate::domain::error::{ApiError, Field, Rule, ValidationError};
use crate::domain::requests::{RequestedPurpose, SendSmsRequest};
use crate::domain::sms_code::CodePurpose;
use crate::domain::turnstile::Verdict;

/// What a send answers: nothing, or the code where local development exposes it
/// (`EXPOSE_SMS_CODE`; the original disclosed it always).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Sent {
    Nothing(NoData),
    Exposed { code: String },
}

/// Checks the number's country (9906, before anything is spent) and, with Turnstile on,
/// the token (9906: missing 422, refused 403; siteverify failing 9999, fail closed),
/// before anything is counted or sent. Then it counts the send against the client's IP
/// (9905), then issues a code through the phone's gate. A send that sent nothing (50017,
/// 50018, the phone's own limit) is not counted against the IP, so a user whose provider
/// failed can ask again at once.
///
/// A `change_phone` code is bound to the user of the request's access token (9908 for
/// anything status would refuse), checked before Turnstile, and goes to any number: the
/// change itself finds out whether the number is free.
///
/// A reset or delete code, and a login code without `SMS_SIGNUP`, goes only to a phone
/// with a user (for reset and delete, one not waiting to be deleted);
/// for any other phone the gate makes a decoy, which answers, counts and blocks the phone
/// exactly as a real send does, so the endpoint does not tell which phones are registered.
pub async fn send<P: Platform>(
    app: &App<P>,
    request: SendSmsRequest,
    call: &Call<'_>,
) -> Result<Sent, ApiError> {
    let sms = &app.settings.sms;
    let (phone, caller) = (&request.phone, &call.caller);
    if !sms.allowed_country_codes.allows(phone) {
        return Err(ApiError::Invalid(ValidationError::Field(Field::Phone, Rule::Malformed)));
    }
    let purpose = match &request.purpose {
        RequestedPurpose::Of(purpose) => *purpose,
        RequestedPurpose::ChangePhone { jwt } => {
            CodePurpose::ChangePhone(session::user_of_access_token(app, jwt).await?.id)
        }
    };
    if let Some(check) = &app.human_check {
        let token = request
            .turnstile_token
            .as_deref()
            .ok_or(ApiError::field(Field::TurnstileToken, Rule::Required))?;
        match check.verify(token, caller.address.as_deref()).await? {
            Verdict::Passed => {}
            Verdict::Refused(_) => return Err(ApiError::field(Field::TurnstileToken, Rule::Refused)),
        }
    }
    let ip_key = sms_ip_key(caller);
    let has_user = async {
        match purpose {
            CodePurpose::Register | CodePurpose::ChangePhone(_) => Ok(true),
            CodePurpose::Login if sms.signup => Ok(true),
            // A code sign-in is what restores an account waiting to be deleted.
            CodePurpose::Login => Ok(app.users.find_by_phone(phone).await?.is_some()),
            // Nothing else is for an account waiting to be deleted.
            CodePurpose::Reset | CodePurpose::Delete => {
                Ok(app.users.find_by_phone(phone).await?.is_some_and(|user| !user.is_leaving()))
            }
        }
    };
    let (stamp, has_user) = futures_util::future::join(app.limiter.take(&ip_key, sms.per_ip), has_user).await;
    let stamp = stamp?;
    let issued = match has_user {
        Ok(true) => app.gate.issue(phone, purpose, &call.caller).await.map(Some),
        Ok(false) => app.gate.issue_decoy(phone, &call.caller).await.map(|()| None),
        Err(error) => Err(error),
    };
    match issued {
        // A decoy has no code to expose (only local development exposes codes).
        Ok(Some(code)) if sms.expose_code => Ok(Sent::Exposed { code: code.as_str().to_string() }),
        Ok(_) => Ok(Sent::Nothing(NoData)),
        Err(error) => {
            // Should giving the place back fail, the send still counts against the
            // address: the limit errs on the strict side, and the log says so.
            log_if_failed::<P>("give back a send's place", app.limiter.give_back(&ip_key, stamp).await);
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::app::in_memory::{
        app_with, call_from, Deferrals, MemoryCodeGate, MemoryHumanCheck, MemoryUsers, Native, OneUser,
    };
    use crate::domain::error::AuthError;
    use pollster::block_on;

    fn request(phone: &str) -> SendSmsRequest {
        SendSmsRequest::parse(json!({ "phone": phone }).to_string().as_bytes()).unwrap()
    }

    fn reset(phone: &str) -> SendSmsRequest {
        SendSmsRequest::parse(json!({ "phone": phone, "purpose": "reset" }).to_string().as_bytes()).unwrap()
    }

    fn with_token(phone: &str, token: &str) -> SendSmsRequest {
        let body = json!({ "phone": phone, "turnstile_token": token });
        SendSmsRequest::parse(body.to_string().as_bytes()).unwrap()
    }

    /// Two sends an hour per address, codes exposed, a gate that issues to any phone.
    fn sending() -> App<Native> {
        app_with(&[("SMS_HOURLY_LIMIT_PER_IP", "2"), ("EXPOSE_SMS_CODE", "true")])
    }

    fn send(app: &App<Native>, request: SendSmsRequest, ip: &str) -> Result<Value, ApiError> {
        let outcome = block_on(super::send(app, request, &call_from(ip, &Deferrals::default())));
        outcome.map(|sent| serde_json::to_value(sent).unwrap())
    }

    #[test]
    fn a_number_outside_the_allow_list_is_refused_before_anything_is_spent() {
        let app = sending();
        let refused = send(&app, request("+447700900123"), "1.2.3.4");
        assert_eq!(refused, Err(ApiError::Invalid(ValidationError::Field(Field::Phone, Rule::Malformed))));
        assert_eq!(app.gate.issued(), 0);
        for phone in ["13911110001", "13911110002"] {
            assert!(send(&app, request(phone), "1.2.3.4").is_ok());
        }
    }

    #[test]
    fn with_turnstile_on_a_send_needs_a_token_siteverify_accepts_and_a_refused_one_costs_nothing() {
        let app = App { human_check: Some(MemoryHumanCheck::default()), ..sending() };
        let ip = "203.0.113.7";
        assert_eq!(
            send(&app, request("13911110001"), ip),
            Err(ApiError::field(Field::TurnstileToken, Rule::Required))
        );
        for _ in 0..3 {
            let refused = send(&app, with_token("13911110001", "bad"), ip);
            assert_eq!(refused, Err(ApiError::field(Field::TurnstileToken, Rule::Refused)));
        }
        let broken = send(&app, with_token("13911110001", "broken"), ip);
        assert!(matches!(broken, Err(ApiError::Internal(_))), "fail closed: {broken:?}");
        // Nothing was sent or counted: the address still has both its sends.
        assert_eq!(app.gate.issued(), 0);
        assert_eq!(send(&app, with_token("13911110001", "good"), ip), Ok(json!({"code": "000000"})));
        assert!(send(&app, with_token("13911110002", "good"), ip).is_ok());
        assert_eq!(app.gate.issued(), 2);
        // siteverify hears the client's own address, not the limits' key.
        let asked = app.human_check.as_ref().unwrap().asked_for.borrow().clone();
        assert!(asked.iter().all(|address| address.as_deref() == Some(ip)), "{asked:?}");
    }

    #[test]
    fn an_ip_gets_its_hourly_sends_and_then_a_retry_after() {
        let app = sending();
        assert!(send(&app, request("13911110001"), "1.2.3.4").is_ok());
        app.limiter.now_millis.set(60_000);
        assert!(send(&app, request("13911110002"), "1.2.3.4").is_ok());
        assert_eq!(
            send(&app, request("13911110003"), "1.2.3.4"),
            Err(ApiError::RateLimited { retry_after_seconds: 3_540 })
        );
        assert!(send(&app, request("13911110003"), "5.6.7.8").is_ok(), "another IP has its own count");
        assert_eq!(app.gate.issued(), 3);
    }

    #[test]
    fn a_send_that_sent_nothing_is_not_counted_against_the_ip() {
        let app = App { gate: MemoryCodeGate::with_code("13911119999", "123456"), ..sending() };
        for _ in 0..5 {
            assert_eq!(send(&app, request("13911119999"), "1.2.3.4"), Err(ApiError::SmsStillLive));
        }
    }

    #[test]
    fn a_phone_change_code_goes_to_any_number_for_the_user_of_an_access_token_only() {
        let world = OneUser::new();
        let pair = world.log_in("old_pass").unwrap();
        let change = |jwt: &str, phone: &str| {
            let body = json!({ "phone": phone, "purpose": "change_phone", "jwt": jwt });
            SendSmsRequest::parse(body.to_string().as_bytes()).unwrap()
        };
        let send =
            |request| block_on(super::send(world.0, request, &call_from("1.2.3.4", &Deferrals::default())));
        let wrong_type = Err(ApiError::Unauthorized(AuthError::WrongTokenType));
        assert_eq!(send(change(&pair.refresh_jwt, "13922228888")), wrong_type);
        assert_eq!(
            send(change("not.a.token", "13922228888")),
            Err(ApiError::Unauthorized(AuthError::Malformed))
        );
        assert_eq!((world.0.gate.issued(), world.0.gate.decoys()), (0, 0), "nothing sent for them");
        // A number with no user gets a real code: the change finds out whether it is free.
        assert!(send(change(&pair.jwt, "13922228888")).is_ok());
        assert_eq!((world.0.gate.issued(), world.0.gate.decoys()), (1, 0));
        assert_eq!(world.0.gate.issued_for(), Some(CodePurpose::ChangePhone(1)));
    }

    #[test]
    fn a_reset_sends_a_code_only_to_a_phone_with_a_user_and_answers_alike_for_any() {
        let users = MemoryUsers::with_user("Foo", "13911110001", "secret1", 1_000);
        let app = App { users, ..app_with(&[("SMS_HOURLY_LIMIT_PER_IP", "2")]) };
        assert_eq!(send(&app, reset("13911110001"), "1.2.3.4"), Ok(json!([])));
        assert_eq!((app.gate.issued(), app.gate.decoys()), (1, 0));
        assert_eq!(send(&app, reset("13911110002"), "1.2.3.4"), Ok(json!([])), "no user: the same answer");
        assert_eq!((app.gate.issued(), app.gate.decoys()), (1, 1));
        assert_eq!(
            send(&app, reset("13911110003"), "1.2.3.4"),
            Err(ApiError::RateLimited { retry_after_seconds: 3_600 }),
            "both counted against the address"
        );
    }
}
