//! The task event log at the centre: appending events, folding a task's state, and feeding the pull changes that
//! tell each phone what moved. Every function here runs inside the caller's transaction.
//!
//! With many writers at once (PostgreSQL, several replicas) two rules keep this right:
//! - a task is changed only under its row lock ([`lock_task`]), taken before it is read, so no fold is computed
//!   from events another transaction is about to add to;
//! - each staff member's feed is numbered by a version bumped under the lock of their `staff_feed` row
//!   ([`tell`]), so a change with a larger version never commits before one with a smaller: a phone whose cursor
//!   has passed a version has seen everything below it. Locks are taken in one order (actor chain, then tasks by
//!   id, then feeds by staff id); a deadlock PostgreSQL breaks anyway comes back as a retry.

use crate::error::{ApiError, ApiResult};
use crate::params;
use crate::sql::{Backend, Tx};
use jx_core::bytes::Sha256;
use jx_core::event::{Actor, Envelope, EventPayload};
use jx_core::model::{Task, TaskKind};
use jx_core::state::{self, TaskState};
use jx_core::{EventId, StaffId, TaskId, Timestamp};

/// A stable text key for an actor's chain.
pub fn actor_key(actor: &Actor) -> String {
    match actor {
        Actor::Device { device, .. } => format!("device:{device}"),
        Actor::Coordinator { staff } => format!("coordinator:{}", staff.0),
        Actor::Centre => "centre".into(),
    }
}

pub fn json<T: serde::de::DeserializeOwned>(text: &str) -> ApiResult<T> {
    serde_json::from_str(text).map_err(ApiError::internal)
}

pub fn to_json<T: serde::Serialize>(v: &T) -> ApiResult<String> {
    serde_json::to_string(v).map_err(ApiError::internal)
}

/// Locks the task's row until the transaction ends (on SQLite the one connection is the lock already).
pub fn lock_task(tx: &mut dyn Tx, task: TaskId) -> ApiResult<()> {
    if tx.backend() == Backend::Postgres {
        tx.query("SELECT 1 FROM tasks WHERE task_id = $1 FOR UPDATE", params![task.to_string()])?;
    }
    Ok(())
}

/// Queues a change of `task` for `staff`'s phones: the next version of that member's feed. Returns the version.
pub fn tell(tx: &mut dyn Tx, staff: StaffId, task: &str) -> ApiResult<i64> {
    let version = tx
        .query_one(
            "INSERT INTO staff_feed (staff_id, version) VALUES ($1, 1)
             ON CONFLICT (staff_id) DO UPDATE SET version = staff_feed.version + 1
             RETURNING version",
            params![staff.0],
        )?
        .int("version")?;
    tx.execute(
        "INSERT INTO changes (staff_id, task_id, version) VALUES ($1, $2, $3)",
        params![staff.0, task, version],
    )?;
    Ok(version)
}

/// The open tasks of `resident` with their assignees: whose phones must hear when the resident's household card or
/// family members change.
pub fn open_tasks_of(tx: &mut dyn Tx, resident: jx_core::ResidentId) -> ApiResult<Vec<(StaffId, String)>> {
    tx.query(
        "SELECT assignee, task_id FROM tasks
         WHERE resident = $1 AND assignee IS NOT NULL AND status IN ('assigned', 'checked_out', 'attempt_failed')",
        params![resident.0],
    )?
    .iter()
    .map(|r| Ok((StaffId(r.u32("assignee")?), r.text("task_id")?)))
    .collect()
}

/// The changes of `staff`'s feed after version `since`, at most `limit`, oldest first: `(version, task)`.
pub fn feed_page(tx: &mut dyn Tx, staff: StaffId, since: i64, limit: usize) -> ApiResult<Vec<(i64, String)>> {
    tx.query(
        "SELECT version, task_id FROM changes WHERE staff_id = $1 AND version > $2 ORDER BY version LIMIT $3",
        params![staff.0, since, limit],
    )?
    .iter()
    .map(|r| Ok((r.int("version")?, r.text("task_id")?)))
    .collect()
}

/// [`tell`] each `(staff, task)`, in the lock order: by staff id.
pub fn tell_all(tx: &mut dyn Tx, mut changes: Vec<(StaffId, String)>) -> ApiResult<()> {
    changes.sort();
    for (staff, task) in changes {
        tell(tx, staff, &task)?;
    }
    Ok(())
}

pub fn load_task(tx: &mut dyn Tx, task: TaskId) -> ApiResult<Option<(Task, TaskState)>> {
    tx.query_opt("SELECT body, state FROM tasks WHERE task_id = $1", params![task.to_string()])?
        .map(|r| Ok((json(&r.text(0)?)?, json(&r.text(1)?)?)))
        .transpose()
}

/// How many facts devices have sent about `task` (any outcome), and the time of its latest accepted event.
pub fn ingest_counts(tx: &mut dyn Tx, task: TaskId) -> ApiResult<(i64, Option<i64>)> {
    let r = tx.query_one("SELECT device_events, last_at FROM tasks WHERE task_id = $1", params![task.to_string()])?;
    Ok((r.int("device_events")?, r.opt_int("last_at")?))
}

/// Every accepted event of a task.
pub fn accepted_events(tx: &mut dyn Tx, task: TaskId) -> ApiResult<Vec<Envelope>> {
    tx.query("SELECT encoded FROM events WHERE task_id = $1 AND outcome = 'accepted'", params![task.to_string()])?
        .iter()
        .map(|r| Envelope::decode(&r.bytes(0)?).map_err(ApiError::internal))
        .collect()
}

/// Stores an event with its outcome.
pub fn insert_event(
    tx: &mut dyn Tx,
    e: &Envelope,
    accepted: bool,
    reason: Option<&str>,
    now: Timestamp,
) -> ApiResult<()> {
    tx.execute(
        "INSERT INTO events (event_id, task_id, actor, seq, at, kind, encoded, outcome, reason, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        params![
            e.id.to_string(),
            e.task.to_string(),
            actor_key(&e.actor),
            e.seq as i64,
            e.at.millis(),
            e.kind().as_str(),
            e.encode(),
            if accepted { "accepted" } else { "rejected" },
            reason,
            now.millis()
        ],
    )?;
    // The task's counts for ingest: facts from devices (any outcome), and the latest accepted time.
    let from_device = i64::from(matches!(e.actor, Actor::Device { .. }));
    tx.execute(
        "UPDATE tasks SET device_events = device_events + $2,
           last_at = CASE WHEN $3 = 1 AND (last_at IS NULL OR last_at < $4) THEN $4 ELSE last_at END
         WHERE task_id = $1",
        params![e.task.to_string(), from_device, i64::from(accepted), e.at.millis()],
    )?;
    if accepted {
        for b in e.payload.blobs() {
            tx.execute(
                "INSERT INTO event_blobs (event_id, sha256) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                params![e.id.to_string(), b.to_hex()],
            )?;
        }
    }
    Ok(())
}

/// Re-folds a task from its accepted events, stores the state, and records who must hear of the change: the
/// assignee (the task is theirs) and a former assignee (it left them).
pub fn refold(tx: &mut dyn Tx, task: TaskId, kind: TaskKind, before: &TaskState) -> ApiResult<TaskState> {
    let events = accepted_events(tx, task)?;
    store_state(tx, task, before, state::fold(task, kind, &events))
}

/// Stores `after`, a task's state folded by the caller from every accepted event, and records who must hear of the
/// change (as [`refold`]); for a caller that has just folded the history itself, so it is not folded twice.
pub fn store_state(tx: &mut dyn Tx, task: TaskId, before: &TaskState, after: TaskState) -> ApiResult<TaskState> {
    let (after, told) = store_state_untold(tx, task, before, after)?;
    tell_all(tx, told)?;
    Ok(after)
}

/// [`store_state`], leaving the telling to the caller: who must hear of the change comes back, for a caller that
/// changes a task many times in one transaction (a push) to tell each once, at the end.
pub fn store_state_untold(
    tx: &mut dyn Tx,
    task: TaskId,
    before: &TaskState,
    after: TaskState,
) -> ApiResult<(TaskState, Vec<(StaffId, String)>)> {
    tx.execute(
        "UPDATE tasks SET status = $2, assignee = $3, attempts = $4, conflicts = $5, state = $6 WHERE task_id = $1",
        params![
            task.to_string(),
            after.status.as_str(),
            after.assignee.map(|s| s.0),
            after.attempts,
            after.conflicts.len(),
            to_json(&after)?
        ],
    )?;
    // Everyone the task was ever assigned to, written when it comes to them.
    if let Some(s) = after.assignee.filter(|s| before.assignee != Some(*s)) {
        tx.execute(
            "INSERT INTO task_assignees (task_id, staff_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            params![task.to_string(), s.0],
        )?;
    }
    let mut told: Vec<(StaffId, String)> = after.assignee.into_iter().map(|s| (s, task.to_string())).collect();
    if let Some(b) = before.assignee.filter(|b| Some(*b) != after.assignee) {
        told.push((b, task.to_string()));
    }
    Ok((after, told))
}

/// A coordinator's (or the centre's) decision about a task, appended to that actor's chain at the centre's
/// hybrid-logical time. Refused with 409 if the state machine says it cannot happen.
pub fn append_decision(
    tx: &mut dyn Tx,
    actor: Actor,
    task: TaskId,
    payload: EventPayload,
    now: Timestamp,
) -> ApiResult<TaskState> {
    let key = actor_key(&actor);
    // The actor's chain first, locked (a new chain starts at nothing), then the task: the lock order.
    let chain = tx.query_one(
        "INSERT INTO actor_chains (actor, last_seq, last_hash) VALUES ($1, 0, $2)
         ON CONFLICT (actor) DO UPDATE SET last_seq = actor_chains.last_seq
         RETURNING last_seq, last_hash",
        params![&key, Sha256::ZERO.to_hex()],
    )?;
    let seq = chain.int("last_seq")? as u64 + 1;
    let prev = Sha256::from_hex(&chain.text("last_hash")?).map_err(ApiError::internal)?;
    lock_task(tx, task)?;
    let (t, before) = load_task(tx, task)?.ok_or_else(|| ApiError::NotFound(format!("task {task} does not exist")))?;
    let seen = tx.query_one("SELECT max(at) FROM events WHERE task_id = $1", params![task.to_string()])?.opt_int(0)?;
    let mut random = [0u8; 10];
    getrandom::fill(&mut random).map_err(ApiError::internal)?;
    let envelope = Envelope {
        id: EventId::v7(now.millis().max(0) as u64, random),
        task,
        actor,
        seq,
        prev,
        at: Timestamp::next_after(now, seen.map(Timestamp)),
        payload,
        signature: None,
    };
    before.apply(&envelope).map_err(|e| ApiError::Conflict("impossible_transition", e.to_string()))?;
    insert_event(tx, &envelope, true, None, now)?;
    tx.execute(
        "INSERT INTO actor_chains (actor, last_seq, last_hash) VALUES ($1, $2, $3)
         ON CONFLICT (actor) DO UPDATE SET last_seq = $2, last_hash = $3",
        params![key, seq as i64, envelope.chain_hash().to_hex()],
    )?;
    let after = refold(tx, task, t.kind, &before)?;
    if matches!(envelope.payload, EventPayload::Reassigned { .. }) {
        remember_move(tx, task, before.assignee.filter(|b| Some(*b) != after.assignee))?;
    }
    Ok(after)
}

/// Remembers the task's latest reassignment: whom it moved away from (none if it moved nobody), and the change
/// [`refold`] has just queued for that person's phones, so the board can tell whether they have pulled it yet.
fn remember_move(tx: &mut dyn Tx, task: TaskId, from: Option<StaffId>) -> ApiResult<()> {
    tx.execute(
        "UPDATE tasks SET moved_from = $2,
           moved_change = (SELECT max(version) FROM changes WHERE staff_id = $2 AND task_id = $1)
         WHERE task_id = $1",
        params![task.to_string(), from.map(|s| s.0)],
    )?;
    Ok(())
}
