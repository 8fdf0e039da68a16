//! Many writers on one PostgreSQL, for real: three `jx-centre` processes (the real binary) on one database, twenty
//! phones (real stores, the real sync engine) recording and syncing through whichever replica they happen to pick, a
//! coordinator reassigning and cancelling through any replica at the same time, and a random replica killed with
//! SIGKILL every few rounds and started again. At the end every phone's tasks and states are the centre's, and every
//! fact a phone saw acknowledged is at the centre exactly once. It prints what it did, as the other fault suites do.
//!
//! Needs the PostgreSQL cluster named by `JX_TEST_POSTGRES` (the test command starts one and runs this with it).

mod common;

use jx_core::StaffId;
use jx_core::TaskId;
use jx_core::event::{EventPayload, FailureReason};
use jx_core::rng::SplitMix64;
use jx_store::{DeviceIdentity, OutboxStatus, Store};
use jx_sync::{SyncConfig, SyncEngine};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PHONES: u32 = 20;
const ROUNDS: usize = 33;
const KILL_EVERY: usize = 3;

struct Replica {
    port: u16,
    child: Option<Child>,
    log: std::path::PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("addr").port()
}

impl Replica {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn start(&mut self, data: &Path, database: &str) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("log");
        let child = Command::new(env!("CARGO_BIN_EXE_jx-centre"))
            .args([
                "--demo",
                "--demo-assigned",
                "--listen",
                &format!("127.0.0.1:{}", self.port),
                "--database",
                database,
            ])
            .arg("--data-dir")
            .arg(data)
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("a replica starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let up = reqwest::get(format!("{}/api/v1/health", self.url())).await.is_ok_and(|r| r.status().is_success());
            if up {
                return;
            }
            let exited = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten());
            assert!(exited.is_none(), "replica on {} exited: {}", self.port, tail(&self.log));
            assert!(Instant::now() < deadline, "replica on {} did not start: {}", self.port, tail(&self.log));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: no shutdown, requests in flight cut.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

async fn call(method: reqwest::Method, url: String, token: Option<&str>, body: Option<Value>) -> Option<Value> {
    let mut req = reqwest::Client::new().request(method, url).timeout(Duration::from_secs(10));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.ok()?;
    res.status().is_success().then_some(())?;
    res.json().await.ok()
}

fn config(url: String, token: String) -> SyncConfig {
    let mut c = SyncConfig::new(url, token);
    c.request_timeout = Duration::from_secs(5);
    c.backoff = jx_sync::Backoff::new(Duration::from_millis(20), Duration::from_millis(200), 3);
    c.push_batch = 25;
    c
}

struct Phone {
    staff: StaffId,
    token: String,
    store: Arc<Mutex<Store>>,
}

async fn enrol(api: &str, dir: &Path, n: u32) -> Phone {
    let session = call(
        reqwest::Method::POST,
        format!("{api}/auth/login"),
        None,
        Some(json!({"login": format!("s{n:02}"), "password": jx_centre::town::DEMO_PASSWORD})),
    )
    .await
    .expect("logs in")["token"]
        .as_str()
        .expect("token")
        .to_string();
    let device = jx_core::DeviceId(uuid::Uuid::now_v7());
    let mut store = Store::open(dir.join(format!("phone-{n}"))).expect("a store");
    let key = store.public_key_hex().expect("key");
    let v = call(
        reqwest::Method::POST,
        format!("{api}/devices"),
        Some(&session),
        Some(json!({"device": device, "public_key": key})),
    )
    .await
    .expect("enrols");
    let token = v["device_token"].as_str().expect("token").to_string();
    let identity = DeviceIdentity { device, staff: StaffId(n), centre_url: api.into(), token: Some(token.clone()) };
    store.enrol(&identity, jx_store::now()).expect("enrols");
    Phone { staff: StaffId(n), token, store: Arc::new(Mutex::new(store)) }
}

/// A failed visit at one of the phone's tasks, as the phone records it (none if the phone has no task now).
fn record(phone: &Phone, rng: &mut SplitMix64) -> bool {
    let mut s = phone.store.lock().expect("lock");
    let tasks: Vec<TaskId> =
        s.tonight(phone.staff).expect("route").into_iter().flat_map(|stop| stop.tasks).map(|t| t.id).collect();
    if tasks.is_empty() {
        return false;
    }
    let task = tasks[rng.below(tasks.len() as u64) as usize];
    let payload = EventPayload::AttemptFailed {
        reason: FailureReason::NobodyHome,
        note: String::new(),
        photos: vec![],
        retry_at: None,
    };
    s.record(task, payload, jx_store::now()).expect("recorded");
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_twenty_phones_and_kills_lose_nothing_and_duplicate_nothing() {
    let Ok(admin) = std::env::var("JX_TEST_POSTGRES") else {
        eprintln!("skipped: this test needs PostgreSQL (JX_TEST_POSTGRES); the test command runs it with one");
        return;
    };
    let database = common::fresh_postgres_database(admin).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut replicas: Vec<Replica> = (0..3)
        .map(|i| Replica { port: free_port(), child: None, log: dir.path().join(format!("replica-{i}.log")) })
        .collect();
    for r in &mut replicas {
        r.start(&data, &database).await;
    }
    let api = |r: &Replica| format!("{}/api/v1", r.url());
    let mut phones = Vec::new();
    for n in 1..=PHONES {
        phones.push(enrol(&api(&replicas[n as usize % 3]), dir.path(), n).await);
    }
    let coord = call(
        reqwest::Method::POST,
        format!("{}/auth/login", api(&replicas[0])),
        None,
        Some(json!({"login": "c1", "password": jx_centre::town::DEMO_PASSWORD})),
    )
    .await
    .expect("coordinator")["token"]
        .as_str()
        .expect("token")
        .to_string();

    let mut rng = SplitMix64::new(0x3EB1_1CA5);
    let (mut recorded, mut rounds_failed, mut kills, mut decisions) = (0u64, 0u64, 0u64, 0u64);
    let started = Instant::now();
    for round in 0..ROUNDS {
        // Every few rounds one replica dies without warning, at a random moment while the phones sync.
        let victim = (round % KILL_EVERY == KILL_EVERY - 1).then(|| rng.below(3) as usize);
        // Every phone records a fact and syncs through a replica of its choosing, all at once.
        let mut jobs = Vec::new();
        for p in &phones {
            if record(p, &mut rng) {
                recorded += 1;
            }
            let url = replicas[rng.below(3) as usize].url();
            let (store, token) = (Arc::clone(&p.store), p.token.clone());
            jobs.push(tokio::spawn(async move {
                let engine = SyncEngine::new(store, config(url, token)).expect("engine");
                engine.sync_now().await.is_ok()
            }));
        }
        if let Some(v) = victim {
            tokio::time::sleep(Duration::from_millis(rng.below(150))).await;
            replicas[v].kill();
            kills += 1;
        }
        // Meanwhile a coordinator moves and cancels tasks through any replica.
        let c_api = api(&replicas[rng.below(3) as usize]);
        if let Some(list) =
            call(reqwest::Method::GET, format!("{c_api}/tasks?status=assigned"), Some(&coord), None).await
        {
            let tasks = list.as_array().cloned().unwrap_or_default();
            for _ in 0..2 {
                let Some(t) = tasks.get(rng.below(tasks.len().max(1) as u64) as usize) else { break };
                let id = t["id"].as_str().unwrap_or_default();
                let decision = if rng.chance(0.2) {
                    json!({"cancel": {"reason": "replica test"}})
                } else {
                    json!({"reassign": {"staff": 1 + rng.below(u64::from(PHONES))}})
                };
                let url = format!("{c_api}/tasks/{id}/decisions");
                if call(reqwest::Method::POST, url, Some(&coord), Some(decision)).await.is_some() {
                    decisions += 1;
                }
            }
        }
        for j in jobs {
            if !j.await.expect("joined") {
                rounds_failed += 1;
            }
        }
        // The killed replica comes back on the same address.
        if let Some(v) = victim {
            replicas[v].start(&data, &database).await;
        }
    }
    // All up: every phone syncs until nothing is left to send.
    for p in &phones {
        let mut clean = false;
        for attempt in 0..5 {
            let engine = SyncEngine::new(Arc::clone(&p.store), config(replicas[attempt % 3].url(), p.token.clone()))
                .expect("engine");
            if engine.sync_now().await.is_ok() {
                clean = true;
                break;
            }
        }
        assert!(clean, "{}'s phone could not finish syncing", p.staff);
    }
    let checked = verify(&api(&replicas[0]), &coord, &phones).await;
    println!(
        "three replicas on one PostgreSQL, {PHONES} phones, {ROUNDS} rounds in {:.1} s: {recorded} facts recorded, \
         {checked} checked at the centre exactly once, {decisions} coordinator decisions, {kills} replicas killed \
         with SIGKILL and restarted, {rounds_failed} phone rounds cut short by a kill",
        started.elapsed().as_secs_f64()
    );
    assert!(kills >= 10, "at least ten kills");
    assert_eq!(checked as u64, recorded, "every fact recorded was checked");
    for r in &mut replicas {
        r.kill();
    }
}

/// Every phone's facts are at the centre exactly once, and each phone's tasks and states are the centre's.
async fn verify(api: &str, coord: &str, phones: &[Phone]) -> usize {
    let all = call(reqwest::Method::GET, format!("{api}/tasks"), Some(coord), None).await.expect("task list");
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut centre: BTreeMap<String, (String, Option<u64>)> = BTreeMap::new();
    for t in all.as_array().expect("tasks") {
        let id = t["id"].as_str().expect("id").to_string();
        let d = call(reqwest::Method::GET, format!("{api}/tasks/{id}"), Some(coord), None).await.expect("detail");
        for e in d["history"].as_array().expect("history") {
            *seen.entry(e["id"].as_str().expect("event id").to_string()).or_default() += 1;
        }
        centre.insert(id, (d["state"]["status"].as_str().expect("status").into(), d["state"]["assignee"].as_u64()));
    }
    let mut checked = 0;
    for p in phones {
        let (chain, route) = {
            let s = p.store.lock().expect("lock");
            (s.chain().expect("chain"), s.tonight(p.staff).expect("route"))
        };
        for entry in &chain {
            let id = entry.envelope.id.to_string();
            assert_eq!(entry.status, OutboxStatus::Acknowledged, "{id} of {}: {:?}", p.staff, entry.reason);
            assert_eq!(seen.get(&id), Some(&1), "fact {id} of {} must be at the centre exactly once", p.staff);
            checked += 1;
        }
        let mine: BTreeMap<String, String> = route
            .into_iter()
            .flat_map(|stop| stop.tasks)
            .map(|t| (t.id.to_string(), t.status.as_str().to_string()))
            .collect();
        let theirs: BTreeMap<String, String> = centre
            .iter()
            // What is open for this member tonight: last week's handed-in pickups and cancelled tasks are not.
            .filter(|(_, (status, a))| {
                *a == Some(u64::from(p.staff.0))
                    && ["assigned", "checked_out", "attempt_failed"].contains(&status.as_str())
            })
            .map(|(id, (status, _))| (id.clone(), status.clone()))
            .collect();
        assert_eq!(mine, theirs, "{}'s phone and the centre disagree", p.staff);
    }
    checked
}
