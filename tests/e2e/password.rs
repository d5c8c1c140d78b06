//! Getting back in: a password reset by SMS code, and a password change. Both end every
//! session of the user.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::client::{Client, Reply};
use crate::concurrency::{at_once, codes};
use crate::fake_provider::{sends_answer_alike, FakeProvider, Kind};
use crate::support::*;
use crate::worker::{fresh_state_dir, TestWorker};
use crate::{OwnTest, SharedTest};

pub const SHARED_TESTS: &[SharedTest] = tests![
    a_reset_replaces_the_password_and_ends_every_session,
    a_code_serves_only_the_purpose_it_was_sent_for,
    a_wrong_purpose_counts_as_a_wrong_guess,
    five_wrong_reset_guesses_kill_the_code,
    ten_concurrent_resets_with_one_code_succeed_once,
    a_reset_clears_a_lock_out,
    a_change_ends_every_session_and_keeps_the_caller_signed_in,
    a_wrong_current_password_counts_toward_the_accounts_limit,
    a_change_takes_only_a_live_access_token,
];

pub const OWN_TESTS: &[OwnTest] =
    tests![a_reset_send_to_a_phone_without_a_user_answers_alike_and_keeps_nothing];

const NEW_PASSWORD: &str = "new_secret_9";

fn reset_body(phone: &str, code: &str, password: &str) -> Value {
    json!({ "phone": phone, "code": code, "password": password, "password_confirmation": password })
}

fn reset(client: &Client, phone: &str, code: &str) -> Reply {
    client.post("/login/password/reset", &reset_body(phone, code, NEW_PASSWORD))
}

fn change(client: &Client, jwt: &str, pwd: &str) -> Reply {
    let body =
        json!({ "jwt": jwt, "pwd": pwd, "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD });
    client.post("/login/password/change", &body)
}

fn log_in_reply(client: &Client, account: &str, pwd: &str) -> Reply {
    client.post("/login/jwt/get", &json!({ "account": account, "pwd": pwd }))
}

fn status(client: &Client, jwt: &str) -> Reply {
    client.post("/login/jwt/status", &json!({ "jwt": jwt }))
}

fn refresh(client: &Client, refresh_jwt: &str) -> Reply {
    client.post("/login/jwt/refresh", &json!({ "jwt": refresh_jwt }))
}

fn other_than(code: &str) -> &'static str {
    if code == "000000" {
        "000001"
    } else {
        "000000"
    }
}

fn a_reset_replaces_the_password_and_ends_every_session(worker: &TestWorker) {
    let client = worker.client();
    let (account, phone) = new_user(&client);
    let (jwt, refresh_jwt) = log_in(&client, &account, PASSWORD);
    // Registering used the registration code up: the phone may ask again at once.
    let code = send_code_for(&client, &phone, "reset");
    let done = reset(&client, &phone, &code);
    done.expect(200, 200);
    assert_eq!(done.data(), json!([]));
    log_in_reply(&client, &account, PASSWORD).expect(50006, 401);
    let (fresh, _) = log_in(&client, &account, NEW_PASSWORD);
    status(&client, &fresh).expect(200, 200);
    status(&client, &jwt).expect(9908, 401);
    refresh(&client, &refresh_jwt).expect(9908, 401);
    // The code is used up, and no longer keeps the phone from a new one.
    reset(&client, &phone, &code).expect(50001, 400);
    send_code_for(&client, &phone, "reset");
}

fn a_code_serves_only_the_purpose_it_was_sent_for(worker: &TestWorker) {
    let client = worker.client();
    let (account, phone) = new_user(&client);
    // A registration code (a phone with a user can be sent one) does not reset; it still
    // passes registration's code check, which then finds the phone taken (50007 comes
    // after the code's 50001).
    let code = send_code(&client, &phone);
    reset(&client, &phone, &code).expect(50001, 400);
    client
        .post("/login/register", &registration(&unique_account(), PASSWORD, &phone, &code))
        .expect(50007, 409);
    log_in(&client, &account, PASSWORD);

    // A reset code does not register, and still resets (another user: the registration
    // code above, accepted and released, keeps its phone busy).
    let (account, phone) = new_user(&client);
    let code = send_code_for(&client, &phone, "reset");
    let other = registration(&unique_account(), PASSWORD, &phone, &code);
    client.post("/login/register", &other).expect(50001, 400);
    reset(&client, &phone, &code).expect(200, 200);
    log_in(&client, &account, NEW_PASSWORD);
}

fn a_wrong_purpose_counts_as_a_wrong_guess(worker: &TestWorker) {
    let client = worker.client();
    // A reset code tried at registration: one of its five guesses, so four more wrong
    // ones kill it.
    let (_, phone) = new_user(&client);
    let code = send_code_for(&client, &phone, "reset");
    client
        .post("/login/register", &registration(&unique_account(), PASSWORD, &phone, &code))
        .expect(50001, 400);
    for _ in 0..4 {
        reset(&client, &phone, other_than(&code)).expect(50001, 400);
    }
    reset(&client, &phone, &code).expect(50001, 400);

    // A registration code tried at a reset, likewise.
    let phone = unique_phone();
    let code = send_code(&client, &phone);
    reset(&client, &phone, &code).expect(50001, 400);
    for _ in 0..4 {
        let wrong = registration(&unique_account(), PASSWORD, &phone, other_than(&code));
        client.post("/login/register", &wrong).expect(50001, 400);
    }
    client
        .post("/login/register", &registration(&unique_account(), PASSWORD, &phone, &code))
        .expect(50001, 400);
}

fn five_wrong_reset_guesses_kill_the_code(worker: &TestWorker) {
    let client = worker.client();
    let (account, phone) = new_user(&client);
    let code = send_code_for(&client, &phone, "reset");
    for _ in 0..5 {
        reset(&client, &phone, other_than(&code)).expect(50001, 400);
    }
    reset(&client, &phone, &code).expect(50001, 400);
    // Dead for this address, the code still lives for others (it took 5 of its 20
    // guesses): asking again does not start a new count.
    client.post("/login/send/sms", &json!({ "phone": phone, "purpose": "reset" })).expect(50017, 429);
    log_in(&client, &account, PASSWORD);
}

fn ten_concurrent_resets_with_one_code_succeed_once(worker: &TestWorker) {
    let client = worker.client();
    let (account, phone) = new_user(&client);
    let code = send_code_for(&client, &phone, "reset");
    let passwords: Arc<Vec<String>> = Arc::new((0..10).map(|i| format!("racing_pw_{i}")).collect());
    let tried = Arc::clone(&passwords);
    let replies = at_once(worker, 10, move |i, client| {
        client.post("/login/password/reset", &reset_body(&phone, &code, &tried[i]))
    });
    let mut expected = vec![200];
    expected.extend([50001; 9]);
    assert_eq!(codes(&replies), expected, "{:?}", replies.iter().map(|r| &r.text).collect::<Vec<_>>());
    // The password is the winner's, and only the winner's.
    let winner = replies.iter().position(|reply| reply.code() == 200).unwrap();
    for (i, password) in passwords.iter().enumerate() {
        let expected = if i == winner { 200 } else { 50006 };
        assert_eq!(log_in_reply(&client, &account, password).code(), expected, "{password}");
    }
}

fn a_reset_clears_a_lock_out(worker: &TestWorker) {
    let client = worker.client();
    let (account, phone) = new_user(&client);
    for _ in 0..10 {
        log_in_reply(&client, &account, "wrong_pw").expect(50006, 401);
    }
    log_in_reply(&client, &account, PASSWORD).expect(9905, 429);
    let code = send_code_for(&client, &phone, "reset");
    reset(&client, &phone, &code).expect(200, 200);
    log_in(&client, &account, NEW_PASSWORD);
}

fn a_change_ends_every_session_and_keeps_the_caller_signed_in(worker: &TestWorker) {
    let client = worker.client();
    let (account, _) = new_user(&client);
    let (sent, sent_refresh) = log_in(&client, &account, PASSWORD);
    let (elsewhere, elsewhere_refresh) = log_in(&client, &account, PASSWORD);
    let changed = change(&client, &sent, PASSWORD);
    changed.expect(200, 200);
    let pair = changed.data();
    let (jwt, refresh_jwt) = (pair["jwt"].as_str().unwrap(), pair["refresh_jwt"].as_str().unwrap());
    status(&client, jwt).expect(200, 200);
    let refreshed = refresh(&client, refresh_jwt);
    refreshed.expect(200, 200);
    status(&client, refreshed.data().as_str().unwrap()).expect(200, 200);
    for old in [&sent, &elsewhere] {
        status(&client, old).expect(9908, 401);
    }
    for old in [&sent_refresh, &elsewhere_refresh] {
        refresh(&client, old).expect(9908, 401);
    }
    log_in_reply(&client, &account, PASSWORD).expect(50006, 401);
    log_in(&client, &account, NEW_PASSWORD);
    // The token sent is over: it cannot change the password again.
    change(&client, &sent, NEW_PASSWORD).expect(9908, 401);
}

fn a_wrong_current_password_counts_toward_the_accounts_limit(worker: &TestWorker) {
    let client = worker.client();
    let (account, _) = new_user(&client);
    let (jwt, _) = log_in(&client, &account, PASSWORD);
    for _ in 0..10 {
        let wrong = change(&client, &jwt, "wrong_pw");
        wrong.expect(50006, 401);
        assert!(wrong.msg().contains(&account), "{}", wrong.msg());
    }
    // The account's ten failures are used up: the right password waits too, here and at
    // login, and the token still works (nothing was changed).
    let limited = change(&client, &jwt, PASSWORD);
    limited.expect(9905, 429);
    assert!(limited.header("retry-after").is_some());
    log_in_reply(&client, &account, PASSWORD).expect(9905, 429);
    status(&client, &jwt).expect(200, 200);
}

fn a_change_takes_only_a_live_access_token(worker: &TestWorker) {
    let client = worker.client();
    let (account, _) = new_user(&client);
    let (jwt, refresh_jwt) = log_in(&client, &account, PASSWORD);
    client.post("/login/jwt/deactivate", &json!({ "jwt": jwt })).expect(200, 200);
    // As many refused tokens as the account may fail logins (10): none of them counts,
    // and none changed anything.
    for token in [refresh_jwt.as_str(), "not.a.token", jwt.as_str(), refresh_jwt.as_str(), jwt.as_str()] {
        change(&client, token, PASSWORD).expect(9908, 401);
        change(&client, token, "wrong_pw").expect(9908, 401);
    }
    log_in(&client, &account, PASSWORD);
    // Validation first, in the documented order.
    let body =
        json!({ "jwt": jwt, "pwd": PASSWORD, "password": NEW_PASSWORD, "password_confirmation": "other_pw" });
    let mismatch = client.post("/login/password/change", &body);
    mismatch.expect(9906, 422);
    assert!(mismatch.msg().ends_with("密码不一致"), "{}", mismatch.msg());
}

/// With codes secret (as in production), a reset send to a phone without a user answers
/// as one to a user's phone does, also the second time; it sends no SMS and keeps no code.
fn a_reset_send_to_a_phone_without_a_user_answers_alike_and_keeps_nothing() {
    let fake = FakeProvider::start(Kind::Aliyun);
    let worker = fake.worker(&fresh_state_dir(), &[]);
    let client = worker.client();

    let (account, registered) = fake.registered_user(&client);
    let nobody = unique_phone();
    sends_answer_alike(&client, "reset", &registered, &nobody);

    let reset_code = fake.codes_to(&registered, 2).pop().unwrap();
    assert_eq!(fake.codes_to(&nobody, 0), Vec::<String>::new(), "nothing sent to {nobody}");
    assert_eq!(worker.kv_keys(&format!("sms_code:+86{nobody}")), Vec::<String>::new());
    // The registration's code, used (its entry lapses with its time to live), and the reset's.
    assert_eq!(worker.kv_keys(&format!("sms_code:+86{registered}")).len(), 2, "the user's codes");
    // No code to guess at the phone without a user.
    client.post("/login/password/reset", &reset_body(&nobody, &reset_code, NEW_PASSWORD)).expect(50001, 400);
    reset(&client, &registered, &reset_code).expect(200, 200);
    log_in(&client, &account, NEW_PASSWORD);
}
