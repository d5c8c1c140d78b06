//! The account centre: "your devices" (`/login/sessions/list`, and deactivate's `sid` and
//! `scope: "others"`).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::{Client, Reply};
use crate::support::*;
use crate::worker::TestWorker;
use crate::SharedTest;

pub const SHARED_TESTS: &[SharedTest] = tests![
    your_devices_lists_each_login_and_ends_one_of_them_by_its_id,
    everywhere_else_ends_every_session_but_this_one,
    a_sid_of_another_user_or_none_is_9906_and_shows_nothing,
];

/// A login of `account` from a device: its `User-Agent` and address.
fn log_in_on(client: &Client, account: &str, user_agent: &str, ip: &str) -> (String, String) {
    let body = json!({ "account": account, "pwd": PASSWORD });
    let reply =
        client.post_with("/login/jwt/get", &body, &[("User-Agent", user_agent), ("CF-Connecting-IP", ip)]);
    reply.expect(200, 200);
    let data = reply.data();
    (data["jwt"].as_str().unwrap().to_string(), data["refresh_jwt"].as_str().unwrap().to_string())
}

fn list(client: &Client, jwt: &str) -> Reply {
    client.post("/login/sessions/list", &json!({ "jwt": jwt }))
}

/// The list once it holds `expected` sessions: each is recorded after its login's answer,
/// a moment later.
fn listed(client: &Client, jwt: &str, expected: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let reply = list(client, jwt);
        reply.expect(200, 200);
        let sessions = reply.data().as_array().unwrap().clone();
        if sessions.len() == expected || Instant::now() > deadline {
            return sessions;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn deactivate(client: &Client, body: Value) -> Reply {
    client.post("/login/jwt/deactivate", &body)
}

fn status(client: &Client, jwt: &str) -> Reply {
    client.post("/login/jwt/status", &json!({ "jwt": jwt }))
}

fn your_devices_lists_each_login_and_ends_one_of_them_by_its_id(worker: &TestWorker) {
    let client = worker.client();
    let (account, _) = new_user(&client);
    let (phone_jwt, _) = log_in_on(&client, &account, "PhoneApp/2.1 (iOS 18)", "203.0.113.77");
    std::thread::sleep(Duration::from_millis(1_100));
    let (laptop_jwt, laptop_refresh) = log_in_on(&client, &account, "Mozilla/5.0 (X11)", "2001:db8:7:8::9");
    let sessions = listed(&client, &phone_jwt, 2);
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let (laptop, phone) = (&sessions[0], &sessions[1]);
    assert_eq!(
        (laptop["user_agent"].as_str(), laptop["address"].as_str(), laptop["current"].as_bool()),
        (Some("Mozilla/5.0 (X11)"), Some("2001:db8:7::/48"), Some(false)),
        "newest first: {sessions:?}"
    );
    assert_eq!(
        (phone["user_agent"].as_str(), phone["address"].as_str(), phone["current"].as_bool()),
        (Some("PhoneApp/2.1 (iOS 18)"), Some("203.0.113.0/24"), Some(true))
    );
    let fields = ["sid", "current", "created_date", "last_used_date", "user_agent", "country", "address"];
    for session in &sessions {
        let keys: Vec<&str> = session.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), fields.len(), "{session}");
        assert!(fields.iter().all(|field| keys.contains(field)), "{session}");
        assert!(session["country"].is_string(), "{session}");
        let date = session["created_date"].as_str().unwrap();
        assert!(date.len() == 19 && date.as_bytes()[10] == b' ', "as iat_date: {date}");
    }
    // The sid is the tokens' own.
    assert_eq!(token_part(&laptop_jwt, 1)["sid"], laptop["sid"]);
    // A Bearer header works as the body's jwt does.
    let by_header = client.post_with(
        "/login/sessions/list",
        &json!({}),
        &[("Authorization", &format!("Bearer {laptop_jwt}"))],
    );
    by_header.expect(200, 200);
    assert_eq!(
        by_header.data().as_array().unwrap().iter().filter(|s| s["current"] == json!(true)).count(),
        1
    );

    // The phone ends the laptop's session, and only that one.
    deactivate(&client, json!({ "jwt": phone_jwt, "sid": laptop["sid"] })).expect(200, 200);
    status(&client, &laptop_jwt).expect(9908, 401);
    client.post("/login/jwt/refresh", &json!({ "jwt": laptop_refresh })).expect(9908, 401);
    status(&client, &phone_jwt).expect(200, 200);
    let left = listed(&client, &phone_jwt, 1);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["sid"], phone["sid"]);
    // Ended already: unknown.
    let again = deactivate(&client, json!({ "jwt": phone_jwt, "sid": laptop["sid"] }));
    again.expect(9906, 422);
    assert_eq!(again.msg(), "数据验证失败，原因如下：sid 不存在");
    // A refresh token lists nothing.
    let (_, refresh) = log_in(&client, &account, PASSWORD);
    list(&client, &refresh).expect(9908, 401);
}

fn everywhere_else_ends_every_session_but_this_one(worker: &TestWorker) {
    let client = worker.client();
    let (account, _) = new_user(&client);
    let tokens: Vec<(String, String)> = (0..3).map(|_| log_in(&client, &account, PASSWORD)).collect();
    let (kept, kept_refresh) = &tokens[1];
    listed(&client, kept, 3);
    deactivate(&client, json!({ "jwt": kept, "scope": "others" })).expect(200, 200);
    for (jwt, refresh) in [&tokens[0], &tokens[2]] {
        status(&client, jwt).expect(9908, 401);
        client.post("/login/jwt/refresh", &json!({ "jwt": refresh })).expect(9908, 401);
    }
    status(&client, kept).expect(200, 200);
    let left = listed(&client, kept, 1);
    assert_eq!((left.len(), &left[0]["current"]), (1, &json!(true)), "{left:?}");
    // It refreshes into the new epoch and stays listed; a new login stands beside it.
    let refreshed = client.post("/login/jwt/refresh", &json!({ "jwt": kept_refresh }));
    refreshed.expect(200, 200);
    let fresh = refreshed.data().as_str().unwrap().to_string();
    status(&client, &fresh).expect(200, 200);
    let (later, _) = log_in(&client, &account, PASSWORD);
    assert_eq!(listed(&client, &later, 2).len(), 2);
    // "all" ends both.
    deactivate(&client, json!({ "jwt": fresh, "scope": "all" })).expect(200, 200);
    status(&client, &fresh).expect(9908, 401);
    status(&client, &later).expect(9908, 401);
}

fn a_sid_of_another_user_or_none_is_9906_and_shows_nothing(worker: &TestWorker) {
    let client = worker.client();
    let (mine, _) = new_session(&client);
    let (theirs, _) = new_session(&client);
    let their_sid = token_part(&theirs, 1)["sid"].clone();
    for sid in [their_sid, json!("no-such-session")] {
        let reply = deactivate(&client, json!({ "jwt": mine, "sid": sid }));
        reply.expect(9906, 422);
        assert_eq!(reply.msg(), "数据验证失败，原因如下：sid 不存在");
        assert_eq!(reply.data(), json!([]), "nothing of theirs: {}", reply.text);
    }
    status(&client, &theirs).expect(200, 200);
    // Every list is of its own user's sessions only.
    for jwt in [&mine, &theirs] {
        let sessions = listed(&client, jwt, 1);
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0]["sid"], token_part(jwt, 1)["sid"]);
    }
    // Bad input, every field named.
    let cases = [
        (json!({ "jwt": mine, "sid": 7 }), "sid 只能是字符串"),
        (json!({ "jwt": mine, "sid": "" }), "sid 必填"),
        (json!({ "jwt": mine, "scope": "all", "sid": "x" }), "sid 只能与 scope session 一起使用"),
        (json!({ "jwt": mine, "scope": "everything" }), "scope 范围只能是 session、others 或 all"),
    ];
    for (body, reason) in cases {
        let reply = deactivate(&client, body.clone());
        reply.expect(9906, 422);
        assert_eq!(reply.msg(), format!("数据验证失败，原因如下：{reason}"), "{body}");
    }
    status(&client, &mine).expect(200, 200);
}
