//! Time, injected: use cases ask a [`Clock`] instead of reading the system time, so tests
//! can pin it, and the Worker can use the JavaScript clock (`std::time` panics on wasm32).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, Timelike, Utc};

/// Where the current time comes from.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> u64;

    /// Whole seconds since the Unix epoch.
    fn now_seconds(&self) -> u64 {
        self.now_millis() / 1000
    }
}

/// The machine's clock, for native code and tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// A clock that always says the same time, for tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn now_millis(&self) -> u64 {
        self.0
    }
}

/// `seconds` since the epoch as `YYYY-MM-DD HH:MM:SS` at a fixed UTC offset, the format
/// of `/login/jwt/status`'s `exp_date` and `iat_date`.
pub fn display_time(seconds: u64, utc_offset: FixedOffset) -> String {
    let moment = DateTime::<Utc>::from_timestamp(seconds as i64, 0).unwrap_or_default();
    date_and_time(&moment.with_timezone(&utc_offset).naive_local(), ' ')
}

/// `YYYY-MM-DD`, `separator`, `HH:MM:SS`. Written out rather than with chrono's `format`,
/// which parses its pattern at every call and brings its strftime parser into the wasm.
pub fn date_and_time(time: &NaiveDateTime, separator: char) -> String {
    format!(
        "{:04}-{:02}-{:02}{separator}{:02}:{:02}:{:02}",
        time.year(),
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_time_is_shanghai_time_by_default_offset() {
        let shanghai = FixedOffset::east_opt(8 * 3600).unwrap();
        // 2023-12-16 09:35:20 UTC, the moment of the document's example.
        assert_eq!(display_time(1_702_719_320, shanghai), "2023-12-16 17:35:20");
    }

    #[test]
    fn display_time_pads_and_crosses_midnight_at_a_negative_offset() {
        let new_york = FixedOffset::west_opt(5 * 3600).unwrap();
        assert_eq!(display_time(0, new_york), "1969-12-31 19:00:00");
        let utc = FixedOffset::east_opt(0).unwrap();
        // 2026-01-02 03:04:05 UTC.
        assert_eq!(display_time(1_767_323_045, utc), "2026-01-02 03:04:05");
    }

    #[test]
    fn fixed_clock_reports_seconds() {
        assert_eq!(FixedClock(1_700_000_000_999).now_seconds(), 1_700_000_000);
    }
}
