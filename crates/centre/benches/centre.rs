//! The centre's speed over loopback, printed as a table: event ingest (batches of 100 from 20 devices at once),
//! pull latency for one staff member's evening among 50,000 tasks, and photo upload throughput.
//!
//! Run: `cargo bench -p jx-centre --bench centre` (add `-- --quick` for a shorter run).

mod common;

use common::{assign, fresh_database, login};
use jx_centre::{Settings, start, town};
use jx_core::bytes::Sha256;
use jx_core::event::{Actor, Envelope, EventPayload, FailureReason};
use jx_core::model::{ProofPolicy, Task, TaskKind};
use jx_core::rng::SplitMix64;
use jx_core::wire::PushResponse;
use jx_core::{DeviceId, EventId, StaffId, TaskId, Timestamp};
use reqwest::Client;
use serde_json::json;
use std::time::{Duration, Instant};

const STAFF: u32 = 20;
const TASKS_EACH: usize = 40;

struct Row {
    what: String,
    n: usize,
    total: Duration,
    median: Duration,
    p95: Duration,
    unit: &'static str,
    rate: f64,
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let mut backends = vec![("SQLite", None)];
    match std::env::var("JX_TEST_POSTGRES") {
        Ok(admin) => backends.push(("PostgreSQL", Some(fresh_database(&admin).await))),
        Err(_) => println!("(JX_TEST_POSTGRES is not set: SQLite only; scripts/bench.sh runs both)"),
    }
    let mut all = Vec::new();
    for (label, database) in backends {
        let (rows, fill) = run(quick, database).await;
        println!("\n{label} back end; 50,000 tasks loaded in {:.1} s\n", fill.as_secs_f64());
        print(&rows);
        println!("\nbatch of 100 vs batch of 1, same run: {:.1}× the events per second", rows[1].rate / rows[2].rate);
        all.push((label, rows));
    }
    if let [(a, ra), (b, rb)] = &all[..] {
        println!("\n{b} vs {a}, same run (rate ratio):");
        for (x, y) in ra.iter().zip(rb) {
            println!("- {}: {:.2}×", x.what, y.rate / x.rate);
        }
    }
}

fn print(rows: &[Row]) {
    println!("| operation | n | total | per request (median) | per request (p95) | rate |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {:.0} ms | {:.1} ms | {:.1} ms | {:.0} {} |",
            r.what,
            r.n,
            r.total.as_secs_f64() * 1e3,
            r.median.as_secs_f64() * 1e3,
            r.p95.as_secs_f64() * 1e3,
            r.rate,
            r.unit
        );
    }
}

async fn run(quick: bool, database: Option<String>) -> (Vec<Row>, Duration) {
    let batches_each = if quick { 2 } else { 5 };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = Settings::new(dir.path());
    settings.listen = "127.0.0.1:0".parse().expect("addr");
    settings.demo = true;
    settings.database = database;
    settings.max_json_bytes = 16 * 1024 * 1024;

    // 50,000 tasks: the demo evening plus filler from other evenings and centres' backlogs.
    let state = jx_centre::open_state(settings.clone()).await.expect("state");
    let t0 = Instant::now();
    state
        .db
        .call(|tx| {
            let mut rng = SplitMix64::new(99);
            let have = tx.query_one("SELECT count(*) FROM tasks", jx_centre::params![])?.int(0)? as usize;
            for i in have..50_000 {
                let t = Task {
                    id: TaskId::v7(1_700_000_000_000 + i as u64, rng.bytes()),
                    kind: if i % 5 == 0 { TaskKind::Pickup } else { TaskKind::Delivery },
                    case_number: format!("BENCH-{i}"),
                    service_item: jx_core::ServiceItemId(1 + (i % 20) as u32),
                    resident: jx_core::ResidentId(1 + (i % 3000) as u32),
                    address: jx_core::model::Address {
                        compound: jx_core::CompoundId(1 + (i % 13) as u32),
                        building: 1,
                        unit: 1,
                        room: "101".into(),
                    },
                    proof: ProofPolicy::standard(TaskKind::Delivery),
                    follows: None,
                };
                town::insert_task(tx, &t, Timestamp(0))?;
            }
            Ok(())
        })
        .await
        .expect("filler");
    let fill = t0.elapsed();
    drop(state);
    let running = start(settings, false).await.expect("centre");
    let url = format!("{}/api/v1", running.url());
    let http = Client::new();
    let coord = login(&http, &url, "c1").await;

    // Each of 20 staff members gets an evening of 40 tasks and enrols a phone.
    let created: Vec<serde_json::Value> = http
        .get(format!("{url}/tasks?status=created"))
        .bearer_auth(&coord)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let mut phones = Vec::new();
    for s in 1..=STAFF {
        let mine: Vec<TaskId> = created[(s as usize - 1) * TASKS_EACH..s as usize * TASKS_EACH]
            .iter()
            .map(|t| t["id"].as_str().expect("id").parse().expect("task id"))
            .collect();
        assign(&http, &url, &coord, StaffId(s), &mine).await;
        let session = login(&http, &url, &format!("s{s:02}")).await;
        let device = DeviceId(uuid::Uuid::now_v7());
        let enrol: serde_json::Value = http
            .post(format!("{url}/devices"))
            .bearer_auth(&session)
            .json(&json!({"device": device, "public_key": hex::encode(ed25519_dalek::SigningKey::from_bytes(&[s as u8; 32]).verifying_key().to_bytes())}))
            .send()
            .await
            .expect("enrol")
            .json()
            .await
            .expect("json");
        phones.push((StaffId(s), device, enrol["device_token"].as_str().expect("token").to_string(), mine));
    }

    let mut rows = Vec::new();
    // Pull: one staff member's whole evening, first sync, among 50,000 tasks.
    let mut times = Vec::new();
    let reps = if quick { 20 } else { 100 };
    for r in 0..reps {
        let (_, _, token, _) = &phones[r % phones.len()];
        let t = Instant::now();
        let res: serde_json::Value = http
            .get(format!("{url}/sync/pull?limit=200"))
            .bearer_auth(token)
            .send()
            .await
            .expect("pull")
            .json()
            .await
            .expect("json");
        times.push(t.elapsed());
        assert_eq!(res["changes"].as_array().map(Vec::len), Some(TASKS_EACH));
    }
    let total: Duration = times.iter().sum();
    rows.push(Row {
        what: format!("pull a {TASKS_EACH}-task evening out of 50,000 tasks (first sync)"),
        n: reps,
        total,
        median: pct(&mut times, 0.5),
        p95: pct(&mut times, 0.95),
        unit: "pulls/s",
        rate: reps as f64 / total.as_secs_f64(),
    });

    // Ingest: 20 devices at once, each pushing batches of 100 of its facts.
    for batch in [100usize, 1] {
        let per_device = if batch == 1 { 20 } else { batches_each * 100 };
        let start_all = Instant::now();
        let mut handles = Vec::new();
        for (staff, device, token, mine) in phones.clone() {
            let (http, url) = (http.clone(), url.clone());
            handles.push(tokio::spawn(async move {
                // Continue this device's chain where the previous round left it.
                let mut times = Vec::new();
                let mut seq_prev =
                    DEVICE_CHAINS.lock().expect("lock").get(&device).copied().unwrap_or((0, Sha256::ZERO));
                let mut sent = 0;
                while sent < per_device {
                    let events: Vec<Envelope> = (0..batch)
                        .map(|k| {
                            seq_prev.0 += 1;
                            let mut e = Envelope {
                                id: EventId(uuid::Uuid::now_v7()),
                                task: mine[(sent + k) % mine.len()],
                                actor: Actor::Device { device, staff },
                                seq: seq_prev.0,
                                prev: seq_prev.1,
                                // Now (inside the window the centre takes), a millisecond apart on one device.
                                at: Timestamp(jx_centre::db::now().millis() - 60_000 + (sent + k) as i64),
                                payload: EventPayload::AttemptFailed {
                                    reason: FailureReason::NobodyHome,
                                    note: String::new(),
                                    photos: vec![],
                                    retry_at: None,
                                },
                                signature: None,
                            };
                            jx_core::sign::DeviceKey::from_secret([staff.0 as u8; 32]).sign(&mut e);
                            seq_prev.1 = e.chain_hash();
                            e
                        })
                        .collect();
                    let t = Instant::now();
                    let res: PushResponse = http
                        .post(format!("{url}/sync/push"))
                        .bearer_auth(&token)
                        .json(&json!({"events": events}))
                        .send()
                        .await
                        .expect("push")
                        .json()
                        .await
                        .expect("json");
                    times.push(t.elapsed());
                    assert!(res.results.iter().all(|r| r.outcome == jx_core::wire::PushOutcome::Accepted));
                    sent += batch;
                }
                DEVICE_CHAINS.lock().expect("lock").insert(device, seq_prev);
                times
            }));
        }
        let mut times = Vec::new();
        for h in handles {
            times.extend(h.await.expect("device task"));
        }
        let total = start_all.elapsed();
        let events = per_device * phones.len();
        rows.push(Row {
            what: format!("ingest, batch of {batch}, 20 devices at once (per request)"),
            n: events,
            total,
            median: pct(&mut times, 0.5),
            p95: pct(&mut times, 0.95),
            unit: "events/s",
            rate: events as f64 / total.as_secs_f64(),
        });
    }

    // Blobs: 300 KB photos, 4 uploads at once.
    let photos = if quick { 40 } else { 200 };
    let start_all = Instant::now();
    let mut handles = Vec::new();
    for (w, phone) in phones.iter().take(4).enumerate() {
        let (http, url, token) = (http.clone(), url.clone(), phone.2.clone());
        handles.push(tokio::spawn(async move {
            let mut rng = SplitMix64::new(w as u64);
            let mut times = Vec::new();
            for _ in 0..photos / 4 {
                // A real photo of about 300 KB: the centre decodes every upload.
                let b = jx_proof::photo::sample_jpeg(rng.next_u64(), 880, 660);
                let h = Sha256::of(&b);
                let t = Instant::now();
                let res = http
                    .put(format!("{url}/blobs/{h}"))
                    .bearer_auth(&token)
                    .header("content-type", "image/jpeg")
                    .body(b)
                    .send()
                    .await
                    .expect("put");
                assert_eq!(res.status(), reqwest::StatusCode::CREATED);
                times.push(t.elapsed());
            }
            times
        }));
    }
    let mut times = Vec::new();
    for h in handles {
        times.extend(h.await.expect("uploader"));
    }
    let total = start_all.elapsed();
    rows.push(Row {
        what: "upload 300 KB photos, 4 at once".into(),
        n: photos,
        total,
        median: pct(&mut times, 0.5),
        p95: pct(&mut times, 0.95),
        unit: "MB/s",
        rate: photos as f64 * 0.3072 / total.as_secs_f64(),
    });

    running.stop().await.expect("stops");
    (rows, fill)
}

static DEVICE_CHAINS: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<DeviceId, (u64, Sha256)>>> =
    std::sync::LazyLock::new(Default::default);
