//! Sliding-window limits: at most `max` events in any `window_seconds`. The window is
//! kept as the times of the events still inside it, so a limit that trips can say
//! exactly when the next event will be allowed (`Retry-After`), and the count never
//! resets at a boundary (a fixed hourly bucket would allow twice the limit across it).
//!
//! A window also keeps *holds*: places taken by attempts still being decided (a login
//! whose password is being checked). A hold counts toward the limit, so a burst of
//! concurrent guesses cannot slip past it; but a window that is full only because of
//! holds says "busy" rather than "refused", so that a burst of correct logins waits a
//! moment for a place instead of failing. A hold is settled as a counted event (a failed
//! guess), released (it did not count) or cleared with the events before it (a success).

use serde::{Deserialize, Serialize};

/// A limit: at most `max` events per `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub max: u32,
    pub window_seconds: u64,
}

impl Limit {
    fn window_millis(&self) -> u64 {
        self.window_seconds.saturating_mul(1000)
    }
}

/// A hold older than this counts as an event: its attempt never said how it ended (its
/// Worker was stopped), and counting it is the safe side. Far longer than any login.
pub const HOLD_LAPSE_MILLIS: u64 = 30_000;

/// The times (ms) of the events inside the window, oldest first, and of the holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlidingWindow {
    pub events: Vec<u64>,
    /// Never stored: a Durable Object keeps its holds in memory (see `RateWindow`).
    #[serde(skip)]
    pub held: Vec<u64>,
}

/// Why a hold was not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldRefused {
    /// The counted events fill the window: the seconds until one place frees.
    Full { retry_after_seconds: u64 },
    /// Attempts still in flight fill it: one of them will free a place or settle soon.
    Busy,
}

impl SlidingWindow {
    /// Forgets the events that have left the window, and counts lapsed holds.
    fn prune(&mut self, now: u64, limit: Limit) {
        let lapsed: Vec<u64> =
            self.held.iter().copied().filter(|&at| at.saturating_add(HOLD_LAPSE_MILLIS) <= now).collect();
        for at in lapsed {
            self.settle(at);
        }
        let window = limit.window_millis();
        self.events.retain(|&at| at.saturating_add(window) > now);
    }

    /// Whole seconds until an event would be allowed again; `None` when one is allowed now.
    pub fn wait_seconds(&mut self, now: u64, limit: Limit) -> Option<u64> {
        self.prune(now, limit);
        if self.events.len() < limit.max as usize {
            return None;
        }
        // The oldest events leave first; once enough have left, one more fits.
        let excess = self.events.len() + 1 - limit.max as usize;
        let frees_at = self.events.get(excess - 1).copied().unwrap_or(now) + limit.window_millis();
        Some(frees_at.saturating_sub(now).div_ceil(1000).max(1))
    }

    /// Counts an event at `now` if the limit allows it; otherwise the seconds to wait.
    pub fn try_record(&mut self, now: u64, limit: Limit) -> Result<(), u64> {
        match self.wait_seconds(now, limit) {
            Some(wait) => Err(wait),
            None => {
                self.events.push(now);
                Ok(())
            }
        }
    }

    /// Counts an event at `now` that the limit allowed when it was asked
    /// ([`SlidingWindow::wait_seconds`]) and nothing could count since.
    pub fn record(&mut self, now: u64) {
        self.events.push(now);
    }

    /// Takes back the event recorded at `at` (it turned out not to count).
    pub fn forget(&mut self, at: u64) {
        if let Some(index) = self.events.iter().rposition(|&event| event == at) {
            self.events.remove(index);
        }
    }

    /// Holds a place at `now` for an attempt still to be decided, if events and holds
    /// together leave one.
    pub fn try_hold(&mut self, now: u64, limit: Limit) -> Result<(), HoldRefused> {
        self.prune(now, limit);
        if self.events.len() + self.held.len() < limit.max as usize {
            self.held.push(now);
            return Ok(());
        }
        match self.wait_seconds(now, limit) {
            Some(retry_after_seconds) => Err(HoldRefused::Full { retry_after_seconds }),
            None => Err(HoldRefused::Busy),
        }
    }

    /// The hold taken at `at` counts: it becomes an event at its time. (Unknown stamps,
    /// e.g. a hold already cleared, change nothing.)
    pub fn settle(&mut self, at: u64) {
        if self.release(at) {
            let place = self.events.partition_point(|&event| event <= at);
            self.events.insert(place, at);
        }
    }

    /// The hold or the event at `at` does not count after all.
    pub fn give_back(&mut self, at: u64) {
        if !self.release(at) {
            self.forget(at);
        }
    }

    /// Drops the hold taken at `at`; whether there was one.
    fn release(&mut self, at: u64) -> bool {
        let index = self.held.iter().position(|&hold| hold == at);
        index.map(|index| self.held.remove(index)).is_some()
    }

    /// A success at the hold `at`: it and every event up to it are forgotten. The holds of
    /// other attempts still in flight stay, so their failures will count.
    pub fn clear_through(&mut self, at: u64) {
        self.release(at);
        self.events.retain(|&event| event > at);
    }

    /// Every counted event is forgotten; the holds of attempts in flight stay.
    pub fn clear_events(&mut self) {
        self.events.clear();
    }

    /// When the newest counted event leaves the window (the time for an alarm that
    /// forgets it), if there is one. Holds are left out: they are never stored.
    pub fn last_leaves_at(&self, window_seconds: u64) -> Option<u64> {
        self.events.iter().max().map(|at| at + window_seconds * 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOURLY_3: Limit = Limit { max: 3, window_seconds: 3600 };

    #[test]
    fn allows_max_events_per_window_then_says_when_to_retry() {
        let mut window = SlidingWindow::default();
        for at in [0, 1_000, 2_000] {
            assert_eq!(window.try_record(at, HOURLY_3), Ok(()));
        }
        // The first event leaves the window at 3,600,000 ms.
        assert_eq!(window.try_record(10_000, HOURLY_3), Err(3_590));
        assert_eq!(window.try_record(3_599_999, HOURLY_3), Err(1));
        assert_eq!(window.try_record(3_600_000, HOURLY_3), Ok(()));
        assert_eq!(window.events, vec![1_000, 2_000, 3_600_000]);
    }

    #[test]
    fn no_boundary_lets_twice_the_limit_through() {
        let mut window = SlidingWindow::default();
        let mut allowed = 0;
        for at in (3_500_000..3_700_000).step_by(10_000) {
            allowed += window.try_record(at, HOURLY_3).is_ok() as u32;
        }
        assert_eq!(allowed, 3);
    }

    #[test]
    fn a_forgotten_event_frees_its_place() {
        let mut window = SlidingWindow::default();
        for at in [0, 1, 2] {
            window.try_record(at, HOURLY_3).unwrap();
        }
        window.forget(2);
        assert_eq!(window.try_record(3, HOURLY_3), Ok(()));
    }

    const LOGINS_3: Limit = Limit { max: 3, window_seconds: 900 };

    #[test]
    fn a_window_full_of_holds_is_busy_and_one_of_events_is_full() {
        let mut window = SlidingWindow::default();
        for at in [0, 1, 2] {
            window.try_hold(at, LOGINS_3).unwrap();
        }
        assert_eq!(window.try_hold(3, LOGINS_3), Err(HoldRefused::Busy));
        window.settle(0);
        window.settle(1);
        assert_eq!(window.try_hold(4, LOGINS_3), Err(HoldRefused::Busy));
        window.settle(2);
        assert_eq!(window.try_hold(5, LOGINS_3), Err(HoldRefused::Full { retry_after_seconds: 900 }));
        assert_eq!(window.events, vec![0, 1, 2]);
    }

    #[test]
    fn a_released_hold_frees_its_place_and_a_success_clears_what_came_before_it() {
        let mut window = SlidingWindow::default();
        window.try_record(0, LOGINS_3).unwrap();
        for at in [10, 20] {
            window.try_hold(at, LOGINS_3).unwrap();
        }
        assert_eq!(window.try_hold(25, LOGINS_3), Err(HoldRefused::Busy));
        window.release(10);
        window.try_hold(30, LOGINS_3).unwrap();
        // The success at 20 forgets the failure at 0; the attempt at 30 is still held.
        window.clear_through(20);
        assert_eq!((window.events.clone(), window.held.clone()), (vec![], vec![30]));
        window.settle(30);
        window.settle(30);
        assert_eq!(window.events, vec![30], "settling twice counts once");
    }

    #[test]
    fn settled_holds_keep_the_events_in_order() {
        let mut window = SlidingWindow::default();
        window.try_hold(5, LOGINS_3).unwrap();
        window.try_record(7, LOGINS_3).unwrap();
        window.settle(5);
        assert_eq!(window.events, vec![5, 7]);
        assert_eq!(window.try_hold(8, LOGINS_3), Ok(()));
        assert_eq!(window.try_hold(9, LOGINS_3), Err(HoldRefused::Busy));
    }

    #[test]
    fn a_hold_nobody_settles_counts_once_it_lapses() {
        let mut window = SlidingWindow::default();
        for at in [0, 1, 2] {
            window.try_hold(at, LOGINS_3).unwrap();
        }
        let later = 2 + HOLD_LAPSE_MILLIS;
        assert_eq!(window.try_hold(later, LOGINS_3), Err(HoldRefused::Full { retry_after_seconds: 870 }));
        assert!(window.held.is_empty());
        assert_eq!(window.last_leaves_at(900), Some(2 + 900_000), "the lapsed holds are counted events");
    }

    #[test]
    fn holds_are_never_stored() {
        let window = SlidingWindow { events: vec![1, 2], held: vec![3] };
        assert_eq!(serde_json::to_string(&window).unwrap(), r#"{"events":[1,2]}"#);
        let read: SlidingWindow = serde_json::from_str(r#"{"events":[1,2]}"#).unwrap();
        assert_eq!(read, SlidingWindow { events: vec![1, 2], held: vec![] });
    }

    #[test]
    fn a_zero_limit_allows_nothing_and_never_panics() {
        let mut window = SlidingWindow::default();
        assert_eq!(window.try_record(0, Limit { max: 0, window_seconds: 60 }), Err(60));
    }
}
