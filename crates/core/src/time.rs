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

/// A day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// Shanghai is UTC+8 all year.
pub const SHANGHAI_MS: i64 = 8 * 3_600_000;

/// A Shanghai calendar day (UTC+8, no daylight saving), as days since 1970-01-01: what "tonight", "the evening
/// of 12-03" and a report's day mean to the centre and its staff, whatever the device's time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShanghaiDay(pub i64);

impl ShanghaiDay {
    /// Parses `YYYY-MM-DD` (a real date, years 1970 to 9999).
    pub fn parse(s: &str) -> Option<ShanghaiDay> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let part = s.get(r)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if y < 1970 || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
            return None;
        }
        Some(ShanghaiDay(days_from_civil(y, m, d)))
    }

    /// The Shanghai day `at` falls on.
    pub fn of(at: Timestamp) -> ShanghaiDay {
        ShanghaiDay((at.millis() + SHANGHAI_MS).div_euclid(DAY_MS))
    }

    /// The first millisecond of the day, and the first of the next.
    pub fn span(self) -> (i64, i64) {
        let start = self.0 * DAY_MS - SHANGHAI_MS;
        (start, start + DAY_MS)
    }

    pub fn plus(self, days: i64) -> ShanghaiDay {
        ShanghaiDay(self.0 + days)
    }
}

impl fmt::Display for ShanghaiDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
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

    #[test]
    fn days_parse_strictly_and_print_back() {
        for s in ["1970-01-01", "2024-02-29", "2026-11-29", "9999-12-31"] {
            assert_eq!(ShanghaiDay::parse(s).map(|d| d.to_string()).as_deref(), Some(s));
        }
        assert_eq!(ShanghaiDay::parse("1970-01-01"), Some(ShanghaiDay(0)));
        for bad in [
            "",
            "2026-11-31",
            "2025-02-29",
            "2026-13-01",
            "2026-1-01",
            "20261129",
            "2026-11-2x",
            "+026-11-29",
            "1969-12-31",
            "２０２６-11-29",
        ] {
            assert_eq!(ShanghaiDay::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_shanghai_day_starts_at_four_pm_utc_the_day_before() {
        let d = ShanghaiDay::parse("2026-11-29").expect("date");
        let (from, to) = d.span();
        // 2026-11-28T16:00:00Z.
        assert_eq!(from, 1_795_881_600_000);
        assert_eq!(to - from, DAY_MS);
        assert_eq!(ShanghaiDay::of(Timestamp(from)), d);
        assert_eq!(ShanghaiDay::of(Timestamp(from - 1)), d.plus(-1));
        assert_eq!(ShanghaiDay::of(Timestamp(to - 1)), d);
        // 19:05 Shanghai on the 29th.
        assert_eq!(ShanghaiDay::of(Timestamp(1_795_950_300_000)), d);
    }
}
