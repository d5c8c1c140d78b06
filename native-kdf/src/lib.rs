//! PBKDF2-HMAC-SHA256 for the native builds of login-worker (the importer, which derives
//! one for every user, and the tests), in a crate of its own so that it alone is compiled
//! optimized in the dev profile: HMAC and PBKDF2 are generic, so their code is generated
//! in the crate that names the hash, and unoptimized it is many times slower (see
//! docs/performance.md, "Native hashing optimized"). The worker's wasm does not use it.
//! Its known answers are tested in login-worker (`domain::password`).

#![forbid(unsafe_code)]

/// PBKDF2-HMAC-SHA256 of `password` and `salt`, `iterations` rounds, into 32 bytes.
pub fn pbkdf2_hmac_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut out);
    out
}
