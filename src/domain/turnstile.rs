//! Cloudflare Turnstile's siteverify, as pure functions: the request that checks a token,
//! and what the answer means. An SMS costs money, so with `TURNSTILE_SECRET_KEY` set a
//! code is sent only to a browser that passed the widget (Supabase puts a CAPTCHA before
//! its `/otp` for the same reason).

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::outgoing::{form, OutgoingRequest};

/// Where tokens are checked unless `TURNSTILE_VERIFY_URL` says otherwise (the tests point
/// it at a fake on loopback).
pub const DEFAULT_VERIFY_URL: &str = "https://challenges.cloudflare.com/turnstile/v0/siteverify";

/// How long siteverify may take; then no code is sent (9999).
pub const VERIFY_TIMEOUT_MS: u64 = 3_000;

/// `TURNSTILE_SECRET_KEY` and `TURNSTILE_VERIFY_URL`.
#[derive(Debug, Clone)]
pub struct Turnstile {
    pub secret: SecretString,
    pub verify_url: String,
}

/// What siteverify said of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A person passed the widget, and the token was not used before.
    Passed,
    /// The token is invalid, expired or used already (`timeout-or-duplicate`): the
    /// siteverify error codes, for the log.
    Refused(String),
}

impl Turnstile {
    /// The siteverify request for `token`, from the client at `remote_ip`, with a fresh
    /// idempotency key: should the request reach siteverify twice on its way, the second
    /// is answered as the first rather than as a reused token. The worker itself does not
    /// retry within its 3 s; a check that fails is a 9999, and the client asks again with
    /// a new token. The `hostname` and `action` of the answer are not checked.
    pub fn request(&self, token: &str, remote_ip: Option<&str>, idempotency_key: &str) -> OutgoingRequest {
        let mut pairs = vec![("secret", self.secret.expose_secret()), ("response", token)];
        if let Some(ip) = remote_ip {
            pairs.push(("remoteip", ip));
        }
        pairs.push(("idempotency_key", idempotency_key));
        OutgoingRequest {
            url: self.verify_url.clone(),
            headers: vec![("Content-Type".into(), "application/x-www-form-urlencoded".into())],
            body: form(&pairs),
        }
    }

    /// siteverify's answer. A refusal of the token is the client's (403); one of our
    /// secret, or siteverify failing or answering anything else, is ours: an error, so
    /// that no code is sent (fail closed) and the reason is logged.
    pub fn verdict(status: u16, body: &str) -> Result<Verdict, String> {
        let reply: Value = serde_json::from_slice(body.as_bytes())
            .map_err(|_| format!("siteverify answered {status} with no JSON: {}", preview(body)))?;
        let codes: Vec<&str> = reply
            .get("error-codes")
            .and_then(Value::as_array)
            .map(|codes| codes.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match reply.get("success").and_then(Value::as_bool) {
            Some(true) => Ok(Verdict::Passed),
            Some(false) if codes.iter().any(|code| code.contains("secret") || *code == "internal-error") => {
                Err(format!("siteverify refused the check itself: {}", codes.join(", ")))
            }
            Some(false) => Ok(Verdict::Refused(codes.join(", "))),
            None => Err(format!("siteverify answered {status} without `success`: {}", preview(body))),
        }
    }
}

fn preview(body: &str) -> String {
    body.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turnstile() -> Turnstile {
        Turnstile { secret: SecretString::from("0x4AAA-secret"), verify_url: DEFAULT_VERIFY_URL.into() }
    }

    #[test]
    fn the_request_carries_secret_token_address_and_idempotency_key_as_a_form() {
        let request = turnstile().request("tok en&=", Some("2001:db8::1"), "key-1");
        assert_eq!(request.url, DEFAULT_VERIFY_URL);
        assert_eq!(
            request.body,
            "secret=0x4AAA-secret&response=tok%20en%26%3D&remoteip=2001%3Adb8%3A%3A1&idempotency_key=key-1"
        );
        assert!(request
            .headers
            .contains(&("Content-Type".into(), "application/x-www-form-urlencoded".into())));
        assert!(!turnstile().request("t", None, "k").body.contains("remoteip"));
    }

    #[test]
    fn answers_are_read_as_passed_refused_or_a_fault() {
        assert_eq!(Turnstile::verdict(200, r#"{"success":true,"error-codes":[]}"#), Ok(Verdict::Passed));
        let reused = r#"{"success":false,"error-codes":["timeout-or-duplicate"]}"#;
        assert_eq!(Turnstile::verdict(200, reused), Ok(Verdict::Refused("timeout-or-duplicate".into())));
        let invalid = r#"{"success":false,"error-codes":["invalid-input-response"]}"#;
        assert_eq!(Turnstile::verdict(200, invalid), Ok(Verdict::Refused("invalid-input-response".into())));
        // Our secret, siteverify's own trouble, or nonsense: ours to fix, no code sent.
        for body in [
            r#"{"success":false,"error-codes":["invalid-input-secret"]}"#,
            r#"{"success":false,"error-codes":["internal-error"]}"#,
            "<html>bad gateway</html>",
            r#"{"ok":true}"#,
        ] {
            assert!(Turnstile::verdict(502, body).is_err(), "{body}");
        }
    }
}
