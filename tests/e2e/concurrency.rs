//! Races: the Durable Object serializes sends and claims per phone; D1's unique
//! constraints settle racing registrations; the failed-login windows hold a place for
//! each attempt in flight.

use std::sync::{Arc, Barrier};
use std::thread;

use serde_json::json;

use crate::client::Reply;
use crate::support::*;
use crate::worker::TestWorker;
use crate::SharedTest;

pub const TESTS: &[SharedTest] = tests![
    twenty_concurrent_sends_for_one_phone_make_one_code,
    ten_concurrent_registrations_of_one_account_make_one_user,
    concurrent_registrations_with_one_code_use_it_once,
    bursts_of_correct_logins_to_one_account_all_succeed,
    a_burst_of_wrong_logins_counts_no_more_than_the_limit,
];

/// Runs `count` requests at once (released together by a barrier).
pub fn at_once(
    worker: &TestWorker,
    count: usize,
    request: impl Fn(usize, &crate::client::Client) -> Reply + Send + Sync + 'static,
) -> Vec<Reply> {
    let barrier = Arc::new(Barrier::new(count));
    let request = Arc::new(request);
    let handles: Vec<_> = (0..count)
        .map(|i| {
            let (barrier, request, client) = (barrier.clone(), request.clone(), worker.client());
            thread::spawn(move || {
                barrier.wait();
                request(i, &client)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().expect("a request thread")).collect()
}

pub fn codes(replies: &[Reply]) -> Vec<u64> {
    let mut codes: Vec<u64> = replies.iter().map(Reply::code).collect();
    codes.sort_unstable();
    codes
}

fn twenty_concurrent_sends_for_one_phone_make_one_code(worker: &TestWorker) {
    let phone = unique_phone();
    let body = json!({ "phone": phone });
    let replies = at_once(worker, 20, move |_, client| client.post("/login/send/sms", &body));
    let mut expected = vec![200];
    expected.extend([50017; 19]);
    assert_eq!(codes(&replies), expected);
    for reply in &replies {
        let (code, status) = if reply.code() == 200 { (200, 200) } else { (50017, 429) };
        reply.expect(code, status);
    }
    // Exactly one message went out: the console sender's line reaches the log a moment
    // after the replies, and a second one must not follow it.
    let to_phone = format!("to +86{phone}");
    let sent = settled_count(1, || worker.log().lines().filter(|l| l.contains(&to_phone)).count());
    assert_eq!(sent, 1, "messages sent to {phone}");
}

fn ten_concurrent_registrations_of_one_account_make_one_user(worker: &TestWorker) {
    let client = worker.client();
    let account = unique_account();
    let attempts: Vec<(String, String)> = (0..10)
        .map(|_| {
            let phone = unique_phone();
            let code = send_code(&client, &phone);
            (phone, code)
        })
        .collect();
    let attempts = Arc::new(attempts);
    let name = account.clone();
    let replies = at_once(worker, 10, move |i, client| {
        let (phone, code) = &attempts[i];
        client.post("/login/register", &registration(&name, PASSWORD, phone, code))
    });
    let mut expected = vec![200];
    expected.extend([50007; 9]);
    assert_eq!(codes(&replies), expected, "{:?}", replies.iter().map(|r| &r.text).collect::<Vec<_>>());
    let rows = worker.query(&format!("SELECT COUNT(*) AS n FROM users WHERE account = '{account}'"));
    assert_eq!(rows[0]["n"], json!(1));
}

fn concurrent_registrations_with_one_code_use_it_once(worker: &TestWorker) {
    let client = worker.client();
    let phone = unique_phone();
    let code = send_code(&client, &phone);
    let replies = at_once(worker, 8, move |_, client| {
        client.post("/login/register", &registration(&unique_account(), PASSWORD, &phone, &code))
    });
    // One registers; the others find the code held or used, whatever the timing, which
    // D1's unique phone (50007) alone would not show.
    let mut expected = vec![200];
    expected.extend([50001; 7]);
    assert_eq!(codes(&replies), expected, "{:?}", replies.iter().map(|r| &r.text).collect::<Vec<_>>());
}

/// 16 at once is more than the account's 10 places in its failure window: an attempt that
/// finds them all held by attempts in flight waits for one instead of failing.
fn bursts_of_correct_logins_to_one_account_all_succeed(worker: &TestWorker) {
    let (account, _) = new_user(&worker.client());
    for _ in 0..3 {
        let body = json!({ "account": account, "pwd": PASSWORD });
        let replies = at_once(worker, 16, move |_, client| client.post("/login/jwt/get", &body));
        assert_eq!(codes(&replies), vec![200; 16]);
    }
}

/// 30 wrong passwords at once: 10 are checked (50006) and counted, and the others wait
/// for a place and are then refused (9905) without a hash; so is the right password.
fn a_burst_of_wrong_logins_counts_no_more_than_the_limit(worker: &TestWorker) {
    let (account, _) = new_user(&worker.client());
    let body = json!({ "account": account, "pwd": "wrong_pw" });
    let replies = at_once(worker, 30, move |_, client| client.post("/login/jwt/get", &body));
    let mut expected = vec![9905; 20];
    expected.extend([50006; 10]);
    assert_eq!(codes(&replies), expected);
    let locked = worker.client().post("/login/jwt/get", &json!({ "account": account, "pwd": PASSWORD }));
    locked.expect(9905, 429);
}
