//! What the settings say of sessions: token lifetimes, how dates are shown, whether
//! refresh tokens rotate.

use chrono::FixedOffset;

use super::settings::Settings;
use super::token::TokenScope;

/// Token lifetimes, how dates are shown, and whether refresh tokens rotate.
#[derive(Debug, Clone)]
pub struct SessionPolicy {
    pub scope: TokenScope,
    pub access_ttl_seconds: u64,
    pub refresh_ttl_seconds: u64,
    pub display_utc_offset: FixedOffset,
    /// `REFRESH_ROTATION`: each refresh returns a new refresh token and retires the one
    /// presented (see [`super::refresh_rotation`]).
    pub rotate_refresh_tokens: bool,
}

impl SessionPolicy {
    /// The policy the settings describe.
    pub fn from_settings(settings: &Settings) -> SessionPolicy {
        SessionPolicy {
            scope: TokenScope {
                issuer: settings.jwt_issuer.clone(),
                audience: settings.jwt_audience.clone(),
            },
            access_ttl_seconds: settings.access_ttl_seconds,
            refresh_ttl_seconds: settings.refresh_ttl_seconds,
            display_utc_offset: settings.display_utc_offset,
            rotate_refresh_tokens: settings.refresh_rotation,
        }
    }
}
