//! Reports for the coordinators, by Shanghai calendar day (UTC+8, no daylight saving): the evening's results per
//! compound and team member as CSV for a spreadsheet, and the week's handoffs and failed visits per day.
//!
//! Both count the accepted door facts of the day by when they happened: deliveries and collections are done,
//! failed visits are failed, each credited to the team member whose phone recorded it.

use crate::error::{ApiError, ApiResult};
use crate::params;
use crate::sql::Tx;
use jx_core::event::{Envelope, EventPayload, FailureReason};
use jx_core::wire::DayCount;
use jx_core::{StaffId, Timestamp};
use std::collections::BTreeMap;

const DAY_MS: i64 = 86_400_000;
/// Shanghai is UTC+8 all year.
const SHANGHAI_MS: i64 = 8 * 3_600_000;

/// A Shanghai calendar day, as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day(pub i64);

impl Day {
    /// Parses `YYYY-MM-DD` (a real date, years 1970 to 9999).
    pub fn parse(s: &str) -> Option<Day> {
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
        Some(Day(days_from_civil(y, m, d)))
    }

    /// The Shanghai day `at` falls on.
    pub fn of(at: Timestamp) -> Day {
        Day((at.millis() + SHANGHAI_MS).div_euclid(DAY_MS))
    }

    /// The first millisecond of the day, and the first of the next.
    pub fn span(self) -> (i64, i64) {
        let start = self.0 * DAY_MS - SHANGHAI_MS;
        (start, start + DAY_MS)
    }

    pub fn plus(self, days: i64) -> Day {
        Day(self.0 + days)
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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

/// A `day` (or `until`) query value, or a 400 `bad_day`.
pub fn parse_day(s: Option<&str>, name: &str) -> ApiResult<Day> {
    let s = s.ok_or_else(|| ApiError::BadRequest("bad_day", format!("say which day: ?{name}=YYYY-MM-DD")))?;
    Day::parse(s.trim())
        .ok_or_else(|| ApiError::BadRequest("bad_day", format!("“{s}” is not a date like 2026-11-29 ({name})")))
}

const FACTS: &str = "('delivered', 'collected', 'attempt_failed')";

/// One compound's evening for one team member.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Tally {
    done: u32,
    failed: u32,
    reasons: [u32; 6],
    rated: u32,
    rating_sum: u32,
}

fn reason_index(r: FailureReason) -> usize {
    match r {
        FailureReason::NobodyHome => 0,
        FailureReason::Refused => 1,
        FailureReason::WrongAddress => 2,
        FailureReason::AnotherTime => 3,
        FailureReason::MustBeInPerson => 4,
        FailureReason::DocumentsMismatch => 5,
    }
}

/// The CSV's columns, in order.
pub const EVENING_COLUMNS: [&str; 14] = [
    "compound",
    "compound_name",
    "staff_login",
    "staff_name",
    "done",
    "failed",
    "failed_nobody_home",
    "failed_refused",
    "failed_wrong_address",
    "failed_another_time",
    "failed_must_be_in_person",
    "failed_documents_mismatch",
    "rated",
    "satisfaction_avg",
];

/// The mean of `sum / n` to one decimal, halves rounded up; empty when nothing was rated.
fn average(sum: u32, n: u32) -> String {
    if n == 0 {
        return String::new();
    }
    let tenths = (u64::from(sum) * 20 + u64::from(n)) / (2 * u64::from(n));
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// The evening report of `day`: UTF-8 CSV with a byte-order mark (so spreadsheets read the Chinese names), one
/// row per compound and team member with any door fact that day, by compound then staff id.
pub fn evening_csv(tx: &mut dyn Tx, day: Day) -> ApiResult<Vec<u8>> {
    let (from, to) = day.span();
    let rows = tx.query(
        &format!(
            "SELECT t.compound, e.encoded FROM events e JOIN tasks t ON t.task_id = e.task_id
             WHERE e.outcome = 'accepted' AND e.kind IN {FACTS} AND e.at >= $1 AND e.at < $2"
        ),
        params![from, to],
    )?;
    let mut tallies: BTreeMap<(u32, StaffId), Tally> = BTreeMap::new();
    for r in rows {
        let compound = r.u32(0)?;
        let e = Envelope::decode(&r.bytes(1)?).map_err(ApiError::internal)?;
        let Some(staff) = e.actor.device_staff() else { continue };
        let t = tallies.entry((compound, staff)).or_default();
        match &e.payload {
            EventPayload::Delivered { proof } | EventPayload::Collected { proof, .. } => {
                t.done += 1;
                if let Some(rating) = proof.rating {
                    t.rated += 1;
                    t.rating_sum += u32::from(rating);
                }
            }
            EventPayload::AttemptFailed { reason, .. } => {
                t.failed += 1;
                t.reasons[reason_index(*reason)] += 1;
            }
            _ => {}
        }
    }
    let compounds: BTreeMap<u32, String> = tx
        .query("SELECT id, name FROM compounds", params![])?
        .iter()
        .map(|r| Ok((r.u32(0)?, r.text(1)?)))
        .collect::<ApiResult<_>>()?;
    let staff: BTreeMap<u32, (String, String)> = tx
        .query("SELECT id, login, name FROM staff", params![])?
        .iter()
        .map(|r| Ok((r.u32(0)?, (r.text(1)?, r.text(2)?))))
        .collect::<ApiResult<_>>()?;
    let records = tallies.iter().map(|((compound, s), t)| {
        let (login, name) = staff.get(&s.0).cloned().unwrap_or_default();
        let mut row = vec![
            compound.to_string(),
            compounds.get(compound).cloned().unwrap_or_default(),
            login,
            name,
            t.done.to_string(),
            t.failed.to_string(),
        ];
        row.extend(t.reasons.iter().map(u32::to_string));
        row.push(t.rated.to_string());
        row.push(average(t.rating_sum, t.rated));
        row
    });
    csv_with_bom(records)
}

/// The header and `records` as CSV (fields with commas, quotes or line breaks quoted), after a UTF-8 byte-order
/// mark.
fn csv_with_bom(records: impl Iterator<Item = Vec<String>>) -> ApiResult<Vec<u8>> {
    let mut out = "\u{FEFF}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(EVENING_COLUMNS).map_err(ApiError::internal)?;
        for r in records {
            w.write_record(&r).map_err(ApiError::internal)?;
        }
        w.flush().map_err(ApiError::internal)?;
    }
    Ok(out)
}

/// Handoffs and failed visits on each of the 7 Shanghai days ending with `until`, oldest first.
pub fn week(tx: &mut dyn Tx, until: Day) -> ApiResult<Vec<DayCount>> {
    let first = until.plus(-6);
    let (from, _) = first.span();
    let (_, to) = until.span();
    let mut days: Vec<DayCount> =
        (0..7).map(|i| DayCount { day: first.plus(i).to_string(), done: 0, failed: 0 }).collect();
    let rows = tx.query(
        &format!(
            "SELECT e.at, e.kind FROM events e
             WHERE e.outcome = 'accepted' AND e.kind IN {FACTS} AND e.at >= $1 AND e.at < $2"
        ),
        params![from, to],
    )?;
    for r in rows {
        let i = Day::of(Timestamp(r.int(0)?)).0 - first.0;
        let Some(d) = usize::try_from(i).ok().and_then(|i| days.get_mut(i)) else { continue };
        if r.text(1)? == "attempt_failed" {
            d.failed += 1;
        } else {
            d.done += 1;
        }
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_parse_strictly_and_print_back() {
        for s in ["1970-01-01", "2024-02-29", "2026-11-29", "9999-12-31"] {
            assert_eq!(Day::parse(s).map(|d| d.to_string()).as_deref(), Some(s));
        }
        assert_eq!(Day::parse("1970-01-01"), Some(Day(0)));
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
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_shanghai_day_starts_at_four_pm_utc_the_day_before() {
        let d = Day::parse("2026-11-29").expect("date");
        let (from, to) = d.span();
        // 2026-11-28T16:00:00Z.
        assert_eq!(from, 1_795_881_600_000);
        assert_eq!(to - from, DAY_MS);
        assert_eq!(Day::of(Timestamp(from)), d);
        assert_eq!(Day::of(Timestamp(from - 1)), d.plus(-1));
        assert_eq!(Day::of(Timestamp(to - 1)), d);
        // 19:05 Shanghai on the 29th.
        assert_eq!(Day::of(Timestamp(1_795_950_300_000)), d);
    }

    #[test]
    fn names_with_commas_and_quotes_are_quoted() {
        let mut row = vec!["3".to_string(), "桃园, 新村".into(), "s01".into(), "王\"小\"二".into()];
        row.extend(["1", "0", "0", "0", "0", "0", "0", "0", "1", "5.0"].map(String::from));
        let bytes = csv_with_bom([row.clone()].into_iter()).expect("csv");
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
        let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
        assert_eq!(text.lines().nth(1), Some("3,\"桃园, 新村\",s01,\"王\"\"小\"\"二\",1,0,0,0,0,0,0,0,1,5.0"));
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let back: Vec<String> = r.records().next().expect("a row").expect("parses").iter().map(String::from).collect();
        assert_eq!(back, row);
        assert_eq!(r.headers().expect("header").iter().collect::<Vec<_>>(), EVENING_COLUMNS);
    }

    #[test]
    fn averages_have_one_decimal_halves_up() {
        assert_eq!(average(0, 0), "");
        assert_eq!(average(9, 2), "4.5");
        assert_eq!(average(13, 3), "4.3");
        assert_eq!(average(17, 4), "4.3", "4.25 rounds up");
        assert_eq!(average(5, 1), "5.0");
    }
}
