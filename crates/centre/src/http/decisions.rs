//! `/tasks/{task}/decisions` and `/assign`: a coordinator's decisions about one task, the evening's assignment
//! proposal and applying it, and a team member's walking route.

use super::extract::{ApiJson, ApiQuery, parse_staff, parse_task};
use super::route::Route;
use crate::auth::{Caller, Coordinator};
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::{decisions, geo};
use axum::Json;
use axum::extract::{Path, State};
use jx_core::model::Role;
use jx_core::wire::Decision;
use jx_core::{StaffId, TaskId};
use serde::Deserialize;

pub fn routes() -> Vec<Route> {
    vec![
        Route::post("/api/v1/tasks/{task}/decisions", decide),
        Route::post("/api/v1/assign/proposal", assign_proposal),
        Route::post("/api/v1/assign/apply", assign_apply),
        Route::get("/api/v1/staff/{staff}/route", staff_route),
    ]
}

async fn decide(
    State(st): State<AppState>,
    c: Coordinator,
    Path(task): Path<String>,
    ApiJson(decision): ApiJson<Decision>,
) -> ApiResult<Json<jx_core::TaskState>> {
    let id = parse_task(&task)?;
    st.db.call(move |tx| decisions::decide(tx, c.staff, id, decision)).await.map(Json)
}

#[derive(Debug, Default, Deserialize)]
struct ProposalRequest {
    /// Team members not working tonight.
    #[serde(default)]
    unavailable: Vec<StaffId>,
}

/// A proposal for tonight's unassigned tasks: residents first, balanced, the rest to the nearest with room.
async fn assign_proposal(
    State(st): State<AppState>,
    _c: Coordinator,
    ApiJson(req): ApiJson<ProposalRequest>,
) -> ApiResult<Json<jx_core::assign::Proposal>> {
    st.db.call(move |tx| geo::proposal(tx, &req.unavailable).map(Json)).await
}

#[derive(Debug, Deserialize)]
struct ApplyItem {
    task: TaskId,
    staff: StaffId,
}

#[derive(Debug, Deserialize)]
struct ApplyRequest {
    assignments: Vec<ApplyItem>,
}

/// Applies a (possibly edited) proposal: one assignment decision per task, in one transaction.
async fn assign_apply(
    State(st): State<AppState>,
    c: Coordinator,
    ApiJson(req): ApiJson<ApplyRequest>,
) -> ApiResult<Json<geo::Applied>> {
    let items: Vec<(TaskId, StaffId)> = req.assignments.iter().map(|a| (a.task, a.staff)).collect();
    let applied = st.db.call(move |tx| geo::apply(tx, c.staff, &items, now())).await?;
    tracing::info!(by = c.staff.0, assigned = applied.assigned, skipped = applied.skipped.len(), "proposal applied");
    Ok(Json(applied))
}

#[derive(Debug, Deserialize)]
struct RouteQuery {
    return_home: Option<bool>,
    green_first: Option<bool>,
}

/// A staff member's open tasks in walking order (coordinators; staff for themselves).
async fn staff_route(
    State(st): State<AppState>,
    caller: Caller,
    Path(staff): Path<String>,
    ApiQuery(q): ApiQuery<RouteQuery>,
) -> ApiResult<Json<geo::StaffRoute>> {
    let staff = parse_staff(&staff)?;
    match caller {
        Caller::Session { role: Role::Coordinator, .. } => {}
        Caller::Session { staff: me, .. } | Caller::Device { staff: me, .. } if me == staff => {}
        _ => return Err(ApiError::Forbidden("not_your_route", format!("the route of {staff} is not yours"))),
    }
    let (home, green) = (q.return_home.unwrap_or(false), q.green_first.unwrap_or(true));
    st.db.call(move |tx| geo::route(tx, staff, home, green).map(Json)).await
}
