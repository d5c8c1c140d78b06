//! The SMS providers' HTTP APIs, as pure functions: the signed request to send one code,
//! and what the provider's reply means. The Cloudflare side only carries the request out
//! (with a timeout) and hands back the status and body, so signing and reply handling
//! are tested natively against the providers' documented examples.

use base64ct::{Base64Unpadded, Encoding};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::clock::date_and_time;
use super::crypto::Crypto;
use super::error::ConfigError;
use super::outgoing::{encode, form, OutgoingRequest};
use super::phone::Phone;
use super::sms_code::SmsCode;

/// The provider `SMS_PROVIDER` chooses, with its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsProvider {
    /// Writes the message, code withheld, to the log: local development.
    Console,
    Aliyun(Aliyun),
    Twilio(Twilio),
}

impl SmsProvider {
    /// Reads `SMS_PROVIDER` and the chosen provider's variables through `get` (which
    /// returns `None` for missing or empty ones). The error names what is missing.
    pub fn from_settings(get: impl Fn(&str) -> Option<String>) -> Result<SmsProvider, ConfigError> {
        let require =
            |name: &str| get(name).ok_or_else(|| ConfigError::new(name, format!("{name} is not set")));
        let base_url = |name: &str, default: &str| -> Result<String, ConfigError> {
            let url = get(name).unwrap_or_else(|| default.to_string());
            match url.starts_with("https://") || url.starts_with("http://") {
                true => Ok(url.trim_end_matches('/').to_string()),
                false => Err(ConfigError::new(name, format!("{name} must be an http(s) URL, not {url:?}"))),
            }
        };
        match get("SMS_PROVIDER").as_deref() {
            None => Err(ConfigError::new("SMS_PROVIDER", "SMS_PROVIDER is not set")),
            Some("console") => Ok(SmsProvider::Console),
            Some("aliyun") => Ok(SmsProvider::Aliyun(Aliyun {
                access_key_id: require("ALIYUN_ACCESS_KEY_ID")?,
                access_key_secret: require("ALIYUN_ACCESS_KEY_SECRET")?,
                sign_name: require("ALIYUN_SMS_SIGN_NAME")?,
                template_code: require("ALIYUN_SMS_TEMPLATE_CODE")?,
                template_param: get("ALIYUN_SMS_TEMPLATE_PARAM").unwrap_or_else(|| "code".into()),
                region_id: get("ALIYUN_REGION_ID").unwrap_or_else(|| "cn-hangzhou".into()),
                endpoint: base_url("ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com")?,
            })),
            Some("twilio") => Ok(SmsProvider::Twilio(Twilio {
                account_sid: require("TWILIO_ACCOUNT_SID")?,
                auth_token: require("TWILIO_AUTH_TOKEN")?,
                sender: match (get("TWILIO_MESSAGING_SERVICE_SID"), get("TWILIO_FROM")) {
                    (Some(service), _) => TwilioSender::MessagingService(service),
                    (None, Some(number)) => TwilioSender::Number(number),
                    (None, None) => {
                        return Err(ConfigError::new(
                            "TWILIO_FROM",
                            "TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID must be set",
                        ))
                    }
                },
                message: get("TWILIO_MESSAGE").unwrap_or_else(|| DEFAULT_TWILIO_MESSAGE.into()),
                api_base: base_url("TWILIO_API_BASE", "https://api.twilio.com")?,
            })),
            Some(other) => Err(ConfigError::new(
                "SMS_PROVIDER",
                format!("SMS_PROVIDER {other:?} is not one of console, aliyun, twilio"),
            )),
        }
    }
}

/// Alibaba Cloud SMS (Dysmsapi `SendSms`, API version 2017-05-25), which the original
/// service used. The message text is the approved template `template_code`; the code is
/// its parameter `template_param`.
#[derive(Clone, PartialEq, Eq)]
pub struct Aliyun {
    pub access_key_id: String,
    pub access_key_secret: String,
    pub sign_name: String,
    pub template_code: String,
    pub template_param: String,
    pub region_id: String,
    pub endpoint: String,
}

impl std::fmt::Debug for Aliyun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Aliyun {{ access_key_id: {:?}, endpoint: {:?}, .. }}", self.access_key_id, self.endpoint)
    }
}

impl Aliyun {
    /// The number as Dysmsapi takes it: mainland numbers without `+86`, others as the
    /// country code and number without `+`.
    fn phone_numbers(phone: &Phone) -> &str {
        let e164 = phone.e164();
        e164.strip_prefix("+86").unwrap_or(&e164[1..])
    }

    /// `SendSms` as an RPC call, signed with signature version 1.0 (HMAC-SHA1): the
    /// parameters sorted by name and percent-encoded, `POST&%2F&<encoded query>` as the
    /// string to sign, the AccessKey secret followed by `&` as the key.
    pub fn request(
        &self,
        crypto: &dyn Crypto,
        phone: &Phone,
        code: &SmsCode,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> OutgoingRequest {
        let template_param = serde_json::json!({ &self.template_param: code.as_str() }).to_string();
        let timestamp = format!("{}Z", date_and_time(&now.naive_utc(), 'T'));
        let mut params = vec![
            ("AccessKeyId", self.access_key_id.as_str()),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("PhoneNumbers", Self::phone_numbers(phone)),
            ("RegionId", self.region_id.as_str()),
            ("SignName", self.sign_name.as_str()),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", nonce),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", self.template_code.as_str()),
            ("TemplateParam", template_param.as_str()),
            ("Timestamp", timestamp.as_str()),
            ("Version", "2017-05-25"),
        ];
        params.sort_by(|a, b| a.0.cmp(b.0));
        let canonical = form(&params);
        let signature = aliyun_signature(crypto, &self.access_key_secret, "POST", &canonical);
        params.push(("Signature", &signature));
        OutgoingRequest {
            url: format!("{}/", self.endpoint),
            headers: vec![("Content-Type".into(), "application/x-www-form-urlencoded".into())],
            body: form(&params),
        }
    }

    /// HTTP 200 with `"Code": "OK"` is a send; anything else is the provider's reason.
    pub fn outcome(status: u16, body: &str) -> Result<(), String> {
        let reply: Value = serde_json::from_slice(body.as_bytes())
            .map_err(|_| format!("aliyun: HTTP {status} with a reply that is not JSON"))?;
        match (status, reply["Code"].as_str()) {
            (200, Some("OK")) => Ok(()),
            (_, code) => Err(format!(
                "aliyun: HTTP {status}, Code {:?}, Message {:?}, RequestId {:?}",
                code.unwrap_or("(none)"),
                reply["Message"].as_str().unwrap_or(""),
                reply["RequestId"].as_str().unwrap_or(""),
            )),
        }
    }
}

/// Standard base64 with its padding. The unpadded encoder plus the `=`s, so that the wasm
/// holds one standard encoder (the password hashes' unpadded one), not two.
fn base64_padded(bytes: &[u8]) -> String {
    let mut text = Base64Unpadded::encode_string(bytes);
    text.extend(std::iter::repeat_n('=', (4 - text.len() % 4) % 4));
    text
}

/// Signature version 1.0 of Alibaba Cloud's RPC APIs over a canonical query.
pub fn aliyun_signature(
    crypto: &dyn Crypto,
    access_key_secret: &str,
    method: &str,
    canonical_query: &str,
) -> String {
    let string_to_sign = format!("{method}&{}&{}", encode("/"), encode(canonical_query));
    let key = format!("{access_key_secret}&");
    base64_padded(&crypto.hmac_sha1(key.as_bytes(), string_to_sign.as_bytes()))
}

const DEFAULT_TWILIO_MESSAGE: &str = "Your verification code is {code}. Do not share it with anyone.";

/// Who a Twilio message is from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwilioSender {
    /// `TWILIO_FROM`: a Twilio number in E.164, or an alphanumeric sender id.
    Number(String),
    /// `TWILIO_MESSAGING_SERVICE_SID`: a Messaging Service picks the number.
    MessagingService(String),
}

/// Twilio's Programmable Messaging (`POST /2010-04-01/Accounts/{sid}/Messages.json`),
/// authenticated with HTTP Basic (account SID and auth token).
#[derive(Clone, PartialEq, Eq)]
pub struct Twilio {
    pub account_sid: String,
    pub auth_token: String,
    pub sender: TwilioSender,
    /// The text, with `{code}` where the code goes.
    pub message: String,
    pub api_base: String,
}

impl std::fmt::Debug for Twilio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Twilio {{ account_sid: {:?}, api_base: {:?}, .. }}", self.account_sid, self.api_base)
    }
}

impl Twilio {
    pub fn request(&self, phone: &Phone, code: &SmsCode) -> OutgoingRequest {
        let text = self.message.replace("{code}", code.as_str());
        let (sender_field, sender) = match &self.sender {
            TwilioSender::Number(number) => ("From", number.as_str()),
            TwilioSender::MessagingService(sid) => ("MessagingServiceSid", sid.as_str()),
        };
        let credentials = format!("{}:{}", self.account_sid, self.auth_token);
        OutgoingRequest {
            url: format!("{}/2010-04-01/Accounts/{}/Messages.json", self.api_base, encode(&self.account_sid)),
            headers: vec![
                ("Authorization".into(), format!("Basic {}", base64_padded(credentials.as_bytes()))),
                ("Content-Type".into(), "application/x-www-form-urlencoded".into()),
            ],
            body: form(&[("To", phone.e164()), (sender_field, sender), ("Body", &text)]),
        }
    }

    /// A 2xx reply naming the new message (`sid`) is a send; an error reply carries
    /// Twilio's `code` and `message`.
    pub fn outcome(status: u16, body: &str) -> Result<(), String> {
        let reply: Value = serde_json::from_slice(body.as_bytes())
            .map_err(|_| format!("twilio: HTTP {status} with a reply that is not JSON"))?;
        let message_status = reply["status"].as_str().unwrap_or("");
        if (200..300).contains(&status) && reply["sid"].is_string() && message_status != "failed" {
            return Ok(());
        }
        Err(format!(
            "twilio: HTTP {status}, code {}, message {:?}",
            reply["code"],
            reply["message"].as_str().or(reply["error_message"].as_str()).unwrap_or(message_status),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::crypto::native::NativeCrypto;
    use chrono::TimeZone;
    use std::collections::HashMap;

    fn provider(vars: &[(&str, &str)]) -> Result<SmsProvider, String> {
        let vars: HashMap<&str, &str> = vars.iter().copied().collect();
        SmsProvider::from_settings(|name| vars.get(name).map(|v| v.to_string())).map_err(|e| e.to_string())
    }

    fn aliyun() -> Aliyun {
        Aliyun {
            access_key_id: "testid".into(),
            access_key_secret: "testsecret".into(),
            sign_name: "阿里云短信测试".into(),
            template_code: "SMS_154950909".into(),
            template_param: "code".into(),
            region_id: "cn-hangzhou".into(),
            endpoint: "https://dysmsapi.aliyuncs.com".into(),
        }
    }

    #[test]
    fn base64_padded_is_standard_base64() {
        use base64ct::Base64;
        for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            assert_eq!(base64_padded(text.as_bytes()), Base64::encode_string(text.as_bytes()), "{text}");
        }
        assert_eq!(base64_padded(b"fo"), "Zm8=");
        assert_eq!(base64_padded(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn aliyuns_documented_signature_example_is_reproduced() {
        // The example of Alibaba Cloud's "Signature mechanism" page (DescribeRegions).
        let canonical = "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1\
            &SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0\
            &Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26";
        assert_eq!(
            aliyun_signature(&NativeCrypto, "testsecret", "GET", canonical),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn an_aliyun_request_is_sorted_encoded_and_signed() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0).unwrap();
        let phone = Phone::parse("13911119999").unwrap();
        let request =
            aliyun().request(&NativeCrypto, &phone, &SmsCode::parse("012345").unwrap(), "nonce-1", now);
        assert_eq!(request.url, "https://dysmsapi.aliyuncs.com/");
        let (unsigned, signature) = request.body.rsplit_once("&Signature=").unwrap();
        assert!(
            unsigned.starts_with("AccessKeyId=testid&Action=SendSms&Format=JSON&PhoneNumbers=13911119999&")
        );
        assert!(unsigned.contains("&TemplateParam=%7B%22code%22%3A%22012345%22%7D&"), "{unsigned}");
        assert!(unsigned.contains("&Timestamp=2026-11-25T08%3A00%3A00Z&"), "{unsigned}");
        assert!(unsigned.contains("&SignName=%E9%98%BF%E9%87%8C"), "UTF-8, percent-encoded: {unsigned}");
        let expected = aliyun_signature(&NativeCrypto, "testsecret", "POST", unsigned);
        assert_eq!(signature, encode(&expected));
    }

    #[test]
    fn aliyun_numbers_abroad_keep_their_country_code() {
        assert_eq!(Aliyun::phone_numbers(&Phone::parse("+85291234567").unwrap()), "85291234567");
    }

    #[test]
    fn aliyun_replies_are_read() {
        assert_eq!(Aliyun::outcome(200, r#"{"Code":"OK","Message":"OK","BizId":"1"}"#), Ok(()));
        let refused = Aliyun::outcome(200, r#"{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"触发流控"}"#);
        assert!(refused.unwrap_err().contains("isv.BUSINESS_LIMIT_CONTROL"));
        assert!(Aliyun::outcome(500, "<html>").unwrap_err().contains("not JSON"));
        assert!(Aliyun::outcome(400, r#"{"Code":"SignatureDoesNotMatch"}"#).is_err());
    }

    #[test]
    fn a_twilio_request_authenticates_and_carries_the_code_in_the_body() {
        let twilio = Twilio {
            account_sid: "AC123".into(),
            auth_token: "token".into(),
            sender: TwilioSender::Number("+15005550006".into()),
            message: "Code: {code}".into(),
            api_base: "https://api.twilio.com".into(),
        };
        let request =
            twilio.request(&Phone::parse("13911119999").unwrap(), &SmsCode::parse("012345").unwrap());
        assert_eq!(request.url, "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json");
        assert!(request.headers.contains(&("Authorization".into(), "Basic QUMxMjM6dG9rZW4=".into())));
        assert_eq!(request.body, "To=%2B8613911119999&From=%2B15005550006&Body=Code%3A%20012345");
    }

    #[test]
    fn twilio_replies_are_read() {
        assert_eq!(Twilio::outcome(201, r#"{"sid":"SM1","status":"queued"}"#), Ok(()));
        let refused =
            Twilio::outcome(400, r#"{"code":21211,"message":"The 'To' number is not valid.","status":400}"#);
        assert!(refused.unwrap_err().contains("21211"));
        assert!(Twilio::outcome(201, "").is_err());
    }

    #[test]
    fn provider_settings_name_what_is_missing() {
        assert_eq!(provider(&[]).unwrap_err(), "SMS_PROVIDER is not set");
        assert_eq!(provider(&[("SMS_PROVIDER", "console")]), Ok(SmsProvider::Console));
        assert!(provider(&[("SMS_PROVIDER", "aliyun")]).unwrap_err().contains("ALIYUN_ACCESS_KEY_ID"));
        let twilio = [("SMS_PROVIDER", "twilio"), ("TWILIO_ACCOUNT_SID", "AC1"), ("TWILIO_AUTH_TOKEN", "t")];
        assert!(provider(&twilio).unwrap_err().contains("TWILIO_FROM"));
        assert!(provider(&[("SMS_PROVIDER", "carrier-pigeon")]).is_err());
        let bad_url =
            [twilio.as_slice(), &[("TWILIO_FROM", "+1500"), ("TWILIO_API_BASE", "ftp://x")]].concat();
        assert!(provider(&bad_url).unwrap_err().contains("TWILIO_API_BASE"));
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let text = format!("{:?}", SmsProvider::Aliyun(aliyun()));
        assert!(!text.contains("testsecret"), "{text}");
    }
}
