//! What one event may carry, and when it may say it happened: the limits the centre holds every device's facts to,
//! so that no phone (broken or hostile) can fill the centre with a 3 MB note, date a fact in 2255, or grow one task's
//! history without end. Pure: the centre calls [`check_fields`] and [`check_time`] on ingest, and a phone can call
//! them before it records.

use crate::event::{Confirmation, EventPayload, HandoffProof};
use crate::time::Timestamp;

/// A note, reason or free text a staff member types.
pub const MAX_NOTE_CHARS: usize = 500;
/// A scanned code's text (a signed token, a door card's URL).
pub const MAX_CODE_TEXT_CHARS: usize = 512;
/// A name or relation (a family member, a witness, a collected document).
pub const MAX_NAME_CHARS: usize = 40;
/// A typed 6-digit code, with room for what a confused hand adds.
pub const MAX_CODE_CHARS: usize = 16;
/// Photos one fact may name.
pub const MAX_PHOTOS: usize = 20;
/// Documents one collection may list.
pub const MAX_MATERIALS: usize = 40;
/// How far ahead of the centre's clock an event may be dated (a phone's clock runs a little fast).
pub const MAX_AHEAD_MS: i64 = 15 * 60_000;
/// How long before the centre's clock an event may be dated (a phone offline for a long weekend and more).
pub const MAX_BEHIND_MS: i64 = 30 * 24 * 3_600_000;
/// Facts one task may gather from devices in all (a task's whole life holds a few dozen).
pub const MAX_DEVICE_EVENTS_PER_TASK: i64 = 200;
/// Events one device may send in one Shanghai day (a busy evening is a few hundred).
pub const MAX_EVENTS_PER_DEVICE_DAY: i64 = 2_000;

/// A field over its limit.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field} is {got} long; at most {limit} is accepted")]
pub struct TooLarge {
    pub field: &'static str,
    pub limit: usize,
    pub got: usize,
}

fn chars(field: &'static str, text: &str, limit: usize) -> Result<(), TooLarge> {
    let got = text.chars().count();
    if got > limit { Err(TooLarge { field, limit, got }) } else { Ok(()) }
}

fn count(field: &'static str, got: usize, limit: usize) -> Result<(), TooLarge> {
    if got > limit { Err(TooLarge { field, limit, got }) } else { Ok(()) }
}

fn proof(p: &HandoffProof) -> Result<(), TooLarge> {
    count("photos", p.photos.len(), MAX_PHOTOS)?;
    if let Some(packet) = &p.packet {
        chars("packet", packet, MAX_CODE_TEXT_CHARS)?;
    }
    match &p.confirmation {
        Some(Confirmation::ResidentQr { token } | Confirmation::HouseholdCard { token }) => {
            chars("token", token, MAX_CODE_TEXT_CHARS)
        }
        Some(Confirmation::ResidentCode { code } | Confirmation::HouseholdCode { code }) => {
            chars("code", code, MAX_CODE_CHARS)
        }
        Some(Confirmation::Proxy { name, relation, code, .. }) => {
            chars("name", name, MAX_NAME_CHARS)?;
            chars("relation", relation, MAX_NAME_CHARS)?;
            chars("code", code, MAX_CODE_CHARS)
        }
        Some(Confirmation::Witness { witness, .. }) => chars("witness", witness, MAX_NAME_CHARS),
        // Strokes carry their own bounds (`strokes::MAX_POINTS`), checked where they are decoded.
        Some(Confirmation::Signature { .. } | Confirmation::Handwritten { .. }) | None => Ok(()),
    }
}

/// Whether every field of `payload` is within its limit.
pub fn check_fields(payload: &EventPayload) -> Result<(), TooLarge> {
    match payload {
        EventPayload::Delivered { proof: p } => proof(p),
        EventPayload::Collected { proof: p, materials } => {
            proof(p)?;
            count("materials", materials.len(), MAX_MATERIALS)?;
            materials.iter().try_for_each(|m| chars("material name", &m.name, MAX_NAME_CHARS))
        }
        EventPayload::AttemptFailed { note, photos, .. } | EventPayload::ProofAdded { photos, note } => {
            count("photos", photos.len(), MAX_PHOTOS)?;
            chars("note", note, MAX_NOTE_CHARS)
        }
        EventPayload::Returned { note }
        | EventPayload::ConflictAccepted { note, .. }
        | EventPayload::ProofRequested { note }
        | EventPayload::ProofAccepted { note } => chars("note", note, MAX_NOTE_CHARS),
        EventPayload::Cancelled { reason } => chars("reason", reason, MAX_NOTE_CHARS),
        EventPayload::DoorCardLeft { card } | EventPayload::Rescheduled { card, .. } => {
            chars("card", card, MAX_CODE_TEXT_CHARS)
        }
        EventPayload::Assigned { .. }
        | EventPayload::Reassigned { .. }
        | EventPayload::CheckedOut { .. }
        | EventPayload::HandedIn => Ok(()),
    }
}

/// How far around the centre's clock an event may be dated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub behind_ms: i64,
    pub ahead_ms: i64,
}

impl Default for Window {
    fn default() -> Window {
        Window { behind_ms: MAX_BEHIND_MS, ahead_ms: MAX_AHEAD_MS }
    }
}

/// An event dated outside the window around the centre's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the event is dated {at}, outside what the centre accepts at {now} ({} ms before to {} ms after)", .window.behind_ms, .window.ahead_ms)]
pub struct OutOfWindow {
    pub at: Timestamp,
    pub now: Timestamp,
    pub window: Window,
}

/// Whether an event dated `at` may be taken at `now`.
pub fn check_time(at: Timestamp, now: Timestamp, window: Window) -> Result<(), OutOfWindow> {
    let earliest = now.millis().saturating_sub(window.behind_ms);
    let latest = now.millis().saturating_add(window.ahead_ms);
    if (earliest..=latest).contains(&at.millis()) { Ok(()) } else { Err(OutOfWindow { at, now, window }) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::FailureReason;
    use proptest::prelude::*;

    fn failed(note: String, photos: usize) -> EventPayload {
        EventPayload::AttemptFailed {
            reason: FailureReason::NobodyHome,
            note,
            photos: vec![crate::bytes::Sha256::ZERO; photos],
            retry_at: None,
        }
    }

    #[test]
    fn a_long_note_or_too_many_photos_is_refused_and_names_the_field() {
        assert!(check_fields(&failed("门口没人".into(), 2)).is_ok());
        let e = check_fields(&failed("长".repeat(3_000_000), 0)).expect_err("3 MB note");
        assert_eq!((e.field, e.limit, e.got), ("note", MAX_NOTE_CHARS, 3_000_000));
        assert_eq!(check_fields(&failed(String::new(), MAX_PHOTOS + 1)).expect_err("photos").field, "photos");
        let reason = EventPayload::Cancelled { reason: "x".repeat(MAX_NOTE_CHARS) };
        assert!(check_fields(&reason).is_ok(), "exactly the limit is fine");
    }

    #[test]
    fn times_far_in_the_future_or_the_past_are_refused() {
        let now = Timestamp(1_796_295_600_000);
        assert!(check_time(now, now, Window::default()).is_ok());
        assert!(check_time(Timestamp(now.0 + MAX_AHEAD_MS), now, Window::default()).is_ok());
        assert!(check_time(Timestamp(now.0 + MAX_AHEAD_MS + 1), now, Window::default()).is_err());
        assert!(check_time(Timestamp(now.0 - MAX_BEHIND_MS - 1), now, Window::default()).is_err());
        // 2255, before 1970, and the very ends of the clock.
        for at in [9_000_000_000_000, -5, i64::MAX, i64::MIN] {
            assert!(check_time(Timestamp(at), now, Window::default()).is_err(), "{at}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn the_time_window_is_exactly_the_documented_one(at in any::<i64>(), now in 0i64..4_000_000_000_000) {
            let inside = at >= now - MAX_BEHIND_MS && at <= now + MAX_AHEAD_MS;
            prop_assert_eq!(check_time(Timestamp(at), Timestamp(now), Window::default()).is_ok(), inside);
        }
    }
}
