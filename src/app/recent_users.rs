//! Users as recently read, for the one check that may use a user's state a few seconds
//! old: `/login/jwt/status`, which frontends call often and which must stay cheap. Every
//! other check (refresh, deactivate, login) reads D1, and refreshes this on the way.
//!
//! Kept per isolate, so a change made through this isolate (log out everywhere) is seen
//! at once; one made elsewhere (another isolate's log-out-everywhere, a user disabled in
//! D1) reaches status here within `max_age_ms`: less than the time a KV revocation takes
//! to reach every location (up to 60 s), which status relies on already.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::ports::StoredUser;

/// How many users an isolate keeps; past it the cache starts empty again (a simple bound
/// on memory: at about 200 bytes a user, 2 MB).
const MAX_USERS: usize = 10_000;

#[derive(Debug, Default)]
pub struct RecentUsers {
    /// 0 turns the cache off.
    max_age_ms: u64,
    users: RefCell<BTreeMap<u64, (StoredUser, u64)>>,
}

impl RecentUsers {
    pub fn new(max_age_seconds: u64) -> RecentUsers {
        RecentUsers { max_age_ms: max_age_seconds * 1000, users: RefCell::default() }
    }

    /// The user read at most `max_age_ms` before `now_ms`, if any.
    pub fn get(&self, id: u64, now_ms: u64) -> Option<StoredUser> {
        let users = self.users.borrow();
        let (user, read_at) = users.get(&id)?;
        (now_ms.saturating_sub(*read_at) < self.max_age_ms).then(|| user.clone())
    }

    /// `user` as read from the store at `now_ms`.
    pub fn put(&self, user: &StoredUser, now_ms: u64) {
        if self.max_age_ms == 0 {
            return;
        }
        let mut users = self.users.borrow_mut();
        if users.len() >= MAX_USERS && !users.contains_key(&user.id) {
            users.clear();
        }
        users.insert(user.id, (user.clone(), now_ms));
    }

    /// The user changed, or is gone: the next check reads the store.
    pub fn forget(&self, id: u64) {
        self.users.borrow_mut().remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: u64) -> StoredUser {
        StoredUser {
            id,
            password_hash: String::new(),
            disabled: false,
            roles: vec![],
            sessions_not_before_ms: 0,
        }
    }

    #[test]
    fn a_user_is_kept_for_its_max_age_then_read_again() {
        let recent = RecentUsers::new(5);
        recent.put(&user(1), 1_000);
        assert_eq!(recent.get(1, 5_999), Some(user(1)));
        assert_eq!(recent.get(1, 6_000), None);
        assert_eq!(recent.get(2, 1_000), None);
    }

    #[test]
    fn a_forgotten_user_is_read_again_and_zero_keeps_nothing() {
        let recent = RecentUsers::new(5);
        recent.put(&user(1), 0);
        recent.forget(1);
        assert_eq!(recent.get(1, 1), None);
        let off = RecentUsers::new(0);
        off.put(&user(1), 0);
        assert_eq!(off.get(1, 0), None);
    }

    #[test]
    fn the_cache_is_bounded() {
        let recent = RecentUsers::new(5);
        for id in 0..MAX_USERS as u64 + 1 {
            recent.put(&user(id), 0);
        }
        assert!(recent.users.borrow().len() <= MAX_USERS);
        assert_eq!(recent.get(MAX_USERS as u64, 0), Some(user(MAX_USERS as u64)));
    }
}
