//! What this isolate read a moment ago, for the one check that may use state a few
//! seconds old: `/login/jwt/status`, which frontends call often and which must stay cheap.
//! Two kinds: the token's user (D1) and its session's revocation (KV). Every other check
//! (refresh, deactivate, login) reads D1 and KV, and refreshes these on the way.
//!
//! Kept per isolate, so a change made through this isolate (a log-out, log out everywhere)
//! is seen at once; one made elsewhere (another isolate's, a user disabled in D1) reaches
//! status here within the max age: less than the time a KV revocation takes to reach every
//! location (60 s or more), which status relies on already.

use std::borrow::Borrow;
use std::cell::{Cell, RefCell};

use super::ports::StoredUser;

/// How many entries each kind keeps: one slot each, chosen from the key, so a key that
/// shares a slot with another pushes it out (it is read again, that is all). Few enough
/// that they stay small beside an isolate's memory (docs/performance.md, "Status cache
/// size").
const SLOTS: usize = 4096;

/// Entries of one kind, each with when it was read; the slots are made at the first put.
/// A read is put only if nothing changed while it was under way (see [`Generation`]).
#[derive(Debug)]
struct Slots<K, V> {
    /// 0 turns the cache off.
    max_age_ms: u64,
    slots: RefCell<Vec<Option<(K, V, u64)>>>,
    /// How many changes were made through this isolate: a forgotten user, a revocation.
    changes: Cell<u64>,
}

/// What a reader notes before its read: a change made through this isolate while the read
/// was under way (a log-out everywhere, a revocation) makes what it read too old to keep,
/// whatever its key (a read of another key in the same slot would push the change out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(u64);

impl<K, V: Clone> Slots<K, V> {
    fn new(max_age_seconds: u64) -> Slots<K, V> {
        Slots { max_age_ms: max_age_seconds * 1000, slots: RefCell::default(), changes: Cell::new(0) }
    }

    fn generation(&self) -> Generation {
        Generation(self.changes.get())
    }

    fn changed(&self) {
        self.changes.set(self.changes.get() + 1);
    }

    /// What `key` holds, however old, and when it was read. By reference (`&str` for a
    /// `String` key): a lookup allocates nothing.
    fn entry<Q>(&self, slot: usize, key: &Q) -> Option<(V, u64)>
    where
        K: Borrow<Q>,
        Q: PartialEq + ?Sized,
    {
        let slots = self.slots.borrow();
        let (kept, value, read_at) = slots.get(slot)?.as_ref()?;
        (kept.borrow() == key).then(|| (value.clone(), *read_at))
    }

    /// Whether a read at `read_at` is at most the max age old at `now_ms`.
    fn fresh(&self, read_at: u64, now_ms: u64) -> bool {
        now_ms.saturating_sub(read_at) < self.max_age_ms
    }

    /// The value of `key` read at most the max age before `now_ms`, if any.
    fn get<Q>(&self, slot: usize, key: &Q, now_ms: u64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: PartialEq + ?Sized,
    {
        let (value, read_at) = self.entry(slot, key)?;
        self.fresh(read_at, now_ms).then_some(value)
    }

    /// What a read begun at `seen` found; dropped if something changed since.
    fn put(&self, slot: usize, key: K, value: V, now_ms: u64, seen: Generation) {
        if seen == self.generation() {
            self.store(slot, key, value, now_ms);
        }
    }

    fn store(&self, slot: usize, key: K, value: V, now_ms: u64) {
        if self.max_age_ms == 0 {
            return;
        }
        let mut slots = self.slots.borrow_mut();
        if slots.is_empty() {
            slots.resize_with(SLOTS, || None);
        }
        slots[slot] = Some((key, value, now_ms));
    }

    fn forget<Q>(&self, slot: usize, key: &Q)
    where
        K: Borrow<Q>,
        Q: PartialEq + ?Sized,
    {
        self.changed();
        if let Some(entry) = self.slots.borrow_mut().get_mut(slot) {
            if entry.as_ref().is_some_and(|(kept, _, _)| kept.borrow() == key) {
                *entry = None;
            }
        }
    }
}

/// Users as recently read, by id.
#[derive(Debug)]
pub struct RecentUsers(Slots<u64, StoredUser>);

fn user_slot(id: u64) -> usize {
    (id % SLOTS as u64) as usize
}

impl RecentUsers {
    pub fn new(max_age_seconds: u64) -> RecentUsers {
        RecentUsers(Slots::new(max_age_seconds))
    }

    /// The user read at most the max age before `now_ms`, if any.
    pub fn get(&self, id: u64, now_ms: u64) -> Option<StoredUser> {
        self.0.get(user_slot(id), &id, now_ms)
    }

    /// To note before reading a user from the store.
    pub fn generation(&self) -> Generation {
        self.0.generation()
    }

    /// `user` as read from the store at `now_ms`, by a read begun at `seen`.
    pub fn put(&self, user: &StoredUser, now_ms: u64, seen: Generation) {
        self.0.put(user_slot(user.id), user.id, user.clone(), now_ms, seen);
    }

    /// The user changed, or is gone: the next check reads the store.
    pub fn forget(&self, id: u64) {
        self.0.forget(user_slot(id), &id);
    }
}

/// Sessions' revocations as recently read, by session id. A revocation is for good (until
/// its entry expires, after every token of the session): one noted here is kept whatever
/// its age, and a read that found none is dropped if a revocation was noted while it was
/// under way, so a status racing a log-out cannot undo it.
#[derive(Debug)]
pub struct RecentRevocations(Slots<String, bool>);

/// FNV-1a: session ids are random (and only read from tokens this service signed), so
/// any spread will do.
fn session_slot(session_id: &str) -> usize {
    let hash = session_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % SLOTS as u64) as usize
}

impl RecentRevocations {
    pub fn new(max_age_seconds: u64) -> RecentRevocations {
        RecentRevocations(Slots::new(max_age_seconds))
    }

    /// Whether the session was revoked: a revocation noted at any age, else a read at
    /// most the max age before `now_ms`.
    pub fn get(&self, session_id: &str, now_ms: u64) -> Option<bool> {
        let (revoked, read_at) = self.0.entry(session_slot(session_id), session_id)?;
        (revoked || self.0.fresh(read_at, now_ms)).then_some(revoked)
    }

    /// To note before reading the revocation list.
    pub fn generation(&self) -> Generation {
        self.0.generation()
    }

    /// What a read of the revocation list begun at `seen` found at `now_ms`.
    pub fn note_read(&self, session_id: &str, revoked: bool, now_ms: u64, seen: Generation) {
        let slot = session_slot(session_id);
        if revoked {
            // Never too old to keep: a revocation does not end.
            self.0.store(slot, session_id.to_string(), true, now_ms);
        } else if !matches!(self.0.entry(slot, session_id), Some((true, _))) {
            self.0.put(slot, session_id.to_string(), false, now_ms, seen);
        }
    }

    /// The session was revoked through this isolate at `now_ms`.
    pub fn note_revoked(&self, session_id: &str, now_ms: u64) {
        self.0.changed();
        self.0.store(session_slot(session_id), session_id.to_string(), true, now_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: u64) -> StoredUser {
        StoredUser {
            id,
            account: format!("user{id}"),
            phone: format!("+{id}"),
            password_hash: String::new(),
            disabled: false,
            roles: vec![],
            kept_sid: None,
            delete_after_ms: None,
            sessions_not_before_ms: 0,
        }
    }

    #[test]
    fn a_user_is_kept_for_its_max_age_then_read_again() {
        let recent = RecentUsers::new(5);
        recent.put(&user(1), 1_000, recent.generation());
        assert_eq!(recent.get(1, 5_999), Some(user(1)));
        assert_eq!(recent.get(1, 6_000), None);
        assert_eq!(recent.get(2, 1_000), None);
    }

    #[test]
    fn a_forgotten_user_is_read_again_and_zero_keeps_nothing() {
        let recent = RecentUsers::new(5);
        recent.put(&user(1), 0, recent.generation());
        recent.forget(1);
        assert_eq!(recent.get(1, 1), None);
        let off = RecentUsers::new(0);
        off.put(&user(1), 0, off.generation());
        assert_eq!(off.get(1, 0), None);
    }

    #[test]
    fn users_sharing_a_slot_push_each_other_out() {
        let recent = RecentUsers::new(5);
        let (one, other) = (7, 7 + SLOTS as u64);
        recent.put(&user(one), 0, recent.generation());
        recent.put(&user(other), 0, recent.generation());
        assert_eq!(recent.get(one, 0), None);
        assert_eq!(recent.get(other, 0), Some(user(other)));
        recent.forget(one);
        assert_eq!(recent.get(other, 0), Some(user(other)), "forgetting one keeps the other");
        assert_eq!(recent.0.slots.borrow().len(), SLOTS);
    }

    #[test]
    fn a_read_begun_before_a_change_here_is_not_kept() {
        let recent = RecentUsers::new(5);
        let seen = recent.generation();
        // A log-out everywhere while the read was under way.
        recent.forget(1);
        recent.put(&user(1), 0, seen);
        assert_eq!(recent.get(1, 0), None, "the copy from before the log-out");
        recent.put(&user(1), 0, recent.generation());
        assert_eq!(recent.get(1, 0), Some(user(1)));
    }

    #[test]
    fn a_revocation_read_is_kept_for_its_max_age() {
        let recent = RecentRevocations::new(5);
        recent.note_read("session-a", false, 1_000, recent.generation());
        assert_eq!(recent.get("session-a", 5_999), Some(false));
        assert_eq!(recent.get("session-a", 6_000), None);
        assert_eq!(recent.get("session-b", 1_000), None);
        let off = RecentRevocations::new(0);
        off.note_revoked("session-a", 0);
        assert_eq!(off.get("session-a", 0), None);
    }

    #[test]
    fn a_read_that_found_no_revocation_never_undoes_one_noted_meanwhile() {
        let recent = RecentRevocations::new(5);
        recent.note_read("session-a", false, 0, recent.generation());
        let seen = recent.generation();
        recent.note_revoked("session-a", 10);
        // A status that started before the log-out finishes after it.
        recent.note_read("session-a", false, 20, seen);
        assert_eq!(recent.get("session-a", 30), Some(true));
        // A revocation does not end: it stands at any age, and a later read cannot undo it.
        recent.note_read("session-a", false, 60_000, recent.generation());
        assert_eq!(recent.get("session-a", 60_001), Some(true));
    }

    #[test]
    fn a_read_of_another_session_in_the_slot_cannot_bring_back_a_revoked_one() {
        let recent = RecentRevocations::new(5);
        let a = "session-a".to_string();
        // Another id in the same slot.
        let b = (0..).map(|n| format!("session-{n}")).find(|b| session_slot(b) == session_slot(&a)).unwrap();
        let seen = recent.generation();
        recent.note_revoked(&a, 10);
        // B's status pushes A's revocation out of the slot...
        recent.note_read(&b, false, 20, recent.generation());
        // ...and A's status, begun before the revocation, finishes.
        recent.note_read(&a, false, 30, seen);
        assert_eq!(recent.get(&a, 40), None, "the list decides, and it says revoked");
    }

    #[test]
    fn session_ids_spread_over_the_slots() {
        let used: std::collections::HashSet<usize> =
            (0..1000).map(|n| session_slot(&format!("sid-{n}"))).collect();
        assert!(used.len() > 850, "{} slots for 1000 ids", used.len());
    }
}
