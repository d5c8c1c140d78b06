//! Another Worker checks tokens through a service binding: examples/protected-api and
//! this worker in one `wrangler dev` session (`-c` twice), the example on the port and
//! the login worker beside it, reached only through the binding.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::client::Client;
use crate::support::*;
use crate::worker::{fresh_state_dir, TestWorker, TEST_JWT_SECRET, TEST_SMS_CODE_SECRET};
use crate::OwnTest;

pub const OWN_TESTS: &[OwnTest] = tests![another_worker_checks_tokens_through_a_service_binding];

fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The prebuilt login worker's configuration in a folder of its own under `state_dir`,
/// with absolute paths, and its secrets in a `.dev.vars` beside it (wrangler reads each
/// Worker's from its configuration's folder; `--var` reaches only the first Worker).
fn login_worker_config(state_dir: &Path) -> String {
    let root = project_root();
    let built = std::fs::read_to_string(root.join("build/wrangler.toml")).expect("make worker wrote it");
    let absolute = |path: &str| format!("{:?}", root.join(path).to_string_lossy());
    let config = built
        .replace(r#"main = "worker/shim.mjs""#, &format!("main = {}", absolute("build/worker/shim.mjs")))
        .replace(r#"directory = "../public""#, &format!("directory = {}", absolute("public")))
        .replace(
            r#"migrations_dir = "../migrations""#,
            &format!("migrations_dir = {}", absolute("migrations")),
        );
    let dir = state_dir.join("login-worker");
    std::fs::create_dir_all(&dir).expect("a folder for the login worker's configuration");
    std::fs::write(dir.join("wrangler.toml"), config).expect("write the configuration");
    let secrets = format!("JWT_SECRET={TEST_JWT_SECRET}\nSMS_CODE_SECRET={TEST_SMS_CODE_SECRET}\n");
    std::fs::write(dir.join(".dev.vars"), secrets).expect("write its secrets");
    dir.join("wrangler.toml").to_string_lossy().into_owned()
}

fn me(client: &Client, token: Option<&str>) -> crate::client::Reply {
    let bearer = token.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> = bearer.iter().map(|value| ("Authorization", value.as_str())).collect();
    client.request("GET", "/api/me", &headers, None)
}

/// A valid access token gets through with its `uid` and `rid`; none, a forged one, a
/// refresh token and a revoked one (refused at once) get 401 with the login worker's
/// envelope; and the example holds no secret.
fn another_worker_checks_tokens_through_a_service_binding() {
    let state = fresh_state_dir();
    let example = project_root().join("examples/protected-api/wrangler.toml").to_string_lossy().into_owned();
    let worker = TestWorker::start_configs(&[example, login_worker_config(&state)], None, &state, &[]);
    let client = worker.client();

    me(&client, None).expect(9908, 401);
    // The example passes /login/* on to the login worker, so a frontend needs one origin.
    let (jwt, refresh_jwt) = new_session(&client);
    let known = me(&client, Some(&jwt));
    known.expect(200, 200);
    let status = client.post("/login/jwt/status", &json!({ "jwt": jwt }));
    assert_eq!(known.data()["uid"], status.data()["uid"]);
    assert_eq!(known.data()["rid"], json!(["1"]));

    let forged = format!("{}x", jwt);
    for token in [forged.as_str(), refresh_jwt.as_str(), "not-a-token"] {
        let refused = me(&client, Some(token));
        refused.expect(9908, 401);
        assert!(refused.msg().starts_with("认证失败"), "{}", refused.msg());
    }
    client.post("/login/jwt/deactivate", &json!({ "jwt": jwt })).expect(200, 200);
    me(&client, Some(&jwt)).expect(9908, 401);

    // Nothing in the example knows the JWT secret or any other.
    for file in ["worker.js", "wrangler.toml"] {
        let text = std::fs::read_to_string(project_root().join("examples/protected-api").join(file)).unwrap();
        assert!(!text.contains("SECRET") && !text.contains(TEST_JWT_SECRET), "{file} holds a secret");
    }
    assert!(!project_root().join("examples/protected-api/.dev.vars").exists());
}
