//! The fuzz targets' checks, run natively on every seed and regression input in `fuzz/`.
//!
//! `make fuzz` explores from these inputs on nightly; this runs the same checks on the
//! stable toolchain in `make test`, so they keep building as the code they check changes,
//! and a crash once found (in `fuzz/regressions/`) stays fixed. It includes the fuzz
//! crate's source rather than building that crate: its own workspace would compile every
//! dependency again.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)] // what only `examples/make_seeds.rs` uses
mod fuzzing;

use std::fs;
use std::path::{Path, PathBuf};

/// The inputs a target starts from and the ones that once crashed it, with their names.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut inputs = Vec::new();
    for folder in ["seeds", "regressions"] {
        let Ok(entries) = fs::read_dir(fuzz.join(folder).join(target)) else { continue };
        for entry in entries {
            let path = entry.expect("a readable folder").path();
            let bytes = fs::read(&path).expect("a readable input");
            inputs.push((path, bytes));
        }
    }
    assert!(inputs.len() >= 10, "fuzz/seeds/{target}/ has only {} inputs", inputs.len());
    inputs
}

#[test]
fn every_request_body_seed_passes_the_targets_check() {
    for (path, body) in inputs("request_bodies") {
        println!("{}", path.display());
        fuzzing::request_bodies::check_body(&body);
    }
}

#[test]
fn every_token_seed_passes_the_targets_check() {
    for (path, data) in inputs("token_verify") {
        println!("{}", path.display());
        fuzzing::token_verify::check_token(&data);
    }
}

/// The seeds are tokens of today's format: an HS256 token is the same on every run, and an
/// Ed25519 one has the same header and payload (its signature is randomized). When the
/// format changes, `cargo run --example make_seeds` in `fuzz/` writes them anew.
#[test]
fn the_genuine_token_seeds_are_what_the_fixtures_issue() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/token_verify");
    let signing_input = |token: &str| token.rsplit_once('.').map(|(input, _)| input.to_string());
    for (name, token) in fuzzing::genuine_tokens() {
        let seed = fs::read_to_string(seeds.join(format!("{name}.jwt"))).expect("a seed per genuine token");
        if name.contains("ed25519") {
            assert_eq!(signing_input(&seed), signing_input(&token), "{name}: run make_seeds");
        } else {
            assert_eq!(seed, token, "{name}: run make_seeds");
        }
    }
}
