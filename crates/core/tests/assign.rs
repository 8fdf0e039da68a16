//! The assignment rules as properties over random towns, checked against independent solvers (`pathfinding`'s
//! max-flow and Hungarian method), and the demo town's evening as a worked example.

use jx_core::assign::{AssignInput, Candidate, OverCapacity, Proposal, Reason, TaskToPlace, Unplaced, propose};
use jx_core::demo::demo_town;
use jx_core::geo::{LatLng, Polygon};
use jx_core::model::{Address, Building, Compound, StaffHome};
use jx_core::rng::SplitMix64;
use jx_core::{CompoundId, StaffId, TaskId};
use pathfinding::directed::edmonds_karp::{DenseCapacity, edmonds_karp};
use pathfinding::kuhn_munkres::kuhn_munkres_min;
use pathfinding::matrix::Matrix;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

struct Town {
    compounds: Vec<Compound>,
    tasks: Vec<TaskToPlace>,
    staff: Vec<Candidate>,
}

impl Town {
    fn input(&self) -> AssignInput<'_> {
        AssignInput { compounds: &self.compounds, tasks: &self.tasks, staff: &self.staff }
    }
}

/// A random town: compounds scattered over 2 km (one in ten without a boundary), staff living in them or in a
/// compound missing from the map or nowhere, tasks in them or (rarely) in a missing compound, some pinned.
fn town(seed: u64, compounds: usize, n_staff: usize, tasks: usize) -> Town {
    let mut rng = SplitMix64::new(seed);
    let origin = LatLng::new(31.11, 121.44);
    let compounds: Vec<Compound> = (1..=compounds as u32)
        .map(|id| {
            let c = origin.offset_m(rng.unit() * 2_000.0, rng.unit() * 2_000.0);
            let boundary = if rng.chance(0.1) {
                Polygon(vec![])
            } else {
                Polygon(vec![c.offset_m(-50.0, -50.0), c.offset_m(50.0, -50.0), c.offset_m(50.0, 50.0), c])
            };
            let buildings = (1..=rng.range(1, 6) as u16)
                .map(|number| Building { number, position: c, units: 2, floors: 6 })
                .collect();
            Compound { id: CompoundId(id), name: format!("小区{id}"), boundary, buildings }
        })
        .collect();
    let n = compounds.len() as u64;
    let missing = |rng: &mut SplitMix64| if rng.chance(0.05) { n + 1 } else { rng.range(1, n) };
    let cap_max = rng.range(1, 14);
    let staff: Vec<Candidate> = (1..=n_staff as u32)
        .map(|id| Candidate {
            id: StaffId(id),
            home: rng.chance(0.9).then(|| StaffHome {
                compound: CompoundId(missing(&mut rng) as u32),
                building: rng.range(1, 6) as u16,
            }),
            capacity: rng.range(0, cap_max) as u16,
            available: rng.chance(0.8),
            already_assigned: rng.range(0, 3) as u16,
        })
        .collect();
    let tasks = (0..tasks)
        .map(|k| TaskToPlace {
            id: TaskId::v7(k as u64, rng.bytes()),
            address: Address {
                compound: CompoundId(missing(&mut rng) as u32),
                building: rng.range(1, 6) as u16,
                unit: rng.range(1, 2) as u8,
                room: format!("{}01", rng.range(1, 6)),
            },
            pinned: rng.chance(0.08).then(|| StaffId(rng.range(1, n_staff as u64 + 1) as u32)),
        })
        .collect();
    Town { compounds, tasks, staff }
}

/// Everything the checks need to know about a proposal, derived from it and the input only.
struct Facts<'a> {
    town: &'a Town,
    p: &'a Proposal,
    staff: BTreeMap<StaffId, &'a Candidate>,
    centres: BTreeMap<CompoundId, LatLng>,
    placed: BTreeMap<TaskId, (StaffId, Reason)>,
    /// Tasks given by this proposal other than by pin, per member.
    fresh: BTreeMap<StaffId, usize>,
}

impl<'a> Facts<'a> {
    fn new(town: &'a Town, p: &'a Proposal) -> Self {
        let staff = town.staff.iter().map(|s| (s.id, s)).collect();
        let centres = town.compounds.iter().filter_map(|c| c.boundary.centre().map(|p| (c.id, p))).collect();
        let placed: BTreeMap<TaskId, (StaffId, Reason)> =
            p.assignments.iter().map(|a| (a.task, (a.staff, a.reason.clone()))).collect();
        let mut fresh = BTreeMap::new();
        for a in &p.assignments {
            if a.reason != Reason::Pinned {
                *fresh.entry(a.staff).or_insert(0) += 1;
            }
        }
        Self { town, p, staff, centres, placed, fresh }
    }

    fn load(&self, s: StaffId) -> u16 {
        self.p.loads[&s]
    }

    fn full(&self, s: &Candidate) -> bool {
        self.load(s.id) >= s.capacity
    }

    fn home(&self, s: &Candidate) -> Option<CompoundId> {
        s.home.as_ref().map(|h| h.compound)
    }

    fn residents(&self, c: CompoundId) -> impl Iterator<Item = &&'a Candidate> {
        self.staff.values().filter(move |s| s.available && s.home.as_ref().is_some_and(|h| h.compound == c))
    }

    fn distance(&self, a: CompoundId, b: CompoundId) -> f64 {
        self.centres[&a].distance_m(self.centres[&b])
    }

    /// Can `s` take an unpinned task of compound `c` at all (room aside)?
    fn eligible(&self, s: &Candidate, c: CompoundId) -> bool {
        s.available
            && self.home(s).is_some_and(|h| h == c || (self.centres.contains_key(&h) && self.centres.contains_key(&c)))
    }

    /// Unpinned tasks per compound, and what every member can still take after their carried load and pins.
    fn unpinned_and_room(&self) -> (BTreeMap<CompoundId, i64>, BTreeMap<StaffId, i64>) {
        let mut unpinned: BTreeMap<CompoundId, i64> = BTreeMap::new();
        let mut pins: BTreeMap<StaffId, i64> = BTreeMap::new();
        for t in &self.town.tasks {
            match t.pinned {
                None => *unpinned.entry(t.address.compound).or_default() += 1,
                Some(s) if self.staff.get(&s).is_some_and(|s| s.available) => *pins.entry(s).or_default() += 1,
                Some(_) => {}
            }
        }
        let room = self
            .staff
            .values()
            .map(|s| {
                let used = i64::from(s.already_assigned) + pins.get(&s.id).copied().unwrap_or(0);
                (s.id, (i64::from(s.capacity) - used).max(0))
            })
            .collect();
        (unpinned, room)
    }
}

fn check(town: &Town, p: &Proposal) {
    let f = Facts::new(town, p);

    // Every task exactly once, in the input's order.
    let placed_order: Vec<TaskId> = p.assignments.iter().map(|a| a.task).collect();
    let unplaced_order: Vec<TaskId> = p.unplaced.iter().map(|u| u.0).collect();
    let input_order: Vec<TaskId> = town.tasks.iter().map(|t| t.id).collect();
    assert_eq!(placed_order.len() + unplaced_order.len(), input_order.len());
    assert_eq!(placed_order, input_order.iter().copied().filter(|t| f.placed.contains_key(t)).collect::<Vec<_>>());
    assert_eq!(unplaced_order, input_order.iter().copied().filter(|t| !f.placed.contains_key(t)).collect::<Vec<_>>());
    let unplaced: BTreeMap<TaskId, Unplaced> = p.unplaced.iter().copied().collect();

    // Pins stay; a pin to someone unavailable or unknown is listed, never moved.
    for t in &town.tasks {
        match (t.pinned, f.placed.get(&t.id), unplaced.get(&t.id)) {
            (Some(s), placed, why) => match f.staff.get(&s) {
                None => assert_eq!(why, Some(&Unplaced::PinnedToUnknownStaff(s))),
                Some(c) if !c.available => assert_eq!(why, Some(&Unplaced::PinnedToUnavailable(s))),
                Some(_) => assert_eq!(placed, Some(&(s, Reason::Pinned))),
            },
            (None, Some((_, reason)), _) => assert_ne!(reason, &Reason::Pinned),
            (None, None, Some(why)) => {
                assert!(matches!(why, Unplaced::NoStaffWithCapacity | Unplaced::UnknownCompound), "{why:?}")
            }
            (None, None, None) => unreachable!("checked above"),
        }
    }

    // Loads add up; nothing but pins and carried load goes over capacity, and that is reported.
    let mut over = Vec::new();
    for s in &town.staff {
        let got = p.assignments.iter().filter(|a| a.staff == s.id).count();
        assert_eq!(usize::from(f.load(s.id)), usize::from(s.already_assigned) + got, "{}", s.id);
        assert!(got == 0 || s.available, "{} is unavailable", s.id);
        if f.fresh.get(&s.id).copied().unwrap_or(0) > 0 {
            assert!(f.load(s.id) <= s.capacity, "{} over capacity with tasks not pinned", s.id);
        }
        if f.load(s.id) > s.capacity {
            over.push(OverCapacity { staff: s.id, load: f.load(s.id), capacity: s.capacity });
        }
    }
    assert_eq!(p.over_capacity, over);

    let mut outside: Vec<(CompoundId, CompoundId)> = Vec::new();
    for t in town.tasks.iter().filter(|t| t.pinned.is_none()) {
        let c = t.address.compound;
        let residents_full = f.residents(c).all(|r| f.full(r));
        match (f.placed.get(&t.id), unplaced.get(&t.id)) {
            (Some((s, Reason::LivesInCompound)), _) => assert_eq!(f.home(f.staff[s]), Some(c)),
            (Some((s, Reason::NearestWithCapacity { from, distance_m })), _) => {
                // Residents first: outside only when every resident is full.
                assert!(residents_full, "task of {c} sent outside while a resident has room");
                assert_eq!(f.home(f.staff[s]), Some(*from));
                assert_ne!(*from, c);
                assert!((f.distance(c, *from) - distance_m).abs() < 1e-6);
                // Nearest: nobody nearer is left with room.
                for other in f.staff.values().filter(|o| f.eligible(o, c) && !f.full(o)) {
                    let h = f.home(other).expect("eligible members have a home");
                    assert!(
                        f.distance(c, h) >= distance_m - 0.002,
                        "{} at {h} is nearer to {c} and has room",
                        other.id
                    );
                }
                outside.push((c, *from));
            }
            (_, Some(Unplaced::NoStaffWithCapacity)) => {
                assert!(f.centres.contains_key(&c));
                assert!(f.staff.values().filter(|s| f.eligible(s, c)).all(|s| f.full(s)), "a task of {c} left out");
            }
            (_, Some(Unplaced::UnknownCompound)) => {
                assert!(!f.centres.contains_key(&c));
                assert!(residents_full);
            }
            other => panic!("unexpected outcome {other:?}"),
        }
    }

    // No exchange of two outside tasks' members shortens the walking.
    for &(c1, h1) in &outside {
        for &(c2, h2) in &outside {
            if h2 != c1 && h1 != c2 {
                let now = f.distance(c1, h1) + f.distance(c2, h2);
                let swapped = f.distance(c1, h2) + f.distance(c2, h1);
                assert!(now <= swapped + 0.004, "swapping {c1}→{h1}, {c2}→{h2} saves walking");
            }
        }
    }

    // Balance among the residents of a compound: whoever got a task is at most one above any other resident with room.
    for i in f.staff.values().filter(|s| f.fresh.contains_key(&s.id)) {
        let Some(c) = f.home(i) else { continue };
        for j in f.residents(c) {
            assert!(
                f.load(i.id) <= f.load(j.id) + 1 || f.full(j),
                "{} has {} while {} has {} and room",
                i.id,
                f.load(i.id),
                j.id,
                f.load(j.id)
            );
        }
    }

    // Buildings kept together: extra (building, member) pieces ≤ Σ_c (home compounds serving c − 1) +
    // Σ_g (members of g given tasks − 1).
    let mut pieces: BTreeMap<(CompoundId, u16), BTreeSet<StaffId>> = BTreeMap::new();
    let mut serving: BTreeMap<CompoundId, BTreeSet<CompoundId>> = BTreeMap::new();
    let mut given: BTreeMap<CompoundId, usize> = BTreeMap::new();
    for t in town.tasks.iter().filter(|t| t.pinned.is_none()) {
        if let Some((s, _)) = f.placed.get(&t.id) {
            pieces.entry((t.address.compound, t.address.building)).or_default().insert(*s);
            let home = f.home(f.staff[s]).expect("assignees not pinned have a home");
            serving.entry(t.address.compound).or_default().insert(home);
        }
    }
    for s in f.staff.values().filter(|s| f.fresh.contains_key(&s.id)) {
        *given.entry(f.home(s).expect("home")).or_default() += 1;
    }
    let extra: usize = pieces.values().map(|m| m.len() - 1).sum();
    let bound: usize =
        serving.values().map(|g| g.len() - 1).sum::<usize>() + given.values().map(|k| k - 1).sum::<usize>();
    assert!(extra <= bound, "{extra} extra building pieces, bound {bound}");

    // As many tasks placed as any assignment could (max-flow over compound → eligible member → sink).
    let (unpinned, room) = f.unpinned_and_room();
    let placed_unpinned = f.fresh.values().sum::<usize>() as i64;
    assert_eq!(placed_unpinned, max_placements(&f, &unpinned, &room));

    // The outside walking is the least possible (Hungarian method over outside tasks × places left after residents).
    let (mut rows, mut cols) = (Vec::new(), Vec::new());
    let mut room_left = room.clone();
    for (&c, &n) in &unpinned {
        let mut left = n;
        for r in f.residents(c) {
            let take = left.min(room_left[&r.id]);
            *room_left.get_mut(&r.id).expect("known") -= take;
            left -= take;
        }
        if f.centres.contains_key(&c) {
            rows.extend(std::iter::repeat_n(c, left as usize));
        }
    }
    for s in f.staff.values().filter(|s| s.available) {
        if let Some(h) = f.home(s).filter(|h| f.centres.contains_key(h)) {
            cols.extend(std::iter::repeat_n(h, room_left[&s.id].min(rows.len() as i64) as usize));
        }
    }
    let ours: f64 = outside.iter().map(|&(c, h)| f.distance(c, h)).sum();
    if rows.is_empty() || cols.is_empty() {
        assert!(outside.is_empty());
    } else {
        let (a, b) = if rows.len() <= cols.len() { (&rows, &cols) } else { (&cols, &rows) };
        let m = Matrix::from_fn(a.len(), b.len(), |(i, j)| (f.distance(a[i], b[j]) * 1000.0).round() as i64);
        let (best, _) = kuhn_munkres_min(&m);
        assert_eq!(outside.len(), a.len());
        assert!((ours * 1000.0 - best as f64).abs() <= outside.len() as f64, "ours {ours} m, best {best} mm");
    }
}

fn max_placements(f: &Facts, unpinned: &BTreeMap<CompoundId, i64>, room: &BTreeMap<StaffId, i64>) -> i64 {
    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    enum Node {
        Source,
        Sink,
        Compound(CompoundId),
        Member(StaffId),
    }
    let mut nodes = vec![Node::Source, Node::Sink];
    let mut caps = Vec::new();
    for (&c, &n) in unpinned {
        nodes.push(Node::Compound(c));
        caps.push(((Node::Source, Node::Compound(c)), n));
        for s in f.staff.values().filter(|s| f.eligible(s, c)) {
            caps.push(((Node::Compound(c), Node::Member(s.id)), n));
        }
    }
    for (&s, &r) in room {
        nodes.push(Node::Member(s));
        caps.push(((Node::Member(s), Node::Sink), r));
    }
    edmonds_karp::<_, _, _, DenseCapacity<_>>(&nodes, &Node::Source, &Node::Sink, caps).1
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_rule_holds_in_random_towns(seed in any::<u64>(), compounds in 1usize..8, staff in 0usize..12,
                                       tasks in 0usize..90) {
        let town = town(seed, compounds, staff, tasks);
        let p = propose(&town.input());
        check(&town, &p);
    }

    #[test]
    fn the_same_town_in_any_order_gets_the_same_proposal(seed in any::<u64>(), compounds in 1usize..8,
                                                         staff in 0usize..12, tasks in 0usize..90) {
        let mut town = town(seed, compounds, staff, tasks);
        let p = propose(&town.input());
        prop_assert_eq!(&p, &propose(&town.input()));
        let mut rng = SplitMix64::new(seed ^ 0x5EED);
        for i in (1..town.tasks.len()).rev() {
            town.tasks.swap(i, rng.below(i as u64 + 1) as usize);
        }
        town.staff.reverse();
        let q = propose(&town.input());
        prop_assert_eq!(p.by_staff().into_iter().map(|(s, mut t)| { t.sort(); (s, t) }).collect::<Vec<_>>(),
                        q.by_staff().into_iter().map(|(s, mut t)| { t.sort(); (s, t) }).collect::<Vec<_>>());
        prop_assert_eq!(p.loads, q.loads);
    }
}

#[test]
fn a_pin_stays_even_over_capacity_and_is_reported() {
    let mut town = town(7, 2, 0, 0);
    let c = town.compounds[0].id;
    let address = Address { compound: c, building: 1, unit: 1, room: "101".into() };
    town.staff = vec![
        Candidate { id: StaffId(1), home: None, capacity: 1, available: true, already_assigned: 1 },
        Candidate { id: StaffId(2), home: None, capacity: 5, available: false, already_assigned: 0 },
    ];
    town.tasks = (0..4u8)
        .map(|k| TaskToPlace {
            id: TaskId::v7(1, [k; 10]),
            address: address.clone(),
            pinned: [Some(StaffId(1)), Some(StaffId(2)), Some(StaffId(9)), None][k as usize],
        })
        .collect();
    let p = propose(&town.input());
    check(&town, &p);
    assert_eq!(p.assignments.len(), 1);
    assert_eq!(p.assignments[0].reason, Reason::Pinned);
    assert_eq!(
        p.unplaced.iter().map(|u| u.1).collect::<Vec<_>>(),
        vec![
            Unplaced::PinnedToUnavailable(StaffId(2)),
            Unplaced::PinnedToUnknownStaff(StaffId(9)),
            Unplaced::NoStaffWithCapacity
        ]
    );
    assert_eq!(p.over_capacity, vec![OverCapacity { staff: StaffId(1), load: 2, capacity: 1 }]);
}

#[test]
fn the_demo_evening_is_assigned_by_neighbourhood() {
    let t = demo_town();
    let town = Town {
        compounds: t.compounds.clone(),
        tasks: t.tasks.iter().map(TaskToPlace::from_task).collect(),
        staff: t.staff.iter().map(Candidate::from_staff).collect(),
    };
    let started = std::time::Instant::now();
    let p = propose(&town.input());
    let took = started.elapsed();
    check(&town, &p);

    let homes: BTreeMap<StaffId, CompoundId> =
        t.team().filter_map(|s| s.home.as_ref().map(|h| (s.id, h.compound))).collect();
    let staffed: BTreeSet<CompoundId> = homes.values().copied().collect();
    let f = Facts::new(&town, &p);
    println!("demo evening: {} tasks, {} team members, proposed in {took:?}", town.tasks.len(), homes.len());
    println!(
        "| compound | tasks | residents | loads of residents | sent out to (home compound: tasks, m) | unplaced |"
    );
    println!("|---|---:|---:|---|---|---:|");
    let unplaced: BTreeSet<TaskId> = p.unplaced.iter().map(|u| u.0).collect();
    for (c, n) in t.tasks_by_compound() {
        let residents: Vec<StaffId> = homes.iter().filter(|(_, h)| **h == c).map(|(s, _)| *s).collect();
        let loads: Vec<String> = residents.iter().map(|s| format!("{s}:{}", p.loads[s])).collect();
        let mut out: BTreeMap<CompoundId, (usize, f64)> = BTreeMap::new();
        let mut left = 0;
        for task in t.tasks.iter().filter(|x| x.address.compound == c) {
            if let Some((_, Reason::NearestWithCapacity { from, distance_m })) = f.placed.get(&task.id) {
                out.entry(*from).or_insert((0, *distance_m)).0 += 1;
            }
            left += usize::from(unplaced.contains(&task.id));
        }
        let out: Vec<String> = out.iter().map(|(g, (n, d))| format!("{g}: {n}, {d:.0}")).collect();
        println!("| {c} | {n} | {} | {} | {} | {left} |", residents.len(), loads.join(" "), out.join("; "));
    }

    // Tonight the team can take 363 of the 380 tasks: everyone ends exactly full, 17 tasks wait, none over capacity.
    let capacity: usize = t.team().map(|s| usize::from(s.capacity)).sum();
    assert_eq!(capacity, 363);
    assert_eq!(p.assignments.len(), capacity);
    assert!(t.team().all(|s| p.loads[&s.id] == s.capacity));
    assert_eq!(p.unplaced.len(), 380 - capacity);
    assert!(p.unplaced.iter().all(|u| u.1 == Unplaced::NoStaffWithCapacity));
    assert!(p.over_capacity.is_empty());

    // The three compounds without a resident team member are served from outside, all of their tasks, each at least
    // partly from the nearest compound whose residents have room left (C3's neighbours C2 and C4 are full with their
    // own), and the two small ones entirely from it.
    let unstaffed: Vec<CompoundId> = t.compounds.iter().map(|c| c.id).filter(|c| !staffed.contains(c)).collect();
    assert_eq!(unstaffed, vec![CompoundId(3), CompoundId(8), CompoundId(13)]);
    for c in &unstaffed {
        let from: BTreeSet<CompoundId> = t
            .tasks
            .iter()
            .filter(|x| x.address.compound == *c)
            .map(|x| match f.placed.get(&x.id) {
                Some((_, Reason::NearestWithCapacity { from, .. })) => *from,
                other => panic!("a task of unstaffed {c} is not served from outside: {other:?}"),
            })
            .collect();
        // Nearest among the compounds whose residents have room once their own tasks are done.
        let own = t.tasks_by_compound();
        let room = |g: &CompoundId| {
            t.team().filter(|s| homes[&s.id] == *g).map(|s| usize::from(s.capacity)).sum::<usize>() > own[g]
        };
        let nearest =
            staffed.iter().copied().filter(room).min_by(|a, b| f.distance(*c, *a).total_cmp(&f.distance(*c, *b)));
        assert!(from.contains(&nearest.expect("staffed compounds")), "{c} is not served from its nearest");
        if *c != CompoundId(3) {
            assert_eq!(from.len(), 1, "{c} is served from one compound");
        }
    }
    // A staffed compound's tasks leave it only once all its residents are full.
    for task in t.tasks.iter().filter(|x| staffed.contains(&x.address.compound)) {
        if !matches!(f.placed.get(&task.id), Some((_, Reason::LivesInCompound))) {
            let c = task.address.compound;
            assert!(t.team().filter(|s| homes[&s.id] == c).all(|s| p.loads[&s.id] == s.capacity));
        }
    }
}
