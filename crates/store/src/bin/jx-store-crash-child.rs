//! A child process for the store's kill test: it records events with photos in a loop and prints a line for every
//! event whose record call has returned, until it is killed. Not part of the app.
//!
//! Usage: `jx-store-crash-child <store dir> <seed>`

use jx_core::bytes::Sha256;
use jx_core::demo::{DEMO_EVENING, demo_town};
use jx_core::event::{Actor, Envelope, EventPayload, FailureReason};
use jx_core::rng::SplitMix64;
use jx_core::{DeviceId, EventId, StaffId, Timestamp};
use jx_store::{DeviceIdentity, Store};
use std::io::Write;

const STAFF: StaffId = StaffId(1);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: jx-store-crash-child <dir> <seed>")?;
    let seed: u64 = args.next().ok_or("missing seed")?.parse()?;
    let mut rng = SplitMix64::new(seed);
    let mut store = Store::open(&dir)?;
    if store.identity()?.is_none() {
        let device = DeviceId(uuid::Uuid::from_u128(0xC0FFEE));
        store.enrol(
            &DeviceIdentity { device, staff: STAFF, centre_url: "http://127.0.0.1:1".into(), token: None },
            DEMO_EVENING,
        )?;
    }
    let town = demo_town();
    let tasks: Vec<_> = town.tasks.iter().take(20).collect();
    let sheets: Vec<_> = tasks
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let assign = Envelope {
                id: EventId::v7(1, [i as u8; 10]),
                task: t.id,
                actor: Actor::Coordinator { staff: StaffId(99) },
                seq: i as u64 + 1,
                prev: Sha256::ZERO,
                at: Timestamp(DEMO_EVENING.millis() - 1000),
                payload: EventPayload::Assigned { staff: STAFF },
                signature: None,
            };
            Some((town.sheet(t)?, vec![assign]))
        })
        .collect();
    store.upsert_tasks(&sheets, DEMO_EVENING)?;
    let out = std::io::stdout();
    let mut out = out.lock();
    writeln!(out, "READY")?;
    out.flush()?;
    for round in 0u64.. {
        let now = jx_store::now();
        let batch = if round % 5 == 4 { 3 } else { 1 };
        let mut items = Vec::new();
        let mut photos = Vec::new();
        for _ in 0..batch {
            let size = rng.range(2_000, 60_000) as usize;
            let mut photo = vec![0xFF, 0xD8, 0xFF];
            photo.extend((0..size).map(|_| rng.next_u64() as u8));
            let hash = store.put_blob(&photo, now)?;
            photos.push(hash);
            let task = tasks[rng.below(tasks.len() as u64) as usize].id;
            let reason = FailureReason::NobodyHome;
            items.push((
                task,
                EventPayload::AttemptFailed { reason, note: String::new(), photos: vec![hash], retry_at: None },
            ));
        }
        let recorded = store.record_batch(items, now)?;
        for (e, p) in recorded.iter().zip(&photos) {
            writeln!(out, "E {} {}", e.id, p)?;
        }
        out.flush()?;
    }
    Ok(())
}
