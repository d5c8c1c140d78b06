//! The SMS providers' HTTP APIs, as pure functions: the signed request to send one code,
//! and what the provider's reply means. The Cloudflare side only carries the request out
//! (with a timeout) and hands back the status and body, so signing and reply handling
//! are tested natively against the providers' documented examples.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::clock::date_and_time;
use super::crypto::Crypto;
use super::error::ConfigError;
use super::outgoing::{base64_padded, encode, form, OutgoingRequest};
use super::phone::Phone;
use super::sms_code::{CodePurpose, SmsCode};
use super::standard_webhooks::{receiver_url, WebhookSecret};

/// The provider `SMS_PROVIDER` chooses, with its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsProvider {
    /// Writes the message, code withheld, to the log: local development.
    Console,
    Aliyun(Aliyun),
    Twilio(Twilio),
    Tencent(Tencent),
    /// Any other provider, through the app's own endpoint.
    Webhook(SmsWebhook),
}

impl SmsProvider {
    /// Reads `SMS_PROVIDER`, one provider or a comma-separated list tried in its order
    /// (`aliyun,tencent`), and each one's variables through `get` (which returns `None`
    /// for missing or empty ones). The error names what is missing.
    pub fn from_settings(get: impl Fn(&str) -> Option<String>) -> Result<Vec<SmsProvider>, ConfigError> {
        let names =
            get("SMS_PROVIDER").ok_or_else(|| ConfigError::new("SMS_PROVIDER", "SMS_PROVIDER is not set"))?;
        let mut providers: Vec<SmsProvider> = Vec::new();
        for name in names.split(',').map(str::trim) {
            let provider = SmsProvider::one(name, &get)?;
            if providers.iter().any(|other| other.name() == provider.name()) {
                return Err(ConfigError::new("SMS_PROVIDER", format!("SMS_PROVIDER names {name} twice")));
            }
            providers.push(provider);
        }
        // Console "sends" always: after a real provider's failure it would answer 200 for
        // a code no one received.
        if providers.len() > 1 && providers.contains(&SmsProvider::Console) {
            return Err(ConfigError::new("SMS_PROVIDER", "SMS_PROVIDER may name console only on its own"));
        }
        Ok(providers)
    }

    /// The name `SMS_PROVIDER` gives it, as the log writes it.
    pub fn name(&self) -> &'static str {
        match self {
            SmsProvider::Console => "console",
            SmsProvider::Aliyun(_) => "aliyun",
            SmsProvider::Twilio(_) => "twilio",
            SmsProvider::Tencent(_) => "tencent",
            SmsProvider::Webhook(_) => "webhook",
        }
    }

    fn one(name: &str, get: &impl Fn(&str) -> Option<String>) -> Result<SmsProvider, ConfigError> {
        let require =
            |name: &str| get(name).ok_or_else(|| ConfigError::new(name, format!("{name} is not set")));
        let base_url = |name: &str, default: &str| -> Result<String, ConfigError> {
            let url = get(name).unwrap_or_else(|| default.to_string());
            match url.starts_with("https://") || url.starts_with("http://") {
                true => Ok(url.trim_end_matches('/').to_string()),
                false => Err(ConfigError::new(name, format!("{name} must be an http(s) URL, not {url:?}"))),
            }
        };
        match name {
            "console" => Ok(SmsProvider::Console),
            "aliyun" => Ok(SmsProvider::Aliyun(Aliyun {
                access_key_id: require("ALIYUN_ACCESS_KEY_ID")?,
                access_key_secret: require("ALIYUN_ACCESS_KEY_SECRET")?,
                sign_name: require("ALIYUN_SMS_SIGN_NAME")?,
                template_code: require("ALIYUN_SMS_TEMPLATE_CODE")?,
                template_param: get("ALIYUN_SMS_TEMPLATE_PARAM").unwrap_or_else(|| "code".into()),
                region_id: get("ALIYUN_REGION_ID").unwrap_or_else(|| "cn-hangzhou".into()),
                endpoint: base_url("ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com")?,
            })),
            "twilio" => Ok(SmsProvider::Twilio(Twilio {
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
            "tencent" => Ok(SmsProvider::Tencent(Tencent {
                secret_id: require("TENCENT_SECRET_ID")?,
                secret_key: require("TENCENT_SECRET_KEY")?,
                sdk_app_id: require("TENCENT_SMS_SDK_APP_ID")?,
                sign_name: require("TENCENT_SMS_SIGN_NAME")?,
                template_id: require("TENCENT_SMS_TEMPLATE_ID")?,
                region: get("TENCENT_SMS_REGION").unwrap_or_else(|| "ap-guangzhou".into()),
                endpoint: tencent_endpoint(base_url(
                    "TENCENT_SMS_ENDPOINT",
                    "https://sms.tencentcloudapi.com",
                )?)?,
            })),
            "webhook" => Ok(SmsProvider::Webhook(SmsWebhook {
                url: receiver_url("SMS_WEBHOOK_URL", &require("SMS_WEBHOOK_URL")?)?,
                secret: WebhookSecret::parse(&require("SMS_WEBHOOK_SECRET")?).map_err(|why| {
                    ConfigError::new("SMS_WEBHOOK_SECRET", format!("SMS_WEBHOOK_SECRET {why}"))
                })?,
            })),
            other => Err(ConfigError::new(
                "SMS_PROVIDER",
                format!("SMS_PROVIDER {other:?} is not one of console, aliyun, twilio, tencent, webhook"),
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
    pub fn outcome(status: u16, body: &str) -> Result<(), Refusal> {
        let reply: Value = serde_json::from_slice(body.as_bytes())
            .map_err(|_| Refusal::Provider(format!("aliyun: HTTP {status} with a reply that is not JSON")))?;
        match (status, reply["Code"].as_str()) {
            (200, Some("OK")) => Ok(()),
            (_, code) => {
                let code = code.unwrap_or("(none)");
                let reason = format!(
                    "aliyun: HTTP {status}, Code {code:?}, Message {:?}, RequestId {:?}",
                    reply["Message"].as_str().unwrap_or(""),
                    reply["RequestId"].as_str().unwrap_or(""),
                );
                // The number is not valid, or over its limits (per minute, hour, day).
                let number = code.starts_with("isv.MOBILE_")
                    || ["isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isv.MONTH_LIMIT_CONTROL"]
                        .contains(&code);
                Err(Refusal::of(number, reason))
            }
        }
    }
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

/// Tencent Cloud SMS (`SendSms`, API 3.0, version 2021-01-11), the other big provider in
/// China. Like Alibaba Cloud's, the text is an approved template (`template_id`) whose one
/// parameter is the code.
#[derive(Clone, PartialEq, Eq)]
pub struct Tencent {
    pub secret_id: String,
    pub secret_key: String,
    pub sdk_app_id: String,
    pub sign_name: String,
    pub template_id: String,
    pub region: String,
    pub endpoint: String,
}

impl std::fmt::Debug for Tencent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tencent {{ secret_id: {:?}, endpoint: {:?}, .. }}", self.secret_id, self.endpoint)
    }
}

/// The content type Tencent Cloud's SDKs send and sign.
const TENCENT_CONTENT_TYPE: &str = "application/json";

impl Tencent {
    /// `SendSms` as a JSON POST signed with TC3-HMAC-SHA256 at `now` (Unix seconds). The
    /// host signed is the endpoint's, port included, as the request will carry it.
    pub fn request(&self, crypto: &dyn Crypto, phone: &Phone, code: &SmsCode, now: i64) -> OutgoingRequest {
        let body = serde_json::json!({
            "PhoneNumberSet": [phone.e164()],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": self.template_id,
            "TemplateParamSet": [code.as_str()],
        })
        .to_string();
        let host = self.endpoint.split_once("://").map_or(self.endpoint.as_str(), |(_, rest)| rest);
        let signed = Tc3 { secret_id: &self.secret_id, secret_key: &self.secret_key, service: "sms", host };
        OutgoingRequest {
            url: format!("{}/", self.endpoint),
            headers: vec![
                ("Authorization".into(), signed.authorization(crypto, now, &body)),
                ("Content-Type".into(), TENCENT_CONTENT_TYPE.into()),
                ("X-TC-Action".into(), "SendSms".into()),
                ("X-TC-Version".into(), "2021-01-11".into()),
                ("X-TC-Timestamp".into(), now.to_string()),
                ("X-TC-Region".into(), self.region.clone()),
            ],
            body,
        }
    }

    /// HTTP 200 with the number's `SendStatus` `Code` "Ok" is a send; a `Response.Error`
    /// (bad signature, no balance, ...) or another status code is the provider's reason.
    pub fn outcome(status: u16, body: &str) -> Result<(), Refusal> {
        let reply: Value = serde_json::from_slice(body.as_bytes()).map_err(|_| {
            Refusal::Provider(format!("tencent: HTTP {status} with a reply that is not JSON"))
        })?;
        let response = &reply["Response"];
        let sent = &response["SendStatusSet"][0];
        if status == 200 && response["Error"].is_null() && sent["Code"] == "Ok" {
            return Ok(());
        }
        let (code, message) = match response["Error"].is_object() {
            true => (&response["Error"]["Code"], &response["Error"]["Message"]),
            false => (&sent["Code"], &sent["Message"]),
        };
        let code = code.as_str().unwrap_or("(none)");
        let reason = format!(
            "tencent: HTTP {status}, Code {code:?}, Message {:?}, RequestId {:?}",
            message.as_str().unwrap_or(""),
            response["RequestId"].as_str().unwrap_or(""),
        );
        // The number's limits, a number that is not one, or one on the blacklist.
        let number = code.starts_with("LimitExceeded.PhoneNumber")
            || ["InvalidParameterValue.IncorrectPhoneNumber", "FailedOperation.PhoneNumberInBlacklist"]
                .contains(&code);
        Err(Refusal::of(number, reason))
    }
}

/// Tencent Cloud's API 3.0 signature (TC3-HMAC-SHA256) of a JSON POST to `/`, signing
/// the headers content-type and host, as its SDKs do.
pub struct Tc3<'a> {
    pub secret_id: &'a str,
    pub secret_key: &'a str,
    pub service: &'a str,
    pub host: &'a str,
}

impl Tc3<'_> {
    /// The `Authorization` header for `payload` sent at `timestamp` (Unix seconds).
    pub fn authorization(&self, crypto: &dyn Crypto, timestamp: i64, payload: &str) -> String {
        // The UTC date, as date_and_time writes it (chrono's strftime would cost the wasm
        // its format parser).
        let moment = DateTime::from_timestamp(timestamp, 0).unwrap_or_default().naive_utc();
        let date = date_and_time(&moment, 'T')[..10].to_string();
        let canonical_request = format!(
            "POST\n/\n\ncontent-type:{TENCENT_CONTENT_TYPE}\nhost:{}\n\ncontent-type;host\n{}",
            self.host,
            hex(&crypto.sha256(payload.as_bytes())),
        );
        let scope = format!("{date}/{}/tc3_request", self.service);
        let string_to_sign = format!(
            "TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
            hex(&crypto.sha256(canonical_request.as_bytes()))
        );
        let secret_date = crypto.hmac_sha256(format!("TC3{}", self.secret_key).as_bytes(), date.as_bytes());
        let secret_service = crypto.hmac_sha256(&secret_date, self.service.as_bytes());
        let secret_signing = crypto.hmac_sha256(&secret_service, b"tc3_request");
        let signature = hex(&crypto.hmac_sha256(&secret_signing, string_to_sign.as_bytes()));
        format!(
            "TC3-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=content-type;host, Signature={signature}",
            self.secret_id
        )
    }
}

/// Any other provider, through the app's own endpoint (`SMS_WEBHOOK_URL`): a JSON POST of
/// `{phone, code, purpose, ttl_seconds}`, signed as Standard Webhooks do with
/// `SMS_WEBHOOK_SECRET`. Any 2xx is a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsWebhook {
    pub url: String,
    pub secret: WebhookSecret,
}

impl SmsWebhook {
    /// The delivery of `code`, as message `id` at `now` (Unix seconds).
    pub fn request(&self, crypto: &dyn Crypto, sms: &Sms<'_>, id: &str, now: i64) -> OutgoingRequest {
        let body = serde_json::json!({
            "phone": sms.phone.e164(),
            "code": sms.code.as_str(),
            "purpose": sms.purpose.name(),
            "ttl_seconds": sms.ttl_seconds,
        })
        .to_string();
        OutgoingRequest { url: self.url.clone(), headers: self.secret.headers(crypto, id, now, &body), body }
    }

    pub fn outcome(status: u16) -> Result<(), Refusal> {
        match status {
            200..=299 => Ok(()),
            _ => Err(Refusal::Provider(format!("webhook: HTTP {status}"))),
        }
    }
}

/// `TENCENT_SMS_ENDPOINT` as the signature needs it: a scheme and a host, which is signed
/// as the request carries it (lower case, the port only if not the scheme's own); no path,
/// as the signed request is always to `/`.
fn tencent_endpoint(url: String) -> Result<String, ConfigError> {
    let (scheme, host) = url.split_once("://").unwrap_or(("https", &url));
    if host.is_empty() || host.contains(['/', '?', '#', '@']) {
        let why = format!("TENCENT_SMS_ENDPOINT must be a scheme and a host, without a path, not {url:?}");
        return Err(ConfigError::new("TENCENT_SMS_ENDPOINT", why));
    }
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let host = host.to_ascii_lowercase();
    Ok(format!("{scheme}://{}", host.strip_suffix(default_port).unwrap_or(&host)))
}

/// Why a provider did not send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// About this number: not a valid one, blocked, or over the provider's limits for it.
    /// Another provider must not be asked (that would get round the first's protection of
    /// the number), and the provider is no less usable for it.
    Number(String),
    /// About the provider: its credentials, balance, an outage, an answer that makes no
    /// sense. Another provider may send.
    Provider(String),
}

impl Refusal {
    fn of(about_the_number: bool, reason: String) -> Refusal {
        if about_the_number {
            Refusal::Number(reason)
        } else {
            Refusal::Provider(reason)
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Number(reason) | Refusal::Provider(reason) => f.write_str(reason),
        }
    }
}

/// One message to send: the code, where to, what for, and how long it lives.
pub struct Sms<'a> {
    pub phone: &'a Phone,
    pub code: &'a SmsCode,
    pub purpose: &'a CodePurpose,
    pub ttl_seconds: u64,
}

/// Lower-case hex, as TC3 writes hashes and signatures.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|byte| [DIGITS[usize::from(byte >> 4)] as char, DIGITS[usize::from(byte & 15)] as char])
        .collect()
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
    pub fn outcome(status: u16, body: &str) -> Result<(), Refusal> {
        let reply: Value = serde_json::from_slice(body.as_bytes())
            .map_err(|_| Refusal::Provider(format!("twilio: HTTP {status} with a reply that is not JSON")))?;
        let message_status = reply["status"].as_str().unwrap_or("");
        if (200..300).contains(&status) && reply["sid"].is_string() && message_status != "failed" {
            return Ok(());
        }
        let reason = format!(
            "twilio: HTTP {status}, code {}, message {:?}",
            reply["code"],
            reply["message"].as_str().or(reply["error_message"].as_str()).unwrap_or(message_status),
        );
        // Not a valid number, not a mobile one, one Twilio cannot reach, or one that
        // unsubscribed (STOP).
        Err(Refusal::of([21211, 21610, 21612, 21614].contains(&reply["code"].as_u64().unwrap_or(0)), reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::crypto::native::NativeCrypto;
    use chrono::TimeZone;
    use std::collections::HashMap;

    fn provider(vars: &[(&str, &str)]) -> Result<Vec<SmsProvider>, String> {
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
        use base64ct::{Base64, Encoding};
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
        assert!(
            matches!(refused, Err(Refusal::Number(reason)) if reason.contains("isv.BUSINESS_LIMIT_CONTROL"))
        );
        let invalid = Aliyun::outcome(200, r#"{"Code":"isv.MOBILE_NUMBER_ILLEGAL"}"#);
        assert!(matches!(invalid, Err(Refusal::Number(_))));
        let broke = Aliyun::outcome(200, r#"{"Code":"isv.AMOUNT_NOT_ENOUGH"}"#);
        assert!(matches!(broke, Err(Refusal::Provider(_))), "another provider may send");
        assert!(
            matches!(Aliyun::outcome(500, "<html>"), Err(Refusal::Provider(reason)) if reason.contains("not JSON"))
        );
        assert!(matches!(
            Aliyun::outcome(400, r#"{"Code":"SignatureDoesNotMatch"}"#),
            Err(Refusal::Provider(_))
        ));
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
        assert!(matches!(refused, Err(Refusal::Number(reason)) if reason.contains("21211")));
        let unauthorized = Twilio::outcome(401, r#"{"code":20003,"message":"Authenticate"}"#);
        assert!(matches!(unauthorized, Err(Refusal::Provider(_))));
        assert!(matches!(Twilio::outcome(201, ""), Err(Refusal::Provider(_))));
    }

    /// The body a `SendSms` of 012345 to 13911119999 carries (serde_json's keys in order).
    const TENCENT_BODY: &str = r#"{"PhoneNumberSet":["+8613911119999"],"SignName":"腾讯云","SmsSdkAppId":"1400006666","TemplateId":"1234567","TemplateParamSet":["012345"]}"#;

    fn tencent() -> Tencent {
        Tencent {
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE".into(),
            secret_key: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE".into(),
            sdk_app_id: "1400006666".into(),
            sign_name: "腾讯云".into(),
            template_id: "1234567".into(),
            region: "ap-guangzhou".into(),
            endpoint: "https://sms.tencentcloudapi.com".into(),
        }
    }

    #[test]
    fn tencents_signature_is_the_official_sdks() {
        // The signature tencentcloud-sdk-python-common 3.1.195 computes for this body, key
        // and moment (AbstractClient._get_tc3_signature, with Sign.sign_tc3), 2019-02-25.
        let signed = Tc3 {
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            secret_key: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            service: "sms",
            host: "sms.tencentcloudapi.com",
        };
        assert_eq!(
            signed.authorization(&NativeCrypto, 1_551_113_065, TENCENT_BODY),
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/sms/tc3_request, \
             SignedHeaders=content-type;host, \
             Signature=3f94b33e0704e1d2b72f9ed7aefc41b98299d19a564f2f9d87d00756b4e48aaa"
        );
    }

    #[test]
    fn a_tencent_request_is_json_with_the_headers_it_signs() {
        let phone = Phone::parse("13911119999").unwrap();
        let request =
            tencent().request(&NativeCrypto, &phone, &SmsCode::parse("012345").unwrap(), 1_551_113_065);
        assert_eq!(request.url, "https://sms.tencentcloudapi.com/");
        assert_eq!(request.body, TENCENT_BODY);
        let header = |name: &str| request.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        assert!(header("Authorization")
            .unwrap()
            .ends_with("Signature=3f94b33e0704e1d2b72f9ed7aefc41b98299d19a564f2f9d87d00756b4e48aaa"));
        assert_eq!(header("Content-Type"), Some("application/json"));
        assert_eq!(header("X-TC-Action"), Some("SendSms"));
        assert_eq!(header("X-TC-Version"), Some("2021-01-11"));
        assert_eq!(header("X-TC-Timestamp"), Some("1551113065"));
        assert_eq!(header("X-TC-Region"), Some("ap-guangzhou"));
        // A local endpoint's host is signed with its port, as the request carries it.
        let local = Tencent { endpoint: "http://127.0.0.1:9000".into(), ..tencent() };
        let request = local.request(&NativeCrypto, &phone, &SmsCode::parse("012345").unwrap(), 1_551_113_065);
        let signed = Tc3 {
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            secret_key: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            service: "sms",
            host: "127.0.0.1:9000",
        };
        assert_eq!(request.headers[0].1, signed.authorization(&NativeCrypto, 1_551_113_065, TENCENT_BODY));
    }

    #[test]
    fn tencent_replies_are_read() {
        let sent = r#"{"Response":{"SendStatusSet":[{"SerialNo":"5000:1045710669157053657849499619","PhoneNumber":"+8613911119999","Fee":1,"SessionContext":"","Code":"Ok","Message":"send success","IsoCode":"CN"}],"RequestId":"a0aabda6-cf91-4f3e-a81f-9198114a2279"}}"#;
        assert_eq!(Tencent::outcome(200, sent), Ok(()));
        let limited = r#"{"Response":{"SendStatusSet":[{"Code":"LimitExceeded.PhoneNumberDailyLimit","Message":"the number of SMS messages sent from a single mobile number every day exceeds the upper limit"}],"RequestId":"r1"}}"#;
        assert!(
            matches!(Tencent::outcome(200, limited), Err(Refusal::Number(reason)) if reason.contains("LimitExceeded.PhoneNumberDailyLimit"))
        );
        let forged = r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"The provided credentials could not be validated."},"RequestId":"r2"}}"#;
        assert!(
            matches!(Tencent::outcome(200, forged), Err(Refusal::Provider(reason)) if reason.contains("AuthFailure.SignatureFailure"))
        );
        assert!(Tencent::outcome(502, "<html>").unwrap_err().to_string().contains("not JSON"));
        assert!(Tencent::outcome(200, r#"{"Response":{"RequestId":"r3"}}"#).is_err());
    }

    #[test]
    fn provider_settings_name_what_is_missing() {
        assert_eq!(provider(&[]).unwrap_err(), "SMS_PROVIDER is not set");
        assert_eq!(provider(&[("SMS_PROVIDER", "console")]), Ok(vec![SmsProvider::Console]));
        assert!(provider(&[("SMS_PROVIDER", "aliyun")]).unwrap_err().contains("ALIYUN_ACCESS_KEY_ID"));
        let twilio = [("SMS_PROVIDER", "twilio"), ("TWILIO_ACCOUNT_SID", "AC1"), ("TWILIO_AUTH_TOKEN", "t")];
        assert!(provider(&twilio).unwrap_err().contains("TWILIO_FROM"));
        assert!(provider(&[("SMS_PROVIDER", "carrier-pigeon")]).is_err());
        let bad_url =
            [twilio.as_slice(), &[("TWILIO_FROM", "+1500"), ("TWILIO_API_BASE", "ftp://x")]].concat();
        assert!(provider(&bad_url).unwrap_err().contains("TWILIO_API_BASE"));
        let tencent_vars = [
            ("SMS_PROVIDER", "tencent"),
            ("TENCENT_SECRET_ID", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"),
            ("TENCENT_SECRET_KEY", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"),
            ("TENCENT_SMS_SDK_APP_ID", "1400006666"),
            ("TENCENT_SMS_SIGN_NAME", "腾讯云"),
        ];
        assert!(provider(&tencent_vars).unwrap_err().contains("TENCENT_SMS_TEMPLATE_ID"));
        let complete = [tencent_vars.as_slice(), &[("TENCENT_SMS_TEMPLATE_ID", "1234567")]].concat();
        assert_eq!(provider(&complete), Ok(vec![SmsProvider::Tencent(tencent())]));
        // The endpoint is signed as the request carries its host: no path, the case and
        // the scheme's own port as fetch writes them.
        let endpoint = |url: &str| {
            let vars = [complete.as_slice(), &[("TENCENT_SMS_ENDPOINT", url)]].concat();
            provider(&vars).map(|list| match &list[0] {
                SmsProvider::Tencent(tencent) => tencent.endpoint.clone(),
                other => panic!("{other:?}"),
            })
        };
        assert_eq!(
            endpoint("https://SMS.TencentCloudAPI.com:443/"),
            Ok("https://sms.tencentcloudapi.com".into())
        );
        assert_eq!(endpoint("http://127.0.0.1:9000"), Ok("http://127.0.0.1:9000".into()));
        assert!(endpoint("https://sms.tencentcloudapi.com/v3").unwrap_err().contains("without a path"));
    }

    #[test]
    fn a_webhook_delivery_is_the_code_and_its_purpose_signed_as_standard_webhooks_do() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let vars = [
            ("SMS_PROVIDER", "webhook"),
            ("SMS_WEBHOOK_URL", "https://app.example/sms"),
            ("SMS_WEBHOOK_SECRET", secret),
        ];
        let [SmsProvider::Webhook(webhook)] = &provider(&vars).unwrap()[..] else { panic!("one webhook") };
        let phone = Phone::parse("13911119999").unwrap();
        let code = SmsCode::parse("012345").unwrap();
        let sms = Sms { phone: &phone, code: &code, purpose: &CodePurpose::ChangePhone(7), ttl_seconds: 300 };
        let request = webhook.request(&NativeCrypto, &sms, "msg_1", 1_614_265_330);
        assert_eq!(request.url, "https://app.example/sms");
        assert_eq!(
            request.body,
            r#"{"code":"012345","phone":"+8613911119999","purpose":"change_phone","ttl_seconds":300}"#
        );
        let expected = WebhookSecret::parse(secret).unwrap().headers(
            &NativeCrypto,
            "msg_1",
            1_614_265_330,
            &request.body,
        );
        assert_eq!(request.headers, expected);
        assert_eq!(
            (SmsWebhook::outcome(204), SmsWebhook::outcome(500)),
            (Ok(()), Err(Refusal::Provider("webhook: HTTP 500".into())))
        );
        // HTTPS but for this machine, and the URL as given.
        let url = |url: &str| provider(&[vars[0], ("SMS_WEBHOOK_URL", url), vars[2]]);
        assert!(url("http://app.example/sms").unwrap_err().contains("https"));
        assert!(url("http://localhost:8080/sms/").is_ok());
        assert!(
            matches!(&url("https://app.example/sms/").unwrap()[0], SmsProvider::Webhook(w) if w.url == "https://app.example/sms/")
        );
        // Both settings are needed, and the secret must be one.
        assert!(provider(&vars[..2]).unwrap_err().contains("SMS_WEBHOOK_SECRET is not set"));
        assert!(provider(&[vars[0], vars[2]]).unwrap_err().contains("SMS_WEBHOOK_URL is not set"));
        let bad = [vars[0], vars[1], ("SMS_WEBHOOK_SECRET", "whsec_???")];
        assert!(provider(&bad).unwrap_err().contains("SMS_WEBHOOK_SECRET is not whsec_"));
        assert!(!format!("{webhook:?}").contains("MfKQ9r8"));
    }

    #[test]
    fn a_list_of_providers_is_tried_in_its_order() {
        let aliyun_vars = [
            ("ALIYUN_ACCESS_KEY_ID", "testid"),
            ("ALIYUN_ACCESS_KEY_SECRET", "testsecret"),
            ("ALIYUN_SMS_SIGN_NAME", "阿里云短信测试"),
            ("ALIYUN_SMS_TEMPLATE_CODE", "SMS_154950909"),
        ];
        let webhook_vars = [
            ("SMS_WEBHOOK_URL", "https://app.example/sms"),
            ("SMS_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ];
        let both = [&aliyun_vars[..], &webhook_vars, &[("SMS_PROVIDER", " webhook , aliyun ")]].concat();
        let names = |list: Vec<SmsProvider>| list.iter().map(SmsProvider::name).collect::<Vec<_>>();
        assert_eq!(names(provider(&both).unwrap()), ["webhook", "aliyun"]);
        assert_eq!(provider(&both).unwrap()[1], SmsProvider::Aliyun(aliyun()));
        // Every provider listed needs its variables; none may come twice, or be empty.
        assert!(provider(&[("SMS_PROVIDER", "console,aliyun")])
            .unwrap_err()
            .contains("ALIYUN_ACCESS_KEY_ID"));
        assert!(provider(&[("SMS_PROVIDER", "console,console")]).unwrap_err().contains("twice"));
        let with_console = [&aliyun_vars[..], &[("SMS_PROVIDER", "aliyun,console")]].concat();
        assert!(provider(&with_console).unwrap_err().contains("console only on its own"));
        assert!(provider(&[("SMS_PROVIDER", "console,")]).unwrap_err().contains("not one of"));
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let text = format!("{:?}", SmsProvider::Aliyun(aliyun()));
        assert!(!text.contains("testsecret"), "{text}");
        let text = format!("{:?}", SmsProvider::Tencent(tencent()));
        assert!(!text.contains("Gu5t9x"), "{text}");
    }
}
