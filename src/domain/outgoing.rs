//! A request the worker makes to another service (an SMS provider, Turnstile's
//! siteverify), built by pure code and carried out by the Cloudflare side, which only
//! adds the deadline.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// RFC 3986's unreserved characters stay; everything else is `%XX` (space is `%20`, never
/// `+`). Alibaba Cloud signs exactly this encoding, and it is valid form encoding too.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub(crate) fn encode(text: &str) -> String {
    utf8_percent_encode(text, ENCODE).to_string()
}

/// `application/x-www-form-urlencoded` from pairs, in their order.
pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// An HTTP request to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Always `POST` (a form body, or Tencent Cloud's JSON): the code travels in the body,
    /// never in a URL that proxies and logs keep.
    pub body: String,
}
