//! Doing something with an SMS code: what a registration, a password reset and a code
//! sign-in (and every later flow that a code proves) share.

use std::future::{ready, Future};

use futures_util::future::join;

use super::limits::count_code_attempt;
use super::platform::{log_if_failed, App, Platform};
use super::ports::CodeGate;
use crate::domain::client_address::Caller;
use crate::domain::error::ApiError;
use crate::domain::phone::Phone;
use crate::domain::sms_code::{CodePurpose, SmsCode};

/// Does `work` with the phone's code for `purpose` taken: see [`with_code_and`].
pub async fn with_code<P: Platform, T>(
    app: &App<P>,
    phone: &Phone,
    code: &SmsCode,
    purpose: CodePurpose,
    caller: &Caller,
    work: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    with_code_and(app, phone, code, purpose, caller, ready(Ok(())), |()| work).await
}

/// Counts the attempt against the caller's address (9905), then takes the phone's code
/// for `purpose` (50001: wrong, expired, used, dead, or sent for another purpose; a
/// wrong guess, counted by the phone's gate) while `beside` runs (a read the work needs
/// whatever the code, so that the two round trips overlap), and then runs `work` on what
/// `beside` found. The code is used up from the take on, so two requests cannot both use
/// it; if `beside` or `work` fails, it is given back, so that a retry may use it again.
///
/// Should giving it back fail, the failure is logged and the phone's owner asks for a new
/// code, which a taken code does not keep them from.
pub async fn with_code_and<P: Platform, B, T, W>(
    app: &App<P>,
    phone: &Phone,
    code: &SmsCode,
    purpose: CodePurpose,
    caller: &Caller,
    beside: impl Future<Output = Result<B, ApiError>>,
    work: impl FnOnce(B) -> W,
) -> Result<T, ApiError>
where
    W: Future<Output = Result<T, ApiError>>,
{
    count_code_attempt(&app.limiter, caller, app.settings.sms.attempts_per_ip).await?;
    let (taken, found) = join(app.gate.take(phone, code, purpose, caller), beside).await;
    let claim = taken?;
    let outcome = match found {
        Ok(found) => work(found).await,
        Err(error) => Err(error),
    };
    if outcome.is_err() {
        log_if_failed::<P>("give a code back", app.gate.give_back(phone, &claim).await);
    }
    outcome
}
