//! SMS providers, chosen by `SMS_PROVIDER`. `console` writes the message to the Worker's
//! log instead of sending it, for local development, with the code withheld.

use crate::app::ports::SmsSender;
use crate::domain::phone::Phone;
use crate::domain::sms_code::SmsCode;

/// The provider `SMS_PROVIDER` names, or why there is none. Without one every send fails
/// with 50018 and the reason in the log, rather than the Worker failing as a whole.
pub enum ConfiguredSender {
    /// Writes each message to the log (`wrangler dev`'s output, or `wrangler tail`).
    Console,
    Unavailable(String),
}

pub fn sender_for(provider: Option<&str>) -> ConfiguredSender {
    match provider {
        Some("console") => ConfiguredSender::Console,
        Some(other) => ConfiguredSender::Unavailable(format!("SMS_PROVIDER {other:?} is not supported")),
        None => ConfiguredSender::Unavailable("SMS_PROVIDER is not set".into()),
    }
}

impl SmsSender for ConfiguredSender {
    async fn send(&self, phone: &Phone, code: &SmsCode) -> Result<(), String> {
        match self {
            ConfiguredSender::Console => {
                // Codes never go to a log (anyone who reads logs could register with them).
                // Locally, EXPOSE_SMS_CODE=true returns the code in the response instead.
                let _ = code;
                worker::console_log!("[sms console] to {phone}: 您的验证码是 ******，5分钟内有效。");
                Ok(())
            }
            ConfiguredSender::Unavailable(reason) => Err(reason.clone()),
        }
    }
}
