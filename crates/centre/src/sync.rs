//! The phones' side of the API: push (ingest a batch of a device's events) and pull (the device's tasks that
//! changed since its cursor).

use crate::auth::DeviceCaller;
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::params;
use crate::sql::Tx;
use crate::town;
use crate::{doorcard, log};
use jx_core::TaskId;
use jx_core::bounds;
use jx_core::bytes::Sha256;
use jx_core::event::{Actor, Envelope, EventPayload};
use jx_core::state::{self, ConflictKind};
use jx_core::wire::{PullResponse, PushOutcome, PushResult, TaskChange};
use std::collections::BTreeMap;

/// Most events one push may carry.
pub const MAX_PUSH: usize = 500;

fn rejected(code: &str, reason: impl Into<String>) -> PushOutcome {
    PushOutcome::Rejected { code: code.into(), reason: reason.into() }
}

/// Ingests a device's batch, in order, in one transaction. Idempotent on the event id; each event's chain link is
/// checked against the device's last accepted link. An event that breaks the chain is refused and leaves the chain
/// as it was; an event that links correctly but cannot apply to its task is kept as a rejected link with its reason,
/// so that the device's next event still links. A conflicting fact is accepted and flagged.
pub fn push(
    tx: &mut dyn Tx,
    caller: DeviceCaller,
    events: Vec<Envelope>,
    window: bounds::Window,
) -> ApiResult<Vec<PushResult>> {
    if events.len() > MAX_PUSH {
        return Err(ApiError::BadRequest("batch_too_large", format!("at most {MAX_PUSH} events a push")));
    }
    let received = now();
    // The device's row first: on PostgreSQL this locks it, so two pushes of one device never interleave. It also
    // counts what the device sent today; a push that would go over the daily cap is refused whole, nothing kept,
    // and the phone sends it again later (the next day at the latest).
    let today = jx_core::time::ShanghaiDay::of(received).0;
    let row = tx.query_one(
        "UPDATE devices SET day_events = CASE WHEN day_number = $2 THEN day_events + $3 ELSE $3 END, day_number = $2
         WHERE device_id = $1
         RETURNING last_seq, last_hash, public_key, day_events",
        params![caller.device.to_string(), today, events.len()],
    )?;
    if row.int("day_events")? > bounds::MAX_EVENTS_PER_DEVICE_DAY {
        return Err(ApiError::TooManyRequests(
            "device_daily_cap",
            format!(
                "this phone has sent more than {} events today; the rest are taken tomorrow",
                bounds::MAX_EVENTS_PER_DEVICE_DAY
            ),
        ));
    }
    let mut last_seq = row.int("last_seq")?;
    let mut last_hash = Sha256::from_hex(&row.text("last_hash")?).map_err(ApiError::internal)?;
    let public: [u8; 32] = hex::decode(row.text("public_key")?)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ApiError::internal("enrolled key"))?;
    // Then every task the batch touches, in id order (the lock order; see `log`).
    let tasks: std::collections::BTreeSet<TaskId> = events.iter().map(|e| e.task).collect();
    for t in tasks {
        log::lock_task(tx, t)?;
    }
    let mut results = Vec::with_capacity(events.len());
    // Whose phones must hear of which task: each pair once a push, however many of its facts touched the task.
    let mut told = std::collections::BTreeSet::new();
    for e in events {
        let outcome =
            ingest_one(tx, caller, &public, &e, &mut last_seq, &mut last_hash, (received, window), &mut told)?;
        // Ids, kinds and outcomes only: an event's payload carries codes, positions and notes.
        tracing::debug!(event = %e.id, task = %e.task, kind = %e.kind(), seq = e.seq, outcome = ?outcome_name(&outcome), "ingest");
        results.push(PushResult { event: e.id, outcome });
    }
    log::tell_all(tx, told.into_iter().collect())?;
    tx.execute(
        "UPDATE devices SET last_seq = $2, last_hash = $3 WHERE device_id = $1",
        params![caller.device.to_string(), last_seq, last_hash.to_hex()],
    )?;
    Ok(results)
}

#[allow(clippy::too_many_arguments)]
fn ingest_one(
    tx: &mut dyn Tx,
    caller: DeviceCaller,
    public: &[u8; 32],
    e: &Envelope,
    last_seq: &mut i64,
    last_hash: &mut Sha256,
    (received, window): (jx_core::Timestamp, bounds::Window),
    told: &mut std::collections::BTreeSet<(jx_core::StaffId, String)>,
) -> ApiResult<PushOutcome> {
    let known = tx.query_opt("SELECT encoded FROM events WHERE event_id = $1", params![e.id.to_string()])?;
    if let Some(bytes) = known.map(|r| r.bytes(0)).transpose()? {
        return Ok(if bytes == e.encode() {
            PushOutcome::Duplicate
        } else {
            rejected("id_reused", format!("event id {} was already used for a different event", e.id))
        });
    }
    if e.actor != (Actor::Device { device: caller.device, staff: caller.staff }) {
        return Ok(rejected(
            "wrong_actor",
            format!("the event says it was recorded by {}, not by this device", e.actor),
        ));
    }
    // A forged or altered event is refused before it can touch the chain.
    match jx_core::sign::verify(e, public) {
        Ok(()) => {}
        Err(jx_core::sign::SignatureError::Missing) => {
            return Ok(rejected("unsigned", "the event carries no device signature"));
        }
        Err(err) => return Ok(rejected("bad_signature", err.to_string())),
    }
    let expected = *last_seq as u64 + 1;
    if e.seq != expected {
        let code = if e.seq < expected { "sequence_replayed" } else { "sequence_gap" };
        return Ok(rejected(code, format!("expected this device's event number {expected}, got {}", e.seq)));
    }
    if e.prev != *last_hash {
        return Ok(rejected("chain_broken", "the event does not link to this device's previous event"));
    }
    // The link is sound: it advances the chain whatever becomes of the fact itself.
    *last_seq = e.seq as i64;
    *last_hash = e.chain_hash();

    let refuse = |tx: &mut dyn Tx, code: &str, reason: String| -> ApiResult<PushOutcome> {
        log::insert_event(tx, e, false, Some(&reason), received)?;
        Ok(rejected(code, reason))
    };
    // What any device may send, whatever its task: a time near the centre's clock, fields of bounded size.
    if let Err(err) = bounds::check_time(e.at, received, window) {
        return refuse(tx, "bad_event_time", err.to_string());
    }
    if let Err(err) = bounds::check_fields(&e.payload) {
        // Not kept: keeping it would keep what was too large. The link still counts, so the next event links.
        return Ok(rejected("field_too_large", err.to_string()));
    }
    let Some((task, before)) = log::load_task(tx, e.task)? else {
        return refuse(tx, "unknown_task", format!("task {} does not exist", e.task));
    };
    let ever_assigned = tx
        .query_one(
            "SELECT count(*) AS n FROM task_assignees WHERE task_id = $1 AND staff_id = $2",
            params![e.task.to_string(), caller.staff.0],
        )?
        .int("n")?
        > 0;
    if !ever_assigned {
        return refuse(tx, "not_your_task", format!("task {} was never assigned to this staff member", e.task));
    }
    let (device_events, last_at) = log::ingest_counts(tx, e.task)?;
    if device_events >= bounds::MAX_DEVICE_EVENTS_PER_TASK {
        let cap = bounds::MAX_DEVICE_EVENTS_PER_TASK;
        return refuse(tx, "task_event_cap", format!("task {} already has {cap} facts from phones", e.task));
    }
    // A fact dated after everything the task holds comes last in the canonical order: applying it to the stored
    // state is the fold, at a cost that does not grow with the history. Only a fact that lands before others (an
    // offline phone's, arriving after later decisions) has the whole history folded again.
    let folded = if last_at.is_none_or(|last| e.at.millis() > last) {
        match before.apply(e) {
            Ok(after) => after,
            Err(err) => return refuse(tx, "impossible_transition", err.to_string()),
        }
    } else {
        let mut all = log::accepted_events(tx, e.task)?;
        all.push(e.clone());
        let folded = state::fold(e.task, task.kind, &all);
        let impossible = folded.conflicts.iter().find_map(|c| match (&c.kind, c.event == e.id) {
            (ConflictKind::Impossible { reason }, true) => Some(reason.clone()),
            _ => None,
        });
        if let Some(reason) = impossible {
            return refuse(tx, "impossible_transition", reason);
        }
        folded
    };
    log::insert_event(tx, e, true, None, received)?;
    if let EventPayload::DoorCardLeft { card } = &e.payload {
        doorcard::on_left(tx, e, card)?;
    }
    // The history was folded once, above, with the event in it: that is the task's new state.
    let (_, tell) = log::store_state_untold(tx, e.task, &before, folded)?;
    told.extend(tell);
    Ok(PushOutcome::Accepted)
}

/// Parses a pull cursor: the last version of its staff member's feed the device has seen.
pub fn parse_cursor(since: Option<&str>) -> ApiResult<i64> {
    match since {
        None | Some("") => Ok(0),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| ApiError::BadRequest("bad_cursor", format!("“{s}” is not a cursor this centre issued"))),
    }
}

/// The device's tasks that changed since `since`, at most `limit` changes.
pub fn pull(tx: &mut dyn Tx, caller: DeviceCaller, since: i64, limit: usize) -> ApiResult<PullResponse> {
    // Asking for what came after `since`, the phone says it has stored everything up to it. The board reads this to
    // tell whether a phone may still hold a task that was taken from it.
    let issued = tx
        .query_opt("SELECT version FROM staff_feed WHERE staff_id = $1", params![caller.staff.0])?
        .map(|r| r.int("version"))
        .transpose()?
        .unwrap_or(0);
    // A cursor past everything issued to this member is not one the centre gave (a database restored from a
    // backup, a phone that belonged to someone else): the phone must fetch everything again, never skip a gap.
    if since > issued {
        return Err(ApiError::Conflict(
            "cursor_unknown",
            format!("the centre never issued cursor {since} to this phone's team member; pull again from the start"),
        ));
    }
    tx.execute(
        "UPDATE devices SET pulled_to = $2 WHERE device_id = $1 AND pulled_to < $2",
        params![caller.device.to_string(), since],
    )?;
    let page = log::feed_page(tx, caller.staff, since, limit)?;
    let more = page.len() == limit;
    let cursor = page.last().map(|(id, _)| *id).unwrap_or(since);
    // Each task once, in the order of its last change.
    let mut last: BTreeMap<String, i64> = BTreeMap::new();
    for (id, task) in &page {
        last.insert(task.clone(), *id);
    }
    let mut order: Vec<(i64, String)> = last.into_iter().map(|(t, id)| (id, t)).collect();
    order.sort();
    let mut changes = Vec::with_capacity(order.len());
    for (_, task) in order {
        let id: TaskId = task.parse().map_err(ApiError::internal)?;
        let Some((t, st)) = log::load_task(tx, id)? else {
            continue;
        };
        let mine = st.assignee == Some(caller.staff) && st.status != jx_core::TaskStatus::Cancelled;
        if mine {
            let history = log::accepted_events(tx, id)?;
            let sheet = town::sheet(tx, &t)?;
            changes.push(TaskChange::Upsert { sheet: Box::new(sheet), history });
        } else {
            changes.push(TaskChange::Remove { task: id });
        }
    }
    tracing::debug!(device = %caller.device, since, changes = changes.len(), more, "pull page");
    Ok(PullResponse { changes, cursor: cursor.to_string(), more, keyring: crate::proof::keyring(tx)? })
}

fn outcome_name(o: &PushOutcome) -> &str {
    match o {
        PushOutcome::Accepted => "accepted",
        PushOutcome::Duplicate => "duplicate",
        PushOutcome::Rejected { code, .. } => code,
    }
}
