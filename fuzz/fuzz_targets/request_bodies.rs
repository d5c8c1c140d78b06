//! Arbitrary bytes as the body of every endpoint: the check is
//! `login_worker_fuzz::request_bodies`, which `make test` also runs on the seeds.
#![no_main]

libfuzzer_sys::fuzz_target!(|body: &[u8]| login_worker_fuzz::request_bodies::check_body(body));
