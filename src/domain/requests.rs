//! Request bodies, parsed into the typed requests the use cases accept ("parse, don't
//! validate"): once a `RegisterRequest` exists, its phone is normalized, its password
//! follows the rules and its code has six digits.
//!
//! Every endpoint takes a JSON object. Unknown fields are ignored; only the first failing
//! rule is reported, in the order the fields are documented.

use serde_json::{Map, Value};

use super::account::{Account, AccountError};
use super::error::{ApiError, Field, Rule, ValidationError};
use super::password::{Password, PasswordError};
use super::phone::Phone;
use super::sms_code::{CodePurpose, SmsCode};

/// Bodies over 16 KiB are refused (413).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// `POST /login/send/sms`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendSmsRequest {
    pub phone: Phone,
    /// `register` unless the body says otherwise.
    pub purpose: RequestedPurpose,
    /// `turnstile_token`, if sent (the router falls back to the `CF-Turnstile-Response`
    /// header); checked only when Turnstile is configured.
    pub turnstile_token: Option<String>,
}

/// What a send names as its purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestedPurpose {
    /// A purpose of its own: `register`, `reset`, `login` or `delete`.
    Of(CodePurpose),
    /// `change_phone`, for the user of this access token (`jwt`): the code is bound to
    /// that user once the token is checked.
    ChangePhone { jwt: String },
}

/// `POST /login/register`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterRequest {
    pub account: Account,
    pub password: Password,
    pub phone: Phone,
    pub code: SmsCode,
}

/// `POST /login/password/reset`: a reset code proves the phone, and sets a new password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetPasswordRequest {
    pub phone: Phone,
    pub code: SmsCode,
    pub password: Password,
}

/// `POST /login/password/change`: an access token and the current password (`pwd`, as
/// login names it) set a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePasswordRequest {
    pub jwt: String,
    pub pwd: String,
    pub password: Password,
}

/// `POST /login/jwt/get`. The account is not held to the registration rules here: a name
/// that could never have been registered simply fails to log in, like any unknown one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    pub account: String,
    pub pwd: String,
}

/// `POST /login/jwt/refresh`, `/deactivate` and `/status`: one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub jwt: String,
}

/// `POST /login/jwt/refresh`: the refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRequest {
    pub jwt: String,
}

/// What `/login/jwt/deactivate` ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutScope {
    /// The token's session (the default, as the original).
    Session,
    /// Every session of the token's user: "log out everywhere".
    All,
    /// Every session of the token's user but the token's own: "everywhere else".
    Others,
    /// One session of the token's user, by its id (`sid`, as the list shows it).
    Sid(String),
}

/// `POST /login/jwt/deactivate`: a token and an optional `scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeactivateRequest {
    pub jwt: String,
    pub scope: LogoutScope,
}

impl DeactivateRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        DeactivateRequest::parse_with(body, None)
    }

    fn parse_with(body: &[u8], bearer: Option<&str>) -> Result<Self, ApiError> {
        let object = parse_object(body)?;
        let jwt = jwt(&object, "jwt", bearer)?;
        let scope = match object.get("scope") {
            None | Some(Value::Null) => LogoutScope::Session,
            Some(Value::String(text)) => match text.trim() {
                "session" => LogoutScope::Session,
                "all" => LogoutScope::All,
                "others" => LogoutScope::Others,
                _ => return Err(ApiError::field(Field::Scope, Rule::Malformed)),
            },
            Some(_) => return Err(ApiError::field(Field::Scope, Rule::NotString)),
        };
        // A `sid` names one session, which only the scope of one session can mean.
        let sid = match object.get("sid") {
            None | Some(Value::Null) => return Ok(DeactivateRequest { jwt, scope }),
            Some(_) => required_string(&object, "sid", Field::Sid)?.trim().to_string(),
        };
        match scope {
            LogoutScope::Session => Ok(DeactivateRequest { jwt, scope: LogoutScope::Sid(sid) }),
            _ => Err(ApiError::field(Field::Sid, Rule::Malformed)),
        }
    }
}

/// The body as a JSON object, or the 400/413 the contract gives for anything else: a
/// body that is not an object, or that names a field twice (`{"pwd":"x","pwd":"y"}`,
/// where which one counts would be up to the parser).
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::Invalid(ValidationError::BodyTooLarge));
    }
    match serde_json::from_slice::<BodyObject>(body) {
        Ok(BodyObject::Fields(object)) => Ok(object),
        Ok(BodyObject::Duplicate(key)) => Err(ApiError::Invalid(ValidationError::DuplicateKey(key))),
        Err(_) => Err(ApiError::Invalid(ValidationError::BodyNotObject)),
    }
}

/// A JSON object read with its duplicate keys noticed (serde_json's `Map` keeps the last
/// value of a key silently).
enum BodyObject {
    Fields(Map<String, Value>),
    /// The first key met twice (cut to 64 characters, for the message).
    Duplicate(String),
}

impl<'de> serde::Deserialize<'de> for BodyObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;

        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = BodyObject;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut entries: A) -> Result<BodyObject, A::Error> {
                let mut object = Map::new();
                let mut duplicate = None;
                while let Some((key, value)) = entries.next_entry::<String, Value>()? {
                    if duplicate.is_none() && object.contains_key(&key) {
                        duplicate = Some(key.chars().filter(|c| !c.is_control()).take(64).collect());
                    }
                    object.insert(key, value);
                }
                Ok(duplicate.map_or(BodyObject::Fields(object), BodyObject::Duplicate))
            }
        }

        deserializer.deserialize_map(Fields)
    }
}

/// A string field that must be present and hold more than white space.
fn required_string<'a>(body: &'a Map<String, Value>, key: &str, field: Field) -> Result<&'a str, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Err(ApiError::field(field, Rule::Required)),
        Some(Value::String(text)) if text.trim().is_empty() => Err(ApiError::field(field, Rule::Required)),
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(ApiError::field(field, Rule::NotString)),
    }
}

fn phone(body: &Map<String, Value>) -> Result<Phone, ApiError> {
    let text = required_string(body, "phone", Field::Phone)?;
    Phone::parse(text).ok_or(ApiError::field(Field::Phone, Rule::Malformed))
}

/// The SMS code: a JSON string, or a number, of six digits.
fn sms_code(body: &Map<String, Value>) -> Result<SmsCode, ApiError> {
    let text = match body.get("code") {
        // `123456.0` is the integer 123456 to JSON Schema (and to JavaScript), so it is
        // one here too.
        Some(Value::Number(number)) => {
            let whole = number.as_u64().or_else(|| {
                number
                    .as_f64()
                    .filter(|value| value.fract() == 0.0 && *value >= 0.0)
                    .map(|value| value as u64)
            });
            match whole {
                Some(value) if (100_000..=999_999).contains(&value) => value.to_string(),
                _ => return Err(ApiError::field(Field::SmsCode, Rule::Malformed)),
            }
        }
        _ => required_string(body, "code", Field::SmsCode)?.to_string(),
    };
    SmsCode::parse(&text).ok_or(ApiError::field(Field::SmsCode, Rule::Malformed))
}

/// A new password and its confirmation (`password`, `password_confirmation`), under
/// register's rules.
fn new_password(body: &Map<String, Value>) -> Result<Password, ApiError> {
    let text = required_string(body, "password", Field::Password)?;
    let password = Password::parse(text).map_err(|error| {
        let rule = match error {
            PasswordError::Charset => Rule::Charset,
            PasswordError::Length => Rule::Length,
        };
        ApiError::field(Field::Password, rule)
    })?;
    let confirmation = required_string(body, "password_confirmation", Field::PasswordConfirmation)?;
    if confirmation != text {
        return Err(ApiError::field(Field::PasswordConfirmation, Rule::Mismatch));
    }
    Ok(password)
}

/// The token in the body's `key`, or else in `Authorization: Bearer` (`bearer`), trimmed.
/// Both given and different is 9906 `jwt 重复`: a client that sends two tokens cannot mean
/// both, and which one would count must not be up to us.
fn jwt(body: &Map<String, Value>, key: &str, bearer: Option<&str>) -> Result<String, ApiError> {
    match (required_string(body, key, Field::Jwt), bearer) {
        (Ok(text), Some(header)) if text.trim() != header => {
            Err(ApiError::field(Field::Jwt, Rule::Duplicate))
        }
        (Ok(text), _) => Ok(text.trim().to_string()),
        (Err(error), Some(header)) if error == ApiError::field(Field::Jwt, Rule::Required) => {
            Ok(header.to_string())
        }
        (Err(error), _) => Err(error),
    }
}

impl SendSmsRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        SendSmsRequest::parse_with(body, None)
    }

    fn parse_with(body: &[u8], bearer: Option<&str>) -> Result<Self, ApiError> {
        let body = parse_object(body)?;
        let phone = phone(&body)?;
        let purpose = match body.get("purpose") {
            None | Some(Value::Null) => RequestedPurpose::Of(CodePurpose::Register),
            Some(Value::String(name)) if name.trim() == "change_phone" => {
                RequestedPurpose::ChangePhone { jwt: jwt(&body, "jwt", bearer)? }
            }
            Some(Value::String(name)) => RequestedPurpose::Of(
                CodePurpose::from_name(name.trim())
                    .ok_or(ApiError::field(Field::Purpose, Rule::Malformed))?,
            ),
            Some(_) => return Err(ApiError::field(Field::Purpose, Rule::NotString)),
        };
        // Another purpose needs no token and ignores one, but not one of the wrong type:
        // the document calls that invalid.
        if let (RequestedPurpose::Of(_), Some(token)) = (&purpose, body.get("jwt")) {
            if !matches!(token, Value::Null | Value::String(_)) {
                return Err(ApiError::field(Field::Jwt, Rule::NotString));
            }
        }
        let turnstile_token = match body.get("turnstile_token") {
            None | Some(Value::Null) => None,
            Some(Value::String(token)) => Some(token.trim().to_string()).filter(|token| !token.is_empty()),
            Some(_) => return Err(ApiError::field(Field::TurnstileToken, Rule::NotString)),
        };
        Ok(SendSmsRequest { phone, purpose, turnstile_token })
    }
}

/// `POST /login/jwt/sms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsLoginRequest {
    pub phone: Phone,
    pub code: SmsCode,
}

impl SmsLoginRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let body = parse_object(body)?;
        let phone = phone(&body)?;
        let code = sms_code(&body)?;
        Ok(SmsLoginRequest { phone, code })
    }
}

impl ResetPasswordRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let body = parse_object(body)?;
        let phone = phone(&body)?;
        let code = sms_code(&body)?;
        let password = new_password(&body)?;
        Ok(ResetPasswordRequest { phone, code, password })
    }
}

impl ChangePasswordRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        ChangePasswordRequest::parse_with(body, None)
    }

    fn parse_with(body: &[u8], bearer: Option<&str>) -> Result<Self, ApiError> {
        let body = parse_object(body)?;
        let jwt = jwt(&body, "jwt", bearer)?;
        let pwd = required_string(&body, "pwd", Field::LoginPassword)?.to_string();
        let password = new_password(&body)?;
        Ok(ChangePasswordRequest { jwt, pwd, password })
    }
}

impl RegisterRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let body = parse_object(body)?;
        let account =
            Account::parse(required_string(&body, "account", Field::Account)?).map_err(|error| {
                let rule = match error {
                    AccountError::Empty => Rule::Required,
                    AccountError::TooLong => Rule::Length,
                    AccountError::ControlCharacter => Rule::Charset,
                };
                ApiError::field(Field::Account, rule)
            })?;
        let password = new_password(&body)?;
        let phone = phone(&body)?;
        let code = sms_code(&body)?;
        Ok(RegisterRequest { account, password, phone, code })
    }
}

impl LoginRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let body = parse_object(body)?;
        let account = required_string(&body, "account", Field::Account)?.trim().to_string();
        if account.is_empty() {
            return Err(ApiError::field(Field::Account, Rule::Required));
        }
        let pwd = required_string(&body, "pwd", Field::LoginPassword)?.to_string();
        Ok(LoginRequest { account, pwd })
    }
}

impl TokenRequest {
    /// The token in `jwt`.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        TokenRequest::parse_with(body, None)
    }

    fn parse_with(body: &[u8], bearer: Option<&str>) -> Result<Self, ApiError> {
        let body = parse_object(body)?;
        Ok(TokenRequest { jwt: jwt(&body, "jwt", bearer)? })
    }
}

impl RefreshRequest {
    /// The refresh token in `jwt` (the document) or else `refresh_jwt` (what the
    /// original code read).
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        RefreshRequest::parse_with(body, None)
    }

    fn parse_with(body: &[u8], bearer: Option<&str>) -> Result<Self, ApiError> {
        let body = parse_object(body)?;
        let absent = |value: Option<&Value>| match value {
            None | Some(Value::Null) => true,
            Some(Value::String(text)) => text.trim().is_empty(),
            Some(_) => false,
        };
        let key =
            if absent(body.get("jwt")) && !absent(body.get("refresh_jwt")) { "refresh_jwt" } else { "jwt" };
        Ok(RefreshRequest { jwt: jwt(&body, key, bearer)? })
    }
}

/// `POST /login/phone/change`: an access token, the new phone, the code sent to it for
/// `change_phone`, and the current password (`pwd`, which an account without one does
/// without).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePhoneRequest {
    pub jwt: String,
    pub phone: Phone,
    pub code: SmsCode,
    pub pwd: Option<String>,
}

impl ChangePhoneRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        ChangePhoneRequest::parse_with(body, None)
    }

    fn parse_with(body: &[u8], bearer: Option<&str>) -> Result<Self, ApiError> {
        let body = parse_object(body)?;
        let jwt = jwt(&body, "jwt", bearer)?;
        let phone = phone(&body)?;
        let code = sms_code(&body)?;
        let pwd = match required_string(&body, "pwd", Field::LoginPassword) {
            Ok(pwd) => Some(pwd.to_string()),
            Err(missing) if missing == ApiError::field(Field::LoginPassword, Rule::Required) => None,
            Err(error) => return Err(error),
        };
        Ok(ChangePhoneRequest { jwt, phone, code, pwd })
    }
}

/// What confirms a deletion: a code sent with `purpose: "delete"` to the account's own
/// phone, or its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeletionProof {
    Code(SmsCode),
    Password(String),
}

/// `POST /login/account/delete`: an access token, and `code` or `pwd` (one of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteAccountRequest {
    pub jwt: String,
    pub proof: DeletionProof,
}

impl DeleteAccountRequest {
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        DeleteAccountRequest::parse_with(body, None)
    }

    fn parse_with(body: &[u8], bearer: Option<&str>) -> Result<Self, ApiError> {
        let body = parse_object(body)?;
        let jwt = jwt(&body, "jwt", bearer)?;
        let given = |key: &str| !matches!(body.get(key), None | Some(Value::Null));
        let proof = match (given("code"), given("pwd")) {
            (true, true) => return Err(ApiError::field(Field::LoginPassword, Rule::Duplicate)),
            (true, false) => DeletionProof::Code(sms_code(&body)?),
            (false, _) => {
                DeletionProof::Password(required_string(&body, "pwd", Field::LoginPassword)?.to_string())
            }
        };
        Ok(DeleteAccountRequest { jwt, proof })
    }
}

/// The headers of a request, as far as parsing one looks at them.
pub trait Headers {
    /// The header's value, if the request has it.
    fn get(&self, name: &str) -> Option<String>;
}

/// The token of `Authorization: Bearer <token>` (RFC 6750; the scheme's name in any case),
/// trimmed; `None` without one, or for another scheme, which may be meant for a proxy.
fn bearer_token(headers: &dyn Headers) -> Option<String> {
    let value = headers.get("Authorization")?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// What a `/login` endpoint takes: its body, and a header where the contract accepts one
/// in place of a field. The router parses every endpoint's request through this one
/// function, so an endpoint's request type is all it adds there.
pub trait FromRequest: Sized {
    fn from_request(body: &[u8], headers: &dyn Headers) -> Result<Self, ApiError>;
}

/// The requests read from the body alone.
macro_rules! from_body {
    ($($request:ty),* $(,)?) => {
        $(impl FromRequest for $request {
            fn from_request(body: &[u8], _headers: &dyn Headers) -> Result<Self, ApiError> {
                <$request>::parse(body)
            }
        })*
    };
}

from_body!(RegisterRequest, LoginRequest, SmsLoginRequest, ResetPasswordRequest);

/// The requests whose `jwt` may come as `Authorization: Bearer <token>` instead.
macro_rules! with_bearer {
    ($($request:ty),* $(,)?) => {
        $(impl FromRequest for $request {
            fn from_request(body: &[u8], headers: &dyn Headers) -> Result<Self, ApiError> {
                <$request>::parse_with(body, bearer_token(headers).as_deref())
            }
        })*
    };
}

with_bearer!(
    RefreshRequest,
    TokenRequest,
    DeactivateRequest,
    ChangePasswordRequest,
    DeleteAccountRequest,
    ChangePhoneRequest,
);

impl FromRequest for SendSmsRequest {
    /// A Turnstile token may come as the header the widget's documentation names instead,
    /// and a phone change's access token as `Authorization: Bearer`.
    fn from_request(body: &[u8], headers: &dyn Headers) -> Result<Self, ApiError> {
        let mut request = SendSmsRequest::parse_with(body, bearer_token(headers).as_deref())?;
        if request.turnstile_token.is_none() {
            request.turnstile_token =
                headers.get("CF-Turnstile-Response").filter(|token| !token.trim().is_empty());
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deactivate_reads_an_optional_scope() {
        let parse = |body: Value| DeactivateRequest::parse(body.to_string().as_bytes());
        assert_eq!(parse(json!({"jwt": "t"})).unwrap().scope, LogoutScope::Session);
        assert_eq!(parse(json!({"jwt": "t", "scope": "all"})).unwrap().scope, LogoutScope::All);
        assert_eq!(parse(json!({"jwt": "t", "scope": null})).unwrap().scope, LogoutScope::Session);
        assert_eq!(parse(json!({"jwt": "t", "scope": "others"})).unwrap().scope, LogoutScope::Others);
        let one = LogoutScope::Sid("abc".into());
        assert_eq!(parse(json!({"jwt": "t", "sid": " abc "})).unwrap().scope, one);
        assert_eq!(parse(json!({"jwt": "t", "scope": "session", "sid": "abc"})).unwrap().scope, one);
        assert_eq!(parse(json!({"jwt": "t", "sid": null})).unwrap().scope, LogoutScope::Session);
        for scope in ["all", "others"] {
            let both = parse(json!({"jwt": "t", "scope": scope, "sid": "abc"}));
            assert_eq!(both, Err(ApiError::field(Field::Sid, Rule::Malformed)), "{scope}");
        }
        assert_eq!(parse(json!({"jwt": "t", "sid": ""})), Err(ApiError::field(Field::Sid, Rule::Required)));
        assert_eq!(parse(json!({"jwt": "t", "sid": 7})), Err(ApiError::field(Field::Sid, Rule::NotString)));
        assert_eq!(
            parse(json!({"jwt": "t", "scope": "everything"})),
            Err(ApiError::field(Field::Scope, Rule::Malformed))
        );
        assert_eq!(
            parse(json!({"jwt": "t", "scope": 1})),
            Err(ApiError::field(Field::Scope, Rule::NotString))
        );
        assert_eq!(parse(json!({"scope": "all"})), Err(ApiError::field(Field::Jwt, Rule::Required)));
    }

    /// Headers with only `Authorization`, if given.
    struct Authorization(Option<&'static str>);

    impl Headers for Authorization {
        fn get(&self, name: &str) -> Option<String> {
            name.eq_ignore_ascii_case("authorization").then(|| self.0.map(str::to_string)).flatten()
        }
    }

    #[test]
    fn a_token_may_come_as_a_bearer_header_but_not_as_a_second_token() {
        let token = |body: Value, header: Option<&'static str>| {
            TokenRequest::from_request(body.to_string().as_bytes(), &Authorization(header)).map(|r| r.jwt)
        };
        let duplicate = Err(ApiError::field(Field::Jwt, Rule::Duplicate));
        assert_eq!(token(json!({}), Some("Bearer t.o.k")), Ok("t.o.k".to_string()));
        assert_eq!(token(json!({"jwt": " "}), Some("bearer  t.o.k ")), Ok("t.o.k".to_string()));
        assert_eq!(token(json!({"jwt": "t.o.k"}), None), Ok("t.o.k".to_string()));
        assert_eq!(token(json!({"jwt": " t.o.k"}), Some("BEARER t.o.k")), Ok("t.o.k".to_string()));
        assert_eq!(token(json!({"jwt": "t.o.k"}), Some("Bearer other")), duplicate);
        assert_eq!(
            token(json!({"jwt": 1}), Some("Bearer t.o.k")),
            Err(ApiError::field(Field::Jwt, Rule::NotString))
        );
        for header in [Some("Basic dXNlcjpwYXNz"), Some("Bearer"), Some("Bearer  "), None] {
            assert_eq!(
                token(json!({}), header),
                Err(ApiError::field(Field::Jwt, Rule::Required)),
                "{header:?}"
            );
        }

        let headers = Authorization(Some("Bearer t.o.k"));
        let refresh =
            |body: Value| RefreshRequest::from_request(body.to_string().as_bytes(), &headers).map(|r| r.jwt);
        assert_eq!(refresh(json!({})), Ok("t.o.k".to_string()));
        assert_eq!(refresh(json!({"refresh_jwt": "t.o.k"})), Ok("t.o.k".to_string()));
        assert_eq!(refresh(json!({"refresh_jwt": "other"})), duplicate);
        let deactivate = DeactivateRequest::from_request(br#"{"scope": "all"}"#, &headers).unwrap();
        assert_eq!((deactivate.jwt.as_str(), deactivate.scope), ("t.o.k", LogoutScope::All));
        let change = br#"{"pwd": "old", "password": "new_pass", "password_confirmation": "new_pass"}"#;
        assert_eq!(ChangePasswordRequest::from_request(change, &headers).unwrap().jwt, "t.o.k");
        let other =
            br#"{"jwt": "other", "pwd": "old", "password": "new_pass", "password_confirmation": "new_pass"}"#;
        assert_eq!(ChangePasswordRequest::from_request(other, &headers).map(|r| r.jwt), duplicate);
    }

    fn reason(error: ApiError) -> String {
        match error {
            ApiError::Invalid(invalid) => invalid.reason(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    /// `body` with `key` set to `value`, or without it for `null`.
    fn with_field(body: &Value, key: &str, value: &Value) -> Value {
        let mut body = body.clone();
        match value {
            Value::Null => body.as_object_mut().unwrap().remove(key),
            value => body.as_object_mut().unwrap().insert(key.to_string(), value.clone()),
        };
        body
    }

    fn register(body: Value) -> Result<RegisterRequest, ApiError> {
        RegisterRequest::parse(body.to_string().as_bytes())
    }

    fn valid_registration() -> Value {
        json!({
            "account": "Foo", "password": "1234567", "password_confirmation": "1234567",
            "phone": "13939265073", "code": "123321"
        })
    }

    #[test]
    fn the_documents_registration_parses() {
        let request = register(valid_registration()).unwrap();
        assert_eq!(request.account.as_str(), "Foo");
        assert_eq!(request.phone.e164(), "+8613939265073");
        assert_eq!(request.code.as_str(), "123321");
    }

    #[test]
    fn a_numeric_code_is_accepted() {
        let mut body = valid_registration();
        body["code"] = json!(123321);
        assert_eq!(register(body.clone()).unwrap().code.as_str(), "123321");
        // A whole number written with a fraction is the same integer to JSON Schema.
        body["code"] = json!(123321.0);
        assert_eq!(register(body).unwrap().code.as_str(), "123321");
    }

    #[test]
    fn the_first_failing_rule_is_reported_in_document_order() {
        let cases = [
            ("account", Value::Null, "account 账号必填"),
            ("account", json!(""), "account 账号必填"),
            ("account", json!("   "), "account 账号必填"),
            ("account", json!(12), "account 账号只能是字符串"),
            ("password", json!(null), "password 密码必填"),
            ("password", json!("12 345"), "password 密码只能包含字母、数字和下划线"),
            ("password", json!("12345"), "password 密码长度必须在6到64个字符之间"),
            ("password", json!(["1234567"]), "password 密码只能是字符串"),
            ("password_confirmation", json!(null), "确认密码必填"),
            ("password_confirmation", json!("7654321"), "密码不一致"),
            ("phone", json!(null), "phone 手机号必填"),
            ("phone", json!("12345"), "phone 非法"),
            ("phone", json!(13939265073u64), "phone 手机号只能是字符串"),
            ("code", json!(null), "手机验证码必填"),
            ("code", json!(""), "手机验证码必填"),
            ("password", json!("      "), "password 密码必填"),
            ("code", json!("12345"), "code 手机验证码必须是6位数字"),
            ("code", json!(12345), "code 手机验证码必须是6位数字"),
            ("code", json!(123456.5), "code 手机验证码必须是6位数字"),
            ("code", json!(1e6), "code 手机验证码必须是6位数字"),
            ("code", json!(-123456.0), "code 手机验证码必须是6位数字"),
            ("code", json!(true), "code 手机验证码只能是字符串或数字"),
        ];
        for (key, value, expected) in cases {
            let error = register(with_field(&valid_registration(), key, &value)).unwrap_err();
            assert_eq!(crate::domain::envelope::http_status(&error), 422, "{key}={value}");
            assert_eq!(reason(error), expected, "{key}={value}");
        }
    }

    #[test]
    fn bodies_that_are_not_objects_are_400() {
        for body in ["", "not json", "[]", "null", "\"text\"", "42", "{", "{\"phone\":\"1\"} x"] {
            let error = SendSmsRequest::parse(body.as_bytes()).unwrap_err();
            assert_eq!(error, ApiError::Invalid(ValidationError::BodyNotObject), "{body:?}");
            assert_eq!(crate::domain::envelope::http_status(&error), 400);
        }
    }

    #[test]
    fn a_field_named_twice_is_400() {
        let error = LoginRequest::parse(br#"{"account":"Foo","pwd":"x","pwd":"y"}"#).unwrap_err();
        assert_eq!(error, ApiError::Invalid(ValidationError::DuplicateKey("pwd".into())));
        assert_eq!(crate::domain::envelope::http_status(&error), 400);
        assert_eq!(reason(error), "字段 pwd 重复");
        // Nested objects are only ignored fields: a repeat there changes nothing.
        assert!(LoginRequest::parse(br#"{"account":"Foo","pwd":"x","extra":{"a":1,"a":2}}"#).is_ok());
    }

    #[test]
    fn bodies_over_16_kib_are_413() {
        let body = format!("{{\"phone\":\"{}\"}}", "1".repeat(MAX_BODY_BYTES));
        let error = SendSmsRequest::parse(body.as_bytes()).unwrap_err();
        assert_eq!(crate::domain::envelope::http_status(&error), 413);
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let request = SendSmsRequest::parse(br#"{"phone":"13911119999","extra":{"a":[1]}}"#).unwrap();
        assert_eq!(request.phone.e164(), "+8613911119999");
    }

    #[test]
    fn login_needs_account_and_pwd() {
        assert_eq!(reason(LoginRequest::parse(br#"{"pwd":"x"}"#).unwrap_err()), "account 账号必填");
        assert_eq!(reason(LoginRequest::parse(br#"{"account":"Foo"}"#).unwrap_err()), "pwd 密码必填");
        assert_eq!(
            reason(LoginRequest::parse(br#"{"account":"Foo","pwd":1}"#).unwrap_err()),
            "pwd 密码只能是字符串"
        );
    }

    #[test]
    fn send_sms_takes_an_optional_purpose() {
        let parse = |body: Value| SendSmsRequest::parse(body.to_string().as_bytes());
        let phone = "13911119999";
        let purpose = |body: Value| parse(body).unwrap().purpose;
        assert_eq!(purpose(json!({ "phone": phone })), RequestedPurpose::Of(CodePurpose::Register));
        assert_eq!(
            purpose(json!({ "phone": phone, "purpose": null })),
            RequestedPurpose::Of(CodePurpose::Register)
        );
        for (name, expected) in [
            ("register", CodePurpose::Register),
            (" reset ", CodePurpose::Reset),
            ("login", CodePurpose::Login),
            ("delete", CodePurpose::Delete),
        ] {
            assert_eq!(purpose(json!({ "phone": phone, "purpose": name })), RequestedPurpose::Of(expected));
        }
        assert_eq!(
            reason(parse(json!({ "phone": phone, "purpose": "signin" })).unwrap_err()),
            "purpose 非法"
        );
        assert_eq!(
            reason(parse(json!({ "phone": phone, "purpose": 1 })).unwrap_err()),
            "purpose 只能是字符串"
        );
        assert_eq!(reason(parse(json!({ "purpose": "reset" })).unwrap_err()), "phone 手机号必填");
    }

    #[test]
    fn a_phone_change_code_needs_the_access_token_and_other_purposes_ignore_one_of_the_right_type() {
        let parse = |body: Value, bearer: Option<&str>| {
            SendSmsRequest::parse_with(body.to_string().as_bytes(), bearer)
        };
        let phone = "13911119999";
        let missing = parse(json!({ "phone": phone, "purpose": "change_phone" }), None);
        assert_eq!(reason(missing.unwrap_err()), "jwt 必填");
        let given = parse(json!({ "phone": phone, "purpose": "change_phone", "jwt": " t.o.k " }), None);
        assert_eq!(given.unwrap().purpose, RequestedPurpose::ChangePhone { jwt: "t.o.k".into() });
        let header = parse(json!({ "phone": phone, "purpose": "change_phone" }), Some("t.o.k"));
        assert_eq!(header.unwrap().purpose, RequestedPurpose::ChangePhone { jwt: "t.o.k".into() });
        let reset = parse(json!({ "phone": phone, "purpose": "reset", "jwt": "x" }), Some("t.o.k"));
        assert_eq!(reset.unwrap().purpose, RequestedPurpose::Of(CodePurpose::Reset));
        for token in [json!(1), json!([]), json!({})] {
            let body = json!({ "phone": phone, "purpose": "register", "jwt": token });
            assert_eq!(reason(parse(body, None).unwrap_err()), "jwt 只能是字符串", "{token}");
        }
    }

    #[test]
    fn a_phone_change_takes_a_token_a_phone_a_code_and_perhaps_the_password() {
        let parse = |body: Value| ChangePhoneRequest::parse(body.to_string().as_bytes());
        let full = json!({ "jwt": "t", "phone": "13911119999", "code": 123456, "pwd": "secret" });
        let request = parse(full).unwrap();
        assert_eq!(request.phone.e164(), "+8613911119999");
        assert_eq!((request.code.as_str(), request.pwd.as_deref()), ("123456", Some("secret")));
        for pwd in [Value::Null, json!(" ")] {
            let body = json!({ "jwt": "t", "phone": "13911119999", "code": "123456", "pwd": pwd });
            assert_eq!(parse(body).unwrap().pwd, None);
        }
        let cases = [
            (json!({ "phone": "13911119999", "code": "123456" }), "jwt 必填"),
            (json!({ "jwt": "t", "code": "123456" }), "phone 手机号必填"),
            (json!({ "jwt": "t", "phone": "12345", "code": "123456" }), "phone 非法"),
            (json!({ "jwt": "t", "phone": "13911119999" }), "手机验证码必填"),
            (
                json!({ "jwt": "t", "phone": "13911119999", "code": "123456", "pwd": 1 }),
                "pwd 密码只能是字符串",
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(reason(parse(body.clone()).unwrap_err()), expected, "{body}");
        }
    }

    #[test]
    fn a_reset_takes_phone_code_and_a_confirmed_password_in_that_order() {
        let valid = json!({"phone": "13911119999", "code": "012345", "password": "new_pass1",
                           "password_confirmation": "new_pass1"});
        let request = ResetPasswordRequest::parse(valid.to_string().as_bytes()).unwrap();
        assert_eq!((request.phone.e164(), request.code.as_str()), ("+8613911119999", "012345"));
        assert_eq!(request.password.as_str(), "new_pass1");
        let cases = [
            ("phone", Value::Null, "phone 手机号必填"),
            ("code", json!("12"), "code 手机验证码必须是6位数字"),
            ("password", json!("short"), "password 密码长度必须在6到64个字符之间"),
            ("password", json!("has space"), "password 密码只能包含字母、数字和下划线"),
            ("password_confirmation", Value::Null, "确认密码必填"),
            ("password_confirmation", json!("other_pass"), "密码不一致"),
        ];
        for (key, value, expected) in cases {
            let error = ResetPasswordRequest::parse(with_field(&valid, key, &value).to_string().as_bytes())
                .unwrap_err();
            assert_eq!(reason(error), expected, "{key}={value}");
        }
    }

    #[test]
    fn a_change_takes_a_token_the_current_password_and_a_confirmed_new_one() {
        let valid = json!({"jwt": " a.b.c ", "pwd": "old pass", "password": "new_pass1",
                           "password_confirmation": "new_pass1"});
        let request = ChangePasswordRequest::parse(valid.to_string().as_bytes()).unwrap();
        assert_eq!((request.jwt.as_str(), request.pwd.as_str()), ("a.b.c", "old pass"));
        let cases = [
            ("jwt", Value::Null, "jwt 必填"),
            ("pwd", Value::Null, "pwd 密码必填"),
            ("pwd", json!(123456), "pwd 密码只能是字符串"),
            ("password", Value::Null, "password 密码必填"),
            ("password_confirmation", json!("new_pass2"), "密码不一致"),
        ];
        for (key, value, expected) in cases {
            let error = ChangePasswordRequest::parse(with_field(&valid, key, &value).to_string().as_bytes())
                .unwrap_err();
            assert_eq!(reason(error), expected, "{key}={value}");
        }
    }

    #[test]
    fn refresh_reads_jwt_or_refresh_jwt() {
        assert_eq!(RefreshRequest::parse(br#"{"jwt":"a.b.c"}"#).unwrap().jwt, "a.b.c");
        assert_eq!(RefreshRequest::parse(br#"{"refresh_jwt":"a.b.c"}"#).unwrap().jwt, "a.b.c");
        assert_eq!(RefreshRequest::parse(br#"{"jwt":"","refresh_jwt":"a.b.c"}"#).unwrap().jwt, "a.b.c");
        assert_eq!(reason(RefreshRequest::parse(b"{}").unwrap_err()), "jwt 必填");
        assert_eq!(reason(RefreshRequest::parse(br#"{"jwt":5}"#).unwrap_err()), "jwt 只能是字符串");
    }
}
