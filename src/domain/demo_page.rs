//! The headers the demo page is served with. The page posts what is typed into it
//! (passwords, codes) to an API, so it must not be framed by another site (a clickjacking
//! or look-alike page around it), run scripts from anywhere else, or post anywhere but to
//! this worker and the origins the operator allows (`?api=` may name one of those only:
//! the browser refuses any other, so a link with `?api=https://evil.example` cannot
//! collect passwords).

use super::settings::AllowedOrigins;

/// Cloudflare's Turnstile, whose script and frame the page may load once it has a site key.
const TURNSTILE_ORIGIN: &str = "https://challenges.cloudflare.com";

/// What the page carries where a site key goes: `demo.js` shows the Turnstile widget when
/// the worker has filled it in (`TURNSTILE_SITE_KEY`).
pub const SITE_KEY_SLOT: &str = r#"<meta name="turnstile-site-key" content="">"#;

/// The page's HTML with `site_key` in its slot. A key is letters, digits, `-` and `_`;
/// anything else is left out rather than written into the page.
pub fn with_site_key(html: &str, site_key: &str) -> String {
    if site_key.is_empty() || !site_key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return html.to_string();
    }
    html.replacen(SITE_KEY_SLOT, &format!(r#"<meta name="turnstile-site-key" content="{site_key}">"#), 1)
}

/// The headers to add to the page's answer; with `turnstile`, the page may also load
/// Turnstile's script and frame.
pub fn security_headers(allowed: &AllowedOrigins, turnstile: bool) -> [(&'static str, String); 4] {
    [
        ("Content-Security-Policy", content_security_policy(allowed, turnstile)),
        // For browsers older than `frame-ancestors`.
        ("X-Frame-Options", "DENY".into()),
        ("Referrer-Policy", "no-referrer".into()),
        ("X-Content-Type-Options", "nosniff".into()),
    ]
}

/// A strict policy: nothing inline, nothing from elsewhere (but Turnstile's script and
/// frame when it is on), no framing, no forms, and `fetch` only to this origin and the
/// allowed ones.
pub fn content_security_policy(allowed: &AllowedOrigins, turnstile: bool) -> String {
    let connect = match allowed {
        // `*` lets any origin call the API, which is no reason to let the page post what
        // is typed into it anywhere: with it the page may call itself and this machine
        // (another local deployment, `?api=http://127.0.0.1:8788`), nothing else. (CSP has
        // no source for an IPv6 literal such as `[::1]`.)
        AllowedOrigins::Any => "'self' http://localhost:* http://127.0.0.1:*".to_string(),
        AllowedOrigins::List(origins) => {
            let mut sources = vec!["'self'"];
            // A listed origin goes into the policy only if it is one (no spaces, quotes or
            // separators): a typo in the setting must not be able to add a directive.
            sources.extend(origins.iter().map(String::as_str).filter(|origin| is_plain_origin(origin)));
            sources.join(" ")
        }
    };
    let (scripts, frames) = match turnstile {
        true => (format!("'self' {TURNSTILE_ORIGIN}"), format!("; frame-src {TURNSTILE_ORIGIN}")),
        false => ("'self'".to_string(), String::new()),
    };
    format!(
        "default-src 'none'; script-src {scripts}; style-src 'self'; img-src 'self'; \
         connect-src {connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'{frames}"
    )
}

fn is_plain_origin(origin: &str) -> bool {
    let Some((scheme, host)) = origin.split_once("://") else { return false };
    matches!(scheme, "http" | "https")
        && !host.is_empty()
        // No `[`: CSP has no source for an IPv6 literal, and browsers drop one with a warning.
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(setting: &str) -> String {
        content_security_policy(&AllowedOrigins::from_setting(Some(setting)), false)
    }

    #[test]
    fn the_page_may_only_call_itself_and_the_allowed_origins() {
        let csp = policy("https://app.example.com, http://localhost:3000");
        assert!(csp.contains("connect-src 'self' https://app.example.com http://localhost:3000;"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.starts_with("default-src 'none'; script-src 'self'; style-src 'self';"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        // No list: only the page's own origin.
        let csp = content_security_policy(&AllowedOrigins::from_setting(None), false);
        assert!(csp.contains("connect-src 'self';"), "{csp}");
        // With any origin allowed to call the API, the page still posts only to itself and
        // to this machine.
        assert!(policy("*").contains("connect-src 'self' http://localhost:* http://127.0.0.1:*;"));
    }

    #[test]
    fn a_listed_value_that_is_no_origin_cannot_add_a_directive() {
        let csp =
            policy("https://ok.example, https://x.example; script-src *, javascript:alert(1), https://a b");
        assert!(csp.contains("connect-src 'self' https://ok.example;"), "{csp}");
        assert_eq!(csp.matches("script-src").count(), 1, "{csp}");
        assert!(is_plain_origin("http://127.0.0.1:8787"));
        assert!(!is_plain_origin("http://[::1]:8787"));
        assert!(!is_plain_origin("ftp://x.example"));
        assert!(!is_plain_origin("https://"));
    }

    #[test]
    fn with_a_site_key_the_page_gets_it_and_may_load_turnstile_only() {
        let csp = content_security_policy(&AllowedOrigins::Any, true);
        assert!(csp.contains("script-src 'self' https://challenges.cloudflare.com;"), "{csp}");
        assert!(
            csp.ends_with("frame-ancestors 'none'; frame-src https://challenges.cloudflare.com"),
            "{csp}"
        );
        let without = content_security_policy(&AllowedOrigins::Any, false);
        assert!(
            !without.contains("challenges.cloudflare.com") && !without.contains("frame-src"),
            "{without}"
        );
        let html = format!("<head>{SITE_KEY_SLOT}</head>");
        assert_eq!(
            with_site_key(&html, "0x4AAAA-b_c"),
            r#"<head><meta name="turnstile-site-key" content="0x4AAAA-b_c"></head>"#
        );
        assert_eq!(with_site_key(&html, "\"><script>"), html, "no markup from a setting");
    }

    #[test]
    fn the_page_cannot_be_framed_or_sniffed() {
        let headers = security_headers(&AllowedOrigins::Any, false);
        let names: Vec<&str> = headers.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            ["Content-Security-Policy", "X-Frame-Options", "Referrer-Policy", "X-Content-Type-Options"]
        );
        assert_eq!(headers[1].1, "DENY");
    }
}
