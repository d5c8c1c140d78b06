//! Tests that need a worker of their own: a restart, or other settings.

use login_worker::domain::endpoint::Endpoint;
use login_worker::domain::password::{NativePbkdf2, PasswordHash, PasswordPolicy};
use pollster::block_on;
use serde_json::json;

use crate::support::*;
use crate::worker::{fresh_state_dir, TestWorker};
use crate::OwnTest;

pub const TESTS: &[OwnTest] = tests![
    the_api_matches_its_openapi_document,
    users_survive_a_restart_on_the_same_state,
    production_settings_hide_the_code_the_demo_page_and_limit_origins,
    a_short_jwt_secret_gives_9999_and_a_logged_reason,
    a_misconfigured_worker_keeps_cors_and_healthz_names_the_variable,
    a_pepper_peppers_new_hashes_and_upgrades_old_ones,
];

fn users_survive_a_restart_on_the_same_state() {
    let state = fresh_state_dir();
    let first = TestWorker::start_with(&state, &[]);
    let (account, _) = new_user(&first.client());
    first.stop();
    let second = TestWorker::start_with(&state, &[]);
    log_in(&second.client(), &account, PASSWORD);
}

fn production_settings_hide_the_code_the_demo_page_and_limit_origins() {
    // [env.production] exactly as shipped: no provider chosen, no origin allowed.
    let shipped = TestWorker::start_in(Some("production"), &fresh_state_dir(), &[]);
    let client = shipped.client();
    let with_origin = [("Origin", "https://app.example"), ("Content-Type", "application/json")];
    let reply = client.request("POST", "/login/jwt/status", &with_origin, Some(b"{}"));
    assert_eq!(reply.header("access-control-allow-origin"), None);
    client.post("/login/send/sms", &json!({ "phone": unique_phone() })).expect(50018, 502);
    // The send's 50018 logs why, as one JSON line; polled for, as it reaches the log
    // after the reply.
    let line = shipped.wait_for_log_line("\"sms_refused\"");
    let entry = json_in_log_line(&line);
    assert_eq!((entry["code"].as_u64(), entry["path"].as_str()), (Some(50018), Some("/login/send/sms")));
    assert!(entry["cause"].as_str().unwrap().contains("SMS_PROVIDER is not set"), "{line}");
    // Requests themselves are Cloudflare's invocation logs: no line of the worker's own
    // for the status request before it (LOG_REQUESTS is off by default).
    let log = shipped.log();
    assert!(!log.contains("\"method\":"), "a request line without LOG_REQUESTS:\n{log}");
    // No page that takes passwords until the operator wants one; the document stays.
    for path in ["/", "/index.html"] {
        for method in ["GET", "POST"] {
            client.request(method, path, &[], None).expect(9902, 404);
        }
    }
    assert_eq!(client.request("GET", "/openapi.json", &[], None).status, 200);
    shipped.stop();

    // Once an operator names a provider and an origin.
    let vars =
        [("SMS_PROVIDER", "console"), ("CORS_ALLOWED_ORIGINS", "https://app.example"), ("DEMO_PAGE", "true")];
    let configured = TestWorker::start_in(Some("production"), &fresh_state_dir(), &vars);
    let client = configured.client();
    let reply = client.post("/login/send/sms", &json!({ "phone": unique_phone() }));
    reply.expect(200, 200);
    assert_eq!(reply.data(), json!([]), "the code stays secret");
    let ask = |origin: &str| {
        let headers = [("Origin", origin), ("Content-Type", "application/json")];
        client.request("POST", "/login/jwt/status", &headers, Some(b"{}"))
    };
    let allowed = ask("https://app.example");
    assert_eq!(allowed.header("access-control-allow-origin"), Some("https://app.example"));
    assert_eq!(allowed.header("vary"), Some("Origin"));
    assert_eq!(ask("https://evil.example").header("access-control-allow-origin"), None);
    // The page, once enabled, may call only the worker and the listed origin: a link
    // with `?api=https://evil.example` gets nothing typed into it out of the browser.
    let page = client.request("GET", "/?api=https://evil.example", &[], None);
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").expect("a policy");
    assert!(csp.split("; ").any(|d| d == "connect-src 'self' https://app.example"), "{csp}");
    assert!(csp.split("; ").any(|d| d == "frame-ancestors 'none'"), "{csp}");
}

fn a_short_jwt_secret_gives_9999_and_a_logged_reason() {
    let worker = TestWorker::start_with(&fresh_state_dir(), &[("JWT_SECRET", "too-short")]);
    let client = worker.client();
    let reply = client.post("/login/jwt/get", &json!({ "account": "anyone", "pwd": "whatever" }));
    reply.expect(9999, 500);
    assert_eq!(reply.msg(), "系统繁忙，请稍后尝试");
    assert!(!reply.text.contains("JWT_SECRET"), "no internals in the body");
    // The reason goes to the log instead, a moment after the reply, as one JSON line.
    let line = worker.wait_for_log_line("\"internal_error\"");
    let entry = json_in_log_line(&line);
    assert_eq!((entry["code"].as_u64(), entry["path"].as_str()), (Some(9999), Some("/login/jwt/get")));
    assert!(entry["cause"].as_str().unwrap().contains("JWT_SECRET has a secret of 9 bytes"), "{line}");
}

/// A broken var is answered on every route: the API's 9999 still carries CORS (so a
/// browser can read it), and `/healthz` turns 503 and names the variable, without its
/// value or any secret.
fn a_misconfigured_worker_keeps_cors_and_healthz_names_the_variable() {
    let vars = [("ACCESS_TTL_SECONDS", "soon"), ("CORS_ALLOWED_ORIGINS", "https://app.example")];
    let worker = TestWorker::start_with(&fresh_state_dir(), &vars);
    let client = worker.client();
    let health = client.request("GET", "/healthz", &[], None);
    assert_eq!(
        (health.status, health.json()),
        (503, json!({"status": "misconfigured", "variable": "ACCESS_TTL_SECONDS"}))
    );
    assert!(!health.text.contains("soon"), "no value in a public answer: {}", health.text);
    let from_app = [("Origin", "https://app.example"), ("Content-Type", "application/json")];
    for endpoint in Endpoint::ALL {
        let path = endpoint.path();
        let reply = client.request("POST", path, &from_app, Some(b"{}"));
        reply.expect(9999, 500);
        assert_eq!(reply.header("access-control-allow-origin"), Some("https://app.example"), "{path}");
        assert!(!reply.text.contains("ACCESS_TTL_SECONDS"), "no internals in the body: {}", reply.text);
        let preflight = client.request("OPTIONS", path, &[("Origin", "https://app.example")], None);
        assert_eq!(preflight.status, 204, "{path}");
        assert_eq!(preflight.header("access-control-allow-origin"), Some("https://app.example"), "{path}");
    }
    let jwks = client.request("GET", "/.well-known/jwks.json", &from_app, None);
    jwks.expect(9999, 500);
    assert_eq!(jwks.header("access-control-allow-origin"), Some("https://app.example"));
    let logged = worker.wait_for_log_line("\"misconfigured\"");
    assert!(logged.contains("ACCESS_TTL_SECONDS must be a whole number"), "{logged}");
    for secret in [crate::worker::TEST_JWT_SECRET, crate::worker::TEST_SMS_CODE_SECRET] {
        assert!(!worker.log().contains(secret), "no secret in the log");
    }
}

/// A user registered before `PASSWORD_PEPPER` was set logs in after it is set, and leaves
/// with a peppered hash; a new user gets one at once. The hashes verify natively only
/// with the pepper.
fn a_pepper_peppers_new_hashes_and_upgrades_old_ones() {
    let pepper = "a pepper that is at least thirty-two bytes long";
    let state = fresh_state_dir();
    let plain = TestWorker::start_with(&state, &[]);
    let (old_user, _) = new_user(&plain.client());
    plain.stop();

    let worker = TestWorker::start_with(&state, &[("PASSWORD_PEPPER", pepper)]);
    let client = worker.client();
    let (new, _) = new_user(&client);
    log_in(&client, &old_user, PASSWORD);
    let with_pepper = PasswordPolicy { iterations: 100_000, pepper: Some(pepper.as_bytes().to_vec()) };
    for account in [&old_user, &new] {
        let rows = worker.query(&format!("SELECT password_hash FROM users WHERE account = '{account}'"));
        let hash = PasswordHash::decode(rows[0]["password_hash"].as_str().unwrap()).unwrap();
        assert!(hash.is_peppered(), "{account}");
        assert!(block_on(hash.verify(&NativePbkdf2, PASSWORD, &with_pepper)).unwrap());
        assert!(block_on(hash.verify(&NativePbkdf2, PASSWORD, &PasswordPolicy::new(100_000))).is_err());
        log_in(&client, account, PASSWORD);
    }
    client.post("/login/jwt/get", &json!({ "account": new, "pwd": "wrong_password" })).expect(50006, 401);
}

/// The document is valid OpenAPI 3.1 (openapi-spec-validator), and schemathesis holds
/// the worker to it as an outside client would: every check, valid and invalid data, in
/// all four phases (the document's examples, coverage of its constraints, fuzzing, and
/// stateful sequences over its links: send → register → log in → status, refresh,
/// deactivate, change; send → reset), with the settings in tests/schemathesis (where
/// JSON Schema cannot foresee a business answer, and a hook that keeps a valid request's
/// password confirmation equal to its password). Its own worker, as its phones are
/// random; the per-address limits are lifted, since every request comes from here.
fn the_api_matches_its_openapi_document() {
    let validator =
        std::env::var("LOGIN_OPENAPI_VALIDATOR").expect("LOGIN_OPENAPI_VALIDATOR: run with `make test`");
    let validated = std::process::Command::new(validator)
        .args(["--schema", "3.1", "public/openapi.json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run openapi-spec-validator");
    let said = String::from_utf8_lossy(&validated.stdout);
    assert!(validated.status.success() && said.contains(": OK"), "not valid OpenAPI 3.1:\n{said}");

    let lifted = [
        ("SMS_HOURLY_LIMIT_PER_IP", "1000000"),
        ("CODE_ATTEMPTS_PER_IP", "1000000"),
        ("LOGIN_FAILURES_PER_IP", "1000000"),
        ("LOGIN_FAILURES_PER_ACCOUNT_AND_IP", "1000000"),
        ("LOGIN_FAILURES_PER_ACCOUNT", "1000000"),
    ];
    let worker = TestWorker::start_with(&fresh_state_dir(), &lifted);
    let st = std::env::var("LOGIN_SCHEMATHESIS").expect("LOGIN_SCHEMATHESIS: run with `make test`");
    let settings = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis");
    let output = std::process::Command::new(st)
        .arg("--config-file")
        .arg(settings.join("schemathesis.toml"))
        // Modes and sizes are in the settings: on the command line they would override the
        // stateful phase's own.
        .args(["run", &format!("{}/openapi.json", worker.base_url), "--checks", "all"])
        // One worker: with two, each thread's Hypothesis moves the process's recursion
        // limit while the other parses source for a strategy's description, and the run
        // fails now and then with "AST constructor recursion depth mismatch".
        .args(["--workers", "1", "--no-color"])
        .env("PYTHONPATH", &settings)
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .output()
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = report.lines().find(|line| line.contains(" generated, ")).unwrap_or("");
    assert!(summary.contains("passed") && !summary.contains("failed"), "{report}");
    // Each phase ran, the stateful one over the links included.
    let phases: Vec<&str> = report.lines().filter(|line| line.contains('✅') || line.contains('⏭')).collect();
    for phase in ["Examples", "Coverage", "Fuzzing", "Stateful"] {
        assert!(phases.iter().any(|line| line.contains('✅') && line.contains(phase)), "{phase}:\n{report}");
    }
    println!("schemathesis: {}", summary.trim());
    // The phases, their counts and any warning, for the log of `make test`.
    let tail = report.find("Test Phases").map_or("", |at| &report[at..]);
    println!("{tail}");
}
