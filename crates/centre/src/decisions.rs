//! Coordinators' decisions about a task (assign, reassign, check out, hand in, return, cancel, accept a conflict,
//! ask for or accept proof): checked, appended to the task's log as the coordinator's event, and audited.
//!
//! Domain layer: uses storage, the task log and the audit log; never the HTTP layer.

use crate::audit::{self, About};
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::log;
use crate::sql::Tx;
use jx_core::event::{Actor, Envelope, EventPayload};
use jx_core::state::ConflictKind;
use jx_core::wire::Decision;
use jx_core::{EventId, StaffId, TaskId, TaskState};

/// Coordinator `by` decides `decision` about task `id`; returns the task's new state.
pub fn decide(tx: &mut dyn Tx, by: StaffId, id: TaskId, decision: Decision) -> ApiResult<TaskState> {
    let payload = match decision {
        Decision::Assign { staff } | Decision::Reassign { staff } => {
            let role = tx.query_opt("SELECT role FROM staff WHERE id = $1", crate::params![staff.0])?;
            if role.map(|r| r.text(0)).transpose()?.as_deref() != Some("staff") {
                return Err(ApiError::BadRequest("bad_staff", format!("{staff} is not a team member")));
            }
            if matches!(decision, Decision::Assign { .. }) {
                EventPayload::Assigned { staff }
            } else {
                EventPayload::Reassigned { staff }
            }
        }
        Decision::CheckOut => {
            let (_, s) =
                log::load_task(tx, id)?.ok_or_else(|| ApiError::NotFound(format!("task {id} does not exist")))?;
            let staff = s
                .assignee
                .ok_or_else(|| ApiError::Conflict("not_assigned", format!("task {id} is not assigned to anyone")))?;
            EventPayload::CheckedOut { staff }
        }
        Decision::HandIn => EventPayload::HandedIn,
        Decision::Return { note } => EventPayload::Returned { note },
        Decision::Cancel { reason } => EventPayload::Cancelled { reason },
        Decision::AcceptConflict { event, note } => {
            let staff = conflict_staff(tx, id, event)?;
            EventPayload::ConflictAccepted { event, staff, note }
        }
        Decision::AskForProof { note } => {
            handed_over(tx, id)?;
            EventPayload::ProofRequested { note }
        }
        Decision::AcceptProof { note } => {
            handed_over(tx, id)?;
            EventPayload::ProofAccepted { note }
        }
    };
    let kind = payload.kind();
    let about = About {
        task: Some(id),
        staff: match &payload {
            EventPayload::Assigned { staff }
            | EventPayload::Reassigned { staff }
            | EventPayload::CheckedOut { staff } => Some(*staff),
            EventPayload::ConflictAccepted { staff, .. } => *staff,
            _ => None,
        },
        device: None,
    };
    let at = now();
    let state = log::append_decision(tx, Actor::Coordinator { staff: by }, id, payload, at)?;
    audit::record(tx, at, by, kind.as_str(), about, "")?;
    tracing::info!(task = %id, decision = %kind, by = by.0, "coordinator decision");
    Ok(state)
}

/// Refuses, with a clear reason, a decision about the proof of task `id` before its packet was handed over.
fn handed_over(tx: &mut dyn Tx, id: TaskId) -> ApiResult<()> {
    let (_, s) = log::load_task(tx, id)?.ok_or_else(|| ApiError::NotFound(format!("task {id} does not exist")))?;
    if s.status.is_handed_over() {
        return Ok(());
    }
    Err(ApiError::Conflict(
        "not_settled",
        format!("task {id} is {}: proof is asked for or accepted only after a handoff", s.status),
    ))
}

/// Whom accepting the conflict of `event` on task `id` makes the assignee: for a fact from someone who was not the
/// assignee, the staff member whose phone recorded it; otherwise nobody. Refused if `event` is not a conflict.
fn conflict_staff(tx: &mut dyn Tx, id: TaskId, event: EventId) -> ApiResult<Option<StaffId>> {
    let (_, s) = log::load_task(tx, id)?.ok_or_else(|| ApiError::NotFound(format!("task {id} does not exist")))?;
    let conflict = s.conflicts.iter().find(|c| c.event == event).ok_or_else(|| {
        ApiError::Conflict("not_a_conflict", format!("event {event} is not among the conflicts of task {id}"))
    })?;
    if !matches!(conflict.kind, ConflictKind::NotAssignee { .. }) {
        return Ok(None);
    }
    let recorded = tx
        .query_opt(
            "SELECT encoded FROM events WHERE event_id = $1 AND task_id = $2 AND outcome = 'accepted'",
            crate::params![event.to_string(), id.to_string()],
        )?
        .ok_or_else(|| ApiError::internal(format!("the conflicting event {event} is not stored")))?;
    let e = Envelope::decode(&recorded.bytes(0)?).map_err(ApiError::internal)?;
    Ok(e.actor.device_staff())
}
