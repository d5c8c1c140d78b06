//! Tokens that hold up: the attack table, log out everywhere, the login limits, key
//! rotation and JWKS with an independent verifier.

use login_worker::domain::crypto::native::NativeCrypto;
use login_worker::domain::key_ring::{KeyRing, TokenKey};
use login_worker::domain::random::SecureRandom;
use login_worker::domain::token::{issue, NewToken, TokenKind, TokenScope, UserData};
use serde_json::{json, Value};

use crate::client::{Client, Reply};
use crate::concurrency::at_once;
use crate::support::*;
use crate::worker::{fresh_state_dir, TestWorker, TEST_JWT_SECRET};
use crate::{OwnTest, SharedTest};

pub const SHARED_TESTS: &[SharedTest] = tests![
    every_forged_or_misused_token_gets_9908,
    logging_out_everywhere_ends_every_session,
    ten_failed_logins_lock_the_account_and_a_success_resets,
    every_token_may_come_as_a_bearer_header_but_not_as_a_second_one,
];

/// On the worker with refresh rotation and five failed logins an address
/// (`main::ROTATING`).
pub const ROTATING_TESTS: &[SharedTest] = tests![
    failed_logins_are_limited_per_address,
    rotation_allows_two_tabs_and_a_late_replay_ends_the_session
];

pub const OWN_TESTS: &[OwnTest] =
    tests![a_rotated_key_verifies_until_it_is_removed, eddsa_tokens_verify_with_pyjwt_against_the_jwks];

fn now_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn login_scope() -> TokenScope {
    TokenScope { issuer: "login".into(), audience: "login".into() }
}

/// A token signed with `secret`, for the user and session of `model`, at `now` (s).
fn crafted(secret: &str, scope: &TokenScope, model: &str, kind: TokenKind, now: u64, ttl: u64) -> String {
    let payload = token_part(model, 1);
    let user: UserData = serde_json::from_value(payload["data"].clone()).unwrap();
    let sid = payload["sid"].as_str().unwrap();
    let keys = KeyRing::hs256(secret).unwrap();
    let new = NewToken { kind, user: &user, sid, ttl_seconds: ttl, jti: None, epoch: 0, auth_time: None };
    issue(&keys, scope, new, now * 1000, &SecureRandom).unwrap()
}

fn status(client: &Client, jwt: &str) -> Reply {
    client.post("/login/jwt/status", &json!({ "jwt": jwt }))
}

fn with_header(token: &str, header: Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", b64(&header), parts[1], parts[2])
}

fn every_forged_or_misused_token_gets_9908(worker: &TestWorker) {
    let client = worker.client();
    let (jwt, refresh) = new_session(&client);
    let kid = token_part(&jwt, 0)["kid"].clone();
    let parts: Vec<&str> = jwt.split('.').collect();
    let now = now_seconds();
    let scope = login_scope();
    // The control: a token crafted like the ones below, but right, is accepted. So each
    // 9908 below is for the one thing that is wrong.
    status(&client, &crafted(TEST_JWT_SECRET, &scope, &jwt, TokenKind::Access, now, 600)).expect(200, 200);

    let mut tampered_payload = token_part(&jwt, 1);
    tampered_payload["data"]["rid"] = json!(["1", "2", "3"]);
    let other_kid =
        KeyRing::hs256("another secret that is at least 32 bytes").unwrap().signing().kid().to_string();
    let wrong_scope =
        |issuer: &str, audience: &str| TokenScope { issuer: issuer.into(), audience: audience.into() };
    let revoked = {
        let (jwt, _) = new_session(&client);
        client.post("/login/jwt/deactivate", &json!({ "jwt": jwt })).expect(200, 200);
        jwt
    };
    let attacks: Vec<(&str, String)> = vec![
        ("alg none", format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT", "kid": kid})), parts[1])),
        ("HS384 header", with_header(&jwt, json!({"alg": "HS384", "typ": "JWT", "kid": kid}))),
        ("HS512 header", with_header(&jwt, json!({"alg": "HS512", "typ": "JWT", "kid": kid}))),
        ("RS256 header", with_header(&jwt, json!({"alg": "RS256", "typ": "JWT", "kid": kid}))),
        ("EdDSA header", with_header(&jwt, json!({"alg": "EdDSA", "typ": "JWT", "kid": kid}))),
        ("tampered payload", format!("{}.{}.{}", parts[0], b64(&tampered_payload), parts[2])),
        ("tampered header", with_header(&jwt, json!({"alg": "HS256", "typ": "JWT", "kid": kid, "x": 1}))),
        ("wrong kid", with_header(&jwt, json!({"alg": "HS256", "typ": "JWT", "kid": other_kid}))),
        ("unknown kid", with_header(&jwt, json!({"alg": "HS256", "typ": "JWT", "kid": "no-such-key"}))),
        ("no kid", with_header(&jwt, json!({"alg": "HS256", "typ": "JWT"}))),
        ("expired", crafted(TEST_JWT_SECRET, &scope, &jwt, TokenKind::Access, now - 7_200, 600)),
        ("nbf in the future", crafted(TEST_JWT_SECRET, &scope, &jwt, TokenKind::Access, now + 3_600, 600)),
        (
            "wrong iss",
            crafted(TEST_JWT_SECRET, &wrong_scope("evil", "login"), &jwt, TokenKind::Access, now, 600),
        ),
        (
            "wrong aud",
            crafted(TEST_JWT_SECRET, &wrong_scope("login", "evil"), &jwt, TokenKind::Access, now, 600),
        ),
        (
            "another secret",
            crafted("another secret that is at least 32 bytes", &scope, &jwt, TokenKind::Access, now, 600),
        ),
        ("refresh token as access token", refresh.clone()),
        ("revoked session", revoked),
        ("truncated", jwt[..jwt.len() - 12].to_string()),
        ("not base64url", "!!!!.####.$$$$".to_string()),
        ("8 KiB of junk", "x".repeat(8 * 1024)),
        ("two segments", format!("{}.{}", parts[0], parts[1])),
    ];
    let mut failures = Vec::new();
    for (name, token) in &attacks {
        let reply = status(&client, token);
        if (reply.code(), reply.status) != (9908, 401) {
            failures.push(format!("{name}: {} {}", reply.status, reply.text));
        }
    }
    // And the reverse of the kind check: an access token where a refresh token goes.
    let (reply, marker) = post_marked(&client, "/login/jwt/refresh", &json!({ "jwt": jwt }));
    if (reply.code(), reply.status) != (9908, 401) {
        failures.push(format!("access token as refresh token: {} {}", reply.status, reply.text));
    }
    assert!(
        failures.is_empty(),
        "{} of {} attacks not refused with 9908:\n{}",
        failures.len(),
        attacks.len() + 1,
        failures.join("\n")
    );
    // The last attack's own line is in the log, so every attack's line is: none was a 500.
    worker.wait_for_log_line(&marker);
    assert!(!worker.log().contains("\"status\":500"), "no attack may cause a 500");
}

fn logging_out_everywhere_ends_every_session(worker: &TestWorker) {
    let client = worker.client();
    let (account, _) = new_user(&client);
    let (laptop, laptop_refresh) = log_in(&client, &account, PASSWORD);
    let (phone, phone_refresh) = log_in(&client, &account, PASSWORD);
    let (other_user, _) = new_session(&client);
    client.post("/login/jwt/deactivate", &json!({ "jwt": phone, "scope": "all" })).expect(200, 200);
    for jwt in [&laptop, &phone] {
        status(&client, jwt).expect(9908, 401);
    }
    for refresh in [&laptop_refresh, &phone_refresh] {
        client.post("/login/jwt/refresh", &json!({ "jwt": refresh })).expect(9908, 401);
    }
    status(&client, &other_user).expect(200, 200);
    // Logging in again, even within the same second, starts a session that works.
    let (again, _) = log_in(&client, &account, PASSWORD);
    status(&client, &again).expect(200, 200);
    client.post("/login/jwt/deactivate", &json!({ "jwt": again, "scope": "everywhere" })).expect(9906, 422);
}

fn ten_failed_logins_lock_the_account_and_a_success_resets(worker: &TestWorker) {
    let client = worker.client();
    let (account, _) = new_user(&client);
    // Nine failures and a success: the count starts again.
    for _ in 0..9 {
        log_in_from(&client, &account, "wrong_pw", "192.0.2.1").expect(50006, 401);
    }
    log_in_from(&client, &account, PASSWORD, "192.0.2.1").expect(200, 200);
    // Ten failures from one address: then even the right password waits there, in any
    // case; the owner at another address is not locked out.
    for _ in 0..10 {
        log_in_from(&client, &account, "wrong_pw", "192.0.2.10").expect(50006, 401);
    }
    let locked = log_in_from(&client, &account.to_uppercase(), PASSWORD, "192.0.2.10");
    locked.expect(9905, 429);
    let wait: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((890..=900).contains(&wait), "Retry-After {wait}");
    // A page on another origin may read it: CORS shows it to scripts only when named.
    assert_eq!(locked.header("access-control-expose-headers"), Some("Retry-After"));
    log_in_from(&client, &account, PASSWORD, "192.0.2.99").expect(200, 200);
    // An unknown account is limited the same way (the limit reveals nothing).
    let nobody = unique_account();
    for _ in 0..10 {
        log_in_from(&client, &nobody, "wrong_pw", "192.0.2.50").expect(50006, 401);
    }
    log_in_from(&client, &nobody, "wrong_pw", "192.0.2.50").expect(9905, 429);
}

fn failed_logins_are_limited_per_address(worker: &TestWorker) {
    let client = worker.client();
    let (account, _) = new_user(&client);
    for _ in 0..5 {
        log_in_from(&client, &unique_account(), "wrong_pw", "198.51.100.7").expect(50006, 401);
    }
    let id = format!("e2e-{}", unique_number());
    let body = json!({ "account": account, "pwd": PASSWORD }).to_string();
    let headers =
        [("Content-Type", "application/json"), ("CF-Connecting-IP", "198.51.100.7"), ("cf-ray", id.as_str())];
    let limited = client.request("POST", "/login/jwt/get", &headers, Some(body.as_bytes()));
    limited.expect(9905, 429);
    assert!(limited.header("retry-after").is_some());
    // A limit tripped is worth an operator's line: this request's own, as other tests
    // share the log. It is in once the request's own line is, which comes after it.
    let request_id = format!(r#""request_id":"{id}""#);
    worker.wait_for_log_line(&request_id);
    let log = worker.log();
    let line = log.lines().find(|line| line.contains("\"limited\"") && line.contains(&request_id));
    let line = line.unwrap_or_else(|| panic!("no \"limited\" line of {id}:\n{log}"));
    assert!(line.contains("\"code\":9905") && line.contains("\"path\":\"/login/jwt/get\""), "{line}");
    log_in_from(&client, &account, PASSWORD, "198.51.100.8").expect(200, 200);
}

const NEW_SECRET: &str = "the-rotated-jwt-secret-also-longer-than-32-bytes";

fn a_rotated_key_verifies_until_it_is_removed() {
    let state = fresh_state_dir();
    let first = TestWorker::start_with(&state, &[]);
    let client = first.client();
    let (account, _) = new_user(&client);
    let (old_jwt, old_refresh) = log_in(&client, &account, PASSWORD);
    first.stop();

    let rotated = TestWorker::start_with(
        &state,
        &[("JWT_SECRET", NEW_SECRET), ("JWT_PREVIOUS_SECRETS", TEST_JWT_SECRET)],
    );
    let client = rotated.client();
    status(&client, &old_jwt).expect(200, 200);
    let refreshed = client.post("/login/jwt/refresh", &json!({ "jwt": old_refresh }));
    refreshed.expect(200, 200);
    let new_jwt = refreshed.data().as_str().unwrap().to_string();
    let new_kid = KeyRing::hs256(NEW_SECRET).unwrap().signing().kid().to_string();
    assert_eq!(token_part(&new_jwt, 0)["kid"], json!(new_kid), "new tokens name the new key");
    assert_ne!(token_part(&old_jwt, 0)["kid"], json!(new_kid));
    rotated.stop();

    let retired = TestWorker::start_with(&state, &[("JWT_SECRET", NEW_SECRET)]);
    let client = retired.client();
    status(&client, &old_jwt).expect(9908, 401);
    status(&client, &new_jwt).expect(200, 200);
    retired.stop();

    let short =
        TestWorker::start_with(&state, &[("JWT_SECRET", NEW_SECRET), ("JWT_PREVIOUS_SECRETS", "short")]);
    status(&short.client(), &new_jwt).expect(9999, 500);
    // The 9999's reason reaches the log a moment after the reply.
    short.wait_for_log_line("JWT_PREVIOUS_SECRETS has a secret of 5 bytes");
}

/// An Ed25519 seed for the test (32 bytes, base64url).
const EDDSA_SEED: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";

/// The seed a key is rotated to in the EdDSA test.
/// (RFC 8032 §7.1, test 2.)
const NEXT_EDDSA_SEED: &str = "TM0Imyj_ltqdtsNG7BFOD1uKMZ81q6Yk2oz27U-4pvs";

/// PyJWT's verdict on `token`, with the keys from the worker's JWKS.
fn verify_with(worker: &TestWorker, token: &str) -> std::process::Output {
    let python = std::env::var("LOGIN_PYTHON").expect("LOGIN_PYTHON: run with `make test`");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/jwks/verify.py");
    let url = format!("{}/.well-known/jwks.json", worker.base_url);
    std::process::Command::new(python)
        .args([script, &url, token, "login", "login"])
        .output()
        .expect("run python")
}

fn jwks(client: &Client) -> Value {
    let jwks = client.request("GET", "/.well-known/jwks.json", &[], None);
    assert_eq!(jwks.status, 200);
    serde_json::from_str(&jwks.text).unwrap()
}

/// The worker's Ed25519 is the runtime's (node:crypto); the checks here are independent of
/// it: the public key and kid ed25519-compact derives from the seed, and PyJWT.
fn eddsa_tokens_verify_with_pyjwt_against_the_jwks() {
    let state = fresh_state_dir();
    let worker = TestWorker::start_with(&state, &[("JWT_ALG", "EdDSA"), ("JWT_PRIVATE_KEY", EDDSA_SEED)]);
    let client = worker.client();
    let set = jwks(&client);
    assert_eq!(set["keys"][0]["kty"], "OKP");
    assert!(set["keys"][0].get("d").is_none(), "no private part is published");
    let native = TokenKey::ed25519_private(&NativeCrypto, "JWT_PRIVATE_KEY", EDDSA_SEED).unwrap();
    let public = native.public_key_base64url().unwrap();
    assert_eq!(set["keys"][0]["x"], json!(public), "the public key of the seed");
    assert_eq!(set["keys"][0]["kid"], json!(native.kid()));
    let (jwt, _) = new_session(&client);
    assert_eq!(token_part(&jwt, 0)["alg"], "EdDSA");
    assert_eq!(token_part(&jwt, 0)["kid"], set["keys"][0]["kid"]);

    let verify = |token: &str| verify_with(&worker, token);
    let verified = verify(&jwt);
    let stdout = String::from_utf8_lossy(&verified.stdout);
    assert!(
        verified.status.success(),
        "PyJWT refused: {stdout}{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    let claims: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(claims["sub"], token_part(&jwt, 1)["sub"]);
    // The control: PyJWT refuses a token whose payload was changed.
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut payload = token_part(&jwt, 1);
    payload["sub"] = json!("1");
    let forged = format!("{}.{}.{}", parts[0], b64(&payload), parts[2]);
    assert!(!verify(&forged).status.success(), "PyJWT accepted a forged token");
    // The worker refuses it too.
    status(&client, &forged).expect(9908, 401);
    worker.stop();

    // Rotated: the old key verifies from its public half alone, and the new one signs.
    let rotated = TestWorker::start_with(
        &state,
        &[("JWT_ALG", "EdDSA"), ("JWT_PRIVATE_KEY", NEXT_EDDSA_SEED), ("JWT_PREVIOUS_PUBLIC_KEYS", &public)],
    );
    let client = rotated.client();
    status(&client, &jwt).expect(200, 200);
    status(&client, &forged).expect(9908, 401);
    let keys = jwks(&client)["keys"].as_array().unwrap().clone();
    // RFC 8032 §7.1, test 2: the runtime's public key of that seed, a known answer.
    assert_eq!(keys[0]["x"], json!("PUAXw-hDiVqStwqnTRt-vJyYLM8uxJaMwM1V8Sr0Zgw"));
    let kids: Vec<Value> = keys.iter().map(|k| k["kid"].clone()).collect();
    assert_eq!(kids.len(), 2, "{kids:?}");
    assert_eq!(kids[1], json!(native.kid()), "the previous key is still published");
    let (new_jwt, _) = new_session(&client);
    assert_eq!(token_part(&new_jwt, 0)["kid"], kids[0]);
    assert!(verify_with(&rotated, &new_jwt).status.success());
    rotated.stop();

    // A previous public key of the wrong length is refused when the isolate starts.
    let broken = TestWorker::start_with(
        &state,
        &[
            ("JWT_ALG", "EdDSA"),
            ("JWT_PRIVATE_KEY", NEXT_EDDSA_SEED),
            ("JWT_PREVIOUS_PUBLIC_KEYS", "c2hvcnQ"),
        ],
    );
    status(&broken.client(), &jwt).expect(9999, 500);
    broken.wait_for_log_line("JWT_PREVIOUS_PUBLIC_KEYS: 5 bytes where an Ed25519 key has 32");
}

fn rotation_allows_two_tabs_and_a_late_replay_ends_the_session(worker: &TestWorker) {
    let client = worker.client();
    let (_, login_refresh) = new_session(&client);
    let refresh = |token: &str| client.post("/login/jwt/refresh", &json!({ "jwt": token }));
    let first = refresh(&login_refresh);
    first.expect(200, 200);
    let (jwt, current) = (
        first.data()["jwt"].as_str().unwrap().to_string(),
        first.data()["refresh_jwt"].as_str().unwrap().to_string(),
    );
    status(&client, &jwt).expect(200, 200);

    // Two tabs refresh with the same token at once: both succeed, with the same new token id.
    let body = json!({ "jwt": current });
    let tabs = at_once(worker, 2, move |_, client| client.post("/login/jwt/refresh", &body));
    for tab in &tabs {
        tab.expect(200, 200);
    }
    let ids: Vec<Value> = tabs
        .iter()
        .map(|t| token_part(t.data()["refresh_jwt"].as_str().unwrap(), 1)["jti"].clone())
        .collect();
    assert_eq!(ids[0], ids[1], "both tabs hold the one current refresh token");
    let latest = tabs[0].data()["refresh_jwt"].as_str().unwrap().to_string();
    let latest_jwt = tabs[1].data()["jwt"].as_str().unwrap().to_string();
    // The operator sees the race, by the session's id (the JavaScript client's tests hold
    // their worker's log to having none).
    let sid = token_part(&jwt, 1)["sid"].as_str().unwrap().to_string();
    let raced = worker.wait_for_log_line(&format!("\"sid\":\"{sid}\""));
    assert!(raced.contains("\"event\":\"refresh_token_reused_within_grace\""), "{raced}");

    // After the 10 s grace window, the retired token comes back: a replay. A fixed sleep,
    // as the window is time on the worker's clock (GRACE_MILLIS, not configurable).
    std::thread::sleep(std::time::Duration::from_millis(10_500));
    refresh(&current).expect(9908, 401);
    let replayed =
        worker.wait_for_log_line(&format!("\"event\":\"refresh_token_replayed\",\"sid\":\"{sid}\""));
    assert!(replayed.contains(&format!("\"uid\":{}", token_part(&jwt, 1)["data"]["uid"])), "{replayed}");
    refresh(&latest).expect(9908, 401);
    status(&client, &latest_jwt).expect(9908, 401);
    status(&client, &jwt).expect(9908, 401);
}

/// `POST` `body` to `path` with `Authorization: Bearer <token>`.
fn with_bearer(client: &Client, path: &str, token: &str, body: Value) -> Reply {
    client.post_with(path, &body, &[("Authorization", &format!("Bearer {token}"))])
}

/// Every endpoint that takes `jwt` takes it as `Authorization: Bearer` instead; both, when
/// they differ, are 9906 `jwt 重复` (HTTP 422), and nothing is done.
fn every_token_may_come_as_a_bearer_header_but_not_as_a_second_one(worker: &TestWorker) {
    let client = worker.client();
    let (account, _) = new_user(&client);
    let (jwt, refresh) = log_in(&client, &account, PASSWORD);

    let reply = with_bearer(&client, "/login/jwt/status", &jwt, json!({}));
    reply.expect(200, 200);
    assert!(reply.data()["jwt_data"]["uid"].is_u64(), "{}", reply.text);
    with_bearer(&client, "/login/jwt/status", &jwt, json!({ "jwt": jwt })).expect(200, 200);
    with_bearer(&client, "/login/jwt/status", &format!("{jwt}x"), json!({})).expect(9908, 401);
    for path in [
        "/login/jwt/status",
        "/login/jwt/refresh",
        "/login/jwt/deactivate",
        "/login/password/change",
        "/login/sessions/list",
        "/login/phone/change",
        "/login/account/delete",
        "/login/send/sms",
    ] {
        let body = json!({ "jwt": jwt, "pwd": PASSWORD, "password": "new_pass", "password_confirmation": "new_pass",
                           "phone": unique_phone(), "code": "123456", "purpose": "change_phone" });
        let reply = with_bearer(&client, path, &refresh, body);
        reply.expect(9906, 422);
        assert_eq!(reply.msg(), "数据验证失败，原因如下：jwt 重复", "{path}");
    }
    log_in(&client, &account, PASSWORD);
    // A phone change's send takes the header too.
    let change_code = json!({ "phone": unique_phone(), "purpose": "change_phone" });
    with_bearer(&client, "/login/send/sms", &jwt, change_code).expect(200, 200);

    let reply = with_bearer(&client, "/login/jwt/refresh", &refresh, json!({}));
    reply.expect(200, 200);
    let fresh = reply.data().as_str().expect("an access token").to_string();
    let change = json!({ "pwd": PASSWORD, "password": "new_pass", "password_confirmation": "new_pass" });
    with_bearer(&client, "/login/password/change", &fresh, change).expect(200, 200);
    let (jwt, _) = log_in(&client, &account, "new_pass");
    with_bearer(&client, "/login/jwt/deactivate", &jwt, json!({ "scope": "all" })).expect(200, 200);
    status(&client, &jwt).expect(9908, 401);
}
