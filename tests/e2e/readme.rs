//! The README's first session, run as written: every command of the block after the
//! `first-session` marker, in order, with bash and curl, against a worker of its own (a
//! fresh database, so the README's phone and account are free, and the settings of
//! `make dev`), each answer held to the one the README prints under it.

use serde_json::Value;

use crate::worker::{fresh_state_dir, TestWorker};

pub const OWN_TESTS: &[crate::OwnTest] = tests![the_readmes_first_session_answers_as_printed];

const MARKER: &str = "<!-- first-session: make test runs this block against the worker -->";
/// Where the README has `make dev` serving.
const DEV_URL: &str = "http://127.0.0.1:8787";
/// The keys whose values differ from one run to the next: held to their type only.
const VARYING: &[&str] = &["code", "jwt", "refresh_jwt", "exp", "exp_date", "iat_date"];

#[derive(Debug)]
enum Step {
    /// A command, its continued lines joined.
    Command(String),
    /// `# {...}`: the answer the command before prints.
    Answer(Value),
    /// `name=example  # data.key`: the value at `data.key` of the answer before, which
    /// the commands after use as `$name`.
    Keep { name: String, key: String },
}

/// The steps of the block after the marker.
fn session(readme: &str) -> Vec<Step> {
    let after = &readme[readme.find(MARKER).expect("the README marks its first session")..];
    let block = after.split_once("```sh\n").expect("a ```sh block after the marker").1;
    let block = block.split_once("\n```").expect("the block's end").0;
    let mut steps = Vec::new();
    let mut command = String::new();
    for line in block.lines() {
        let line = line.trim_end();
        if !command.is_empty() || line.starts_with("curl ") {
            command.push_str(line.strip_suffix('\\').unwrap_or(line));
            command.push(' ');
            if !line.ends_with('\\') {
                steps.push(Step::Command(std::mem::take(&mut command)));
            }
        } else if let Some(json) = line.strip_prefix("# {") {
            let answer = serde_json::from_str(&format!("{{{json}"));
            steps.push(Step::Answer(answer.unwrap_or_else(|e| panic!("not JSON: {line}: {e}"))));
        } else if let Some((assignment, comment)) = line.split_once('#') {
            let (name, _) = assignment.split_once('=').unwrap_or_else(|| panic!("what is this line: {line}"));
            let key = comment.split_whitespace().next().and_then(|path| path.strip_prefix("data."));
            let key = key.unwrap_or_else(|| panic!("an assignment says which data.key it keeps: {line}"));
            steps.push(Step::Keep {
                name: name.trim().to_string(),
                key: key.trim_end_matches(':').to_string(),
            });
        } else {
            assert!(line.trim().is_empty(), "what is this line: {line}");
        }
    }
    steps
}

/// Whether `actual` is what the README prints: the same keys and values, but for the
/// varying ones, of the same type.
fn matches(printed: &Value, actual: &Value, key: &str) -> bool {
    match (printed, actual) {
        (Value::Object(printed), Value::Object(actual)) => {
            printed.len() == actual.len()
                && printed.iter().all(|(k, v)| actual.get(k).is_some_and(|a| matches(v, a, k)))
        }
        (Value::Array(printed), Value::Array(actual)) => {
            printed.len() == actual.len() && printed.iter().zip(actual).all(|(p, a)| matches(p, a, key))
        }
        _ if VARYING.contains(&key) => std::mem::discriminant(printed) == std::mem::discriminant(actual),
        _ => printed == actual,
    }
}

fn the_readmes_first_session_answers_as_printed() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let steps = session(&readme);
    let commands = steps.iter().filter(|step| matches!(step, Step::Command(_))).count();
    assert!(commands >= 4, "send a code, register, log in, status: {steps:?}");
    let worker = TestWorker::start_with(&fresh_state_dir(), &[]);
    let mut kept: Vec<(String, String)> = Vec::new();
    let mut last: Option<(String, Value)> = None;
    for step in steps {
        match step {
            Step::Command(command) => {
                let run = command.replace(DEV_URL, &worker.base_url);
                let output = std::process::Command::new("bash")
                    .args(["-euo", "pipefail", "-c", &run])
                    .envs(kept.iter().map(|(name, value)| (name, value)))
                    .output()
                    .expect("bash runs");
                let stdout = String::from_utf8_lossy(&output.stdout).to_string();
                assert!(
                    output.status.success(),
                    "{command}\n{stdout}{}",
                    String::from_utf8_lossy(&output.stderr)
                );
                let answer =
                    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{command}: {stdout}: {e}"));
                last = Some((command, answer));
            }
            Step::Answer(printed) => {
                let (command, actual) = last.as_ref().expect("an answer follows a command");
                assert!(matches(&printed, actual, ""), "{command}\nprinted: {printed}\nanswered: {actual}");
            }
            Step::Keep { name, key } => {
                let (command, actual) = last.as_ref().expect("a kept value follows a command");
                let value = match &actual["data"][&key] {
                    Value::String(text) => text.clone(),
                    other => panic!("{command}: data.{key} is {other}"),
                };
                kept.push((name, value));
            }
        }
    }
}
