//! Use cases: one module per flow, written against the traits of [`ports`], so that the
//! flows run natively in tests with in-memory stand-ins and on Cloudflare with D1, KV and
//! the Durable Object.

pub mod login;
pub mod ports;
pub mod refresh_rotation;
pub mod register;
pub mod send_sms;
pub mod session;
pub mod sms_gate;

#[cfg(test)]
pub(crate) mod in_memory;
