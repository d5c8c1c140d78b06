//! What the worker writes to its log. Cloudflare already logs every invocation (method,
//! URL, status, outcome, duration, cf-ray) in Workers Logs and `wrangler tail`
//! (`[observability]` in wrangler.toml), so the worker adds only what the platform cannot
//! know: one JSON line for each failure worth an operator's eye (a 9999 and its cause, a
//! provider's refusal, a limit tripped), and one line per request when an operator asks
//! (`LOG_REQUESTS=all`). Never a body: bodies hold passwords, codes and tokens.

use serde_json::json;

use crate::domain::error::ApiError;

/// The line of one request, when `LOG_REQUESTS=all`. The request id is Cloudflare's
/// `cf-ray`, which `wrangler tail` and the dashboard show too.
pub fn request(request_id: &str, method: &str, path: &str, code: u32, status: u16, ms: u64) {
    let line = json!({
        "request_id": request_id, "method": method, "path": path, "code": code,
        "status": status, "ms": ms,
    });
    worker::console_log!("{line}");
}

/// The line of a failure worth an operator's eye: a 9999 and a provider's refusal as
/// errors with their cause, a limit tripped as a warning; nothing for the others. The
/// request id is asked for only when a line is written (reading it crosses into
/// JavaScript).
pub fn failure(error: &ApiError, path: &str, request_id: impl FnOnce() -> String) {
    let (event, detail) = match error {
        ApiError::Internal(_) => ("internal_error", ("cause", json!(error.log_detail()))),
        ApiError::SmsSendFailed { .. } => ("sms_refused", ("cause", json!(error.log_detail()))),
        ApiError::RateLimited { retry_after_seconds } => {
            ("limited", ("retry_after", json!(retry_after_seconds)))
        }
        _ => return,
    };
    let mut line = json!({ "event": event, "code": error.code(), "request_id": request_id(), "path": path });
    line[detail.0] = detail.1;
    match error {
        ApiError::RateLimited { .. } => worker::console_warn!("{line}"),
        _ => worker::console_error!("{line}"),
    }
}

/// The line of a refresh token's replay (a warning: the session ended) or of its reuse
/// within the grace window (see `app::platform::REFRESH_WITHIN_GRACE`). Ids only.
pub fn refresh_event(event: &str, uid: u64, sid: &str) {
    let line = json!({ "event": event, "uid": uid, "sid": sid });
    if event == crate::app::platform::REFRESH_REPLAYED {
        worker::console_warn!("{line}");
    } else {
        worker::console_log!("{line}");
    }
}

/// The line of a Cron Trigger's run: how many accounts due for deletion it removed, and
/// how many it could not (each logged by [`unanswered`]).
pub fn purged(removed: u32, failed: u32) {
    worker::console_log!("{}", json!({ "event": "accounts_removed", "removed": removed, "failed": failed }));
}

/// A failure no client sees: of work done after the answer (`ctx.wait_until`), or of a
/// step whose failure leaves the answer standing (a code that could not be used up).
pub fn unanswered(doing: &str, error: &ApiError) {
    let cause = error.log_detail().unwrap_or_else(|| error.to_string());
    worker::console_error!("{}", json!({ "event": "unanswered_failure", "doing": doing, "cause": cause }));
}
