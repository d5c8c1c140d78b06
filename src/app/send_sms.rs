//! `POST /login/send/sms`

use serde_json::{json, Value};

use super::ports::{CodeGate, RateLimiter};
use super::Caller;
use crate::domain::error::{ApiError, Field, Rule, ValidationError};
use crate::domain::phone::CountryCodes;
use crate::domain::rate_limit::Limit;
use crate::domain::requests::SendSmsRequest;

/// What sending a code needs.
pub struct SmsSending<'a, G, L> {
    pub gate: &'a G,
    pub limiter: &'a L,
    pub allowed_country_codes: &'a CountryCodes,
    pub per_ip: Limit,
    /// Put the code in `data` (local development only: the original disclosed it always).
    pub expose_code: bool,
}

impl<G: CodeGate, L: RateLimiter> SmsSending<'_, G, L> {
    /// Checks the number's country (9906, before anything is spent), counts the send
    /// against the client's IP (9905), then issues a code through the phone's gate. A
    /// send that sent nothing (50017, 50018, the phone's own limit) is not counted
    /// against the IP, so a user whose provider failed can ask again at once.
    pub async fn send(&self, request: &SendSmsRequest, caller: &Caller) -> Result<Value, ApiError> {
        if !self.allowed_country_codes.allows(&request.phone) {
            return Err(ApiError::Invalid(ValidationError::Field(Field::Phone, Rule::Malformed)));
        }
        let ip_key = format!("sms-ip:{}", caller.ip);
        let stamp = self.limiter.take(&ip_key, self.per_ip).await?;
        match self.gate.issue(&request.phone).await {
            Ok(code) => Ok(if self.expose_code { json!({ "code": code.as_str() }) } else { json!([]) }),
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
    use crate::app::in_memory::{MemoryCodeGate, MemoryLimiter};
    use pollster::block_on;

    fn request(phone: &str) -> SendSmsRequest {
        SendSmsRequest::parse(json!({ "phone": phone }).to_string().as_bytes()).unwrap()
    }

    fn caller(ip: &str) -> Caller {
        Caller { ip: ip.into() }
    }

    fn sending<'a>(
        gate: &'a MemoryCodeGate,
        limiter: &'a MemoryLimiter,
        allowed: &'a CountryCodes,
    ) -> SmsSending<'a, MemoryCodeGate, MemoryLimiter> {
        SmsSending {
            gate,
            limiter,
            allowed_country_codes: allowed,
            per_ip: Limit { max: 2, window_seconds: 3_600 },
            expose_code: true,
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
}
