//! `POST /login/send/sms`

use serde_json::{json, Value};

use super::ports::{CodeGate, HumanCheck, RateLimiter, UserStore};
use super::Caller;
use crate::domain::error::{ApiError, Field, Rule, ValidationError};
use crate::domain::phone::CountryCodes;
use crate::domain::rate_limit::Limit;
use crate::domain::requests::SendSmsRequest;
use crate::domain::sms_code::CodePurpose;
use crate::domain::turnstile::Verdict;

/// What sending a code needs.
pub struct SmsSending<'a, G, L, U, H> {
    pub gate: &'a G,
    pub limiter: &'a L,
    /// Read for a reset, to know whether the phone has a user.
    pub users: &'a U,
    pub allowed_country_codes: &'a CountryCodes,
    pub per_ip: Limit,
    /// Put the code in `data` (local development only: the original disclosed it always).
    pub expose_code: bool,
    /// Turnstile's check, when `TURNSTILE_SECRET_KEY` is set.
    pub human_check: Option<&'a H>,
}

impl<G: CodeGate, L: RateLimiter, U: UserStore, H: HumanCheck> SmsSending<'_, G, L, U, H> {
    /// Checks the number's country (9906, before anything is spent) and, with Turnstile
    /// on, the token (9906: missing 422, refused 403; siteverify failing 9999, fail
    /// closed), before anything is counted or sent. Then it counts the send
    /// against the client's IP (9905), then issues a code through the phone's gate. A
    /// send that sent nothing (50017, 50018, the phone's own limit) is not counted
    /// against the IP, so a user whose provider failed can ask again at once.
    ///
    /// A reset code goes only to a phone with a user; for any other phone the gate makes
    /// a decoy, which answers, counts and blocks the phone exactly as a real send does,
    /// so the endpoint does not tell which phones are registered.
    pub async fn send(&self, request: &SendSmsRequest, caller: &Caller) -> Result<Value, ApiError> {
        let phone = &request.phone;
        if !self.allowed_country_codes.allows(phone) {
            return Err(ApiError::Invalid(ValidationError::Field(Field::Phone, Rule::Malformed)));
        }
        if let Some(check) = self.human_check {
            let token = request
                .turnstile_token
                .as_deref()
                .ok_or(ApiError::field(Field::TurnstileToken, Rule::Required))?;
            match check.verify(token, caller.address.as_deref()).await? {
                Verdict::Passed => {}
                Verdict::Refused(_) => return Err(ApiError::field(Field::TurnstileToken, Rule::Refused)),
            }
        }
        let ip_key = format!("sms-ip:{}", caller.ip);
        let has_user = async {
            match request.purpose {
                CodePurpose::Register => Ok(true),
                CodePurpose::Reset => Ok(self.users.find_by_phone(phone).await?.is_some()),
            }
        };
        let (stamp, has_user) =
            futures_util::future::join(self.limiter.take(&ip_key, self.per_ip), has_user).await;
        let stamp = stamp?;
        let issued = match has_user {
            Ok(true) => self.gate.issue(phone, request.purpose).await.map(Some),
            Ok(false) => self.gate.issue_decoy(phone).await.map(|()| None),
            Err(error) => Err(error),
        };
        match issued {
            // A decoy has no code to expose (only local development exposes codes).
            Ok(Some(code)) if self.expose_code => Ok(json!({ "code": code.as_str() })),
            Ok(_) => Ok(json!([])),
            Err(error) => {
                let _ = self.limiter.give_back(&ip_key, stamp).await;
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::in_memory::{MemoryCodeGate, MemoryHumanCheck, MemoryLimiter, MemoryUsers};
    use pollster::block_on;

    fn request(phone: &str) -> SendSmsRequest {
        SendSmsRequest::parse(json!({ "phone": phone }).to_string().as_bytes()).unwrap()
    }

    fn reset(phone: &str) -> SendSmsRequest {
        SendSmsRequest::parse(json!({ "phone": phone, "purpose": "reset" }).to_string().as_bytes()).unwrap()
    }

    fn caller(ip: &str) -> Caller {
        Caller::at(Some(ip))
    }

    fn sending<'a>(
        gate: &'a MemoryCodeGate,
        limiter: &'a MemoryLimiter,
        allowed: &'a CountryCodes,
    ) -> SmsSending<'a, MemoryCodeGate, MemoryLimiter, MemoryUsers, MemoryHumanCheck> {
        // No users: these sends register, and never read them.
        sending_with(gate, limiter, allowed, Box::leak(Box::default()))
    }

    fn sending_with<'a>(
        gate: &'a MemoryCodeGate,
        limiter: &'a MemoryLimiter,
        allowed: &'a CountryCodes,
        users: &'a MemoryUsers,
    ) -> SmsSending<'a, MemoryCodeGate, MemoryLimiter, MemoryUsers, MemoryHumanCheck> {
        SmsSending {
            gate,
            limiter,
            users,
            allowed_country_codes: allowed,
            per_ip: Limit { max: 2, window_seconds: 3_600 },
            expose_code: true,
            human_check: None,
        }
    }

    #[test]
    fn a_number_outside_the_allow_list_is_refused_before_anything_is_spent() {
        let (gate, limiter) = (MemoryCodeGate::issuing(), MemoryLimiter::default());
        let allowed = CountryCodes::parse("86").unwrap();
        let refused =
            block_on(sending(&gate, &limiter, &allowed).send(&request("+447700900123"), &caller("1.2.3.4")));
        assert_eq!(refused, Err(ApiError::Invalid(ValidationError::Field(Field::Phone, Rule::Malformed))));
        assert_eq!(gate.issued(), 0);
        for phone in ["13911110001", "13911110002"] {
            assert!(block_on(sending(&gate, &limiter, &allowed).send(&request(phone), &caller("1.2.3.4")))
                .is_ok());
        }
    }

    fn with_token(phone: &str, token: &str) -> SendSmsRequest {
        let body = json!({ "phone": phone, "turnstile_token": token });
        SendSmsRequest::parse(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn with_turnstile_on_a_send_needs_a_token_siteverify_accepts_and_a_refused_one_costs_nothing() {
        let (gate, limiter) = (MemoryCodeGate::issuing(), MemoryLimiter::default());
        let allowed = CountryCodes::parse("86").unwrap();
        let check = MemoryHumanCheck::default();
        let sending = SmsSending { human_check: Some(&check), ..sending(&gate, &limiter, &allowed) };
        let send = |request: &SendSmsRequest| block_on(sending.send(request, &caller("203.0.113.7")));
        assert_eq!(
            send(&request("13911110001")),
            Err(ApiError::field(Field::TurnstileToken, Rule::Required))
        );
        for _ in 0..3 {
            let refused = send(&with_token("13911110001", "bad"));
            assert_eq!(refused, Err(ApiError::field(Field::TurnstileToken, Rule::Refused)));
        }
        let broken = send(&with_token("13911110001", "broken"));
        assert!(matches!(broken, Err(ApiError::Internal(_))), "fail closed: {broken:?}");
        // Nothing was sent or counted: the address still has both its sends.
        assert_eq!(gate.issued(), 0);
        assert!(send(&with_token("13911110001", "good")).is_ok());
        assert!(send(&with_token("13911110002", "good")).is_ok());
        assert_eq!(gate.issued(), 2);
        // siteverify hears the client's own address, not the limits' key.
        assert!(check.asked_for.borrow().iter().all(|ip| ip.as_deref() == Some("203.0.113.7")));
    }

    #[test]
    fn an_ip_gets_its_hourly_sends_and_then_a_retry_after() {
        let (gate, limiter) = (MemoryCodeGate::issuing(), MemoryLimiter::default());
        let allowed = CountryCodes::parse("86").unwrap();
        let send = |phone: &str, ip: &str| {
            block_on(sending(&gate, &limiter, &allowed).send(&request(phone), &caller(ip)))
        };
        assert!(send("13911110001", "1.2.3.4").is_ok());
        limiter.now_millis.set(60_000);
        assert!(send("13911110002", "1.2.3.4").is_ok());
        assert_eq!(send("13911110003", "1.2.3.4"), Err(ApiError::RateLimited { retry_after_seconds: 3_540 }));
        assert!(send("13911110003", "5.6.7.8").is_ok(), "another IP has its own count");
        assert_eq!(gate.issued(), 3);
    }

    #[test]
    fn a_send_that_sent_nothing_is_not_counted_against_the_ip() {
        let (gate, limiter) = (MemoryCodeGate::with_code("13911119999", "123456"), MemoryLimiter::default());
        let allowed = CountryCodes::parse("86").unwrap();
        for _ in 0..5 {
            let refused = block_on(
                sending(&gate, &limiter, &allowed).send(&request("13911119999"), &caller("1.2.3.4")),
            );
            assert_eq!(refused, Err(ApiError::SmsStillLive));
        }
    }

    #[test]
    fn a_reset_sends_a_code_only_to_a_phone_with_a_user_and_answers_alike_for_any() {
        let (gate, limiter) = (MemoryCodeGate::issuing(), MemoryLimiter::default());
        let allowed = CountryCodes::parse("86").unwrap();
        let users = MemoryUsers::with_user("Foo", "13911110001", "secret1", 1_000);
        let sending = SmsSending { expose_code: false, ..sending_with(&gate, &limiter, &allowed, &users) };
        let send = |request: &SendSmsRequest| block_on(sending.send(request, &caller("1.2.3.4")));
        assert_eq!(send(&reset("13911110001")), Ok(json!([])));
        assert_eq!((gate.issued(), gate.decoys()), (1, 0));
        assert_eq!(send(&reset("13911110002")), Ok(json!([])), "no user: the same answer");
        assert_eq!((gate.issued(), gate.decoys()), (1, 1));
        assert_eq!(
            send(&reset("13911110003")),
            Err(ApiError::RateLimited { retry_after_seconds: 3_600 }),
            "both counted against the address"
        );
    }
}
