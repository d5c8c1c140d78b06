//! Standard Webhooks (<https://www.standardwebhooks.com>): how the worker signs what it
//! POSTs to the app's own endpoints (the `webhook` SMS provider), so that a receiver
//! checks each delivery with the spec's libraries rather than code of its own:
//! `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`
//! (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the secret).

use base64ct::{Base64Unpadded, Encoding};

use super::crypto::Crypto;
use super::error::ConfigError;
use super::outgoing::{base64_padded, url_origin};

/// A `whsec_…` secret's key: the base64 after the prefix, decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret([REDACTED])")
    }
}

impl WebhookSecret {
    /// `whsec_` and base64 (as the spec's libraries make them), or the base64 alone.
    pub fn parse(text: &str) -> Result<WebhookSecret, String> {
        let encoded = text.trim().strip_prefix("whsec_").unwrap_or(text.trim()).trim_end_matches('=');
        match Base64Unpadded::decode_vec(encoded) {
            Ok(key) if key.len() >= 16 => Ok(WebhookSecret(key)),
            Ok(_) => Err("is shorter than 16 bytes".into()),
            Err(_) => Err("is not whsec_ and base64".into()),
        }
    }

    /// The headers that sign `body`, sent as message `id` at `timestamp`.
    pub fn headers(
        &self,
        crypto: &dyn Crypto,
        id: &str,
        timestamp: i64,
        body: &str,
    ) -> Vec<(String, String)> {
        vec![
            ("Content-Type".into(), "application/json".into()),
            ("webhook-id".into(), id.into()),
            ("webhook-timestamp".into(), timestamp.to_string()),
            ("webhook-signature".into(), self.signature(crypto, id, timestamp, body)),
        ]
    }

    fn signature(&self, crypto: &dyn Crypto, id: &str, timestamp: i64, body: &str) -> String {
        let signed = format!("{id}.{timestamp}.{body}");
        format!("v1,{}", base64_padded(&crypto.hmac_sha256(&self.0, signed.as_bytes())))
    }
}

/// The URL of an app's endpoint (`SMS_WEBHOOK_URL`, `EVENTS_WEBHOOK_URL`, named by
/// `variable`), as given, a path's last `/` included: HTTPS, as what is POSTed to it is
/// personal (a code, a phone), but for a receiver on this machine (tests, `make dev`).
pub fn receiver_url(variable: &str, url: &str) -> Result<String, ConfigError> {
    let local =
        ["http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:", "http://localhost/", "http://[::1]"];
    if url.starts_with("https://") || local.iter().any(|prefix| url.starts_with(prefix)) {
        return Ok(url.to_string());
    }
    // Its origin alone: the rest of an app's URL may hold a token, and this reason is logged.
    Err(ConfigError::new(variable, format!("{variable} must be an https URL, not {}…", url_origin(url))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::crypto::native::NativeCrypto;

    #[test]
    fn the_specs_example_is_signed_as_its_library_signs_it() {
        // The example of the Standard Webhooks libraries' tests; the Python package
        // standardwebhooks 1.3.0 gives this signature for it (Webhook.sign).
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let headers = secret.headers(
            &NativeCrypto,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            headers,
            [
                ("Content-Type".into(), "application/json".into()),
                ("webhook-id".into(), "msg_p5jXN8AQM9LWM0D4loKWxJek".into()),
                ("webhook-timestamp".into(), "1614265330".into()),
                ("webhook-signature".into(), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".into()),
            ]
        );
    }

    #[test]
    fn a_receiver_is_https_but_on_this_machine_and_a_refusal_shows_only_its_origin() {
        assert!(receiver_url("X", "https://app.example/hooks?token=1").is_ok());
        assert!(receiver_url("X", "http://127.0.0.1:9000/").is_ok());
        let refused =
            receiver_url("EVENTS_WEBHOOK_URL", "http://user:pw@app.example/h?token=abc").unwrap_err();
        assert_eq!(refused.variable, "EVENTS_WEBHOOK_URL");
        assert_eq!(refused.reason, "EVENTS_WEBHOOK_URL must be an https URL, not http://app.example…");
    }

    #[test]
    fn a_secret_is_whsec_and_base64() {
        let bare = WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(bare, WebhookSecret::parse(" whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ").unwrap());
        assert!(WebhookSecret::parse("whsec_not base64!").is_err());
        assert!(WebhookSecret::parse("whsec_c2hvcnQ=").unwrap_err().contains("16 bytes"));
        assert_eq!(format!("{bare:?}"), "WebhookSecret([REDACTED])");
    }
}
