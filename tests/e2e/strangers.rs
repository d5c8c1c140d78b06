//! What a stranger on the open internet must not be able to do: get around the
//! per-address limits with other spellings of an address, make visitors' browsers act
//! from a page of another origin, or make more phones out of one.

use serde_json::json;

use std::time::{Duration, Instant};

use crate::fake_provider::{FakeProvider, Kind, Mode};
use crate::support::*;
use crate::worker::{fresh_state_dir, TestWorker, TEST_JWT_SECRET};
use crate::{OwnTest, SharedTest};

pub const SHARED_TESTS: &[SharedTest] = tests![
    a_plus_86_number_must_be_a_mobile_number,
    a_body_with_a_duplicate_key_is_refused,
    signed_tokens_the_worker_would_not_issue_are_9908,
    every_route_answers_a_method_it_does_not_take_with_9903_and_its_allow,
    the_demo_page_cannot_be_framed_and_runs_nothing_inline,
    a_body_that_never_arrives_is_given_up_on,
];

/// On the worker with the per-address limits as shipped (`main::LIMITS`).
pub const LIMITS_TESTS: &[SharedTest] = tests![
    spellings_of_one_address_and_hosts_of_one_ipv6_64_share_one_limit,
    a_request_from_an_origin_not_allowed_has_no_effect,
    failed_logins_lock_out_their_address_and_only_many_addresses_lock_the_account,
    an_address_gets_thirty_code_attempts_an_hour,
    a_strangers_guesses_cannot_kill_the_owners_code,
    an_answer_that_needs_no_body_does_not_wait_for_one,
];

pub const OWN_TESTS: &[OwnTest] = tests![a_send_cut_off_by_a_crash_frees_the_phone_after_its_lease];

/// The default 20 sends an hour per address: other spellings of an address, and other
/// hosts of its IPv6 /64, are the same address.
fn spellings_of_one_address_and_hosts_of_one_ipv6_64_share_one_limit(worker: &TestWorker) {
    let client = worker.client();
    let send = |ip: &str| {
        client.post_with("/login/send/sms", &json!({ "phone": unique_phone() }), &[("CF-Connecting-IP", ip)])
    };
    let one_64 =
        ["2001:db8:1:2::1", "2001:DB8:1:2:0:0:0:1", "2001:0db8:0001:0002::5", "2001:db8:1:2:ffff:1:2:3"];
    for i in 0..20 {
        send(one_64[i % one_64.len()]).expect(200, 200);
    }
    send("2001:db8:1:2:abcd::9").expect(9905, 429);
    send("2001:db8:1:3::1").expect(200, 200);

    let four = ["203.0.113.9", "::ffff:203.0.113.9", "::FFFF:cb00:7109", "0:0:0:0:0:ffff:203.0.113.9"];
    for i in 0..20 {
        send(four[i % four.len()]).expect(200, 200);
    }
    send("203.0.113.9").expect(9905, 429);
    send("::ffff:cb00:710a").expect(200, 200);
}

/// A page of another origin can make its visitors' browsers POST "simple" requests
/// (text/plain, no preflight); the browser only hides the answer. They must do nothing.
fn a_request_from_an_origin_not_allowed_has_no_effect(worker: &TestWorker) {
    let client = worker.client();
    let simple = |origin: &str, path: &str, body: &serde_json::Value| {
        let headers = [("Content-Type", "text/plain"), ("Origin", origin)];
        client.request("POST", path, &headers, Some(body.to_string().as_bytes()))
    };
    let (account, account_phone) = new_user(&client);
    for origin in ["https://evil.example", "null", "https://app.example.evil.example"] {
        let phone = unique_phone();
        let refused = simple(origin, "/login/send/sms", &json!({ "phone": phone }));
        refused.expect(9907, 403);
        assert_eq!(refused.header("vary"), Some("Origin"), "{origin}");
        assert_eq!(refused.header("access-control-allow-origin"), None, "{origin}");
        // Nothing was sent or kept: the phone gets its code at once.
        simple("https://app.example", "/login/send/sms", &json!({ "phone": phone })).expect(200, 200);
        assert!(sent_once(worker, &phone), "one message to {phone}, the allowed one");
    }
    // Ten failed logins from pages of other origins lock nobody out.
    for _ in 0..10 {
        simple("https://evil.example", "/login/jwt/get", &json!({ "account": account, "pwd": "wrong_pw" }))
            .expect(9907, 403);
    }
    let allowed =
        simple("https://app.example", "/login/jwt/get", &json!({ "account": account, "pwd": PASSWORD }));
    allowed.expect(200, 200);
    assert_eq!(allowed.header("access-control-allow-origin"), Some("https://app.example"));
    assert_eq!(allowed.header("vary"), Some("Origin"));
    // Without Origin (curl, a server): as before, and the answer still varies by Origin.
    let plain = client.post("/login/jwt/get", &json!({ "account": account, "pwd": PASSWORD }));
    plain.expect(200, 200);
    assert_eq!(plain.header("vary"), Some("Origin"));
    let unknown = client.request("GET", "/nowhere", &[("Origin", "https://evil.example")], None);
    unknown.expect(9902, 404);
    assert_eq!(unknown.header("vary"), Some("Origin"));
    let preflight = client.request("OPTIONS", "/login/send/sms", &[("Origin", "https://evil.example")], None);
    assert_eq!((preflight.status, preflight.header("vary")), (204, Some("Origin")));
    assert_eq!(preflight.header("access-control-allow-origin"), None);
    // Any spelling of an endpoint's path, and every endpoint.
    simple("https://evil.example", "/LOGIN/send/SMS", &json!({ "phone": unique_phone() })).expect(9907, 403);
    for path in ["/login/register", "/login/password/reset", "/login/password/change", "/login/jwt/status"] {
        simple("https://evil.example", path, &json!({})).expect(9907, 403);
    }
    // A code sign-in from another origin neither uses the code nor counts a guess.
    let send = json!({ "phone": account_phone, "purpose": "login" });
    let sent = client.post_with("/login/send/sms", &send, &[("CF-Connecting-IP", "203.0.113.73")]);
    sent.expect(200, 200);
    let sign_in = json!({ "phone": account_phone, "code": sent.data()["code"] });
    simple("https://evil.example", "/login/jwt/sms", &sign_in).expect(9907, 403);
    simple("https://app.example", "/login/jwt/sms", &sign_in).expect(200, 200);
    // A page of the worker's own origin (the demo page) is no cross-site request.
    let own = worker.base_url.clone();
    simple(&own, "/login/jwt/get", &json!({ "account": account, "pwd": PASSWORD })).expect(200, 200);
}

/// Exactly one message went to `phone` (the console provider logs each).
fn sent_once(worker: &TestWorker, phone: &str) -> bool {
    let to_phone = format!("to +86{phone}:");
    settled_count(1, || worker.log().lines().filter(|line| line.contains(&to_phone)).count()) == 1
}

fn a_plus_86_number_must_be_a_mobile_number(worker: &TestWorker) {
    let client = worker.client();
    for phone in ["+86013368822062", "+860013368822062", "+86133688220620", "+8613368822"] {
        let reply = client.post("/login/send/sms", &json!({ "phone": phone }));
        reply.expect(9906, 422);
        assert!(reply.msg().ends_with("phone 非法"), "{phone}: {}", reply.msg());
    }
    client.post("/login/send/sms", &json!({ "phone": format!("+86{}", unique_phone()) })).expect(200, 200);
}

fn a_body_with_a_duplicate_key_is_refused(worker: &TestWorker) {
    let client = worker.client();
    let (account, _) = new_user(&client);
    let body = format!(r#"{{"account":"{account}","pwd":"wrong_pw","pwd":"{PASSWORD}"}}"#);
    let refused = client.post_raw("/login/jwt/get", body.as_bytes());
    refused.expect(9906, 400);
    assert!(refused.msg().contains("pwd"), "{}", refused.msg());
    log_in(&client, &account, PASSWORD);
}

/// A token of this header and payload, signed with the test workers' HS256 secret.
fn signed(header: &serde_json::Value, payload: &serde_json::Value) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    use hmac::{Hmac, Mac};
    let signing_input = format!("{}.{}", b64(header), b64(payload));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(TEST_JWT_SECRET.as_bytes()).unwrap();
    mac.update(signing_input.as_bytes());
    format!("{signing_input}.{}", Base64UrlUnpadded::encode_string(&mac.finalize().into_bytes()))
}

/// Tokens signed with the right key that this worker never issues: a `crit` extension,
/// an `iat` in the future, ids longer than its own, and (from an earlier version) a token
/// without `epoch` or `iat_ms` made in the second of a log-out everywhere. Each is 9908,
/// never a 9999 or a success.
fn signed_tokens_the_worker_would_not_issue_are_9908(worker: &TestWorker) {
    let client = worker.client();
    let (account, _) = new_user(&client);
    let (jwt, _) = log_in(&client, &account, PASSWORD);
    let (header, genuine) = (token_part(&jwt, 0), token_part(&jwt, 1));
    let status = |token: &str| client.post("/login/jwt/status", &json!({ "jwt": token }));
    status(&signed(&header, &genuine)).expect(200, 200);

    let mut critical = header.clone();
    critical["crit"] = json!(["exp"]);
    status(&signed(&critical, &genuine)).expect(9908, 401);
    let iat = genuine["iat"].as_u64().unwrap();
    let changed = |claim: &str, value: serde_json::Value| {
        let mut payload = genuine.clone();
        payload[claim] = value;
        signed(&header, &payload)
    };
    status(&changed("iat", json!(iat + 3_600))).expect(9908, 401);
    status(&changed("sid", json!("s".repeat(600)))).expect(9908, 401);
    status(&changed("jti", json!("j".repeat(600)))).expect(9908, 401);
    status(&changed("iat_ms", json!(u64::MAX))).expect(9908, 401);

    // Logged out everywhere: a token of the same second without milliseconds is over.
    client.post("/login/jwt/deactivate", &json!({ "jwt": jwt, "scope": "all" })).expect(200, 200);
    let uid = genuine["data"]["uid"].as_u64().unwrap();
    let read_cutoff = || {
        let rows = worker.query(&format!("SELECT not_before_ms FROM session_cutoffs WHERE user_id = {uid}"));
        rows[0]["not_before_ms"].as_u64().unwrap()
    };
    let mut cutoff = read_cutoff();
    // A cutoff on a whole second leaves no earlier moment in that second: end the
    // sessions once more.
    while cutoff % 1000 == 0 {
        let (again, _) = log_in(&client, &account, PASSWORD);
        client.post("/login/jwt/deactivate", &json!({ "jwt": again, "scope": "all" })).expect(200, 200);
        cutoff = read_cutoff();
    }
    let mut legacy = genuine.clone();
    let object = legacy.as_object_mut().unwrap();
    object.remove("epoch");
    object.insert("iat".into(), json!(cutoff / 1000));
    object.insert("nbf".into(), json!(cutoff / 1000));
    status(&signed(&header, &legacy)).expect(9908, 401);
}

/// workerd killed while a send waits for the provider: the phone is free again once the
/// send's lease (the provider timeout, 3 s here, and 3 s more) is over, not after a
/// code's 5 minutes, and the lost send spent none of the phone's codes for the day
/// (here 1).
fn a_send_cut_off_by_a_crash_frees_the_phone_after_its_lease() {
    let fake = FakeProvider::start(Kind::Aliyun);
    let vars = [("SMS_PROVIDER_TIMEOUT_MS", "3000"), ("SMS_DAILY_LIMIT_PER_PHONE", "1")];
    let state = fresh_state_dir();
    let first = fake.worker(&state, &vars);
    let phone = unique_phone();
    fake.set_mode(Mode::Hang(Duration::from_secs(30)));
    let url = format!("{}/login/send/sms", first.base_url);
    let body = json!({ "phone": phone }).to_string();
    // Its connection dies with the worker: whatever comes of it is no answer.
    let cut_off = std::thread::spawn(move || {
        let _ = ureq::post(&url).set("Content-Type", "application/json").send_string(&body);
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.requests() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(fake.requests(), 1, "the send reached the provider");
    let killed_at = Instant::now();
    first.stop();
    let _ = cut_off.join();
    fake.set_mode(Mode::Accept);

    let second = fake.worker(&state, &vars);

    let client = second.client();
    let freed = loop {
        let reply = client.post("/login/send/sms", &json!({ "phone": phone }));
        if reply.code() != 50017 || killed_at.elapsed() > Duration::from_secs(20) {
            break reply;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    freed.expect(200, 200);
    assert!(killed_at.elapsed() < Duration::from_secs(20), "freed after {:?}", killed_at.elapsed());
}

/// A stranger's failures lock out the stranger's address (10), not the owner's; failures
/// from many addresses lock the account everywhere at the cap over all of them (15 here,
/// 100 by default), and a reset by the owner opens it again.
fn failed_logins_lock_out_their_address_and_only_many_addresses_lock_the_account(worker: &TestWorker) {
    let client = worker.client();
    let (account, phone) = new_user(&client);
    let (stranger, home) = ("198.51.100.66", "203.0.113.1");
    for _ in 0..10 {
        log_in_from(&client, &account, "wrong_pw", stranger).expect(50006, 401);
    }
    log_in_from(&client, &account, "wrong_pw", stranger).expect(9905, 429);
    log_in_from(&client, &account, PASSWORD, stranger).expect(9905, 429);
    // The owner at home is not locked out; that success clears the account's count over
    // all addresses, but not the stranger's own.
    log_in_from(&client, &account, PASSWORD, home).expect(200, 200);
    log_in_from(&client, &account, PASSWORD, stranger).expect(9905, 429);

    // Fifteen more from two other addresses: the account's 15 are reached, everywhere.
    for i in 0..15 {
        log_in_from(&client, &account, "wrong_pw", &format!("198.51.100.{}", 70 + i / 10)).expect(50006, 401);
    }
    log_in_from(&client, &account, PASSWORD, home).expect(9905, 429);
    // The owner resets from home: both the account's count and home's are cleared.
    let code = {
        let reply = client.post_with(
            "/login/send/sms",
            &json!({ "phone": phone, "purpose": "reset" }),
            &[("CF-Connecting-IP", "203.0.113.1")],
        );
        reply.expect(200, 200);
        reply.data()["code"].as_str().unwrap().to_string()
    };
    let reset = json!({ "phone": phone, "code": code, "password": "new_pass_1", "password_confirmation": "new_pass_1" });
    client
        .post_with("/login/password/reset", &reset, &[("CF-Connecting-IP", "203.0.113.1")])
        .expect(200, 200);
    log_in_from(&client, &account, "new_pass_1", "203.0.113.1").expect(200, 200);
    // The stranger's own address stays locked out for its 15 minutes.
    log_in_from(&client, &account, "new_pass_1", stranger).expect(9905, 429);
}

/// Registrations and resets each try a code: 30 an hour from one address, right or
/// wrong, so that one address can neither guess at codes at speed (docs/performance.md,
/// "Code guesses") nor ask at speed which account names are taken.
fn an_address_gets_thirty_code_attempts_an_hour(worker: &TestWorker) {
    let client = worker.client();
    let from = |ip: &str, path: &str, body: serde_json::Value| {
        client.post_with(path, &body, &[("CF-Connecting-IP", ip)])
    };
    let guesser = "198.51.100.99";
    for i in 0..30 {
        let phone = unique_phone();
        let reply = if i % 2 == 0 {
            from(guesser, "/login/register", registration(&unique_account(), PASSWORD, &phone, "000000"))
        } else {
            from(
                guesser,
                "/login/password/reset",
                json!({"phone": phone, "code": "000000", "password": PASSWORD, "password_confirmation": PASSWORD}),
            )
        };
        reply.expect(50001, 400);
    }
    let limited = from(
        guesser,
        "/login/register",
        registration(&unique_account(), PASSWORD, &unique_phone(), "000000"),
    );
    limited.expect(9905, 429);
    assert!(limited.header("retry-after").is_some());
    from(
        "198.51.100.100",
        "/login/register",
        registration(&unique_account(), PASSWORD, &unique_phone(), "000000"),
    )
    .expect(50001, 400);
}

/// Five wrong guesses from a stranger's address leave the code to the owner; twenty from
/// four addresses kill it everywhere.
fn a_strangers_guesses_cannot_kill_the_owners_code(worker: &TestWorker) {
    let client = worker.client();
    let from = |ip: &str, body: serde_json::Value| {
        client.post_with("/login/register", &body, &[("CF-Connecting-IP", ip)])
    };
    let phone = unique_phone();
    let code = send_code(&client, &phone);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..5 {
        from("198.51.100.1", registration(&unique_account(), PASSWORD, &phone, wrong)).expect(50001, 400);
    }
    from("198.51.100.1", registration(&unique_account(), PASSWORD, &phone, &code)).expect(50001, 400);
    from("203.0.113.1", registration(&unique_account(), PASSWORD, &phone, &code)).expect(200, 200);

    let phone = unique_phone();
    let code = send_code(&client, &phone);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for i in 0..20 {
        let stranger = format!("198.51.100.{}", 10 + i / 5);
        from(&stranger, registration(&unique_account(), PASSWORD, &phone, wrong)).expect(50001, 400);
    }
    from("203.0.113.1", registration(&unique_account(), PASSWORD, &phone, &code)).expect(50001, 400);
}

/// Whatever the method is called (an unknown one such as `QUERY` was read as GET; a
/// lower-case `get` the runtime itself refuses with 501, before the worker), and on
/// every route, the static files' included: 9903 in the envelope, and an `Allow` that
/// names what the route takes.
fn every_route_answers_a_method_it_does_not_take_with_9903_and_its_allow(worker: &TestWorker) {
    let client = worker.client();
    let cases = [
        ("POST", "/healthz", "GET, HEAD"),
        ("QUERY", "/healthz", "GET, HEAD"),
        ("OPTIONS", "/healthz", "GET, HEAD"),
        ("TRACE", "/.well-known/jwks.json", "GET, HEAD"),
        ("POST", "/.well-known/jwks.json", "GET, HEAD"),
        ("POST", "/", "GET, HEAD"),
        ("DELETE", "/", "GET, HEAD"),
        ("PUT", "/index.html", "GET, HEAD"),
        ("POST", "/openapi.json", "GET, HEAD"),
        ("QUERY", "/login/jwt/get", "POST, OPTIONS"),
        ("HEAD", "/login/jwt/status", "POST, OPTIONS"),
    ];
    for (method, path, allow) in cases {
        let reply = client.request(method, path, &[], Some(b"{}"));
        assert_eq!(reply.status, 405, "{method} {path}: {}", reply.text);
        if method != "HEAD" {
            reply.expect(9903, 405);
        }
        assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
    }
    // What they do take still works.
    assert_eq!(client.request("HEAD", "/healthz", &[], None).status, 200);
    assert_eq!(client.request("GET", "/openapi.json", &[], None).status, 200);
    assert_eq!(client.request("HEAD", "/.well-known/jwks.json", &[], None).status, 200);
}

/// The page takes passwords: it must not be framed by another site, run inline code (an
/// injection's way in), or post anywhere but to the worker and the allowed origins (with
/// any origin allowed, as in local development: this machine only). Off in production, and locked to the list there: see
/// isolated::production_settings_hide_the_code_the_demo_page_and_limit_origins.
fn the_demo_page_cannot_be_framed_and_runs_nothing_inline(worker: &TestWorker) {
    let page = worker.client().request("GET", "/", &[], None);
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").expect("a policy").to_string();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "connect-src 'self' http://localhost:* http://127.0.0.1:*",
    ] {
        assert!(csp.split("; ").any(|d| d == directive), "{directive} in {csp}");
    }
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(!page.text.contains("<script>") && !page.text.contains("style="), "inline code:\n{}", page.text);
}

/// A declared length whose bytes never come (and a chunked body that stops halfway) was
/// waited on for as long as the connection lasted (docs/performance.md, "Body deadline"):
/// now 9906 with HTTP 408 after the 10 s deadline, and the code it would have sent is not
/// sent.
fn a_body_that_never_arrives_is_given_up_on(worker: &TestWorker) {
    let address = worker.base_url.trim_start_matches("http://").to_string();
    let phone = unique_phone();
    let partial = format!("{{\"phone\":\"{phone}\"");
    let requests = [
        format!("POST /login/send/sms HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{partial}"),
        format!("POST /login/send/sms HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{partial}\r\n", partial.len()),
    ];
    let threads: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let address = address.clone();
            std::thread::spawn(move || answer_over_a_raw_socket(&address, &request))
        })
        .collect();
    for thread in threads {
        let (waited, answer) = thread.join().expect("the client thread");
        assert!(answer.starts_with("HTTP/1.1 408"), "after {waited:?}: {answer}");
        assert!(answer.contains("\"code\":9906"), "{answer}");
        assert!(waited >= Duration::from_secs(9) && waited < Duration::from_secs(30), "{waited:?}");
    }
    // Both were answered, so whatever either printed is ahead of a later request's own
    // line in the log: once that line is in, a code sent for either would be too.
    let (_, marker) = post_marked(&worker.client(), "/login/jwt/status", &json!({}));
    worker.wait_for_log_line(&marker);
    let to_phone = format!("to +86{phone}:");
    let sent: Vec<String> =
        worker.log().lines().filter(|line| line.contains(&to_phone)).map(String::from).collect();
    assert!(sent.is_empty(), "a code went to {phone}: {sent:?}");
}

/// Where the worker answers without reading the body (an origin off the list, a declared
/// length over the limit, a path or method it does not serve, a preflight, a document), a
/// client that declares a body and never sends it gets that answer within the body
/// deadline every route keeps (under `wrangler dev` it waited for as long as the
/// connection lasted). All at once, each on its own connection, both as a declared length
/// and as a chunked body that stops halfway.
fn an_answer_that_needs_no_body_does_not_wait_for_one(worker: &TestWorker) {
    let address = worker.base_url.trim_start_matches("http://").to_string();
    let evil = "Origin: https://evil.example\r\n";
    let preflight = "Origin: https://app.example\r\nAccess-Control-Request-Method: POST\r\n";
    // Method, path, extra headers, then the status and the envelope's code (none for
    // answers that are no envelope).
    let cases: [(&str, &str, &str, u16, Option<u64>); 9] = [
        ("POST", "/login/send/sms", evil, 403, Some(9907)),
        ("POST", "/login/nope", "", 404, Some(9902)),
        ("PUT", "/login/jwt/get", "", 405, Some(9903)),
        ("POST", "/healthz", "", 405, Some(9903)),
        ("OPTIONS", "/login/jwt/get", preflight, 204, None),
        ("GET", "/healthz", "", 200, None),
        ("GET", "/.well-known/jwks.json", "", 200, None),
        ("GET", "/openapi.json", "", 200, None),
        ("GET", "/", "", 200, None),
    ];
    let partial = "{\"phone\":\"1";
    let mut requests = Vec::new();
    for (method, path, headers, status, code) in cases {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n{headers}"
        );
        requests.push((format!("{head}Content-Length: 200\r\n\r\n{partial}"), status, code));
        let chunk = format!("{:x}\r\n{partial}\r\n", partial.len());
        requests.push((format!("{head}Transfer-Encoding: chunked\r\n\r\n{chunk}"), status, code));
    }
    // Over the limit by its declared length alone: nothing of it need come.
    let too_long =
        format!("POST /login/send/sms HTTP/1.1\r\nHost: {address}\r\nContent-Length: 20000\r\n\r\n{partial}");
    requests.push((too_long, 413, Some(9906)));
    let threads: Vec<_> = requests
        .into_iter()
        .map(|(request, status, code)| {
            let address = address.clone();
            std::thread::spawn(move || (answer_over_a_raw_socket(&address, &request), request, status, code))
        })
        .collect();
    // Every case that went wrong, so that one failure shows them all.
    let mut wrong = Vec::new();
    for thread in threads {
        let ((waited, answer), request, status, code) = thread.join().expect("the client thread");
        let request_line = request.lines().next().unwrap_or_default();
        let as_expected = answer.starts_with(&format!("HTTP/1.1 {status} "))
            && code.is_none_or(|code| answer.contains(&format!("\"code\":{code}")));
        // The 10 s deadline, and time for a loaded machine.
        if !as_expected || waited >= Duration::from_secs(15) {
            let framing = if request.contains("chunked") { "chunked" } else { "a declared length" };
            wrong.push(format!("{request_line} ({framing}), after {waited:.1?}: {answer:?}"));
        }
    }
    assert!(wrong.is_empty(), "answered late or not as expected:\n{}", wrong.join("\n"));
}

/// Sends `request` (a head, and perhaps part of a body, that the client never finishes)
/// on a connection of its own and reads the answer until it is whole: its head and as
/// much body as it declares (or to the end of a chunked one, or of the connection).
/// Returns how long that took and the answer as text; what came within 40 s, if it never
/// becomes whole.
fn answer_over_a_raw_socket(address: &str, request: &str) -> (Duration, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(40))).expect("a read timeout");
    let started = Instant::now();
    stream.write_all(request.as_bytes()).expect("send the head and part of the body");
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    // The connection may stay open after the answer, so the answer's own length says
    // when it is whole.
    while !is_whole(&answer) {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
        }
    }
    (started.elapsed(), String::from_utf8_lossy(&answer).into_owned())
}

/// Whether an HTTP/1.1 answer read so far is complete.
fn is_whole(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
    let head = head.to_ascii_lowercase();
    let declared = head.lines().find_map(|line| line.strip_prefix("content-length:"));
    match declared {
        Some(length) => body.len() >= length.trim().parse::<usize>().unwrap_or(0),
        None if head.contains("transfer-encoding: chunked") => body.ends_with("0\r\n\r\n"),
        // No length and no chunks: a 204, or an answer that ends with its connection.
        None => head.starts_with("http/1.1 204") || head.starts_with("http/1.1 304"),
    }
}
