//! Events to the app's backend: the real worker queues them on its local Cloudflare Queue,
//! its queue consumer delivers them to tests/webhook/receiver.mjs, which verifies each
//! with the Standard Webhooks library, and answers as each test tells it to.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::Client;
use crate::support::*;
use crate::webhook_receiver::{Receiver, SECRET};
use crate::worker::{free_port, fresh_state_dir, node, TestWorker, TEST_JWT_SECRET, TEST_SMS_CODE_SECRET};
use crate::OwnTest;

pub const OWN_TESTS: &[OwnTest] = tests![
    every_event_reaches_the_backend_signed_and_carries_no_secret,
    a_delivery_that_fails_or_times_out_is_retried_with_its_id_until_the_dead_letter_queue,
    the_readmes_receiver_takes_each_event_once_and_refuses_a_forgery,
];

const NEW_PASSWORD: &str = "new_secret_9";

/// A worker that reports its events to a fresh receiver, each retry waiting
/// `first_retry_seconds` (then three times longer each time), each try `timeout_ms`.
fn worker_with_events(first_retry_seconds: &str, timeout_ms: &str) -> (Receiver, TestWorker) {
    let receiver = Receiver::start();
    let url = format!("{}/events", receiver.url);
    let worker = TestWorker::start_with(
        &fresh_state_dir(),
        &[
            ("EVENTS_WEBHOOK_URL", &url),
            ("EVENTS_WEBHOOK_SECRET", SECRET),
            ("EVENTS_RETRY_DELAY_SECONDS", first_retry_seconds),
            ("EVENTS_WEBHOOK_TIMEOUT_MS", timeout_ms),
            ("SMS_SIGNUP", "true"),
        ],
    );
    (receiver, worker)
}

/// The deliveries whose body contains `needle` (an account name), once there are at
/// least `count` (for up to 30 s; 0 for those there are now).
fn deliveries_of(receiver: &Receiver, needle: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found: Vec<Value> = receiver
            .deliveries()
            .into_iter()
            .filter(|delivery| delivery["body"].as_str().unwrap_or_default().contains(needle))
            .collect();
        if found.len() >= count || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn post_ok(client: &Client, path: &str, body: Value) -> Value {
    let reply = client.post(path, &body);
    reply.expect(200, 200);
    reply.data()
}

fn every_event_reaches_the_backend_signed_and_carries_no_secret() {
    let (receiver, worker) = worker_with_events("1", "10000");
    let client = worker.client();
    // Refused twice: tried again after 1 s, then after 3 s more.
    let flaky = unique_account();
    receiver.add_rule(&flaky, json!({ "status": 500, "times": 2 }));
    let flaky_phone = unique_phone();
    let code = send_code(&client, &flaky_phone);
    client.post("/login/register", &registration(&flaky, PASSWORD, &flaky_phone, &code)).expect(200, 200);

    // A receiver that takes 5 s over each event does not slow a request: sign-ins answer
    // in a fraction of that while their events wait on it, and each is delivered once.
    let patient = unique_account();
    receiver.add_rule(&patient, json!({ "hang_ms": 5000 }));
    let patient_phone = unique_phone();
    let code = send_code(&client, &patient_phone);
    client.post("/login/register", &registration(&patient, PASSWORD, &patient_phone, &code)).expect(200, 200);
    deliveries_of(&receiver, &patient, 1);
    for _ in 0..3 {
        let started = Instant::now();
        log_in(&client, &patient, PASSWORD);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "a login took {took:?} while the receiver hung");
    }

    // What must never reach the backend, collected along the way: every secret, password,
    // code and token of the flow.
    let mut secrets: Vec<String> =
        [SECRET, &SECRET[6..], TEST_JWT_SECRET, TEST_SMS_CODE_SECRET, PASSWORD, NEW_PASSWORD]
            .map(String::from)
            .to_vec();
    let log_in_keeping = |client: &Client, account: &str, secrets: &mut Vec<String>| {
        let (jwt, refresh) = log_in(client, account, PASSWORD);
        secrets.extend([jwt.clone(), refresh]);
        jwt
    };

    // One user through everything an account does.
    let (account, phone) = (unique_account(), unique_phone());
    let code = send_code(&client, &phone);
    secrets.push(code.clone());
    post_ok(&client, "/login/register", registration(&account, PASSWORD, &phone, &code));
    let jwt = log_in_keeping(&client, &account, &mut secrets);
    let changed = post_ok(
        &client,
        "/login/password/change",
        json!({ "jwt": jwt, "pwd": PASSWORD, "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD }),
    );
    let jwt = changed["jwt"].as_str().unwrap().to_string();
    let code = send_code_for(&client, &phone, "reset");
    secrets.extend([jwt.clone(), changed["refresh_jwt"].as_str().unwrap().into(), code.clone()]);
    let reset =
        json!({ "phone": phone, "code": code, "password": PASSWORD, "password_confirmation": PASSWORD });
    post_ok(&client, "/login/password/reset", reset);
    let jwt = log_in_keeping(&client, &account, &mut secrets);
    let new_phone = unique_phone();
    let sent =
        client.post("/login/send/sms", &json!({ "phone": new_phone, "purpose": "change_phone", "jwt": jwt }));
    sent.expect(200, 200);
    let code = sent.data()["code"].as_str().unwrap().to_string();
    secrets.push(code.clone());
    post_ok(
        &client,
        "/login/phone/change",
        json!({ "jwt": jwt, "phone": new_phone, "code": code, "pwd": PASSWORD }),
    );
    log_in_keeping(&client, &account, &mut secrets);
    post_ok(&client, "/login/jwt/deactivate", json!({ "jwt": jwt, "scope": "others" }));
    post_ok(&client, "/login/jwt/deactivate", json!({ "jwt": jwt }));
    let jwt = log_in_keeping(&client, &account, &mut secrets);
    post_ok(&client, "/login/account/delete", json!({ "jwt": jwt, "pwd": PASSWORD }));
    let code = send_code_for(&client, &new_phone, "login");
    let restored = post_ok(&client, "/login/jwt/sms", json!({ "phone": new_phone, "code": code }));
    assert_eq!(restored["restored"], true);
    let jwt = restored["jwt"].as_str().unwrap().to_string();
    secrets.extend([jwt.clone(), restored["refresh_jwt"].as_str().unwrap().into(), code]);
    post_ok(&client, "/login/account/delete", json!({ "jwt": jwt, "pwd": PASSWORD }));
    // Due now: the Cron Trigger removes it.
    worker.query(&format!("UPDATE users SET delete_after_ms = 1 WHERE account = '{account}'"));
    assert_eq!(client.request("GET", "/__scheduled?cron=17+*+*+*+*", &[], None).status, 200);

    // And a user made by a first code sign-in.
    let newcomer_phone = unique_phone();
    let code = send_code_for(&client, &newcomer_phone, "login");
    let made = post_ok(&client, "/login/jwt/sms", json!({ "phone": newcomer_phone, "code": code }));
    let newcomer = made["account"].as_str().unwrap().to_string();
    secrets.extend([
        code,
        made["jwt"].as_str().unwrap().into(),
        made["refresh_jwt"].as_str().unwrap().into(),
    ]);

    let expected = [
        "user.registered",
        "user.signed_in",
        "user.password_changed",
        "user.password_reset",
        "user.signed_in",
        "user.phone_changed",
        "user.signed_in",
        "session.revoked",
        "session.revoked",
        "user.signed_in",
        "user.deletion_scheduled",
        "user.restored",
        "user.signed_in",
        "user.deletion_scheduled",
        "user.deleted",
    ];
    let delivered = deliveries_of(&receiver, &format!(r#""account":"{account}""#), expected.len());
    // Queues does not keep order: by the time each event happened.
    let mut payloads: Vec<Value> = delivered.iter().map(|delivery| delivery["payload"].clone()).collect();
    payloads.sort_by_key(|payload| payload["timestamp"].as_str().unwrap().to_string());
    let types: Vec<&str> = payloads.iter().map(|payload| payload["type"].as_str().unwrap()).collect();
    let mut sorted_types = types.clone();
    sorted_types.sort();
    let mut sorted_expected = expected.to_vec();
    sorted_expected.sort();
    assert_eq!(sorted_types, sorted_expected, "in the order they came: {types:?}");
    let by_type: HashMap<&str, &Value> =
        payloads.iter().map(|p| (p["type"].as_str().unwrap(), &p["data"])).collect();
    let uid = by_type["user.registered"]["uid"].clone();
    for payload in &payloads {
        assert_eq!(payload["data"]["uid"], uid, "{payload}");
        assert_eq!(payload["data"]["account"], account.as_str(), "{payload}");
        let timestamp = payload["timestamp"].as_str().unwrap();
        assert!(timestamp.len() == 24 && timestamp.ends_with('Z'), "RFC 3339 with ms: {timestamp}");
    }
    assert_eq!(by_type["user.registered"]["method"], "password");
    assert_eq!(by_type["user.registered"]["phone"], masked(&phone));
    assert_eq!(by_type["user.phone_changed"]["phone"], masked(&new_phone));
    assert_eq!(by_type["user.phone_changed"]["previous_phone"], masked(&phone));
    assert_eq!(by_type["user.deleted"]["phone"], masked(&new_phone));
    // The values of `field` in the events of type `of`.
    let values = |of: &str, field: &str| -> HashSet<&str> {
        payloads.iter().filter(|p| p["type"] == of).map(|p| p["data"][field].as_str().unwrap()).collect()
    };
    assert_eq!(values("user.signed_in", "method"), HashSet::from(["password", "sms"]));
    assert_eq!(values("session.revoked", "scope"), HashSet::from(["others", "session"]));
    assert!(by_type["user.deletion_scheduled"]["delete_after"].as_str().unwrap().ends_with('Z'));
    let sids: HashSet<&str> = payloads.iter().filter_map(|p| p["data"]["sid"].as_str()).collect();
    let changed_sid = by_type["user.password_changed"]["sid"].as_str().unwrap();
    assert!(changed_sid.len() == 22 && sids.contains(changed_sid), "the session a change keeps is named");

    let newcomers = deliveries_of(&receiver, &format!(r#""account":"{newcomer}""#), 2);
    let mut newcomer_types: Vec<&str> =
        newcomers.iter().map(|d| d["payload"]["type"].as_str().unwrap()).collect();
    newcomer_types.sort();
    assert_eq!(newcomer_types, ["user.registered", "user.signed_in"]);
    assert!(newcomers.iter().all(|d| d["payload"]["data"]["method"] == "sms"));

    let tries = deliveries_of(&receiver, &flaky, 3);
    let at: Vec<u64> = tries.iter().map(|d| d["at_ms"].as_u64().unwrap()).collect();
    assert!(at.len() == 3 && at[1] - at[0] >= 1_000 && at[2] - at[1] >= 3_000, "tried at {at:?}");
    assert!(tries.iter().all(|d| d["id"] == tries[0]["id"]), "{tries:#?}");
    let slow = deliveries_of(&receiver, &patient, 4);
    let answered: Vec<&Value> = slow.iter().map(|d| &d["status"]).collect();
    assert_eq!(answered, [&json!(200); 4], "each taken at the first try, after 5 s");

    // Every delivery: verified by the library, refused by it under another secret, once
    // (each event its own id), and nothing in it that is secret or unmasked.
    let everything: Vec<Value> =
        receiver.deliveries().into_iter().filter(|d| !d["body"].as_str().unwrap().contains(&flaky)).collect();
    let everything: Vec<Value> =
        everything.into_iter().filter(|d| !d["body"].as_str().unwrap().contains(&patient)).collect();
    assert_eq!(everything.len(), expected.len() + 2, "one delivery each: {everything:#?}");
    let ids: HashSet<&str> = everything.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), everything.len());
    for delivery in &everything {
        assert_eq!(
            (&delivery["verified"], &delivery["forged_rejected"]),
            (&json!(true), &json!(true)),
            "{delivery}"
        );
        assert_eq!(delivery["path"], "/events");
        let body = delivery["body"].as_str().unwrap();
        for secret in &secrets {
            assert!(!body.contains(secret.as_str()), "{secret} is in {body}");
        }
        for number in [&phone, &new_phone, &newcomer_phone] {
            assert!(!body.contains(number.as_str()), "{number} is in {body}");
        }
    }
}

/// `13912345678` as events show it: `+86139****5678`.
fn masked(national: &str) -> String {
    format!("+86{}****{}", &national[..3], &national[7..])
}

fn a_delivery_that_fails_or_times_out_is_retried_with_its_id_until_the_dead_letter_queue() {
    // Retries at once, so that all eleven tries of one that always fails come in seconds;
    // a try that takes over a second has timed out.
    let (receiver, worker) = worker_with_events("0", "1000");
    let client = worker.client();
    let (flaky, doomed, slow) = (unique_account(), unique_account(), unique_account());
    receiver.add_rule(&flaky, json!({ "status": 503, "times": 2 }));
    receiver.add_rule(&doomed, json!({ "status": 500 }));
    receiver.add_rule(&slow, json!({ "hang_ms": 3000, "times": 1 }));
    for account in [&flaky, &doomed, &slow] {
        let phone = unique_phone();
        let code = send_code(&client, &phone);
        client.post("/login/register", &registration(account, PASSWORD, &phone, &code)).expect(200, 200);
    }

    // Refused twice, then taken: three tries of one event, one id.
    let tries = deliveries_of(&receiver, &flaky, 3);
    let statuses: Vec<u64> = tries.iter().map(|d| d["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [503, 503, 200]);
    assert!(tries.iter().all(|d| d["id"] == tries[0]["id"] && d["verified"] == true), "{tries:#?}");

    // No answer within the second: tried again, with the same id.
    let tries = deliveries_of(&receiver, &slow, 2);
    assert_eq!(tries.len(), 2, "{tries:#?}");
    assert_eq!(tries[0]["id"], tries[1]["id"]);
    let line = worker.wait_for_log_line("within 1000 ms");
    assert!(line.contains("event_delivery_failed"), "{line}");

    // Always refused: the first try and max_retries (10) more, then the dead-letter queue,
    // whose consumer logs it.
    let tries = deliveries_of(&receiver, &doomed, 11);
    assert_eq!(tries.len(), 11, "{tries:#?}");
    let id = tries[0]["id"].as_str().unwrap();
    assert!(tries.iter().all(|d| d["id"] == id));
    let undelivered = json_in_log_line(&worker.wait_for_log_line("event_undelivered"));
    assert_eq!((undelivered["id"].as_str(), &undelivered["type"]), (Some(id), &json!("user.registered")));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(deliveries_of(&receiver, &doomed, 0).len(), 11, "nothing after the dead-letter queue");
}

/// The receiver the README shows, run as written (on a free port rather than 9000), with
/// the worker's events sent to it: it prints each event once, and refuses what is not
/// signed with its secret.
fn the_readmes_receiver_takes_each_event_once_and_refuses_a_forgery() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = &readme[readme.find("## Events to your backend").expect("the README's events section")..];
    let start = section.find("```js\n").expect("a receiver in the section") + 6;
    let code = &section[start..start + section[start..].find("```").unwrap()];
    let port = free_port();
    assert!(code.contains(".listen(9000)"), "{code}");
    // Beside node_modules, whose standardwebhooks it imports.
    let dir = root.join("target/e2e").join(format!("readme-receiver-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("receiver.mjs");
    std::fs::write(&script, code.replace(".listen(9000)", &format!(".listen({port})"))).unwrap();
    let output = dir.join("out.txt");
    let mut receiver = node()
        .arg(&script)
        .env("EVENTS_WEBHOOK_SECRET", SECRET)
        .stdout(std::fs::File::create(&output).unwrap())
        .spawn()
        .expect("start the README's receiver");
    let url = format!("http://127.0.0.1:{port}/");
    let worker = TestWorker::start_with(
        &fresh_state_dir(),
        &[("EVENTS_WEBHOOK_URL", &url), ("EVENTS_WEBHOOK_SECRET", SECRET)],
    );
    let client = worker.client();
    let (account, _) = new_user(&client);
    log_in(&client, &account, PASSWORD);
    let printed = || std::fs::read_to_string(&output).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(30);
    while printed().lines().count() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let forged = ureq::post(&url)
        .set("webhook-id", "msg_forged")
        .set(
            "webhook-timestamp",
            &(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs())
                .to_string(),
        )
        .set("webhook-signature", "v1,bm90IGEgc2lnbmF0dXJlIGF0IGFsbCwgbm90IGF0IGFsbCE=")
        .send_string(r#"{"type":"user.deleted","timestamp":"2026-12-07T00:00:00.000Z","data":{}}"#);
    let _ = receiver.kill();
    let _ = receiver.wait();
    assert_eq!(forged.map_err(|e| e.into_response().map(|r| r.status())).unwrap_err(), Some(401));
    let lines: Vec<String> = printed().lines().map(String::from).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let mut types: Vec<&str> = lines.iter().map(|line| line.split(' ').next().unwrap()).collect();
    types.sort();
    assert_eq!(types, ["user.registered", "user.signed_in"]);
    assert!(lines.iter().all(|line| line.ends_with(&format!(" {account}"))), "{lines:?}");
    worker.stop();
}
