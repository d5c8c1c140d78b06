//! The routes of the API and how a path and method select one.

/// What every `/login` endpoint takes: `POST`, and `OPTIONS` for a CORS preflight.
pub const LOGIN_METHODS: &str = "POST, OPTIONS";

/// Every path the worker answers, and the methods each takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// A `/login` endpoint: `POST`, and `OPTIONS` for a CORS preflight.
    Login(Endpoint),
    /// `/healthz`, for monitors.
    Health,
    /// `/.well-known/jwks.json`, the public keys.
    PublicKeys,
    /// `/` (and `/index.html`): the demo page, when it is enabled.
    DemoPage,
    /// `/openapi.json`, the OpenAPI document.
    Document,
}

impl Route {
    pub fn from_path(path: &str) -> Option<Route> {
        match path {
            "/healthz" => Some(Route::Health),
            "/.well-known/jwks.json" => Some(Route::PublicKeys),
            "/" | "/index.html" => Some(Route::DemoPage),
            "/openapi.json" => Some(Route::Document),
            _ => Endpoint::from_path(path).map(Route::Login),
        }
    }

    /// The `Allow` header: what the route takes.
    pub fn allow(self) -> &'static str {
        match self {
            Route::Login(_) => LOGIN_METHODS,
            Route::Health | Route::PublicKeys | Route::DemoPage | Route::Document => "GET, HEAD",
        }
    }

    /// Whether the route takes `method`, the request's method exactly as it came (names
    /// are case-sensitive, RFC 9110 §9.1; the runtime upper-cases the standard ones).
    /// Anything else, however it is spelled (`QUERY`, `TRACE`, `get`), is 9903.
    pub fn takes(self, method: &str) -> bool {
        self.allow().split(", ").any(|allowed| allowed == method)
    }
}

/// The `/login` endpoints, each with its path: one line each. The macro writes the enum,
/// [`Endpoint::ALL`] and [`Endpoint::path`] from the list, so they cannot disagree.
macro_rules! endpoints {
    ($($endpoint:ident => $path:literal,)*) => {
        /// The `/login` endpoints.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Endpoint {
            $($endpoint,)*
        }

        impl Endpoint {
            pub const ALL: &'static [Endpoint] = &[$(Endpoint::$endpoint,)*];

            pub fn path(self) -> &'static str {
                match self {
                    $(Endpoint::$endpoint => $path,)*
                }
            }
        }
    };
}

endpoints! {
    SendSms => "/login/send/sms",
    Register => "/login/register",
    GetJwt => "/login/jwt/get",
    SmsLogin => "/login/jwt/sms",
    RefreshJwt => "/login/jwt/refresh",
    DeactivateJwt => "/login/jwt/deactivate",
    JwtStatus => "/login/jwt/status",
    ResetPassword => "/login/password/reset",
    ChangePassword => "/login/password/change",
    ListSessions => "/login/sessions/list",
    ChangePhone => "/login/phone/change",
    DeleteAccount => "/login/account/delete",
}

impl Endpoint {
    /// The endpoint at `path`. Matching ignores ASCII case because the original document
    /// spells one route `/login/Jwt/get`, and a client copied from it should still work.
    pub fn from_path(path: &str) -> Option<Endpoint> {
        Endpoint::ALL.iter().copied().find(|endpoint| endpoint.path().eq_ignore_ascii_case(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_takes_what_its_allow_header_names_and_nothing_else() {
        let cases = [
            ("/login/jwt/get", &["POST", "OPTIONS"][..]),
            ("/healthz", &["GET", "HEAD"]),
            ("/.well-known/jwks.json", &["GET", "HEAD"]),
            ("/", &["GET", "HEAD"]),
            ("/openapi.json", &["GET", "HEAD"]),
        ];
        let methods =
            ["GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE", "PATCH", "TRACE", "QUERY", "get", ""];
        for (path, takes) in cases {
            let route = Route::from_path(path).expect(path);
            for method in methods {
                assert_eq!(route.takes(method), takes.contains(&method), "{method} {path}");
            }
            assert_eq!(route.allow(), takes.join(", "), "{path}");
        }
        assert_eq!(Route::from_path("/index.html"), Some(Route::DemoPage));
        assert_eq!(Route::from_path("/login/Jwt/get"), Some(Route::Login(Endpoint::GetJwt)));
        assert_eq!(Route::from_path("/nope"), None);
    }

    #[test]
    fn every_endpoint_is_found_by_its_path() {
        for &endpoint in Endpoint::ALL {
            assert_eq!(Endpoint::from_path(endpoint.path()), Some(endpoint));
        }
    }

    #[test]
    fn the_documents_capitalised_route_is_accepted() {
        assert_eq!(Endpoint::from_path("/login/Jwt/get"), Some(Endpoint::GetJwt));
    }

    #[test]
    fn unknown_paths_are_not_endpoints() {
        for path in ["/", "/login", "/login/jwt", "/login/jwt/get/extra", "/login/send/sms/"] {
            assert_eq!(Endpoint::from_path(path), None, "{path}");
        }
    }
}
