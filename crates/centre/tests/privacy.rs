//! No personal data in the centre's logs: the real binary runs the demo with every component's tracing at debug
//! level while a coordinator and a phone go through an evening (import, assignment, enrolment, pull, push with a
//! typed code, printing, a failing request), and then all it printed is searched for the residents' names, phone
//! numbers and addresses.

mod common;

use common::{Phone, far_future, public_key};
use jx_core::event::{Confirmation, EventPayload, Fix, HandoffProof};
use jx_core::{DeviceId, StaffId, TaskId};
use reqwest::Client;
use serde_json::{Value, json};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NEW_RESIDENT: (&str, &str) = ("欧阳秋菊", "13698765432");

async fn call(http: &Client, method: reqwest::Method, url: String, token: Option<&str>, body: Option<Value>) -> Value {
    let mut req = http.request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("reaches the centre");
    let text = res.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_evening_at_debug_level_logs_no_residents_name_phone_or_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_path = dir.path().join("stdout.log");
    let err_path = dir.path().join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_jx-centre"))
        .args(["--demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("JX_LOG", "trace")
        .stdout(Stdio::from(std::fs::File::create(&out_path).expect("log file")))
        .stderr(Stdio::from(std::fs::File::create(&err_path).expect("log file")))
        .spawn()
        .expect("starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    let url = loop {
        let text = std::fs::read_to_string(&out_path).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains("listening on")) {
            let start = line.find("http://").expect("a URL");
            break line[start..].split_whitespace().next().expect("URL").to_string();
        }
        assert!(Instant::now() < deadline, "the centre did not start");
        assert!(child.try_wait().expect("polls").is_none(), "the centre exited");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let api = if url.ends_with("/api/v1") { url } else { format!("{url}/api/v1") };
    let http = Client::new();
    use reqwest::Method;
    let login = |l: &'static str| {
        let (http, api) = (http.clone(), api.clone());
        async move {
            call(
                &http,
                Method::POST,
                format!("{api}/auth/login"),
                None,
                Some(json!({"login": l, "password": "jx-demo-2026"})),
            )
            .await["token"]
                .as_str()
                .expect("token")
                .to_string()
        }
    };
    let coord = login("c1").await;
    // A wrong password, an import with a new resident (and a bad row echoing personal data back).
    call(
        &http,
        Method::POST,
        format!("{api}/auth/login"),
        None,
        Some(json!({"login": "c1", "password": "13812345678"})),
    )
    .await;
    let csv = format!(
        "kind,case_number,service_item,resident_name,resident_phone,compound,building,unit,room,elderly,disabled,pregnant,follows_case\n\
         delivery,PRIV-1,1,{n},{p},1,1,1,0909,1,0,0,\n\
         delivery,PRIV-2,1,{n},{p},1,1,1,0909,maybe,0,0,\n",
        n = NEW_RESIDENT.0,
        p = NEW_RESIDENT.1
    );
    let res = http
        .post(format!("{api}/tasks/import?mode=good_rows"))
        .bearer_auth(&coord)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("sent");
    assert!(res.status().is_success(), "{}", res.status());
    // Assign the evening, print staff 2's labels and slips, look at a task.
    let proposal = call(&http, Method::POST, format!("{api}/assign/proposal"), Some(&coord), Some(json!({}))).await;
    let items: Vec<Value> = proposal["assignments"]
        .as_array()
        .expect("assignments")
        .iter()
        .map(|a| json!({"task": a["task"], "staff": a["staff"]}))
        .collect();
    call(&http, Method::POST, format!("{api}/assign/apply"), Some(&coord), Some(json!({"assignments": items}))).await;
    for path in ["/print/labels?staff=2", "/print/slips?staff=2", "/exceptions", "/progress", "/tasks"] {
        call(&http, Method::GET, format!("{api}{path}"), Some(&coord), None).await;
    }
    // A phone of staff 2: enrol, pull everything, deliver with a (wrong) typed code and a position, ask for a task.
    let session = login("s02").await;
    let device = DeviceId(uuid::Uuid::now_v7());
    let enrolled = call(
        &http,
        Method::POST,
        format!("{api}/devices"),
        Some(&session),
        Some(json!({"device": device, "public_key": public_key(2)})),
    )
    .await;
    let token = enrolled["device_token"].as_str().expect("device token").to_string();
    let pulled = call(&http, Method::GET, format!("{api}/sync/pull?since=0&limit=500"), Some(&token), None).await;
    let sheets: Vec<TaskId> = pulled["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["upsert"]["sheet"]["task"]["id"].as_str())
        .map(|t| t.parse().expect("task id"))
        .collect();
    assert!(!sheets.is_empty(), "staff 2 has tasks: {pulled}");
    assert!(pulled.to_string().contains("resident_name"), "the pull does carry personal data, to the phone");
    let mut phone = Phone {
        device,
        staff: StaffId(2),
        token: token.clone(),
        seq: 0,
        prev: jx_core::bytes::Sha256::ZERO,
        key: jx_core::sign::DeviceKey::from_secret([2; 32]),
    };
    let proof = HandoffProof {
        packet: Some("JX1:NOT-A-REAL-CODE".into()),
        confirmation: Some(Confirmation::ResidentCode { code: "135790".into() }),
        photos: vec![],
        position: Some(Fix { at: jx_core::geo::LatLng { lat: 31.17, lng: 121.43 }, accuracy_m: 9.0 }),
        rating: Some(4),
    };
    let e = phone.record(sheets[0], EventPayload::Delivered { proof }, far_future());
    call(&http, Method::POST, format!("{api}/sync/push"), Some(&token), Some(json!({"events": [e]}))).await;
    call(&http, Method::GET, format!("{api}/tasks/{}", sheets[0]), Some(&token), None).await;
    call(&http, Method::GET, format!("{api}/tasks/{}", sheets[0]), Some(&coord), None).await;
    call(&http, Method::GET, format!("{api}/no/such/route"), Some(&coord), None).await;

    let _ = child.kill();
    let _ = child.wait();
    let mut logs = String::new();
    for p in [&out_path, &err_path] {
        std::fs::File::open(p).and_then(|mut f| f.read_to_string(&mut logs)).expect("log readable");
    }
    assert!(logs.contains("DEBUG") || logs.contains("TRACE"), "the logs are at debug level: {} bytes", logs.len());
    assert!(logs.contains("tasks imported") && logs.contains("push"), "the evening happened");

    let town = jx_core::demo::demo_town();
    let mut leaks = Vec::new();
    let names = town.residents.iter().map(|r| r.name.clone()).chain([NEW_RESIDENT.0.to_string()]);
    let phones = town.residents.iter().map(|r| r.phone.clone()).chain([NEW_RESIDENT.1.to_string()]);
    let addresses = town.residents.iter().map(|r| r.address.to_string());
    for needle in names.chain(phones).chain(addresses) {
        if logs.contains(&needle) {
            leaks.push(needle);
        }
    }
    for needle in ["135790", "13812345678"] {
        if logs.contains(needle) {
            leaks.push(needle.to_string());
        }
    }
    assert!(leaks.is_empty(), "personal data in the logs ({} bytes): {:?}", logs.len(), &leaks[..leaks.len().min(10)]);
}
