//! Signing in with an SMS code (`POST /login/jwt/sms`, codes sent with `purpose: "login"`),
//! without and with `SMS_SIGNUP`.

use serde_json::{json, Value};

use crate::client::{Client, Reply};
use crate::concurrency::at_once;
use crate::fake_provider::{sends_answer_alike, FakeProvider, Kind};
use crate::support::*;
use crate::worker::{fresh_state_dir, TestWorker};
use crate::{OwnTest, SharedTest};

/// On the shared worker, without `SMS_SIGNUP`.
pub const SHARED_TESTS: &[SharedTest] = tests![
    a_login_code_signs_in_to_a_session_like_any_other,
    a_code_serves_only_its_purpose_and_wrong_guesses_kill_it,
    a_disabled_user_is_50006_and_a_lock_out_does_not_stop_a_code,
];

/// On the worker with `SMS_SIGNUP` (`main::ROTATING`, whose settings these tests do not
/// mind).
pub const SIGNUP_TESTS: &[SharedTest] = tests![the_first_sign_in_makes_one_user_even_when_many_race];

pub const OWN_TESTS: &[OwnTest] = tests![a_login_send_does_not_tell_a_registered_phone];

/// `SMS_TEST_NUMBERS` of the worker with the fake provider: a reviewer's phone.
const TEST_NUMBERS: &str = "+8613800000000:246810";

fn send_login_code(client: &Client, phone: &str) -> String {
    send_code_for(client, phone, "login")
}

fn sign_in(client: &Client, phone: &str, code: &str) -> Reply {
    client.post("/login/jwt/sms", &json!({ "phone": phone, "code": code }))
}

fn sign_in_from(client: &Client, phone: &str, code: &str, ip: &str) -> Reply {
    client.post_with("/login/jwt/sms", &json!({ "phone": phone, "code": code }), &[("CF-Connecting-IP", ip)])
}

fn status_of(client: &Client, jwt: &str) -> Reply {
    client.post("/login/jwt/status", &json!({ "jwt": jwt }))
}

fn a_login_code_signs_in_to_a_session_like_any_other(worker: &TestWorker) {
    let client = worker.client();
    let (account, phone) = new_user(&client);
    let code = send_login_code(&client, &phone);
    let reply = sign_in(&client, &phone, &code);
    reply.expect(200, 200);
    let data = reply.data();
    assert_eq!(data.as_object().unwrap().len(), 2, "only the pair for a known user: {data}");
    let (jwt, refresh) = (data["jwt"].as_str().unwrap(), data["refresh_jwt"].as_str().unwrap());
    let status = status_of(&client, jwt);
    status.expect(200, 200);
    assert_eq!(status.data()["account"], json!(account));
    assert_eq!(token_part(jwt, 1)["token_use"], json!("access"));

    // Used up.
    sign_in(&client, &phone, &code).expect(50001, 400);
    // Refresh and log out as after a password login.
    let refreshed = client.post("/login/jwt/refresh", &json!({ "jwt": refresh }));
    refreshed.expect(200, 200);
    status_of(&client, refreshed.data().as_str().unwrap()).expect(200, 200);
    client.post("/login/jwt/deactivate", &json!({ "jwt": jwt })).expect(200, 200);
    status_of(&client, jwt).expect(9908, 401);
    client.post("/login/jwt/refresh", &json!({ "jwt": refresh })).expect(9908, 401);
    // Log out everywhere ends a code's session as well.
    let again = sign_in(&client, &phone, &send_login_code(&client, &phone));
    again.expect(200, 200);
    let (jwt, _) = log_in(&client, &account, PASSWORD);
    client.post("/login/jwt/deactivate", &json!({ "jwt": jwt, "scope": "all" })).expect(200, 200);
    status_of(&client, again.data()["jwt"].as_str().unwrap()).expect(9908, 401);
}

fn a_code_serves_only_its_purpose_and_wrong_guesses_kill_it(worker: &TestWorker) {
    let client = worker.client();
    let (account, phone) = new_user(&client);
    // A reset code never signs in, and a login code never resets or registers.
    let reset_code = send_code_for(&client, &phone, "reset");
    sign_in(&client, &phone, &reset_code).expect(50001, 400);
    let reset_body = json!({ "phone": phone, "code": reset_code, "password": "new_pass",
                             "password_confirmation": "new_pass" });
    client.post("/login/password/reset", &reset_body).expect(200, 200);
    let code = send_login_code(&client, &phone);
    let with_login_code = json!({ "phone": phone, "code": code, "password": "other_pass",
                                  "password_confirmation": "other_pass" });
    client.post("/login/password/reset", &with_login_code).expect(50001, 400);
    let newcomer = registration(&unique_account(), PASSWORD, &phone, &code);
    client.post("/login/register", &newcomer).expect(50001, 400);
    log_in(&client, &account, "new_pass");

    // Five wrong guesses from one address kill the code there; the right one then fails.
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..5 {
        sign_in_from(&client, &phone, wrong, "203.0.113.71").expect(50001, 400);
    }
    sign_in_from(&client, &phone, &code, "203.0.113.71").expect(50001, 400);
}

fn a_disabled_user_is_50006_and_a_lock_out_does_not_stop_a_code(worker: &TestWorker) {
    let client = worker.client();
    let (account, phone) = new_user(&client);
    // Ten failed logins from one address lock the account there; a code still signs in.
    let ip = "203.0.113.72";
    for _ in 0..10 {
        log_in_from(&client, &account, "wrong_pass", ip).expect(50006, 401);
    }
    log_in_from(&client, &account, PASSWORD, ip).expect(9905, 429);
    sign_in_from(&client, &phone, &send_login_code(&client, &phone), ip).expect(200, 200);

    worker.query(&format!("UPDATE users SET disabled = 1 WHERE account = '{account}'"));
    let code = send_login_code(&client, &phone);
    sign_in(&client, &phone, &code).expect(50006, 401);
    // The code was not used: once the user is enabled again, it signs in.
    worker.query(&format!("UPDATE users SET disabled = 0 WHERE account = '{account}'"));
    sign_in(&client, &phone, &code).expect(200, 200);
}

/// With `SMS_SIGNUP`, twenty sign-ins at once with a new phone's code make one user: one
/// answer has `new_user`, the others are 50001 (the code was taken). The account has
/// no password until a reset gives it one.
fn the_first_sign_in_makes_one_user_even_when_many_race(worker: &TestWorker) {
    let client = worker.client();
    let phone = unique_phone();
    let code = send_login_code(&client, &phone);
    let (racing_phone, racing_code) = (phone.clone(), code.clone());
    let replies = at_once(worker, 20, move |_, client| sign_in(client, &racing_phone, &racing_code));
    let made: Vec<&Reply> = replies.iter().filter(|reply| reply.code() == 200).collect();
    assert_eq!(made.len(), 1, "{:?}", replies.iter().map(|r| r.text.as_str()).collect::<Vec<_>>());
    for reply in replies.iter().filter(|reply| reply.code() != 200) {
        reply.expect(50001, 400);
    }
    let data = made[0].data();
    assert_eq!(data["new_user"], json!(true));
    let account = data["account"].as_str().unwrap().to_string();
    assert!(account.len() == 13 && account.starts_with("user_"), "{account}");
    let rows = worker.query(&format!("SELECT account, password_hash FROM users WHERE phone = '+86{phone}'"));
    assert_eq!(rows, vec![json!({ "account": account, "password_hash": "!" })]);
    let status = status_of(&client, data["jwt"].as_str().unwrap());
    status.expect(200, 200);
    assert_eq!(status.data()["account"], json!(account));

    // No password logs in to it, and it cannot change one it does not have.
    for pwd in ["!", PASSWORD] {
        client.post("/login/jwt/get", &json!({ "account": account, "pwd": pwd })).expect(50006, 401);
    }
    let change = json!({ "jwt": data["jwt"], "pwd": "!", "password": "new_pass", "password_confirmation": "new_pass" });
    client.post("/login/password/change", &change).expect(50006, 401);
    // The next sign-in finds the user.
    let again = sign_in(&client, &phone, &send_login_code(&client, &phone));
    again.expect(200, 200);
    assert_eq!(again.data().get("new_user"), None::<&Value>);
    // A reset sets a password.
    let reset_code = send_code_for(&client, &phone, "reset");
    let body = json!({ "phone": phone, "code": reset_code, "password": "new_pass", "password_confirmation": "new_pass" });
    client.post("/login/password/reset", &body).expect(200, 200);
    log_in(&client, &account, "new_pass");
}

/// With codes secret (as in production) and without `SMS_SIGNUP`, a login send to a phone
/// without a user answers as one to a user's phone does, also the second time (50017); it
/// sends nothing, and no code signs in there.
fn a_login_send_does_not_tell_a_registered_phone() {
    let fake = FakeProvider::start(Kind::Aliyun);
    let worker = fake.worker(&fresh_state_dir(), &[("SMS_TEST_NUMBERS", TEST_NUMBERS)]);
    let client = worker.client();
    let (_, registered) = fake.registered_user(&client);
    let nobody = unique_phone();
    sends_answer_alike(&client, "login", &registered, &nobody);

    let login_code = fake.codes_to(&registered, 2).pop().unwrap();
    assert_eq!(fake.codes_to(&nobody, 0), Vec::<String>::new(), "nothing sent to {nobody}");
    sign_in(&client, &nobody, &login_code).expect(50001, 400);
    sign_in(&client, &registered, &login_code).expect(200, 200);

    // A test number registers and signs in with its fixed code, and nothing is sent. Its
    // rules are every phone's: one live code, and a code serves its purpose once.
    let reviewer = "13800000000";
    client.post("/login/send/sms", &json!({ "phone": reviewer })).expect(200, 200);
    client.post("/login/send/sms", &json!({ "phone": reviewer })).expect(50017, 429);
    sign_in(&client, reviewer, "246810").expect(50001, 400);
    let account = unique_account();
    client.post("/login/register", &registration(&account, PASSWORD, reviewer, "246810")).expect(200, 200);
    client
        .post("/login/register", &registration(&unique_account(), PASSWORD, reviewer, "246810"))
        .expect(50001, 400);
    client.post("/login/send/sms", &json!({ "phone": reviewer, "purpose": "login" })).expect(200, 200);
    sign_in(&client, reviewer, "246810").expect(200, 200);
    sign_in(&client, reviewer, "246810").expect(50001, 400);
    assert_eq!(fake.codes_to(reviewer, 0), Vec::<String>::new(), "nothing sent to the test number");
    assert!(!worker.log().contains("246810"), "the fixed code is a secret");
}
