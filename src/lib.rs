//! The `/login` API as a Cloudflare Worker.
//!
//! Three layers, one folder each, so that a path tells whether code touches the platform:
//! - [`domain`]: pure types and rules (parsing, validation, the error envelope, password
//!   hashes, JWTs). Never imports `worker`; unit-tested natively.
//! - [`app`]: one use case per endpoint, written against the small traits of
//!   [`app::ports`], so each flow runs natively against in-memory stand-ins.
//! - [`cloudflare`]: the fetch entry point, the router, and the D1, KV and Durable Object
//!   implementations of those traits. Thin.
//!
//! Beside them, natively only, [`import`]: `make import`, which moves the original PHP
//! service's users in.

// The traits in `app::ports` use `async fn`: the Worker runtime is single-threaded, so
// their futures never need to be `Send`, which is what this lint warns about.
#![allow(async_fn_in_trait)]

pub mod app;
pub mod cloudflare;
pub mod domain;
#[cfg(not(target_arch = "wasm32"))]
pub mod import;
