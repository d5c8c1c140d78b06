//! Steps many tests share: fresh phones and accounts, getting a code, registering,
//! logging in.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::{json, Value};

use crate::client::{Client, Reply};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A number no other test in this run uses.
pub fn unique_number() -> u64 {
    let seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64;
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| seed % 100_000_000);
    start + NEXT.fetch_add(1, Ordering::SeqCst)
}

/// A mainland mobile number, `13xxxxxxxxx`, unused in this run.
pub fn unique_phone() -> String {
    format!("13{:09}", unique_number() % 1_000_000_000)
}

pub fn unique_account() -> String {
    format!("user_{}", unique_number())
}

pub const PASSWORD: &str = "secret_123";

/// `POST`s JSON with a `cf-ray` header of its own, which the worker logs as the
/// request's `request_id`. Returns the reply and what that request's log line contains,
/// for `TestWorker::wait_for_log_line`: on the shared worker every test's requests log,
/// so only this finds the line of exactly this request. Once it is there, so is what the
/// worker printed before it, for this request and this test's earlier ones (its output
/// reaches the log in order).
pub fn post_marked(client: &Client, path: &str, body: &Value) -> (Reply, String) {
    let id = format!("e2e-{}", unique_number());
    let headers = [("Content-Type", "application/json"), ("cf-ray", id.as_str())];
    let reply = client.request("POST", path, &headers, Some(body.to_string().as_bytes()));
    (reply, format!(r#""request_id":"{id}""#))
}

/// How long a count that has reached what a test expects must stay there: long enough
/// for a late extra (a second message, say) to show.
const SETTLE: Duration = Duration::from_millis(500);

/// Polls `count` until it reaches `expected` (for up to 10 s), waits `SETTLE` more and
/// returns the count then. A test asserts it equals `expected`: too few is what never
/// came, too many is an extra that came late, and either fails.
pub fn settled_count(expected: usize, count: impl Fn() -> usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    while count() < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(SETTLE);
    count()
}

/// Sends a code to `phone` and returns it (the dev settings expose it).
pub fn send_code(client: &Client, phone: &str) -> String {
    exposed_code(client.post("/login/send/sms", &json!({ "phone": phone })))
}

/// Sends a code for `purpose` to `phone` and returns it (the dev settings expose a real one).
pub fn send_code_for(client: &Client, phone: &str, purpose: &str) -> String {
    exposed_code(client.post("/login/send/sms", &json!({ "phone": phone, "purpose": purpose })))
}

fn exposed_code(sent: Reply) -> String {
    sent.expect(200, 200);
    sent.data()["code"].as_str().expect("the dev settings expose a real code").to_string()
}

pub fn registration(account: &str, password: &str, phone: &str, code: &str) -> Value {
    json!({"account": account, "password": password, "password_confirmation": password, "phone": phone, "code": code})
}

/// Registers a new user with a new phone; returns (account, phone).
pub fn new_user(client: &Client) -> (String, String) {
    let (account, phone) = (unique_account(), unique_phone());
    let code = send_code(client, &phone);
    client.post("/login/register", &registration(&account, PASSWORD, &phone, &code)).expect(200, 200);
    (account, phone)
}

/// Logs in; returns (jwt, refresh_jwt).
pub fn log_in(client: &Client, account: &str, pwd: &str) -> (String, String) {
    let reply = client.post("/login/jwt/get", &json!({ "account": account, "pwd": pwd }));
    reply.expect(200, 200);
    let data = reply.data();
    (data["jwt"].as_str().unwrap().to_string(), data["refresh_jwt"].as_str().unwrap().to_string())
}

/// A login from the address `ip`.
pub fn log_in_from(client: &Client, account: &str, pwd: &str, ip: &str) -> Reply {
    client.post_with(
        "/login/jwt/get",
        &json!({ "account": account, "pwd": pwd }),
        &[("CF-Connecting-IP", ip)],
    )
}

/// A new user's tokens.
pub fn new_session(client: &Client) -> (String, String) {
    let (account, _) = new_user(client);
    log_in(client, &account, PASSWORD)
}

/// The JSON of a token's header (0) or payload (1).
pub fn token_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("three parts");
    serde_json::from_slice(&Base64UrlUnpadded::decode_vec(part).expect("base64url")).expect("JSON")
}

pub fn b64(json: &Value) -> String {
    Base64UrlUnpadded::encode_string(json.to_string().as_bytes())
}

/// The JSON object in a log line. wrangler prints `console.log` lines as they are, and
/// warnings and errors inside a coloured `[WARNING]` or `[ERROR]` frame.
pub fn json_in_log_line(line: &str) -> Value {
    let object = line.find('{').zip(line.rfind('}')).map(|(start, end)| &line[start..=end]);
    object.and_then(|text| serde_json::from_str(text).ok()).unwrap_or_else(|| panic!("no JSON in {line:?}"))
}
