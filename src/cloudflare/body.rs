//! Reading a request body, no further than the limit and no longer than a deadline; and
//! what becomes of a body no route read.

use std::pin::pin;
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use wasm_bindgen_futures::JsFuture;
use worker::{Delay, Request};

use crate::domain::error::{ApiError, ValidationError};
use crate::domain::requests::MAX_BODY_BYTES;

/// How much of a body no route takes (an oversized one without a declared length, or one
/// sent with a request answered without it) is read and dropped before answering.
const DRAIN_LIMIT_BYTES: usize = 8 << 20;

/// How long a body may take to arrive. A client that declares a length and never sends it
/// (or trickles a chunked upload) would otherwise hold the request, and a place in the
/// runtime, for as long as the connection lasts (docs/performance.md, "Body deadline").
/// A real client sends 16 KiB in far less.
const BODY_DEADLINE: Duration = Duration::from_secs(10);

/// The body, read no further than the limit and for no longer than [`BODY_DEADLINE`]
/// (then 9906 with HTTP 408).
pub async fn read_body(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    match select(pin!(read_within_limit(req)), Delay::from(BODY_DEADLINE)).await {
        Either::Left((body, _)) => body,
        Either::Right(_) => Err(ApiError::Invalid(ValidationError::BodyIncomplete)),
    }
}

/// Reads and drops a body that no route read (the route answered without it), up to
/// [`DRAIN_LIMIT_BYTES`] and for no longer than [`BODY_DEADLINE`], before the answer goes
/// out; one declared longer than that is cancelled unread.
///
/// Why not leave it: `wrangler dev` wraps the worker in a middleware of its own
/// (`ensure-req-body-drained`) that, once the worker has answered, reads an unread body to
/// its end before it hands the answer on, with no deadline. A client that declares a body
/// and never sends it then waited for as long as its connection lasted, for every answer
/// given without the body (an origin refused, a declared length over the limit, a path or
/// method not served, a preflight). A body read from counts as used, and the middleware
/// leaves it alone. Why not cancel it at once: answering while the client is still
/// uploading can cost it the answer under `wrangler dev`, as it did a 1 MiB upload's 413;
/// reading it first is what that middleware is there for. On Cloudflare the runtime
/// drops an unread body itself (docs/security.md, "Request bodies").
pub async fn let_go_of_unread_body(req: &mut Request) {
    if req.inner().body_used() {
        return;
    }
    let Some(body) = req.inner().body() else { return };
    if declared_length(req).is_some_and(|length| length > DRAIN_LIMIT_BYTES) {
        // Whether the stream agrees changes nothing for the answer.
        let _ = JsFuture::from(body.cancel()).await;
        return;
    }
    let drain = async {
        let Ok(mut stream) = req.stream() else { return };
        let mut seen = 0usize;
        while let Some(Ok(chunk)) = stream.next().await {
            seen += chunk.len();
            if seen > DRAIN_LIMIT_BYTES {
                break;
            }
        }
    };
    select(pin!(drain), Delay::from(BODY_DEADLINE)).await;
}

/// The body's length as the request declares it, if it does.
fn declared_length(req: &Request) -> Option<usize> {
    req.headers().get("Content-Length").ok().flatten().and_then(|v| v.trim().parse::<usize>().ok())
}

/// A declared length over the limit is refused before reading, and a chunked upload (no
/// length) as soon as it passes it, so that a huge body can never fill the Worker's
/// 128 MB of memory.
async fn read_within_limit(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    let too_large = ApiError::Invalid(ValidationError::BodyTooLarge);
    match declared_length(req) {
        Some(length) if length > MAX_BODY_BYTES => return Err(too_large),
        // A declared length is what the runtime reads, no more: the body in one call
        // rather than chunk by chunk (each a round trip between wasm and JavaScript).
        Some(_) => return req.bytes().await.map_err(|_| ApiError::Invalid(ValidationError::BodyNotObject)),
        None => {}
    }
    // No body at all (a POST without one) reads as empty, which is no JSON object.
    let Ok(mut stream) = req.stream() else { return Ok(Vec::new()) };
    let mut body = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        // An unreadable body (a broken upload) is as good as no JSON object.
        let chunk = chunk.map_err(|_| ApiError::Invalid(ValidationError::BodyNotObject))?;
        seen += chunk.len();
        if seen > MAX_BODY_BYTES {
            // Past the limit the rest is read and dropped, up to a bound: answering while
            // the client is still uploading can cost it the answer (seen under wrangler
            // dev as "Network connection lost" instead of the 413).
            if seen > DRAIN_LIMIT_BYTES {
                break;
            }
            continue;
        }
        body.extend_from_slice(&chunk);
    }
    if seen > MAX_BODY_BYTES {
        return Err(too_large);
    }
    Ok(body)
}
