//! The app's endpoint for the worker's Standard Webhooks deliveries, as a user would write
//! it: tests/webhook/receiver.mjs, which checks each one with the spec's own library.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use serde_json::Value;

/// The secret the tests sign with, `whsec_` and base64, as the spec's libraries make them.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

pub struct Receiver {
    pub url: String,
    child: Child,
    agent: ureq::Agent,
}

impl Receiver {
    pub fn start() -> Receiver {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut child = crate::worker::node()
            .arg(root.join("tests/webhook/receiver.mjs"))
            .arg(SECRET)
            .current_dir(&root)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the webhook receiver");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("the receiver's port");
        let port = line.trim().strip_prefix("listening ").unwrap_or_else(|| panic!("not a port: {line:?}"));
        Receiver { url: format!("http://127.0.0.1:{port}"), child, agent: ureq::Agent::new() }
    }

    /// Every delivery so far, as the receiver recorded it.
    pub fn deliveries(&self) -> Vec<Value> {
        let reply = self.agent.get(&format!("{}/deliveries", self.url)).call().expect("the deliveries");
        reply.into_json().expect("JSON")
    }

    /// How it answers a delivery whose body contains `contains`: `{"status": 500}`,
    /// `{"hang_ms": 8000}`, with `"times": 2` only the first two times.
    pub fn add_rule(&self, contains: &str, mut rule: Value) {
        rule["contains"] = contains.into();
        self.agent.post(&format!("{}/rules", self.url)).send_json(rule).expect("add a rule");
    }

    /// How it answers from now on: `{"status": 500}`, `{"hang_ms": 8000}`, or `{}` (200).
    pub fn set_mode(&self, mode: Value) {
        self.agent.post(&format!("{}/mode", self.url)).send_json(mode).expect("set the mode");
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
