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
use crate::domain::sms_provider::{Aliyun, Sms, SmsProvider, SmsWebhook, Tencent, Twilio};

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
    /// share of `SMS_PROVIDER_TIMEOUT_MS`, until one sends; logs which did (never the
    /// code). Fails only when every one tried failed, with all their reasons.
    async fn send(&self, sms: &Sms<'_>) -> Result<(), DeliveryError> {
        let providers =
            self.providers.as_ref().map_err(|error| DeliveryError::NotConfigured(error.clone()))?;
        let started = WorkerClock.now_millis();
        let deadline = started + self.timeout_ms;
        let tries = order(&self.breakers.borrow(), started);
        let mut failures = Vec::new();
        let mut no_reply = false;
        for (tried, &index) in tries.iter().enumerate() {
            let now = WorkerClock.now_millis();
            let left = deadline.saturating_sub(now);
            if left == 0 {
                break;
            }
            let provider = &providers[index];
            match send_by(provider, sms, share_ms(left, tries.len() - tried)).await {
                Ok(()) => {
                    self.breakers.borrow_mut()[index].succeeded();
                    let line =
                        json!({ "event": "sms_sent", "provider": provider.name(), "attempt": tried + 1 });
                    worker::console_log!("{line}");
                    return Ok(());
                }
                Err(error) => {
                    self.breakers.borrow_mut()[index].failed(WorkerClock.now_millis());
                    no_reply |= matches!(error, DeliveryError::NoReply(_));
                    failures.push(error.to_string());
                }
            }
        }
        let reasons = failures.join("; then ");
        Err(if no_reply { DeliveryError::NoReply(reasons) } else { DeliveryError::Refused(reasons) })
    }
}

/// One provider's attempt, within `timeout_ms`.
async fn send_by(provider: &SmsProvider, sms: &Sms<'_>, timeout_ms: u64) -> Result<(), DeliveryError> {
    let (phone, code) = (sms.phone, sms.code);
    let exchange =
        |request| async move { post_within(&request, timeout_ms).await.map_err(DeliveryError::NoReply) };
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
            Aliyun::outcome(status, &body).map_err(DeliveryError::Refused)
        }
        SmsProvider::Tencent(tencent) => {
            let now = (WorkerClock.now_millis() / 1000) as i64;
            let (status, body) = exchange(tencent.request(&NodeCrypto, phone, code, now)).await?;
            Tencent::outcome(status, &body).map_err(DeliveryError::Refused)
        }
        SmsProvider::Twilio(twilio) => {
            let (status, body) = exchange(twilio.request(phone, code)).await?;
            Twilio::outcome(status, &body).map_err(DeliveryError::Refused)
        }
        SmsProvider::Webhook(webhook) => {
            let id = format!("msg_{}", random_id(&SecureRandom));
            let now = (WorkerClock.now_millis() / 1000) as i64;
            let (status, _) = exchange(webhook.request(&NodeCrypto, sms, &id, now)).await?;
            SmsWebhook::outcome(status).map_err(DeliveryError::Refused)
        }
    }
}
