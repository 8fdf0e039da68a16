//! What proposing an evening's assignment costs, for the demo evening and for a large generated town (5,000 tasks,
//! 60 compounds, 80 staff), next to a naive greedy baseline measured in the same run: each task in turn to the least
//! loaded resident with room, else to the nearest member with room. Time and quality side by side: the balance gap
//! (the most a resident who got tasks carries above a fellow resident who still has room), the walking of tasks sent
//! outside their compound, and the buildings split between members.
//!
//! Run: `cargo bench -p jx-core --bench assign`

use jx_core::assign::{AssignInput, Candidate, Proposal, Reason, TaskToPlace, Unplaced, propose};
use jx_core::demo::{TownSize, demo_town, generate};
use jx_core::geo::LatLng;
use jx_core::model::{Compound, Role};
use jx_core::rng::SplitMix64;
use jx_core::{CompoundId, StaffId};
use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::time::Instant;

struct Case {
    name: &'static str,
    compounds: Vec<Compound>,
    tasks: Vec<TaskToPlace>,
    staff: Vec<Candidate>,
    runs: usize,
}

impl Case {
    fn input(&self) -> AssignInput<'_> {
        AssignInput { compounds: &self.compounds, tasks: &self.tasks, staff: &self.staff }
    }
}

fn demo() -> Case {
    let t = demo_town();
    Case {
        name: "demo evening",
        tasks: t.tasks.iter().map(TaskToPlace::from_task).collect(),
        staff: t.staff.iter().map(Candidate::from_staff).collect(),
        compounds: t.compounds,
        runs: 301,
    }
}

/// 5,000 tasks over 60 compounds (12 of them without resident staff), 80 team members of capacity 50–80, one in 20
/// unavailable, one task in a hundred pinned.
fn large() -> Case {
    let size = TownSize { compounds: 60, staff: 80, residents: 12_000, deliveries: 4_000, pickups: 1_000 };
    let t = generate(0x5EED_A551, size);
    let mut rng = SplitMix64::new(0x00A5_516E);
    let staff: Vec<Candidate> = t
        .staff
        .iter()
        .filter(|s| s.role == Role::Staff)
        .map(|s| Candidate {
            capacity: rng.range(50, 80) as u16,
            available: !rng.chance(0.05),
            ..Candidate::from_staff(s)
        })
        .collect();
    let tasks = t
        .tasks
        .iter()
        .map(|x| TaskToPlace {
            pinned: rng.chance(0.01).then(|| staff[rng.below(staff.len() as u64) as usize].id),
            ..TaskToPlace::from_task(x)
        })
        .collect();
    Case { name: "5,000 tasks / 60 compounds / 80 staff", compounds: t.compounds, tasks, staff, runs: 51 }
}

/// The baseline: pins as in `propose`, then each task in input order to the least loaded resident of its compound
/// with room (ties: id), else to the nearest member with room (centre to centre; ties: id).
fn greedy(input: &AssignInput) -> Proposal {
    let centres: BTreeMap<CompoundId, LatLng> =
        input.compounds.iter().filter_map(|c| c.boundary.centre().map(|p| (c.id, p))).collect();
    let mut load: BTreeMap<StaffId, u16> = input.staff.iter().map(|s| (s.id, s.already_assigned)).collect();
    let by_id: BTreeMap<StaffId, &Candidate> = input.staff.iter().map(|s| (s.id, s)).collect();
    let mut out: Vec<Result<(StaffId, Reason), Unplaced>> = Vec::with_capacity(input.tasks.len());
    for t in input.tasks {
        out.push(match t.pinned.map(|s| (s, by_id.get(&s))) {
            Some((s, Some(c))) if c.available => {
                *load.entry(s).or_default() += 1;
                Ok((s, Reason::Pinned))
            }
            Some((s, Some(_))) => Err(Unplaced::PinnedToUnavailable(s)),
            Some((s, None)) => Err(Unplaced::PinnedToUnknownStaff(s)),
            None => Ok((StaffId(0), Reason::LivesInCompound)),
        });
    }
    for (t, o) in input.tasks.iter().zip(out.iter_mut()) {
        if o != &Ok((StaffId(0), Reason::LivesInCompound)) {
            continue;
        }
        let c = t.address.compound;
        let has_room = |s: &Candidate, load: &BTreeMap<StaffId, u16>| s.available && load[&s.id] < s.capacity;
        let resident = input
            .staff
            .iter()
            .filter(|s| has_room(s, &load) && s.home.as_ref().is_some_and(|h| h.compound == c))
            .min_by_key(|s| (load[&s.id], s.id));
        *o = if let Some(s) = resident {
            Ok((s.id, Reason::LivesInCompound))
        } else if let Some(&p) = centres.get(&c) {
            input
                .staff
                .iter()
                .filter(|s| has_room(s, &load))
                .filter_map(|s| {
                    let h = s.home.as_ref()?.compound;
                    Some((centres.get(&h)?.distance_m(p), s.id, h))
                })
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                .map(|(d, s, h)| (s, Reason::NearestWithCapacity { from: h, distance_m: d }))
                .ok_or(Unplaced::NoStaffWithCapacity)
        } else {
            Err(Unplaced::UnknownCompound)
        };
        if let Ok((s, _)) = o {
            *load.entry(*s).or_default() += 1;
        }
    }
    let mut p = Proposal { assignments: Vec::new(), unplaced: Vec::new(), loads: load, over_capacity: Vec::new() };
    for (t, o) in input.tasks.iter().zip(out) {
        match o {
            Ok((staff, reason)) => p.assignments.push(jx_core::assign::Assignment { task: t.id, staff, reason }),
            Err(why) => p.unplaced.push((t.id, why)),
        }
    }
    p
}

/// (balance gap, outside km, split buildings) of a proposal.
fn quality(input: &AssignInput, p: &Proposal) -> (u16, f64, usize) {
    let staff: BTreeMap<StaffId, &Candidate> = input.staff.iter().map(|s| (s.id, s)).collect();
    let task_of: BTreeMap<_, _> = input.tasks.iter().map(|t| (t.id, t)).collect();
    let mut gap = 0;
    let mut fresh: BTreeSet<StaffId> = BTreeSet::new();
    let mut pieces: BTreeMap<(CompoundId, u16), BTreeSet<StaffId>> = BTreeMap::new();
    let mut outside_m = 0.0;
    for a in &p.assignments {
        if let Reason::NearestWithCapacity { distance_m, .. } = a.reason {
            outside_m += distance_m;
        }
        if a.reason != Reason::Pinned {
            fresh.insert(a.staff);
            let t = task_of[&a.task];
            pieces.entry((t.address.compound, t.address.building)).or_default().insert(a.staff);
        }
    }
    for i in fresh.iter().map(|s| staff[s]) {
        let home = i.home.as_ref().map(|h| h.compound);
        for j in input.staff.iter().filter(|j| j.available && j.home.as_ref().map(|h| h.compound) == home) {
            if p.loads[&j.id] < j.capacity {
                gap = gap.max(p.loads[&i.id].saturating_sub(p.loads[&j.id]));
            }
        }
    }
    (gap, outside_m / 1000.0, pieces.values().map(|m| m.len() - 1).sum())
}

/// Median and 95th percentile of `runs` timings of `f`, in milliseconds.
fn time(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    (ms[runs / 2], ms[(runs * 95 / 100).min(runs - 1)])
}

fn main() {
    println!(
        "\n| case | method | tasks | staff | placed | unplaced | median ms | p95 ms | balance gap | outside km | split buildings |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut ratios = Vec::new();
    let mut notes = Vec::new();
    for case in [demo(), large()] {
        let input = case.input();
        let team = case.staff.iter().filter(|s| s.home.is_some()).count();
        let mut medians = Vec::new();
        for (method, solve) in [("min-cost flow (ours)", propose as fn(&AssignInput) -> Proposal), ("greedy", greedy)] {
            let p = solve(&input);
            let (median, p95) = time(case.runs, || {
                black_box(solve(black_box(&input)));
            });
            let (gap, km, splits) = quality(&input, &p);
            println!(
                "| {} | {method} | {} | {team} | {} | {} | {median:.2} | {p95:.2} | {gap} | {km:.2} | {splits} |",
                case.name,
                case.tasks.len(),
                p.assignments.len(),
                p.unplaced.len(),
            );
            let mut why: BTreeMap<String, usize> = BTreeMap::new();
            for (_, u) in &p.unplaced {
                *why.entry(format!("{u:?}").split('(').next().unwrap_or_default().to_string()).or_default() += 1;
            }
            notes.push(format!("{}, {method}: unplaced {why:?}", case.name));
            medians.push(median);
        }
        ratios.push((case.name, medians[0] / medians[1]));
    }
    println!();
    for note in notes {
        println!("{note}");
    }
    for (name, r) in ratios {
        println!("\n{name}: ours takes {r:.2}× the greedy baseline's time, same run");
    }
    evening_with_routes();
}

/// The whole demo evening as the centre plans it: the assignment, then every team member's walking route from home
/// (green-channel first, default search budget).
fn evening_with_routes() {
    use jx_core::route::{Budget, RoutePlanOptions, group_into_stops, plan_route};
    let town = demo_town();
    let case = demo();
    let plan = || {
        let p = propose(&case.input());
        let mut walk_m = 0.0;
        let mut stops = 0;
        for (staff, tasks) in p.by_staff() {
            let Some(home) = town.staff.iter().find(|s| s.id == staff).and_then(|s| s.home.as_ref()) else { continue };
            let Some(at) = town
                .compound(home.compound)
                .and_then(|c| c.buildings.iter().find(|b| b.number == home.building))
                .map(|b| b.position)
            else {
                continue;
            };
            let items: Vec<_> = tasks
                .iter()
                .filter_map(|id| town.tasks.iter().find(|t| t.id == *id))
                .map(|t| (t.id, t.address.clone(), town.resident(t.resident).is_some_and(|r| r.green.any())))
                .collect();
            let grouped = group_into_stops(&items, &town.compounds);
            let opts =
                RoutePlanOptions { return_home: true, green_first: true, budget: Budget::kicks(Budget::DEFAULT_KICKS) };
            let r = plan_route(at, &grouped.stops, &opts);
            walk_m += r.walk_m;
            stops += grouped.stops.len();
        }
        (walk_m, stops)
    };
    let (walk_m, stops) = plan();
    let (median, p95) = time(21, || {
        black_box(plan());
    });
    println!(
        "\n| demo evening: assignment + every team member's route | stops | total walk km | median ms | p95 ms |\n|---|---:|---:|---:|---:|\n| 380 tasks, 25 staff | {stops} | {:.1} | {median:.1} | {p95:.1} |",
        walk_m / 1000.0
    );
}
