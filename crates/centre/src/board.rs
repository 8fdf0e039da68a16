//! What coordinators look at: tasks by compound, staff and state; progress per compound; the exceptions.

use crate::error::{ApiError, ApiResult};
use crate::log;
use jx_core::event::{Envelope, EventPayload};
use jx_core::model::{ProofRequirement, Task};
use jx_core::state::{TaskState, TaskStatus};
use jx_core::wire::{CompoundProgress, Exceptions, TaskSummary};
use jx_core::{CompoundId, StaffId, TaskId};
use rusqlite::{Connection, params};
use serde::Deserialize;

/// Filters of the task list; all optional.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TaskFilter {
    pub compound: Option<u32>,
    pub staff: Option<u32>,
    pub status: Option<String>,
}

const SUMMARY_SQL: &str = "SELECT t.task_id, t.body, t.state,
    (SELECT count(*) FROM events e JOIN event_blobs eb ON eb.event_id = e.event_id
      WHERE e.task_id = t.task_id AND e.outcome = 'accepted'
        AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = eb.sha256)) AS missing
    FROM tasks t";

fn summary(body: &str, state: &str, missing: u32) -> ApiResult<TaskSummary> {
    let t: Task = serde_json::from_str(body).map_err(ApiError::internal)?;
    let s: TaskState = serde_json::from_str(state).map_err(ApiError::internal)?;
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
        missing_blobs: missing,
    })
}

fn query(conn: &Connection, tail: &str, p: impl rusqlite::Params) -> ApiResult<Vec<TaskSummary>> {
    let mut stmt = conn.prepare(&format!("{SUMMARY_SQL} {tail}"))?;
    let rows = stmt.query_map(p, |r| {
        Ok((
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, u32>(3)?,
        ))
    })?;
    rows.map(|row| {
        let (b, s, m) = row?;
        summary(&b, &s, m)
    })
    .collect()
}

pub fn list(conn: &Connection, f: &TaskFilter) -> ApiResult<Vec<TaskSummary>> {
    if let Some(s) = f
        .status
        .as_deref()
        .filter(|s| TaskStatus::parse(s).is_none())
    {
        return Err(ApiError::BadRequest(
            "bad_status",
            format!("“{s}” is not a task state"),
        ));
    }
    query(
        conn,
        "WHERE (?1 IS NULL OR t.compound = ?1) AND (?2 IS NULL OR t.assignee = ?2) AND (?3 IS NULL OR t.status = ?3)
         ORDER BY t.compound, t.building, t.case_number",
        params![f.compound, f.staff, f.status],
    )
}

pub fn progress(conn: &Connection) -> ApiResult<Vec<CompoundProgress>> {
    let mut stmt = conn.prepare(
        "SELECT c.id, c.name,
           coalesce(sum(t.status IN ('created', 'requested')), 0),
           coalesce(sum(t.status = 'assigned'), 0),
           coalesce(sum(t.status = 'checked_out'), 0),
           coalesce(sum(t.status IN ('delivered', 'collected', 'handed_in')), 0),
           coalesce(sum(t.status IN ('attempt_failed', 'returned')), 0),
           coalesce(sum(t.status = 'cancelled'), 0),
           coalesce(sum(t.conflicts > 0), 0)
         FROM compounds c LEFT JOIN tasks t ON t.compound = c.id GROUP BY c.id ORDER BY c.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(CompoundProgress {
            compound: CompoundId(r.get(0)?),
            name: r.get(1)?,
            unassigned: r.get(2)?,
            assigned: r.get(3)?,
            checked_out: r.get(4)?,
            done: r.get(5)?,
            failed: r.get(6)?,
            cancelled: r.get(7)?,
            conflicts: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What a settled handoff lacks of its task's proof policy (the evidence the device says it captured; whether the
/// photo bytes have arrived is counted separately as missing blobs).
pub fn proof_gaps(task: &Task, handoff: &Envelope) -> Vec<ProofRequirement> {
    let (proof, materials) = match &handoff.payload {
        EventPayload::Delivered { proof } => (proof, None),
        EventPayload::Collected { proof, materials } => (proof, Some(materials)),
        _ => return vec![],
    };
    task.proof
        .requires
        .iter()
        .copied()
        .filter(|r| match r {
            ProofRequirement::PacketScan => proof.packet.is_none(),
            ProofRequirement::ResidentConfirmation => proof.confirmation.is_none(),
            ProofRequirement::HandoffPhoto => proof.photos.is_empty(),
            ProofRequirement::MaterialPhotos => materials
                .is_none_or(|m| m.is_empty() || m.iter().any(|x| x.present && x.photo.is_none())),
            ProofRequirement::AuthorisationSignature => !matches!(
                proof.confirmation,
                Some(jx_core::event::Confirmation::Signature { .. })
            ),
            ProofRequirement::Location => proof.position.is_none(),
        })
        .collect()
}

pub fn exceptions(conn: &mut Connection) -> ApiResult<Exceptions> {
    let failed_attempts = query(
        conn,
        "WHERE t.status = 'attempt_failed' ORDER BY t.compound, t.building",
        [],
    )?;
    let conflicts = query(
        conn,
        "WHERE t.conflicts > 0 ORDER BY t.compound, t.building",
        [],
    )?;
    let settled = query(
        conn,
        "WHERE t.status IN ('delivered', 'collected', 'handed_in') ORDER BY t.compound, t.building",
        [],
    )?;
    let tx = conn.transaction()?;
    let mut missing_proof = Vec::new();
    for s in settled {
        let gaps = if s.missing_blobs > 0 {
            true
        } else {
            let Some((task, _)) = log::load_task(&tx, s.id)? else {
                continue;
            };
            log::accepted_events(&tx, s.id)?
                .iter()
                .filter(|e| {
                    matches!(
                        e.payload,
                        EventPayload::Delivered { .. } | EventPayload::Collected { .. }
                    )
                })
                .any(|e| !proof_gaps(&task, e).is_empty())
        };
        if gaps {
            missing_proof.push(s);
        }
    }
    Ok(Exceptions {
        failed_attempts,
        conflicts,
        missing_proof,
    })
}

/// A task with its state and whole history, for a coordinator.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TaskDetail {
    pub task: Task,
    pub state: TaskState,
    pub history: Vec<Envelope>,
    pub proof_gaps: Vec<ProofRequirement>,
}

pub fn detail(conn: &mut Connection, id: TaskId, staff: Option<StaffId>) -> ApiResult<TaskDetail> {
    let tx = conn.transaction()?;
    let (task, state) = log::load_task(&tx, id)?
        .ok_or_else(|| ApiError::NotFound(format!("task {id} does not exist")))?;
    if staff.is_some_and(|s| state.assignee != Some(s)) {
        return Err(ApiError::Forbidden(
            "not_your_task",
            format!("task {id} is not assigned to you"),
        ));
    }
    let events = log::accepted_events(&tx, id)?;
    let history: Vec<Envelope> = jx_core::state::canonical_order(&events)
        .into_iter()
        .cloned()
        .collect();
    let proof_gaps = history.iter().rev().find_map(|e| {
        matches!(
            e.payload,
            EventPayload::Delivered { .. } | EventPayload::Collected { .. }
        )
        .then(|| proof_gaps(&task, e))
    });
    Ok(TaskDetail {
        task,
        state,
        history,
        proof_gaps: proof_gaps.unwrap_or_default(),
    })
}
