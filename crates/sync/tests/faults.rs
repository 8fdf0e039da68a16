//! The sync engine proven over loopback against a real centre, through a proxy that cuts connections mid-request
//! and mid-response, delays them, and takes the link down; with phone processes killed mid-round (SIGKILL) and the
//! centre crashed and restarted. After every run: every event recorded on every phone is at the centre exactly
//! once, every photo is there with the right hash, and every phone's view of its tasks matches the centre's.

mod common;

use common::*;
use jx_core::bytes::Sha256;
use jx_core::event::{EventPayload, FailureReason};
use jx_core::rng::SplitMix64;
use jx_core::{EventId, TaskId};
use jx_store::{OutboxStatus, Store};
use jx_sync::{SyncConfig, SyncEngine, SyncError, SyncState};
use reqwest::Method;
use std::collections::{BTreeMap, HashMap};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The store's database file and its write-ahead log, as text.
fn file_text(dir: &std::path::Path) -> String {
    let mut bytes = std::fs::read(dir.join(jx_store::DB_FILE)).expect("db file");
    bytes.extend(std::fs::read(dir.join(format!("{}-wal", jx_store::DB_FILE))).unwrap_or_default());
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The misbehaving link of the randomised runs.
const FLAKY: Faults =
    Faults { down: false, cut_request: 0.3, cut_response: 0.3, delay: 0.2, max_delay: Duration::from_millis(80) };

/// A real photo (the centre decodes every upload) of about `size` bytes, its own for each draw.
fn photo(rng: &mut SplitMix64, size: usize) -> Vec<u8> {
    jx_proof::photo::sample_jpeg(rng.next_u64(), 160, (size / 80).max(8) as u32)
}

fn quick_config(url: String, token: String) -> SyncConfig {
    let mut c = SyncConfig::new(url, token);
    c.request_timeout = Duration::from_secs(5);
    c.backoff = jx_sync::Backoff::new(Duration::from_millis(20), Duration::from_millis(200), 4);
    c.push_batch = 25;
    c
}

/// Records a fact about a random task on the phone's route, with a photo.
fn record(
    store: &Arc<Mutex<Store>>,
    rng: &mut SplitMix64,
    staff: jx_core::StaffId,
    tokens: &HashMap<TaskId, (String, String)>,
) -> (EventId, Sha256) {
    let mut s = store.lock().expect("lock");
    let tasks: Vec<TaskId> =
        s.tonight(staff).expect("route").into_iter().flat_map(|stop| stop.tasks).map(|t| t.id).collect();
    let size = rng.range(2_000, 40_000) as usize;
    let bytes = photo(rng, size);
    let hash = s.put_blob(&bytes, jx_store::now()).expect("photo stored");
    let task = tasks[rng.below(tasks.len() as u64) as usize];
    let payload = if rng.chance(0.15) {
        EventPayload::Delivered { proof: full_proof(&tokens[&task], hash) }
    } else {
        EventPayload::AttemptFailed {
            reason: FailureReason::NobodyHome,
            note: String::new(),
            photos: vec![hash],
            retry_at: None,
        }
    };
    let e = s.record(task, payload, jx_store::now()).expect("recorded");
    (e.id, hash)
}

/// Every phone event must be at the centre exactly once, every photo whole, and each phone's tasks and states the
/// centre's.
async fn verify(centre: &Centre, coord: &str, phones: &[(Phone, Arc<Mutex<Store>>)]) -> usize {
    let api = centre.api();
    let all = call(Method::GET, format!("{api}/tasks"), Some(coord), None).await;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut centre_status: BTreeMap<String, (String, Option<u64>)> = BTreeMap::new();
    for t in all.as_array().expect("tasks") {
        let id = t["id"].as_str().expect("id").to_string();
        if t["assignee"].is_null() {
            continue;
        }
        let d = call(Method::GET, format!("{api}/tasks/{id}"), Some(coord), None).await;
        for e in d["history"].as_array().expect("history") {
            *seen.entry(e["id"].as_str().expect("event id").to_string()).or_default() += 1;
        }
        centre_status
            .insert(id, (d["state"]["status"].as_str().expect("status").to_string(), d["state"]["assignee"].as_u64()));
    }
    let mut checked = 0;
    for (phone, store) in phones {
        let (chain, route) = {
            let s = store.lock().expect("lock");
            (s.chain().expect("chain"), s.tonight(phone.staff).expect("route"))
        };
        for entry in &chain {
            let id = entry.envelope.id.to_string();
            assert_eq!(entry.status, OutboxStatus::Acknowledged, "{id}: {:?} {:?}", entry.status, entry.reason);
            assert_eq!(seen.get(&id), Some(&1), "event {id} of {} must be at the centre exactly once", phone.staff);
            for hash in entry.envelope.payload.blobs() {
                let res = reqwest::Client::new()
                    .get(format!("{api}/blobs/{hash}"))
                    .bearer_auth(coord)
                    .send()
                    .await
                    .expect("reaches the centre");
                assert!(res.status().is_success(), "photo {hash} missing at the centre");
                assert_eq!(Sha256::of(&res.bytes().await.expect("bytes")), hash, "photo {hash} damaged");
            }
            checked += 1;
        }
        // The phone's tasks are exactly the centre's tasks for this staff member, in the same states.
        let mine: BTreeMap<String, String> = route
            .into_iter()
            .flat_map(|stop| stop.tasks)
            .map(|t| (t.id.to_string(), t.status.as_str().to_string()))
            .collect();
        let theirs: BTreeMap<String, String> = centre_status
            .iter()
            .filter(|(_, (status, a))| *a == Some(phone.staff.0 as u64) && status != "cancelled")
            .map(|(id, (status, _))| (id.clone(), status.clone()))
            .collect();
        assert_eq!(mine, theirs, "{}'s phone and the centre disagree", phone.staff);
    }
    checked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_offline_for_a_week_catches_up_in_one_round() {
    let centre = Centre::start().await;
    let api = centre.api();
    let coord = login(&api, "c1").await;
    // Staff member 1 carries the demo's last-week history; the tests use the others.
    let tasks = assign(&api, &coord, 3, 30).await;
    let tokens = tokens(&api, &coord, &tasks).await;
    let root = tempfile::tempdir().expect("tempdir");
    let phone = enrol(&api, root.path(), 3).await;
    let proxy = Proxy::start(centre.addr(), 1).await;
    let store = Arc::new(Mutex::new(Store::open(&phone.dir).expect("opens")));
    let engine = SyncEngine::new(Arc::clone(&store), quick_config(proxy.url(), phone.token.clone())).expect("engine");
    engine.sync_now().await.expect("first sync brings the evening");
    assert_eq!(
        store.lock().expect("lock").tonight(phone.staff).expect("route").iter().map(|s| s.tasks.len()).sum::<usize>(),
        30
    );

    proxy.set(Faults { down: true, ..Faults::NONE });
    let mut rng = SplitMix64::new(7);
    for _ in 0..300 {
        record(&store, &mut rng, phone.staff, &tokens);
    }
    let err = engine.sync_now().await.expect_err("no link");
    assert!(matches!(err, SyncError::Offline(_)), "{err}");
    let status = engine.status();
    assert_eq!(status.state, SyncState::Offline);
    assert!(status.last_error.is_some());
    assert_eq!(
        store.lock().expect("lock").outbox_counts().expect("counts").waiting(),
        300,
        "nothing lost, nothing sent"
    );

    proxy.set(Faults::NONE);
    let report = engine.sync_now().await.expect("one round catches up");
    assert_eq!(report.accepted, 300);
    assert_eq!(report.blobs_uploaded, 300);
    let status = engine.status();
    assert_eq!(status.state, SyncState::Idle);
    assert_eq!((status.progress.events_sent, status.progress.events_total), (300, 300));
    assert_eq!((status.progress.blobs_sent, status.progress.blobs_total), (300, 300));
    assert!(status.last_success.is_some());
    // A completed upload is never sent again.
    let again = engine.sync_now().await.expect("nothing to do");
    assert_eq!((again.accepted, again.blobs_uploaded), (0, 0));
    assert_eq!(verify(&centre, &coord, &[(phone, store)]).await, 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_phone_stops_and_says_why() {
    let centre = Centre::start().await;
    let api = centre.api();
    let coord = login(&api, "c1").await;
    let root = tempfile::tempdir().expect("tempdir");
    let phone = enrol(&api, root.path(), 2).await;
    assign(&api, &coord, 2, 5).await;
    let store = Arc::new(Mutex::new(Store::open(&phone.dir).expect("opens")));
    let engine =
        SyncEngine::new(Arc::clone(&store), quick_config(format!("http://{}", centre.addr()), phone.token.clone()))
            .expect("engine");
    engine.sync_now().await.expect("syncs");
    assert!(file_text(&phone.dir).contains("resident_name"), "the sheets were stored");
    assert_eq!(
        store.lock().expect("lock").tonight(phone.staff).expect("route").iter().map(|s| s.tasks.len()).sum::<usize>(),
        5
    );
    call(Method::POST, format!("{api}/devices/{}/revoke", phone.device), Some(&coord), None).await;
    let started = Instant::now();
    let err = engine.sync_now().await.expect_err("refused");
    assert!(started.elapsed() < Duration::from_secs(1), "a refusal is not retried");
    assert!(matches!(&err, SyncError::Unauthorized { code, .. } if code == "device_revoked"), "{err}");
    assert_eq!(engine.status().state, SyncState::Refused { code: "device_revoked".into() });
    // The revoked phone keeps nothing: no identity (back to enrolment), no tasks, no residents.
    let s = store.lock().expect("lock");
    assert!(s.identity().expect("reads").is_none());
    assert!(s.tonight(phone.staff).expect("reads").is_empty());
    assert!(!file_text(&phone.dir).contains("resident_name"), "no task sheet is left in the file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_the_centre_never_issued_makes_the_phone_fetch_everything_again() {
    let centre = Centre::start().await;
    let api = centre.api();
    let coord = login(&api, "c1").await;
    let root = tempfile::tempdir().expect("tempdir");
    let phone = enrol(&api, root.path(), 3).await;
    assign(&api, &coord, 3, 4).await;
    let store = Arc::new(Mutex::new(Store::open(&phone.dir).expect("opens")));
    let engine =
        SyncEngine::new(Arc::clone(&store), quick_config(format!("http://{}", centre.addr()), phone.token.clone()))
            .expect("engine");
    // A cursor from another life (a centre restored from an older backup): the centre says it does not know it...
    let res = reqwest::Client::new()
        .get(format!("{api}/sync/pull?since=999999"))
        .bearer_auth(&phone.token)
        .send()
        .await
        .expect("reaches the centre");
    assert_eq!(res.status(), reqwest::StatusCode::CONFLICT);
    let v: serde_json::Value = res.json().await.expect("json");
    assert_eq!(v["code"], "cursor_unknown", "{v}");
    // ...and a phone holding one fetches everything again, rather than skipping what lies between.
    store.lock().expect("lock").set_cursor("999999").expect("cursor");
    let report = engine.sync_now().await.expect("syncs");
    assert_eq!(report.tasks_updated, 4, "{report:?}");
    let tasks: usize =
        store.lock().expect("lock").tonight(phone.staff).expect("route").iter().map(|s| s.tasks.len()).sum();
    assert_eq!(tasks, 4);
    assert_ne!(store.lock().expect("lock").cursor().expect("cursor").as_deref(), Some("999999"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn randomised_faults_kills_and_restarts_lose_nothing_and_duplicate_nothing() {
    let runs: u64 = std::env::var("JX_FAULT_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let deadline = Instant::now() + Duration::from_secs(240);
    let child = env!("CARGO_BIN_EXE_jx-sync-once");
    let (mut kills, mut restarts, mut events) = (0, 0, 0);
    let mut faults = Vec::new();
    for run in 0..runs {
        if Instant::now() > deadline {
            break;
        }
        let mut rng = SplitMix64::new(0xFA17 + run);
        let mut centre = Centre::start().await;
        let api = centre.api();
        let coord = login(&api, "c1").await;
        let root = tempfile::tempdir().expect("tempdir");
        let proxy = Proxy::start(centre.addr(), run).await;
        let mut phones = Vec::new();
        let mut task_lists = Vec::new();
        let mut all_tokens = HashMap::new();
        for staff in 2..=4u32 {
            let tasks = assign(&api, &coord, staff, 8).await;
            all_tokens.extend(tokens(&api, &coord, &tasks).await);
            task_lists.push(tasks);
            let phone = enrol(&api, root.path(), staff).await;
            let store = Arc::new(Mutex::new(Store::open(&phone.dir).expect("opens")));
            phones.push((phone, store));
        }
        let engines: Vec<SyncEngine> = phones
            .iter()
            .map(|(p, s)| SyncEngine::new(Arc::clone(s), quick_config(proxy.url(), p.token.clone())).expect("engine"))
            .collect();
        for e in &engines {
            let _ = e.sync_now().await;
        }
        proxy.set(FLAKY);
        for step in 0..12 {
            if step == 4 {
                // A coordinator moves one of the first phone's tasks to the second while phone 1 may still be working on it.
                let t = task_lists[0][0];
                call(
                    Method::POST,
                    format!("{}/tasks/{t}/decisions", centre.api()),
                    Some(&coord),
                    Some(serde_json::json!({"reassign": {"staff": 3}})),
                )
                .await;
            }
            let link_down = rng.chance(0.15);
            if link_down {
                proxy.set(Faults { down: true, ..Faults::NONE });
            }
            for (i, (phone, store)) in phones.iter().enumerate() {
                for _ in 0..rng.range(1, 3) {
                    record(store, &mut rng, phone.staff, &all_tokens);
                    events += 1;
                }
                if rng.chance(0.3) {
                    // The app process is killed mid-round.
                    let mut c = Command::new(child)
                        .args([phone.dir.to_string_lossy().as_ref(), &proxy.url(), &phone.token])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .expect("child starts");
                    tokio::time::sleep(Duration::from_millis(rng.range(5, 200))).await;
                    if c.try_wait().expect("polls").is_none() {
                        kills += 1;
                    }
                    let _ = c.kill();
                    let _ = c.wait();
                } else {
                    let _ = engines[i].sync_now().await;
                }
            }
            if link_down {
                proxy.set(FLAKY);
            }
            if rng.chance(0.2) {
                let addr = centre.crash_and_restart().await;
                *proxy.upstream.lock().expect("lock") = addr;
                restarts += 1;
            }
        }
        // The link heals; every phone catches up.
        proxy.set(Faults::NONE);
        for e in &engines {
            let mut ok = false;
            for _ in 0..5 {
                if e.sync_now().await.is_ok() {
                    ok = true;
                    break;
                }
            }
            assert!(ok, "a phone could not catch up on a healthy link: {:?}", e.status());
        }
        // The first phone syncs once more: its facts about the task that left it are acknowledged now, so it goes.
        engines[0].sync_now().await.expect("syncs");
        verify(&centre, &coord, &phones).await;
        faults.push(proxy.counts.summary());
    }
    println!(
        "fault runs: {} runs, {events} events, {kills} phone processes killed mid-round, {restarts} centre crashes",
        faults.len()
    );
    for (i, f) in faults.iter().enumerate() {
        println!("  run {i}: {f}");
    }
    assert!(!faults.is_empty());
}
