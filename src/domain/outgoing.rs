//! A request the worker makes to another service (an SMS provider, Turnstile's
//! siteverify), built by pure code and carried out by the Cloudflare side, which only
//! adds the deadline.

use base64ct::{Base64Unpadded, Encoding};
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

/// Standard base64 with its padding. The unpadded encoder plus the `=`s, so that the wasm
/// holds one standard encoder (the password hashes' unpadded one), not two.
pub(crate) fn base64_padded(bytes: &[u8]) -> String {
    let mut text = Base64Unpadded::encode_string(bytes);
    text.extend(std::iter::repeat_n('=', (4 - text.len() % 4) % 4));
    text
}

/// `scheme://host[:port]` of `url`, without user info, path, query or fragment: as much of
/// an app's URL as a log may show (the rest may hold a token).
pub fn url_origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    format!("{scheme}://{}", authority.rsplit('@').next().unwrap_or(authority))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_drops_user_info_path_query_and_fragment() {
        assert_eq!(url_origin("https://u:p@hooks.example:8443/a/b?token=1#x"), "https://hooks.example:8443");
        assert_eq!(url_origin("http://127.0.0.1:9000"), "http://127.0.0.1:9000");
        assert_eq!(url_origin("no scheme/at/all"), "://no scheme");
    }
}
