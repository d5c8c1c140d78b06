//! Sliding-window limits: at most `max` events in any `window_seconds`. The window is
//! kept as the times of the events still inside it, so a limit that trips can say
//! exactly when the next event will be allowed (`Retry-After`), and the count never
//! resets at a boundary (a fixed hourly bucket would allow twice the limit across it).

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

/// The times (ms) of the events inside the window, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlidingWindow {
    pub events: Vec<u64>,
}

impl SlidingWindow {
    /// Forgets the events that have left the window.
    fn prune(&mut self, now: u64, limit: Limit) {
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

    /// Takes back the event recorded at `at` (it turned out not to count).
    pub fn forget(&mut self, at: u64) {
        if let Some(index) = self.events.iter().rposition(|&event| event == at) {
            self.events.remove(index);
        }
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

    #[test]
    fn a_zero_limit_allows_nothing_and_never_panics() {
        let mut window = SlidingWindow::default();
        assert_eq!(window.try_record(0, Limit { max: 0, window_seconds: 60 }), Err(60));
    }
}
