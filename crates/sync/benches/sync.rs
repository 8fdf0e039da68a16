//! The sync engine's cost over loopback, printed as a table: time and bytes on the wire for a phone catching up
//! 500 events and 200 photos (300 KB each), and for a first sync of a 60-task evening; each with a batch (page)
//! size of 1 and with the engine's default, in the same run.
//!
//! Run: `cargo bench -p jx-sync --bench sync`

use jx_centre::{Settings, start, town};
use jx_core::event::{Confirmation, EventPayload, FailureReason, Fix, HandoffProof};
use jx_core::geo::LatLng;
use jx_core::rng::SplitMix64;
use jx_core::{DeviceId, StaffId, TaskId};
use jx_store::{DeviceIdentity, Store};
use jx_sync::{SyncConfig, SyncEngine};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A TCP forwarder that counts the bytes each way.
async fn counting_proxy(upstream: SocketAddr) -> (SocketAddr, Arc<(AtomicU64, AtomicU64)>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("addr");
    let counts = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
    let c = Arc::clone(&counts);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let c = Arc::clone(&c);
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else { return };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let c2 = Arc::clone(&c);
                let up = async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = cr.read(&mut buf).await {
                        if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        c2.0.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    let _ = sw.shutdown().await;
                };
                let down = async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = sr.read(&mut buf).await {
                        if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                        c.1.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    let _ = cw.shutdown().await;
                };
                tokio::join!(up, down);
            });
        }
    });
    (addr, counts)
}

async fn call(method: reqwest::Method, url: String, token: Option<&str>, body: Option<Value>) -> Value {
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("sent").json().await.expect("json")
}

async fn phone(api: &str, coord: &str, staff: u32, tasks: usize, dir: &std::path::Path) -> (Arc<Mutex<Store>>, String) {
    let list = call(reqwest::Method::GET, format!("{api}/tasks?status=created"), Some(coord), None).await;
    for t in list.as_array().expect("list").iter().take(tasks) {
        let id = t["id"].as_str().expect("id");
        call(
            reqwest::Method::POST,
            format!("{api}/tasks/{id}/decisions"),
            Some(coord),
            Some(json!({"assign": {"staff": staff}})),
        )
        .await;
    }
    let login = call(
        reqwest::Method::POST,
        format!("{api}/auth/login"),
        None,
        Some(json!({"login": format!("s{staff:02}"), "password": town::DEMO_PASSWORD})),
    )
    .await;
    let session = login["token"].as_str().expect("token").to_string();
    let device = DeviceId(uuid::Uuid::now_v7());
    let mut store = Store::open(dir.join(format!("phone-{staff}"))).expect("opens");
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
    (Arc::new(Mutex::new(store)), token)
}

struct Row {
    what: String,
    time: Duration,
    up: u64,
    down: u64,
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = Settings::new(dir.path().join("centre"));
    s.listen = "127.0.0.1:0".parse().expect("addr");
    s.demo = true;
    let centre = start(s, false).await.expect("centre");
    let api = format!("{}/api/v1", centre.url());
    let coord = call(
        reqwest::Method::POST,
        format!("{api}/auth/login"),
        None,
        Some(json!({"login": "c1", "password": town::DEMO_PASSWORD})),
    )
    .await["token"]
        .as_str()
        .expect("token")
        .to_string();
    let mut rows = Vec::new();

    // First sync of a 60-task evening: pull page of 1 vs the default.
    for (staff, page) in [(2u32, 1usize), (3, SyncConfig::new("", "").pull_page)] {
        let (store, token) = phone(&api, &coord, staff, 60, dir.path()).await;
        let (addr, counts) = counting_proxy(centre.addr).await;
        let mut cfg = SyncConfig::new(format!("http://{addr}"), token);
        cfg.pull_page = page;
        let engine = SyncEngine::new(store, cfg).expect("engine");
        let t = Instant::now();
        engine.sync_now().await.expect("first sync");
        rows.push(Row {
            what: format!("first sync of a 60-task evening, pull page of {page}"),
            time: t.elapsed(),
            up: counts.0.load(Ordering::Relaxed),
            down: counts.1.load(Ordering::Relaxed),
        });
    }

    // Catching up 500 events and 200 photos of 300 KB: push batch of 1 vs the default.
    for (staff, batch) in [(4u32, 1usize), (5, SyncConfig::new("", "").push_batch)] {
        let (store, token) = phone(&api, &coord, staff, 40, dir.path()).await;
        let (addr, counts) = counting_proxy(centre.addr).await;
        let mut cfg = SyncConfig::new(format!("http://{addr}"), token);
        cfg.push_batch = batch;
        let engine = SyncEngine::new(Arc::clone(&store), cfg).expect("engine");
        engine.sync_now().await.expect("gets the evening");
        let tasks: Vec<TaskId> = store
            .lock()
            .expect("lock")
            .tonight(StaffId(staff))
            .expect("route")
            .into_iter()
            .flat_map(|b| b.tasks)
            .map(|t| t.id)
            .collect();
        let mut labels = std::collections::HashMap::new();
        for t in &tasks {
            labels.insert(
                *t,
                (token_text(&api, &coord, *t, "packet").await, token_text(&api, &coord, *t, "resident").await),
            );
        }
        {
            let mut s = store.lock().expect("lock");
            let mut rng = SplitMix64::new(42);
            let mut last_photo = None;
            for i in 0..500 {
                let photos = if i % 5 < 2 {
                    // A real photo of about 300 KB: the centre decodes every upload.
                    let b = jx_proof::photo::sample_jpeg(rng.next_u64(), 880, 660);
                    let h = s.put_blob(&b, jx_store::now()).expect("photo");
                    last_photo = Some(h);
                    vec![h]
                } else {
                    vec![]
                };
                let task = tasks[i % tasks.len()];
                let payload = if i >= 460 {
                    // A delivery is recorded only with its whole proof: both codes, a photo (the last one taken
                    // if none was taken for it), the position.
                    let (packet, resident) = labels[&task].clone();
                    EventPayload::Delivered {
                        proof: HandoffProof {
                            packet: Some(packet),
                            confirmation: Some(Confirmation::ResidentQr { token: resident }),
                            photos: if photos.is_empty() { last_photo.into_iter().collect() } else { photos },
                            position: Some(Fix { at: LatLng { lat: 31.19, lng: 121.43 }, accuracy_m: 10.0 }),
                            rating: None,
                        },
                    }
                } else {
                    EventPayload::AttemptFailed {
                        reason: FailureReason::NobodyHome,
                        note: String::new(),
                        photos,
                        retry_at: None,
                    }
                };
                s.record(task, payload, jx_store::now()).expect("recorded");
            }
        }
        let before = (counts.0.load(Ordering::Relaxed), counts.1.load(Ordering::Relaxed));
        let t = Instant::now();
        let r = engine.sync_now().await.expect("catches up");
        assert_eq!((r.accepted, r.blobs_uploaded), (500, 200));
        rows.push(Row {
            what: format!("catch up 500 events + 200 photos of 300 KB, push batch of {batch}"),
            time: t.elapsed(),
            up: counts.0.load(Ordering::Relaxed) - before.0,
            down: counts.1.load(Ordering::Relaxed) - before.1,
        });
    }

    println!("\n| round | time | bytes up | bytes down |");
    println!("|---|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {:.0} ms | {:.1} KB | {:.1} KB |",
            r.what,
            r.time.as_secs_f64() * 1e3,
            r.up as f64 / 1024.0,
            r.down as f64 / 1024.0
        );
    }
    let ratio = |a: &Row, b: &Row| {
        (a.time.as_secs_f64() / b.time.as_secs_f64(), (a.up + a.down) as f64 / (b.up + b.down) as f64)
    };
    let (t1, b1) = ratio(&rows[0], &rows[1]);
    let (t2, b2) = ratio(&rows[2], &rows[3]);
    println!("\nfirst sync: page of 1 takes {t1:.1}× the time and {b1:.2}× the bytes of the default page");
    println!("catch-up: batch of 1 takes {t2:.1}× the time and {b2:.2}× the bytes of the default batch");
    centre.stop().await.expect("stops");
}

/// One of a task's codes as text, as the coordinator's print would carry it.
async fn token_text(api: &str, coord: &str, task: TaskId, kind: &str) -> String {
    let res = reqwest::Client::new()
        .get(format!("{api}/tasks/{task}/qr?kind={kind}&format=text"))
        .bearer_auth(coord)
        .send()
        .await
        .expect("reaches the centre");
    assert!(res.status().is_success(), "{}", res.status());
    res.text().await.expect("token")
}
