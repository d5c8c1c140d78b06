//! The JSON envelope every response carries: `{"code", "msg", "status", "data"}`.

use serde::Serialize;
use serde_json::Value;

use super::error::{ApiError, Rule, ValidationError};
use super::language::Language;

/// The HTTP status that goes with an error's code: the one mapping from the contract's
/// code table to HTTP.
pub fn http_status(error: &ApiError) -> u16 {
    match error {
        ApiError::NotFound => 404,
        ApiError::MethodNotAllowed { .. } => 405,
        ApiError::RateLimited { .. } => 429,
        ApiError::OriginNotAllowed => 403,
        ApiError::Invalid(ValidationError::BodyNotObject | ValidationError::DuplicateKey(_)) => 400,
        ApiError::Invalid(ValidationError::BodyTooLarge) => 413,
        ApiError::Invalid(ValidationError::BodyIncomplete) => 408,
        // A refused proof (a Turnstile token) is well-formed input the server will not act on.
        ApiError::Invalid(ValidationError::Field(_, Rule::Refused)) => 403,
        ApiError::Invalid(ValidationError::Field(..)) => 422,
        ApiError::Unauthorized(_) => 401,
        ApiError::Internal(_) => 500,
        ApiError::WrongSmsCode => 400,
        ApiError::LoginFailed { .. } => 401,
        ApiError::AlreadyRegistered { .. } => 409,
        ApiError::SmsStillLive => 429,
        ApiError::SmsSendFailed { .. } => 502,
    }
}

/// The `data` of an answer that has nothing to say: `[]`, as the original sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoData;

impl Serialize for NoData {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(std::iter::empty::<()>())
    }
}

/// A response body. `status` is `true` exactly when `code` is 200, and an empty `data`
/// is `[]`, as the original PHP service sent it (clients test `data.length`).
#[derive(Debug, Serialize)]
pub struct Envelope {
    pub code: u32,
    pub msg: String,
    pub status: bool,
    pub data: Value,
}

/// A successful body with its HTTP status (always 200).
pub fn success(data: Value) -> (u16, Envelope) {
    let data = if data.is_null() { Value::Array(vec![]) } else { data };
    (200, Envelope { code: 200, msg: "ok".into(), status: true, data })
}

/// The body and HTTP status for an error, its `msg` in `language`.
pub fn failure(error: &ApiError, language: Language) -> (u16, Envelope) {
    let envelope = Envelope {
        code: error.code(),
        msg: error.message_in(language),
        status: false,
        data: Value::Array(vec![]),
    };
    (http_status(error), envelope)
}

/// The envelope for a use case's outcome.
pub fn from_result(result: &Result<Value, ApiError>, language: Language) -> (u16, Envelope) {
    match result {
        Ok(data) => success(data.clone()),
        Err(error) => failure(error, language),
    }
}

impl Envelope {
    pub fn to_json(&self) -> String {
        // Serializing a struct of strings, numbers and a `Value` cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::error::{AuthError, Fault, Field, Rule};
    use serde_json::json;

    #[test]
    fn every_code_has_the_contracts_http_status() {
        let table = [
            (ApiError::NotFound, 9902, 404),
            (ApiError::MethodNotAllowed { allow: "POST, OPTIONS" }, 9903, 405),
            (ApiError::RateLimited { retry_after_seconds: 1 }, 9905, 429),
            (ApiError::field(Field::Phone, Rule::Required), 9906, 422),
            (ApiError::field(Field::TurnstileToken, Rule::Refused), 9906, 403),
            (ApiError::Invalid(ValidationError::BodyNotObject), 9906, 400),
            (ApiError::Invalid(ValidationError::BodyTooLarge), 9906, 413),
            (ApiError::Invalid(ValidationError::BodyIncomplete), 9906, 408),
            (ApiError::Unauthorized(AuthError::Expired), 9908, 401),
            (ApiError::from(Fault::Crypto("boom".into())), 9999, 500),
            (ApiError::WrongSmsCode, 50001, 400),
            (ApiError::LoginFailed { account: "a".into() }, 50006, 401),
            (ApiError::AlreadyRegistered { account: "a".into() }, 50007, 409),
            (ApiError::SmsStillLive, 50017, 429),
            (ApiError::SmsSendFailed { reason: "x".into() }, 50018, 502),
        ];
        for (error, code, status) in table {
            assert_eq!((error.code(), http_status(&error)), (code, status), "{error:?}");
        }
    }

    #[test]
    fn success_has_status_true_and_empty_data_as_array() {
        let (http, body) = success(Value::Null);
        assert_eq!(http, 200);
        assert_eq!(body.to_json(), r#"{"code":200,"msg":"ok","status":true,"data":[]}"#);
    }

    #[test]
    fn failure_has_status_false_and_empty_array() {
        let (http, body) = failure(&ApiError::field(Field::Phone, Rule::Required), Language::Chinese);
        assert_eq!(http, 422);
        let value: Value = serde_json::from_str(&body.to_json()).unwrap();
        assert_eq!(
            value,
            json!({"code": 9906, "msg": "数据验证失败，原因如下：phone 手机号必填", "status": false, "data": []})
        );
    }

    #[test]
    fn data_passes_through() {
        let (_, body) = success(json!({"jwt": "a", "refresh_jwt": "b"}));
        assert_eq!(body.data, json!({"jwt": "a", "refresh_jwt": "b"}));
    }
}
