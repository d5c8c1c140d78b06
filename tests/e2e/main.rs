//! End-to-end tests: the built worker under `wrangler dev`, with local D1, KV and Durable
//! Objects, spoken to over HTTP. Run by `make test` (which builds the worker and sets up
//! the toolchain); `make e2e` runs only these, and `make e2e ARGS=name` those matching.
//!
//! Most tests share one worker (each uses its own phones and accounts); the ones that
//! need other settings or a restart start their own.

/// A list of tests for `main` to run, written as the functions alone: `tests![a, b]` is
/// `&[("a", a), ("b", b)]`. Each test is named after its function by `stringify!`, so a
/// name can neither be mistyped nor drift from what it runs. Defined before the `mod`
/// lines, so that every module below can use it.
macro_rules! tests {
    ($($test:ident),* $(,)?) => {
        &[$((stringify!($test), $test)),*]
    };
}

mod binding;
mod client;
mod concurrency;
mod contract;
mod fake_provider;
mod import;
mod isolated;
mod names;
mod newcomer;
mod password;
mod readme;
mod sms;
mod strangers;
mod support;
mod tokens;
mod turnstile;
mod validation;
mod worker;

use std::sync::OnceLock;
use std::time::Instant;

use libtest_mimic::{Arguments, Trial};
use worker::TestWorker;

/// A test against the shared worker.
pub type SharedTest = (&'static str, fn(&TestWorker));
/// A test that starts its own worker.
pub type OwnTest = (&'static str, fn());

static SHARED: OnceLock<TestWorker> = OnceLock::new();

/// Many tests send codes and fail logins from this one machine, so the shared worker
/// allows one address more than the defaults; `sms` and `tokens` test the per-address
/// limits on workers of their own.
fn shared() -> &'static TestWorker {
    SHARED.get_or_init(|| {
        let vars = [
            ("SMS_HOURLY_LIMIT_PER_IP", "1000000"),
            ("LOGIN_FAILURES_PER_IP", "1000000"),
            ("CODE_ATTEMPTS_PER_IP", "1000000"),
        ];
        // Every request logs its line (LOG_REQUESTS=all, see `TestWorker::start_in`), so
        // that the tests that no secret reaches the log see everything a worker can log.
        TestWorker::start_with(&worker::fresh_state_dir(), &vars)
    })
}

/// `LOGIN_E2E_TIMES=1` prints each test's time as it ends, and what the worker starts
/// cost: where a run's time goes.
fn timing() -> bool {
    std::env::var_os("LOGIN_E2E_TIMES").is_some()
}

fn timed(name: &str, test: impl FnOnce()) {
    let started = Instant::now();
    test();
    if timing() {
        eprintln!("e2e time: {:6.1} s  {name}", started.elapsed().as_secs_f64());
    }
}

fn main() {
    let args = Arguments::from_args();
    let shared_tests = [
        contract::TESTS,
        validation::TESTS,
        concurrency::TESTS,
        sms::SHARED_TESTS,
        tokens::SHARED_TESTS,
        password::SHARED_TESTS,
        strangers::SHARED_TESTS,
        names::SHARED_TESTS,
        newcomer::TESTS,
    ]
    .concat();
    let mut trials: Vec<Trial> = shared_tests
        .into_iter()
        .map(|(name, test)| {
            Trial::test(name, move || {
                timed(name, || test(shared()));
                Ok(())
            })
        })
        .collect();
    trials.extend(
        [
            isolated::TESTS,
            sms::OWN_TESTS,
            tokens::OWN_TESTS,
            password::OWN_TESTS,
            strangers::OWN_TESTS,
            names::OWN_TESTS,
            turnstile::OWN_TESTS,
            binding::OWN_TESTS,
            import::OWN_TESTS,
            newcomer::OWN_TESTS,
            readme::OWN_TESTS,
        ]
        .concat()
        .into_iter()
        .map(|(name, test)| {
            Trial::test(name, move || {
                timed(name, test);
                Ok(())
            })
        }),
    );
    let conclusion = libtest_mimic::run(&args, trials);
    if let Some(worker) = SHARED.get() {
        worker.shut_down();
    }
    if timing() {
        eprintln!("e2e time: {}", worker::starts_summary());
    }
    conclusion.exit();
}
