//! Use cases: one module per endpoint, each a function of the [`platform::App`] (generic
//! over its one [`platform::Platform`]), the endpoint's parsed request and the
//! [`platform::Call`]. They are written against the traits of [`ports`], so that the
//! flows run natively in tests with in-memory stand-ins and on Cloudflare with D1, KV and
//! the Durable Objects.

// The endpoints.
pub mod account_delete;
pub mod deactivate;
pub mod login;
pub mod password_change;
pub mod password_reset;
pub mod phone_change;
pub mod refresh;
pub mod register;
pub mod send_sms;
pub mod sessions_list;
pub mod sms_login;
pub mod status;

// What they share.
pub mod account_keys;
pub mod account_purge;
pub mod code_claim;
pub mod code_gate;
pub mod events;
pub mod limits;
pub mod platform;
pub mod ports;
pub mod recent;
pub mod session;

#[cfg(test)]
pub(crate) mod in_memory;
