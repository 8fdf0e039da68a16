//! The device store's speed, printed as a table: recording events one by one and in batches (each at both
//! durability levels), and tonight's-route query over 50,000 stored tasks.
//!
//! Run: `cargo bench -p jx-store --bench store` (add `-- --quick` for a shorter run).

use jx_core::bytes::Sha256;
use jx_core::demo::{DEMO_EVENING, TownSize, generate};
use jx_core::event::{Actor, Envelope, EventPayload, FailureReason};
use jx_core::{DeviceId, EventId, StaffId, TaskSheet, Timestamp};
use jx_store::{DeviceIdentity, Durability, Store};
use std::time::{Duration, Instant};

fn assigned(sheet: &TaskSheet, staff: StaffId, n: u64) -> Envelope {
    Envelope {
        id: EventId::v7(n, [(n % 251) as u8; 10]),
        task: sheet.task.id,
        actor: Actor::Coordinator { staff: StaffId(9_999) },
        seq: n + 1,
        prev: Sha256::ZERO,
        at: Timestamp(DEMO_EVENING.millis() - 1_000),
        payload: EventPayload::Assigned { staff },
        signature: None,
    }
}

fn failed() -> EventPayload {
    EventPayload::AttemptFailed {
        reason: FailureReason::NobodyHome,
        note: "无人应门".into(),
        photos: vec![],
        retry_at: None,
    }
}

/// A store in a fresh temp dir holding `sheets`, each assigned to `staff_of(i)`.
fn store_with(
    sheets: &[TaskSheet],
    durability: Durability,
    staff_of: impl Fn(usize) -> StaffId,
) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = Store::open_with(dir.path(), durability).expect("opens");
    let id = DeviceIdentity {
        device: DeviceId(uuid::Uuid::from_u128(1)),
        staff: StaffId(1),
        centre_url: "http://127.0.0.1:1".into(),
        token: None,
    };
    s.enrol(&id, DEMO_EVENING).expect("enrols");
    let rows: Vec<_> =
        sheets.iter().enumerate().map(|(i, sh)| (sh.clone(), vec![assigned(sh, staff_of(i), i as u64)])).collect();
    for chunk in rows.chunks(5_000) {
        s.upsert_tasks(chunk, DEMO_EVENING).expect("stores");
    }
    (dir, s)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

struct Row {
    what: String,
    n: usize,
    total: Duration,
    median: Duration,
    p95: Duration,
}

fn print(rows: &[Row]) {
    println!("\n| operation | n | total | per op (median) | per op (p95) | ops/s |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {:.1} ms | {:.1} µs | {:.1} µs | {:.0} |",
            r.what,
            r.n,
            r.total.as_secs_f64() * 1e3,
            r.median.as_secs_f64() * 1e6,
            r.p95.as_secs_f64() * 1e6,
            r.n as f64 / r.total.as_secs_f64()
        );
    }
}

fn record_run(sheets: &[TaskSheet], durability: Durability, batch: usize, events: usize) -> Row {
    let (_dir, mut s) = store_with(sheets, durability, |_| StaffId(1));
    let mut per_event = Vec::with_capacity(events);
    let start = Instant::now();
    let mut done = 0;
    while done < events {
        let n = batch.min(events - done);
        let items = (0..n).map(|k| (sheets[(done + k) % sheets.len()].task.id, failed())).collect();
        let t = Instant::now();
        s.record_batch(items, DEMO_EVENING).expect("records");
        let each = t.elapsed() / n as u32;
        per_event.extend(std::iter::repeat_n(each, n));
        done += n;
    }
    let total = start.elapsed();
    per_event.sort();
    Row {
        what: format!("record, batch of {batch}, synchronous={durability:?}"),
        n: events,
        total,
        median: percentile(&per_event, 0.5),
        p95: percentile(&per_event, 0.95),
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let events = if quick { 200 } else { 1_000 };
    let evening = generate(7, TownSize { compounds: 13, staff: 25, residents: 3_000, deliveries: 300, pickups: 80 });
    let sheets: Vec<TaskSheet> = evening.tasks.iter().filter_map(|t| evening.sheet(t)).collect();

    let mut rows = Vec::new();
    for durability in [Durability::Full, Durability::Normal] {
        for batch in [1, 50] {
            rows.push(record_run(&sheets, durability, batch, events));
        }
    }

    // Tonight's route over 50,000 stored tasks: 1,250 staff members with 40 tasks each.
    let big = generate(8, TownSize { compounds: 13, staff: 25, residents: 3_000, deliveries: 42_000, pickups: 8_000 });
    let big_sheets: Vec<TaskSheet> = big.tasks.iter().filter_map(|t| big.sheet(t)).collect();
    let t = Instant::now();
    let (_dir, s) = store_with(&big_sheets, Durability::Full, |i| StaffId(1 + (i % 1_250) as u32));
    let load = t.elapsed();
    rows.push(Row {
        what: "store 50,000 tasks (upsert, 5,000 a transaction)".into(),
        n: big_sheets.len(),
        total: load,
        median: load / big_sheets.len() as u32,
        p95: load / big_sheets.len() as u32,
    });
    for (what, f) in
        [("tonight's route of one staff member (40 of 50,000 tasks)", 0), ("status bar counts (40 of 50,000 tasks)", 1)]
    {
        let reps = if quick { 100 } else { 500 };
        let mut times = Vec::with_capacity(reps);
        let start = Instant::now();
        for r in 0..reps {
            let staff = StaffId(1 + (r * 7 % 1_250) as u32);
            let t = Instant::now();
            if f == 0 {
                let stops = s.tonight(staff).expect("query");
                assert_eq!(stops.iter().map(|b| b.tasks.len()).sum::<usize>(), 40);
            } else {
                assert_eq!(s.status_bar(staff).expect("query").total, 40);
            }
            times.push(t.elapsed());
        }
        let total = start.elapsed();
        times.sort();
        rows.push(Row {
            what: what.into(),
            n: reps,
            total,
            median: percentile(&times, 0.5),
            p95: percentile(&times, 0.95),
        });
    }
    print(&rows);
    let ratio = |a: usize, b: usize| rows[a].total.as_secs_f64() / rows[b].total.as_secs_f64();
    println!(
        "\nbatch of 50 vs one by one, same run: {:.1}× faster (synchronous=FULL), {:.1}× faster (NORMAL)",
        ratio(0, 1),
        ratio(2, 3)
    );
    println!("synchronous=NORMAL vs FULL, one by one: {:.1}× faster", ratio(0, 2));
}
