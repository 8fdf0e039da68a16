//! The task state machine: a task's state is the fold of its events.
//!
//! ## Order
//! Facts arrive at the centre in any order: a phone may sync a week late. [`fold`] therefore never depends on
//! arrival order. It merges the actors' chains (each kept in its own `seq` order) by the events' hybrid-logical-
//! clock time, then actor, then sequence, and applies them in that canonical order. Because every recorder stamps
//! an event after everything it had already seen ([`crate::Timestamp::next_after`]), the canonical order keeps
//! cause before effect; what remains out of order is what was truly concurrent: a phone acting offline while a
//! coordinator decided otherwise.
//!
//! ## Facts and decisions
//! A device's fact (delivered, attempt failed, collected) records what happened at a door. It always changes the
//! state, even when it contradicts a coordinator's decision it had not seen (a cancellation, a reassignment): the
//! packet *was* handed over. Such a fact is kept and flagged with a [`Conflict`] for a coordinator to settle. A
//! coordinator's decision that arrives after a device fact has settled the task (cancelling a delivered task) is
//! likewise kept and flagged, and changes nothing. Whichever way the two were ordered, the state is the same and a
//! conflict is shown.
//!
//! ## Settling conflicts
//! A coordinator's [`EventPayload::ConflictAccepted`] clears the conflict of the event it names (and, for a fact
//! from someone who was not the assignee, makes that person the assignee: they did the handoff); naming an event
//! that is not among the task's conflicts is impossible. [`EventPayload::ProofRequested`] asks the assignee for
//! better proof of a settled handoff (delivered, collected, handed in) and changes nothing; so do the phone's answer
//! ([`EventPayload::ProofAdded`], more photos and a note: a device fact, but no handoff and never a conflict) and a
//! coordinator's [`EventPayload::ProofAccepted`]. All three are impossible before the packet was handed over.
//!
//! ## Door cards
//! [`EventPayload::DoorCardLeft`] is a device fact (only a phone records it, in its signed chain, right after the
//! `AttemptFailed` it belongs to) but not a handoff: it changes nothing, needs no proof and raises no conflict of
//! its own (the `AttemptFailed` before it carries any). It needs a failed visit before it; without one it is
//! impossible. [`EventPayload::Rescheduled`] is the centre's decision when a resident books the next visit with that
//! card: possible while the door is still to be visited after a failed visit (`attempt_failed`, and `assigned` or
//! `checked_out` when a coordinator has since handed the packet out again), it changes no state: the phone reads
//! the booked time from the history. A booking that arrives after a phone settled the task (a delivery recorded
//! offline before it) is kept and flagged like any late decision; one on a cancelled task, or on a task that never
//! had a failed visit, is impossible.
//!
//! ## Errors
//! [`TaskState::apply`] returns a [`TransitionError`] for an event that is impossible whatever else happened: a
//! device recording a coordinator's decision, a delivery on a pickup task, checking out a packet twice. Recorders
//! use it to refuse such an event before it is written. [`fold`] is total: an impossible event in a history is kept
//! and flagged too, never dropped.

use crate::event::{Actor, Envelope, EventKind, EventPayload};
use crate::ids::{EventId, StaffId, TaskId};
use crate::model::TaskKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Failed visits after which a delivery's packet goes back to the centre (scanned in at the counter) instead of on
/// another evening's route.
pub const MAX_DELIVERY_ATTEMPTS: u32 = 3;

/// Where a task is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// A delivery nobody has been given yet.
    Created,
    /// A pickup nobody has been given yet.
    Requested,
    Assigned,
    /// The packet has left the centre with the staff member.
    CheckedOut,
    Delivered,
    /// The last visit did not end in a handoff; the task is still open.
    AttemptFailed,
    /// The packet came back to the centre undelivered.
    Returned,
    Collected,
    HandedIn,
    Cancelled,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Created => "created",
            TaskStatus::Requested => "requested",
            TaskStatus::Assigned => "assigned",
            TaskStatus::CheckedOut => "checked_out",
            TaskStatus::Delivered => "delivered",
            TaskStatus::AttemptFailed => "attempt_failed",
            TaskStatus::Returned => "returned",
            TaskStatus::Collected => "collected",
            TaskStatus::HandedIn => "handed_in",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<TaskStatus> {
        use TaskStatus::*;
        [Created, Requested, Assigned, CheckedOut, Delivered, AttemptFailed, Returned, Collected, HandedIn, Cancelled]
            .into_iter()
            .find(|t| t.as_str() == s)
    }

    /// A handoff (or the return of the packet) has happened: the door is done with.
    pub fn is_settled(self) -> bool {
        matches!(self, TaskStatus::Delivered | TaskStatus::Returned | TaskStatus::Collected | TaskStatus::HandedIn)
    }

    /// The packet was handed over (delivered, or collected and perhaps handed in): its proof can be asked for, added
    /// to and accepted.
    pub fn is_handed_over(self) -> bool {
        matches!(self, TaskStatus::Delivered | TaskStatus::Collected | TaskStatus::HandedIn)
    }

    /// Nothing more is expected of the staff member.
    pub fn is_closed(self) -> bool {
        self.is_settled() || self == TaskStatus::Cancelled
    }

    /// Still on someone's route tonight.
    pub fn is_open_for_staff(self) -> bool {
        matches!(self, TaskStatus::Assigned | TaskStatus::CheckedOut | TaskStatus::AttemptFailed)
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of disagreement a flagged event carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConflictKind {
    /// A device fact about a task that had been cancelled.
    AfterCancel,
    /// A device fact from a staff member who was not (or no longer) the assignee.
    NotAssignee { assignee: Option<StaffId> },
    /// A device fact about a task whose door was already settled (a second delivery, a failure after delivery).
    AfterSettled { status: TaskStatus },
    /// A coordinator's decision about a task a device fact had already settled.
    DecisionAfterFact { status: TaskStatus },
    /// An event that cannot apply at all; kept so that nothing is ever dropped.
    Impossible { reason: String },
}

/// A kept event that disagrees with what came before it in canonical order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub event: EventId,
    pub event_kind: EventKind,
    pub kind: ConflictKind,
}

/// An event that cannot happen to this task in this state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("task {task} is {state}: {event_kind} (event {event}) is not possible")]
    Impossible { task: TaskId, state: TaskStatus, event: EventId, event_kind: EventKind },
    #[error("task {task} is {state}: {actor} may not record {event_kind} (event {event})")]
    NotPermitted { task: TaskId, state: TaskStatus, event: EventId, event_kind: EventKind, actor: String },
    #[error("task {task} is a {kind} task in state {state}: {event_kind} (event {event}) does not apply to it")]
    WrongKind { task: TaskId, kind: TaskKind, state: TaskStatus, event: EventId, event_kind: EventKind },
    #[error("event {event} ({event_kind}) belongs to task {event_task}, not to task {task} ({state})")]
    WrongTask { task: TaskId, state: TaskStatus, event: EventId, event_kind: EventKind, event_task: TaskId },
    #[error("task {task} is {state}: checked out to {to} but assigned to {assignee:?} (event {event})")]
    WrongStaff { task: TaskId, state: TaskStatus, event: EventId, to: StaffId, assignee: Option<StaffId> },
}

/// A task's state: the fold of its events so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskState {
    pub task: TaskId,
    pub kind: TaskKind,
    pub status: TaskStatus,
    pub assignee: Option<StaffId>,
    /// Failed visits so far.
    pub attempts: u32,
    pub conflicts: Vec<Conflict>,
    /// Every event already applied: applying one again changes nothing.
    pub applied: BTreeSet<EventId>,
}

impl TaskState {
    /// A task as it is created: a delivery is `created`, a pickup `requested`.
    pub fn new(task: TaskId, kind: TaskKind) -> Self {
        let status = match kind {
            TaskKind::Delivery => TaskStatus::Created,
            TaskKind::Pickup => TaskStatus::Requested,
        };
        Self { task, kind, status, assignee: None, attempts: 0, conflicts: Vec::new(), applied: BTreeSet::new() }
    }

    pub fn has_conflicts(&self) -> bool {
        !self.conflicts.is_empty()
    }

    /// The state after `ev`, or why `ev` cannot happen. An event already applied returns the state unchanged.
    pub fn apply(&self, ev: &Envelope) -> Result<TaskState, TransitionError> {
        let kind = ev.kind();
        if ev.task != self.task {
            return Err(TransitionError::WrongTask {
                task: self.task,
                state: self.status,
                event: ev.id,
                event_kind: kind,
                event_task: ev.task,
            });
        }
        if self.applied.contains(&ev.id) {
            return Ok(self.clone());
        }
        let impossible =
            || TransitionError::Impossible { task: self.task, state: self.status, event: ev.id, event_kind: kind };
        let wrong_kind = || TransitionError::WrongKind {
            task: self.task,
            kind: self.kind,
            state: self.status,
            event: ev.id,
            event_kind: kind,
        };
        if kind.is_device_fact() != ev.actor.is_device() {
            return Err(TransitionError::NotPermitted {
                task: self.task,
                state: self.status,
                event: ev.id,
                event_kind: kind,
                actor: ev.actor.to_string(),
            });
        }
        let only_for = |k: TaskKind| {
            if self.kind == k { Ok(()) } else { Err(wrong_kind()) }
        };

        let mut next = self.clone();
        next.applied.insert(ev.id);
        let mut flag = |next: &mut TaskState, c: ConflictKind| {
            next.conflicts.push(Conflict { event: ev.id, event_kind: kind, kind: c });
        };
        use TaskStatus::*;
        let s = self.status;
        match &ev.payload {
            EventPayload::Delivered { .. } | EventPayload::Collected { .. } => {
                let done = if matches!(ev.payload, EventPayload::Delivered { .. }) {
                    only_for(TaskKind::Delivery)?;
                    Delivered
                } else {
                    only_for(TaskKind::Pickup)?;
                    Collected
                };
                match s {
                    _ if s.is_settled() => flag(&mut next, ConflictKind::AfterSettled { status: s }),
                    Cancelled => {
                        flag(&mut next, ConflictKind::AfterCancel);
                        next.status = done;
                    }
                    _ => {
                        self.check_assignee(&ev.actor, &mut next, &mut flag);
                        next.status = done;
                    }
                }
            }
            EventPayload::AttemptFailed { .. } => match s {
                _ if s.is_settled() => flag(&mut next, ConflictKind::AfterSettled { status: s }),
                Cancelled => {
                    flag(&mut next, ConflictKind::AfterCancel);
                    next.attempts += 1;
                }
                _ => {
                    self.check_assignee(&ev.actor, &mut next, &mut flag);
                    next.attempts += 1;
                    next.status = AttemptFailed;
                }
            },
            EventPayload::Assigned { staff } => match s {
                Created | Requested => {
                    next.status = Assigned;
                    next.assignee = Some(*staff);
                }
                AttemptFailed | Delivered | Collected if self.assignee.is_none() => {
                    // A phone acted before the centre recorded the assignment: the fact stands, the decision is kept.
                    flag(&mut next, ConflictKind::DecisionAfterFact { status: s });
                    next.assignee = Some(*staff);
                }
                _ => return Err(impossible()),
            },
            EventPayload::Reassigned { staff } => match s {
                Assigned | CheckedOut | AttemptFailed => next.assignee = Some(*staff),
                _ if s.is_settled() => flag(&mut next, ConflictKind::DecisionAfterFact { status: s }),
                _ => return Err(impossible()),
            },
            EventPayload::CheckedOut { staff } => {
                only_for(TaskKind::Delivery)?;
                match s {
                    Assigned | AttemptFailed if self.assignee == Some(*staff) => next.status = CheckedOut,
                    Assigned | AttemptFailed => {
                        return Err(TransitionError::WrongStaff {
                            task: self.task,
                            state: s,
                            event: ev.id,
                            to: *staff,
                            assignee: self.assignee,
                        });
                    }
                    Delivered => flag(&mut next, ConflictKind::DecisionAfterFact { status: s }),
                    _ => return Err(impossible()),
                }
            }
            EventPayload::Returned { .. } => {
                only_for(TaskKind::Delivery)?;
                match s {
                    CheckedOut | AttemptFailed => next.status = Returned,
                    Delivered => flag(&mut next, ConflictKind::DecisionAfterFact { status: s }),
                    _ => return Err(impossible()),
                }
            }
            EventPayload::HandedIn => {
                only_for(TaskKind::Pickup)?;
                match s {
                    Collected => next.status = HandedIn,
                    _ => return Err(impossible()),
                }
            }
            EventPayload::Cancelled { .. } => match s {
                Created | Requested | Assigned | CheckedOut | AttemptFailed => next.status = Cancelled,
                _ if s.is_settled() => flag(&mut next, ConflictKind::DecisionAfterFact { status: s }),
                _ => return Err(impossible()),
            },
            EventPayload::ConflictAccepted { event, staff, .. } => {
                if !self.conflicts.iter().any(|c| c.event == *event) {
                    return Err(impossible());
                }
                next.conflicts.retain(|c| c.event != *event);
                if let Some(staff) = staff {
                    next.assignee = Some(*staff);
                }
            }
            EventPayload::ProofRequested { .. }
            | EventPayload::ProofAdded { .. }
            | EventPayload::ProofAccepted { .. } => {
                if !s.is_handed_over() {
                    return Err(impossible());
                }
            }
            EventPayload::DoorCardLeft { .. } => {
                if self.attempts == 0 {
                    return Err(impossible());
                }
            }
            EventPayload::Rescheduled { .. } => match s {
                _ if self.attempts == 0 => return Err(impossible()),
                Assigned | CheckedOut | AttemptFailed => {}
                _ if s.is_settled() => flag(&mut next, ConflictKind::DecisionAfterFact { status: s }),
                _ => return Err(impossible()),
            },
        }
        Ok(next)
    }

    fn check_assignee(&self, actor: &Actor, next: &mut TaskState, flag: &mut impl FnMut(&mut TaskState, ConflictKind)) {
        if actor.device_staff() != self.assignee {
            flag(next, ConflictKind::NotAssignee { assignee: self.assignee });
        }
    }
}

/// The canonical order of a set of events: duplicates (by id) removed, each actor's events in `seq` order, the
/// chains merged by time, then actor, then sequence. The same set in any arrival order gives the same sequence.
pub fn canonical_order<'a>(events: impl IntoIterator<Item = &'a Envelope>) -> Vec<&'a Envelope> {
    let mut seen = BTreeSet::new();
    let mut chains: BTreeMap<Actor, Vec<&Envelope>> = BTreeMap::new();
    for e in events {
        if seen.insert(e.id) {
            chains.entry(e.actor).or_default().push(e);
        }
    }
    for chain in chains.values_mut() {
        chain.sort_by_key(|e| (e.seq, e.id));
    }
    let mut heads: Vec<(Actor, usize)> = chains.keys().map(|a| (*a, 0)).collect();
    let mut out = Vec::with_capacity(seen.len());
    loop {
        let next = heads
            .iter_mut()
            .filter_map(|(actor, i)| chains[actor].get(*i).map(|e| ((e.at, *actor, e.seq, e.id), i)))
            .min_by_key(|(key, _)| *key);
        match next {
            Some(((_, actor, _, _), i)) => {
                out.push(chains[&actor][*i]);
                *i += 1;
            }
            None => break,
        }
    }
    out
}

/// A task's state from all its known events, in any order, duplicates included. Never fails: an event that cannot
/// apply is kept as an [`ConflictKind::Impossible`] conflict.
pub fn fold<'a>(task: TaskId, kind: TaskKind, events: impl IntoIterator<Item = &'a Envelope>) -> TaskState {
    let mut state = TaskState::new(task, kind);
    for ev in canonical_order(events) {
        match state.apply(ev) {
            Ok(next) => state = next,
            Err(err) => {
                state.applied.insert(ev.id);
                state.conflicts.push(Conflict {
                    event: ev.id,
                    event_kind: ev.kind(),
                    kind: ConflictKind::Impossible { reason: err.to_string() },
                });
            }
        }
    }
    state
}

#[cfg(test)]
mod tests;
