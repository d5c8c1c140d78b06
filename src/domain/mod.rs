//! Pure domain: what a request may contain, what a response looks like, and the rules for
//! codes, passwords and tokens. Nothing here knows about Cloudflare.

pub mod account;
pub mod client_address;
pub mod clock;
pub mod code_gate_state;
pub mod crypto;
pub mod demo_page;
pub mod device;
pub mod endpoint;
pub mod envelope;
pub mod error;
pub mod events;
pub mod key_ring;
pub mod language;
pub mod look_alikes;
pub mod messages;
pub mod outgoing;
pub mod password;
pub mod phone;
pub mod random;
pub mod rate_limit;
pub mod refresh_rotation;
pub mod requests;
pub mod scripts;
pub mod session_policy;
pub mod settings;
pub mod sms_code;
pub mod sms_failover;
pub mod sms_provider;
pub mod standard_webhooks;
pub mod token;
pub mod turnstile;
pub mod unicode_tables;
pub mod username;
