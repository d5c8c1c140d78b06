//! The texts of the envelope's `msg`, in Chinese (the original service's wording, the
//! default) and English. Kept apart from the error type: the codes are the contract, the
//! texts are its translations.

use super::error::{ApiError, AuthError, Field, Rule, ValidationError};
use super::language::Language;

impl ApiError {
    /// The `msg` of the envelope, in Chinese as the original service wrote it.
    pub fn message(&self) -> String {
        self.message_in(Language::Chinese)
    }

    /// The `msg` of the envelope in `language`.
    pub fn message_in(&self, language: Language) -> String {
        match language {
            Language::Chinese => match self {
                ApiError::NotFound => "API地址错误或HTTP方法错误，请检查 :(".into(),
                ApiError::MethodNotAllowed { .. } => "HTTP方法错误，请检查 :(".into(),
                ApiError::RateLimited { .. } => "当前用户较多，请稍后再试".into(),
                ApiError::OriginNotAllowed => "请求来源不被允许".into(),
                ApiError::Invalid(invalid) => {
                    format!("数据验证失败，原因如下：{}", invalid.reason_in(language))
                }
                ApiError::Unauthorized(AuthError::SignInAgain) => "认证失败：需要重新登录".into(),
                ApiError::Unauthorized(failure) => format!("认证失败：{}", failure.reason()),
                ApiError::Internal(_) => "系统繁忙，请稍后尝试".into(),
                ApiError::WrongSmsCode => "验证码错误".into(),
                ApiError::LoginFailed { account } => format!("用户 {account} 未注册或者密码错误"),
                ApiError::AlreadyRegistered { account } => format!("用户 {account} 已注册"),
                ApiError::SmsStillLive => "短信还在有效期内, 请勿重复发送".into(),
                ApiError::SmsSendFailed { .. } => "短信发送失败".into(),
            },
            Language::English => match self {
                ApiError::NotFound => "Unknown path: no endpoint is at this address, please check :(".into(),
                ApiError::MethodNotAllowed { .. } => "Wrong HTTP method, please check :(".into(),
                ApiError::RateLimited { .. } => "Too many requests, please try again later".into(),
                ApiError::OriginNotAllowed => "Requests from this origin are not allowed".into(),
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
}

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
            (ValidationError::BodyIncomplete, Language::Chinese) => "请求体未按时到达".into(),
            (ValidationError::BodyIncomplete, Language::English) => {
                "the body did not arrive in time (10 s)".into()
            }
            (ValidationError::DuplicateKey(key), Language::Chinese) => format!("字段 {key} 重复"),
            (ValidationError::DuplicateKey(key), Language::English) => {
                format!("the body has the field {key} twice")
            }
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
    // ("account 账号必填"), and every text here names its JSON field so. Three of the
    // original's texts do not, and clients may match them, so they are kept exactly (the
    // first arms below); its "密码必填" for `pwd` gets the field's name in front.
    let label = match field {
        Field::Account => "account 账号",
        Field::Password => "password 密码",
        Field::PasswordConfirmation => "password_confirmation 确认密码",
        Field::LoginPassword => "pwd 密码",
        Field::Phone => "phone 手机号",
        Field::SmsCode => "code 手机验证码",
        Field::Jwt => "jwt ",
        Field::Scope => "scope 范围",
        Field::Sid => "sid ",
        Field::Purpose => "purpose ",
        Field::TurnstileToken => "turnstile_token ",
    };
    match (field, rule) {
        (Field::SmsCode, Rule::Required) => "手机验证码必填".into(),
        (Field::PasswordConfirmation, Rule::Required) => "确认密码必填".into(),
        (_, Rule::Mismatch) => "密码不一致".into(),
        (_, Rule::Required) => format!("{label}必填"),
        (Field::SmsCode, Rule::NotString) => format!("{label}只能是字符串或数字"),
        (_, Rule::NotString) => format!("{label}只能是字符串"),
        (Field::Account, Rule::Charset) => format!("{label}不能包含控制字符"),
        (_, Rule::Charset) => format!("{label}只能包含字母、数字和下划线"),
        (Field::Account, Rule::Length) => format!("{label}长度必须在1到64个字符之间"),
        (_, Rule::Length) => format!("{label}长度必须在6到64个字符之间"),
        (Field::Phone, Rule::Malformed) => "phone 非法".into(),
        (Field::Account, Rule::Malformed) => format!("{label}含有用户名不允许的字符"),
        (Field::Purpose, Rule::Malformed) => "purpose 非法".into(),
        (Field::SmsCode, Rule::Malformed) => format!("{label}必须是6位数字"),
        (Field::Scope, Rule::Malformed) => format!("{label}只能是 session、others 或 all"),
        (Field::Sid, Rule::Malformed) => format!("{label}只能与 scope session 一起使用"),
        (Field::LoginPassword, Rule::Duplicate) => format!("{label}与 code 只能给一个"),
        (_, Rule::Malformed) => format!("{label}格式错误"),
        (_, Rule::Refused) => format!("{label}人机验证失败"),
        (_, Rule::Duplicate) => format!("{label}重复"),
        (_, Rule::Unknown) => format!("{label}不存在"),
    }
}

fn field_reason_in_english(field: Field, rule: Rule) -> String {
    let name = field.json_name();
    match (field, rule) {
        (_, Rule::Required) => format!("{name} is required"),
        (Field::SmsCode, Rule::NotString) => format!("{name} must be a string or a number"),
        (_, Rule::NotString) => format!("{name} must be a string"),
        (Field::Account, Rule::Charset) => format!("{name} must not contain control characters"),
        (_, Rule::Charset) => format!("{name} may only contain letters, digits and underscores"),
        (Field::Account, Rule::Length) => format!("{name} must be 1 to 64 characters long"),
        (_, Rule::Length) => format!("{name} must be 6 to 64 characters long"),
        (Field::SmsCode, Rule::Malformed) => format!("{name} must be 6 digits"),
        (Field::Account, Rule::Malformed) => {
            format!("{name} holds a character a user name may not have (an invisible one, a space, a symbol, ...)")
        }
        (Field::Scope, Rule::Malformed) => format!("{name} must be session, others or all"),
        (Field::Sid, Rule::Malformed) => format!("{name} goes only with the scope session (or none)"),
        (Field::LoginPassword, Rule::Duplicate) => format!("give {name} or code, not both"),
        (Field::Purpose, Rule::Malformed) => {
            format!("{name} must be register, reset, login, delete or change_phone")
        }
        (_, Rule::Malformed) => format!("{name} is invalid"),
        (_, Rule::Mismatch) => "password_confirmation does not match password".into(),
        (_, Rule::Refused) => format!("{name}: the Turnstile check failed"),
        (_, Rule::Duplicate) => format!("{name} is given twice, differently (in the body and in a header)"),
        (_, Rule::Unknown) => format!("{name} names no live session of this user"),
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
            AuthError::SignInAgain => "Sign in again: this step needs a sign-in of the last 10 minutes",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::error::{Backend, Fault};

    #[test]
    fn validation_messages_follow_the_originals_wording() {
        let cases = [
            (Field::Account, Rule::Required, "account 账号必填"),
            (Field::Password, Rule::Required, "password 密码必填"),
            (Field::LoginPassword, Rule::Required, "pwd 密码必填"),
            (Field::LoginPassword, Rule::NotString, "pwd 密码只能是字符串"),
            (Field::PasswordConfirmation, Rule::NotString, "password_confirmation 确认密码只能是字符串"),
            (Field::SmsCode, Rule::Malformed, "code 手机验证码必须是6位数字"),
            (Field::SmsCode, Rule::NotString, "code 手机验证码只能是字符串或数字"),
            (Field::Password, Rule::Charset, "password 密码只能包含字母、数字和下划线"),
            (Field::PasswordConfirmation, Rule::Mismatch, "密码不一致"),
            (Field::PasswordConfirmation, Rule::Required, "确认密码必填"),
            (Field::Phone, Rule::Required, "phone 手机号必填"),
            (Field::Phone, Rule::Malformed, "phone 非法"),
            (Field::Account, Rule::Malformed, "account 账号含有用户名不允许的字符"),
            (Field::SmsCode, Rule::Required, "手机验证码必填"),
            (Field::Jwt, Rule::Required, "jwt 必填"),
            (Field::Jwt, Rule::NotString, "jwt 只能是字符串"),
            (Field::Purpose, Rule::Malformed, "purpose 非法"),
            (Field::Purpose, Rule::NotString, "purpose 只能是字符串"),
            (Field::TurnstileToken, Rule::Required, "turnstile_token 必填"),
            (Field::TurnstileToken, Rule::Refused, "turnstile_token 人机验证失败"),
            (Field::Jwt, Rule::Duplicate, "jwt 重复"),
            (Field::Sid, Rule::Unknown, "sid 不存在"),
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
            (ApiError::NotFound, "Unknown path: no endpoint is at this address, please check :("),
        ];
        for (error, message) in cases {
            assert_eq!(error.message_in(Language::English), message);
        }
    }

    #[test]
    fn every_validation_message_is_translated_and_names_its_field() {
        for field in Field::ALL {
            let mut english_seen = std::collections::HashSet::new();
            for rule in Rule::ALL {
                let error = ApiError::field(field, rule);
                let (zh, en) = (error.message_in(Language::Chinese), error.message_in(Language::English));
                assert!(zh.starts_with("数据验证失败，原因如下："), "{field:?} {rule:?}: {zh}");
                assert!(en.starts_with("Validation failed: "), "{field:?} {rule:?}: {en}");
                assert!(en.is_ascii() && !zh.is_ascii(), "{field:?} {rule:?}: {zh} / {en}");
                // A mismatch is always the confirmation's, whichever field it is raised on.
                let named = if rule == Rule::Mismatch { "password_confirmation" } else { field.json_name() };
                assert!(en.contains(named), "{field:?} {rule:?}: {en} does not name {named}");
                // Mismatch is one sentence for every field; the other rules each say
                // something of their own.
                if rule != Rule::Mismatch {
                    assert!(english_seen.insert(en.clone()), "{field:?} {rule:?}: {en} repeats");
                }
            }
        }
    }

    #[test]
    fn every_error_has_an_english_text_of_its_own() {
        let errors = [
            ApiError::NotFound,
            ApiError::MethodNotAllowed { allow: "POST, OPTIONS" },
            ApiError::RateLimited { retry_after_seconds: 1 },
            ApiError::OriginNotAllowed,
            ApiError::Invalid(ValidationError::BodyNotObject),
            ApiError::Invalid(ValidationError::DuplicateKey("pwd".into())),
            ApiError::Invalid(ValidationError::BodyTooLarge),
            ApiError::Invalid(ValidationError::BodyIncomplete),
            ApiError::Unauthorized(AuthError::Revoked),
            ApiError::from(Fault::Crypto("x".into())),
            ApiError::WrongSmsCode,
            ApiError::LoginFailed { account: "Foo".into() },
            ApiError::AlreadyRegistered { account: "Foo".into() },
            ApiError::SmsStillLive,
            ApiError::SmsSendFailed { reason: "x".into() },
        ];
        let mut seen = std::collections::HashSet::new();
        for error in errors {
            let (zh, en) = (error.message_in(Language::Chinese), error.message_in(Language::English));
            assert!(en.is_ascii() && !zh.is_ascii(), "{error:?}: {zh} / {en}");
            assert!(seen.insert(en.clone()), "{error:?}: {en} repeats");
        }
    }

    #[test]
    fn internal_errors_never_show_their_detail() {
        let error =
            ApiError::from(Fault::backend(Backend::D1, "find a user", "D1_ERROR: no such table: users"));
        assert_eq!(error.message(), "系统繁忙，请稍后尝试");
    }

    #[test]
    fn login_failure_names_the_account_as_the_original() {
        let error = ApiError::LoginFailed { account: "Foo".into() };
        assert_eq!(error.message(), "用户 Foo 未注册或者密码错误");
    }
}
