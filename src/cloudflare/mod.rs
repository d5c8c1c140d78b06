//! The Cloudflare side: the fetch entry point and router, the app built once per
//! isolate (`startup`), and the D1, KV and Durable Object implementations of the use cases' ports.
//! Kept thin: parse, call a use case, answer with the envelope.

#[cfg(feature = "bench")]
mod bench;
mod body;
mod d1_sessions;
mod d1_user_store;
mod documents;
mod durable;
mod http;
mod kv_stores;
mod log;
mod node_crypto;
mod platform;
mod rate_window;
mod refresh_family;
mod router;
mod sms_gate;
mod sms_gate_object;
mod sms_sender;
mod startup;
mod turnstile;
mod unicode;
mod web_crypto;

pub use rate_window::RateWindow;
pub use refresh_family::RefreshFamily;
pub use sms_gate_object::SmsGate;

use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    Ok(router::serve(req, &env, &ctx).await)
}
