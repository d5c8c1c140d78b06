//! The JavaScript client (clients/js) against the real worker, on `CLIENT` (refresh
//! rotation, a 3-second access token): Node's test runner over every method and refusal
//! (clients/js/test/client.test.mjs), two Chromium tabs refreshing at one moment
//! (tests/browser/tabs.mjs), and the client README's example run from the packed tarball
//! as a user installs it. `make e2e` builds the client first (`make client`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::worker::{node, TestWorker};

pub const TESTS: &[crate::SharedTest] = tests![
    the_js_client_keeps_its_promises_against_the_worker,
    two_tabs_refresh_one_at_a_time_and_never_present_a_retired_token,
    the_client_readmes_example_runs_from_the_packed_tarball,
];

const EXAMPLE_MARKER: &str = "<!-- client-example: make test runs this block against the worker -->";
/// Where the example has `make dev` serving.
const DEV_URL: &str = "http://127.0.0.1:8787";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `command` to its end and returns what it printed; panics with all of it, and
/// `context`, if it failed.
fn run(command: &mut Command, context: &str) -> String {
    let output = command.output().unwrap_or_else(|error| panic!("{context}: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{context} failed:\n{stdout}{stderr}");
    stdout
}

/// The worker logs each retired refresh token that came back (a replay, or a reuse within
/// its grace window): a client that coordinates its refreshes causes neither.
fn no_retired_refresh_token_came_back(worker: &TestWorker) {
    // wrangler writes a line the worker logged a moment after the answer went.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let log = worker.log();
    let events: Vec<&str> = log.lines().filter(|line| line.contains("\"event\":\"refresh_token_")).collect();
    assert!(events.is_empty(), "the worker saw retired refresh tokens come back:\n{}", events.join("\n"));
}

fn the_js_client_keeps_its_promises_against_the_worker(worker: &TestWorker) {
    let test = root().join("clients/js/test/client.test.mjs");
    let report = run(
        node().arg("--test").arg("--test-reporter=spec").arg(&test).env("LOGIN_API", &worker.base_url),
        "node --test clients/js/test/client.test.mjs",
    );
    // Every test in the file ran and passed (none skipped, none left out).
    let written = std::fs::read_to_string(&test).unwrap().matches("\ntest(\"").count();
    assert!(report.contains(&format!("ℹ pass {written}\n")), "not all {written} passed:\n{report}");
    no_retired_refresh_token_came_back(worker);
}

fn two_tabs_refresh_one_at_a_time_and_never_present_a_retired_token(worker: &TestWorker) {
    let report = run(
        node().arg(root().join("tests/browser/tabs.mjs")).arg(&worker.base_url),
        "tests/browser/tabs.mjs",
    );
    assert!(report.contains("round 20: both answered"), "{report}");
    no_retired_refresh_token_came_back(worker);
}

/// The example as a user meets it: `npm pack` (dist/ as `make client` built it), the
/// tarball installed into an empty project, the README's block type-checked against the
/// installed types and run, pointed at this worker.
fn the_client_readmes_example_runs_from_the_packed_tarball(worker: &TestWorker) {
    let project = root().join("target/e2e/client-example");
    let _ = std::fs::remove_dir_all(&project);
    std::fs::create_dir_all(&project).unwrap();
    let packed = run(
        Command::new("npm")
            .args(["pack", "--ignore-scripts", "--pack-destination"])
            .arg(&project)
            .current_dir(root().join("clients/js")),
        "npm pack",
    );
    let tarball = project.join(packed.lines().last().expect("npm pack names its tarball").trim());
    let listing = run(Command::new("tar").arg("tzf").arg(&tarball), "tar tzf");
    let mut files: Vec<&str> = listing.lines().collect();
    files.sort_unstable();
    assert_eq!(
        files,
        [
            "package/README.md",
            "package/dist/index.cjs",
            "package/dist/index.d.ts",
            "package/dist/index.js",
            "package/dist/openapi.d.ts",
            "package/package.json"
        ]
    );

    std::fs::write(project.join("package.json"), r#"{ "private": true, "type": "module" }"#).unwrap();
    run(
        Command::new("npm")
            .args(["install", "--offline", "--no-audit", "--no-fund", "--no-package-lock"])
            .arg(&tarball)
            .current_dir(&project),
        "npm install the tarball",
    );
    let readme = std::fs::read_to_string(root().join("clients/js/README.md")).unwrap();
    let example = example_block(&readme);
    assert!(example.lines().count() <= 12, "the example is longer than ten lines:\n{example}");
    std::fs::write(project.join("example.mts"), &example).unwrap();
    typecheck(&project, "example.mts");

    std::fs::write(project.join("example.mjs"), example.replace(DEV_URL, &worker.base_url)).unwrap();
    let printed = run(node().arg("example.mjs").current_dir(&project), "the README's example");
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 3, "{printed}");
    assert_eq!(lines[0], "session: signed_in");
    assert!(lines[1].starts_with("signed in as first_user (uid "), "{printed}");
    assert_eq!(lines[2], "session: signed_out");
}

/// The ```js block after the marker.
fn example_block(readme: &str) -> String {
    let after = &readme[readme.find(EXAMPLE_MARKER).expect("the client README marks its example")..];
    let block = after.split_once("```js\n").expect("a ```js block after the marker").1;
    block.split_once("```").expect("the block's end").0.to_string()
}

/// `file` compiles as a user's TypeScript would, against the package's own types. Strict,
/// but for null checks: the example is JavaScript, which passes the code a development
/// worker answers with as it is, without checking that there is one.
fn typecheck(project: &Path, file: &str) {
    let tsc = root().join("node_modules/typescript/bin/tsc");
    run(
        node()
            .arg(tsc)
            .args([
                "--noEmit",
                "--strict",
                "--strictNullChecks",
                "false",
                "--module",
                "nodenext",
                "--target",
                "es2022",
                "--lib",
                "es2022,dom",
            ])
            .arg(file)
            .current_dir(project),
        "tsc on the README's example",
    );
}
