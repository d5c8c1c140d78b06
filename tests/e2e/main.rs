//! End-to-end tests: the built worker under `wrangler dev`, with local D1, KV and Durable
//! Objects, spoken to over HTTP. Run by `make test` (which builds the worker and sets up
//! the toolchain); `make e2e` runs only these, and `make e2e ARGS=name` those matching.
//!
//! Most tests share a worker with others whose settings agree (each uses its own phones,
//! accounts and addresses); the ones that need settings of their own or a restart start
//! their own workers.

/// A list of tests for `main` to run, written as the functions alone: `tests![a, b]` is
/// `&[("a", a), ("b", b)]`. Each test is named after its function by `stringify!`, so a
/// name can neither be mistyped nor drift from what it runs. Defined before the `mod`
/// lines, so that every module below can use it.
macro_rules! tests {
    ($($test:ident),* $(,)?) => {
        &[$((stringify!($test), $test)),*]
    };
}

mod account;
mod binding;
mod client;
mod concurrency;
mod contract;
mod events;
mod fake_provider;
mod import;
mod isolated;
mod js_client;
mod names;
mod newcomer;
mod password;
mod readme;
mod sms;
mod sms_login;
mod strangers;
mod support;
mod tokens;
mod turnstile;
mod validation;
mod webhook_receiver;
mod worker;

use std::sync::OnceLock;
use std::time::Instant;

use libtest_mimic::{Arguments, Trial};
use worker::TestWorker;

/// A test against a worker it shares with other tests.
pub type SharedTest = (&'static str, fn(&TestWorker));
/// A test that starts its own workers.
pub type OwnTest = (&'static str, fn());

/// A worker that several tests share, each with phones, accounts and addresses of its
/// own: started by the first of them to run, stopped once all have run. A start costs
/// seconds, so the tests whose settings agree share one.
struct SharedWorker {
    vars: &'static [(&'static str, &'static str)],
    worker: OnceLock<TestWorker>,
}

impl SharedWorker {
    const fn new(vars: &'static [(&'static str, &'static str)]) -> SharedWorker {
        SharedWorker { vars, worker: OnceLock::new() }
    }

    fn get(&self) -> &TestWorker {
        self.worker.get_or_init(|| TestWorker::start_with(&worker::fresh_state_dir(), self.vars))
    }

    fn shut_down(&self) {
        if let Some(worker) = self.worker.get() {
            worker.shut_down();
        }
    }
}

/// The shared worker. Many tests send codes and fail logins from this one machine, so it
/// lifts the per-address limits; they are tested on `LIMITS`. Every request logs its line
/// (LOG_REQUESTS=all, see `TestWorker::start_in`), so that the tests that no secret
/// reaches the log see everything a worker can log.
static SHARED: SharedWorker = SharedWorker::new(&[
    ("SMS_HOURLY_LIMIT_PER_IP", "1000000"),
    ("LOGIN_FAILURES_PER_IP", "1000000"),
    ("CODE_ATTEMPTS_PER_IP", "1000000"),
]);

/// The per-address limits as shipped, for the tests of them, each from addresses of its
/// own; the few requests they make from this machine stay far below its 20 sends an hour.
/// What one test here needs and the others do not mind is set here too, rather than on a
/// worker of its own: one allowed origin (no other test here sends an Origin), 15 failed
/// logins an account (each test logs in to its own accounts), and a second of status
/// caching, which the tests of those caches wait out (the tests that a log-out is seen at
/// once despite the caches keep their 5 s on `SHARED`).
static LIMITS: SharedWorker = SharedWorker::new(&[
    ("CORS_ALLOWED_ORIGINS", "https://app.example"),
    ("LOGIN_FAILURES_PER_ACCOUNT", "15"),
    ("STATUS_USER_CACHE_SECONDS", contract::STATUS_CACHE_SECONDS),
    ("STATUS_REVOCATION_CACHE_SECONDS", contract::STATUS_CACHE_SECONDS),
]);

/// Refresh rotation, five failed logins an address, sign-up by code, and deletions due at
/// once: the tests of each mind none of the others (the rotation test refreshes and fails
/// no login, the limit's fails logins from an address of its own and refreshes nothing,
/// the sign-up tests make users by code of phones of their own, and only the deletion
/// test deletes). Their sends and codes together pass the defaults for one address (20
/// sends and 30 codes tried an hour), which these lift as `SHARED` does.
static ROTATING: SharedWorker = SharedWorker::new(&[
    ("REFRESH_ROTATION", "true"),
    ("LOGIN_FAILURES_PER_IP", "5"),
    ("SMS_HOURLY_LIMIT_PER_IP", "1000000"),
    ("CODE_ATTEMPTS_PER_IP", "1000000"),
    ("SMS_SIGNUP", "true"),
    ("ACCOUNT_DELETE_GRACE_DAYS", "0"),
]);

/// The JavaScript client's: refresh rotation, and access tokens that live 3 s, so that the
/// client's own refreshes come within a test (and the worker's 5 s of leeway past `exp`
/// soon end). Its tests sign up from this machine, as `SHARED`'s do.
static CLIENT: SharedWorker = SharedWorker::new(&[
    ("REFRESH_ROTATION", "true"),
    ("ACCESS_TTL_SECONDS", "3"),
    ("SMS_SIGNUP", "true"),
    ("SMS_HOURLY_LIMIT_PER_IP", "1000000"),
    ("CODE_ATTEMPTS_PER_IP", "1000000"),
]);

/// The tests that take longest, started first and in this order: a run ends when its
/// longest chain of tests does. The first two keep the processors busy; the others
/// mostly wait (for a deadline of the worker's, or for codes to expire), beside them.
const FIRST: &[&str] = &[
    "the_original_services_users_move_in_and_log_in_as_before",
    "the_api_matches_its_openapi_document",
    "a_body_that_never_arrives_is_given_up_on",
    "an_answer_that_needs_no_body_does_not_wait_for_one",
    "rotation_allows_two_tabs_and_a_late_replay_ends_the_session",
    "two_tabs_refresh_one_at_a_time_and_never_present_a_retired_token",
    "the_daily_and_hourly_limits_trip_with_retry_after",
];

/// `LOGIN_E2E_TIMES=1` prints each test's time as it ends, and what the worker starts
/// cost: where a run's time goes.
fn timing() -> bool {
    std::env::var_os("LOGIN_E2E_TIMES").is_some()
}

fn timed(name: &str, test: impl FnOnce()) {
    static RUN: OnceLock<Instant> = OnceLock::new();
    let run = *RUN.get_or_init(Instant::now);
    let started = Instant::now();
    test();
    if timing() {
        let (took, at) = (started.elapsed().as_secs_f64(), (started - run).as_secs_f64());
        eprintln!("e2e time: {took:6.1} s  {name} (from {at:.1} s)");
    }
}

fn main() {
    let mut args = Arguments::from_args();
    // A test spends most of its time waiting (on a worker, wrangler, a deadline), so one
    // thread more than there are processors keeps them busy; --test-threads still decides.
    let processors = std::thread::available_parallelism().map_or(1, usize::from);
    args.test_threads = args.test_threads.or(Some(processors + 1));
    // Plain `cargo test` runs the native tests; these need the built worker, wrangler and
    // scripts/e2e.sh, which stops every worker however the run ends.
    if std::env::var_os("LOGIN_E2E_PIDS").is_none() && !args.list {
        println!("e2e: skipped, run `make test` or `make e2e` (they build the worker and set up wrangler)");
        return;
    }
    // The tests with workers of their own before the shared workers' many short ones.
    let mut trials: Vec<Trial> = [
        import::OWN_TESTS,
        isolated::TESTS,
        tokens::OWN_TESTS,
        names::OWN_TESTS,
        strangers::OWN_TESTS,
        sms::OWN_TESTS,
        events::OWN_TESTS,
        sms_login::OWN_TESTS,
        turnstile::OWN_TESTS,
        password::OWN_TESTS,
        binding::OWN_TESTS,
        readme::OWN_TESTS,
        newcomer::OWN_TESTS,
    ]
    .concat()
    .into_iter()
    .map(|(name, test)| {
        Trial::test(name, move || {
            timed(name, test);
            Ok(())
        })
    })
    .collect();
    let shared = [
        (&CLIENT, js_client::TESTS.to_vec()),
        (&LIMITS, [strangers::LIMITS_TESTS, contract::LIMITS_TESTS].concat()),
        (
            &ROTATING,
            [tokens::ROTATING_TESTS, sms_login::SIGNUP_TESTS, account::NO_GRACE_TESTS, account::SIGNUP_TESTS]
                .concat(),
        ),
        (
            &SHARED,
            [
                contract::TESTS,
                validation::TESTS,
                account::SHARED_TESTS,
                concurrency::TESTS,
                sms::SHARED_TESTS,
                sms_login::SHARED_TESTS,
                tokens::SHARED_TESTS,
                password::SHARED_TESTS,
                strangers::SHARED_TESTS,
                names::SHARED_TESTS,
                newcomer::TESTS,
            ]
            .concat(),
        ),
    ];
    for (worker, tests) in shared {
        trials.extend(tests.into_iter().map(|(name, test)| {
            Trial::test(name, move || {
                timed(name, || test(worker.get()));
                Ok(())
            })
        }));
    }
    for name in FIRST {
        assert!(trials.iter().any(|trial| trial.name() == *name), "FIRST names {name}, which is no test");
    }
    trials.sort_by_key(|trial| FIRST.iter().position(|name| *name == trial.name()).unwrap_or(FIRST.len()));
    let conclusion = libtest_mimic::run(&args, trials);
    for worker in [&SHARED, &LIMITS, &ROTATING, &CLIENT] {
        worker.shut_down();
    }
    if timing() {
        eprintln!("e2e time: {}", worker::starts_summary());
    }
    conclusion.exit();
}
