//! What a newcomer meets in the first hour (each once a stumble): answers no cache keeps,
//! an unknown path named so in English, and a first production deploy that warns of
//! nothing. (The README's own session is `readme`; texts that name their field,
//! `validation`.)

use std::process::Command;

use serde_json::json;

use crate::support::new_session;
use crate::worker::{fresh_state_dir, TestWorker};
use crate::SharedTest;

pub const TESTS: &[SharedTest] = tests![
    every_envelope_answer_is_kept_by_no_cache,
    an_unknown_path_says_so_in_english_and_as_the_seed_in_chinese
];

pub const OWN_TESTS: &[crate::OwnTest] = tests![a_first_production_deploy_warns_of_nothing];

fn every_envelope_answer_is_kept_by_no_cache(worker: &TestWorker) {
    let client = worker.client();
    let (jwt, _) = new_session(&client);
    let json = [("Content-Type", "application/json")];
    let answers = [
        (client.post("/login/jwt/status", &json!({ "jwt": jwt })), 200),
        (client.post("/login/jwt/status", &json!({ "jwt": "a.b.c" })), 9908),
        (client.post("/login/send/sms", &json!({ "phone": "x" })), 9906),
        (client.request("GET", "/login/jwt/get", &json, None), 9903),
        (client.post("/login/jwt/get/", &json!({})), 9902),
    ];
    for (reply, code) in answers {
        assert_eq!(reply.code(), code, "{}", reply.text);
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{code}: {}", reply.text);
    }
}

fn an_unknown_path_says_so_in_english_and_as_the_seed_in_chinese(worker: &TestWorker) {
    let client = worker.client();
    let body = Some(&b"{}"[..]);
    let ask = |language: &str| {
        let headers = [("Accept-Language", language), ("Content-Type", "application/json")];
        let reply = client.request("POST", "/login/jwt/get/", &headers, body);
        reply.expect(9902, 404);
        reply.msg()
    };
    assert_eq!(ask("zh-CN"), "API地址错误或HTTP方法错误，请检查 :(");
    let english = ask("en");
    assert!(english.starts_with("Unknown path"), "{english}");
}

/// `wrangler deploy --dry-run --env production` on the wrangler.toml an operator deploys:
/// every var the environment needs is listed (vars are not inherited by environments), so
/// wrangler has nothing to warn of.
fn a_first_production_deploy_warns_of_nothing() {
    let out_dir = fresh_state_dir();
    let output = Command::new(std::env::var("LOGIN_NODE").unwrap())
        .arg(std::env::var("LOGIN_WRANGLER").unwrap())
        .args(["deploy", "--dry-run", "--env", "production", "--outdir"])
        .arg(&out_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run wrangler");
    let said =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{said}");
    assert!(said.contains("--dry-run: exiting now"), "{said}");
    assert!(!said.contains("WARNING") && !said.contains('▲'), "{said}");
}
