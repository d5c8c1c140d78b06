//! The account centre: "your devices" (`/login/sessions/list`, and deactivate's `sid` and
//! `scope: "others"`), a new phone number (`/login/phone/change`), and leaving (`/login/account/delete`, the Cron Trigger that
//! removes the account, a code sign-in that restores it).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::client::{Client, Reply};
use crate::concurrency::at_once;
use crate::support::*;
use crate::worker::{TestWorker, TEST_JWT_SECRET};
use crate::SharedTest;
use login_worker::domain::key_ring::KeyRing;
use login_worker::domain::random::SecureRandom;
use login_worker::domain::token::{issue, NewToken, TokenKind, TokenScope, UserData};

pub const SHARED_TESTS: &[SharedTest] = tests![
    your_devices_lists_each_login_and_ends_one_of_them_by_its_id,
    everywhere_else_ends_every_session_but_this_one,
    a_sid_of_another_user_or_none_is_9906_and_shows_nothing,
    leaving_ends_every_session_and_a_code_sign_in_within_the_grace_restores_the_account,
    a_deletion_by_code_takes_only_a_delete_code_of_the_accounts_own_phone,
    a_phone_change_proves_the_password_and_the_new_number_and_ends_every_other_session,
    of_two_users_racing_for_one_number_one_wins_and_the_other_gets_50007,
];

/// On the worker whose deletions are due at once (`ACCOUNT_DELETE_GRACE_DAYS=0`,
/// `main::ROTATING`).
pub const NO_GRACE_TESTS: &[SharedTest] =
    tests![past_the_grace_the_cron_removes_the_account_once_and_frees_its_name_and_phone];

/// On the worker that makes a user at a code sign-in (`SMS_SIGNUP=true`, `main::ROTATING`).
pub const SIGNUP_TESTS: &[SharedTest] =
    tests![an_account_without_a_password_changes_its_phone_after_a_recent_sign_in_only];

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
    // Their session's record is there: only whose it is refuses it.
    assert_eq!(listed(&client, &theirs, 1)[0]["sid"], their_sid);
    for sid in [their_sid, json!("no-such-session")] {
        let reply = deactivate(&client, json!({ "jwt": mine, "sid": sid }));
        reply.expect(9906, 422);
        assert_eq!(reply.msg(), "数据验证失败，原因如下：sid 不存在");
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

fn delete_account(client: &Client, body: Value) -> Reply {
    client.post("/login/account/delete", &body)
}

fn sign_in_with_code(client: &Client, phone: &str) -> Reply {
    let code = send_code_for(client, phone, "login");
    client.post("/login/jwt/sms", &json!({ "phone": phone, "code": code }))
}

/// The user's row in D1, if it is still there.
fn user_row(worker: &TestWorker, account: &str) -> Option<Value> {
    worker.query(&format!("SELECT id, delete_after_ms FROM users WHERE account = '{account}'")).pop()
}

fn leaving_ends_every_session_and_a_code_sign_in_within_the_grace_restores_the_account(worker: &TestWorker) {
    let client = worker.client();
    let (account, phone) = new_user(&client);
    let (jwt, refresh) = log_in(&client, &account, PASSWORD);
    let (other, _) = log_in(&client, &account, PASSWORD);
    delete_account(&client, json!({ "jwt": jwt, "pwd": "wrong_guess" })).expect(50006, 401);
    status(&client, &jwt).expect(200, 200);
    assert_eq!(user_row(worker, &account).unwrap()["delete_after_ms"], Value::Null);

    let asked_at =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let reply = delete_account(&client, json!({ "jwt": jwt, "pwd": PASSWORD }));
    reply.expect(200, 200);
    let date = reply.data()["delete_date"].as_str().unwrap().to_string();
    assert!(date.len() == 19 && date.as_bytes()[10] == b' ', "as iat_date: {date}");
    let due = user_row(worker, &account).unwrap()["delete_after_ms"].as_u64().unwrap();
    let fifteen_days = 15 * 86_400_000;
    assert!(due >= asked_at + fifteen_days - 5_000 && due <= asked_at + fifteen_days + 60_000, "{due}");
    // Every way in is closed: tokens, the old refresh token replayed, the password, the list.
    for token in [&jwt, &other] {
        status(&client, token).expect(9908, 401);
    }
    client.post("/login/jwt/refresh", &json!({ "jwt": refresh })).expect(9908, 401);
    list(&client, &other).expect(9908, 401);
    client.post("/login/jwt/get", &json!({ "account": account, "pwd": PASSWORD })).expect(50006, 401);

    let restored = sign_in_with_code(&client, &phone);
    restored.expect(200, 200);
    assert_eq!(restored.data()["restored"], json!(true), "{}", restored.text);
    status(&client, restored.data()["jwt"].as_str().unwrap()).expect(200, 200);
    assert_eq!(user_row(worker, &account).unwrap()["delete_after_ms"], Value::Null);
    log_in(&client, &account, PASSWORD);
    // The sessions it ended stay ended.
    client.post("/login/jwt/refresh", &json!({ "jwt": refresh })).expect(9908, 401);
    status(&client, &other).expect(9908, 401);
    // Said once: the next sign-in restores nothing.
    let again = sign_in_with_code(&client, &phone);
    again.expect(200, 200);
    assert!(again.data().get("restored").is_none(), "{}", again.text);
}

fn a_deletion_by_code_takes_only_a_delete_code_of_the_accounts_own_phone(worker: &TestWorker) {
    let client = worker.client();
    let (account, phone) = new_user(&client);
    let (jwt, refresh) = log_in(&client, &account, PASSWORD);
    let code = send_code_for(&client, &phone, "delete");
    let wrong = if code == "111111" { "222222" } else { "111111" };
    delete_account(&client, json!({ "jwt": jwt, "code": wrong })).expect(50001, 400);
    delete_account(&client, json!({ "jwt": refresh, "code": code })).expect(9908, 401);
    let both = delete_account(&client, json!({ "jwt": jwt, "code": code, "pwd": PASSWORD }));
    both.expect(9906, 422);
    assert_eq!(both.msg(), "数据验证失败，原因如下：pwd 密码与 code 只能给一个");
    // Another user's delete code does not delete this one.
    let (stranger, stranger_phone) = new_user(&client);
    let (stranger_jwt, _) = log_in(&client, &stranger, PASSWORD);
    let theirs = send_code_for(&client, &stranger_phone, "delete");
    delete_account(&client, json!({ "jwt": jwt, "code": theirs })).expect(50001, 400);
    status(&client, &jwt).expect(200, 200);
    delete_account(&client, json!({ "jwt": jwt, "code": code })).expect(200, 200);
    status(&client, &jwt).expect(9908, 401);
    status(&client, &stranger_jwt).expect(200, 200);
    // Used up, and the token is over anyway.
    delete_account(&client, json!({ "jwt": jwt, "code": code })).expect(9908, 401);
}

fn scheduled(client: &Client) -> Reply {
    client.request("GET", "/__scheduled?cron=17+*+*+*+*", &[], None)
}

fn past_the_grace_the_cron_removes_the_account_once_and_frees_its_name_and_phone(worker: &TestWorker) {
    let client = worker.client();
    let users: Vec<(String, String)> = (0..3).map(|_| new_user(&client)).collect();
    let ((gone, gone_phone), (also_gone, also_gone_phone), (kept_back, _)) =
        (&users[0], &users[1], &users[2]);
    let gone_id = user_row(worker, gone).unwrap()["id"].as_u64().unwrap();
    // A trigger of the operator's that refuses one user's removal: the run goes on.
    let blocked = user_row(worker, kept_back).unwrap()["id"].as_u64().unwrap();
    worker.query(&format!(
        "CREATE TRIGGER keep_{blocked} BEFORE DELETE ON users WHEN OLD.id = {blocked} \
         BEGIN SELECT RAISE(ABORT, 'kept by the test'); END"
    ));
    for (account, _) in &users {
        let (jwt, _) = log_in(&client, account, PASSWORD);
        listed(&client, &jwt, 1);
        delete_account(&client, json!({ "jwt": jwt, "pwd": PASSWORD })).expect(200, 200);
    }
    // Due at once: past the grace, a code sign-in no longer restores it, and a reset sends
    // nothing (a decoy, which exposes no code).
    sign_in_with_code(&client, also_gone_phone).expect(50001, 400);
    let reset = client.post("/login/send/sms", &json!({ "phone": users[2].1, "purpose": "reset" }));
    reset.expect(200, 200);
    assert_eq!(reset.data(), json!([]), "a decoy: {}", reset.text);

    // Two runs at once remove each account once.
    for run in at_once(worker, 2, |_, client| scheduled(client)) {
        assert_eq!(run.status, 200, "{}", run.text);
    }
    worker.wait_for_log_line(&format!("remove user {blocked}, due for deletion"));
    // Each run logs what it removed: the two accounts, once in all (the second finds
    // nothing, or what the first left).
    let runs = |log: String| -> Vec<Value> {
        log.lines().filter(|line| line.contains("accounts_removed")).map(json_in_log_line).collect()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while runs(worker.log()).len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let logged = runs(worker.log());
    assert_eq!(logged.len(), 2, "{logged:?}");
    let removed: u64 = logged.iter().map(|line| line["removed"].as_u64().unwrap()).sum();
    let failed: u64 = logged.iter().map(|line| line["failed"].as_u64().unwrap()).sum();
    assert_eq!(removed, 2, "{logged:?}");
    assert!(failed >= 1, "the blocked account's removal failed: {logged:?}");
    assert!(user_row(worker, gone).is_none() && user_row(worker, also_gone).is_none());
    assert!(user_row(worker, kept_back).is_some(), "its removal failed, and only its");
    let left = worker.queries(&[
        &format!("SELECT count(*) AS n FROM sessions WHERE user_id = {gone_id}"),
        &format!("SELECT count(*) AS n FROM user_roles WHERE user_id = {gone_id}"),
        &format!("SELECT count(*) AS n FROM session_cutoffs WHERE user_id = {gone_id}"),
    ]);
    assert!(left.iter().all(|rows| rows[0]["n"] == json!(0)), "{left:?}");
    // The name and the phone are free again.
    let code = send_code(&client, gone_phone);
    client.post("/login/register", &registration(gone, PASSWORD, gone_phone, &code)).expect(200, 200);

    worker.query(&format!("DROP TRIGGER keep_{blocked}"));
    assert_eq!(scheduled(&client).status, 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    while user_row(worker, kept_back).is_some() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(user_row(worker, kept_back).is_none(), "the next run removes it");
}

/// Sends a code for a phone change to `phone`, asked with `jwt`.
fn send_change_code(client: &Client, phone: &str, jwt: &str) -> Reply {
    client.post("/login/send/sms", &json!({ "phone": phone, "purpose": "change_phone", "jwt": jwt }))
}

fn change_phone(client: &Client, body: Value) -> Reply {
    client.post("/login/phone/change", &body)
}

fn phone_of(worker: &TestWorker, account: &str) -> String {
    let row = worker.query(&format!("SELECT phone FROM users WHERE account = '{account}'")).pop().unwrap();
    row["phone"].as_str().unwrap().to_string()
}

fn a_phone_change_proves_the_password_and_the_new_number_and_ends_every_other_session(worker: &TestWorker) {
    let client = worker.client();
    let (account, old_phone) = new_user(&client);
    let (jwt, refresh) = log_in(&client, &account, PASSWORD);
    let (other, other_refresh) = log_in(&client, &account, PASSWORD);
    let new_phone = unique_phone();

    // The send needs the user's access token.
    let without = client.post("/login/send/sms", &json!({ "phone": new_phone, "purpose": "change_phone" }));
    without.expect(9906, 422);
    assert_eq!(without.msg(), "数据验证失败，原因如下：jwt 必填");
    send_change_code(&client, &new_phone, &refresh).expect(9908, 401);
    let sent = send_change_code(&client, &new_phone, &jwt);
    sent.expect(200, 200);
    let code = sent.data()["code"].as_str().unwrap().to_string();
    let wrong = if code == "111111" { "222222" } else { "111111" };

    let body = |token: &str, code: &str, pwd: Option<&str>| json!({ "jwt": token, "phone": new_phone, "code": code, "pwd": pwd });
    let missing = change_phone(&client, body(&jwt, &code, None));
    missing.expect(9906, 422);
    assert_eq!(missing.msg(), "数据验证失败，原因如下：pwd 密码必填");
    change_phone(&client, body(&refresh, &code, Some(PASSWORD))).expect(9908, 401);
    change_phone(&client, body(&jwt, &code, Some("wrong_guess"))).expect(50006, 401);
    change_phone(&client, body(&jwt, wrong, Some(PASSWORD))).expect(50001, 400);
    let abroad = json!({ "jwt": jwt, "phone": "+447700900123", "code": code, "pwd": PASSWORD });
    change_phone(&client, abroad).expect(9906, 422);
    assert_eq!(phone_of(worker, &account), format!("+86{old_phone}"));
    status(&client, &other).expect(200, 200);

    // The code survived the failures above: each gave it back.
    let changed = change_phone(&client, body(&jwt, &code, Some(PASSWORD)));
    changed.expect(200, 200);
    assert_eq!(changed.data(), json!([]));
    assert_eq!(phone_of(worker, &account), format!("+86{new_phone}"));
    status(&client, &jwt).expect(200, 200);
    client.post("/login/jwt/refresh", &json!({ "jwt": refresh })).expect(200, 200);
    status(&client, &other).expect(9908, 401);
    client.post("/login/jwt/refresh", &json!({ "jwt": other_refresh })).expect(9908, 401);
    listed(&client, &jwt, 1);
    // Used up.
    change_phone(&client, body(&jwt, &code, Some(PASSWORD))).expect(50001, 400);

    // The new number signs in to the account; the old one has no user now.
    let signed_in = sign_in_with_code(&client, &new_phone);
    signed_in.expect(200, 200);
    let token = signed_in.data()["jwt"].as_str().unwrap().to_string();
    assert_eq!(status(&client, &token).data()["account"], json!(account));
    let old = client.post("/login/send/sms", &json!({ "phone": old_phone, "purpose": "login" }));
    old.expect(200, 200);
    assert_eq!(old.data(), json!([]), "a decoy for a phone without a user: {}", old.text);

    // Another user's code for a number does not change this account's.
    let (stranger, _) = new_user(&client);
    let (stranger_jwt, _) = log_in(&client, &stranger, PASSWORD);
    let third_phone = unique_phone();
    let theirs = send_change_code(&client, &third_phone, &stranger_jwt);
    theirs.expect(200, 200);
    let theirs = theirs.data()["code"].as_str().unwrap().to_string();
    let mine = json!({ "jwt": token, "phone": third_phone, "code": theirs, "pwd": PASSWORD });
    change_phone(&client, mine).expect(50001, 400);
    assert_eq!(phone_of(worker, &account), format!("+86{new_phone}"));
}

fn of_two_users_racing_for_one_number_one_wins_and_the_other_gets_50007(worker: &TestWorker) {
    let client = worker.client();
    let users: Vec<(String, String)> = (0..2).map(|_| new_user(&client)).collect();
    let tokens: Vec<String> = users.iter().map(|(account, _)| log_in(&client, account, PASSWORD).0).collect();
    let number = unique_phone();
    // Each asks for a code to the number and changes to it, at once. The number has one
    // live code at a time, so the second send waits (50017) until the first code is
    // taken; neither send is refused for the number being someone's.
    let (race_tokens, race_number) = (tokens.clone(), number.clone());
    let replies = at_once(worker, 2, move |i, client| {
        let deadline = Instant::now() + Duration::from_secs(20);
        let code = loop {
            let sent = send_change_code(client, &race_number, &race_tokens[i]);
            if sent.code() == 200 {
                break sent.data()["code"].as_str().unwrap().to_string();
            }
            assert_eq!(sent.code(), 50017, "{}", sent.text);
            assert!(Instant::now() < deadline, "no code for user {i}");
            std::thread::sleep(Duration::from_millis(20));
        };
        let body = json!({ "jwt": race_tokens[i], "phone": race_number, "code": code, "pwd": PASSWORD });
        change_phone(client, body)
    });
    let mut codes: Vec<u64> = replies.iter().map(Reply::code).collect();
    codes.sort_unstable();
    assert_eq!(codes, [200, 50007], "{:?}", replies.iter().map(|reply| &reply.text).collect::<Vec<_>>());
    let loser = replies.iter().position(|reply| reply.code() == 50007).unwrap();
    replies[loser].expect(50007, 409);
    assert_eq!(replies[loser].msg(), format!("用户 +86{number} 已注册"));
    let (winner_account, _) = &users[1 - loser];
    let (loser_account, loser_phone) = &users[loser];
    assert_eq!(phone_of(worker, winner_account), format!("+86{number}"));
    assert_eq!(phone_of(worker, loser_account), format!("+86{loser_phone}"));
    let holders = worker.query(&format!("SELECT id FROM users WHERE phone = '+86{number}'"));
    assert_eq!(holders.len(), 1);
    // Nothing of the loser's was touched.
    status(&client, &tokens[loser]).expect(200, 200);
}

fn an_account_without_a_password_changes_its_phone_after_a_recent_sign_in_only(worker: &TestWorker) {
    let client = worker.client();
    let first_phone = unique_phone();
    let signed_in = sign_in_with_code(&client, &first_phone);
    signed_in.expect(200, 200);
    assert_eq!(signed_in.data()["new_user"], json!(true), "{}", signed_in.text);
    let jwt = signed_in.data()["jwt"].as_str().unwrap().to_string();
    let refresh = signed_in.data()["refresh_jwt"].as_str().unwrap().to_string();
    let signed_in_at = token_part(&jwt, 1)["auth_time"].as_u64().expect("auth_time");
    // A refresh (rotating here) keeps the sign-in's time.
    let refreshed = client.post("/login/jwt/refresh", &json!({ "jwt": refresh }));
    refreshed.expect(200, 200);
    let fresh = refreshed.data()["jwt"].as_str().unwrap().to_string();
    assert_eq!(token_part(&fresh, 1)["auth_time"], json!(signed_in_at));

    // A token of the same session whose sign-in is 11 minutes old: sign in again.
    let user: UserData = serde_json::from_value(token_part(&jwt, 1)["data"].clone()).unwrap();
    let payload = token_part(&jwt, 1);
    let sid = payload["sid"].as_str().unwrap();
    let keys = KeyRing::hs256(TEST_JWT_SECRET).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let epoch = payload["epoch"].as_u64().unwrap();
    let old_sign_in = NewToken {
        kind: TokenKind::Access,
        user: &user,
        sid,
        ttl_seconds: 600,
        jti: None,
        epoch,
        auth_time: Some(now - 660),
    };
    let scope = TokenScope { issuer: "login".into(), audience: "login".into() };
    let stale = issue(&keys, &scope, old_sign_in, now * 1000, &SecureRandom).unwrap();
    status(&client, &stale).expect(200, 200);

    let new_phone = unique_phone();
    let code = send_change_code(&client, &new_phone, &fresh);
    code.expect(200, 200);
    let code = code.data()["code"].as_str().unwrap().to_string();
    let again = change_phone(&client, json!({ "jwt": stale, "phone": new_phone, "code": code }));
    again.expect(9908, 401);
    assert_eq!(again.msg(), "认证失败：需要重新登录");
    // A fresh sign-in needs no password (and the code was not spent).
    change_phone(&client, json!({ "jwt": fresh, "phone": new_phone, "code": code })).expect(200, 200);
    let account = status(&client, &fresh).data()["account"].as_str().unwrap().to_string();
    assert_eq!(phone_of(worker, &account), format!("+86{new_phone}"));
}
