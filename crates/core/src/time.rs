//! Time as the domain sees it: milliseconds since the Unix epoch, UTC.
//!
//! Core never reads a clock; callers pass the time in. [`Timestamp::next_after`] is the hybrid-logical-clock step
//! that recorders use so that an event always sorts after every event its author had already seen.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    /// The hybrid-logical-clock rule: the wall clock, unless that is not later than the newest time the recorder
    /// has already seen, in which case one millisecond after it. A phone whose clock is behind therefore never
    /// records a fact "before" the assignment it acted on.
    pub fn next_after(wall: Timestamp, seen: Option<Timestamp>) -> Timestamp {
        match seen {
            Some(seen) if seen.0 >= wall.0 => Timestamp(seen.0.saturating_add(1)),
            _ => wall,
        }
    }

    /// Shanghai local time of day as `hh:mm` (UTC+8, no daylight saving), for display.
    pub fn shanghai_hhmm(self) -> String {
        let local = self.0.div_euclid(1000) + 8 * 3600;
        let of_day = local.rem_euclid(86_400);
        format!("{:02}:{:02}", of_day / 3600, (of_day % 3600) / 60)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_after_moves_past_what_was_seen_when_the_clock_lags() {
        let wall = Timestamp(1_000);
        assert_eq!(Timestamp::next_after(wall, Some(Timestamp(5_000))), Timestamp(5_001));
        assert_eq!(Timestamp::next_after(wall, Some(Timestamp(1_000))), Timestamp(1_001));
        assert_eq!(Timestamp::next_after(wall, Some(Timestamp(999))), wall);
        assert_eq!(Timestamp::next_after(wall, None), wall);
    }

    #[test]
    fn shanghai_time_of_day_is_eight_hours_ahead_of_utc() {
        // 2026-11-29T11:05:00Z is 19:05 in Shanghai.
        assert_eq!(Timestamp(1_795_950_300_000).shanghai_hhmm(), "19:05");
    }
}
