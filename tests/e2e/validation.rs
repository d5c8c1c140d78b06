//! Bad input on every endpoint: each answered with the contract's code and HTTP status,
//! in the envelope, never a 500.

use serde_json::{json, Value};

use crate::support::unique_phone;
use crate::worker::TestWorker;
use crate::SharedTest;

pub const TESTS: &[SharedTest] = tests![
    every_missing_field_is_named,
    every_field_of_the_wrong_json_type_is_refused,
    every_empty_string_is_refused,
    bodies_that_are_not_json_objects_get_400,
    a_one_mib_body_gets_413,
    get_instead_of_post_gets_9903_everywhere,
    invalid_values_are_refused_with_the_first_failing_rule,
    unknown_fields_are_ignored,
    a_charset_in_the_content_type_is_accepted,
];

/// An endpoint's path, a body that passes validation, and per field the reason given
/// when that field is missing.
type EndpointCase = (&'static str, Value, Vec<(&'static str, &'static str)>);

fn endpoints() -> Vec<EndpointCase> {
    vec![
        ("/login/send/sms", json!({"phone": "13900000001"}), vec![("phone", "phone 手机号必填")]),
        (
            "/login/register",
            json!({"account": "someone", "password": "1234567", "password_confirmation": "1234567",
                   "phone": "13900000002", "code": "123456"}),
            vec![
                ("account", "account 账号必填"),
                ("password", "password 密码必填"),
                ("password_confirmation", "确认密码必填"),
                ("phone", "phone 手机号必填"),
                ("code", "手机验证码必填"),
            ],
        ),
        (
            "/login/jwt/get",
            json!({"account": "someone", "pwd": "1234567"}),
            vec![("account", "account 账号必填"), ("pwd", "pwd 密码必填")],
        ),
        (
            "/login/jwt/sms",
            json!({"phone": "13900000004", "code": "123456"}),
            vec![("phone", "phone 手机号必填"), ("code", "手机验证码必填")],
        ),
        (
            "/login/password/reset",
            json!({"phone": "13900000003", "code": "123456", "password": "1234567",
                   "password_confirmation": "1234567"}),
            vec![
                ("phone", "phone 手机号必填"),
                ("code", "手机验证码必填"),
                ("password", "password 密码必填"),
                ("password_confirmation", "确认密码必填"),
            ],
        ),
        (
            "/login/password/change",
            json!({"jwt": "a.b.c", "pwd": "1234567", "password": "7654321", "password_confirmation": "7654321"}),
            vec![
                ("jwt", "jwt 必填"),
                ("pwd", "pwd 密码必填"),
                ("password", "password 密码必填"),
                ("password_confirmation", "确认密码必填"),
            ],
        ),
        ("/login/jwt/refresh", json!({"jwt": "a.b.c"}), vec![("jwt", "jwt 必填")]),
        ("/login/jwt/deactivate", json!({"jwt": "a.b.c"}), vec![("jwt", "jwt 必填")]),
        ("/login/jwt/status", json!({"jwt": "a.b.c"}), vec![("jwt", "jwt 必填")]),
        ("/login/sessions/list", json!({"jwt": "a.b.c"}), vec![("jwt", "jwt 必填")]),
        (
            "/login/phone/change",
            json!({"jwt": "a.b.c", "phone": "13900000005", "code": "123456", "pwd": "1234567"}),
            vec![("jwt", "jwt 必填"), ("phone", "phone 手机号必填"), ("code", "手机验证码必填")],
        ),
        (
            "/login/account/delete",
            json!({"jwt": "a.b.c", "pwd": "1234567"}),
            vec![("jwt", "jwt 必填"), ("pwd", "pwd 密码必填")],
        ),
    ]
}

const PREFIX: &str = "数据验证失败，原因如下：";

/// The original's texts that name no field, kept exactly: clients may match them.
const SEED_TEXTS_WITHOUT_A_FIELD: [&str; 3] = ["手机验证码必填", "确认密码必填", "密码不一致"];

/// Asks in English.
fn in_english(client: &crate::client::Client, path: &str, body: &Value) -> crate::client::Reply {
    let headers = [("Accept-Language", "en"), ("Content-Type", "application/json")];
    client.request("POST", path, &headers, Some(body.to_string().as_bytes()))
}

fn every_missing_field_is_named(worker: &TestWorker) {
    let client = worker.client();
    for (path, valid, fields) in endpoints() {
        for (field, reason) in fields {
            let mut body = valid.clone();
            body.as_object_mut().unwrap().remove(field);
            let reply = client.post(path, &body);
            reply.expect(9906, 422);
            assert_eq!(reply.msg(), format!("{PREFIX}{reason}"), "{path} without {field}");
            assert!(
                reason.starts_with(&format!("{field} ")) || SEED_TEXTS_WITHOUT_A_FIELD.contains(&reason),
                "{path}: {reason} names its field"
            );
            let english = in_english(&client, path, &body);
            english.expect(9906, 422);
            assert_eq!(english.msg(), format!("Validation failed: {field} is required"), "{path}");
            body[field] = Value::Null;
            client.post(path, &body).expect(9906, 422);
        }
    }
}

fn every_field_of_the_wrong_json_type_is_refused(worker: &TestWorker) {
    let client = worker.client();
    for (path, valid, fields) in endpoints() {
        for (field, _) in fields {
            for wrong in
                [json!(12), json!(true), json!([]), json!(["x"]), json!({}), json!({"a": 1}), json!(1.5)]
            {
                let mut body = valid.clone();
                body[field] = wrong.clone();
                let reply = client.post(path, &body);
                reply.expect(9906, 422);
                // Every text names its field, in both languages.
                let named = format!("{PREFIX}{field} ");
                assert!(reply.msg().starts_with(&named), "{path} {field}={wrong}: {}", reply.text);
                let english = in_english(&client, path, &body);
                let named = format!("Validation failed: {field} ");
                assert!(english.msg().starts_with(&named), "{path} {field}={wrong}: {}", english.text);
            }
        }
    }
}

fn every_empty_string_is_refused(worker: &TestWorker) {
    let client = worker.client();
    for (path, valid, fields) in endpoints() {
        for (field, reason) in fields {
            let mut body = valid.clone();
            body[field] = json!("");
            let reply = client.post(path, &body);
            reply.expect(9906, 422);
            assert_eq!(reply.msg(), format!("{PREFIX}{reason}"), "{path} with empty {field}");
        }
    }
}

fn bodies_that_are_not_json_objects_get_400(worker: &TestWorker) {
    let client = worker.client();
    let bodies: [&[u8]; 9] =
        [b"", b"not json", b"[]", b"[{}]", b"null", b"\"text\"", b"42", b"{\"phone\":", b"\xff\xfe{}"];
    for (path, _, _) in endpoints() {
        for body in bodies {
            let reply = client.post_raw(path, body);
            reply.expect(9906, 400);
            assert!(reply.msg().starts_with(PREFIX), "{path} {body:?}");
        }
    }
}

fn a_one_mib_body_gets_413(worker: &TestWorker) {
    let client = worker.client();
    let big = format!("{{\"phone\":\"{}\"}}", "1".repeat(1 << 20));
    for (path, _, _) in endpoints() {
        client.post_raw(path, big.as_bytes()).expect(9906, 413);
        // Without a declared length, the worker stops reading at the limit.
        client.post_chunked(path, big.clone().into_bytes()).expect(9906, 413);
    }
    let small = br#"{"jwt":"a.b.c"}"#.to_vec();
    client.post_chunked("/login/jwt/status", small).expect(9908, 401);
    // Just over the 16 KiB limit is refused too; just under is read.
    let over = format!("{{\"pad\":\"{}\"}}", "x".repeat(16 * 1024));
    client.post_raw("/login/jwt/status", over.as_bytes()).expect(9906, 413);
    let under = format!("{{\"pad\":\"{}\",\"jwt\":\"a.b.c\"}}", "x".repeat(16 * 1024 - 100));
    client.post_raw("/login/jwt/status", under.as_bytes()).expect(9908, 401);
}

fn get_instead_of_post_gets_9903_everywhere(worker: &TestWorker) {
    let client = worker.client();
    for (path, _, _) in endpoints() {
        let reply = client.request("GET", path, &[], None);
        reply.expect(9903, 405);
        assert_eq!(reply.header("allow"), Some("POST, OPTIONS"));
    }
}

fn invalid_values_are_refused_with_the_first_failing_rule(worker: &TestWorker) {
    let client = worker.client();
    let register = |changes: Value| {
        let mut body = endpoints()[1].1.clone();
        for (key, value) in changes.as_object().unwrap() {
            body[key] = value.clone();
        }
        client.post("/login/register", &body)
    };
    let cases = [
        (json!({"password": "12 345 6"}), "password 密码只能包含字母、数字和下划线"),
        (
            json!({"password": "12345", "password_confirmation": "12345"}),
            "password 密码长度必须在6到64个字符之间",
        ),
        (json!({"password_confirmation": "7654321"}), "密码不一致"),
        (json!({"phone": "12345"}), "phone 非法"),
        (json!({"phone": "+0123456789"}), "phone 非法"),
        (json!({"code": "12345"}), "code 手机验证码必须是6位数字"),
        (json!({"account": "a".repeat(65)}), "account 账号长度必须在1到64个字符之间"),
        (json!({"account": "bad\u{7}name"}), "account 账号不能包含控制字符"),
        // The first failing rule wins: account comes before phone.
        (json!({"account": "", "phone": "x"}), "account 账号必填"),
    ];
    for (changes, reason) in cases {
        let reply = register(changes.clone());
        reply.expect(9906, 422);
        assert_eq!(reply.msg(), format!("{PREFIX}{reason}"), "{changes}");
    }
    let reply = client.post("/login/send/sms", &json!({"phone": "1391111999"}));
    reply.expect(9906, 422);
    assert_eq!(reply.msg(), format!("{PREFIX}phone 非法"));
    // A send that needs no token ignores one, but not one of the wrong type (nothing is sent).
    let reply = client.post("/login/send/sms", &json!({"phone": unique_phone(), "jwt": []}));
    reply.expect(9906, 422);
    assert_eq!(reply.msg(), format!("{PREFIX}jwt 只能是字符串"));
}

fn unknown_fields_are_ignored(worker: &TestWorker) {
    let client = worker.client();
    let reply = client.post("/login/jwt/status", &json!({"jwt": "a.b.c", "extra": {"nested": [1, 2]}}));
    reply.expect(9908, 401);
}

fn a_charset_in_the_content_type_is_accepted(worker: &TestWorker) {
    let client = worker.client();
    let headers = [("Content-Type", "application/json; charset=utf-8")];
    let reply = client.request("POST", "/login/jwt/status", &headers, Some(br#"{"jwt":"a.b.c"}"#));
    reply.expect(9908, 401);
}
