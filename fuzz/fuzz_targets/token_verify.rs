//! Arbitrary bytes as a token to verify: the check is `login_worker_fuzz::token_verify`,
//! which `make test` also runs on the seeds.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| login_worker_fuzz::token_verify::check_token(data));
