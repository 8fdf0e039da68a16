//! Assignment by neighbourhood: which member of staff takes which of the evening's tasks.
//!
//! [`propose`] is a plain function of its input (no clock, no randomness, no I/O); the centre shows its
//! [`Proposal`] to a coordinator, who may pin tasks and ask again. Ordering a member's evening into a walk is not
//! this module's job; it must never import the route planner, nor anything that does I/O.
//!
//! # Rules, in order
//!
//! 1. A task a coordinator pinned to someone stays with them ([`Reason::Pinned`]). A pin is honoured even if it takes
//!    its holder over capacity (the coordinator decided; the proposal says so in [`Proposal::over_capacity`] rather
//!    than drop the pin). A pin to someone unavailable tonight, or to an unknown id, is not moved to anyone else: the
//!    task is listed as unplaced with that reason, for the coordinator to decide again.
//! 2. Every other task goes to an available member of staff who lives in its compound while any of them has room
//!    ([`Reason::LivesInCompound`]).
//! 3. The residents of a compound share its work in balanced loads (the load counts what they carried in, their pins
//!    and what they get now), and a building's tasks are kept together where that balance allows.
//! 4. A compound's tasks that its residents cannot take (none live there, none is available, or all are full) go to
//!    the nearest staff with room left, by walking distance between the centres of the two compounds
//!    ([`Reason::NearestWithCapacity`]).
//! 5. Nothing but a pin or carried-in load takes anyone over capacity; what cannot be placed is listed with the reason
//!    ([`Unplaced`]).
//!
//! # Method
//!
//! The problem is the min-cost flow source → task → staff → sink in which a resident's arc costs nothing, an outside
//! arc costs a big constant plus the distance, and each member's arc to the sink has convex costs (one more task costs
//! more the more they carry), solved lexicographically: most tasks placed, then most placed with residents, then
//! balanced residents, then least walking. Because every cost depends on compounds only (never on the task or the
//! member within a compound), that flow decomposes exactly, and small:
//!
//! - *Residents.* Compound `c`'s residents take `min(tasks of c, their room)` of its tasks: no other choice keeps rule
//!   2, and it costs rule 4 nothing, since any member with a known home can take any task of a compound on the map.
//! - *Outside.* What is left is a transportation problem between compounds: each compound's leftover tasks (supply)
//!   to the home compounds with room left (demand), an arc costing the distance between their centres in whole
//!   millimetres. It is solved by successive shortest paths (Dijkstra with Johnson potentials) on a graph of at most
//!   two nodes per compound, written here because `pathfinding` has max-flow (`edmonds_karp`) and the assignment
//!   problem (`kuhn_munkres`, one unit per row: 5,000 tasks would make it a 5,000² matrix) but no min-cost flow. It
//!   gives a maximum flow of least total distance. When the team is short of room, the tasks that wait are therefore
//!   those whose placement would have cost the most walking (on the demo evening, 17 of the corner compound C4's),
//!   and within a compound the last ones of its line.
//! - *Sharing.* Each home compound's work (its own tasks first, then the outside compounds nearest first) is shared
//!   among its available residents by water-filling: one task at a time to the least loaded member with room (ties:
//!   their home building, then id), which is the optimum of the convex costs. The work is then laid out as one line
//!   (building by building, stairwell by stairwell) and cut into consecutive pieces of those sizes, members in order
//!   of their home building: each member's tasks are a run of whole buildings except at the cut points, so at most
//!   `k − 1` buildings are split among `k` members, and balance is never traded for it.
//!
//! Everything is ordered by ids, so the same input (in any order) gives the same proposal.

use crate::geo::LatLng;
use crate::ids::{CompoundId, StaffId, TaskId};
use crate::model::{Address, Compound, Role, Staff, StaffHome, Task};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// A task to place tonight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskToPlace {
    pub id: TaskId,
    /// Its compound and building are what count.
    pub address: Address,
    /// The member of staff a coordinator fixed it to.
    pub pinned: Option<StaffId>,
}

impl TaskToPlace {
    /// A task nobody has pinned.
    pub fn from_task(task: &Task) -> Self {
        Self { id: task.id, address: task.address.clone(), pinned: None }
    }
}

/// A member of staff who may take tasks tonight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub id: StaffId,
    /// Where they live; without a home (coordinators) they take only the tasks pinned to them.
    pub home: Option<StaffHome>,
    /// How many tasks they can take on an evening, `already_assigned` included.
    pub capacity: u16,
    pub available: bool,
    /// Tasks they already carry tonight, outside this proposal.
    pub already_assigned: u16,
}

impl Candidate {
    /// A member of staff as the roster has them, available and with nothing assigned yet; coordinators get no
    /// capacity of their own (their pins still count).
    pub fn from_staff(staff: &Staff) -> Self {
        let capacity = if staff.role == Role::Staff { staff.capacity } else { 0 };
        Self { id: staff.id, home: staff.home.clone(), capacity, available: true, already_assigned: 0 }
    }
}

/// Everything an assignment is decided from. Task ids and staff ids are expected to be unique (of two candidates
/// with one id, the first counts).
#[derive(Clone, Copy, Debug)]
pub struct AssignInput<'a> {
    pub compounds: &'a [Compound],
    pub tasks: &'a [TaskToPlace],
    pub staff: &'a [Candidate],
}

/// Why a task went to the member it went to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Reason {
    /// A coordinator pinned it to them.
    Pinned,
    /// They live in the task's compound.
    LivesInCompound,
    /// No resident of the task's compound had room; they are the nearest with room left, living in `from`,
    /// `distance_m` from the task's compound (centre to centre).
    NearestWithCapacity { from: CompoundId, distance_m: f64 },
}

/// Why a task could not be placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "staff")]
pub enum Unplaced {
    /// Pinned to someone who is not available tonight; the pin is not moved to anyone else.
    PinnedToUnavailable(StaffId),
    /// Pinned to a member of staff who is not among the candidates.
    PinnedToUnknownStaff(StaffId),
    /// Its compound is not on the map (not among the compounds, or without a boundary) and none of its residents has
    /// room: without a distance no one else can be sent.
    UnknownCompound,
    /// Everyone who could take it is full.
    NoStaffWithCapacity,
}

/// One task given to one member of staff.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub task: TaskId,
    pub staff: StaffId,
    pub reason: Reason,
}

/// A member whose load is above their capacity; only carried-in load and pins can do that.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverCapacity {
    pub staff: StaffId,
    pub load: u16,
    pub capacity: u16,
}

/// What [`propose`] suggests: every task is either in `assignments` or in `unplaced`, in the input's order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    pub assignments: Vec<Assignment>,
    pub unplaced: Vec<(TaskId, Unplaced)>,
    /// Every candidate's load tonight: carried in, plus everything assigned here.
    pub loads: BTreeMap<StaffId, u16>,
    /// Warnings: candidates whose load exceeds their capacity.
    pub over_capacity: Vec<OverCapacity>,
}

impl Proposal {
    /// Each member's tasks, in the input's order.
    pub fn by_staff(&self) -> BTreeMap<StaffId, Vec<TaskId>> {
        let mut out: BTreeMap<StaffId, Vec<TaskId>> = BTreeMap::new();
        for a in &self.assignments {
            out.entry(a.staff).or_default().push(a.task);
        }
        out
    }
}

/// The assignment of `input`'s tasks by the rules and method of this module.
pub fn propose(input: &AssignInput) -> Proposal {
    let (tasks, staff) = (input.tasks, input.staff);
    let mut index: BTreeMap<StaffId, usize> = BTreeMap::new();
    for (i, s) in staff.iter().enumerate() {
        index.entry(s.id).or_insert(i);
    }
    let mut load: Vec<u32> = staff.iter().map(|s| u32::from(s.already_assigned)).collect();
    let mut outcome: Vec<Option<Result<(StaffId, Reason), Unplaced>>> = vec![None; tasks.len()];

    for (k, t) in tasks.iter().enumerate() {
        let Some(s) = t.pinned else { continue };
        outcome[k] = Some(match index.get(&s) {
            None => Err(Unplaced::PinnedToUnknownStaff(s)),
            Some(&i) if !staff[i].available => Err(Unplaced::PinnedToUnavailable(s)),
            Some(&i) => {
                load[i] += 1;
                Ok((s, Reason::Pinned))
            }
        });
    }

    // Each compound's unpinned tasks as one line: building by building, stairwell by stairwell.
    let mut lines: BTreeMap<CompoundId, Vec<usize>> = BTreeMap::new();
    for (k, t) in tasks.iter().enumerate() {
        if outcome[k].is_none() {
            lines.entry(t.address.compound).or_default().push(k);
        }
    }
    for line in lines.values_mut() {
        line.sort_by(|&a, &b| {
            let (a, b) = (&tasks[a], &tasks[b]);
            (a.address.building, a.address.unit, &a.address.room, a.id).cmp(&(
                b.address.building,
                b.address.unit,
                &b.address.room,
                b.id,
            ))
        });
    }

    // Available members with a home, by home compound, in order of home building then id.
    let mut groups: BTreeMap<CompoundId, Vec<usize>> = BTreeMap::new();
    for (i, s) in staff.iter().enumerate() {
        if let (Some(home), true, true) = (&s.home, s.available, index.get(&s.id) == Some(&i)) {
            groups.entry(home.compound).or_default().push(i);
        }
    }
    let home_building = |i: usize| staff[i].home.as_ref().map_or(0, |h| h.building);
    for members in groups.values_mut() {
        members.sort_by_key(|&i| (home_building(i), staff[i].id));
    }
    let spare = |i: usize, load: &[u32]| u32::from(staff[i].capacity).saturating_sub(load[i]);
    let mut room: BTreeMap<CompoundId, u32> =
        groups.iter().map(|(&c, members)| (c, members.iter().map(|&i| spare(i, &load)).sum())).collect();

    let mut centres: BTreeMap<CompoundId, LatLng> = BTreeMap::new();
    for c in input.compounds {
        if let Some(p) = c.boundary.centre() {
            centres.entry(c.id).or_insert(p);
        }
    }

    // Residents first.
    let mut local: BTreeMap<CompoundId, usize> = BTreeMap::new();
    for (&c, line) in &lines {
        let r = room.get_mut(&c).map_or(0, |r| {
            let take = (*r as usize).min(line.len());
            *r -= take as u32;
            take
        });
        local.insert(c, r);
    }

    // Then the leftovers, to the nearest home compounds with room.
    let supply: Vec<(CompoundId, LatLng, u32)> = lines
        .iter()
        .filter_map(|(&c, line)| {
            let left = line.len() - local[&c];
            centres.get(&c).filter(|_| left > 0).map(|&p| (c, p, left as u32))
        })
        .collect();
    let demand: Vec<(CompoundId, LatLng, u32)> =
        room.iter().filter(|&(_, &r)| r > 0).filter_map(|(&g, &r)| centres.get(&g).map(|&p| (g, p, r))).collect();
    let shipped = transport(&supply, &demand);

    let mut work: BTreeMap<CompoundId, Vec<(usize, Reason)>> = BTreeMap::new();
    let mut outside: Vec<(CompoundId, i64, CompoundId, &[usize], f64)> = Vec::new();
    for (&c, line) in &lines {
        let (mine, mut rest) = line.split_at(local[&c]);
        if !mine.is_empty() {
            work.entry(c).or_default().extend(mine.iter().map(|&k| (k, Reason::LivesInCompound)));
        }
        for &(g, n, mm, m) in shipped.get(&c).map_or(&[][..], Vec::as_slice) {
            let (piece, tail) = rest.split_at(n as usize);
            outside.push((g, mm, c, piece, m));
            rest = tail;
        }
        let why = if centres.contains_key(&c) { Unplaced::NoStaffWithCapacity } else { Unplaced::UnknownCompound };
        for &k in rest {
            outcome[k] = Some(Err(why));
        }
    }
    outside.sort_by_key(|a| (a.0, a.1, a.2));
    for (g, _, _, piece, distance_m) in outside {
        let reason = Reason::NearestWithCapacity { from: g, distance_m };
        work.entry(g).or_default().extend(piece.iter().map(|&k| (k, reason.clone())));
    }

    // Share each home compound's work among its residents and cut its line accordingly.
    for (g, seq) in work {
        let members = groups.get(&g).map_or(&[][..], Vec::as_slice);
        let counts = water_fill(members, seq.len(), &mut load, |i| u32::from(staff[i].capacity));
        let mut seq = seq.into_iter();
        for (&i, n) in members.iter().zip(counts) {
            for (k, reason) in seq.by_ref().take(n) {
                outcome[k] = Some(Ok((staff[i].id, reason)));
            }
        }
        for (k, _) in seq {
            outcome[k] = Some(Err(Unplaced::NoStaffWithCapacity));
        }
    }

    let mut proposal =
        Proposal { assignments: Vec::new(), unplaced: Vec::new(), loads: BTreeMap::new(), over_capacity: Vec::new() };
    for (t, o) in tasks.iter().zip(outcome) {
        match o.unwrap_or(Err(Unplaced::NoStaffWithCapacity)) {
            Ok((staff, reason)) => proposal.assignments.push(Assignment { task: t.id, staff, reason }),
            Err(why) => proposal.unplaced.push((t.id, why)),
        }
    }
    for (&id, &i) in &index {
        let l = u16::try_from(load[i]).unwrap_or(u16::MAX);
        proposal.loads.insert(id, l);
        if l > staff[i].capacity {
            proposal.over_capacity.push(OverCapacity { staff: id, load: l, capacity: staff[i].capacity });
        }
    }
    proposal
}

/// How many of `n` tasks each of `members` gets: one at a time to the least loaded member with room (ties: the
/// order of `members`). Updates `load`; gives out fewer than `n` only if everyone is full.
fn water_fill(members: &[usize], n: usize, load: &mut [u32], capacity: impl Fn(usize) -> u32) -> Vec<usize> {
    let mut counts = vec![0; members.len()];
    let mut heap: BinaryHeap<Reverse<(u32, usize)>> = members
        .iter()
        .enumerate()
        .filter(|&(_, &i)| load[i] < capacity(i))
        .map(|(pos, &i)| Reverse((load[i], pos)))
        .collect();
    for _ in 0..n {
        let Some(Reverse((l, pos))) = heap.pop() else { break };
        let i = members[pos];
        load[i] = l + 1;
        counts[pos] += 1;
        if load[i] < capacity(i) {
            heap.push(Reverse((load[i], pos)));
        }
    }
    counts
}

/// One shipment of the transportation problem: to home compound, how many, distance (mm), distance (m).
type Shipment = (CompoundId, u32, i64, f64);

/// The least-walking maximum shipment of leftover tasks (`supply`: compound, centre, count) to home compounds with
/// room (`demand`: compound, centre, room), per supplying compound, nearest first.
fn transport(
    supply: &[(CompoundId, LatLng, u32)],
    demand: &[(CompoundId, LatLng, u32)],
) -> BTreeMap<CompoundId, Vec<Shipment>> {
    let (s, d) = (supply.len(), demand.len());
    let mut flow = MinCostFlow::new(2 + s + d);
    let mut arcs = Vec::new();
    for (a, &(c, p, n)) in supply.iter().enumerate() {
        flow.arc(0, 2 + a, i64::from(n), 0);
        for (b, &(g, q, r)) in demand.iter().enumerate() {
            if g != c {
                let m = p.distance_m(q);
                let mm = (m * 1000.0).round() as i64;
                arcs.push((c, g, mm, m, flow.arc(2 + a, 2 + s + b, i64::from(n.min(r)), mm)));
            }
        }
    }
    for (b, &(_, _, r)) in demand.iter().enumerate() {
        flow.arc(2 + s + b, 1, i64::from(r), 0);
    }
    flow.run(0, 1);
    let mut out: BTreeMap<CompoundId, Vec<Shipment>> = BTreeMap::new();
    for (c, g, mm, m, e) in arcs {
        let n = flow.flow(e);
        if n > 0 {
            out.entry(c).or_default().push((g, n as u32, mm, m));
        }
    }
    for v in out.values_mut() {
        v.sort_by_key(|&(g, _, mm, _)| (mm, g));
    }
    out
}

/// Min-cost maximum flow by successive shortest paths: Dijkstra on costs reduced by Johnson potentials, which stay
/// non-negative because every arc starts with a non-negative cost. Arcs come in pairs (forward, residual).
struct MinCostFlow {
    head: Vec<Vec<usize>>,
    to: Vec<usize>,
    cap: Vec<i64>,
    cost: Vec<i64>,
}

impl MinCostFlow {
    fn new(nodes: usize) -> Self {
        Self { head: vec![Vec::new(); nodes], to: Vec::new(), cap: Vec::new(), cost: Vec::new() }
    }

    fn arc(&mut self, from: usize, to: usize, cap: i64, cost: i64) -> usize {
        let e = self.to.len();
        self.head[from].push(e);
        self.head[to].push(e + 1);
        self.to.extend([to, from]);
        self.cap.extend([cap, 0]);
        self.cost.extend([cost, -cost]);
        e
    }

    fn flow(&self, e: usize) -> i64 {
        self.cap[e ^ 1]
    }

    fn run(&mut self, source: usize, sink: usize) {
        let n = self.head.len();
        let mut potential = vec![0i64; n];
        loop {
            let mut dist = vec![i64::MAX; n];
            let mut via = vec![usize::MAX; n];
            let mut heap = BinaryHeap::new();
            dist[source] = 0;
            heap.push(Reverse((0i64, source)));
            while let Some(Reverse((du, u))) = heap.pop() {
                if du > dist[u] {
                    continue;
                }
                for &e in &self.head[u] {
                    let v = self.to[e];
                    if self.cap[e] <= 0 {
                        continue;
                    }
                    let dv = du + self.cost[e] + potential[u] - potential[v];
                    if dv < dist[v] {
                        dist[v] = dv;
                        via[v] = e;
                        heap.push(Reverse((dv, v)));
                    }
                }
            }
            if dist[sink] == i64::MAX {
                return;
            }
            for v in 0..n {
                if dist[v] < i64::MAX {
                    potential[v] += dist[v];
                }
            }
            let mut push = i64::MAX;
            let mut v = sink;
            while v != source {
                let e = via[v];
                push = push.min(self.cap[e]);
                v = self.to[e ^ 1];
            }
            let mut v = sink;
            while v != source {
                let e = via[v];
                self.cap[e] -= push;
                self.cap[e ^ 1] += push;
                v = self.to[e ^ 1];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_cost_flow_prefers_the_cheaper_of_two_ways() {
        // 0 → 2 → 1 costs 5, 0 → 3 → 1 costs 1; capacity 1 each way, 2 units wanted.
        let mut f = MinCostFlow::new(4);
        let a = f.arc(0, 2, 1, 5);
        let b = f.arc(0, 3, 2, 1);
        f.arc(2, 1, 1, 0);
        f.arc(3, 1, 1, 0);
        f.run(0, 1);
        assert_eq!((f.flow(a), f.flow(b)), (1, 1));
    }

    #[test]
    fn water_filling_levels_loads_and_respects_capacity() {
        let mut load = vec![5, 0, 2];
        let counts = water_fill(&[0, 1, 2], 6, &mut load, |i| [10, 3, 10][i]);
        assert_eq!(counts, vec![0, 3, 3]);
        assert_eq!(load, vec![5, 3, 5]);
    }
}
