//! SMS delivery through the providers `SMS_PROVIDER` lists, failing over along them. The
//! requests, the reading of replies and the failover's rules are the domain's
//! (`sms_provider`, `sms_failover`); this carries them out, within the send's time.

use std::cell::RefCell;

use chrono::DateTime;
use serde_json::json;

use super::node_crypto::NodeCrypto;
use super::platform::{post_within, WorkerClock};
use crate::app::ports::{Clock, DeliveryError, SmsSender};
use crate::domain::error::ConfigError;
use crate::domain::random::{random_id, SecureRandom};
use crate::domain::sms_failover::{order, share_ms, Breaker};
use crate::domain::sms_provider::{Aliyun, Refusal, Sms, SmsProvider, SmsWebhook, Tencent, Twilio};

/// The configured providers, or why there are none: then every send fails with 50018 and
/// the reason in the log, rather than the Worker failing as a whole.
pub struct ProviderSender {
    providers: Result<Vec<SmsProvider>, ConfigError>,
    timeout_ms: u64,
    /// One per provider, kept by this isolate (per isolate is enough: each stops sending
    /// to a provider that is down after three tries, and tries it again a minute later).
    breakers: RefCell<Vec<Breaker>>,
}

impl ProviderSender {
    pub fn new(providers: Result<Vec<SmsProvider>, ConfigError>, timeout_ms: u64) -> ProviderSender {
        let count = providers.as_ref().map_or(0, Vec::len);
        ProviderSender { providers, timeout_ms, breakers: RefCell::new(vec![Breaker::default(); count]) }
    }
}

impl SmsSender for ProviderSender {
    /// Tries the providers in order (skipping any whose breaker is open), each within its
    /// share of `SMS_PROVIDER_TIMEOUT_MS`, until one sends; logs which did, and why each
    /// before it failed (never the code). A refusal about the number ends the send there:
    /// asking the next provider would get round the first's protection of the number.
    /// Fails only when every one tried failed, with all their reasons.
    async fn send(&self, sms: &Sms<'_>) -> Result<(), DeliveryError> {
        let providers =
            self.providers.as_ref().map_err(|error| DeliveryError::NotConfigured(error.clone()))?;
        let started = WorkerClock.now_millis();
        let deadline = started + self.timeout_ms;
        let tries = order(&self.breakers.borrow(), started);
        let mut failures = Vec::new();
        let mut no_reply = false;
        for (tried, &index) in tries.iter().enumerate() {
            let provider = providers[index].name();
            let left = deadline.saturating_sub(WorkerClock.now_millis());
            if left == 0 {
                let untried: Vec<&str> = tries[tried..].iter().map(|&i| providers[i].name()).collect();
                failures.push(format!("no time left for {}", untried.join(", ")));
                break;
            }
            let failure = match send_by(&providers[index], sms, share_ms(left, tries.len() - tried)).await {
                Ok(()) => {
                    self.breakers.borrow_mut()[index].succeeded();
                    log_attempt("sms_sent", provider, tried, None);
                    return Ok(());
                }
                Err(Failed::Number(reason)) => return Err(DeliveryError::Refused(reason)),
                Err(Failed::Provider(failure)) => failure,
            };
            no_reply |= matches!(failure, DeliveryError::NoReply(_));
            let reason = failure.to_string();
            log_attempt("sms_provider_failed", provider, tried, Some(&reason));
            if self.breakers.borrow_mut()[index].failed(WorkerClock.now_millis()) {
                log_attempt("sms_provider_skipped", provider, tried, None);
            }
            failures.push(reason);
        }
        let reasons = failures.join("; then ");
        Err(if no_reply { DeliveryError::NoReply(reasons) } else { DeliveryError::Refused(reasons) })
    }
}

/// A line on one try: `sms_sent`, `sms_provider_failed` (a warning, with the reason) or
/// `sms_provider_skipped` (its breaker opened: skipped for a minute). Never the code.
fn log_attempt(event: &str, provider: &str, tried: usize, reason: Option<&str>) {
    let mut line = json!({ "event": event, "provider": provider, "attempt": tried + 1 });
    match reason {
        Some(reason) => {
            line["reason"] = json!(reason);
            worker::console_warn!("{line}");
        }
        None => worker::console_log!("{line}"),
    }
}

/// Why one provider did not send.
enum Failed {
    /// A refusal about the number (see [`Refusal::Number`]).
    Number(String),
    Provider(DeliveryError),
}

impl From<Refusal> for Failed {
    fn from(refusal: Refusal) -> Failed {
        match refusal {
            Refusal::Number(reason) => Failed::Number(reason),
            Refusal::Provider(reason) => Failed::Provider(DeliveryError::Refused(reason)),
        }
    }
}

/// One provider's attempt, within `timeout_ms`.
async fn send_by(provider: &SmsProvider, sms: &Sms<'_>, timeout_ms: u64) -> Result<(), Failed> {
    let (phone, code) = (sms.phone, sms.code);
    let exchange = |request| async move {
        post_within(&request, timeout_ms).await.map_err(|why| Failed::Provider(DeliveryError::NoReply(why)))
    };
    match provider {
        SmsProvider::Console => {
            // Codes never go to a log (anyone who reads logs could register with them).
            // Locally, EXPOSE_SMS_CODE=true returns the code in the response instead.
            // The console provider is for local development, so the number is logged whole.
            worker::console_log!("[sms console] to {phone}: 您的验证码是 ******，5分钟内有效。");
            Ok(())
        }
        SmsProvider::Aliyun(aliyun) => {
            let now = DateTime::from_timestamp_millis(WorkerClock.now_millis() as i64).unwrap_or_default();
            let (status, body) =
                exchange(aliyun.request(&NodeCrypto, phone, code, &random_id(&SecureRandom), now)).await?;
            Aliyun::outcome(status, &body).map_err(Failed::from)
        }
        SmsProvider::Tencent(tencent) => {
            let now = (WorkerClock.now_millis() / 1000) as i64;
            let (status, body) = exchange(tencent.request(&NodeCrypto, phone, code, now)).await?;
            Tencent::outcome(status, &body).map_err(Failed::from)
        }
        SmsProvider::Twilio(twilio) => {
            let (status, body) = exchange(twilio.request(phone, code)).await?;
            Twilio::outcome(status, &body).map_err(Failed::from)
        }
        SmsProvider::Webhook(webhook) => {
            let id = format!("msg_{}", random_id(&SecureRandom));
            let now = (WorkerClock.now_millis() / 1000) as i64;
            let (status, _) = exchange(webhook.request(&NodeCrypto, sms, &id, now)).await?;
            SmsWebhook::outcome(status).map_err(Failed::from)
        }
    }
}
