use super::*;
use crate::bytes::Sha256;
use crate::event::{FailureReason, HandoffProof};
use crate::ids::DeviceId;
use crate::time::Timestamp;
use proptest::prelude::*;
use uuid::Uuid;

const TASK: TaskId = TaskId(Uuid::from_u128(0xA11CE));
const S1: StaffId = StaffId(1);
const S2: StaffId = StaffId(2);

fn phone(n: u128, staff: StaffId) -> Actor {
    Actor::Device { device: DeviceId(Uuid::from_u128(n)), staff }
}

fn coordinator() -> Actor {
    Actor::Coordinator { staff: StaffId(100) }
}

fn ev(id: u128, actor: Actor, seq: u64, at: i64, payload: EventPayload) -> Envelope {
    Envelope {
        id: EventId(Uuid::from_u128(id)),
        task: TASK,
        actor,
        seq,
        prev: Sha256::ZERO,
        at: Timestamp(at),
        payload,
        signature: None,
    }
}

fn delivered() -> EventPayload {
    EventPayload::Delivered { proof: HandoffProof::default() }
}

fn failed() -> EventPayload {
    EventPayload::AttemptFailed {
        reason: FailureReason::NobodyHome,
        note: String::new(),
        photos: vec![],
        retry_at: None,
    }
}

fn run(kind: TaskKind, events: &[Envelope]) -> Result<TaskState, TransitionError> {
    events.iter().try_fold(TaskState::new(TASK, kind), |s, e| s.apply(e))
}

#[test]
fn a_delivery_goes_from_created_to_delivered() {
    let events = [
        ev(1, coordinator(), 1, 10, EventPayload::Assigned { staff: S1 }),
        ev(2, coordinator(), 2, 20, EventPayload::CheckedOut { staff: S1 }),
        ev(3, phone(1, S1), 1, 30, failed()),
        ev(4, phone(1, S1), 2, 40, delivered()),
    ];
    let s = run(TaskKind::Delivery, &events).expect("valid history");
    assert_eq!(s.status, TaskStatus::Delivered);
    assert_eq!(s.assignee, Some(S1));
    assert_eq!(s.attempts, 1);
    assert!(!s.has_conflicts());
}

#[test]
fn a_pickup_goes_from_requested_to_handed_in() {
    let events = [
        ev(1, coordinator(), 1, 10, EventPayload::Assigned { staff: S1 }),
        ev(2, phone(1, S1), 1, 30, EventPayload::Collected { proof: HandoffProof::default(), materials: vec![] }),
        ev(3, coordinator(), 2, 40, EventPayload::HandedIn),
    ];
    let s = run(TaskKind::Pickup, &events).expect("valid history");
    assert_eq!(s.status, TaskStatus::HandedIn);
}

#[test]
fn an_impossible_transition_names_the_task_the_state_and_the_event() {
    let e = ev(9, coordinator(), 1, 10, EventPayload::HandedIn);
    let err = TaskState::new(TASK, TaskKind::Pickup).apply(&e).expect_err("nothing collected yet");
    assert_eq!(
        err,
        TransitionError::Impossible {
            task: TASK,
            state: TaskStatus::Requested,
            event: e.id,
            event_kind: EventKind::HandedIn
        }
    );
    let msg = err.to_string();
    assert!(msg.contains(&TASK.to_string()) && msg.contains("requested") && msg.contains("handed_in"), "{msg}");
}

#[test]
fn a_phone_cannot_record_a_coordinators_decision_nor_a_coordinator_a_door_fact() {
    let s = TaskState::new(TASK, TaskKind::Delivery);
    let by_phone = ev(1, phone(1, S1), 1, 10, EventPayload::Cancelled { reason: "x".into() });
    assert!(matches!(s.apply(&by_phone), Err(TransitionError::NotPermitted { .. })));
    let by_coordinator = ev(2, coordinator(), 1, 10, delivered());
    assert!(matches!(s.apply(&by_coordinator), Err(TransitionError::NotPermitted { .. })));
}

#[test]
fn a_delivery_event_on_a_pickup_is_the_wrong_kind() {
    let s =
        run(TaskKind::Pickup, &[ev(1, coordinator(), 1, 10, EventPayload::Assigned { staff: S1 })]).expect("assigned");
    let err = s.apply(&ev(2, phone(1, S1), 1, 20, delivered())).expect_err("pickups are collected");
    assert!(matches!(err, TransitionError::WrongKind { kind: TaskKind::Pickup, .. }), "{err}");
}

#[test]
fn checking_out_to_someone_else_than_the_assignee_is_refused() {
    let s = run(TaskKind::Delivery, &[ev(1, coordinator(), 1, 10, EventPayload::Assigned { staff: S1 })])
        .expect("assigned");
    let err = s.apply(&ev(2, coordinator(), 2, 20, EventPayload::CheckedOut { staff: S2 })).expect_err("wrong staff");
    assert!(matches!(err, TransitionError::WrongStaff { to: S2, assignee: Some(S1), .. }));
}

#[test]
fn applying_an_event_twice_is_the_same_as_once() {
    let a = ev(1, coordinator(), 1, 10, EventPayload::Assigned { staff: S1 });
    let f = ev(2, phone(1, S1), 1, 20, failed());
    let once = run(TaskKind::Delivery, &[a.clone(), f.clone()]).expect("valid");
    let twice = run(TaskKind::Delivery, &[a.clone(), f.clone(), f.clone(), a]).expect("duplicates are accepted");
    assert_eq!(once, twice);
    assert_eq!(twice.attempts, 1);
}

#[test]
fn a_delivery_after_a_cancellation_is_kept_and_flagged() {
    let events = [
        ev(1, coordinator(), 1, 10, EventPayload::Assigned { staff: S1 }),
        ev(2, coordinator(), 2, 20, EventPayload::Cancelled { reason: "resident collected it".into() }),
        ev(3, phone(1, S1), 1, 30, delivered()),
    ];
    let s = run(TaskKind::Delivery, &events).expect("conflicts are not errors");
    assert_eq!(s.status, TaskStatus::Delivered, "the packet was handed over: the fact stands");
    assert_eq!(s.conflicts.len(), 1);
    assert_eq!(s.conflicts[0].event, events[2].id);
    assert_eq!(s.conflicts[0].kind, ConflictKind::AfterCancel);
}

#[test]
fn a_delivery_after_an_unseen_reassignment_is_kept_and_flagged() {
    let events = [
        ev(1, coordinator(), 1, 10, EventPayload::Assigned { staff: S1 }),
        ev(2, coordinator(), 2, 20, EventPayload::Reassigned { staff: S2 }),
        ev(3, phone(1, S1), 1, 30, delivered()),
    ];
    let s = run(TaskKind::Delivery, &events).expect("conflicts are not errors");
    assert_eq!(s.status, TaskStatus::Delivered);
    assert_eq!(s.conflicts[0].kind, ConflictKind::NotAssignee { assignee: Some(S2) });
}

#[test]
fn cancelling_an_already_delivered_task_changes_nothing_but_is_flagged() {
    let events = [
        ev(1, coordinator(), 1, 10, EventPayload::Assigned { staff: S1 }),
        ev(2, phone(1, S1), 1, 30, delivered()),
        ev(3, coordinator(), 2, 40, EventPayload::Cancelled { reason: "late".into() }),
    ];
    let s = run(TaskKind::Delivery, &events).expect("conflicts are not errors");
    assert_eq!(s.status, TaskStatus::Delivered);
    assert_eq!(s.conflicts[0].kind, ConflictKind::DecisionAfterFact { status: TaskStatus::Delivered });
}

#[test]
fn fold_keeps_an_impossible_event_as_a_conflict_instead_of_dropping_it() {
    let bad = ev(1, coordinator(), 1, 10, EventPayload::HandedIn);
    let s = fold(TASK, TaskKind::Delivery, [&bad]);
    assert!(s.applied.contains(&bad.id));
    assert!(matches!(s.conflicts[0].kind, ConflictKind::Impossible { .. }));
}

#[test]
fn fold_orders_a_lagging_phone_after_what_it_had_seen() {
    // The phone's own clock says 5, but it had seen the checkout at 20: its recorder stamps 21.
    let at = Timestamp::next_after(Timestamp(5), Some(Timestamp(20))).millis();
    let events = [
        ev(3, phone(1, S1), 1, at, delivered()),
        ev(2, coordinator(), 2, 20, EventPayload::CheckedOut { staff: S1 }),
        ev(1, coordinator(), 1, 10, EventPayload::Assigned { staff: S1 }),
    ];
    let s = fold(TASK, TaskKind::Delivery, &events);
    assert_eq!(s.status, TaskStatus::Delivered);
    assert!(!s.has_conflicts(), "{:?}", s.conflicts);
}

#[test]
fn accepting_a_late_delivery_by_the_former_assignee_clears_it_and_makes_them_the_assignee() {
    let events = [
        ev(1, coordinator(), 1, 10, EventPayload::Assigned { staff: S1 }),
        ev(2, coordinator(), 2, 20, EventPayload::Reassigned { staff: S2 }),
        ev(3, phone(1, S1), 1, 30, delivered()),
    ];
    let flagged = run(TaskKind::Delivery, &events).expect("conflicts are not errors");
    assert_eq!(flagged.assignee, Some(S2));
    let accept = ev(
        4,
        coordinator(),
        3,
        40,
        EventPayload::ConflictAccepted { event: events[2].id, staff: Some(S1), note: "S1 had the packet".into() },
    );
    let s = flagged.apply(&accept).expect("the conflict is there");
    assert!(!s.has_conflicts());
    assert_eq!(s.assignee, Some(S1));
    assert_eq!(s.status, TaskStatus::Delivered, "accepting changes no status");
    // Accepting it again, by a new decision, is impossible: it is no longer a conflict.
    let again = ev(
        5,
        coordinator(),
        4,
        50,
        EventPayload::ConflictAccepted { event: events[2].id, staff: None, note: String::new() },
    );
    let err = s.apply(&again).expect_err("nothing to accept");
    assert!(matches!(err, TransitionError::Impossible { event_kind: EventKind::ConflictAccepted, .. }), "{err}");
    // fold keeps it, flagged.
    let all: Vec<Envelope> = events.iter().cloned().chain([accept, again.clone()]).collect();
    let folded = fold(TASK, TaskKind::Delivery, &all);
    assert_eq!(folded.assignee, Some(S1));
    assert_eq!(folded.conflicts.len(), 1);
    assert_eq!(folded.conflicts[0].event, again.id);
    assert!(matches!(folded.conflicts[0].kind, ConflictKind::Impossible { .. }));
}

#[test]
fn accepting_a_conflict_without_a_staff_member_keeps_the_assignee() {
    let events = [
        ev(1, coordinator(), 1, 10, EventPayload::Assigned { staff: S1 }),
        ev(2, coordinator(), 2, 20, EventPayload::Cancelled { reason: "came in".into() }),
        ev(3, phone(1, S1), 1, 30, delivered()),
        ev(
            4,
            coordinator(),
            3,
            40,
            EventPayload::ConflictAccepted { event: EventId(Uuid::from_u128(3)), staff: None, note: String::new() },
        ),
    ];
    let s = run(TaskKind::Delivery, &events).expect("valid");
    assert!(!s.has_conflicts());
    assert_eq!((s.status, s.assignee), (TaskStatus::Delivered, Some(S1)));
    // A phone cannot accept conflicts.
    let by_phone = ev(
        5,
        phone(1, S1),
        2,
        50,
        EventPayload::ConflictAccepted { event: events[2].id, staff: None, note: String::new() },
    );
    assert!(matches!(s.apply(&by_phone), Err(TransitionError::NotPermitted { .. })));
}

#[test]
fn proof_is_asked_for_only_on_a_settled_handoff_and_changes_nothing() {
    let ask = |id| {
        ev(id, coordinator(), id as u64, id as i64 * 10, EventPayload::ProofRequested { note: "photo blurred".into() })
    };
    let assigned = run(TaskKind::Delivery, &[ev(1, coordinator(), 1, 10, EventPayload::Assigned { staff: S1 })])
        .expect("assigned");
    let err = assigned.apply(&ask(2)).expect_err("nothing handed over yet");
    assert!(matches!(
        err,
        TransitionError::Impossible { state: TaskStatus::Assigned, event_kind: EventKind::ProofRequested, .. }
    ));
    let delivered = assigned.apply(&ev(3, phone(1, S1), 1, 30, delivered())).expect("delivered");
    let asked = delivered.apply(&ask(4)).expect("settled");
    assert_eq!(TaskState { applied: delivered.applied.clone(), ..asked.clone() }, delivered);
    assert!(asked.applied.contains(&ask(4).id));
    let by_phone = ev(5, phone(1, S1), 2, 50, EventPayload::ProofRequested { note: String::new() });
    assert!(matches!(delivered.apply(&by_phone), Err(TransitionError::NotPermitted { .. })));
}

#[test]
fn proof_is_added_and_accepted_only_after_a_handoff_and_changes_nothing() {
    let added = || EventPayload::ProofAdded { photos: vec![], note: "补拍门牌".into() };
    let accepted = || EventPayload::ProofAccepted { note: String::new() };
    let assigned = run(TaskKind::Delivery, &[ev(1, coordinator(), 1, 10, EventPayload::Assigned { staff: S1 })])
        .expect("assigned");
    for (id, actor, payload) in [(2, phone(1, S1), added()), (3, coordinator(), accepted())] {
        let err = assigned.apply(&ev(id, actor, 2, 20, payload)).expect_err("nothing handed over yet");
        assert!(matches!(err, TransitionError::Impossible { state: TaskStatus::Assigned, .. }), "{err:?}");
    }
    let failed = assigned.apply(&ev(4, phone(1, S1), 1, 30, failed())).expect("failed");
    assert!(matches!(failed.apply(&ev(5, phone(1, S1), 2, 31, added())), Err(TransitionError::Impossible { .. })));
    let delivered = failed.apply(&ev(6, phone(1, S1), 2, 40, delivered())).expect("delivered");
    let with_more = delivered.apply(&ev(7, phone(1, S1), 3, 50, added())).expect("added");
    let settled = with_more.apply(&ev(8, coordinator(), 2, 60, accepted())).expect("accepted");
    assert_eq!(TaskState { applied: delivered.applied.clone(), ..settled.clone() }, delivered);
    assert!(!settled.has_conflicts());
    // Proof is added by a phone and accepted by a coordinator, never the other way round.
    assert!(matches!(
        delivered.apply(&ev(9, coordinator(), 3, 70, added())),
        Err(TransitionError::NotPermitted { event_kind: EventKind::ProofAdded, .. })
    ));
    assert!(matches!(
        delivered.apply(&ev(10, phone(1, S1), 4, 70, accepted())),
        Err(TransitionError::NotPermitted { event_kind: EventKind::ProofAccepted, .. })
    ));
    // A pickup: handed in at the counter, its proof can still be added to and accepted.
    let pickup = run(
        TaskKind::Pickup,
        &[
            ev(11, coordinator(), 1, 10, EventPayload::Assigned { staff: S1 }),
            ev(12, phone(1, S1), 1, 20, EventPayload::Collected { proof: HandoffProof::default(), materials: vec![] }),
            ev(13, coordinator(), 2, 30, EventPayload::HandedIn),
            ev(14, phone(1, S1), 2, 40, added()),
            ev(15, coordinator(), 3, 50, accepted()),
        ],
    )
    .expect("valid");
    assert_eq!((pickup.status, pickup.conflicts.len()), (TaskStatus::HandedIn, 0));
}

fn left() -> EventPayload {
    EventPayload::DoorCardLeft { card: "JX1:card".into() }
}

fn booked() -> EventPayload {
    EventPayload::Rescheduled { at: Timestamp(1_000), card: "JX1:card".into() }
}

#[test]
fn a_door_card_follows_a_failed_visit_and_changes_nothing() {
    let assigned = run(TaskKind::Delivery, &[ev(1, coordinator(), 1, 10, EventPayload::Assigned { staff: S1 })])
        .expect("assigned");
    // Nothing failed yet: there is no visit to leave a card at.
    let early = assigned.apply(&ev(2, phone(1, S1), 1, 20, left())).expect_err("no failed visit yet");
    assert!(matches!(early, TransitionError::Impossible { event_kind: EventKind::DoorCardLeft, .. }));
    let failed = assigned.apply(&ev(3, phone(1, S1), 1, 30, failed())).expect("failed");
    let with_card = failed.apply(&ev(4, phone(1, S1), 2, 31, left())).expect("card left");
    assert_eq!(TaskState { applied: failed.applied.clone(), ..with_card.clone() }, failed);
    // Only a phone leaves a card; only the centre (or a coordinator) books.
    let by_coordinator = ev(5, coordinator(), 2, 32, left());
    assert!(matches!(failed.apply(&by_coordinator), Err(TransitionError::NotPermitted { .. })));
    let by_phone = ev(6, phone(1, S1), 3, 33, booked());
    assert!(matches!(with_card.apply(&by_phone), Err(TransitionError::NotPermitted { .. })));
    // The booking changes nothing either; the task stays with its assignee.
    let rescheduled = with_card.apply(&ev(7, Actor::Centre, 1, 40, booked())).expect("booked");
    assert_eq!(TaskState { applied: with_card.applied.clone(), ..rescheduled.clone() }, with_card);
    assert_eq!((rescheduled.status, rescheduled.assignee), (TaskStatus::AttemptFailed, Some(S1)));
    // The packet handed out again: still open, still bookable.
    let out = rescheduled.apply(&ev(8, coordinator(), 2, 50, EventPayload::CheckedOut { staff: S1 })).expect("out");
    assert!(out.apply(&ev(9, Actor::Centre, 2, 60, booked())).is_ok());
}

#[test]
fn a_booking_needs_an_open_door_after_a_failed_visit() {
    let base = [
        ev(1, coordinator(), 1, 10, EventPayload::Assigned { staff: S1 }),
        ev(2, phone(1, S1), 1, 20, failed()),
        ev(3, phone(1, S1), 2, 21, left()),
    ];
    let never_failed = run(TaskKind::Delivery, &base[..1]).expect("assigned");
    assert!(matches!(
        never_failed.apply(&ev(9, Actor::Centre, 1, 30, booked())),
        Err(TransitionError::Impossible { event_kind: EventKind::Rescheduled, .. })
    ));
    let cancelled = run(TaskKind::Delivery, &base)
        .and_then(|s| s.apply(&ev(4, coordinator(), 2, 30, EventPayload::Cancelled { reason: String::new() })))
        .expect("cancelled");
    assert!(matches!(cancelled.apply(&ev(9, Actor::Centre, 1, 40, booked())), Err(TransitionError::Impossible { .. })));
    // Delivered offline before the resident booked: the booking is kept, flagged, and changes nothing.
    let mut late = base.to_vec();
    late.push(ev(5, phone(1, S1), 3, 30, delivered()));
    late.push(ev(6, Actor::Centre, 1, 40, booked()));
    let s = fold(TASK, TaskKind::Delivery, &late);
    assert_eq!(s.status, TaskStatus::Delivered);
    assert_eq!(s.conflicts.len(), 1, "{:?}", s.conflicts);
    assert_eq!(s.conflicts[0].kind, ConflictKind::DecisionAfterFact { status: TaskStatus::Delivered });
    // A card recorded after a cancellation the phone had not seen is kept and changes nothing.
    let mut after_cancel = base[..2].to_vec();
    after_cancel.push(ev(7, coordinator(), 2, 20, EventPayload::Cancelled { reason: String::new() }));
    after_cancel.push(ev(8, phone(1, S1), 2, 22, left()));
    let s = fold(TASK, TaskKind::Delivery, &after_cancel);
    assert_eq!((s.status, s.conflicts.len()), (TaskStatus::Cancelled, 0), "{:?}", s.conflicts);
}

// ---- properties ----

/// A random history: up to four actors (a coordinator and three phones, two of them the same staff member's),
/// each recording random events with its own increasing sequence numbers.
fn history() -> impl Strategy<Value = (TaskKind, Vec<Envelope>)> {
    let kind = prop_oneof![Just(TaskKind::Delivery), Just(TaskKind::Pickup)];
    let step = (0usize..4, 0usize..15, 0usize..4, -5i64..50, 1u128..25);
    (kind, prop::collection::vec(step, 0..24)).prop_map(|(kind, steps)| {
        let actors = [coordinator(), phone(1, S1), phone(2, S2), phone(3, S1)];
        let mut seq = [0u64; 4];
        let mut clock = [0i64; 4];
        let events = steps
            .into_iter()
            .enumerate()
            .map(|(i, (a, p, who, dt, target))| {
                seq[a] += 1;
                // Clocks mostly move forward but may jump back (a phone whose time was reset).
                clock[a] += dt;
                let staff = [S1, S2, StaffId(3), S1][who];
                let payload = match p {
                    0 => EventPayload::Assigned { staff },
                    1 => EventPayload::Reassigned { staff },
                    2 => EventPayload::CheckedOut { staff },
                    3 => delivered(),
                    4 => failed(),
                    5 => EventPayload::Collected { proof: HandoffProof::default(), materials: vec![] },
                    6 => EventPayload::HandedIn,
                    7 => EventPayload::Returned { note: String::new() },
                    8 => EventPayload::Cancelled { reason: String::new() },
                    // Accepting some event of the history (or one that is not in it), as its recorder's or nobody's.
                    9 => EventPayload::ConflictAccepted {
                        event: EventId(Uuid::from_u128(target)),
                        staff: (who < 3).then_some(staff),
                        note: String::new(),
                    },
                    10 => EventPayload::ProofRequested { note: String::new() },
                    11 => EventPayload::DoorCardLeft { card: "JX1:card".into() },
                    13 => EventPayload::ProofAdded { photos: vec![], note: String::new() },
                    14 => EventPayload::ProofAccepted { note: String::new() },
                    _ => EventPayload::Rescheduled { at: Timestamp(clock[a] + 100), card: "JX1:card".into() },
                };
                ev(i as u128 + 1, actors[a], seq[a], clock[a], payload)
            })
            .collect();
        (kind, events)
    })
}

/// Another arrival order of the same events that keeps each actor's own order, with some events delivered twice.
fn rearrive(events: &[Envelope], picks: &[usize], dups: &[usize]) -> Vec<Envelope> {
    let mut chains: BTreeMap<Actor, std::collections::VecDeque<Envelope>> = BTreeMap::new();
    for e in events {
        chains.entry(e.actor).or_default().push_back(e.clone());
    }
    let mut out = Vec::new();
    let mut k = 0;
    while chains.values().any(|c| !c.is_empty()) {
        let live: Vec<Actor> = chains.iter().filter(|(_, c)| !c.is_empty()).map(|(a, _)| *a).collect();
        let pick = live[picks.get(k).copied().unwrap_or(0) % live.len()];
        k += 1;
        if let Some(e) = chains.get_mut(&pick).and_then(|c| c.pop_front()) {
            out.push(e);
        }
    }
    for &d in dups {
        if !events.is_empty() {
            let e = events[d % events.len()].clone();
            let at = d % (out.len() + 1);
            out.insert(at, e);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_interleaving_with_duplicates_folds_to_the_same_state(
        (kind, events) in history(),
        picks in prop::collection::vec(0usize..8, 0..40),
        dups in prop::collection::vec(0usize..64, 0..6),
    ) {
        let reference = fold(TASK, kind, &events);
        let other = rearrive(&events, &picks, &dups);
        prop_assert_eq!(fold(TASK, kind, &other), reference.clone());
        // Nothing is dropped: every distinct event is accounted for.
        prop_assert_eq!(reference.applied.len(), events.len());
    }

    #[test]
    fn canonical_order_keeps_each_actors_own_order_even_when_its_clock_went_back(
        (_kind, events) in history(),
        picks in prop::collection::vec(0usize..8, 0..40),
    ) {
        let arrived = rearrive(&events, &picks, &[]);
        let ordered = canonical_order(&arrived);
        let mut last: BTreeMap<Actor, u64> = BTreeMap::new();
        for e in ordered {
            let prev = last.insert(e.actor, e.seq).unwrap_or(0);
            prop_assert!(e.seq > prev, "actor {} went from seq {} to {}", e.actor, prev, e.seq);
        }
    }

    #[test]
    fn apply_is_idempotent_and_fold_agrees_with_a_strict_replay(
        (kind, events) in history(),
    ) {
        // Replaying the canonical order strictly either succeeds with exactly fold's state, or stops at an event
        // that fold kept as an impossible conflict.
        let folded = fold(TASK, kind, &events);
        let mut s = TaskState::new(TASK, kind);
        let mut strict_ok = true;
        for e in canonical_order(&events) {
            match s.apply(e) {
                Ok(next) => {
                    let again = next.apply(e);
                    prop_assert_eq!(again.as_ref(), Ok(&next), "second apply changed the state");
                    s = next;
                }
                Err(_) => {
                    strict_ok = false;
                    let kept = folded.conflicts.iter().any(|c| {
                        c.event == e.id && matches!(c.kind, ConflictKind::Impossible { .. })
                    });
                    // A coordinator may have accepted it since: then its flag is gone, but it was still applied.
                    let accepted = events.iter().any(|a| {
                        matches!(&a.payload, EventPayload::ConflictAccepted { event, .. } if *event == e.id)
                    });
                    prop_assert!(kept || accepted, "event {} was neither applied nor kept", e.id);
                    prop_assert!(folded.applied.contains(&e.id));
                    break;
                }
            }
        }
        if strict_ok {
            prop_assert_eq!(s, folded);
        }
    }

    /// Accepting one of a task's conflicts removes exactly that one, sets the assignee only when a staff member is
    /// named, and touches nothing else; accepting an event that is not a conflict is impossible.
    #[test]
    fn accepting_a_conflict_clears_exactly_it(
        (kind, events) in history(),
        pick in 0usize..64,
        with_staff in proptest::bool::ANY,
        stranger in 100u128..200,
    ) {
        let s = fold(TASK, kind, &events);
        let late = |id: u128, payload| ev(id, coordinator(), 1_000, 10_000, payload);
        let not_a_conflict = EventId(Uuid::from_u128(stranger));
        let refused = s.apply(&late(1_000, EventPayload::ConflictAccepted { event: not_a_conflict, staff: None, note: String::new() }));
        let is_impossible = matches!(refused, Err(TransitionError::Impossible { .. }));
        prop_assert!(is_impossible);
        if !s.conflicts.is_empty() {
            let target = s.conflicts[pick % s.conflicts.len()].event;
            let staff = with_staff.then_some(S2);
            let next = s
                .apply(&late(1_001, EventPayload::ConflictAccepted { event: target, staff, note: String::new() }))
                .expect("a conflict can be accepted");
            let kept: Vec<Conflict> = s.conflicts.iter().filter(|c| c.event != target).cloned().collect();
            prop_assert_eq!(&next.conflicts, &kept);
            prop_assert_eq!(next.assignee, staff.or(s.assignee));
            prop_assert_eq!((next.status, next.attempts), (s.status, s.attempts));
        }
    }

    /// Asking for proof is possible exactly on a delivered, collected or handed-in task, and changes nothing but
    /// the set of applied events.
    #[test]
    fn asking_for_proof_changes_nothing((kind, events) in history()) {
        let s = fold(TASK, kind, &events);
        let ask = ev(1_000, coordinator(), 1_000, 10_000, EventPayload::ProofRequested { note: String::new() });
        match s.apply(&ask) {
            Ok(next) => {
                prop_assert!(matches!(s.status, TaskStatus::Delivered | TaskStatus::Collected | TaskStatus::HandedIn));
                prop_assert_eq!(TaskState { applied: s.applied.clone(), ..next }, s);
            }
            Err(e) => {
                prop_assert!(!matches!(s.status, TaskStatus::Delivered | TaskStatus::Collected | TaskStatus::HandedIn));
                let is_impossible = matches!(e, TransitionError::Impossible { .. });
                prop_assert!(is_impossible);
            }
        }
    }
}
