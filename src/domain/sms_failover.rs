//! Failing over along a list of SMS providers (`SMS_PROVIDER=aliyun,tencent`): which to
//! try, in which order, with how much of the send's time each, and a breaker per provider
//! that skips one that keeps failing. Pure, so the Cloudflare side only carries it out.

/// Failures in a row after which a provider is skipped.
pub const FAILURES_TO_SKIP: u32 = 3;
/// How long a provider that failed [`FAILURES_TO_SKIP`] times in a row is skipped.
pub const SKIP_MS: u64 = 60_000;

/// One provider's recent record, as an isolate saw it (each isolate keeps its own:
/// enough to stop sending every code first to a provider that is down).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Breaker {
    failures_in_a_row: u32,
    skipped_until_ms: u64,
}

impl Breaker {
    pub fn is_open(&self, now_ms: u64) -> bool {
        now_ms < self.skipped_until_ms
    }

    /// Counts a failure; true when it opens the breaker (the provider is skipped from now).
    pub fn failed(&mut self, now_ms: u64) -> bool {
        self.failures_in_a_row += 1;
        if self.failures_in_a_row < FAILURES_TO_SKIP {
            return false;
        }
        // Tried again after the pause: one more failure opens it again at once.
        self.failures_in_a_row = FAILURES_TO_SKIP - 1;
        self.skipped_until_ms = now_ms + SKIP_MS;
        true
    }

    pub fn succeeded(&mut self) {
        *self = Breaker::default();
    }
}

/// The providers to try, by index, in the list's order: those whose breaker is closed.
/// Should every breaker be open, all of them, in order: skipping every provider would turn
/// an outage of them all into a minute of certain failure after it ends.
pub fn order(breakers: &[Breaker], now_ms: u64) -> Vec<usize> {
    let closed: Vec<usize> = (0..breakers.len()).filter(|&i| !breakers[i].is_open(now_ms)).collect();
    if closed.is_empty() {
        (0..breakers.len()).collect()
    } else {
        closed
    }
}

/// The least time a try gets (all that is left, if less): a provider's ordinary latency,
/// so that a list of several does not turn it into failures.
pub const LEAST_SHARE_MS: u64 = 1_500;

/// The time the next attempt may take: an equal share of what is left among the
/// providers still to try, so that one that hangs leaves the others their turn; at
/// least [`LEAST_SHARE_MS`] of it.
pub fn share_ms(left_ms: u64, still_to_try: usize) -> u64 {
    (left_ms / still_to_try.max(1) as u64).max(left_ms.min(LEAST_SHARE_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_failures_in_a_row_skip_a_provider_for_a_minute() {
        let mut breaker = Breaker::default();
        assert!(!breaker.failed(1_000));
        assert!(!breaker.failed(2_000));
        assert!(!breaker.is_open(2_000), "two failures: still tried");
        assert!(breaker.failed(3_000), "the third opens it");
        assert!(breaker.is_open(3_000) && breaker.is_open(3_000 + SKIP_MS - 1));
        assert!(!breaker.is_open(3_000 + SKIP_MS), "tried again after a minute");
        // One more failure then skips it again; a success forgets them all.
        breaker.failed(70_000);
        assert!(breaker.is_open(70_000));
        breaker.succeeded();
        assert_eq!(breaker, Breaker::default());
    }

    #[test]
    fn a_success_between_failures_starts_the_count_again() {
        let mut breaker = Breaker::default();
        breaker.failed(1);
        breaker.failed(2);
        breaker.succeeded();
        breaker.failed(3);
        breaker.failed(4);
        assert!(!breaker.is_open(4));
    }

    #[test]
    fn open_breakers_are_skipped_unless_all_are_open() {
        let mut breakers = [Breaker::default(); 3];
        assert_eq!(order(&breakers, 0), [0, 1, 2]);
        for at in 0..3 {
            breakers[0].failed(at);
        }
        assert_eq!(order(&breakers, 10), [1, 2]);
        for at in 0..3 {
            breakers[1].failed(at);
            breakers[2].failed(at);
        }
        assert_eq!(order(&breakers, 10), [0, 1, 2], "all open: all tried");
        assert_eq!(order(&breakers, 2 + SKIP_MS), [0, 1, 2]);
    }

    #[test]
    fn each_attempt_gets_its_share_of_the_time_left() {
        assert_eq!(share_ms(5_000, 2), 2_500);
        assert_eq!(share_ms(2_500, 1), 2_500);
        assert_eq!(share_ms(5_000, 0), 5_000);
        assert_eq!(share_ms(5_000, 4), LEAST_SHARE_MS, "no try is too short to answer");
        assert_eq!(share_ms(1_000, 3), 1_000, "but never more than is left");
    }
}
