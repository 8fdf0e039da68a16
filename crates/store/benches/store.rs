//! The device store's speed, printed as a table: recording events one by one and in batches (each at both
//! durability levels), tonight's-route query over 50,000 stored tasks, and keeping a photo; each of these also on
//! a store encrypted at rest (SQLCipher, photo files sealed), as the phone runs it, with the cost of encryption as
//! ratios measured in the same run.
//!
//! Run: `cargo bench -p jx-store --bench store` (add `-- --quick` for a shorter run).

use jx_core::bytes::Sha256;
use jx_core::demo::{DEMO_EVENING, TownSize, generate};
use jx_core::event::{Actor, Envelope, EventPayload, FailureReason};
use jx_core::{DeviceId, EventId, StaffId, TaskSheet, Timestamp};
use jx_store::{DeviceIdentity, Durability, Store, StoreKey};
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

/// How the bench opens a store: plain at a durability, or encrypted (at the default, `Full`, as the phone does).
#[derive(Clone, Copy, Debug)]
enum Open {
    Plain(Durability),
    Encrypted,
}

impl Open {
    fn label(self) -> String {
        match self {
            Open::Plain(d) => format!("synchronous={d:?}"),
            Open::Encrypted => "synchronous=Full, encrypted".into(),
        }
    }
}

const KEY: StoreKey = StoreKey([7; 32]);

/// A store in a fresh temp dir holding `sheets`, each assigned to `staff_of(i)`.
fn store_with(sheets: &[TaskSheet], open: Open, staff_of: impl Fn(usize) -> StaffId) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = match open {
        Open::Plain(durability) => Store::open_with(dir.path(), durability),
        Open::Encrypted => Store::open_encrypted(dir.path(), &KEY),
    }
    .expect("opens");
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

fn record_run(sheets: &[TaskSheet], open: Open, batch: usize, events: usize) -> Row {
    let (_dir, mut s) = store_with(sheets, open, |_| StaffId(1));
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
        what: format!("record, batch of {batch}, {}", open.label()),
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
    for open in [Open::Plain(Durability::Full), Open::Plain(Durability::Normal), Open::Encrypted] {
        for batch in [1, 50] {
            rows.push(record_run(&sheets, open, batch, events));
        }
    }
    for open in [Open::Plain(Durability::Full), Open::Encrypted] {
        rows.push(photo_run(&sheets, open, if quick { 20 } else { 60 }));
    }

    // Tonight's route over 50,000 stored tasks: 1,250 staff members with 40 tasks each.
    let big = generate(8, TownSize { compounds: 13, staff: 25, residents: 3_000, deliveries: 42_000, pickups: 8_000 });
    let big_sheets: Vec<TaskSheet> = big.tasks.iter().filter_map(|t| big.sheet(t)).collect();
    let reps = if quick { 100 } else { 500 };
    for open in [Open::Plain(Durability::Full), Open::Encrypted] {
        rows.extend(route_rows(&big_sheets, open, reps, 1_250));
    }
    // A phone's own evening: 80 tasks, 40 each for two staff members (the second, a colleague's, kept a while).
    for open in [Open::Plain(Durability::Full), Open::Encrypted] {
        rows.extend(route_rows(&big_sheets[..80], open, reps, 2));
    }
    print(&rows);
    let ratio = |a: usize, b: usize| rows[a].total.as_secs_f64() / rows[b].total.as_secs_f64();
    println!(
        "\nbatch of 50 vs one by one, same run: {:.1}× faster (synchronous=FULL), {:.1}× faster (NORMAL)",
        ratio(0, 1),
        ratio(2, 3)
    );
    println!("synchronous=NORMAL vs FULL, one by one: {:.1}× faster", ratio(0, 2));
    println!(
        "encrypted vs plain (both FULL), time taken: record one by one {:.2}×, batch of 50 {:.2}×, keep a photo \
         {:.2}×, store 50,000 tasks {:.2}×, tonight's route {:.2}×, status bar {:.2}×",
        ratio(4, 0),
        ratio(5, 1),
        ratio(7, 6),
        ratio(11, 8),
        ratio(12, 9),
        ratio(13, 10)
    );
    println!(
        "encrypted vs plain on a phone's 80 tasks: store them {:.2}×, tonight's route {:.2}×, status bar {:.2}×",
        ratio(17, 14),
        ratio(18, 15),
        ratio(19, 16)
    );
}

/// Keeping `n` distinct photos of a phone camera's size after normalising (~300 KB each): hashed, written (sealed
/// on an encrypted store) and recorded.
fn photo_run(sheets: &[TaskSheet], open: Open, n: usize) -> Row {
    let (_dir, mut s) = store_with(&sheets[..1], open, |_| StaffId(1));
    let mut times = Vec::with_capacity(n);
    let start = Instant::now();
    for i in 0..n {
        let mut bytes = vec![0u8; 300 * 1024];
        for (k, b) in bytes.iter_mut().enumerate() {
            *b = ((k * 31 + i * 7) % 251) as u8;
        }
        let t = Instant::now();
        s.put_blob(&bytes, DEMO_EVENING).expect("keeps");
        times.push(t.elapsed());
    }
    let total = start.elapsed();
    times.sort();
    Row {
        what: format!("keep a 300 KB photo, {}", open.label()),
        n,
        total,
        median: percentile(&times, 0.5),
        p95: percentile(&times, 0.95),
    }
}

/// Loading `sheets` into a fresh store, shared evenly by `staff` staff members, then tonight's route and the status
/// bar of one of them, `reps` times.
fn route_rows(sheets: &[TaskSheet], open: Open, reps: usize, staff: usize) -> Vec<Row> {
    let t = Instant::now();
    let (_dir, s) = store_with(sheets, open, |i| StaffId(1 + (i % staff) as u32));
    let load = t.elapsed();
    let (n, each) = (sheets.len(), sheets.len() / staff);
    let mut rows = vec![Row {
        what: format!("store {n} tasks (upsert, 5,000 a transaction), {}", open.label()),
        n: sheets.len(),
        total: load,
        median: load / sheets.len() as u32,
        p95: load / sheets.len() as u32,
    }];
    for (what, f) in [("tonight's route of one staff member", 0), ("status bar counts", 1)] {
        let mut times = Vec::with_capacity(reps);
        let start = Instant::now();
        for r in 0..reps {
            let who = StaffId(1 + (r * 7 % staff) as u32);
            let t = Instant::now();
            if f == 0 {
                let stops = s.tonight(who).expect("query");
                assert_eq!(stops.iter().map(|b| b.tasks.len()).sum::<usize>(), each);
            } else {
                assert_eq!(s.status_bar(who).expect("query").total as usize, each);
            }
            times.push(t.elapsed());
        }
        let total = start.elapsed();
        times.sort();
        rows.push(Row {
            what: format!("{what} ({each} of {n} tasks), {}", open.label()),
            n: reps,
            total,
            median: percentile(&times, 0.5),
            p95: percentile(&times, 0.95),
        });
    }
    rows
}
