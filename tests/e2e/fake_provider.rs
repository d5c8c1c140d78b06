//! Fake SMS providers on loopback, for the worker to send real HTTP to. Each checks
//! every request's authentication the way its provider documents it, with its own code
//! (nothing from the worker's crate), records the messages it accepts, and can be told
//! to fail: an HTTP 500, a refusal, or a reply slower than the worker's timeout.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64ct::{Base64, Encoding};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::worker::TestWorker;

/// What the fake does with the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// HTTP 500 with a body that is not the provider's JSON.
    ServerError,
    /// The provider's own refusal (Aliyun: HTTP 200 with an error `Code`; Twilio: 400;
    /// Tencent: HTTP 200 with the number's `Code` not "Ok").
    Refuse,
    /// Answer only after this long.
    Hang(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Aliyun,
    Twilio,
    Tencent,
}

/// A message the fake accepted: the number as the provider received it, and the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub to: String,
    pub code: String,
}

#[derive(Debug, Default)]
struct Record {
    requests: usize,
    bad_signatures: Vec<String>,
    messages: Vec<Message>,
    nonces: HashSet<String>,
}

pub struct FakeProvider {
    pub url: String,
    kind: Kind,
    mode: Arc<Mutex<Mode>>,
    record: Arc<Mutex<Record>>,
    server: Arc<tiny_http::Server>,
}

pub const ALIYUN_KEY_ID: &str = "LTAI-e2e-key-id";
pub const ALIYUN_KEY_SECRET: &str = "e2e-aliyun-access-key-secret";
pub const TWILIO_SID: &str = "AC00000000000000000000000000e2e0";
pub const TWILIO_TOKEN: &str = "e2e-twilio-auth-token";
pub const TENCENT_ID: &str = "AKID-e2e-secret-id";
pub const TENCENT_KEY: &str = "e2e-tencent-secret-key";

impl FakeProvider {
    pub fn start(kind: Kind) -> FakeProvider {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind the fake provider"));
        let port = server.server_addr().to_ip().expect("an IP address").port();
        let fake = FakeProvider {
            url: format!("http://127.0.0.1:{port}"),
            kind,
            mode: Arc::new(Mutex::new(Mode::Accept)),
            record: Arc::new(Mutex::new(Record::default())),
            server: server.clone(),
        };
        let (mode, record) = (fake.mode.clone(), fake.record.clone());
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                let (mode, record) = (mode.clone(), record.clone());
                // One thread per request, so that a hanging reply holds up no other. The
                // mode is copied out first: a guard in the call's arguments would be held
                // for the whole answer, and a hanging one would hold up `set_mode`.
                std::thread::spawn(move || {
                    let mode = *mode.lock().unwrap();
                    answer(kind, request, mode, &record)
                });
            }
        });
        fake
    }

    /// The worker's variables that point it at this fake.
    fn worker_vars(&self) -> Vec<(&'static str, String)> {
        match self.kind {
            Kind::Aliyun => vec![
                ("SMS_PROVIDER", "aliyun".into()),
                ("ALIYUN_ACCESS_KEY_ID", ALIYUN_KEY_ID.into()),
                ("ALIYUN_ACCESS_KEY_SECRET", ALIYUN_KEY_SECRET.into()),
                ("ALIYUN_SMS_SIGN_NAME", "登录测试".into()),
                ("ALIYUN_SMS_TEMPLATE_CODE", "SMS_000000001".into()),
                ("ALIYUN_SMS_ENDPOINT", self.url.clone()),
            ],
            Kind::Twilio => vec![
                ("SMS_PROVIDER", "twilio".into()),
                ("TWILIO_ACCOUNT_SID", TWILIO_SID.into()),
                ("TWILIO_AUTH_TOKEN", TWILIO_TOKEN.into()),
                ("TWILIO_FROM", "+15005550006".into()),
                ("TWILIO_API_BASE", self.url.clone()),
            ],
            Kind::Tencent => vec![
                ("SMS_PROVIDER", "tencent".into()),
                ("TENCENT_SECRET_ID", TENCENT_ID.into()),
                ("TENCENT_SECRET_KEY", TENCENT_KEY.into()),
                ("TENCENT_SMS_SDK_APP_ID", "1400000001".into()),
                ("TENCENT_SMS_SIGN_NAME", "登录测试".into()),
                ("TENCENT_SMS_TEMPLATE_ID", "100001".into()),
                ("TENCENT_SMS_ENDPOINT", self.url.clone()),
            ],
        }
    }

    /// A worker on `state_dir` that sends through this fake, with codes kept secret (as
    /// in production: the tests read them from the messages), and `extra` vars.
    pub fn worker(&self, state_dir: &Path, extra: &[(&str, &str)]) -> TestWorker {
        worker_over(&[self], state_dir, extra)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn messages(&self) -> Vec<Message> {
        self.record.lock().unwrap().messages.clone()
    }

    /// A user registered with the code this provider received for a new phone: its
    /// account and phone.
    pub fn registered_user(&self, client: &crate::client::Client) -> (String, String) {
        use crate::support::{registration, unique_account, unique_phone, PASSWORD};
        let (account, phone) = (unique_account(), unique_phone());
        client.post("/login/send/sms", &serde_json::json!({ "phone": phone })).expect(200, 200);
        let code = self.codes_to(&phone, 1).pop().unwrap();
        client.post("/login/register", &registration(&account, PASSWORD, &phone, &code)).expect(200, 200);
        (account, phone)
    }

    /// The codes received for `phone`, once `expected` have come (and nothing more for a
    /// moment).
    pub fn codes_to(&self, phone: &str, expected: usize) -> Vec<String> {
        let to_phone = || self.messages().into_iter().filter(|m| m.to == phone).count();
        crate::support::settled_count(expected, to_phone);
        self.messages().into_iter().filter(|m| m.to == phone).map(|m| m.code).collect()
    }

    pub fn requests(&self) -> usize {
        self.record.lock().unwrap().requests
    }

    /// Requests whose authentication failed, with why; must stay empty.
    pub fn bad_signatures(&self) -> Vec<String> {
        self.record.lock().unwrap().bad_signatures.clone()
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

fn answer(kind: Kind, mut request: tiny_http::Request, mode: Mode, record: &Mutex<Record>) {
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    let headers: BTreeMap<String, String> = request
        .headers()
        .iter()
        .map(|h| (h.field.as_str().as_str().to_ascii_lowercase(), h.value.as_str().to_string()))
        .collect();
    let auth = headers.get("authorization").map(String::as_str);
    let (method, url) = (request.method().as_str(), request.url());
    let verdict = match kind {
        Kind::Aliyun => check_aliyun(method, url, &body, record),
        Kind::Twilio => check_twilio(method, url, auth, &body),
        Kind::Tencent => check_tencent(method, url, &headers, &body),
    };
    record.lock().unwrap().requests += 1;
    if let Mode::Hang(delay) = mode {
        std::thread::sleep(delay);
    }
    let (status, reply) = match (verdict, mode) {
        (Err(why), _) => {
            record.lock().unwrap().bad_signatures.push(why.clone());
            match kind {
                Kind::Aliyun => (400, format!(r#"{{"Code":"SignatureDoesNotMatch","Message":"{why}"}}"#)),
                Kind::Twilio => (401, r#"{"code":20003,"message":"Authenticate","status":401}"#.into()),
                Kind::Tencent => (
                    200,
                    format!(r#"{{"Response":{{"Error":{{"Code":"AuthFailure.SignatureFailure","Message":"{why}"}},"RequestId":"e2e"}}}}"#),
                ),
            }
        }
        (Ok(_), Mode::ServerError) => (500, "<html>upstream error</html>".into()),
        (Ok(_), Mode::Refuse) => match kind {
            Kind::Aliyun => {
                (200, r#"{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"触发分钟级流控"}"#.into())
            }
            Kind::Twilio => {
                (400, r#"{"code":21610,"message":"Attempt to send to unsubscribed recipient"}"#.into())
            }
            Kind::Tencent => (
                200,
                r#"{"Response":{"SendStatusSet":[{"Code":"LimitExceeded.PhoneNumberThirtySecondLimit","Message":"too often"}],"RequestId":"e2e"}}"#.into(),
            ),
        },
        (Ok(message), Mode::Accept | Mode::Hang(_)) => {
            record.lock().unwrap().messages.push(message);
            match kind {
                Kind::Aliyun => {
                    (200, r#"{"Code":"OK","Message":"OK","BizId":"900619746936498440^0"}"#.into())
                }
                Kind::Twilio => {
                    (201, r#"{"sid":"SM00000000000000000000000000000001","status":"queued"}"#.into())
                }
                Kind::Tencent => (
                    200,
                    r#"{"Response":{"SendStatusSet":[{"SerialNo":"2645:1","Fee":1,"Code":"Ok","Message":"send success"}],"RequestId":"e2e"}}"#.into(),
                ),
            }
        }
    };
    let response = tiny_http::Response::from_string(reply)
        .with_status_code(status)
        .with_header("Content-Type: application/json".parse::<tiny_http::Header>().expect("a header"));
    let _ = request.respond(response);
}

/// A worker on `state_dir` that sends through `fakes`, tried in their order
/// (`SMS_PROVIDER=aliyun,tencent`), with codes kept secret and `extra` vars.
pub fn worker_over(fakes: &[&FakeProvider], state_dir: &Path, extra: &[(&str, &str)]) -> TestWorker {
    let mut vars: Vec<(&str, String)> = fakes.iter().flat_map(|fake| fake.worker_vars()).collect();
    let names: Vec<String> =
        vars.iter().filter(|(name, _)| *name == "SMS_PROVIDER").map(|(_, value)| value.clone()).collect();
    vars.retain(|(name, _)| *name != "SMS_PROVIDER");
    vars.push(("SMS_PROVIDER", names.join(",")));
    vars.push(("EXPOSE_SMS_CODE", "false".into()));
    vars.extend(extra.iter().map(|(name, value)| (*name, value.to_string())));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(name, value)| (*name, value.as_str())).collect();
    TestWorker::start_with(state_dir, &vars)
}

/// `application/x-www-form-urlencoded` decoding.
fn form_decode(body: &str) -> BTreeMap<String, String> {
    let decode = |text: &str| {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap_or(b'?'));
                    i += 2;
                }
                other => out.push(other),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// Alibaba Cloud's percent-encoding for signatures: RFC 3986 unreserved characters stay.
fn aliyun_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Checks a `SendSms` call as Dysmsapi would: parameters, signature version 1.0, nonce.
fn check_aliyun(method: &str, url: &str, body: &str, record: &Mutex<Record>) -> Result<Message, String> {
    if method != "POST" || url != "/" {
        return Err(format!("{method} {url}"));
    }
    let params = form_decode(body);
    let get = |name: &str| params.get(name).cloned().ok_or_else(|| format!("{name} missing"));
    for (name, expected) in [
        ("Action", "SendSms"),
        ("Version", "2017-05-25"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("AccessKeyId", ALIYUN_KEY_ID),
        ("Format", "JSON"),
    ] {
        if get(name)? != expected {
            return Err(format!("{name} is not {expected}"));
        }
    }
    let canonical = params
        .iter()
        .filter(|(name, _)| name.as_str() != "Signature")
        .map(|(name, value)| format!("{}={}", aliyun_encode(name), aliyun_encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    let string_to_sign = format!("POST&{}&{}", aliyun_encode("/"), aliyun_encode(&canonical));
    let mut mac = Hmac::<Sha1>::new_from_slice(format!("{ALIYUN_KEY_SECRET}&").as_bytes()).unwrap();
    mac.update(string_to_sign.as_bytes());
    if Base64::encode_string(&mac.finalize().into_bytes()) != get("Signature")? {
        return Err("SignatureDoesNotMatch".into());
    }
    if !record.lock().unwrap().nonces.insert(get("SignatureNonce")?) {
        return Err("SignatureNonceUsed".into());
    }
    let timestamp = chrono::DateTime::parse_from_rfc3339(&get("Timestamp")?).map_err(|e| e.to_string())?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    if (now - timestamp.timestamp()).abs() > 15 * 60 {
        return Err("the Timestamp is off by more than 15 minutes".into());
    }
    let template: serde_json::Value =
        serde_json::from_str(&get("TemplateParam")?).map_err(|e| e.to_string())?;
    let code = template["code"].as_str().ok_or("TemplateParam has no code")?.to_string();
    Ok(Message { to: get("PhoneNumbers")?, code })
}

/// Checks a Messages API call as Twilio would: the path, HTTP Basic, the form fields.
fn check_twilio(method: &str, url: &str, auth: Option<&str>, body: &str) -> Result<Message, String> {
    if method != "POST" || url != format!("/2010-04-01/Accounts/{TWILIO_SID}/Messages.json") {
        return Err(format!("{method} {url}"));
    }
    let expected =
        format!("Basic {}", Base64::encode_string(format!("{TWILIO_SID}:{TWILIO_TOKEN}").as_bytes()));
    if auth != Some(expected.as_str()) {
        return Err(format!("Authorization {auth:?}"));
    }
    let params = form_decode(body);
    if params.get("From").map(String::as_str) != Some("+15005550006") {
        return Err("From missing".into());
    }
    let text = params.get("Body").ok_or("Body missing")?;
    let code: String = text.chars().filter(char::is_ascii_digit).collect();
    Ok(Message { to: params.get("To").ok_or("To missing")?.clone(), code })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn hmac_sha256(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Checks a `SendSms` call as Tencent Cloud's API 3.0 would: the action and version, and
/// the TC3-HMAC-SHA256 signature over content-type and host, recomputed from the request
/// as it arrived (its timestamp within 5 minutes).
fn check_tencent(
    method: &str,
    url: &str,
    headers: &BTreeMap<String, String>,
    body: &str,
) -> Result<Message, String> {
    if method != "POST" || url != "/" {
        return Err(format!("{method} {url}"));
    }
    let get = |name: &str| headers.get(name).cloned().ok_or_else(|| format!("{name} missing"));
    for (name, expected) in
        [("x-tc-action", "SendSms"), ("x-tc-version", "2021-01-11"), ("x-tc-region", "ap-guangzhou")]
    {
        if get(name)? != expected {
            return Err(format!("{name} is not {expected}"));
        }
    }
    let timestamp: i64 = get("x-tc-timestamp")?.parse().map_err(|_| "X-TC-Timestamp is no number")?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    if (now - timestamp).abs() > 5 * 60 {
        return Err("the X-TC-Timestamp is off by more than 5 minutes".into());
    }
    let date = chrono::DateTime::from_timestamp(timestamp, 0).unwrap().format("%Y-%m-%d").to_string();
    let canonical = format!(
        "POST\n/\n\ncontent-type:{}\nhost:{}\n\ncontent-type;host\n{}",
        get("content-type")?,
        get("host")?,
        hex(&Sha256::digest(body.as_bytes()))
    );
    let scope = format!("{date}/sms/tc3_request");
    let string_to_sign =
        format!("TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
    let key = hmac_sha256(
        &hmac_sha256(&hmac_sha256(format!("TC3{TENCENT_KEY}").as_bytes(), &date), "sms"),
        "tc3_request",
    );
    let expected = format!(
        "TC3-HMAC-SHA256 Credential={TENCENT_ID}/{scope}, SignedHeaders=content-type;host, Signature={}",
        hex(&hmac_sha256(&key, &string_to_sign))
    );
    if get("authorization")? != expected {
        return Err("the signature does not match".into());
    }
    let request: serde_json::Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    if request["SmsSdkAppId"] != "1400000001" || request["TemplateId"] != "100001" {
        return Err(format!("not the app's template: {body}"));
    }
    let to = request["PhoneNumberSet"][0].as_str().ok_or("PhoneNumberSet missing")?.to_string();
    let code = request["TemplateParamSet"][0].as_str().ok_or("TemplateParamSet missing")?.to_string();
    Ok(Message { to, code })
}

/// Sends a `purpose` code to `registered` and to `nobody` (a phone without a user), twice:
/// each time both answers, status, headers that matter and body, are alike (a send, then
/// 50017 while the code, or the decoy, lives).
pub fn sends_answer_alike(client: &crate::client::Client, purpose: &str, registered: &str, nobody: &str) {
    let send = |phone: &str| {
        client.post("/login/send/sms", &serde_json::json!({ "phone": phone, "purpose": purpose }))
    };
    for expected in [(200, 200), (50017, 429)] {
        let (to_user, to_nobody) = (send(registered), send(nobody));
        to_user.expect(expected.0, expected.1);
        assert_eq!((to_user.status, &to_user.text), (to_nobody.status, &to_nobody.text), "{purpose}");
        assert_eq!(to_user.header("retry-after"), to_nobody.header("retry-after"), "{purpose}");
    }
}
