//! Refresh-token rotation (`REFRESH_ROTATION=true`), RFC 9700's answer for public
//! clients such as browsers: every refresh returns a new refresh token and retires the
//! one presented, so a stolen refresh token is good for one use at most, and its reuse
//! gives the theft away.
//!
//! Each session (`sid`) is a *family* with one current refresh token id. The family's
//! state lives in a Durable Object per session, read and written with no other await
//! between (atomic within the object): KV, eventually consistent, could let two
//! locations both accept the same token. The port is [`super::ports::RefreshFamilies`].

use serde::{Deserialize, Serialize};

/// How long a just-retired refresh token still works: two tabs refreshing at once must
/// not log the user out.
pub const GRACE_MILLIS: u64 = 10_000;

/// A session's refresh tokens, as its object keeps them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FamilyState {
    /// The id (`jti`) of the refresh token that may be used; empty before the first
    /// refresh, when the login's token is the only one there is.
    pub current: String,
    /// The id retired by the last rotation, and when (ms).
    pub previous: String,
    pub rotated_at: u64,
    /// A reuse was seen: the session is over.
    pub revoked: bool,
}

/// What a presented refresh token gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rotation {
    /// Issue the new refresh token with this id.
    Next(String),
    /// A retired token came back after the grace window (or the family is revoked):
    /// end the whole session.
    Reused,
}

impl FamilyState {
    /// Rotates from `presented` to `fresh` (an id made by the caller).
    /// - The current token (or the first refresh): `fresh` becomes current.
    /// - The token just retired, within [`GRACE_MILLIS`]: the current id again, so a
    ///   second tab gets a working token without another rotation.
    /// - Anything else: a replay. The family is revoked for good.
    pub fn rotate(&mut self, presented: &str, fresh: &str, now: u64) -> Rotation {
        if self.revoked {
            return Rotation::Reused;
        }
        if self.current.is_empty() || presented == self.current {
            self.previous = presented.to_string();
            self.current = fresh.to_string();
            self.rotated_at = now;
            return Rotation::Next(fresh.to_string());
        }
        if presented == self.previous && now < self.rotated_at + GRACE_MILLIS {
            return Rotation::Next(self.current.clone());
        }
        self.revoked = true;
        Rotation::Reused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refresh_retires_the_token_it_used() {
        let mut family = FamilyState::default();
        assert_eq!(family.rotate("login", "r1", 1_000), Rotation::Next("r1".into()));
        assert_eq!(family.rotate("r1", "r2", 60_000), Rotation::Next("r2".into()));
        assert_eq!(family.rotate("r2", "r3", 120_000), Rotation::Next("r3".into()));
    }

    #[test]
    fn two_tabs_refreshing_at_once_both_get_the_current_token() {
        let mut family = FamilyState::default();
        assert_eq!(family.rotate("login", "r1", 1_000), Rotation::Next("r1".into()));
        assert_eq!(family.rotate("login", "r1-other", 1_500), Rotation::Next("r1".into()));
        assert_eq!(family.rotate("login", "late", 1_000 + GRACE_MILLIS - 1), Rotation::Next("r1".into()));
        // The second tab's token is the current one and rotates normally.
        assert_eq!(family.rotate("r1", "r2", 20_000), Rotation::Next("r2".into()));
    }

    #[test]
    fn a_replay_after_the_grace_window_revokes_the_family_for_good() {
        let mut family = FamilyState::default();
        family.rotate("login", "r1", 1_000);
        assert_eq!(family.rotate("login", "x", 1_000 + GRACE_MILLIS), Rotation::Reused);
        assert_eq!(
            family.rotate("r1", "r2", 1_000 + GRACE_MILLIS + 1),
            Rotation::Reused,
            "even the current one"
        );
    }

    #[test]
    fn an_older_token_is_a_replay_even_within_the_window() {
        let mut family = FamilyState::default();
        family.rotate("login", "r1", 1_000);
        family.rotate("r1", "r2", 2_000);
        assert_eq!(family.rotate("login", "x", 3_000), Rotation::Reused);
    }
}
