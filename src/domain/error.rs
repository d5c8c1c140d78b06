//! The one error type of the API, [`ApiError`], whose variants mirror the contract's code
//! table, and [`Fault`], what an adapter reports when something outside the API's rules
//! failed (a store, a binding, the configuration). A fault keeps its cause for the log
//! and is answered as an opaque 9999.
//!
//! The texts of the envelope's `msg` are in [`super::messages`]; the HTTP status of each
//! code is in [`super::envelope`], the one place that turns an outcome into a body.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Everything a request can fail with, as the contract's table lists it. It crosses from
/// a Durable Object to the Worker as a [`WireError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiError {
    /// 9902: no such path.
    NotFound,
    /// 9903: known path, wrong method; `allow` is what the path takes (the `Allow` header).
    MethodNotAllowed { allow: &'static str },
    /// 9907: the request comes from a page of an origin `CORS_ALLOWED_ORIGINS` does not
    /// list, and is refused before it has any effect.
    OriginNotAllowed,
    /// 9905: a rate limit was hit; retry after this many seconds.
    RateLimited { retry_after_seconds: u64 },
    /// 9906: a field failed validation (422), the body is not a JSON object (400) or is
    /// too large (413).
    Invalid(ValidationError),
    /// 9908: the token is malformed, forged, expired, of the wrong kind or revoked.
    Unauthorized(AuthError),
    /// 9999: anything unexpected. The fault is logged, never sent.
    Internal(Fault),
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationError {
    /// The body is not JSON, or is JSON but not an object (HTTP 400).
    BodyNotObject,
    /// The body is over the size limit (HTTP 413).
    BodyTooLarge,
    /// The body did not arrive within the deadline (HTTP 408).
    BodyIncomplete,
    /// The body names a field twice (HTTP 400): which one would count is anybody's
    /// guess, so neither does. The name, cut to 64 characters.
    DuplicateKey(String),
    /// A field broke a rule (HTTP 422).
    Field(Field, Rule),
}

/// The request fields that carry validation messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Account,
    Password,
    PasswordConfirmation,
    /// The password of `/login/jwt/get`, named `pwd` there.
    LoginPassword,
    Phone,
    SmsCode,
    Jwt,
    /// `scope` of `/login/jwt/deactivate`: `session`, `others` or `all`.
    Scope,
    /// `sid` of `/login/jwt/deactivate`: one session of the token's user.
    Sid,
    /// `purpose` of `/login/send/sms`: `register`, `reset`, `login`, `delete` or `change_phone`.
    Purpose,
    /// `turnstile_token` of `/login/send/sms` (or the `CF-Turnstile-Response` header).
    TurnstileToken,
}

impl Field {
    pub const ALL: [Field; 11] = [
        Field::Account,
        Field::Password,
        Field::PasswordConfirmation,
        Field::LoginPassword,
        Field::Phone,
        Field::SmsCode,
        Field::Jwt,
        Field::Scope,
        Field::Sid,
        Field::Purpose,
        Field::TurnstileToken,
    ];

    /// The field's name in the request body.
    pub fn json_name(self) -> &'static str {
        match self {
            Field::Account => "account",
            Field::Password => "password",
            Field::PasswordConfirmation => "password_confirmation",
            Field::LoginPassword => "pwd",
            Field::Phone => "phone",
            Field::SmsCode => "code",
            Field::Jwt => "jwt",
            Field::Scope => "scope",
            Field::Sid => "sid",
            Field::Purpose => "purpose",
            Field::TurnstileToken => "turnstile_token",
        }
    }
}

/// The validation rules a field can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// A proof the field carries was checked and refused (a Turnstile token: HTTP 403).
    Refused,
    /// Given twice, differently: in the body and in a header (`jwt` and `Authorization:
    /// Bearer`).
    Duplicate,
    /// Names nothing there is (a `sid` that is no live session of the token's user).
    Unknown,
}

impl Rule {
    pub const ALL: [Rule; 9] = [
        Rule::Required,
        Rule::NotString,
        Rule::Charset,
        Rule::Length,
        Rule::Malformed,
        Rule::Mismatch,
        Rule::Refused,
        Rule::Duplicate,
        Rule::Unknown,
    ];
}

/// Why a token was refused (9908). The texts follow the original service, whose clients
/// may show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// The step asks for a recent sign-in, and the session's is older
    /// ([`crate::domain::token::RECENT_SIGN_IN_SECONDS`]).
    SignInAgain,
}

/// What failed outside the API's own rules, said by the adapter that saw it. Never sent to
/// a client: [`ApiError::Internal`] answers 9999 and the log gets this.
///
/// A fault crosses from a Durable Object to the Worker as its text (it is only ever
/// logged), so it arrives as [`Fault::InObject`]: the structure would cost wasm and
/// serve nothing there.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// A var or secret is missing or malformed.
    Config(ConfigError),
    /// A backend failed while doing something (`doing` says what, `cause` is its error).
    Backend { backend: Backend, doing: String, cause: String },
    /// A cryptographic step could not be done: signing a token, or a stored hash that
    /// needs a pepper that is not configured.
    Crypto(String),
    /// Two parts of this Worker disagree (a Durable Object answered a call with the
    /// answer to another): a bug, not bad input.
    Protocol(String),
    /// A fault inside a Durable Object, as the object told it.
    InObject(String),
}

/// An [`ApiError`] as a Durable Object answers it to the Worker: its code, the wait of a
/// 9905, and the text of what is only logged (a provider's refusal, a fault). Three
/// fields rather than the enum's whole structure, whose derived deserializer would cost
/// wasm for errors no object makes: an object decides only 9905, 50001, 50017, 50018
/// and 9999; anything else it might return arrives as a 9999 naming it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    pub code: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retry_after: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl From<&ApiError> for WireError {
    fn from(error: &ApiError) -> WireError {
        let (retry_after, detail) = match error {
            ApiError::RateLimited { retry_after_seconds } => (*retry_after_seconds, String::new()),
            ApiError::WrongSmsCode | ApiError::SmsStillLive => (0, String::new()),
            ApiError::SmsSendFailed { reason } => (0, reason.clone()),
            ApiError::Internal(fault) => (0, fault.to_string()),
            other => {
                return WireError { code: 9999, retry_after: 0, detail: format!("an object decided {other}") }
            }
        };
        WireError { code: error.code(), retry_after, detail }
    }
}

impl From<WireError> for ApiError {
    fn from(wire: WireError) -> ApiError {
        match wire.code {
            9905 => ApiError::RateLimited { retry_after_seconds: wire.retry_after },
            50001 => ApiError::WrongSmsCode,
            50017 => ApiError::SmsStillLive,
            50018 => ApiError::SmsSendFailed { reason: wire.detail },
            9999 => Fault::InObject(wire.detail).into(),
            code => Fault::InObject(format!("an object answered code {code}: {}", wire.detail)).into(),
        }
    }
}

/// The backends a [`Fault`] can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    D1,
    Kv,
    /// A call to a Durable Object, from the Worker.
    DurableObject,
    /// A Durable Object's own storage.
    ObjectStorage,
    /// A Cloudflare Queue (the events').
    Queue,
    /// The Worker runtime itself (building a request or a response, a binding).
    Runtime,
}

impl Fault {
    pub fn backend(backend: Backend, doing: &str, cause: impl fmt::Display) -> Fault {
        Fault::Backend { backend, doing: doing.to_string(), cause: cause.to_string() }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Config(error) => write!(f, "configuration: {error}"),
            Fault::Backend { backend, doing, cause } => write!(f, "{backend:?} failed to {doing}: {cause}"),
            Fault::Crypto(reason) => write!(f, "crypto: {reason}"),
            Fault::Protocol(reason) => write!(f, "protocol: {reason}"),
            Fault::InObject(text) => write!(f, "in a Durable Object: {text}"),
        }
    }
}

impl std::error::Error for Fault {}

impl From<Fault> for ApiError {
    fn from(fault: Fault) -> ApiError {
        ApiError::Internal(fault)
    }
}

impl From<ConfigError> for Fault {
    fn from(error: ConfigError) -> Fault {
        Fault::Config(error)
    }
}

impl From<ConfigError> for ApiError {
    fn from(error: ConfigError) -> ApiError {
        ApiError::Internal(Fault::Config(error))
    }
}

impl ApiError {
    /// The stable number clients switch on.
    pub fn code(&self) -> u32 {
        match self {
            ApiError::NotFound => 9902,
            ApiError::MethodNotAllowed { .. } => 9903,
            ApiError::RateLimited { .. } => 9905,
            ApiError::OriginNotAllowed => 9907,
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

    /// Shorthand for a field that broke a rule.
    pub fn field(field: Field, rule: Rule) -> Self {
        ApiError::Invalid(ValidationError::Field(field, rule))
    }

    /// What goes to the log besides the code: the hidden detail of a 5xx.
    pub fn log_detail(&self) -> Option<String> {
        match self {
            ApiError::Internal(fault) => Some(fault.to_string()),
            ApiError::SmsSendFailed { reason } => Some(reason.clone()),
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Internal(fault) => write!(f, "{} (internal: {fault})", self.code()),
            other => write!(f, "{} {}", other.code(), other.message()),
        }
    }
}

impl std::error::Error for ApiError {}

/// Why the configuration cannot be used: the variable at fault and a sentence that names
/// it. Never holds a secret's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: String,
    pub reason: String,
}

impl ConfigError {
    pub fn new(variable: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError { variable: variable.to_string(), reason: reason.into() }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_says_which_backend_failed_doing_what() {
        let fault = Fault::backend(Backend::D1, "find a user", "D1_ERROR: no such table: users");
        assert_eq!(fault.to_string(), "D1 failed to find a user: D1_ERROR: no such table: users");
        let error = ApiError::from(fault.clone());
        assert_eq!(error.code(), 9999);
        assert_eq!(error.log_detail(), Some(fault.to_string()));
    }

    fn across_an_object(error: &ApiError) -> ApiError {
        let text = serde_json::to_string(&WireError::from(error)).unwrap();
        ApiError::from(serde_json::from_str::<WireError>(&text).unwrap())
    }

    #[test]
    fn a_fault_crosses_a_durable_object_as_its_text() {
        let fault = Fault::backend(Backend::ObjectStorage, "save a gate", "storage is full");
        let crossed = across_an_object(&ApiError::from(fault));
        assert_eq!(
            crossed.log_detail().as_deref(),
            Some("in a Durable Object: ObjectStorage failed to save a gate: storage is full")
        );
    }

    #[test]
    fn what_an_object_decides_crosses_unchanged() {
        for error in [
            ApiError::RateLimited { retry_after_seconds: 890 },
            ApiError::WrongSmsCode,
            ApiError::SmsStillLive,
            ApiError::SmsSendFailed { reason: "twilio: HTTP 400".into() },
        ] {
            assert_eq!(across_an_object(&error), error);
        }
        let text = serde_json::to_string(&WireError::from(&ApiError::SmsStillLive)).unwrap();
        assert_eq!(text, r#"{"code":50017}"#);
        // Anything else is a bug in the object: a 9999 that names it.
        let odd = across_an_object(&ApiError::NotFound);
        assert_eq!(odd.code(), 9999);
        assert!(odd.log_detail().unwrap().contains("9902"), "{odd:?}");
    }

    #[test]
    fn only_server_side_failures_have_a_log_detail() {
        assert_eq!(ApiError::WrongSmsCode.log_detail(), None);
        assert_eq!(ApiError::SmsSendFailed { reason: "x".into() }.log_detail(), Some("x".into()));
    }
}
