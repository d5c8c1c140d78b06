//! SMS delivery through the provider `SMS_PROVIDER` chooses. The requests and the reading
//! of replies are `domain::sms_provider`'s; this carries them out, with a timeout.

use chrono::DateTime;

use super::node_crypto::NodeCrypto;
use super::platform::{post_within, WorkerClock};
use crate::app::ports::{Clock, DeliveryError, SmsSender};
use crate::domain::error::ConfigError;
use crate::domain::phone::Phone;
use crate::domain::random::{random_id, SecureRandom};
use crate::domain::sms_code::SmsCode;
use crate::domain::sms_provider::{Aliyun, SmsProvider, Tencent, Twilio};

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
                let request = aliyun.request(&NodeCrypto, phone, code, &random_id(&SecureRandom), now);
                let (status, body) =
                    post_within(&request, self.timeout_ms).await.map_err(DeliveryError::NoReply)?;
                Aliyun::outcome(status, &body).map_err(DeliveryError::Refused)
            }
            Ok(SmsProvider::Tencent(tencent)) => {
                let now = (WorkerClock.now_millis() / 1000) as i64;
                let request = tencent.request(&NodeCrypto, phone, code, now);
                let (status, body) =
                    post_within(&request, self.timeout_ms).await.map_err(DeliveryError::NoReply)?;
                Tencent::outcome(status, &body).map_err(DeliveryError::Refused)
            }
            Ok(SmsProvider::Twilio(twilio)) => {
                let (status, body) = post_within(&twilio.request(phone, code), self.timeout_ms)
                    .await
                    .map_err(DeliveryError::NoReply)?;
                Twilio::outcome(status, &body).map_err(DeliveryError::Refused)
            }
        }
    }
}
