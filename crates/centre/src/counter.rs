//! The counter: a packet label scanned as it leaves the centre with its staff member or comes back, recorded as
//! the coordinator's decision it stands for (checked out, handed in, returned).

use crate::audit::{self, About};
use crate::board;
use crate::error::{ApiError, ApiResult};
use crate::log;
use crate::proof;
use crate::sql::Tx;
use jx_core::event::{Actor, EventPayload};
use jx_core::model::TaskKind;
use jx_core::state::TaskStatus;
use jx_core::token::{TokenError, TokenKind};
use jx_core::wire::{CounterDirection, CounterResult, CounterScan};
use jx_core::{StaffId, TaskId, Timestamp};

/// The note of a delivery's packet returned at the counter.
pub const RETURNED_NOTE: &str = "returned at the counter";

/// The task a scanned code labels, checked against the centre's keys: a packet label of ours, unaltered, signed
/// with a key in force.
pub fn label_task(tx: &mut dyn Tx, code: &str, now: Timestamp) -> ApiResult<TaskId> {
    let token = proof::keyring(tx)?.verify(code, now).map_err(|e| match e {
        TokenError::NotOurs | TokenError::Malformed(_) => {
            ApiError::BadRequest("bad_code", format!("not a packet label of this centre: {e}"))
        }
        TokenError::UnknownKey(_) | TokenError::BadSignature => ApiError::Unprocessable("bad_signature", e.to_string()),
        TokenError::RetiredKey(_) => ApiError::Unprocessable("retired_key", e.to_string()),
        TokenError::WrongKind { .. } | TokenError::WrongTask { .. } => {
            ApiError::Unprocessable("bad_code", e.to_string())
        }
    })?;
    if token.kind != TokenKind::PacketLabel {
        return Err(ApiError::Unprocessable(
            "not_a_label",
            "this is a resident's confirmation code, not a packet label".into(),
        ));
    }
    Ok(token.task)
}

fn wrong_state(task: TaskId, kind: TaskKind, status: TaskStatus, what: &str) -> ApiError {
    ApiError::Conflict("wrong_state", format!("{kind} task {task} is {status}: its packet cannot be {what}"))
}

/// Records what a scan at the counter means for the labelled task, with its audit entry, in the caller's
/// transaction.
pub fn scan(tx: &mut dyn Tx, by: StaffId, scan: &CounterScan, now: Timestamp) -> ApiResult<CounterResult> {
    let id = label_task(tx, &scan.code, now)?;
    let (task, state) =
        log::load_task(tx, id)?.ok_or_else(|| ApiError::NotFound(format!("the label's task {id} does not exist")))?;
    let status = state.status;
    let payload = match scan.direction {
        CounterDirection::Out => {
            if task.kind == TaskKind::Pickup {
                return Err(ApiError::Conflict(
                    "wrong_kind",
                    format!("task {id} is a pickup: its packet is sealed at the door, it is never checked out"),
                ));
            }
            match (status, state.assignee) {
                (TaskStatus::Assigned | TaskStatus::AttemptFailed, Some(staff)) => EventPayload::CheckedOut { staff },
                (TaskStatus::Created | TaskStatus::Assigned | TaskStatus::AttemptFailed, _) => {
                    return Err(ApiError::Conflict("not_assigned", format!("task {id} is not assigned to anyone")));
                }
                _ => return Err(wrong_state(id, task.kind, status, "checked out")),
            }
        }
        CounterDirection::In => match (task.kind, status) {
            (TaskKind::Pickup, TaskStatus::Collected) => EventPayload::HandedIn,
            (TaskKind::Delivery, TaskStatus::CheckedOut | TaskStatus::AttemptFailed) => {
                EventPayload::Returned { note: RETURNED_NOTE.into() }
            }
            _ => return Err(wrong_state(id, task.kind, status, "taken back in")),
        },
    };
    let action = payload.kind();
    let staff = match &payload {
        EventPayload::CheckedOut { staff } => Some(*staff),
        _ => state.assignee,
    };
    log::append_decision(tx, Actor::Coordinator { staff: by }, id, payload, now)?;
    audit::record(tx, now, by, action.as_str(), About { task: Some(id), staff, device: None }, "at the counter")?;
    tracing::info!(task = %id, decision = %action, by = by.0, "counter scan");
    Ok(CounterResult { task: board::summary(tx, id)?, action })
}
