//! What coordinators look at: tasks by compound, staff and state; progress per compound; the exceptions.

use crate::error::{ApiError, ApiResult};
use crate::log;
use crate::log::json;
use crate::params;
use crate::proof;
use crate::sql::{Tx, Value};
use jx_core::event::{Envelope, EventPayload};
use jx_core::model::{StaffHome, Task};
use jx_core::proof::Gap;
use jx_core::state::{TaskState, TaskStatus};
use jx_core::wire::{Board, CompoundProgress, Exceptions, StaffLoad, TaskSummary};
use jx_core::{CompoundId, StaffId, TaskId};
use serde::Deserialize;

/// Filters of the task list; all optional.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TaskFilter {
    pub compound: Option<u32>,
    pub staff: Option<u32>,
    pub status: Option<String>,
}

/// A task's summary columns. `pending` is 1 when the task's latest reassignment took it from someone (who has not
/// had it back since) with a phone in service that has not yet pulled past the change telling it so.
const SUMMARY_SQL: &str = "SELECT t.task_id, t.body, t.state,
    (SELECT count(*) FROM events e JOIN event_blobs eb ON eb.event_id = e.event_id
      WHERE e.task_id = t.task_id AND e.outcome = 'accepted'
        AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = eb.sha256)) AS missing,
    CASE WHEN t.moved_from IS NOT NULL AND (t.assignee IS NULL OR t.assignee <> t.moved_from)
           AND EXISTS (SELECT 1 FROM devices d WHERE d.staff_id = t.moved_from AND d.revoked_at IS NULL
                         AND d.pulled_to < t.moved_change)
         THEN 1 ELSE 0 END AS pending
    FROM tasks t";

fn query(tx: &mut dyn Tx, tail: &str, p: &[Value]) -> ApiResult<Vec<TaskSummary>> {
    tx.query(&format!("{SUMMARY_SQL} {tail}"), p)?
        .iter()
        .map(|r| {
            let t: Task = json(&r.text(1)?)?;
            let s: TaskState = json(&r.text(2)?)?;
            Ok(TaskSummary {
                id: t.id,
                kind: t.kind,
                case_number: t.case_number,
                compound: t.address.compound,
                building: t.address.building,
                status: s.status,
                assignee: s.assignee,
                attempts: s.attempts,
                conflicts: s.conflicts.len() as u32,
                missing_blobs: r.u32(3)?,
                pending_sync: r.int(4)? != 0,
            })
        })
        .collect()
}

pub fn list(tx: &mut dyn Tx, f: &TaskFilter) -> ApiResult<Vec<TaskSummary>> {
    if let Some(s) = f.status.as_deref().filter(|s| TaskStatus::parse(s).is_none()) {
        return Err(ApiError::BadRequest("bad_status", format!("“{s}” is not a task state")));
    }
    query(
        tx,
        "WHERE (CAST($1 AS BIGINT) IS NULL OR t.compound = $1) AND (CAST($2 AS BIGINT) IS NULL OR t.assignee = $2)
           AND (CAST($3 AS TEXT) IS NULL OR t.status = $3)
         ORDER BY t.compound, t.building, t.case_number",
        params![f.compound, f.staff, f.status.clone()],
    )
}

/// One task's summary, as the board shows it.
pub fn summary(tx: &mut dyn Tx, id: TaskId) -> ApiResult<TaskSummary> {
    query(tx, "WHERE t.task_id = $1", params![id.to_string()])?
        .pop()
        .ok_or_else(|| ApiError::NotFound(format!("task {id} does not exist")))
}

/// The evening's board: every compound's counts, every team member's load, and the tasks of the filter (its
/// `status` is not used).
pub fn board(tx: &mut dyn Tx, compound: Option<u32>, staff: Option<u32>) -> ApiResult<Board> {
    Ok(Board {
        compounds: progress(tx)?,
        staff: staff_loads(tx)?,
        tasks: list(tx, &TaskFilter { compound, staff, status: None })?,
    })
}

/// Every team member (not coordinators), by id, with their open, done and failed tasks.
pub fn staff_loads(tx: &mut dyn Tx) -> ApiResult<Vec<StaffLoad>> {
    let count = |cond: &str| format!("CAST(coalesce(sum(CASE WHEN {cond} THEN 1 ELSE 0 END), 0) AS BIGINT)");
    let sql = format!(
        "SELECT s.id, s.login, s.name, s.home_compound, s.home_building, s.capacity, {}, {}, {}
         FROM staff s LEFT JOIN tasks t ON t.assignee = s.id
         WHERE s.role = 'staff'
         GROUP BY s.id, s.login, s.name, s.home_compound, s.home_building, s.capacity ORDER BY s.id",
        count("t.status IN ('assigned', 'checked_out', 'attempt_failed')"),
        count("t.status IN ('delivered', 'collected', 'handed_in')"),
        count("t.status IN ('attempt_failed', 'returned')"),
    );
    tx.query(&sql, params![])?
        .iter()
        .map(|r| {
            let home = match (r.opt_int(3)?, r.opt_int(4)?) {
                (Some(c), Some(b)) => Some(StaffHome {
                    compound: CompoundId(u32::try_from(c).map_err(ApiError::internal)?),
                    building: u16::try_from(b).map_err(ApiError::internal)?,
                }),
                _ => None,
            };
            Ok(StaffLoad {
                staff: StaffId(r.u32(0)?),
                login: r.text(1)?,
                name: r.text(2)?,
                home,
                capacity: u16::try_from(r.int(5)?).map_err(ApiError::internal)?,
                open: r.u32(6)?,
                done: r.u32(7)?,
                failed: r.u32(8)?,
            })
        })
        .collect()
}

pub fn progress(tx: &mut dyn Tx) -> ApiResult<Vec<CompoundProgress>> {
    let count = |cond: &str| format!("CAST(coalesce(sum(CASE WHEN {cond} THEN 1 ELSE 0 END), 0) AS BIGINT)");
    let sql = format!(
        "SELECT c.id, c.name, {}, {}, {}, {}, {}, {}, {}
         FROM compounds c LEFT JOIN tasks t ON t.compound = c.id GROUP BY c.id, c.name ORDER BY c.id",
        count("t.status IN ('created', 'requested')"),
        count("t.status = 'assigned'"),
        count("t.status = 'checked_out'"),
        count("t.status IN ('delivered', 'collected', 'handed_in')"),
        count("t.status IN ('attempt_failed', 'returned')"),
        count("t.status = 'cancelled'"),
        count("t.conflicts > 0"),
    );
    tx.query(&sql, params![])?
        .iter()
        .map(|r| {
            Ok(CompoundProgress {
                compound: CompoundId(r.u32(0)?),
                name: r.text(1)?,
                unassigned: r.u32(2)?,
                assigned: r.u32(3)?,
                checked_out: r.u32(4)?,
                done: r.u32(5)?,
                failed: r.u32(6)?,
                cancelled: r.u32(7)?,
                conflicts: r.u32(8)?,
            })
        })
        .collect()
}

/// The board's exceptions; a handoff more than `far_m` metres outside its compound counts as a proof gap, and a
/// settled task whose proof a coordinator accepted is no longer listed as missing proof.
pub fn exceptions(tx: &mut dyn Tx, far_m: f64) -> ApiResult<Exceptions> {
    let order = "ORDER BY t.compound, t.building";
    // Failed visits still to be rescheduled; a delivery that failed its last allowed visit is listed to return instead.
    let failed_attempts = query(
        tx,
        &format!("WHERE t.status = 'attempt_failed' AND NOT (t.kind = 'delivery' AND t.attempts >= $1) {order}"),
        params![jx_core::state::MAX_DELIVERY_ATTEMPTS],
    )?;
    // Deliveries nobody could hand over in three visits: the packet comes back (scanned in at the counter).
    let to_return = query(
        tx,
        &format!(
            "WHERE t.kind = 'delivery' AND t.attempts >= $1
               AND t.status IN ('assigned', 'checked_out', 'attempt_failed') {order}"
        ),
        params![jx_core::state::MAX_DELIVERY_ATTEMPTS],
    )?;
    let conflicts = query(tx, &format!("WHERE t.conflicts > 0 {order}"), params![])?;
    let settled = query(tx, &format!("WHERE t.status IN ('delivered', 'collected', 'handed_in') {order}"), params![])?;
    let mut missing_proof = Vec::new();
    for s in settled {
        let events = log::accepted_events(tx, s.id)?;
        // A coordinator looked at it and accepted the proof as it stands.
        if events.iter().any(|e| matches!(e.payload, EventPayload::ProofAccepted { .. })) {
            continue;
        }
        let gaps = if s.missing_blobs > 0 {
            true
        } else {
            let Some((task, _)) = log::load_task(tx, s.id)? else { continue };
            let mut any = false;
            for e in &events {
                if !proof::gaps(tx, &task, e, far_m)?.is_empty() {
                    any = true;
                    break;
                }
            }
            any
        };
        if gaps {
            missing_proof.push(s);
        }
    }
    Ok(Exceptions { failed_attempts, conflicts, missing_proof, to_return })
}

/// A task with its state and whole history, for a coordinator.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TaskDetail {
    pub task: Task,
    pub state: TaskState,
    pub history: Vec<Envelope>,
    /// What the last handoff lacks of the task's proof policy, re-checked at the centre (a wrong code, another
    /// task's label, a retired key show here even though the phone let them through).
    pub proof_gaps: Vec<Gap>,
}

pub fn detail(tx: &mut dyn Tx, id: TaskId, staff: Option<StaffId>, far_m: f64) -> ApiResult<TaskDetail> {
    let (task, state) =
        log::load_task(tx, id)?.ok_or_else(|| ApiError::NotFound(format!("task {id} does not exist")))?;
    if staff.is_some_and(|s| state.assignee != Some(s)) {
        return Err(ApiError::Forbidden("not_your_task", format!("task {id} is not assigned to you")));
    }
    let events = log::accepted_events(tx, id)?;
    let history: Vec<Envelope> = jx_core::state::canonical_order(&events).into_iter().cloned().collect();
    let last_handoff = history.iter().rev().find(|e| e.kind().is_handoff());
    let proof_gaps = match last_handoff {
        Some(e) => proof::gaps(tx, &task, e, far_m)?,
        None => vec![],
    };
    Ok(TaskDetail { task, state, history, proof_gaps })
}
