//! Turnstile before a code is sent: a fake siteverify on loopback, which checks the
//! secret and the client's address as Cloudflare's does, knows good, bad and used tokens,
//! and can answer nonsense or hang.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::client::Client;
use crate::support::*;
use crate::worker::{fresh_state_dir, TestWorker};
use crate::OwnTest;

pub const OWN_TESTS: &[OwnTest] = tests![a_code_is_sent_only_for_a_token_siteverify_accepts];

const SECRET: &str = "0x4AAAAAAA-e2e-turnstile-secret";
const CLIENT: &str = "203.0.113.77";

#[derive(Default)]
struct Record {
    checks: usize,
    used: HashSet<String>,
    wrong: Vec<String>,
}

/// Tokens: `good-…` passes once (again: `timeout-or-duplicate`), `hang` answers after
/// 10 s, `nonsense` gets HTML, anything else `invalid-input-response`.
struct FakeSiteverify {
    url: String,
    record: Arc<Mutex<Record>>,
}

impl FakeSiteverify {
    fn start() -> FakeSiteverify {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind the fake siteverify");
        let port = server.server_addr().to_ip().expect("an IP address").port();
        let record = Arc::new(Mutex::new(Record::default()));
        let shared = record.clone();
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                let record = shared.clone();
                std::thread::spawn(move || answer(request, &record));
            }
        });
        FakeSiteverify { url: format!("http://127.0.0.1:{port}/turnstile/v0/siteverify"), record }
    }

    fn checks(&self) -> usize {
        self.record.lock().unwrap().checks
    }
}

fn answer(mut request: tiny_http::Request, record: &Mutex<Record>) {
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    let form: Vec<(String, String)> = url_form(&body);
    let field = |name: &str| form.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
    let token = field("response").unwrap_or_default();
    let reply = {
        let mut record = record.lock().unwrap();
        record.checks += 1;
        if field("secret").as_deref() != Some(SECRET) {
            record.wrong.push(format!("secret {:?}", field("secret")));
        }
        if field("remoteip").as_deref() != Some(CLIENT) {
            record.wrong.push(format!("remoteip {:?}", field("remoteip")));
        }
        if field("idempotency_key").is_none_or(|key| key.is_empty()) {
            record.wrong.push("no idempotency_key".into());
        }
        if token.starts_with("good-") {
            if record.used.insert(token.clone()) {
                Some(json!({"success": true, "error-codes": []}).to_string())
            } else {
                Some(json!({"success": false, "error-codes": ["timeout-or-duplicate"]}).to_string())
            }
        } else if token == "hang" || token == "nonsense" {
            None
        } else {
            Some(json!({"success": false, "error-codes": ["invalid-input-response"]}).to_string())
        }
    };
    let reply = match (reply, token.as_str()) {
        (Some(json), _) => json,
        (None, "hang") => {
            std::thread::sleep(Duration::from_secs(10));
            json!({"success": true}).to_string()
        }
        _ => "<html>502 Bad Gateway</html>".into(),
    };
    let _ = request.respond(tiny_http::Response::from_string(reply));
}

fn url_form(body: &str) -> Vec<(String, String)> {
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(&text.replace('+', " ")).decode_utf8_lossy().into_owned()
    };
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (decode(key), decode(value)))
        .collect()
}

fn send(client: &Client, phone: &str, token: Option<&str>, header: Option<&str>) -> crate::client::Reply {
    let mut body = json!({ "phone": phone });
    if let Some(token) = token {
        body["turnstile_token"] = json!(token);
    }
    let mut headers = vec![("Content-Type", "application/json"), ("CF-Connecting-IP", CLIENT)];
    if let Some(token) = header {
        headers.push(("CF-Turnstile-Response", token));
    }
    client.request("POST", "/login/send/sms", &headers, Some(body.to_string().as_bytes()))
}

/// Every answer of the issue: missing 9906/422, refused (invalid or reused) 9906/403,
/// siteverify hanging or answering nonsense 9999 within about 3 s, a good token (in the
/// body or the header) sends; and a refused send reaches neither the provider nor any
/// counter (two sends an hour for the address, one code a day for the phone).
fn a_code_is_sent_only_for_a_token_siteverify_accepts() {
    let siteverify = FakeSiteverify::start();
    let vars = [
        ("TURNSTILE_SECRET_KEY", SECRET),
        ("TURNSTILE_VERIFY_URL", siteverify.url.as_str()),
        ("TURNSTILE_SITE_KEY", "0x4AAAAAAA-e2e-site-key"),
        ("SMS_HOURLY_LIMIT_PER_IP", "2"),
        ("SMS_DAILY_LIMIT_PER_PHONE", "1"),
    ];
    let worker = TestWorker::start_with(&fresh_state_dir(), &vars);
    let client = worker.client();
    let phone = unique_phone();

    let missing = send(&client, &phone, None, None);
    missing.expect(9906, 422);
    assert!(missing.msg().ends_with("turnstile_token 必填"), "{}", missing.msg());
    assert_eq!(siteverify.checks(), 0, "a missing token is not worth a check");
    let refused = |token: &str| {
        let reply = send(&client, &phone, Some(token), None);
        reply.expect(9906, 403);
        assert!(reply.msg().ends_with("turnstile_token 人机验证失败"), "{token}: {}", reply.msg());
    };
    refused("bad-token");
    // The phone's one code of the day is still there after the refusal.
    send(&client, &phone, Some("good-1"), None).expect(200, 200);
    refused("good-1");
    // Siteverify failing: no code, and nothing counted; the address has one send left.
    let other = unique_phone();
    for token in ["hang", "nonsense"] {
        let started = Instant::now();
        let failed = send(&client, &other, Some(token), None);
        failed.expect(9999, 500);
        assert!(started.elapsed() < Duration::from_secs(8), "{token}: waited {:?}", started.elapsed());
    }
    let line = worker.wait_for_log_line("check a Turnstile token");
    assert!(line.contains("\"internal_error\""), "{line}");
    send(&client, &other, None, Some("good-2")).expect(200, 200);
    send(&client, &unique_phone(), Some("good-3"), None).expect(9905, 429);
    let record = siteverify.record.lock().unwrap();
    assert!(record.wrong.is_empty(), "siteverify was asked wrongly: {:?}", record.wrong);
    drop(record);
    // Only the two good tokens reached the provider (the console provider logs each).
    let sent = worker.log().lines().filter(|line| line.contains("[sms console] to ")).count();
    assert_eq!(sent, 2, "{}", worker.log());

    // The demo page gets the site key and may load Turnstile's script and frame.
    let page = client.request("GET", "/", &[], None);
    assert!(page.text.contains(r#"<meta name="turnstile-site-key" content="0x4AAAAAAA-e2e-site-key">"#));
    let csp = page.header("content-security-policy").unwrap_or_default().to_string();
    assert!(csp.contains("script-src 'self' https://challenges.cloudflare.com"), "{csp}");
    assert!(csp.contains("frame-src https://challenges.cloudflare.com"), "{csp}");
}
