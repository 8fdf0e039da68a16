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

pub use jx_core::time::ShanghaiDay as Day;

/// A `day` (or `until`) query value, or a 400 `bad_day`.
pub fn parse_day(s: Option<&str>, name: &str) -> ApiResult<Day> {
    let s = s.ok_or_else(|| ApiError::BadRequest("bad_day", format!("say which day: ?{name}=YYYY-MM-DD")))?;
    Day::parse(s.trim())
        .ok_or_else(|| ApiError::BadRequest("bad_day", format!("“{s}” is not a date like 2026-11-29 ({name})")))
}

const FACTS: &str = "('delivered', 'collected', 'attempt_failed')";

/// Leaves out a handoff of a packet that an earlier accepted handoff had already settled (the same packet recorded
/// delivered twice, kept and flagged as a conflict): a task is handed over, and rated, once. The first in time
/// counts, as in the task's own fold.
const FIRST_HANDOFF_ONLY: &str = "NOT (e.kind IN ('delivered', 'collected') AND EXISTS (
    SELECT 1 FROM events p WHERE p.task_id = e.task_id AND p.outcome = 'accepted'
        AND p.kind IN ('delivered', 'collected') AND (p.at < e.at OR (p.at = e.at AND p.event_id < e.event_id))))";

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
             WHERE e.outcome = 'accepted' AND e.kind IN {FACTS} AND e.at >= $1 AND e.at < $2
               AND {FIRST_HANDOFF_ONLY}"
        ),
        params![from, to],
    )?;
    let mut tallies: BTreeMap<(u32, StaffId), Tally> = BTreeMap::new();
    // A visit that failed is one door on one evening: more failures recorded for the same task that evening (a
    // broken or hostile phone can send hundreds) count once.
    let mut failed_tasks = std::collections::BTreeSet::new();
    for r in rows {
        let compound = r.u32(0)?;
        let e = Envelope::decode(&r.bytes(1)?).map_err(ApiError::internal)?;
        if matches!(e.payload, EventPayload::AttemptFailed { .. }) && !failed_tasks.insert(e.task) {
            continue;
        }
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
            inert(compounds.get(compound).cloned().unwrap_or_default()),
            inert(login),
            inert(name),
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

/// `text` made inert for a spreadsheet: a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is
/// read as a formula by Excel and WPS, so such a name (from an import, or typed by a coordinator) gets a leading
/// apostrophe and shows as the text it is.
fn inert(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text }
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
            "SELECT e.at, e.kind, e.task_id FROM events e
             WHERE e.outcome = 'accepted' AND e.kind IN {FACTS} AND e.at >= $1 AND e.at < $2
               AND {FIRST_HANDOFF_ONLY}"
        ),
        params![from, to],
    )?;
    // A failed visit is one task on one day, however many failures were recorded (as in the evening's CSV).
    let mut failed_visits = std::collections::BTreeSet::new();
    for r in rows {
        let i = Day::of(Timestamp(r.int("at")?)).0 - first.0;
        let Some(d) = usize::try_from(i).ok().and_then(|i| days.get_mut(i)) else { continue };
        if r.text("kind")? == "attempt_failed" {
            if !failed_visits.insert((r.text("task_id")?, i)) {
                continue;
            }
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
    fn names_a_spreadsheet_would_run_as_formulas_are_made_text() {
        assert_eq!(inert("=HYPERLINK(\"http://x\",\"点我\")".into()), "'=HYPERLINK(\"http://x\",\"点我\")");
        for lead in ["+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(inert(lead.into()), format!("'{lead}"), "{lead:?}");
        }
        for plain in ["王小二", "桃园新村", "s01", "", "a=b", "'quoted"] {
            assert_eq!(inert(plain.into()), plain);
        }
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
