//! The headers the demo page is served with. The page posts what is typed into it
//! (passwords, codes) to an API, so it must not be framed by another site (a clickjacking
//! or look-alike page around it), run scripts from anywhere else, or post anywhere but to
//! this worker and the origins the operator allows (`?api=` may name one of those only:
//! the browser refuses any other, so a link with `?api=https://evil.example` cannot
//! collect passwords).

use super::settings::AllowedOrigins;

/// The headers to add to the page's answer.
pub fn security_headers(allowed: &AllowedOrigins) -> [(&'static str, String); 4] {
    [
        ("Content-Security-Policy", content_security_policy(allowed)),
        // For browsers older than `frame-ancestors`.
        ("X-Frame-Options", "DENY".into()),
        ("Referrer-Policy", "no-referrer".into()),
        ("X-Content-Type-Options", "nosniff".into()),
    ]
}

/// A strict policy: nothing inline, nothing from elsewhere, no framing, no forms, and
/// `fetch` only to this origin and the allowed ones.
pub fn content_security_policy(allowed: &AllowedOrigins) -> String {
    let connect = match allowed {
        AllowedOrigins::Any => "*".to_string(),
        AllowedOrigins::List(origins) => {
            let mut sources = vec!["'self'"];
            // A listed origin goes into the policy only if it is one (no spaces, quotes or
            // separators): a typo in the setting must not be able to add a directive.
            sources.extend(origins.iter().map(String::as_str).filter(|origin| is_plain_origin(origin)));
            sources.join(" ")
        }
    };
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src {connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

fn is_plain_origin(origin: &str) -> bool {
    let Some((scheme, host)) = origin.split_once("://") else { return false };
    matches!(scheme, "http" | "https")
        && !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(setting: &str) -> String {
        content_security_policy(&AllowedOrigins::from_setting(Some(setting)))
    }

    #[test]
    fn the_page_may_only_call_itself_and_the_allowed_origins() {
        let csp = policy("https://app.example.com, http://localhost:3000");
        assert!(csp.contains("connect-src 'self' https://app.example.com http://localhost:3000;"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.starts_with("default-src 'none'; script-src 'self'; style-src 'self';"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        // No list: only the page's own origin.
        let csp = content_security_policy(&AllowedOrigins::from_setting(None));
        assert!(csp.contains("connect-src 'self';"), "{csp}");
        // Local development allows any origin, so may the page.
        assert!(policy("*").contains("connect-src *;"));
    }

    #[test]
    fn a_listed_value_that_is_no_origin_cannot_add_a_directive() {
        let csp =
            policy("https://ok.example, https://x.example; script-src *, javascript:alert(1), https://a b");
        assert!(csp.contains("connect-src 'self' https://ok.example;"), "{csp}");
        assert_eq!(csp.matches("script-src").count(), 1, "{csp}");
        assert!(is_plain_origin("http://[::1]:8787"));
        assert!(!is_plain_origin("ftp://x.example"));
        assert!(!is_plain_origin("https://"));
    }

    #[test]
    fn the_page_cannot_be_framed_or_sniffed() {
        let headers = security_headers(&AllowedOrigins::Any);
        let names: Vec<&str> = headers.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            ["Content-Security-Policy", "X-Frame-Options", "Referrer-Policy", "X-Content-Type-Options"]
        );
        assert_eq!(headers[1].1, "DENY");
    }
}
