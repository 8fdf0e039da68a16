//! The centre's side of geo: an assignment proposal for the evening's open tasks, applying one, and a staff
//! member's walking route. The algorithms are `jx_core::assign` and `jx_core::route`; this module only loads their
//! inputs from the database and writes decisions through the event log.

use crate::error::{ApiError, ApiResult};
use crate::sql::Tx;
use crate::{log, params, town};
use jx_core::assign::{AssignInput, Candidate, Proposal, TaskToPlace, propose};
use jx_core::event::{Actor, EventPayload};
use jx_core::geo::LatLng;
use jx_core::model::{GreenChannel, StaffHome, Task};
use jx_core::route::{Budget, RoutePlanOptions, group_into_stops, plan_route};
use jx_core::{CompoundId, StaffId, TaskId, TaskStatus, Timestamp};
use serde::{Deserialize, Serialize};

/// Statuses of tasks still to be walked to.
const OPEN: &str = "('assigned', 'checked_out', 'attempt_failed')";
/// Statuses of tasks nobody has yet.
const UNASSIGNED: &str = "('created', 'requested')";

fn staff_candidates(tx: &mut dyn Tx, unavailable: &[StaffId]) -> ApiResult<Vec<Candidate>> {
    tx.query(
        "SELECT id, home_compound, home_building, capacity FROM staff WHERE role = 'staff' ORDER BY id",
        params![],
    )?
    .iter()
    .map(|r| {
        let id = StaffId(r.u32(0)?);
        let home = match (r.opt_int(1)?, r.opt_int(2)?) {
            (Some(c), Some(b)) => Some(StaffHome {
                compound: CompoundId(u32::try_from(c).map_err(ApiError::internal)?),
                building: u16::try_from(b).map_err(ApiError::internal)?,
            }),
            _ => None,
        };
        Ok(Candidate {
            id,
            home,
            capacity: u16::try_from(r.int(3)?).map_err(ApiError::internal)?,
            available: !unavailable.contains(&id),
            already_assigned: 0,
        })
    })
    .collect()
}

/// A proposal for every task nobody has yet. Tasks already assigned and still open stay with their staff member
/// (as pins: they count toward that person's load).
pub fn proposal(tx: &mut dyn Tx, unavailable: &[StaffId]) -> ApiResult<Proposal> {
    let compounds = town::compounds(tx)?;
    let staff = staff_candidates(tx, unavailable)?;
    let mut tasks = Vec::new();
    let sql = format!(
        "SELECT body, assignee, status FROM tasks WHERE status IN {UNASSIGNED} OR status IN {OPEN} ORDER BY task_id"
    );
    for r in tx.query(&sql, params![])? {
        let task: Task = log::json(&r.text(0)?)?;
        let pinned = r.opt_int(1)?.map(|s| u32::try_from(s).map(StaffId)).transpose().map_err(ApiError::internal)?;
        tasks.push(TaskToPlace { pinned, ..TaskToPlace::from_task(&task) });
    }
    Ok(propose(&AssignInput { compounds: &compounds, tasks: &tasks, staff: &staff }))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub assigned: usize,
    /// Tasks left as they were, and why (taken meanwhile, no longer open, not a team member).
    pub skipped: Vec<(TaskId, String)>,
}

/// Assigns each task to its staff member, one decision per task, in one transaction. A task that is no longer
/// unassigned (someone took it since the proposal was made) is skipped and reported, not reassigned.
pub fn apply(tx: &mut dyn Tx, by: StaffId, items: &[(TaskId, StaffId)], at: Timestamp) -> ApiResult<Applied> {
    let mut out = Applied { assigned: 0, skipped: vec![] };
    for (task, staff) in items {
        let role = tx.query_opt("SELECT role FROM staff WHERE id = $1", params![staff.0])?;
        if role.map(|r| r.text(0)).transpose()?.as_deref() != Some("staff") {
            out.skipped.push((*task, format!("{staff} is not a team member")));
            continue;
        }
        let Some((_, state)) = log::load_task(tx, *task)? else {
            out.skipped.push((*task, "no such task".into()));
            continue;
        };
        if state.assignee.is_some() || !matches!(state.status, TaskStatus::Created | TaskStatus::Requested) {
            out.skipped.push((*task, format!("it is {} now", state.status.as_str())));
            continue;
        }
        log::append_decision(
            tx,
            Actor::Coordinator { staff: by },
            *task,
            EventPayload::Assigned { staff: *staff },
            at,
        )?;
        let about = crate::audit::About { task: Some(*task), staff: Some(*staff), device: None };
        crate::audit::record(tx, at, by, "assigned", about, "from a proposal")?;
        out.assigned += 1;
    }
    Ok(out)
}

/// One stop of a walking route: a building and the tasks there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteStop {
    pub compound: CompoundId,
    pub building: u16,
    pub position: LatLng,
    pub tasks: Vec<TaskId>,
    pub green: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffRoute {
    pub staff: StaffId,
    /// Where the walk starts (the staff member's home building; the first stop if it is not on the map).
    pub start: Option<LatLng>,
    pub stops: Vec<RouteStop>,
    pub walk_m: f64,
    /// Open tasks whose building is not on the map.
    pub unplaced: Vec<TaskId>,
}

/// A staff member's open tasks as stops in walking order from their home building.
pub fn route(tx: &mut dyn Tx, staff: StaffId, return_home: bool, green_first: bool) -> ApiResult<StaffRoute> {
    let home = tx
        .query_opt("SELECT home_compound, home_building FROM staff WHERE id = $1", params![staff.0])?
        .ok_or_else(|| ApiError::NotFound(format!("no staff member {staff}")))?;
    let compounds = town::compounds(tx)?;
    let home_at = match (home.opt_int(0)?, home.opt_int(1)?) {
        (Some(c), Some(b)) => compounds
            .iter()
            .find(|x| i64::from(x.id.0) == c)
            .and_then(|x| x.buildings.iter().find(|y| i64::from(y.number) == b))
            .map(|y| y.position),
        _ => None,
    };
    let sql = format!(
        "SELECT t.body, r.green FROM tasks t JOIN residents r ON r.id = t.resident
         WHERE t.assignee = $1 AND t.status IN {OPEN} ORDER BY t.task_id"
    );
    let mut items = Vec::new();
    for r in tx.query(&sql, params![staff.0])? {
        let task: Task = log::json(&r.text(0)?)?;
        let green: GreenChannel = log::json(&r.text(1)?)?;
        items.push((task.id, task.address, green.any()));
    }
    let grouped = group_into_stops(&items, &compounds);
    let start = home_at.or_else(|| grouped.stops.first().map(|s| s.position));
    let (order, walk_m) = match start {
        Some(at) => {
            let opts = RoutePlanOptions { return_home, green_first, budget: Budget::kicks(Budget::DEFAULT_KICKS) };
            let plan = plan_route(at, &grouped.stops, &opts);
            (plan.order, plan.walk_m)
        }
        None => (vec![], 0.0),
    };
    let stops = order
        .into_iter()
        .filter_map(|i| grouped.stops.get(i))
        .map(|s| RouteStop {
            compound: s.building.0,
            building: s.building.1,
            position: s.position,
            tasks: s.tasks.clone(),
            green: s.green,
        })
        .collect();
    Ok(StaffRoute { staff, start, stops, walk_m, unplaced: grouped.unplaced })
}
/// Assigns every unassigned task by the automatic proposal, as the first coordinator: the demo evening as it
/// stands once a coordinator has pressed "assign".
pub fn assign_demo(tx: &mut dyn Tx, at: Timestamp) -> ApiResult<()> {
    let by = tx
        .query_opt("SELECT id FROM staff WHERE role = 'coordinator' ORDER BY id LIMIT 1", params![])?
        .map(|r| r.int(0))
        .transpose()?
        .ok_or_else(|| ApiError::internal("the demo town has no coordinator"))?;
    let proposal = proposal(tx, &[])?;
    let items: Vec<_> = proposal.assignments.iter().map(|a| (a.task, a.staff)).collect();
    apply(tx, StaffId(u32::try_from(by).map_err(ApiError::internal)?), &items, at)?;
    Ok(())
}
