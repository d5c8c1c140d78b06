//! Doing something with an SMS code: what a registration and a password reset (and every
//! later flow that a code proves) share.

use std::future::Future;

use super::limits::count_code_attempt;
use super::platform::{log_if_failed, App, Platform};
use super::ports::CodeGate;
use crate::domain::client_address::Caller;
use crate::domain::error::ApiError;
use crate::domain::phone::Phone;
use crate::domain::sms_code::{CodePurpose, SmsCode};

/// Does `work` with the phone's code for `purpose` held: counts the attempt against the
/// caller's address (9905), claims the code (50001: wrong, expired, used, dead, or sent for
/// another purpose; a wrong guess, counted by the phone's gate), runs `work`, and then uses
/// the code up if `work` succeeded or releases it if not, so that a retry may use it again.
/// The code is held meanwhile, so two requests cannot both use it.
///
/// Should using the code up fail, the outcome stands and the failure is logged: the code
/// can then be claimed again once its hold lapses (30 s) and while it lives, by its holder
/// only, who proved the phone already, and every `work` is safe to repeat (a registration
/// meets the phone's uniqueness, a reset sets the same password again). Should a release
/// fail, the code is free again when the hold lapses.
pub async fn with_code<P: Platform, T>(
    app: &App<P>,
    phone: &Phone,
    code: &SmsCode,
    purpose: CodePurpose,
    caller: &Caller,
    work: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    count_code_attempt(&app.limiter, caller, app.settings.sms.attempts_per_ip).await?;
    let claim = app.gate.claim(phone, code, purpose, caller).await?;
    let outcome = work.await;
    match &outcome {
        Ok(_) => log_if_failed::<P>("use up a code", app.gate.consume(phone, &claim).await),
        Err(_) => log_if_failed::<P>("release a code", app.gate.release(phone, &claim).await),
    }
    outcome
}
