//! The `request_bodies` target's check: arbitrary bytes as the body of every endpoint. No
//! parser may panic; every refusal is a 9906 with HTTP 400 (not a JSON object), 413 (over
//! 16 KiB) or 422 (a field's rule), and what a parser accepts keeps the promises of its
//! type.

use login_worker::domain::error::{ApiError, ValidationError};
use login_worker::domain::phone::Phone;
use login_worker::domain::requests::{
    parse_object, ChangePasswordRequest, DeactivateRequest, LoginRequest, LogoutScope, RefreshRequest,
    RegisterRequest, ResetPasswordRequest, SendSmsRequest, TokenRequest, MAX_BODY_BYTES,
};

/// A refusal must be a validation error; `object_ok` says whether the body was an object
/// of allowed size, in which case only a field's rule (422) may fail.
fn check_error(parser: &str, error: &ApiError, object_ok: bool, body: &[u8]) {
    assert_eq!(error.code(), 9906, "{parser}: {error:?} for {body:?}");
    let status = login_worker::domain::envelope::http_status(error);
    assert!(matches!(status, 400 | 413 | 422), "{parser}: HTTP {status} for {body:?}");
    if object_ok {
        assert_eq!(status, 422, "{parser}: {error:?} for an object body {body:?}");
    }
    // The message must build in both languages without panicking.
    let _ = error.message();
    let _ = error.to_string();
}

fn check<T>(parser: &str, result: &Result<T, ApiError>, object: &Result<(), ApiError>, body: &[u8]) {
    match (result, object) {
        (Err(error), Err(object_error)) => {
            assert_eq!(error, object_error, "{parser}: not parse_object's refusal for {body:?}")
        }
        (Ok(_), Err(object_error)) => {
            panic!("{parser}: accepted a body parse_object refused ({object_error:?})")
        }
        (Err(error), Ok(())) => check_error(parser, error, true, body),
        (Ok(_), Ok(())) => {}
    }
}

fn valid_phone(phone: &Phone) {
    let e164 = phone.e164();
    let digits = e164.strip_prefix('+').expect("E.164 starts with +");
    assert!((8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()), "{e164}");
    assert_eq!(Phone::parse(e164).as_ref(), Some(phone), "normalizing is idempotent: {e164}");
}

fn valid_password(password: &str) {
    assert!((6..=64).contains(&password.len()), "{password:?}");
    assert!(password.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "{password:?}");
}

fn valid_code(code: &str) {
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{code:?}");
}

fn trimmed_nonempty(what: &str, text: &str) {
    assert!(!text.is_empty() && text.trim() == text, "{what} is not trimmed or is empty: {text:?}");
}

/// One input: every parser on the same bytes.
pub fn check_body(body: &[u8]) {
    let object = parse_object(body).map(|_| ());
    if let Err(error) = &object {
        check_error("parse_object", error, false, body);
    }
    if body.len() > MAX_BODY_BYTES {
        assert_eq!(object, Err(ApiError::Invalid(ValidationError::BodyTooLarge)));
    }

    let send = SendSmsRequest::parse(body);
    check("SendSmsRequest::parse", &send, &object, body);
    if let Ok(request) = &send {
        valid_phone(&request.phone);
    }

    let register = RegisterRequest::parse(body);
    check("RegisterRequest::parse", &register, &object, body);
    if let Ok(request) = &register {
        let account = request.account.as_str();
        trimmed_nonempty("RegisterRequest.account", account);
        assert!(account.chars().count() <= 64 && !account.chars().any(char::is_control), "{account:?}");
        valid_password(request.password.as_str());
        valid_phone(&request.phone);
        valid_code(request.code.as_str());
    }

    let reset = ResetPasswordRequest::parse(body);
    check("ResetPasswordRequest::parse", &reset, &object, body);
    if let Ok(request) = &reset {
        valid_phone(&request.phone);
        valid_code(request.code.as_str());
        valid_password(request.password.as_str());
    }

    let change = ChangePasswordRequest::parse(body);
    check("ChangePasswordRequest::parse", &change, &object, body);
    if let Ok(request) = &change {
        trimmed_nonempty("ChangePasswordRequest jwt", &request.jwt);
        assert!(!request.pwd.trim().is_empty(), "ChangePasswordRequest.pwd is blank: {:?}", request.pwd);
        valid_password(request.password.as_str());
    }

    let login = LoginRequest::parse(body);
    check("LoginRequest::parse", &login, &object, body);
    if let Ok(request) = &login {
        trimmed_nonempty("LoginRequest.account", &request.account);
        assert!(!request.pwd.trim().is_empty(), "LoginRequest.pwd is blank: {:?}", request.pwd);
    }

    let token = TokenRequest::parse(body);
    check("TokenRequest::parse", &token, &object, body);
    if let Ok(request) = &token {
        trimmed_nonempty("TokenRequest::parse jwt", &request.jwt);
    }

    let refresh = RefreshRequest::parse(body);
    check("RefreshRequest::parse", &refresh, &object, body);
    if let Ok(request) = &refresh {
        trimmed_nonempty("RefreshRequest::parse jwt", &request.jwt);
    }
    let deactivate = DeactivateRequest::parse(body);
    check("DeactivateRequest::parse", &deactivate, &object, body);
    if let Ok(request) = &deactivate {
        trimmed_nonempty("DeactivateRequest jwt", &request.jwt);
        // The token is read as `parse` reads it; `scope` can only add a refusal.
        assert_eq!(token.as_ref().ok().map(|t| &t.jwt), Some(&request.jwt));
        if let LogoutScope::Sid(sid) = &request.scope {
            trimmed_nonempty("DeactivateRequest sid", sid);
        }
    }
    // `jwt` wins whenever it is present, so a body `parse` accepts gives `parse_refresh`
    // the same token.
    if let (Ok(a), Ok(b)) = (&token, &refresh) {
        assert_eq!(a.jwt, b.jwt);
    }
}
