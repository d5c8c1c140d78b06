//! `POST /login/send/sms`

use serde_json::{json, Value};

use super::ports::CodeGate;
use crate::domain::error::ApiError;
use crate::domain::requests::SendSmsRequest;

/// Issues a code through the phone's gate. The code is returned in `data` only when
/// `expose_code` is set (local development): the original disclosed it always.
pub async fn send_sms(
    gate: &impl CodeGate,
    request: &SendSmsRequest,
    expose_code: bool,
) -> Result<Value, ApiError> {
    let code = gate.issue(&request.phone).await?;
    Ok(if expose_code { json!({ "code": code.as_str() }) } else { json!([]) })
}
