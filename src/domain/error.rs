//! The one error type of the API. Every variant knows its envelope `code`, its HTTP
//! status and its message; [`crate::domain::envelope`] turns it into a body, and the
//! Cloudflare side has exactly one place that turns that into a response.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::language::Language;

/// Everything a request can fail with, as the contract's table lists it.
/// It is serializable so that the Durable Object can hand an error to the Worker as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ApiError {
    /// 9902: no such path.
    NotFound,
    /// 9903: known path, wrong method.
    MethodNotAllowed,
    /// 9905: a rate limit was hit; retry after this many seconds.
    RateLimited { retry_after_seconds: u64 },
    /// 9906: a field failed validation (422), the body is not a JSON object (400) or is
    /// too large (413).
    Invalid(ValidationError),
    /// 9908: the token is malformed, forged, expired, of the wrong kind or revoked.
    Unauthorized(AuthError),
    /// 9999: anything unexpected. The detail is logged, never sent.
    Internal(String),
    /// 50001: the SMS code is wrong, expired, used, or for another phone.
    WrongSmsCode,
    /// 50006: unknown account, wrong password or disabled user: one answer for all.
    LoginFailed { account: String },
    /// 50007: the account or the phone is registered already.
    AlreadyRegistered { account: String },
    /// 50017: a code for this phone is still live.
    SmsStillLive,
    /// 50018: the SMS provider refused or failed. The reason is logged, never sent.
    SmsSendFailed { reason: String },
}

/// Why a request body failed validation. Only the first failing rule is reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValidationError {
    /// The body is not JSON, or is JSON but not an object (HTTP 400).
    BodyNotObject,
    /// The body is over the size limit (HTTP 413).
    BodyTooLarge,
    /// A field broke a rule (HTTP 422).
    Field(Field, Rule),
}

/// The request fields that carry validation messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Field {
    Account,
    Password,
    PasswordConfirmation,
    /// The password of `/login/jwt/get`, named `pwd` there.
    LoginPassword,
    Phone,
    SmsCode,
    Jwt,
    /// `scope` of `/login/jwt/deactivate`: `session` or `all`.
    Scope,
}

/// The validation rules a field can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rule {
    /// Missing, `null` or empty.
    Required,
    /// Not a JSON string (or, for the SMS code, not a string or number).
    NotString,
    /// Characters other than letters, digits and underscore (passwords), or control
    /// characters (accounts).
    Charset,
    /// Too short or too long.
    Length,
    /// Not a valid value of its kind (a phone number, a 6-digit code).
    Malformed,
    /// `password_confirmation` differs from `password`.
    Mismatch,
}

/// Why a token was refused (9908). The texts follow the original service, whose clients
/// may show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthError {
    Malformed,
    BadSignature,
    Expired,
    NotYetValid,
    WrongIssuer,
    WrongAudience,
    WrongTokenType,
    Revoked,
    /// The user behind the token is gone or disabled.
    UserUnavailable,
}

impl ApiError {
    /// The stable number clients switch on.
    pub fn code(&self) -> u32 {
        match self {
            ApiError::NotFound => 9902,
            ApiError::MethodNotAllowed => 9903,
            ApiError::RateLimited { .. } => 9905,
            ApiError::Invalid(_) => 9906,
            ApiError::Unauthorized(_) => 9908,
            ApiError::Internal(_) => 9999,
            ApiError::WrongSmsCode => 50001,
            ApiError::LoginFailed { .. } => 50006,
            ApiError::AlreadyRegistered { .. } => 50007,
            ApiError::SmsStillLive => 50017,
            ApiError::SmsSendFailed { .. } => 50018,
        }
    }

    /// The HTTP status that goes with the code.
    pub fn http_status(&self) -> u16 {
        match self {
            ApiError::NotFound => 404,
            ApiError::MethodNotAllowed => 405,
            ApiError::RateLimited { .. } => 429,
            ApiError::Invalid(ValidationError::BodyNotObject) => 400,
            ApiError::Invalid(ValidationError::BodyTooLarge) => 413,
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

    /// The `msg` of the envelope, in Chinese as the original service wrote it.
    pub fn message(&self) -> String {
        self.message_in(Language::Chinese)
    }

    /// The `msg` of the envelope in `language`.
    pub fn message_in(&self, language: Language) -> String {
        match language {
            Language::Chinese => match self {
                ApiError::NotFound => "API地址错误或HTTP方法错误，请检查 :(".into(),
                ApiError::MethodNotAllowed => "HTTP方法错误，请检查 :(".into(),
                ApiError::RateLimited { .. } => "当前用户较多，请稍后再试".into(),
                ApiError::Invalid(invalid) => {
                    format!("数据验证失败，原因如下：{}", invalid.reason_in(language))
                }
                ApiError::Unauthorized(failure) => format!("认证失败：{}", failure.reason()),
                ApiError::Internal(_) => "系统繁忙，请稍后尝试".into(),
                ApiError::WrongSmsCode => "验证码错误".into(),
                ApiError::LoginFailed { account } => format!("用户 {account} 未注册或者密码错误"),
                ApiError::AlreadyRegistered { account } => format!("用户 {account} 已注册"),
                ApiError::SmsStillLive => "短信还在有效期内, 请勿重复发送".into(),
                ApiError::SmsSendFailed { .. } => "短信发送失败".into(),
            },
            Language::English => match self {
                ApiError::NotFound => "Unknown API path or wrong HTTP method, please check :(".into(),
                ApiError::MethodNotAllowed => "Wrong HTTP method, please check :(".into(),
                ApiError::RateLimited { .. } => "Too many requests, please try again later".into(),
                ApiError::Invalid(invalid) => format!("Validation failed: {}", invalid.reason_in(language)),
                ApiError::Unauthorized(failure) => format!("Authentication failed: {}", failure.reason()),
                ApiError::Internal(_) => "The service is busy, please try again later".into(),
                ApiError::WrongSmsCode => "Wrong SMS code".into(),
                ApiError::LoginFailed { account } => {
                    format!("User {account} is not registered or the password is wrong")
                }
                ApiError::AlreadyRegistered { account } => format!("User {account} is already registered"),
                ApiError::SmsStillLive => "The SMS code is still valid, please do not send it again".into(),
                ApiError::SmsSendFailed { .. } => "Sending the SMS failed".into(),
            },
        }
    }

    /// Shorthand for a field that broke a rule.
    pub fn field(field: Field, rule: Rule) -> Self {
        ApiError::Invalid(ValidationError::Field(field, rule))
    }

    /// What goes to the log besides the code: the hidden detail of a 5xx.
    pub fn log_detail(&self) -> Option<&str> {
        match self {
            ApiError::Internal(detail) | ApiError::SmsSendFailed { reason: detail } => Some(detail),
            _ => None,
        }
    }

    /// Shorthand for an unexpected failure; `detail` goes to the log only.
    pub fn internal(detail: impl fmt::Display) -> Self {
        ApiError::Internal(detail.to_string())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Internal(detail) => write!(f, "{} (internal: {detail})", self.code()),
            other => write!(f, "{} {}", other.code(), other.message()),
        }
    }
}

impl std::error::Error for ApiError {}

impl ValidationError {
    /// The reason after "数据验证失败，原因如下：", in the original's wording.
    pub fn reason(&self) -> String {
        self.reason_in(Language::Chinese)
    }

    /// The reason in `language`.
    pub fn reason_in(&self, language: Language) -> String {
        match (self, language) {
            (ValidationError::BodyNotObject, Language::Chinese) => "请求体必须是JSON对象".into(),
            (ValidationError::BodyNotObject, Language::English) => "the body must be a JSON object".into(),
            (ValidationError::BodyTooLarge, Language::Chinese) => "请求体过大".into(),
            (ValidationError::BodyTooLarge, Language::English) => {
                "the body is too large (16 KiB at most)".into()
            }
            (ValidationError::Field(field, rule), Language::Chinese) => field_reason(*field, *rule),
            (ValidationError::Field(field, rule), Language::English) => {
                field_reason_in_english(*field, *rule)
            }
        }
    }
}

fn field_reason(field: Field, rule: Rule) -> String {
    // The original prefixes most messages with the field's name and its Chinese label
    // ("account 账号必填"), but not all ("密码必填" for `pwd`, "手机验证码必填").
    let label = match field {
        Field::Account => "account 账号",
        Field::Password => "password 密码",
        Field::PasswordConfirmation => "确认密码",
        Field::LoginPassword => "密码",
        Field::Phone => "phone 手机号",
        Field::SmsCode => "手机验证码",
        Field::Jwt => "jwt ",
        Field::Scope => "scope 范围",
    };
    match (field, rule) {
        (_, Rule::Required) => format!("{label}必填"),
        (Field::SmsCode, Rule::NotString) => format!("{label}只能是字符串或数字"),
        (_, Rule::NotString) => format!("{label}只能是字符串"),
        (Field::Account, Rule::Charset) => format!("{label}不能包含控制字符"),
        (_, Rule::Charset) => format!("{label}只能包含字母、数字和下划线"),
        (Field::Account, Rule::Length) => format!("{label}长度必须在1到64个字符之间"),
        (_, Rule::Length) => format!("{label}长度必须在6到64个字符之间"),
        (Field::Phone, Rule::Malformed) => "phone 非法".into(),
        (Field::SmsCode, Rule::Malformed) => format!("{label}必须是6位数字"),
        (Field::Scope, Rule::Malformed) => format!("{label}只能是 session 或 all"),
        (_, Rule::Malformed) => format!("{label}格式错误"),
        (_, Rule::Mismatch) => "密码不一致".into(),
    }
}

fn field_reason_in_english(field: Field, rule: Rule) -> String {
    let name = match field {
        Field::Account => "account",
        Field::Password => "password",
        Field::PasswordConfirmation => "password_confirmation",
        Field::LoginPassword => "pwd",
        Field::Phone => "phone",
        Field::SmsCode => "code",
        Field::Jwt => "jwt",
        Field::Scope => "scope",
    };
    match (field, rule) {
        (_, Rule::Required) => format!("{name} is required"),
        (Field::SmsCode, Rule::NotString) => format!("{name} must be a string or a number"),
        (_, Rule::NotString) => format!("{name} must be a string"),
        (Field::Account, Rule::Charset) => format!("{name} must not contain control characters"),
        (_, Rule::Charset) => format!("{name} may only contain letters, digits and underscores"),
        (Field::Account, Rule::Length) => format!("{name} must be 1 to 64 characters long"),
        (_, Rule::Length) => format!("{name} must be 6 to 64 characters long"),
        (Field::SmsCode, Rule::Malformed) => format!("{name} must be 6 digits"),
        (Field::Scope, Rule::Malformed) => format!("{name} must be session or all"),
        (_, Rule::Malformed) => format!("{name} is invalid"),
        (_, Rule::Mismatch) => "password_confirmation does not match password".into(),
    }
}

impl AuthError {
    /// The reason after "认证失败：".
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Malformed => "Wrong number of segments or malformed token",
            AuthError::BadSignature => "Signature verification failed",
            AuthError::Expired => "Expired token",
            AuthError::NotYetValid => "Token not valid yet",
            AuthError::WrongIssuer => "Wrong issuer",
            AuthError::WrongAudience => "Wrong audience",
            AuthError::WrongTokenType => "Wrong token type",
            AuthError::Revoked => "Token revoked",
            AuthError::UserUnavailable => "User unavailable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_the_contracts_http_status() {
        let table = [
            (ApiError::NotFound, 9902, 404),
            (ApiError::MethodNotAllowed, 9903, 405),
            (ApiError::RateLimited { retry_after_seconds: 1 }, 9905, 429),
            (ApiError::field(Field::Phone, Rule::Required), 9906, 422),
            (ApiError::Invalid(ValidationError::BodyNotObject), 9906, 400),
            (ApiError::Invalid(ValidationError::BodyTooLarge), 9906, 413),
            (ApiError::Unauthorized(AuthError::Expired), 9908, 401),
            (ApiError::internal("boom"), 9999, 500),
            (ApiError::WrongSmsCode, 50001, 400),
            (ApiError::LoginFailed { account: "a".into() }, 50006, 401),
            (ApiError::AlreadyRegistered { account: "a".into() }, 50007, 409),
            (ApiError::SmsStillLive, 50017, 429),
            (ApiError::SmsSendFailed { reason: "x".into() }, 50018, 502),
        ];
        for (error, code, status) in table {
            assert_eq!((error.code(), error.http_status()), (code, status), "{error:?}");
        }
    }

    #[test]
    fn validation_messages_follow_the_originals_wording() {
        let cases = [
            (Field::Account, Rule::Required, "account 账号必填"),
            (Field::Password, Rule::Required, "password 密码必填"),
            (Field::LoginPassword, Rule::Required, "密码必填"),
            (Field::Password, Rule::Charset, "password 密码只能包含字母、数字和下划线"),
            (Field::PasswordConfirmation, Rule::Mismatch, "密码不一致"),
            (Field::PasswordConfirmation, Rule::Required, "确认密码必填"),
            (Field::Phone, Rule::Required, "phone 手机号必填"),
            (Field::Phone, Rule::Malformed, "phone 非法"),
            (Field::SmsCode, Rule::Required, "手机验证码必填"),
            (Field::Jwt, Rule::Required, "jwt 必填"),
            (Field::Jwt, Rule::NotString, "jwt 只能是字符串"),
        ];
        for (field, rule, reason) in cases {
            assert_eq!(ApiError::field(field, rule).message(), format!("数据验证失败，原因如下：{reason}"));
        }
    }

    #[test]
    fn english_messages_keep_the_codes() {
        let cases = [
            (ApiError::field(Field::Phone, Rule::Required), "Validation failed: phone is required"),
            (ApiError::field(Field::Phone, Rule::Malformed), "Validation failed: phone is invalid"),
            (
                ApiError::LoginFailed { account: "Foo".into() },
                "User Foo is not registered or the password is wrong",
            ),
            (ApiError::Unauthorized(AuthError::Expired), "Authentication failed: Expired token"),
            (ApiError::SmsStillLive, "The SMS code is still valid, please do not send it again"),
        ];
        for (error, message) in cases {
            assert_eq!(error.message_in(Language::English), message);
        }
    }

    #[test]
    fn every_message_exists_in_both_languages() {
        let rules =
            [Rule::Required, Rule::NotString, Rule::Charset, Rule::Length, Rule::Malformed, Rule::Mismatch];
        let fields = [
            Field::Account,
            Field::Password,
            Field::PasswordConfirmation,
            Field::LoginPassword,
            Field::Phone,
            Field::SmsCode,
            Field::Jwt,
            Field::Scope,
        ];
        for field in fields {
            for rule in rules {
                let error = ApiError::field(field, rule);
                let (zh, en) = (error.message_in(Language::Chinese), error.message_in(Language::English));
                assert!(en.is_ascii() && !zh.is_ascii(), "{field:?} {rule:?}: {zh} / {en}");
            }
        }
    }

    #[test]
    fn internal_errors_never_show_their_detail() {
        let error = ApiError::internal("D1_ERROR: no such table: users");
        assert_eq!(error.message(), "系统繁忙，请稍后尝试");
    }

    #[test]
    fn login_failure_names_the_account_as_the_original() {
        let error = ApiError::LoginFailed { account: "Foo".into() };
        assert_eq!(error.message(), "用户 Foo 未注册或者密码错误");
    }
}
