//! The routes of the API and how a path and method select one.

/// The `/login` endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    SendSms,
    Register,
    GetJwt,
    RefreshJwt,
    DeactivateJwt,
    JwtStatus,
    ResetPassword,
    ChangePassword,
}

impl Endpoint {
    pub const ALL: [Endpoint; 8] = [
        Endpoint::SendSms,
        Endpoint::Register,
        Endpoint::GetJwt,
        Endpoint::RefreshJwt,
        Endpoint::DeactivateJwt,
        Endpoint::JwtStatus,
        Endpoint::ResetPassword,
        Endpoint::ChangePassword,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Endpoint::SendSms => "/login/send/sms",
            Endpoint::Register => "/login/register",
            Endpoint::GetJwt => "/login/jwt/get",
            Endpoint::RefreshJwt => "/login/jwt/refresh",
            Endpoint::DeactivateJwt => "/login/jwt/deactivate",
            Endpoint::JwtStatus => "/login/jwt/status",
            Endpoint::ResetPassword => "/login/password/reset",
            Endpoint::ChangePassword => "/login/password/change",
        }
    }

    /// The endpoint at `path`. Matching ignores ASCII case because the original document
    /// spells one route `/login/Jwt/get`, and a client copied from it should still work.
    pub fn from_path(path: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|endpoint| endpoint.path().eq_ignore_ascii_case(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_is_found_by_its_path() {
        for endpoint in Endpoint::ALL {
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
