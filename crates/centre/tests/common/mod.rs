//! A real centre on a loopback socket with the demo town, and a client that speaks its API.
#![allow(dead_code)]

use jx_centre::{RunningCentre, Settings, start, town};
use jx_core::bytes::Sha256;
use jx_core::event::{Actor, Envelope, EventPayload};
use jx_core::wire::*;
use jx_core::{DeviceId, EventId, StaffId, TaskId, Timestamp};
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

pub struct Centre {
    /// The PostgreSQL database this centre runs on, if not SQLite.
    pub postgres: Option<String>,
    pub running: Option<RunningCentre>,
    pub url: String,
    pub http: Client,
    _dir: tempfile::TempDir,
}

pub async fn centre() -> Centre {
    centre_with(|_| {}).await
}

/// A centre with the demo town: on SQLite, or on a fresh database of the PostgreSQL cluster named by
/// `JX_TEST_POSTGRES` (an admin URL; the test command starts a throwaway cluster and sets it).
pub async fn centre_with(tune: impl FnOnce(&mut Settings)) -> Centre {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = Settings::new(dir.path());
    s.listen = "127.0.0.1:0".parse().expect("addr");
    s.demo = true;
    // Full-cost code hashes would add seconds to every start; the cost itself is benchmarked in jx-core.
    s.code_cost = jx_centre::codes::CodeCost { m_kib: 64, t: 1 };
    if let Ok(admin) = std::env::var("JX_TEST_POSTGRES") {
        s.database = Some(fresh_postgres_database(admin).await);
    }
    tune(&mut s);
    let postgres = s.database.clone();
    let running = start(s, false).await.expect("centre starts");
    let url = format!("{}/api/v1", running.url());
    Centre { postgres, running: Some(running), url, http: Client::new(), _dir: dir }
}

pub async fn fresh_postgres_database(admin: String) -> String {
    let name = format!("jx_test_{}", uuid::Uuid::now_v7().simple());
    let created = name.clone();
    tokio::task::spawn_blocking(move || {
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("the test cluster answers");
        c.batch_execute(&format!("CREATE DATABASE {created}")).expect("database created");
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).expect("url with a database");
        format!("{base}/{created}")
    })
    .await
    .expect("joined")
}

impl Centre {
    pub fn dir_path(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Uploads `bytes` as a JPEG blob with `token` (a phone's), as its sync does; asserts the centre took it.
    pub async fn put_jpeg(&self, token: &str, bytes: &[u8]) {
        let res = self
            .http
            .put(format!("{}/blobs/{}", self.url, Sha256::of(bytes)))
            .bearer_auth(token)
            .header("content-type", "image/jpeg")
            .body(bytes.to_vec())
            .send()
            .await
            .expect("reaches the centre");
        assert!(res.status().is_success(), "PUT blob: {}", res.status());
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{}", self.url, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request reaches the centre");
        let status = res.status();
        let text = res.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn login(&self, login: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/auth/login",
                None,
                Some(serde_json::json!({"login": login, "password": town::DEMO_PASSWORD})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().expect("token").to_string()
    }

    pub async fn coordinator(&self) -> String {
        self.login("c1").await
    }

    /// Enrols a phone for demo staff member `n` (login s0n); returns its device token.
    pub async fn phone(&self, n: u32) -> Phone {
        let session = self.login(&format!("s{n:02}")).await;
        let device = DeviceId(uuid::Uuid::now_v7());
        let (status, body) = self
            .call(
                Method::POST,
                "/devices",
                Some(&session),
                Some(serde_json::json!({"device": device, "public_key": public_key(n as u8)})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        Phone {
            device,
            staff: StaffId(n),
            token: body["device_token"].as_str().expect("token").into(),
            seq: 0,
            prev: Sha256::ZERO,
            key: jx_core::sign::DeviceKey::from_secret([n as u8; 32]),
        }
    }

    pub async fn tasks(&self, token: &str, query: &str) -> Vec<TaskSummary> {
        let (status, body) = self.call(Method::GET, &format!("/tasks{query}"), Some(token), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).expect("task list")
    }

    pub async fn decide(&self, token: &str, task: TaskId, decision: Decision) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            &format!("/tasks/{task}/decisions"),
            Some(token),
            Some(serde_json::to_value(decision).expect("json")),
        )
        .await
    }

    pub async fn pull(&self, phone: &Phone, since: &str, limit: usize) -> PullResponse {
        let (status, body) =
            self.call(Method::GET, &format!("/sync/pull?since={since}&limit={limit}"), Some(&phone.token), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).expect("pull response")
    }

    pub async fn push(&self, phone: &Phone, events: &[Envelope]) -> (StatusCode, Value) {
        self.call(Method::POST, "/sync/push", Some(&phone.token), Some(serde_json::json!({"events": events}))).await
    }

    pub async fn event_count(&self) -> usize {
        // Every event the centre holds shows in some task's history; the board's counts are enough here.
        let c = self.coordinator().await;
        let mut n = 0;
        for t in self.tasks(&c, "").await {
            let (_, body) = self.call(Method::GET, &format!("/tasks/{}", t.id), Some(&c), None).await;
            n += body["history"].as_array().map(Vec::len).unwrap_or(0);
        }
        n
    }
}

/// A phone's chain, built the way the store builds it.
#[derive(Clone)]
pub struct Phone {
    pub device: DeviceId,
    pub staff: StaffId,
    pub token: String,
    pub seq: u64,
    pub prev: Sha256,
    pub key: jx_core::sign::DeviceKey,
}

impl Phone {
    pub fn record(&mut self, task: TaskId, payload: EventPayload, at: i64) -> Envelope {
        self.seq += 1;
        let mut e = Envelope {
            id: EventId(uuid::Uuid::now_v7()),
            task,
            actor: Actor::Device { device: self.device, staff: self.staff },
            seq: self.seq,
            prev: self.prev,
            at: Timestamp(at),
            payload,
            signature: None,
        };
        self.key.sign(&mut e);
        self.prev = e.chain_hash();
        e
    }
}

/// Sends `req` and reads the answer's status and JSON body (`null` for a body that is not JSON).
pub async fn answer(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let res = req.send().await.expect("reaches the centre");
    let status = res.status();
    (status, res.json().await.unwrap_or_default())
}

/// A client whose requests come from loopback address `ip` (127.0.0.x: each is another client to the centre).
pub fn client_from(ip: &str) -> Client {
    Client::builder().local_address(ip.parse::<std::net::IpAddr>().ok()).build().expect("client")
}

/// A real Ed25519 public key (hex), as a phone would register it.
pub fn public_key(seed: u8) -> String {
    jx_core::sign::DeviceKey::from_secret([seed; 32]).public_hex()
}

pub fn far_future() -> i64 {
    // Later than any coordinator decision of the test run (facts recorded "after" what the phone has seen), and
    // still inside the window of times the centre accepts (`jx_core::bounds::MAX_AHEAD_MS`).
    jx_centre::db::now().millis() + jx_core::bounds::MAX_AHEAD_MS / 2
}
