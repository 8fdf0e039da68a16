//! The audit log: who did what, when — every coordinator action (import, assign, reassign, check-out, hand-in,
//! return, cancel, accepting a conflict, asking for proof, counter scans, key rotation) and every device event
//! (enrolment, revocation), written in the same transaction as the action itself, append-only, queryable by task
//! and by person. It names people by id and tasks by id, never a resident's data.

use crate::error::{ApiError, ApiResult};
use crate::params;
use crate::sql::Tx;
use jx_core::{DeviceId, StaffId, TaskId, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    /// Who acted (a coordinator, or the staff member enrolling a phone).
    pub actor: StaffId,
    pub action: String,
    pub task: Option<TaskId>,
    /// The staff member acted upon (assigned to, whose device).
    pub staff: Option<StaffId>,
    pub device: Option<DeviceId>,
    pub detail: String,
}

/// What an entry is about, besides its actor and action.
#[derive(Clone, Copy, Debug, Default)]
pub struct About {
    pub task: Option<TaskId>,
    pub staff: Option<StaffId>,
    pub device: Option<DeviceId>,
}

pub fn record(
    tx: &mut dyn Tx,
    at: Timestamp,
    actor: StaffId,
    action: &str,
    about: About,
    detail: &str,
) -> ApiResult<()> {
    tx.execute(
        "INSERT INTO audit (at, actor, action, task_id, staff_id, device_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![
            at.millis(),
            actor.0,
            action,
            about.task.map(|t| t.to_string()),
            about.staff.map(|s| s.0),
            about.device.map(|d| d.to_string()),
            detail
        ],
    )?;
    Ok(())
}

/// Entries about a task, or by or about a person (as actor or as the staff member acted upon), newest first.
pub fn query(
    tx: &mut dyn Tx,
    task: Option<TaskId>,
    person: Option<StaffId>,
    limit: usize,
) -> ApiResult<Vec<AuditEntry>> {
    // Only the filters given, so every parameter has a column to take its type from (PostgreSQL infers them).
    let mut conds = Vec::new();
    let mut args: Vec<crate::sql::Value> = Vec::new();
    if let Some(t) = task {
        args.push(t.to_string().into());
        conds.push(format!("task_id = ${}", args.len()));
    }
    if let Some(p) = person {
        args.push(p.0.into());
        conds.push(format!("(actor = ${n} OR staff_id = ${n})", n = args.len()));
    }
    args.push(limit.into());
    let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
    let rows = tx.query(
        &format!(
            "SELECT audit_id, at, actor, action, task_id, staff_id, device_id, detail FROM audit {filter}
             ORDER BY audit_id DESC LIMIT ${}",
            args.len()
        ),
        &args,
    )?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.int(0)?,
                at: Timestamp(r.int(1)?),
                actor: StaffId(r.u32(2)?),
                action: r.text(3)?,
                task: parse_opt(r.opt_text(4)?)?,
                staff: r.opt_int(5)?.map(|s| u32::try_from(s).map(StaffId)).transpose().map_err(ApiError::internal)?,
                device: parse_opt(r.opt_text(6)?)?,
                detail: r.text(7)?,
            })
        })
        .collect()
}

fn parse_opt<T: std::str::FromStr>(s: Option<String>) -> ApiResult<Option<T>>
where
    T::Err: std::fmt::Display,
{
    s.map(|s| s.parse().map_err(ApiError::internal)).transpose()
}
