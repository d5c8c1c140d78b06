//! The real worker under `wrangler dev`, one per fixture: a free port, its own state
//! folder, the schema applied, polled until it answers, and stopped on drop.
//!
//! `make test` sets `LOGIN_NODE` and `LOGIN_WRANGLER` (see scripts/toolchain.sh) and
//! builds the worker first. Each `wrangler dev` runs in its own process group, whose id
//! is written to `LOGIN_E2E_PIDS`, so scripts/e2e.sh can end every workerd even when the
//! test process is interrupted before the drops run.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::client::{Client, LocalD1};

static NEXT_WORKER: AtomicUsize = AtomicUsize::new(0);

/// How many `wrangler dev` were started, and the milliseconds spent applying migrations,
/// waiting for them to answer and stopping them; the other runs of wrangler (KV, and the
/// tests' own) and the queries, and their milliseconds: for `LOGIN_E2E_TIMES`.
static STARTS: AtomicUsize = AtomicUsize::new(0);
static MIGRATING_MILLIS: AtomicU64 = AtomicU64::new(0);
static STARTING_MILLIS: AtomicU64 = AtomicU64::new(0);
static STOPPING_MILLIS: AtomicU64 = AtomicU64::new(0);
static WRANGLER_RUNS: AtomicUsize = AtomicUsize::new(0);
static WRANGLER_MILLIS: AtomicU64 = AtomicU64::new(0);
static QUERIES: AtomicUsize = AtomicUsize::new(0);
static QUERY_MILLIS: AtomicU64 = AtomicU64::new(0);

/// The worker starts, wrangler runs and queries of this run, in a line.
pub fn starts_summary() -> String {
    let seconds = |millis: &AtomicU64| millis.load(Ordering::SeqCst) as f64 / 1000.0;
    format!(
        "{} wrangler dev starts: {:.1} s applying migrations, {:.1} s until they answered, {:.1} s \
         stopping; {} other runs of wrangler: {:.1} s; {} queries: {:.1} s",
        STARTS.load(Ordering::SeqCst),
        seconds(&MIGRATING_MILLIS),
        seconds(&STARTING_MILLIS),
        seconds(&STOPPING_MILLIS),
        WRANGLER_RUNS.load(Ordering::SeqCst),
        seconds(&WRANGLER_MILLIS),
        QUERIES.load(Ordering::SeqCst),
        seconds(&QUERY_MILLIS),
    )
}

/// The JWT secret the tests run with.
pub const TEST_JWT_SECRET: &str = "e2e-test-secret-that-is-longer-than-32-bytes";
/// The key SMS codes are sealed with in the tests.
pub const TEST_SMS_CODE_SECRET: &str = "e2e-sms-code-secret-that-is-longer-than-32-bytes";

/// `PBKDF2_ITERATIONS` of the test workers outside the production environment, a tenth
/// of the shipped 100,000: the suite hashes over a thousand passwords, which at the
/// shipped count were its largest processor cost. The production environment's workers
/// keep the shipped count, and the derivation is the same code at any count.
pub const TEST_PBKDF2_ITERATIONS: u32 = 10_000;

pub struct TestWorker {
    pub base_url: String,
    pub state_dir: PathBuf,
    pub log_path: PathBuf,
    child: Mutex<Child>,
    stopped: AtomicBool,
    d1: LocalD1,
}

fn env_path(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the end-to-end tests with `make test`"))
}

/// `node` as `make test` set it up (Node 22, for wrangler and the browser tests).
pub fn node() -> Command {
    Command::new(env_path("LOGIN_NODE"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty state folder under target/e2e.
pub fn fresh_state_dir() -> PathBuf {
    let n = NEXT_WORKER.fetch_add(1, Ordering::SeqCst);
    let dir = project_root().join("target/e2e").join(format!("state-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the state folder");
    dir
}

/// The configuration of the prebuilt worker (`make worker` writes it): wrangler.toml
/// without its build step, so that a test neither rebuilds nor reloads the worker.
fn config() -> String {
    project_root().join("build/wrangler.toml").to_string_lossy().into_owned()
}

/// Runs wrangler (not `dev`) to completion, e.g. `d1 execute`. A local D1 write can find
/// the database locked by the running worker for a moment, so a failure is retried a few
/// times before it fails the test.
pub fn wrangler(args: &[&str]) -> String {
    let started = Instant::now();
    let out = wrangler_on(&config(), args);
    WRANGLER_RUNS.fetch_add(1, Ordering::SeqCst);
    WRANGLER_MILLIS.fetch_add(started.elapsed().as_millis() as u64, Ordering::SeqCst);
    out
}

/// `wrangler` on another configuration.
pub fn wrangler_on(config: &str, args: &[&str]) -> String {
    let mut failure = String::new();
    for attempt in 0..5 {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(200 * attempt));
        }
        let output = node()
            .arg(env_path("LOGIN_WRANGLER"))
            .args(args)
            .args(["--config", config])
            .current_dir(project_root())
            .output()
            .expect("run wrangler");
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        if output.status.success() {
            return stdout;
        }
        failure = format!("{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    }
    panic!("wrangler {args:?} failed:\n{failure}");
}

/// As `make dev` does before it serves: the migrations make or upgrade the database in
/// `state_dir`. Each run of wrangler takes seconds, and most workers start on an empty
/// folder or on one a worker of this run left (a restart): an empty folder gets a copy of
/// a database the migrations made once in this run, and a folder this run migrated is
/// left as it is (applying them again would find nothing to do, which
/// `names::the_migrations_and_schema_sql_make_the_same_database` tests). Any other folder,
/// e.g. a database a test made as an older version would have, is migrated by wrangler.
fn migrate(login_config: &str, environment: Option<&str>, state_dir: &Path) {
    let marker = state_dir.join("migrated-by-e2e");
    let migrated = format!("{login_config} {environment:?}");
    if std::fs::read_to_string(&marker).is_ok_and(|done| done == migrated) {
        return;
    }
    let empty = std::fs::read_dir(state_dir).map(|mut entries| entries.next().is_none()).unwrap_or(true);
    if empty && login_config == config() {
        copy_dir(&migrated_template(environment), state_dir);
    } else {
        apply_migrations(login_config, environment, state_dir);
    }
    std::fs::write(&marker, migrated).expect("mark the state folder migrated");
}

/// A fresh state folder with the database the migrations make, as a worker's would have.
pub fn migrated_state_dir() -> PathBuf {
    let dir = fresh_state_dir();
    migrate(&config(), None, &dir);
    dir
}

fn apply_migrations(login_config: &str, environment: Option<&str>, state_dir: &Path) {
    let state = state_dir.to_str().expect("a UTF-8 path");
    let mut args = vec!["d1", "migrations", "apply", "DB", "--local", "--persist-to", state];
    if let Some(name) = environment {
        args.extend(["--env", name]);
    }
    wrangler_on(login_config, &args);
}

/// A state folder with only the migrations applied, one per environment (each has its
/// own database id, so its own file), made by the first worker that needs it.
fn migrated_template(environment: Option<&str>) -> PathBuf {
    static TEMPLATES: Mutex<Vec<(Option<String>, PathBuf)>> = Mutex::new(Vec::new());
    let mut templates = TEMPLATES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, dir)) = templates.iter().find(|(name, _)| name.as_deref() == environment) {
        return dir.clone();
    }
    let dir = fresh_state_dir();
    apply_migrations(&config(), environment, &dir);
    templates.push((environment.map(str::to_string), dir.clone()));
    dir
}

/// Copies the files under `from` into `to`, folders included.
fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read the template") {
        let entry = entry.expect("a template entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("its type").is_dir() {
            std::fs::create_dir_all(&target).expect("a folder of the state");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file of the template");
        }
    }
}

impl TestWorker {
    /// A worker on `state_dir` (the migrations are applied if needed), with extra vars.
    pub fn start_with(state_dir: &Path, vars: &[(&str, &str)]) -> TestWorker {
        TestWorker::start_in(None, state_dir, vars)
    }

    /// A worker of a `wrangler.toml` environment (`Some("production")`, as shipped), or
    /// of the top-level development settings (`None`), which the tests run with every
    /// request logged (`LOG_REQUESTS=all`, unless `vars` says otherwise): the tests that
    /// no secret reaches the log then see all a worker can write, and `post_marked`
    /// finds its line.
    pub fn start_in(environment: Option<&str>, state_dir: &Path, vars: &[(&str, &str)]) -> TestWorker {
        TestWorker::start_configs(&[config()], environment, state_dir, vars)
    }

    /// `wrangler dev` on several configurations at once (`-c a -c b`): the first is the
    /// Worker served on the port, the others run beside it, reachable through service
    /// bindings. The migrations are applied for the last one (this worker's), whose
    /// folder holds its secrets (`.dev.vars`): `vars` go to the first one only.
    pub fn start_configs(
        configs: &[String],
        environment: Option<&str>,
        state_dir: &Path,
        vars: &[(&str, &str)],
    ) -> TestWorker {
        let migrating = Instant::now();
        migrate(configs.last().expect("a configuration"), environment, state_dir);
        MIGRATING_MILLIS.fetch_add(migrating.elapsed().as_millis() as u64, Ordering::SeqCst);

        // A free port can be taken by another test's workerd between our look and
        // wrangler's bind; then something else answers there, and the start is tried again
        // on other ports.
        let mut last = String::new();
        for _ in 0..3 {
            let starting = Instant::now();
            STARTS.fetch_add(1, Ordering::SeqCst);
            let worker = TestWorker::spawn(configs, environment, state_dir, vars);
            let ready = worker.wait_until_ready();
            STARTING_MILLIS.fetch_add(starting.elapsed().as_millis() as u64, Ordering::SeqCst);
            match ready {
                Ok(()) => return worker,
                Err(reason) => {
                    eprintln!("{reason}; starting wrangler dev again on other ports");
                    worker.shut_down();
                    last = reason;
                }
            }
        }
        panic!("wrangler dev did not start in 3 tries; the last: {last}");
    }

    /// One `wrangler dev` on a free port, not yet known to answer.
    fn spawn(
        configs: &[String],
        environment: Option<&str>,
        state_dir: &Path,
        vars: &[(&str, &str)],
    ) -> TestWorker {
        let state = state_dir.to_str().expect("a UTF-8 path");
        let env_args: Vec<&str> = environment.map(|name| vec!["--env", name]).unwrap_or_default();
        let port = free_port();
        let log_path = state_dir.join(format!("wrangler-{port}.log"));
        let log = std::fs::File::create(&log_path).expect("create the log");
        let mut command = node();
        command
            .arg(env_path("LOGIN_WRANGLER"))
            .arg("dev")
            .args(configs.iter().flat_map(|config| ["--config", config.as_str()]))
            .args(["--ip", "127.0.0.1", "--port", &port.to_string()])
            .args(["--inspector-port", &free_port().to_string(), "--persist-to", state])
            .args(["--show-interactive-dev-session=false", "--log-level", "log"])
            // GET /__scheduled runs the Cron Trigger's handler (the account deletion tests).
            .arg("--test-scheduled")
            .args(&env_args)
            .args(["--var", &format!("SMS_CODE_SECRET:{TEST_SMS_CODE_SECRET}")]);
        if !vars.iter().any(|(name, _)| *name == "JWT_SECRET") {
            command.args(["--var", &format!("JWT_SECRET:{TEST_JWT_SECRET}")]);
        }
        if environment.is_none() && !vars.iter().any(|(name, _)| *name == "LOG_REQUESTS") {
            command.args(["--var", "LOG_REQUESTS:all"]);
        }
        if environment.is_none() && !vars.iter().any(|(name, _)| *name == "PBKDF2_ITERATIONS") {
            command.args(["--var", &format!("PBKDF2_ITERATIONS:{TEST_PBKDF2_ITERATIONS}")]);
        }
        for (name, value) in vars {
            command.args(["--var", &format!("{name}:{value}")]);
        }
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command
            .current_dir(project_root())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start wrangler dev");
        if let Ok(dir) = std::env::var("LOGIN_E2E_PIDS") {
            let _ = std::fs::write(Path::new(&dir).join(child.id().to_string()), "");
        }
        TestWorker {
            base_url: format!("http://127.0.0.1:{port}"),
            state_dir: state_dir.to_path_buf(),
            log_path,
            child: Mutex::new(child),
            stopped: AtomicBool::new(false),
            d1: LocalD1::default(),
        }
    }

    /// Until the worker answers `/healthz`; an error if something else answers on its port
    /// (our Workers answer JSON with a `status`, the health check's or the envelope's).
    fn wait_until_ready(&self) -> Result<(), String> {
        let client = self.client();
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            // wrangler reports a port it could not bind (its own or one it picked for the
            // runtime's internal sockets) and then never answers: try other ports.
            if let Some(line) = self.log().lines().find(|line| line.contains("Address already in use")) {
                return Err(format!("{}: {line}", self.base_url));
            }
            if let Ok(Some(status)) = self.child.lock().unwrap_or_else(|p| p.into_inner()).try_wait() {
                return Err(format!(
                    "wrangler dev ended ({status}) before it answered; its log:\n{}",
                    self.log()
                ));
            }
            if let Some(reply) = client.try_get("/healthz") {
                let ours = serde_json::from_str::<serde_json::Value>(&reply.text)
                    .is_ok_and(|body| body.get("status").is_some());
                return match ours {
                    true => Ok(()),
                    false => Err(format!(
                        "{} answered {} {:?}, not this worker",
                        self.base_url, reply.status, reply.text
                    )),
                };
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("wrangler dev did not answer within 90 s; its log:\n{}", self.log());
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base_url, self.d1.clone())
    }

    /// What wrangler dev printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The first line of the log that contains `needle`, polled for: wrangler writes what
    /// the worker logged a moment after the response has gone, so a test that reads the
    /// log at once, or after a fixed pause, can miss a line that is on its way. Panics
    /// with the whole log if no such line comes within 10 s.
    pub fn wait_for_log_line(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log();
            if let Some(line) = log.lines().find(|line| line.contains(needle)) {
                return line.to_string();
            }
            if Instant::now() >= deadline {
                panic!("no line with {needle:?} in the log within 10 s; the log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs SQL against this worker's local D1 and returns the rows.
    pub fn query(&self, sql: &str) -> Vec<serde_json::Value> {
        self.queries(&[sql]).remove(0)
    }

    /// Runs statements against this worker's local D1 in one transaction and returns each
    /// one's rows, with tests/d1/query.py: SQLite opens the database's file in
    /// milliseconds, where a run of `wrangler d1 execute` takes seconds.
    pub fn queries(&self, statements: &[&str]) -> Vec<Vec<serde_json::Value>> {
        // No request to this worker runs meanwhile (see `client::LocalD1`).
        let _d1 = self.d1.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        let started = Instant::now();
        let output = Command::new(env_path("LOGIN_PYTHON"))
            .arg(project_root().join("tests/d1/query.py"))
            .arg(self.d1_file())
            .args(statements)
            .output()
            .expect("run tests/d1/query.py");
        QUERIES.fetch_add(1, Ordering::SeqCst);
        QUERY_MILLIS.fetch_add(started.elapsed().as_millis() as u64, Ordering::SeqCst);
        let out = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{statements:?} failed:\n{out}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }

    /// The SQLite file of this worker's local D1: the one database of the D1 folder that is
    /// not its metadata.
    fn d1_file(&self) -> PathBuf {
        let folder = self.state_dir.join("v3/d1/miniflare-D1DatabaseObject");
        let files: Vec<PathBuf> = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
            .map(|entry| entry.expect("an entry of the D1 folder").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "sqlite"))
            .filter(|path| !path.ends_with("metadata.sqlite"))
            .collect();
        assert_eq!(files.len(), 1, "one database in {}: {files:?}", folder.display());
        files[0].clone()
    }

    /// The keys of this worker's local KV namespace that start with `prefix`.
    pub fn kv_keys(&self, prefix: &str) -> Vec<String> {
        let state = self.state_dir.to_str().unwrap();
        let args =
            ["kv", "key", "list", "--binding", "KV", "--local", "--persist-to", state, "--prefix", prefix];
        let out = wrangler(&args);
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        let keys = parsed.as_array().cloned().unwrap_or_default();
        keys.iter().filter_map(|key| key["name"].as_str().map(str::to_string)).collect()
    }

    /// Writes `value` under `key` in this worker's local KV namespace, behind its back (as
    /// another isolate or location would).
    pub fn kv_put(&self, key: &str, value: &str) {
        let state = self.state_dir.to_str().unwrap();
        wrangler(&["kv", "key", "put", key, value, "--binding", "KV", "--local", "--persist-to", state]);
    }

    /// Stops wrangler and its workerd processes and waits for them to end.
    pub fn stop(self) {
        self.shut_down();
    }

    /// Idempotent, so that a shared worker can be stopped before the process exits.
    pub fn shut_down(&self) {
        let mut child = self.child.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        let stopping = Instant::now();
        // Even when wrangler itself has ended, its workerd may still run in the group.
        let group = child.id() as i32;
        signal_group(group, "TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever is left of the group (workerd) goes too.
        signal_group(group, "KILL");
        let _ = child.wait();
        STOPPING_MILLIS.fetch_add(stopping.elapsed().as_millis() as u64, Ordering::SeqCst);
        if let Ok(dir) = std::env::var("LOGIN_E2E_PIDS") {
            let _ = std::fs::remove_file(Path::new(&dir).join(group.to_string()));
        }
    }
}

fn signal_group(group: i32, signal: &str) {
    let _ = Command::new("kill")
        .args([format!("-{signal}"), "--".into(), format!("-{group}")])
        .stderr(Stdio::null())
        .status();
}

impl Drop for TestWorker {
    fn drop(&mut self) {
        self.shut_down();
    }
}
