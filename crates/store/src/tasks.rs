//! Tasks on this phone: what the centre sent, the state it folds to with this device's own facts, and the queries
//! the app's screens need (tonight's route by building, one task with its history, the status bar).

use crate::error::{Result, StoreError};
use crate::events::OutboxStatus;
use crate::{OutboxCounts, Store};
use jx_core::event::{Envelope, EventPayload};
use jx_core::model::{Address, TaskKind, TaskSheet};
use jx_core::state::{self, TaskState, TaskStatus};
use jx_core::{CompoundId, StaffId, TaskId, Timestamp};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use std::collections::BTreeMap;

/// One task as a line of tonight's route.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskRow {
    pub id: TaskId,
    pub kind: TaskKind,
    pub address: Address,
    pub status: TaskStatus,
    pub green: bool,
    pub conflicts: u32,
    pub resident_name: String,
    pub service_item_name: String,
}

/// All of a staff member's tasks in one building: one stop of the route.
#[derive(Clone, Debug, PartialEq)]
pub struct BuildingStop {
    pub compound: CompoundId,
    pub building: u16,
    /// Where the building stands, if the centre said.
    pub position: Option<jx_core::geo::LatLng>,
    /// The compound's name, if the centre said.
    pub compound_name: Option<String>,
    pub tasks: Vec<TaskRow>,
}

impl BuildingStop {
    /// Whether any task here is still to be done tonight (assigned or checked out).
    pub fn has_work(&self) -> bool {
        self.tasks.iter().any(|t| matches!(t.status, TaskStatus::Assigned | TaskStatus::CheckedOut))
    }
}

/// One event of a task's history and, for this device's own, where it is in the outbox.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryEntry {
    pub envelope: Envelope,
    pub outbox: Option<OutboxStatus>,
    pub reason: Option<String>,
}

/// Everything the task screen shows.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskDetail {
    pub sheet: TaskSheet,
    pub state: TaskState,
    /// In canonical order.
    pub history: Vec<HistoryEntry>,
}

/// The counts behind the status bar and the sync chip.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusBar {
    pub total: u32,
    pub done: u32,
    pub green_open: u32,
    pub conflicts: u32,
    pub outbox: OutboxCounts,
    pub blobs_waiting: u32,
    pub last_sync: Option<Timestamp>,
}

/// Every known event of a task: the centre's history and this device's own.
pub(crate) fn load_task_events(tx: &Transaction<'_>, task: TaskId) -> Result<Vec<Envelope>> {
    let mut stmt = tx.prepare_cached(
        "SELECT encoded FROM task_history WHERE task_id = ?1 UNION ALL SELECT encoded FROM events WHERE task_id = ?1",
    )?;
    let rows = stmt.query_map([task.to_string()], |r| r.get::<_, Vec<u8>>(0))?;
    rows.map(|b| Envelope::decode(&b?).map_err(StoreError::corrupt)).collect()
}

/// Writes a task's folded state into its row.
pub(crate) fn write_task_state(tx: &Transaction<'_>, s: &TaskState) -> Result<()> {
    let json = serde_json::to_string(s).map_err(StoreError::corrupt)?;
    tx.execute(
        "UPDATE tasks SET status = ?2, assignee = ?3, conflicts = ?4, state = ?5 WHERE task_id = ?1",
        params![s.task.to_string(), s.status.as_str(), s.assignee.map(|a| a.0), s.conflicts.len() as i64, json],
    )?;
    Ok(())
}

fn kind_str(k: TaskKind) -> &'static str {
    match k {
        TaskKind::Delivery => "delivery",
        TaskKind::Pickup => "pickup",
    }
}

impl Store {
    /// Stores a task as the centre sent it, with the events the centre knows of it, and folds in this device's
    /// own. One transaction per task.
    pub fn upsert_task(&mut self, sheet: &TaskSheet, history: &[Envelope], now: Timestamp) -> Result<TaskState> {
        self.upsert_tasks(&[(sheet.clone(), history.to_vec())], now)?
            .pop()
            .ok_or_else(|| StoreError::corrupt("an upsert of one task returned nothing"))
    }

    /// Stores many tasks in one transaction (a first sync of an evening).
    pub fn upsert_tasks(&mut self, tasks: &[(TaskSheet, Vec<Envelope>)], now: Timestamp) -> Result<Vec<TaskState>> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = upsert_in(&tx, tasks, now)?;
        tx.commit()?;
        Ok(out)
    }

    /// Applies one page of a pull in one transaction: the tasks that are (still) this phone's, the ones that left
    /// it, and the cursor to continue from. A page applied twice changes nothing.
    pub fn apply_pull(
        &mut self,
        upserts: &[(TaskSheet, Vec<Envelope>)],
        removals: &[TaskId],
        cursor: &str,
        now: Timestamp,
    ) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        upsert_in(&tx, upserts, now)?;
        for t in removals {
            tx.execute("UPDATE tasks SET removed = 1 WHERE task_id = ?1", [t.to_string()])?;
        }
        tx.execute(
            "INSERT INTO sync_state (key, value) VALUES ('cursor', ?1) ON CONFLICT (key) DO UPDATE SET value = ?1",
            [cursor],
        )?;
        tx.commit()?;
        self.purge_removed()?;
        Ok(())
    }

    /// The centre says this task is no longer this phone's (reassigned away or cancelled). It leaves at once if
    /// the centre has all of this device's facts about it; otherwise it stays, hidden from the route, until then.
    pub fn remove_task(&mut self, task: TaskId) -> Result<()> {
        self.conn.execute("UPDATE tasks SET removed = 1 WHERE task_id = ?1", [task.to_string()])?;
        self.purge_removed()?;
        Ok(())
    }

    /// Deletes removed tasks whose every local fact the centre has acknowledged. Returns how many left.
    pub fn purge_removed(&mut self) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let gone: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT task_id FROM tasks t WHERE removed = 1 AND NOT EXISTS
                   (SELECT 1 FROM events e WHERE e.task_id = t.task_id AND e.outbox != 'acknowledged')",
            )?;
            stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
        };
        for id in &gone {
            tx.execute("DELETE FROM task_history WHERE task_id = ?1", [id])?;
            tx.execute("DELETE FROM tasks WHERE task_id = ?1", [id])?;
        }
        tx.commit()?;
        Ok(gone.len())
    }

    /// Tonight's tasks of `staff`, one stop per building, in compound, building, unit and room order.
    pub fn tonight(&self, staff: StaffId) -> Result<Vec<BuildingStop>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT sheet, status, conflicts FROM tasks WHERE assignee = ?1 AND removed = 0
             ORDER BY compound, building, unit, room",
        )?;
        let rows =
            stmt.query_map([staff.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, u32>(2)?)))?;
        let mut stops: Vec<BuildingStop> = Vec::new();
        for row in rows {
            let (sheet, status, conflicts) = row?;
            let sheet: TaskSheet = serde_json::from_str(&sheet).map_err(StoreError::corrupt)?;
            let status = TaskStatus::parse(&status).ok_or_else(|| StoreError::corrupt(format!("status {status}")))?;
            let a = sheet.task.address.clone();
            let position = sheet.position;
            let compound_name = sheet.compound_name.clone();
            let row = TaskRow {
                id: sheet.task.id,
                kind: sheet.task.kind,
                status,
                green: sheet.green.any(),
                conflicts,
                resident_name: sheet.resident_name,
                service_item_name: sheet.service_item_name,
                address: a.clone(),
            };
            match stops.last_mut() {
                Some(s) if s.compound == a.compound && s.building == a.building => s.tasks.push(row),
                _ => stops.push(BuildingStop {
                    compound: a.compound,
                    building: a.building,
                    position,
                    compound_name,
                    tasks: vec![row],
                }),
            }
        }
        Ok(stops)
    }

    /// The stops with work left, in walking order from `from` (where the staff member is now), offline: after a
    /// skip, the skipped buildings (`later`) go to the end, and so do buildings without a position. With `home`,
    /// the walk ends there. Green-channel stops first if `green_first`.
    pub fn walking_order(
        &self,
        staff: StaffId,
        from: jx_core::geo::LatLng,
        home: Option<jx_core::geo::LatLng>,
        later: &[(CompoundId, u16)],
        green_first: bool,
    ) -> Result<Vec<BuildingStop>> {
        use jx_core::route::{Budget, RoutePlanOptions, Stop, reorder_remaining};
        let (mut now, mut after): (Vec<BuildingStop>, Vec<BuildingStop>) = self
            .tonight(staff)?
            .into_iter()
            .filter(BuildingStop::has_work)
            .partition(|s| s.position.is_some() && !later.contains(&(s.compound, s.building)));
        let stops: Vec<Stop> = now
            .iter()
            .filter_map(|s| {
                Some(Stop {
                    building: (s.compound, s.building),
                    position: s.position?,
                    tasks: s.tasks.iter().map(|t| t.id).collect(),
                    green: s.tasks.iter().any(|t| t.green),
                })
            })
            .collect();
        let opts =
            RoutePlanOptions { return_home: home.is_some(), green_first, budget: Budget::kicks(Budget::DEFAULT_KICKS) };
        let plan = reorder_remaining(from, home.unwrap_or(from), &stops, &opts);
        let mut slots: Vec<Option<BuildingStop>> = now.drain(..).map(Some).collect();
        let mut ordered: Vec<BuildingStop> =
            plan.order.iter().filter_map(|&i| slots.get_mut(i).and_then(Option::take)).collect();
        // Anything the plan did not place (it places all) keeps its place after the planned ones.
        ordered.extend(slots.into_iter().flatten());
        ordered.append(&mut after);
        Ok(ordered)
    }

    /// One task with its whole history.
    pub fn task(&self, task: TaskId) -> Result<Option<TaskDetail>> {
        let Some((sheet, state)) = self
            .conn
            .query_row("SELECT sheet, state FROM tasks WHERE task_id = ?1", [task.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .optional()?
        else {
            return Ok(None);
        };
        let sheet: TaskSheet = serde_json::from_str(&sheet).map_err(StoreError::corrupt)?;
        let state: TaskState = serde_json::from_str(&state).map_err(StoreError::corrupt)?;
        let mut stmt = self.conn.prepare_cached("SELECT encoded FROM task_history WHERE task_id = ?1")?;
        let mut all: Vec<Envelope> = stmt
            .query_map([task.to_string()], |r| r.get::<_, Vec<u8>>(0))?
            .map(|b| Envelope::decode(&b?).map_err(StoreError::corrupt))
            .collect::<Result<_>>()?;
        let own = self.own_events(task)?;
        let outbox: BTreeMap<_, _> = own.iter().map(|o| (o.envelope.id, (o.status, o.reason.clone()))).collect();
        all.extend(own.into_iter().map(|o| o.envelope));
        let history = state::canonical_order(&all)
            .into_iter()
            .map(|e| {
                let (status, reason) = outbox.get(&e.id).cloned().unzip();
                HistoryEntry { envelope: e.clone(), outbox: status, reason: reason.flatten() }
            })
            .collect();
        Ok(Some(TaskDetail { sheet, state, history }))
    }

    /// The exchange about proof on `staff`'s handed-over tasks, task by task in canonical order: the coordinators'
    /// requests and acceptances as pulled, and the proof added (by this phone, or an earlier one of the same staff
    /// member). One pass over the history for the whole route, for its "proof asked" marks.
    pub fn proof_exchanges(&self, staff: StaffId) -> Result<BTreeMap<TaskId, Vec<Envelope>>> {
        let handed_over = "t.assignee = ?1 AND t.removed = 0 AND t.status IN ('delivered', 'collected', 'handed_in')";
        let mut rows: Vec<(String, Vec<u8>)> = Vec::new();
        for sql in [
            format!(
                "SELECT h.task_id, h.encoded FROM task_history h JOIN tasks t ON t.task_id = h.task_id WHERE {handed_over}"
            ),
            format!(
                "SELECT e.task_id, e.encoded FROM events e JOIN tasks t ON t.task_id = e.task_id
                 WHERE e.kind = 'proof_added' AND {handed_over}"
            ),
        ] {
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let found = stmt.query_map([staff.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
            for row in found {
                rows.push(row?);
            }
        }
        let mut by_task: BTreeMap<TaskId, Vec<Envelope>> = BTreeMap::new();
        for (task, bytes) in rows {
            let e = Envelope::decode(&bytes).map_err(StoreError::corrupt)?;
            if matches!(
                e.payload,
                EventPayload::ProofRequested { .. }
                    | EventPayload::ProofAdded { .. }
                    | EventPayload::ProofAccepted { .. }
            ) {
                let task: TaskId = task.parse().map_err(StoreError::corrupt)?;
                by_task.entry(task).or_default().push(e);
            }
        }
        Ok(by_task
            .into_iter()
            .map(|(t, events)| (t, state::canonical_order(&events).into_iter().cloned().collect()))
            .collect())
    }

    /// The counts for the status bar of `staff`'s phone.
    pub fn status_bar(&self, staff: StaffId) -> Result<StatusBar> {
        let (total, done, green_open, conflicts): (u32, u32, u32, u32) = self.conn.query_row(
            "SELECT count(*),
                    coalesce(sum(status IN ('delivered', 'returned', 'collected', 'handed_in', 'cancelled')), 0),
                    coalesce(sum(green AND status IN ('assigned', 'checked_out', 'attempt_failed')), 0),
                    coalesce(sum(conflicts > 0), 0)
             FROM tasks WHERE assignee = ?1 AND removed = 0",
            [staff.0],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let blobs_waiting: u32 = self.conn.query_row(
            "SELECT count(DISTINCT b.sha256) FROM blobs b JOIN event_blobs eb ON eb.sha256 = b.sha256
             WHERE b.uploaded = 0",
            [],
            |r| r.get(0),
        )?;
        Ok(StatusBar {
            total,
            done,
            green_open,
            conflicts,
            outbox: self.outbox_counts()?,
            blobs_waiting,
            last_sync: self.last_sync()?,
        })
    }
}

/// Stores tasks as the centre sent them, inside the caller's transaction, and folds in this device's own facts.
fn upsert_in(tx: &Transaction<'_>, tasks: &[(TaskSheet, Vec<Envelope>)], now: Timestamp) -> Result<Vec<TaskState>> {
    let mut out = Vec::with_capacity(tasks.len());
    for (sheet, history) in tasks {
        let t = &sheet.task;
        let sheet_json = serde_json::to_string(sheet).map_err(StoreError::corrupt)?;
        tx.execute(
            "INSERT INTO tasks (task_id, kind, compound, building, unit, room, assignee, status, green, conflicts,
                                    sheet, state, removed, pulled_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, '', ?7, 0, ?8, '', 0, ?9)
                 ON CONFLICT (task_id) DO UPDATE SET kind = ?2, compound = ?3, building = ?4, unit = ?5, room = ?6,
                     green = ?7, sheet = ?8, removed = 0, pulled_at = ?9",
            params![
                t.id.to_string(),
                kind_str(t.kind),
                t.address.compound.0,
                t.address.building,
                t.address.unit,
                t.address.room,
                sheet.green.any(),
                sheet_json,
                now.millis()
            ],
        )?;
        {
            let mut ins = tx.prepare_cached(
                "INSERT OR IGNORE INTO task_history (event_id, task_id, at, encoded) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for e in history.iter().filter(|e| e.task == t.id) {
                ins.execute(params![e.id.to_string(), t.id.to_string(), e.at.millis(), e.encode()])?;
            }
        }
        let known = load_task_events(tx, t.id)?;
        let folded = state::fold(t.id, t.kind, &known);
        write_task_state(tx, &folded)?;
        out.push(folded);
    }
    Ok(out)
}
