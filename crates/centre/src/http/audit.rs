//! `/audit`: who did what, by task or by person.

use super::extract::{ApiQuery, parse_task};
use super::route::Route;
use crate::audit;
use crate::auth::Coordinator;
use crate::error::ApiResult;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use jx_core::StaffId;
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![Route::get("/api/v1/audit", audit_log)]
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    task: Option<String>,
    /// A staff member: what they did and what was done to them.
    staff: Option<u32>,
    limit: Option<usize>,
}

/// The audit log, newest first, by task or by person (coordinators).
async fn audit_log(
    State(st): State<AppState>,
    _c: Coordinator,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<audit::AuditEntry>>> {
    let task = q.task.as_deref().map(parse_task).transpose()?;
    let limit = q.limit.unwrap_or(200).min(5_000);
    st.db.call(move |tx| audit::query(tx, task, q.staff.map(StaffId), limit).map(Json)).await
}
