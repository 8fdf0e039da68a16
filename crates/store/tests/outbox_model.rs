//! The outbox as a state machine, checked against a model with random sequences of operations (proptest):
//! pending → sent → acknowledged, rejection keeps its reason and blocks nothing, acknowledgement is final, and the
//! chain stays whole whatever happens.

mod common;

use common::*;
use jx_core::event::{EventPayload, FailureReason};
use jx_core::{EventId, StaffId};
use jx_store::{Durability, OutboxStatus, Store};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Op {
    Record(usize),
    MarkSent(Vec<usize>),
    Acknowledge(Vec<usize>),
    Reject(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0usize..4).prop_map(Op::Record),
        2 => prop::collection::vec(0usize..32, 0..5).prop_map(Op::MarkSent),
        2 => prop::collection::vec(0usize..32, 0..5).prop_map(Op::Acknowledge),
        1 => (0usize..32).prop_map(Op::Reject),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_outbox_follows_its_model(ops in prop::collection::vec(op(), 1..30)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let staff = StaffId(3);
        let mut s = Store::open_with(dir.path(), Durability::Normal).expect("opens");
        s.enrol(&identity(staff), T0).expect("enrols");
        s.upsert_tasks(&assigned_sheets(staff, 4, 0), T0).expect("tasks");
        let mut ids: Vec<EventId> = Vec::new();
        let mut model: BTreeMap<EventId, OutboxStatus> = BTreeMap::new();
        let pick = |ids: &Vec<EventId>, i: usize| if ids.is_empty() { None } else { Some(ids[i % ids.len()]) };
        for op in ops {
            match op {
                Op::Record(t) => {
                    let payload = EventPayload::AttemptFailed {
                        reason: FailureReason::NobodyHome, note: String::new(), photos: vec![], retry_at: None,
                    };
                    let e = s.record(town().tasks[t].id, payload, T0).expect("records");
                    ids.push(e.id);
                    model.insert(e.id, OutboxStatus::Pending);
                }
                Op::MarkSent(is) => {
                    let chosen: Vec<_> = is.iter().filter_map(|&i| pick(&ids, i)).collect();
                    s.mark_sent(&chosen).expect("marks");
                    for id in chosen {
                        if model[&id] == OutboxStatus::Pending {
                            model.insert(id, OutboxStatus::Sent);
                        }
                    }
                }
                Op::Acknowledge(is) => {
                    let chosen: Vec<_> = is.iter().filter_map(|&i| pick(&ids, i)).collect();
                    s.acknowledge(&chosen).expect("acks");
                    for id in chosen {
                        model.insert(id, OutboxStatus::Acknowledged);
                    }
                }
                Op::Reject(i) => {
                    if let Some(id) = pick(&ids, i) {
                        s.reject(id, "refused").expect("rejects");
                        if matches!(model[&id], OutboxStatus::Pending | OutboxStatus::Sent) {
                            model.insert(id, OutboxStatus::Rejected);
                        }
                    }
                }
            }
            let waiting: Vec<EventId> = ids
                .iter()
                .copied()
                .filter(|id| matches!(model[id], OutboxStatus::Pending | OutboxStatus::Sent))
                .collect();
            let outbox: Vec<EventId> = s.outbox(1_000).expect("reads").iter().map(|o| o.envelope.id).collect();
            prop_assert_eq!(outbox, waiting, "the outbox is every unacknowledged, unrejected event, in order");
            for (id, want) in &model {
                let got = s.event(*id).expect("reads").expect("never lost");
                prop_assert_eq!(got.status, *want);
                prop_assert_eq!(got.reason.is_some(), *want == OutboxStatus::Rejected);
            }
            let c = s.outbox_counts().expect("counts");
            prop_assert_eq!((c.pending + c.sent + c.acknowledged + c.rejected) as usize, ids.len());
        }
        prop_assert_eq!(s.verify_chain().expect("chain"), ids.len() as u64);
    }
}
