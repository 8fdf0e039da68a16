//! Shared set-up for the store's integration tests: the demo town's evening on an enrolled phone.
#![allow(dead_code)]

use jx_core::bytes::Sha256;
use jx_core::demo::{DemoTown, demo_town};
use jx_core::event::{Actor, Envelope, EventPayload};
use jx_core::{DeviceId, EventId, StaffId, TaskId, TaskSheet, Timestamp};
use jx_store::{DeviceIdentity, Store};
use std::sync::OnceLock;
use uuid::Uuid;

pub const T0: Timestamp = jx_core::demo::DEMO_EVENING;

pub fn town() -> &'static DemoTown {
    static TOWN: OnceLock<DemoTown> = OnceLock::new();
    TOWN.get_or_init(demo_town)
}

pub fn identity(staff: StaffId) -> DeviceIdentity {
    DeviceIdentity {
        device: DeviceId(Uuid::from_u128(0xD0 + staff.0 as u128)),
        staff,
        centre_url: "http://127.0.0.1:1".into(),
        token: Some("t".into()),
    }
}

/// A coordinator's `Assigned` event, as the centre would send it in a task's history.
pub fn assigned(task: TaskId, staff: StaffId, seq: u64) -> Envelope {
    Envelope {
        id: EventId::v7(T0.millis() as u64 - 3_600_000, [seq as u8; 10]),
        task,
        actor: Actor::Coordinator { staff: StaffId(900) },
        seq,
        prev: Sha256::ZERO,
        at: Timestamp(T0.millis() - 3_600_000 + seq as i64),
        payload: EventPayload::Assigned { staff },
        signature: None,
    }
}

/// `n` of the demo evening's tasks as sheets, assigned to `staff`, with their histories.
pub fn assigned_sheets(staff: StaffId, n: usize, skip: usize) -> Vec<(TaskSheet, Vec<Envelope>)> {
    let t = town();
    t.tasks
        .iter()
        .skip(skip)
        .take(n)
        .enumerate()
        .map(|(i, task)| {
            let sheet = t.sheet(task).expect("demo tasks have sheets");
            (sheet, vec![assigned(task.id, staff, (skip + i) as u64 + 1)])
        })
        .collect()
}

/// The centre's code-signing key in these tests.
pub fn centre_signer() -> jx_core::token::TokenSigner {
    jx_core::token::TokenSigner::from_secret(1, [5; 32])
}

/// Everything a delivery's standard policy asks for: the packet's and the resident's signed codes, the photo, the
/// position.
pub fn full_delivery_proof(task: TaskId, photo: jx_core::bytes::Sha256) -> jx_core::event::HandoffProof {
    use jx_core::token::TokenKind;
    jx_core::event::HandoffProof {
        packet: Some(centre_signer().issue(TokenKind::PacketLabel, task, T0)),
        confirmation: Some(jx_core::event::Confirmation::ResidentQr {
            token: centre_signer().issue(TokenKind::ResidentConfirmation, task, T0),
        }),
        photos: vec![photo],
        position: Some(jx_core::event::Fix { at: jx_core::geo::LatLng { lat: 31.19, lng: 121.43 }, accuracy_m: 10.0 }),
        rating: Some(5),
    }
}

/// A fresh store in `dir`, enrolled for `staff`, holding `n` assigned tasks and the centre's keys.
pub fn enrolled_store(dir: &std::path::Path, staff: StaffId, n: usize) -> Store {
    let mut s = Store::open(dir).expect("opens");
    s.enrol(&identity(staff), T0).expect("enrols");
    s.set_keyring(&jx_core::token::Keyring(vec![centre_signer().public()])).expect("keys stored");
    s.upsert_tasks(&assigned_sheets(staff, n, 0), T0).expect("tasks stored");
    s
}
