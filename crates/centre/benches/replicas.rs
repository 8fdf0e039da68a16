//! Ingest at city scale, printed as a table: signed events from 200 phones at once (batches of 100), into the embedded
//! SQLite centre, and into PostgreSQL through 1, 2 and 4 replicas of the centre (each its own server and connection
//! pool on one database, as separate processes would be), all in the same run.
//!
//! Run: `bash scripts/bench.sh` (it starts a throwaway PostgreSQL), or `cargo bench -p jx-centre --bench replicas`
//! with `JX_TEST_POSTGRES` set to a cluster's admin URL (`-- --quick` for a shorter run).

mod common;

use common::{assign, fresh_database, login};
use jx_centre::{RunningCentre, Settings, start};
use jx_core::bytes::Sha256;
use jx_core::event::{Actor, Envelope, EventPayload, FailureReason};
use jx_core::wire::PushResponse;
use jx_core::{DeviceId, EventId, StaffId, TaskId, Timestamp};
use reqwest::Client;
use serde_json::json;
use std::time::Instant;

const DEVICES: usize = 200;
const STAFF: u32 = 20;
const TASKS_EACH: usize = 15;
const BATCH: usize = 100;

/// A phone: its staff member, device, token, key seed and tasks.
struct Phone {
    staff: StaffId,
    device: DeviceId,
    token: String,
    seed: u8,
    tasks: Vec<TaskId>,
}

/// Starts `replicas` centres on `database` (SQLite in a folder when none), each tasks assigned and 200 phones
/// enrolled, spread over the replicas.
async fn setup(database: Option<String>, replicas: usize, dir: &std::path::Path) -> (Vec<RunningCentre>, Vec<Phone>) {
    let mut centres = Vec::new();
    for _ in 0..replicas {
        let mut s = Settings::new(dir);
        s.listen = "127.0.0.1:0".parse().expect("addr");
        s.demo = true;
        s.database = database.clone();
        s.code_cost = jx_centre::codes::CodeCost { m_kib: 64, t: 1 };
        centres.push(start(s, false).await.expect("centre"));
    }
    let url = format!("{}/api/v1", centres[0].url());
    let http = Client::new();
    let coord = login(&http, &url, "c1").await;
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
        let tasks: Vec<TaskId> = created[(s as usize - 1) * TASKS_EACH..s as usize * TASKS_EACH]
            .iter()
            .map(|t| t["id"].as_str().expect("id").parse().expect("task id"))
            .collect();
        assign(&http, &url, &coord, StaffId(s), &tasks).await;
        let session = login(&http, &url, &format!("s{s:02}")).await;
        for k in 0..DEVICES / STAFF as usize {
            let seed = (s as usize * 10 + k) as u8;
            let device = DeviceId(uuid::Uuid::now_v7());
            let key = jx_core::sign::DeviceKey::from_secret([seed; 32]).public_hex();
            let enrol: serde_json::Value = http
                .post(format!("{url}/devices"))
                .bearer_auth(&session)
                .json(&json!({"device": device, "public_key": key}))
                .send()
                .await
                .expect("enrol")
                .json()
                .await
                .expect("json");
            let token = enrol["device_token"].as_str().expect("token").to_string();
            phones.push(Phone { staff: StaffId(s), device, token, seed, tasks: tasks.clone() });
        }
    }
    (centres, phones)
}

/// Every phone pushes `batches` batches of [`BATCH`] signed facts at once, each to its replica; events per second.
async fn ingest(centres: &[RunningCentre], phones: Vec<Phone>, batches: usize) -> (usize, usize, f64) {
    let urls: Vec<String> = centres.iter().map(|c| format!("{}/api/v1", c.url())).collect();
    let http = Client::builder().pool_max_idle_per_host(DEVICES).build().expect("client");
    let started = Instant::now();
    let mut handles = Vec::new();
    for (i, p) in phones.into_iter().enumerate() {
        let (http, url) = (http.clone(), urls[i % urls.len()].clone());
        handles.push(tokio::spawn(async move {
            let key = jx_core::sign::DeviceKey::from_secret([p.seed; 32]);
            let (mut seq, mut prev, mut accepted, mut busy) = (0u64, Sha256::ZERO, 0usize, 0usize);
            for b in 0..batches {
                let events: Vec<Envelope> = (0..BATCH)
                    .map(|k| {
                        seq += 1;
                        let mut e = Envelope {
                            id: EventId(uuid::Uuid::now_v7()),
                            task: p.tasks[(b * BATCH + k) % p.tasks.len()],
                            actor: Actor::Device { device: p.device, staff: p.staff },
                            seq,
                            prev,
                            at: Timestamp(jx_centre::db::now().millis() - 60_000 + seq as i64),
                            payload: EventPayload::AttemptFailed {
                                reason: FailureReason::NobodyHome,
                                note: String::new(),
                                photos: vec![],
                                retry_at: None,
                            },
                            signature: None,
                        };
                        key.sign(&mut e);
                        prev = e.chain_hash();
                        e
                    })
                    .collect();
                // As a phone does: a busy centre (503, Retry-After) gets the same batch again a moment later.
                let res: PushResponse = loop {
                    let res = http
                        .post(format!("{url}/sync/push"))
                        .bearer_auth(&p.token)
                        .json(&json!({"events": events}))
                        .send()
                        .await
                        .expect("push");
                    if res.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE {
                        busy += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        continue;
                    }
                    assert!(res.status().is_success(), "push: {}", res.status());
                    break res.json().await.expect("push answer");
                };
                accepted += res.results.iter().filter(|r| r.outcome == jx_core::wire::PushOutcome::Accepted).count();
            }
            (accepted, busy)
        }));
    }
    let (mut accepted, mut busy) = (0, 0);
    for h in handles {
        let (a, b) = h.await.expect("joined");
        accepted += a;
        busy += b;
    }
    (accepted, busy, accepted as f64 / started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let batches = if quick { 1 } else { 2 };
    let mut runs: Vec<(String, Option<String>, usize)> = vec![("SQLite (embedded)".into(), None, 1)];
    match std::env::var("JX_TEST_POSTGRES") {
        Ok(admin) => {
            for n in [1, 2, 4] {
                runs.push((format!("PostgreSQL, {n} replica{}", if n > 1 { "s" } else { "" }), Some(admin.clone()), n));
            }
        }
        Err(_) => println!("(JX_TEST_POSTGRES is not set: SQLite only; scripts/bench.sh runs PostgreSQL too)"),
    }
    println!(
        "| ingest: {DEVICES} phones at once, batches of {BATCH} | events accepted | pushes sent again (503) | events/s | ÷ SQLite |"
    );
    println!("|---|---:|---:|---:|---:|");
    let mut base = None;
    for (label, admin, replicas) in runs {
        let dir = tempfile::tempdir().expect("tempdir");
        let database = match admin {
            Some(a) => Some(fresh_database(&a).await),
            None => None,
        };
        let (centres, phones) = setup(database, replicas, dir.path()).await;
        let (accepted, busy, rate) = ingest(&centres, phones, batches).await;
        let base_rate = *base.get_or_insert(rate);
        println!("| {label} | {accepted} | {busy} | {rate:.0} | {:.2}× |", rate / base_rate);
        for c in centres {
            c.stop().await.expect("stops");
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("\n({cores} cores here: the phones, every replica and PostgreSQL share them.)");
}
