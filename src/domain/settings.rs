//! Configuration, read from the Worker's vars and secrets through a lookup function so
//! that parsing and defaults are tested natively.

use chrono::FixedOffset;
use secrecy::SecretString;

use super::error::ConfigError;
use super::events::{EventsSettings, DEFAULT_FIRST_RETRY_SECONDS};
use super::key_ring::KeySettings;
use super::password::PasswordPolicy;
use super::phone::CountryCodes;
use super::rate_limit::Limit;
use super::sms_code::TestNumbers;
use super::sms_provider::SmsProvider;
use super::standard_webhooks::{receiver_url, WebhookSecret};
use super::turnstile::{Turnstile, DEFAULT_VERIFY_URL};

/// Which browser origins may call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// `*`: any origin (local development).
    Any,
    /// Exactly these origins, e.g. `https://app.example.com`.
    List(Vec<String>),
}

/// The origin (`scheme://host[:port]`) of an absolute URL as the runtime gives it
/// (scheme and host already in lower case, default ports already dropped).
pub fn origin_of(url: &str) -> &str {
    match url.find("://") {
        Some(scheme_end) => {
            let authority = scheme_end + 3;
            let end = url[authority..].find(['/', '?', '#']).map_or(url.len(), |at| authority + at);
            &url[..end]
        }
        None => "",
    }
}

impl AllowedOrigins {
    /// `CORS_ALLOWED_ORIGINS`: `*`, or a comma-separated list; unset or empty allows none.
    /// Never an error, so that even a Worker whose other settings are broken answers
    /// with the CORS headers a browser needs to read its 9999.
    pub fn from_setting(value: Option<&str>) -> AllowedOrigins {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            Some("*") => AllowedOrigins::Any,
            Some(text) => AllowedOrigins::List(
                // Browsers send the scheme and host in lower case.
                text.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                    .filter(|o| !o.is_empty())
                    .collect(),
            ),
            None => AllowedOrigins::List(vec![]),
        }
    }

    /// Whether a request from `origin` must be refused before it has any effect: it came
    /// from a page (`Origin` is sent by browsers; `null` by sandboxed frames and files)
    /// of an origin not on the list. Browsers send "simple" cross-site POSTs without
    /// asking first and only hide the answer, so CORS alone would let any page make its
    /// visitors send codes and fail logins. Requests without `Origin` (curl, servers)
    /// are not a browser acting for a page.
    /// A page of the worker's own origin (`own`, the request's, asked for only when an
    /// origin is not on the list) is never refused: the browser sends `Origin` on
    /// same-origin POSTs too, and they are no cross-site request.
    pub fn refuses(&self, origin: Option<&str>, own: impl FnOnce() -> String) -> bool {
        match (self, origin) {
            (AllowedOrigins::List(list), Some(origin)) => {
                !list.iter().any(|allowed| allowed == origin) && origin != own()
            }
            _ => false,
        }
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
    pub fn allow(&self, origin: Option<&str>) -> Option<String> {
        match (self, origin) {
            (AllowedOrigins::Any, _) => Some("*".into()),
            (AllowedOrigins::List(list), Some(origin)) => {
                list.iter().any(|allowed| allowed == origin).then(|| origin.to_string())
            }
            (AllowedOrigins::List(_), None) => None,
        }
    }
}

/// Everything the Worker can be configured with. Names are the `wrangler.toml` vars.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `JWT_ALG`, `JWT_SECRET`, `JWT_PRIVATE_KEY`, `JWT_PREVIOUS_SECRETS` and
    /// `JWT_PREVIOUS_PUBLIC_KEYS`: the key ring. No default key: without one, tokens
    /// cannot be issued (9999, logged).
    pub jwt_keys: KeySettings,
    /// `REFRESH_ROTATION`: each refresh returns a new refresh token, and the old one is
    /// single-use (off by default, to keep the document's response shape).
    pub refresh_rotation: bool,
    /// `LOGIN_FAILURES_PER_ACCOUNT_AND_IP`, `LOGIN_FAILURES_PER_ACCOUNT` and
    /// `LOGIN_FAILURES_PER_IP`, per 15 minutes.
    pub login_limits: LoginLimits,
    /// `JWT_ISSUER`, the `iss` claim.
    pub jwt_issuer: String,
    /// `JWT_AUDIENCE`, the `aud` claim.
    pub jwt_audience: String,
    /// `ACCESS_TTL_SECONDS`
    pub access_ttl_seconds: u64,
    /// `REFRESH_TTL_SECONDS`
    pub refresh_ttl_seconds: u64,
    /// Everything about SMS codes.
    pub sms: SmsSettings,
    /// `ACCOUNT_DELETE_GRACE_DAYS` (0 to 365, default 15): how long a deletion the user
    /// asked for waits (the cooling-off period, 注销冷静期), during which a code sign-in
    /// cancels it.
    pub account_delete_grace_days: u64,
    /// `PBKDF2_ITERATIONS` for new password hashes, and `PASSWORD_PEPPER` (a secret).
    pub passwords: PasswordPolicy,
    /// `CORS_ALLOWED_ORIGINS`, comma-separated, or `*`.
    pub allowed_origins: AllowedOrigins,
    /// `DISPLAY_UTC_OFFSET`, e.g. `+08:00`, for the dates of `/login/jwt/status`.
    pub display_utc_offset: FixedOffset,
    /// `STATUS_USER_CACHE_SECONDS` (0 to 60, default 5): how old a user's state (disabled,
    /// sessions ended) `/login/jwt/status` may use, read by this isolate; 0 reads D1 on
    /// every call. See `app::recent`.
    pub status_user_cache_seconds: u64,
    /// `STATUS_REVOCATION_CACHE_SECONDS` (0 to 60, default 5): how old a session's
    /// revocation, as this isolate read it from KV, `/login/jwt/status` may use (a log-out
    /// through this isolate is seen at once); 0 reads KV on every call. See `app::recent`.
    pub status_revocation_cache_seconds: u64,
    /// `LOG_REQUESTS`: `all` logs one line per request; `off` (the default) leaves that
    /// to Cloudflare's invocation logs, and the worker logs only failures.
    pub log_requests: bool,
    /// `DEMO_PAGE`: serve the demo page at `/` (`true` in local development; off unless
    /// set, so a deployment shows no page that takes passwords until its operator wants one).
    pub demo_page: bool,
    /// `TURNSTILE_SECRET_KEY` (a secret) and `TURNSTILE_VERIFY_URL`: with a secret, a code
    /// is sent only for a Turnstile token that siteverify accepts. None without one.
    pub turnstile: Option<Turnstile>,
    /// `TURNSTILE_SITE_KEY`: the demo page shows the Turnstile widget with this key.
    pub turnstile_site_key: Option<String>,
    /// `EVENTS_WEBHOOK_URL` and the rest of [`EventsSettings`]: where events are
    /// delivered. None without a URL: no events are reported.
    pub events: Option<EventsSettings>,
}

/// How many failed logins are allowed before 9905, each in its own window. The tight one
/// is per account *and* address: a stranger elsewhere who guesses locks out only their
/// own address, not the owner. The per-account cap over all addresses bounds guessing
/// from many addresses (NIST SP 800-63B asks at most 100); the per-address cap bounds
/// one address guessing at many accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    pub per_account_and_ip: Limit,
    pub per_account: Limit,
    pub per_ip: Limit,
}

/// The window failed logins are counted in.
pub const LOGIN_WINDOW_SECONDS: u64 = 15 * 60;

/// SMS codes: the provider, and the limits that keep the endpoint from being abused.
#[derive(Debug, Clone)]
pub struct SmsSettings {
    /// `SMS_PROVIDER` (one provider, or a list to fail over along) and their variables, or
    /// why they are unusable. No default: a deployment that forgot to choose one must not
    /// log its users' codes instead of sending them. An error here fails sends (50018,
    /// reason logged), not the Worker.
    pub providers: Result<Vec<SmsProvider>, ConfigError>,
    /// `SMS_PROVIDER_TIMEOUT_MS`: how long the providers may take in all before the send
    /// fails (each of a list tried gets its share of what is left).
    pub provider_timeout_ms: u64,
    /// `SMS_CODE_TTL_SECONDS`: how long a code lives, which is also the resend cooldown.
    pub code_ttl_seconds: u64,
    /// `SMS_CODE_SECRET` (a secret): the key codes are sealed with in KV.
    pub code_secret: Option<SecretString>,
    /// `EXPOSE_SMS_CODE`: put the code in the send response (development only).
    pub expose_code: bool,
    /// `SMS_SIGNUP`: the first code sign-in of a phone without a user creates one. Off,
    /// a login code goes only to a phone with a user (others get a decoy, as for reset).
    pub signup: bool,
    /// `SMS_TEST_NUMBERS` (a secret): phones with a fixed code, never sent.
    pub test_numbers: TestNumbers,
    /// `SMS_ALLOWED_COUNTRY_CODES`: where codes may be sent (default `86`).
    pub allowed_country_codes: CountryCodes,
    /// `SMS_MAX_GUESSES`: wrong guesses a code survives from one address; the next guess
    /// from there finds it dead.
    pub max_guesses: u32,
    /// `SMS_MAX_GUESSES_PER_CODE`: wrong guesses a code survives over all addresses.
    pub max_guesses_per_code: u32,
    /// `SMS_DAILY_LIMIT_PER_PHONE`: codes per phone per 24 hours (30).
    pub per_phone: Limit,
    /// `SMS_DAILY_LIMIT_PER_PHONE_AND_IP`: codes per phone per 24 hours asked for from one
    /// client IP (10), under the phone's own cap.
    pub per_phone_and_ip: Limit,
    /// `SMS_HOURLY_LIMIT_PER_IP`: sends per client IP per hour.
    pub per_ip: Limit,
    /// `CODE_ATTEMPTS_PER_IP`: registrations and resets (each tries a code) per client IP
    /// per hour, so that one address can neither guess at codes nor ask which account
    /// names are taken at speed.
    pub attempts_per_ip: Limit,
}

/// Token lifetimes past ten years are surely a typo (and would overflow date arithmetic).
pub const MAX_TOKEN_TTL_SECONDS: u64 = 10 * 365 * 86_400;

/// A pepper is a key: as long as the JWT secret must be.
pub const MIN_PEPPER_BYTES: usize = 32;

/// KV refuses an `expirationTtl` under 60 s.
pub const MIN_KV_TTL_SECONDS: u64 = 60;

impl Settings {
    /// Reads every setting through `lookup`; a missing or empty value takes its default,
    /// a malformed one is an error naming the variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let number = |name: &str, default: u64, min: u64, max: u64| -> Result<u64, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(text) => match text.parse::<u64>() {
                    Ok(value) if (min..=max).contains(&value) => Ok(value),
                    _ => Err(ConfigError::new(
                        name,
                        format!("{name} must be a whole number from {min} to {max}, not {text:?}"),
                    )),
                },
            }
        };
        let allowed_origins = AllowedOrigins::from_setting(get("CORS_ALLOWED_ORIGINS").as_deref());
        let display_utc_offset = match get("DISPLAY_UTC_OFFSET") {
            None => FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset"),
            Some(text) => parse_utc_offset(&text).ok_or_else(|| {
                ConfigError::new(
                    "DISPLAY_UTC_OFFSET",
                    format!("DISPLAY_UTC_OFFSET must look like +08:00, not {text:?}"),
                )
            })?,
        };
        let flag = |name: &str| match get(name).as_deref() {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => {
                Err(ConfigError::new(name, format!("{name} must be true or false, not {other:?}")))
            }
        };
        let expose_sms_code = flag("EXPOSE_SMS_CODE")?;
        let log_requests = match get("LOG_REQUESTS").as_deref() {
            None | Some("off") => false,
            Some("all") => true,
            Some(other) => {
                return Err(ConfigError::new(
                    "LOG_REQUESTS",
                    format!("LOG_REQUESTS must be all or off, not {other:?}"),
                ))
            }
        };
        // Secrets are wrapped as soon as they are read, so no `{:?}` can print one.
        let secret = |name: &str| lookup(name).filter(|s| !s.trim().is_empty()).map(SecretString::from);
        let allowed_country_codes = CountryCodes::parse(
            &get("SMS_ALLOWED_COUNTRY_CODES").unwrap_or("86".into()),
        )
        .map_err(|reason| {
            ConfigError::new("SMS_ALLOWED_COUNTRY_CODES", format!("SMS_ALLOWED_COUNTRY_CODES: {reason}"))
        })?;
        let sms = SmsSettings {
            providers: SmsProvider::from_settings(get),
            provider_timeout_ms: number("SMS_PROVIDER_TIMEOUT_MS", 5_000, 100, 60_000)?,
            code_ttl_seconds: number("SMS_CODE_TTL_SECONDS", 300, 1, 86_400)?,
            code_secret: lookup("SMS_CODE_SECRET").filter(|s| !s.is_empty()).map(SecretString::from),
            expose_code: expose_sms_code,
            signup: flag("SMS_SIGNUP")?,
            test_numbers: TestNumbers::parse(&lookup("SMS_TEST_NUMBERS").unwrap_or_default())
                .map_err(|reason| ConfigError::new("SMS_TEST_NUMBERS", reason))?,
            allowed_country_codes,
            max_guesses: number("SMS_MAX_GUESSES", 5, 1, 1_000)? as u32,
            max_guesses_per_code: number("SMS_MAX_GUESSES_PER_CODE", 20, 1, 1_000)? as u32,
            per_phone: Limit {
                max: number("SMS_DAILY_LIMIT_PER_PHONE", 30, 1, 1_000_000)? as u32,
                window_seconds: 86_400,
            },
            per_phone_and_ip: Limit {
                max: number("SMS_DAILY_LIMIT_PER_PHONE_AND_IP", 10, 1, 1_000_000)? as u32,
                window_seconds: 86_400,
            },
            per_ip: Limit {
                max: number("SMS_HOURLY_LIMIT_PER_IP", 20, 1, 1_000_000)? as u32,
                window_seconds: 3_600,
            },
            attempts_per_ip: Limit {
                max: number("CODE_ATTEMPTS_PER_IP", 30, 1, 1_000_000)? as u32,
                window_seconds: 3_600,
            },
        };
        let pepper = match lookup("PASSWORD_PEPPER").filter(|p| !p.is_empty()) {
            Some(pepper) if pepper.len() < MIN_PEPPER_BYTES => {
                return Err(ConfigError::new(
                    "PASSWORD_PEPPER",
                    format!(
                        "PASSWORD_PEPPER has {} bytes; at least {MIN_PEPPER_BYTES} are needed",
                        pepper.len()
                    ),
                ))
            }
            pepper => pepper.map(String::into_bytes),
        };
        Ok(Settings {
            jwt_keys: KeySettings {
                algorithm: get("JWT_ALG"),
                secret: secret("JWT_SECRET"),
                private_key: secret("JWT_PRIVATE_KEY"),
                previous_secrets: secret("JWT_PREVIOUS_SECRETS"),
                previous_public_keys: get("JWT_PREVIOUS_PUBLIC_KEYS"),
            },
            refresh_rotation: flag("REFRESH_ROTATION")?,
            status_user_cache_seconds: number("STATUS_USER_CACHE_SECONDS", 5, 0, 60)?,
            status_revocation_cache_seconds: number("STATUS_REVOCATION_CACHE_SECONDS", 5, 0, 60)?,
            log_requests,
            demo_page: flag("DEMO_PAGE")?,
            turnstile: match secret("TURNSTILE_SECRET_KEY") {
                None => None,
                Some(secret) => {
                    let verify_url = get("TURNSTILE_VERIFY_URL").unwrap_or_else(|| DEFAULT_VERIFY_URL.into());
                    if !(verify_url.starts_with("https://") || verify_url.starts_with("http://")) {
                        return Err(ConfigError::new(
                            "TURNSTILE_VERIFY_URL",
                            format!("TURNSTILE_VERIFY_URL must be an http(s) URL, not {verify_url:?}"),
                        ));
                    }
                    Some(Turnstile { secret, verify_url })
                }
            },
            turnstile_site_key: get("TURNSTILE_SITE_KEY"),
            events: match get("EVENTS_WEBHOOK_URL") {
                None => None,
                Some(url) => Some(EventsSettings {
                    url: receiver_url("EVENTS_WEBHOOK_URL", &url)?,
                    secret: WebhookSecret::parse(&lookup("EVENTS_WEBHOOK_SECRET").unwrap_or_default())
                        .map_err(|why| {
                            let why = format!("EVENTS_WEBHOOK_SECRET (needed with EVENTS_WEBHOOK_URL) {why}");
                            ConfigError::new("EVENTS_WEBHOOK_SECRET", why)
                        })?,
                    timeout_ms: number("EVENTS_WEBHOOK_TIMEOUT_MS", 10_000, 1_000, 60_000)?,
                    first_retry_seconds: number(
                        "EVENTS_RETRY_DELAY_SECONDS",
                        DEFAULT_FIRST_RETRY_SECONDS.into(),
                        0,
                        3_600,
                    )? as u32,
                }),
            },
            login_limits: LoginLimits {
                per_account_and_ip: Limit {
                    max: number("LOGIN_FAILURES_PER_ACCOUNT_AND_IP", 10, 1, 1_000_000)? as u32,
                    window_seconds: LOGIN_WINDOW_SECONDS,
                },
                per_account: Limit {
                    max: number("LOGIN_FAILURES_PER_ACCOUNT", 100, 1, 1_000_000)? as u32,
                    window_seconds: LOGIN_WINDOW_SECONDS,
                },
                per_ip: Limit {
                    max: number("LOGIN_FAILURES_PER_IP", 100, 1, 1_000_000)? as u32,
                    window_seconds: LOGIN_WINDOW_SECONDS,
                },
            },
            jwt_issuer: get("JWT_ISSUER").unwrap_or_else(|| "login".into()),
            jwt_audience: get("JWT_AUDIENCE").unwrap_or_else(|| "login".into()),
            access_ttl_seconds: number("ACCESS_TTL_SECONDS", 86_400, 1, MAX_TOKEN_TTL_SECONDS)?,
            refresh_ttl_seconds: number("REFRESH_TTL_SECONDS", 604_800, 1, MAX_TOKEN_TTL_SECONDS)?,
            account_delete_grace_days: number("ACCOUNT_DELETE_GRACE_DAYS", 15, 0, 365)?,
            sms,
            passwords: PasswordPolicy {
                iterations: number("PBKDF2_ITERATIONS", 100_000, 1_000, 10_000_000)? as u32,
                pepper,
            },
            allowed_origins,
            display_utc_offset,
        })
    }
}

/// `+08:00`, `-05:30`, `+8` or `8` as an offset east of UTC.
fn parse_utc_offset(text: &str) -> Option<FixedOffset> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'-' => (-1, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if !(0..=14).contains(&hours) || !(0..60).contains(&minutes) {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn bad_test_numbers_are_a_configuration_error_that_names_the_variable_only() {
        let error = settings(&[("SMS_TEST_NUMBERS", "+8613800000000:2468")]).map(|_| ()).unwrap_err();
        assert_eq!(error.variable, "SMS_TEST_NUMBERS");
        assert!(!error.reason.contains("2468"), "{}", error.reason);
        let good = settings(&[("SMS_TEST_NUMBERS", "+8613800000000:246810")]).unwrap();
        assert!(good
            .sms
            .test_numbers
            .code_for(&crate::domain::phone::Phone::parse("13800000000").unwrap())
            .is_some());
        assert_eq!(settings(&[]).unwrap().sms.test_numbers, TestNumbers::default());
    }

    #[test]
    fn the_origin_of_a_url_is_its_scheme_host_and_port() {
        assert_eq!(origin_of("https://login.example/login/jwt/get?x=1"), "https://login.example");
        assert_eq!(origin_of("http://127.0.0.1:8787/"), "http://127.0.0.1:8787");
        assert_eq!(origin_of("http://[::1]:8787?q"), "http://[::1]:8787");
        assert_eq!(origin_of("https://login.example"), "https://login.example");
        assert_eq!(origin_of("not a url"), "");
    }

    #[test]
    fn a_list_refuses_other_origins_and_null_but_not_requests_without_one() {
        let own = || "https://login.example".to_string();
        let list = AllowedOrigins::from_setting(Some("https://app.example, https://admin.example/"));
        for origin in
            ["https://evil.example", "null", "https://app.example.evil.example", "http://app.example"]
        {
            assert!(list.refuses(Some(origin), own), "{origin}");
        }
        assert!(!list.refuses(Some("https://admin.example"), own));
        assert!(!list.refuses(Some("https://login.example"), own), "the worker's own pages");
        assert!(!list.refuses(None, own));
        assert!(!AllowedOrigins::Any.refuses(Some("null"), own));
        let upper = AllowedOrigins::from_setting(Some("https://App.Example"));
        assert!(!upper.refuses(Some("https://app.example"), own));
    }

    #[test]
    fn defaults_are_the_contracts() {
        let s = settings(&[]).unwrap();
        assert_eq!(
            (s.access_ttl_seconds, s.refresh_ttl_seconds, s.sms.code_ttl_seconds),
            (86_400, 604_800, 300)
        );
        assert_eq!(s.passwords.iterations, 100_000);
        assert_eq!(s.passwords.pepper, None);
        assert!(!s.sms.expose_code);
        assert!(s.jwt_keys.secret.is_none() && s.jwt_keys.algorithm.is_none());
        assert!(!s.refresh_rotation);
        assert!(!s.log_requests, "Cloudflare's invocation logs cover requests");
        assert!(!s.demo_page, "no page takes passwords until the operator wants one");
        assert!(s.turnstile.is_none() && s.turnstile_site_key.is_none(), "no Turnstile check unless asked");
        assert_eq!((s.status_user_cache_seconds, s.status_revocation_cache_seconds), (5, 5));
        let limits = s.login_limits;
        assert_eq!(
            (limits.per_account_and_ip.max, limits.per_account.max, limits.per_ip.max),
            (10, 100, 100)
        );
        assert_eq!(s.login_limits.per_account.window_seconds, 900);
        assert_eq!(s.display_utc_offset.local_minus_utc(), 8 * 3600);
        assert_eq!(s.allowed_origins, AllowedOrigins::List(vec![]));
        assert_eq!(s.sms.providers.unwrap_err().to_string(), "SMS_PROVIDER is not set");
        assert_eq!((s.sms.max_guesses, s.sms.per_phone.max, s.sms.per_ip.max), (5, 30, 20));
        assert_eq!(s.sms.per_phone_and_ip.max, 10);
        assert_eq!((s.sms.per_phone.window_seconds, s.sms.per_ip.window_seconds), (86_400, 3_600));
        assert_eq!(s.sms.provider_timeout_ms, 5_000);
        assert_eq!(s.sms.allowed_country_codes, CountryCodes::List(vec!["86".into()]));
    }

    #[test]
    fn requests_are_logged_only_when_asked() {
        assert!(settings(&[("LOG_REQUESTS", "all")]).unwrap().log_requests);
        assert!(settings(&[("DEMO_PAGE", "true")]).unwrap().demo_page);
        let turnstile = settings(&[("TURNSTILE_SECRET_KEY", "0x4-secret")]).unwrap().turnstile.unwrap();
        assert_eq!(turnstile.verify_url, DEFAULT_VERIFY_URL);
        let elsewhere = [("TURNSTILE_SECRET_KEY", "0x4-secret"), ("TURNSTILE_VERIFY_URL", "ftp://x")];
        assert_eq!(settings(&elsewhere).unwrap_err().variable, "TURNSTILE_VERIFY_URL");
        assert!(!settings(&[("LOG_REQUESTS", "off")]).unwrap().log_requests);
        assert_eq!(settings(&[("LOG_REQUESTS", "yes")]).unwrap_err().variable, "LOG_REQUESTS");
    }

    #[test]
    fn malformed_numbers_are_refused_with_the_variables_name() {
        let error = settings(&[("ACCESS_TTL_SECONDS", "soon")]).unwrap_err();
        assert_eq!(error.variable, "ACCESS_TTL_SECONDS");
        assert!(error.to_string().contains("ACCESS_TTL_SECONDS"), "{error}");
        assert!(settings(&[("SMS_CODE_TTL_SECONDS", "0")]).is_err());
        assert_eq!(
            settings(&[("SMS_ALLOWED_COUNTRY_CODES", "china")]).unwrap_err().variable,
            "SMS_ALLOWED_COUNTRY_CODES"
        );
        assert!(settings(&[("ACCESS_TTL_SECONDS", "18446744073709551615")]).is_err(), "no overflow later");
        assert!(settings(&[("PBKDF2_ITERATIONS", "99999999999")]).is_err());
    }

    #[test]
    fn events_need_a_url_and_its_secret() {
        assert_eq!(settings(&[]).unwrap().events, None, "no events unless asked");
        let secret = ("EVENTS_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let events =
            settings(&[("EVENTS_WEBHOOK_URL", "https://app.example/hooks"), secret]).unwrap().events.unwrap();
        assert_eq!(
            (events.url.as_str(), events.timeout_ms, events.first_retry_seconds),
            ("https://app.example/hooks", 10_000, 5)
        );
        let refused = [
            (vec![("EVENTS_WEBHOOK_URL", "https://app.example/hooks")], "EVENTS_WEBHOOK_SECRET"),
            (vec![("EVENTS_WEBHOOK_URL", "http://app.example/hooks"), secret], "EVENTS_WEBHOOK_URL"),
            (
                vec![
                    ("EVENTS_WEBHOOK_URL", "https://a.example"),
                    secret,
                    ("EVENTS_RETRY_DELAY_SECONDS", "-1"),
                ],
                "EVENTS_RETRY_DELAY_SECONDS",
            ),
        ];
        for (vars, variable) in refused {
            assert_eq!(settings(&vars).unwrap_err().variable, variable, "{vars:?}");
        }
        let local = [("EVENTS_WEBHOOK_URL", "http://127.0.0.1:9000/x"), secret];
        assert!(settings(&local).unwrap().events.is_some(), "a receiver on this machine");
        let text = format!("{:?}", settings(&local).unwrap());
        assert!(!text.contains("MfKQ9r8G") && text.contains("REDACTED"), "{text}");
    }

    #[test]
    fn a_short_pepper_is_refused() {
        assert_eq!(settings(&[("PASSWORD_PEPPER", "short")]).unwrap_err().variable, "PASSWORD_PEPPER");
        let long = "p".repeat(32);
        assert_eq!(
            settings(&[("PASSWORD_PEPPER", &long)]).unwrap().passwords.pepper,
            Some(long.into_bytes())
        );
    }

    #[test]
    fn utc_offsets_parse() {
        for (text, seconds) in
            [("+08:00", 8 * 3600), ("-05:30", -(5 * 3600 + 1800)), ("8", 8 * 3600), ("+0", 0)]
        {
            let s = settings(&[("DISPLAY_UTC_OFFSET", text)]).unwrap();
            assert_eq!(s.display_utc_offset.local_minus_utc(), seconds, "{text}");
        }
        assert!(settings(&[("DISPLAY_UTC_OFFSET", "Asia/Shanghai")]).is_err());
    }

    #[test]
    fn cors_origins_are_a_list_or_any() {
        let s = settings(&[("CORS_ALLOWED_ORIGINS", "https://a.example, https://b.example/")]).unwrap();
        assert_eq!(s.allowed_origins.allow(Some("https://b.example")), Some("https://b.example".into()));
        assert_eq!(s.allowed_origins.allow(Some("https://evil.example")), None);
        let any = settings(&[("CORS_ALLOWED_ORIGINS", "*")]).unwrap();
        assert_eq!(any.allowed_origins.allow(Some("https://evil.example")), Some("*".into()));
    }

    #[test]
    fn no_secret_appears_in_the_settings_debug_output() {
        let secrets = [
            ("JWT_SECRET", "jwt-secret-value-that-is-32-bytes-long"),
            ("JWT_PRIVATE_KEY", "private-key-value-never-printed"),
            ("JWT_PREVIOUS_SECRETS", "previous-secret-value-never-printed"),
            ("SMS_CODE_SECRET", "sms-code-secret-value-never-printed"),
            ("PASSWORD_PEPPER", "pepper-value-that-is-at-least-32-bytes"),
        ];
        let vars = [
            &secrets[..],
            &[
                ("SMS_PROVIDER", "twilio"),
                ("TWILIO_ACCOUNT_SID", "AC1"),
                ("TWILIO_AUTH_TOKEN", "twilio-token-never-printed"),
                ("TWILIO_FROM", "+15005550006"),
            ],
        ]
        .concat();
        let text = format!("{:?}", settings(&vars).unwrap());
        for (_, value) in secrets.iter().chain([&("TWILIO_AUTH_TOKEN", "twilio-token-never-printed")]) {
            assert!(!text.contains(value), "{value} is in {text}");
            // A secret kept as bytes would print as a list of numbers.
            let bytes = format!("{:?}", value.as_bytes());
            assert!(!text.contains(&bytes[1..bytes.len() - 1]), "{value} is in {text} as bytes");
        }
        assert!(text.contains("REDACTED"), "{text}");
    }
}
