//! SMS delivery through the provider `SMS_PROVIDER` chooses. The requests and the reading
//! of replies are `domain::sms_provider`'s; this carries them out, with a timeout.

use std::time::Duration;

use chrono::DateTime;
use futures_util::future::{select, Either};
use worker::{AbortController, Delay, Fetch};

use super::platform::{post_request, WorkerClock};
use crate::app::ports::{Clock, DeliveryError, SmsSender};
use crate::domain::phone::Phone;
use crate::domain::random::{random_id, SecureRandom};
use crate::domain::settings::ConfigError;
use crate::domain::sms_code::SmsCode;
use crate::domain::sms_provider::{Aliyun, OutgoingRequest, SmsProvider, Twilio};

/// The configured provider, or why there is none: then every send fails with 50018 and
/// the reason in the log, rather than the Worker failing as a whole.
pub struct ProviderSender {
    pub provider: Result<SmsProvider, ConfigError>,
    pub timeout_ms: u64,
}

impl SmsSender for ProviderSender {
    async fn send(&self, phone: &Phone, code: &SmsCode) -> Result<(), DeliveryError> {
        match &self.provider {
            Err(error) => Err(DeliveryError::NotConfigured(error.clone())),
            Ok(SmsProvider::Console) => {
                // Codes never go to a log (anyone who reads logs could register with them).
                // Locally, EXPOSE_SMS_CODE=true returns the code in the response instead.
                // The console provider is for local development, so the number is logged whole.
                worker::console_log!("[sms console] to {phone}: 您的验证码是 ******，5分钟内有效。");
                Ok(())
            }
            Ok(SmsProvider::Aliyun(aliyun)) => {
                let now =
                    DateTime::from_timestamp_millis(WorkerClock.now_millis() as i64).unwrap_or_default();
                let request = aliyun.request(phone, code, &random_id(&SecureRandom), now);
                let (status, body) = post(&request, self.timeout_ms).await.map_err(DeliveryError::NoReply)?;
                Aliyun::outcome(status, &body).map_err(DeliveryError::Refused)
            }
            Ok(SmsProvider::Twilio(twilio)) => {
                let (status, body) = post(&twilio.request(phone, code), self.timeout_ms)
                    .await
                    .map_err(DeliveryError::NoReply)?;
                Twilio::outcome(status, &body).map_err(DeliveryError::Refused)
            }
        }
    }
}

/// POSTs the request and reads the whole reply, or gives up (and aborts the request)
/// after `timeout_ms`. The error is for the log; it never holds the body sent.
async fn post(outgoing: &OutgoingRequest, timeout_ms: u64) -> Result<(u16, String), String> {
    let headers: Vec<(&str, &str)> =
        outgoing.headers.iter().map(|(name, value)| (name.as_ref(), value.as_ref())).collect();
    let request = post_request(&outgoing.url, &headers, &outgoing.body)?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let exchange = async {
        let mut response = Fetch::Request(request).send_with_signal(&signal).await?;
        let status = response.status_code();
        Ok::<_, worker::Error>((status, response.text().await?))
    };
    let deadline = Delay::from(Duration::from_millis(timeout_ms));
    let exchange = std::pin::pin!(exchange);
    match select(exchange, deadline).await {
        Either::Left((Ok(reply), _)) => Ok(reply),
        Either::Left((Err(error), _)) => Err(format!("no reply from {}: {error}", outgoing.url)),
        Either::Right(_) => {
            controller.abort();
            Err(format!("no reply from {} within {timeout_ms} ms", outgoing.url))
        }
    }
}
