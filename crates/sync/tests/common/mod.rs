//! A real centre, real phone stores, and a fault-injecting TCP proxy between them, all on loopback.
#![allow(dead_code)]

use jx_centre::{RunningCentre, Settings, start, town};
use jx_core::rng::SplitMix64;
use jx_core::{DeviceId, StaffId, TaskId};
use jx_store::{DeviceIdentity, Store};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to the connections it carries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Faults {
    /// The link is down: connections are cut at once.
    pub down: bool,
    /// Chance that a connection is cut after a random number of request bytes.
    pub cut_request: f64,
    /// Chance that a connection is cut after a random number of response bytes.
    pub cut_response: f64,
    /// Chance that a connection is delayed by up to `max_delay`.
    pub delay: f64,
    pub max_delay: Duration,
}

impl Faults {
    pub const NONE: Faults =
        Faults { down: false, cut_request: 0.0, cut_response: 0.0, delay: 0.0, max_delay: Duration::ZERO };
}

/// Counts of what the proxy did.
#[derive(Default, Debug)]
pub struct FaultCounts {
    pub connections: AtomicU64,
    pub refused: AtomicU64,
    pub cut_requests: AtomicU64,
    pub cut_responses: AtomicU64,
    pub delayed: AtomicU64,
}

impl FaultCounts {
    pub fn summary(&self) -> String {
        format!(
            "{} connections: {} refused (link down), {} cut mid-request, {} cut mid-response, {} delayed",
            self.connections.load(Ordering::Relaxed),
            self.refused.load(Ordering::Relaxed),
            self.cut_requests.load(Ordering::Relaxed),
            self.cut_responses.load(Ordering::Relaxed),
            self.delayed.load(Ordering::Relaxed)
        )
    }
}

pub struct Proxy {
    pub addr: SocketAddr,
    pub upstream: Arc<Mutex<SocketAddr>>,
    pub faults: Arc<Mutex<Faults>>,
    pub counts: Arc<FaultCounts>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    pub async fn start(upstream: SocketAddr, seed: u64) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let addr = listener.local_addr().expect("addr");
        let upstream = Arc::new(Mutex::new(upstream));
        let faults = Arc::new(Mutex::new(Faults::NONE));
        let counts = Arc::new(FaultCounts::default());
        let rng = Arc::new(Mutex::new(SplitMix64::new(seed)));
        let (u, f, c) = (Arc::clone(&upstream), Arc::clone(&faults), Arc::clone(&counts));
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                c.connections.fetch_add(1, Ordering::Relaxed);
                let faults = *f.lock().expect("lock");
                let target = *u.lock().expect("lock");
                let (cut_req, cut_res, delay) = {
                    let mut r = rng.lock().expect("lock");
                    let cut_req = r.chance(faults.cut_request).then(|| r.range(1, 2_000) as usize);
                    let cut_res = r.chance(faults.cut_response).then(|| r.range(1, 4_000) as usize);
                    let delay = r.chance(faults.delay).then(|| faults.max_delay.mul_f64(r.unit()));
                    (cut_req, cut_res, delay)
                };
                let c = Arc::clone(&c);
                let link = Arc::clone(&f);
                tokio::spawn(async move {
                    if faults.down {
                        c.refused.fetch_add(1, Ordering::Relaxed);
                        drop(client);
                        return;
                    }
                    if let Some(d) = delay {
                        c.delayed.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(d).await;
                    }
                    let Ok(server) = TcpStream::connect(target).await else { return };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    let up = pump(cr, sw, cut_req, Arc::clone(&link));
                    let down = pump(sr, cw, cut_res, Arc::clone(&link));
                    let (a, b) = tokio::join!(up, down);
                    if a {
                        c.cut_requests.fetch_add(1, Ordering::Relaxed);
                    }
                    if b {
                        c.cut_responses.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        Proxy { addr, upstream, faults, counts, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set(&self, f: Faults) {
        *self.faults.lock().expect("lock") = f;
    }
}

/// Copies bytes one way; if `cut_after` is set, stops (cutting the connection) after that many bytes. Returns
/// whether it cut.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    cut_after: Option<usize>,
    link: Arc<Mutex<Faults>>,
) -> bool {
    let mut buf = vec![0u8; 8192];
    let mut sent = 0usize;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return false;
            }
            Ok(n) => n,
        };
        // A link that went down takes open (kept-alive) connections with it.
        if link.lock().map(|f| f.down).unwrap_or(false) {
            return true;
        }
        if let Some(limit) = cut_after.filter(|l| sent + n >= *l) {
            let _ = to.write_all(&buf[..limit - sent]).await;
            // Dropping both halves resets the connection mid-message.
            return true;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return false;
        }
        sent += n;
    }
}

/// A centre with the demo town in its own folder; it can be crashed and restarted on the same data.
pub struct Centre {
    pub dir: tempfile::TempDir,
    pub running: Option<RunningCentre>,
}

impl Centre {
    pub async fn start() -> Centre {
        let dir = tempfile::tempdir().expect("tempdir");
        let running = Some(Self::boot(dir.path()).await);
        Centre { dir, running }
    }

    async fn boot(dir: &Path) -> RunningCentre {
        let mut s = Settings::new(dir);
        s.listen = "127.0.0.1:0".parse().expect("addr");
        s.demo = true;
        // The residents' code hashes at full cost would add seconds to every centre start; their cost is measured
        // in jx-core's bench.
        s.code_cost = jx_centre::codes::CodeCost { m_kib: 64, t: 1 };
        start(s, false).await.expect("centre starts")
    }

    pub fn addr(&self) -> SocketAddr {
        self.running.as_ref().expect("running").addr
    }

    pub fn api(&self) -> String {
        format!("http://{}/api/v1", self.addr())
    }

    /// Crashes the centre and starts it again on the same data (on a new port, returned).
    pub async fn crash_and_restart(&mut self) -> SocketAddr {
        if let Some(r) = self.running.take() {
            r.abort();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.running = Some(Self::boot(self.dir.path()).await);
        self.addr()
    }
}

pub async fn call(method: reqwest::Method, url: String, token: Option<&str>, body: Option<Value>) -> Value {
    let http = reqwest::Client::new();
    let mut req = http.request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("reaches the centre");
    let status = res.status();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {v}");
    v
}

pub async fn login(api: &str, login: &str) -> String {
    let v = call(
        reqwest::Method::POST,
        format!("{api}/auth/login"),
        None,
        Some(json!({"login": login, "password": town::DEMO_PASSWORD})),
    )
    .await;
    v["token"].as_str().expect("token").to_string()
}

/// Assigns `n` unassigned tasks to staff member `staff`; returns their ids.
pub async fn assign(api: &str, coord: &str, staff: u32, n: usize) -> Vec<TaskId> {
    let list = call(reqwest::Method::GET, format!("{api}/tasks?status=created"), Some(coord), None).await;
    let ids: Vec<TaskId> = list
        .as_array()
        .expect("list")
        .iter()
        .take(n)
        .map(|t| t["id"].as_str().expect("id").parse().expect("task id"))
        .collect();
    for t in &ids {
        call(
            reqwest::Method::POST,
            format!("{api}/tasks/{t}/decisions"),
            Some(coord),
            Some(json!({"assign": {"staff": staff}})),
        )
        .await;
    }
    ids
}

/// Each task's packet label and resident confirmation tokens, as the coordinator prints them.
pub async fn tokens(api: &str, coord: &str, tasks: &[TaskId]) -> std::collections::HashMap<TaskId, (String, String)> {
    let http = reqwest::Client::new();
    let mut out = std::collections::HashMap::new();
    for t in tasks {
        let mut pair = Vec::new();
        for kind in ["packet", "resident"] {
            let res = http
                .get(format!("{api}/tasks/{t}/qr?kind={kind}&format=text"))
                .bearer_auth(coord)
                .send()
                .await
                .expect("reaches the centre");
            assert!(res.status().is_success(), "{}", res.status());
            pair.push(res.text().await.expect("token"));
        }
        out.insert(*t, (pair[0].clone(), pair[1].clone()));
    }
    out
}

/// A delivery's proof that meets the standard policy.
pub fn full_proof(tokens: &(String, String), photo: jx_core::bytes::Sha256) -> jx_core::event::HandoffProof {
    jx_core::event::HandoffProof {
        packet: Some(tokens.0.clone()),
        confirmation: Some(jx_core::event::Confirmation::ResidentQr { token: tokens.1.clone() }),
        photos: vec![photo],
        position: Some(jx_core::event::Fix { at: jx_core::geo::LatLng { lat: 31.19, lng: 121.43 }, accuracy_m: 12.0 }),
        rating: None,
    }
}

/// A phone: its store folder, identity and device token.
pub struct Phone {
    pub dir: PathBuf,
    pub staff: StaffId,
    pub device: DeviceId,
    pub token: String,
}

pub async fn enrol(api: &str, parent: &Path, staff: u32) -> Phone {
    let session = login(api, &format!("s{staff:02}")).await;
    let device = DeviceId(uuid::Uuid::now_v7());
    let dir = parent.join(format!("phone-{staff}"));
    let mut store = Store::open(&dir).expect("store opens");
    // The phone's own key: the centre will check every event against it.
    let key = store.public_key_hex().expect("device key");
    let v = call(
        reqwest::Method::POST,
        format!("{api}/devices"),
        Some(&session),
        Some(json!({"device": device, "public_key": key})),
    )
    .await;
    let token = v["device_token"].as_str().expect("token").to_string();
    store
        .enrol(
            &DeviceIdentity { device, staff: StaffId(staff), centre_url: api.into(), token: Some(token.clone()) },
            jx_store::now(),
        )
        .expect("enrols");
    Phone { dir, staff: StaffId(staff), device, token }
}
