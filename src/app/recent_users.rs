//! Users as recently read, for the one check that may use a user's state a few seconds
//! old: `/login/jwt/status`, which frontends call often and which must stay cheap. Every
//! other check (refresh, deactivate, login) reads D1, and refreshes this on the way.
//!
//! Kept per isolate, so a change made through this isolate (log out everywhere) is seen
//! at once; one made elsewhere (another isolate's log-out-everywhere, a user disabled in
//! D1) reaches status here within `max_age_ms`: less than the time a KV revocation takes
//! to reach every location (up to 60 s), which status relies on already.

use std::cell::RefCell;

use super::ports::StoredUser;

/// How many users an isolate keeps: one slot each, chosen by the user's id, so a user
/// whose id shares a slot with another's pushes it out (it is read again, that is all).
/// At about 200 bytes a user, at most 800 KB.
const SLOTS: usize = 4096;

#[derive(Debug, Default)]
pub struct RecentUsers {
    /// 0 turns the cache off.
    max_age_ms: u64,
    /// The users and when each was read; made at the first `put`.
    slots: RefCell<Vec<Option<(StoredUser, u64)>>>,
}

fn slot(id: u64) -> usize {
    (id % SLOTS as u64) as usize
}

impl RecentUsers {
    pub fn new(max_age_seconds: u64) -> RecentUsers {
        RecentUsers { max_age_ms: max_age_seconds * 1000, slots: RefCell::default() }
    }

    /// The user read at most `max_age_ms` before `now_ms`, if any.
    pub fn get(&self, id: u64, now_ms: u64) -> Option<StoredUser> {
        let slots = self.slots.borrow();
        let (user, read_at) = slots.get(slot(id))?.as_ref()?;
        (user.id == id && now_ms.saturating_sub(*read_at) < self.max_age_ms).then(|| user.clone())
    }

    /// `user` as read from the store at `now_ms`.
    pub fn put(&self, user: &StoredUser, now_ms: u64) {
        if self.max_age_ms == 0 {
            return;
        }
        let mut slots = self.slots.borrow_mut();
        if slots.is_empty() {
            slots.resize(SLOTS, None);
        }
        slots[slot(user.id)] = Some((user.clone(), now_ms));
    }

    /// The user changed, or is gone: the next check reads the store.
    pub fn forget(&self, id: u64) {
        if let Some(entry) = self.slots.borrow_mut().get_mut(slot(id)) {
            if entry.as_ref().is_some_and(|(user, _)| user.id == id) {
                *entry = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: u64) -> StoredUser {
        StoredUser {
            id,
            account: format!("user{id}"),
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
    fn users_sharing_a_slot_push_each_other_out() {
        let recent = RecentUsers::new(5);
        let (one, other) = (7, 7 + SLOTS as u64);
        recent.put(&user(one), 0);
        recent.put(&user(other), 0);
        assert_eq!(recent.get(one, 0), None);
        assert_eq!(recent.get(other, 0), Some(user(other)));
        recent.forget(one);
        assert_eq!(recent.get(other, 0), Some(user(other)), "forgetting one keeps the other");
        assert_eq!(recent.slots.borrow().len(), SLOTS);
    }
}
