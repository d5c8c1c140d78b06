//! SMS providers. `console` writes the message to the Worker's log instead of sending
//! it, for local development.

use crate::app::ports::SmsSender;
use crate::domain::phone::Phone;
use crate::domain::sms_code::SmsCode;

/// Writes each message to the log (`wrangler dev`'s output, or `wrangler tail`).
pub struct ConsoleSmsSender;

impl SmsSender for ConsoleSmsSender {
    async fn send(&self, phone: &Phone, code: &SmsCode) -> Result<(), String> {
        worker::console_log!("[sms console] to {phone}: 您的验证码是 {}，5分钟内有效。", code.as_str());
        Ok(())
    }
}

/// The sender named by `SMS_PROVIDER`.
pub fn sender_for(provider: &str) -> Result<ConsoleSmsSender, String> {
    match provider {
        "console" => Ok(ConsoleSmsSender),
        other => Err(format!("SMS_PROVIDER {other:?} is not supported; use \"console\"")),
    }
}
