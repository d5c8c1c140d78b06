//! Reading a request body, no further than the limit and no longer than a deadline.

use std::pin::pin;
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use worker::{Delay, Request};

use crate::domain::error::{ApiError, ValidationError};
use crate::domain::requests::MAX_BODY_BYTES;

/// How much of an oversized body without a declared length is read (and dropped) before
/// answering 413.
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

/// A declared length over the limit is refused before reading, and a chunked upload (no
/// length) as soon as it passes it, so that a huge body can never fill the Worker's
/// 128 MB of memory.
async fn read_within_limit(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    let too_large = ApiError::Invalid(ValidationError::BodyTooLarge);
    let declared =
        req.headers().get("Content-Length").ok().flatten().and_then(|v| v.trim().parse::<usize>().ok());
    match declared {
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
