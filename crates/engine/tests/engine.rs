//! The engine as the screens use it, against a real centre on loopback with the demo town, over a real SQLite
//! store: enrolment, tonight's route, a delivery step by step (killed half-way and resumed), refusals on the spot,
//! a failed visit, and the sync that brings it all to the centre with its photo.

use jx_centre::{Settings, start};
use jx_core::TaskId;
use jx_core::event::{FailureReason, Fix};
use jx_core::model::TaskKind;
use jx_engine::draft::Step;
use jx_engine::protocol::{Chip, QrProblem};
use jx_engine::{Engine, EngineError, EngineOptions, Request, Response};
use jx_store::Store;
use serde_json::{Value, json};

const PASSWORD: &str = jx_centre::town::DEMO_PASSWORD;

async fn call(method: reqwest::Method, url: String, token: Option<&str>, body: Option<Value>) -> reqwest::Response {
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("reaches the centre")
}

async fn coordinator(api: &str) -> String {
    let v: Value = call(
        reqwest::Method::POST,
        format!("{api}/auth/login"),
        None,
        Some(json!({"login": "c1", "password": PASSWORD})),
    )
    .await
    .json()
    .await
    .expect("json");
    v["token"].as_str().expect("token").to_string()
}

async fn bytes(api: &str, coord: &str, path: &str) -> Vec<u8> {
    let res = call(reqwest::Method::GET, format!("{api}{path}"), Some(coord), None).await;
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.bytes().await.expect("body").to_vec()
}

/// The resident's 6-digit code, read off the slip the centre prints for them.
async fn slip_code(api: &str, coord: &str, task: TaskId) -> String {
    let html = String::from_utf8(bytes(api, coord, &format!("/tasks/{task}/slip")).await).expect("utf-8");
    let at = html.find("class=\"code\">").expect("the slip shows the code") + "class=\"code\">".len();
    html[at..at + 6].to_string()
}

fn open(dir: &std::path::Path) -> Engine {
    Engine::new(Store::open(dir).expect("store opens"), EngineOptions { sync_every: None, ..EngineOptions::default() })
}

async fn ask(e: &Engine, req: Request) -> Result<Response, EngineError> {
    e.handle(req).await
}

fn step(r: Result<Response, EngineError>) -> Step {
    match r {
        Ok(Response::Draft(d)) => d.current(),
        other => panic!("expected a draft, got {other:?}"),
    }
}

/// A real centre on loopback with the demo town, and a coordinator's session.
struct Demo {
    _dir: tempfile::TempDir,
    _centre: jx_centre::RunningCentre,
    base: String,
    api: String,
    coord: String,
}

async fn demo_centre() -> Demo {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = Settings::new(dir.path());
    s.listen = "127.0.0.1:0".parse().expect("addr");
    s.demo = true;
    s.code_cost = jx_centre::codes::CodeCost { m_kib: 64, t: 1 };
    let centre = start(s, false).await.expect("centre starts");
    let base = format!("http://{}", centre.addr);
    let api = format!("{base}/api/v1");
    let coord = coordinator(&api).await;
    Demo { _dir: dir, _centre: centre, base, api, coord }
}

/// Assigns the first `n` unassigned tasks of `kind` to staff member `staff`, as the coordinator.
async fn assign(d: &Demo, kind: &str, n: usize, staff: u32) -> Vec<TaskId> {
    let status = if kind == "delivery" { "created" } else { "requested" };
    let list: Value = call(reqwest::Method::GET, format!("{}/tasks?status={status}", d.api), Some(&d.coord), None)
        .await
        .json()
        .await
        .expect("json");
    let ids: Vec<TaskId> = list
        .as_array()
        .expect("a list")
        .iter()
        .filter(|t| t["kind"] == kind)
        .take(n)
        .map(|t| t["id"].as_str().expect("id").parse().expect("task id"))
        .collect();
    assert_eq!(ids.len(), n, "the demo has {n} {kind} tasks to give");
    for id in &ids {
        let body = Some(json!({"assign": {"staff": staff}}));
        let res = call(reqwest::Method::POST, format!("{}/tasks/{id}/decisions", d.api), Some(&d.coord), body).await;
        assert!(res.status().is_success(), "{}", res.status());
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_is_taken_step_by_step_survives_a_kill_and_reaches_the_centre() {
    let demo = demo_centre().await;
    let (base, api, coord) = (demo.base.clone(), demo.api.clone(), demo.coord.clone());
    // The coordinator gives s01 three deliveries for tonight.
    assign(&demo, "delivery", 3, 1).await;

    let phone = tempfile::tempdir().expect("tempdir");
    let engine = open(phone.path());
    assert!(matches!(ask(&engine, Request::Hello).await, Ok(Response::Hello(h)) if h.me.is_none()));
    assert!(matches!(ask(&engine, Request::Tonight { from: None }).await, Err(EngineError::NotEnrolled)));

    // Enrolment: a wrong password and a coordinator are refused, and nothing is kept.
    let enrol = |login: &str, password: &str| Request::Enrol {
        centre_url: base.clone(),
        login: login.into(),
        password: password.into(),
    };
    assert!(matches!(ask(&engine, enrol("s01", "wrong")).await, Err(EngineError::LoginRefused { .. })));
    assert!(matches!(ask(&engine, enrol("c1", PASSWORD)).await, Err(EngineError::NotStaff)));
    let bad_url = Request::Enrol { centre_url: "ftp://x".into(), login: "s01".into(), password: PASSWORD.into() };
    assert!(matches!(ask(&engine, bad_url).await, Err(EngineError::BadCentreUrl)));
    let me = match ask(&engine, enrol("s01", PASSWORD)).await {
        Ok(Response::Enrolled(me)) => me,
        other => panic!("enrols: {other:?}"),
    };
    assert_eq!(me.staff.0, 1);
    assert!(matches!(ask(&engine, enrol("s01", PASSWORD)).await, Err(EngineError::AlreadyEnrolled)));

    // Tonight's route came with the first pull.
    let Ok(Response::Tonight(tonight)) = ask(&engine, Request::Tonight { from: None }).await else { panic!("tonight") };
    assert_eq!(tonight.total, 3, "the three deliveries");
    assert_eq!(tonight.done, 0);
    let rows: Vec<_> = tonight.todo.iter().flat_map(|s| s.tasks.clone()).collect();
    let deliveries: Vec<TaskId> = rows.iter().filter(|r| r.kind == TaskKind::Delivery).map(|r| r.id).collect();
    assert!(deliveries.len() >= 2, "two deliveries to work with");
    let (task, other) = (deliveries[0], deliveries[1]);

    // The packet: another task's label and the resident's code are refused on the spot, with why.
    let other_label = bytes(&api, &coord, &format!("/tasks/{other}/qr?kind=packet&format=png")).await;
    match ask(&engine, Request::ScanPacket { task, photo: other_label }).await {
        Err(EngineError::WrongQr { problem: QrProblem::OtherTask { short, mine } }) => {
            assert_eq!(short, other.short());
            assert!(mine, "the other packet is also this phone's");
        }
        other => panic!("another task's label must be refused: {other:?}"),
    }
    let resident_qr = bytes(&api, &coord, &format!("/tasks/{task}/qr?kind=resident&format=png")).await;
    assert!(matches!(
        ask(&engine, Request::ScanPacket { task, photo: resident_qr.clone() }).await,
        Err(EngineError::WrongQr { problem: QrProblem::WrongKind })
    ));
    assert!(matches!(
        ask(&engine, Request::ScanPacket { task, photo: b"not a photo".to_vec() }).await,
        Err(EngineError::BadPhoto { .. })
    ));
    let label = bytes(&api, &coord, &format!("/tasks/{task}/qr?kind=packet&format=png")).await;
    assert_eq!(step(ask(&engine, Request::ScanPacket { task, photo: label }).await), Step::Confirm);

    // The app is killed here; the next start resumes at the resident's confirmation.
    drop(engine);
    let engine = open(phone.path());
    match ask(&engine, Request::Hello).await {
        Ok(Response::Hello(h)) => assert_eq!(h.resume, Some(task)),
        other => panic!("hello: {other:?}"),
    }
    assert_eq!(step(ask(&engine, Request::Begin { task }).await), Step::Confirm);

    // The resident's code: a wrong one and a malformed one are refused; the right one moves on.
    let code = slip_code(&api, &coord, task).await;
    let wrong = format!("{:06}", (code.parse::<u32>().expect("digits") + 1) % 1_000_000);
    assert!(matches!(ask(&engine, Request::TypeCode { task, code: wrong }).await, Err(EngineError::CodeWrong)));
    assert!(matches!(
        ask(&engine, Request::TypeCode { task, code: "12a456".into() }).await,
        Err(EngineError::CodeMalformed)
    ));
    assert_eq!(step(ask(&engine, Request::TypeCode { task, code: code.clone() }).await), Step::Photo);

    // The photo: a corrupt one is refused and loses nothing; a real one is kept, shrunk, with a preview.
    let mut corrupt = resident_qr.clone();
    corrupt.truncate(corrupt.len() / 2);
    assert!(matches!(
        ask(&engine, Request::AddPhoto { task, material: None, photo: corrupt }).await,
        Err(EngineError::BadPhoto { .. })
    ));
    let draft = match ask(&engine, Request::AddPhoto { task, material: None, photo: resident_qr }).await {
        Ok(Response::Draft(d)) => d,
        other => panic!("photo: {other:?}"),
    };
    assert_eq!(draft.current(), Step::Rating);
    assert_eq!(draft.photos.len(), 1);
    assert!(draft.photos[0].thumb.starts_with("data:image/jpeg;base64,"));
    assert!(matches!(ask(&engine, Request::Rate { task, stars: Some(9) }).await, Err(EngineError::BadRating)));
    assert_eq!(step(ask(&engine, Request::Rate { task, stars: Some(5) }).await), Step::Ready);

    // Without a position the proof is incomplete: nothing is recorded, the draft stays.
    match ask(&engine, Request::Finish { task }).await {
        Err(EngineError::ProofIncomplete { gaps }) => assert_eq!(gaps.len(), 1, "{gaps:?}"),
        other => panic!("no position: {other:?}"),
    }
    let town = jx_core::demo::demo_town();
    let sheet = town.tasks.iter().find(|t| t.id == task).expect("a demo task");
    let at = town
        .compound(sheet.address.compound)
        .and_then(|c| c.building(sheet.address.building))
        .expect("its building")
        .position;
    assert_eq!(step(ask(&engine, Request::Locate { task, fix: Fix { at, accuracy_m: 8.0 } }).await), Step::Ready);
    match ask(&engine, Request::Finish { task }).await {
        Ok(Response::Recorded { next }) => assert!(next.is_some_and(|n| n != task), "the route moves on"),
        other => panic!("finish: {other:?}"),
    }
    assert!(matches!(ask(&engine, Request::Hello).await, Ok(Response::Hello(h)) if h.resume.is_none()));

    // A failed visit: "another time" needs the time; "nobody home" is recorded.
    let fail = |reason, retry_at| Request::Fail {
        task: other,
        reason,
        note: " 敲门无人 ".into(),
        retry_at,
        photo: None,
        door_card: None,
    };
    assert!(matches!(ask(&engine, fail(FailureReason::AnotherTime, None)).await, Err(EngineError::RetryTimeNeeded)));
    assert!(matches!(ask(&engine, fail(FailureReason::NobodyHome, None)).await, Ok(Response::Recorded { .. })));

    let Ok(Response::Tonight(after)) = ask(&engine, Request::Tonight { from: Some(at) }).await else {
        panic!("tonight")
    };
    assert_eq!(after.done, 2);
    assert!(after.todo.iter().flat_map(|s| &s.tasks).all(|r| r.id != task && r.id != other));

    // Offline so far: two facts and a photo wait. A round takes them to the centre.
    let Ok(Response::Sync(before)) = ask(&engine, Request::Sync { online: false }).await else { panic!("sync") };
    assert_eq!((before.chip, before.waiting, before.photos_waiting), (Chip::Offline, 2, 1));
    let report = engine.sync_round().await.expect("a round");
    assert_eq!((report.accepted, report.blobs_uploaded), (2, 1));
    let Ok(Response::Sync(synced)) = ask(&engine, Request::Sync { online: true }).await else { panic!("sync") };
    assert_eq!((synced.chip, synced.waiting, synced.photos_waiting), (Chip::Synced, 0, 0));
    let Ok(Response::Outbox(outbox)) = ask(&engine, Request::Outbox).await else { panic!("outbox") };
    assert_eq!(outbox.lines.len(), 2);
    assert!(outbox.lines.iter().all(|l| l.status == "acknowledged"), "{outbox:?}");

    // The centre has the delivery, proven, and its photo.
    let detail: Value =
        call(reqwest::Method::GET, format!("{api}/tasks/{task}"), Some(&coord), None).await.json().await.expect("json");
    assert_eq!(detail["state"]["status"], "delivered", "{detail}");
    assert_eq!(detail["proof_gaps"], json!([]), "{detail}");
    let photo = draft.photos[0].sha256.to_hex();
    let blob = call(reqwest::Method::GET, format!("{api}/blobs/{photo}"), Some(&coord), None).await;
    assert!(blob.status().is_success(), "{}", blob.status());
    let failed: Value = call(reqwest::Method::GET, format!("{api}/tasks/{other}"), Some(&coord), None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(failed["state"]["status"], "attempt_failed", "{failed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pickup_takes_its_checklist_with_a_photo_per_item_and_a_signature() {
    use jx_core::strokes::{Point, Strokes};
    let demo = demo_centre().await;
    let (base, api, coord) = (demo.base.clone(), demo.api.clone(), demo.coord.clone());
    let pickup = assign(&demo, "pickup", 1, 2).await[0];

    let phone = tempfile::tempdir().expect("tempdir");
    let engine = open(phone.path());
    let enrol = Request::Enrol { centre_url: base.clone(), login: "s02".into(), password: PASSWORD.into() };
    assert!(matches!(ask(&engine, enrol).await, Ok(Response::Enrolled(_))));
    let draft = match ask(&engine, Request::Begin { task: pickup }).await {
        Ok(Response::Draft(d)) => d,
        other => panic!("begin: {other:?}"),
    };
    assert_eq!(draft.current(), Step::Materials);
    let items: Vec<String> = draft.materials.iter().map(|m| m.name.clone()).collect();
    assert!(!items.is_empty());
    assert!(matches!(
        ask(&engine, Request::SetMaterial { task: pickup, name: "不存在".into(), present: true }).await,
        Err(EngineError::NoSuchMaterial { .. })
    ));
    // Any photo will do for the checklist: the packet label, as the centre renders it.
    let photo = bytes(&api, &coord, &format!("/tasks/{pickup}/qr?kind=packet&format=png")).await;
    let mut last = Step::Materials;
    for name in &items {
        last = step(
            ask(&engine, Request::AddPhoto { task: pickup, material: Some(name.clone()), photo: photo.clone() }).await,
        );
    }
    assert_eq!(last, Step::Signature, "every item present and photographed");

    let blank = Strokes { width: 320, height: 180, strokes: vec![] };
    assert!(matches!(
        ask(&engine, Request::Sign { task: pickup, strokes: blank }).await,
        Err(EngineError::SignatureBlank)
    ));
    let pts = (0..40u16).map(|i| Point { x: 10 + i * 7, y: 60 + (i % 9) * 8, t_ms: u32::from(i) * 16 }).collect();
    let ink = Strokes { width: 320, height: 180, strokes: vec![pts] };
    assert_eq!(step(ask(&engine, Request::Sign { task: pickup, strokes: ink }).await), Step::Packet);
    assert_eq!(step(ask(&engine, Request::SkipPacket { task: pickup }).await), Step::Rating);
    assert_eq!(step(ask(&engine, Request::Rate { task: pickup, stars: None }).await), Step::Ready, "declining is fine");
    let at = jx_core::geo::LatLng { lat: 31.17, lng: 121.42 };
    assert_eq!(
        step(ask(&engine, Request::Locate { task: pickup, fix: Fix { at, accuracy_m: 10.0 } }).await),
        Step::Ready
    );
    assert!(matches!(ask(&engine, Request::Finish { task: pickup }).await, Ok(Response::Recorded { .. })));
    let report = engine.sync_round().await.expect("a round");
    assert_eq!((report.accepted, report.blobs_uploaded), (1, 1), "one photo: the same bytes for every item");
    let detail: Value = call(reqwest::Method::GET, format!("{api}/tasks/{pickup}"), Some(&coord), None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(detail["state"]["status"], "collected", "{detail}");
}

async fn tonight(e: &Engine) -> jx_engine::protocol::Tonight {
    match ask(e, Request::Tonight { from: None }).await {
        Ok(Response::Tonight(t)) => t,
        other => panic!("tonight: {other:?}"),
    }
}

/// A delivery with full proof, as the screens take it.
async fn deliver(engine: &Engine, api: &str, coord: &str, task: TaskId, at: jx_core::geo::LatLng) {
    let label = bytes(api, coord, &format!("/tasks/{task}/qr?kind=packet&format=png")).await;
    assert_eq!(step(ask(engine, Request::ScanPacket { task, photo: label.clone() }).await), Step::Confirm);
    let code = slip_code(api, coord, task).await;
    assert_eq!(step(ask(engine, Request::TypeCode { task, code }).await), Step::Photo);
    assert_eq!(step(ask(engine, Request::AddPhoto { task, material: None, photo: label }).await), Step::Rating);
    assert_eq!(step(ask(engine, Request::Rate { task, stars: Some(4) }).await), Step::Ready);
    assert_eq!(step(ask(engine, Request::Locate { task, fix: Fix { at, accuracy_m: 5.0 } }).await), Step::Ready);
    assert!(matches!(ask(engine, Request::Finish { task }).await, Ok(Response::Recorded { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_tasks_leave_the_phone_after_the_retention_and_a_revoked_phone_is_wiped() {
    let demo = demo_centre().await;
    let (base, api, coord) = (demo.base.clone(), demo.api.clone(), demo.coord.clone());
    let two = assign(&demo, "delivery", 2, 3).await;

    let phone = tempfile::tempdir().expect("tempdir");
    let options = EngineOptions { sync_every: None, retention: std::time::Duration::ZERO };
    let engine = Engine::new(Store::open(phone.path()).expect("store"), options);
    let enrol = Request::Enrol { centre_url: base.clone(), login: "s03".into(), password: PASSWORD.into() };
    assert!(matches!(ask(&engine, enrol).await, Ok(Response::Enrolled(_))));
    deliver(&engine, &api, &coord, two[0], jx_core::geo::LatLng { lat: 31.17, lng: 121.42 }).await;

    // Not at the centre yet: nothing is purged, whatever the retention.
    assert!(matches!(ask(&engine, Request::Sync { online: true }).await, Ok(Response::Sync(_))));
    assert!(matches!(ask(&engine, Request::Task { task: two[0] }).await, Ok(Response::Task(_))));
    // Once the centre has everything, the finished task leaves; the open one stays.
    engine.sync_round().await.expect("a round");
    assert!(matches!(ask(&engine, Request::Sync { online: true }).await, Ok(Response::Sync(_))));
    assert!(matches!(ask(&engine, Request::Task { task: two[0] }).await, Err(EngineError::NoSuchTask)));
    assert!(matches!(ask(&engine, Request::Task { task: two[1] }).await, Ok(Response::Task(_))));

    // The centre revokes the phone: its next contact wipes it, and the screens go back to enrolment.
    let devices: Value =
        call(reqwest::Method::GET, format!("{api}/devices"), Some(&coord), None).await.json().await.expect("json");
    let device = devices
        .as_array()
        .expect("devices")
        .iter()
        .find(|d| d["staff"] == 3)
        .and_then(|d| d["device"].as_str())
        .expect("s03's phone")
        .to_string();
    let res = call(reqwest::Method::POST, format!("{api}/devices/{device}/revoke"), Some(&coord), None).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert!(engine.sync_round().await.is_err(), "a revoked phone's round fails");
    assert!(matches!(ask(&engine, Request::Sync { online: true }).await, Err(EngineError::NotEnrolled)));
    assert!(
        matches!(ask(&engine, Request::Hello).await, Ok(Response::Hello(h)) if h.me.is_none() && h.resume.is_none())
    );
    assert!(matches!(ask(&engine, Request::Task { task: two[1] }).await, Err(EngineError::NoSuchTask)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_comes_back_at_the_asked_time_and_after_three_failures_goes_back_to_the_centre() {
    let demo = demo_centre().await;
    let task = assign(&demo, "delivery", 1, 5).await[0];
    let phone = tempfile::tempdir().expect("tempdir");
    let engine = open(phone.path());
    let enrol = Request::Enrol { centre_url: demo.base.clone(), login: "s05".into(), password: PASSWORD.into() };
    assert!(matches!(ask(&engine, enrol).await, Ok(Response::Enrolled(_))));
    let row = |t: &jx_engine::protocol::Tonight| {
        t.todo.iter().chain(&t.finished).flat_map(|s| &s.tasks).find(|r| r.id == task).cloned().expect("the task")
    };
    // Two visits where the resident asks for another time that has already come: back on the route each time.
    for n in 1..=2u32 {
        let retry_at = Some(jx_core::Timestamp(jx_store::now().0 - 1_000));
        let fail = Request::Fail {
            task,
            reason: FailureReason::AnotherTime,
            note: String::new(),
            retry_at,
            photo: None,
            door_card: None,
        };
        assert!(matches!(ask(&engine, fail).await, Ok(Response::Recorded { .. })), "visit {n}");
        let t = tonight(&engine).await;
        let r = row(&t);
        assert!(r.due_again && !r.must_return, "due again after visit {n}: {r:?}");
        assert!(t.todo.iter().flat_map(|s| &s.tasks).any(|x| x.id == task), "on the route again");
    }
    let later = Some(jx_core::Timestamp(jx_store::now().0 + 3_600_000));
    // The third failure: no more visits; the packet goes back to the centre.
    let fail = Request::Fail {
        task,
        reason: FailureReason::NobodyHome,
        note: String::new(),
        retry_at: later,
        photo: None,
        door_card: None,
    };
    assert!(matches!(ask(&engine, fail).await, Ok(Response::Recorded { .. })));
    let t = tonight(&engine).await;
    let r = row(&t);
    assert!(r.must_return && !r.due_again, "{r:?}");
    assert!(t.todo.iter().flat_map(|s| &s.tasks).all(|x| x.id != task), "off the route");
    match ask(&engine, Request::Task { task }).await {
        Ok(Response::Task(v)) => assert!(v.must_return && !v.open && v.attempts == 3, "{v:?}"),
        other => panic!("task: {other:?}"),
    }
    assert!(matches!(ask(&engine, Request::Begin { task }).await, Err(EngineError::NotNow { .. })));
    // The centre has all three visits once synced.
    engine.sync_round().await.expect("a round");
    let detail = at_centre(&demo, task).await;
    assert_eq!(detail["state"]["attempts"], 3, "{detail}");
}

/// A task as the coordinator sees it at the centre: the task, its state and its whole history.
async fn at_centre(d: &Demo, task: TaskId) -> Value {
    call(reqwest::Method::GET, format!("{}/tasks/{task}", d.api), Some(&d.coord), None)
        .await
        .json()
        .await
        .expect("json")
}

/// The resident of a task, as the coordinator sees it.
async fn resident_of(d: &Demo, task: TaskId) -> u32 {
    at_centre(d, task).await["task"]["resident"].as_u64().expect("a resident id") as u32
}

/// Issues (or reissues) a resident's household card: its serial and code.
async fn issue_card(d: &Demo, resident: u32) -> (u32, String) {
    let res = call(reqwest::Method::POST, format!("{}/residents/{resident}/card", d.api), Some(&d.coord), None).await;
    assert!(res.status().is_success(), "{}", res.status());
    let v: Value = res.json().await.expect("json");
    (v["serial"].as_u64().expect("serial") as u32, v["code"].as_str().expect("code").to_string())
}

/// A photo of the resident's household card in force: its token, rendered as the card prints it.
async fn card_photo(d: &Demo, resident: u32) -> Vec<u8> {
    let token = String::from_utf8(bytes(&d.api, &d.coord, &format!("/residents/{resident}/card?format=text")).await)
        .expect("utf-8");
    assert!(token.starts_with("JX1:"), "{token}");
    jx_proof::render::png(&token, 8).expect("renders")
}

/// Where a demo task's building stands.
fn door(task: TaskId) -> jx_core::geo::LatLng {
    let town = jx_core::demo::demo_town();
    let t = town.tasks.iter().find(|t| t.id == task).expect("a demo task");
    town.compound(t.address.compound).and_then(|c| c.building(t.address.building)).expect("its building").position
}

/// The steps after the resident's confirmation: a handoff photo, a rating, the position, and recording it.
async fn complete(engine: &Engine, task: TaskId, photo: Vec<u8>) {
    assert_eq!(step(ask(engine, Request::AddPhoto { task, material: None, photo }).await), Step::Rating);
    assert_eq!(step(ask(engine, Request::Rate { task, stars: Some(5) }).await), Step::Ready);
    let fix = Fix { at: door(task), accuracy_m: 5.0 };
    assert_eq!(step(ask(engine, Request::Locate { task, fix }).await), Step::Ready);
    assert!(matches!(ask(engine, Request::Finish { task }).await, Ok(Response::Recorded { .. })));
}

async fn label(d: &Demo, task: TaskId) -> Vec<u8> {
    bytes(&d.api, &d.coord, &format!("/tasks/{task}/qr?kind=packet&format=png")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_without_a_phone_confirms_offline_by_card_code_family_member_or_witness() {
    let demo = demo_centre().await;
    let tasks = assign(&demo, "delivery", 5, 4).await;
    let mut residents = Vec::new();
    for t in &tasks {
        residents.push(resident_of(&demo, *t).await);
    }
    // The centre prints cards for the first two residents and the fifth, and adds a daughter for the third.
    let mut codes = std::collections::BTreeMap::new();
    for i in [0, 1, 4] {
        if let std::collections::btree_map::Entry::Vacant(e) = codes.entry(residents[i]) {
            e.insert(issue_card(&demo, residents[i]).await.1);
        }
    }
    let body = Some(json!({"name": "陈美玲", "relation": "女儿"}));
    let res = call(
        reqwest::Method::POST,
        format!("{}/residents/{}/proxies", demo.api, residents[2]),
        Some(&demo.coord),
        body,
    )
    .await;
    assert_eq!(res.status().as_u16(), 201);
    let added: Value = res.json().await.expect("json");
    let (daughter, daughter_code) =
        (added["id"].as_u64().expect("id") as u32, added["code"].as_str().expect("code").to_string());
    let card0 = card_photo(&demo, residents[0]).await;
    let card4 = card_photo(&demo, residents[4]).await;
    let labels = {
        let mut l = Vec::new();
        for t in &tasks {
            l.push(label(&demo, *t).await);
        }
        l
    };

    let phone = tempfile::tempdir().expect("tempdir");
    let engine = open(phone.path());
    let enrol = Request::Enrol { centre_url: demo.base.clone(), login: "s04".into(), password: PASSWORD.into() };
    assert!(matches!(ask(&engine, enrol).await, Ok(Response::Enrolled(_))));
    // From here on the phone works offline until it is asked to sync.
    let view = |task| {
        let engine = &engine;
        async move {
            match ask(engine, Request::Task { task }).await {
                Ok(Response::Task(v)) => v,
                other => panic!("task: {other:?}"),
            }
        }
    };
    let v = view(tasks[0]).await;
    assert!(v.household, "the screen offers the card and its code");
    let v = view(tasks[2]).await;
    assert_eq!(v.proxies.len(), 1, "{:?}", v.proxies);
    assert_eq!(
        (v.proxies[0].id, v.proxies[0].name.as_str(), v.proxies[0].relation.as_str()),
        (daughter, "陈**", "女儿")
    );
    assert_eq!(v.household, codes.contains_key(&residents[2]));

    // 1. The household card, photographed: a packet label and another household's card are refused on the spot.
    let t = tasks[0];
    assert_eq!(step(ask(&engine, Request::ScanPacket { task: t, photo: labels[0].clone() }).await), Step::Confirm);
    assert!(matches!(
        ask(&engine, Request::ScanHousehold { task: t, photo: labels[0].clone() }).await,
        Err(EngineError::WrongQr { problem: QrProblem::WrongKind })
    ));
    if residents[4] != residents[0] {
        assert!(matches!(
            ask(&engine, Request::ScanHousehold { task: t, photo: card4.clone() }).await,
            Err(EngineError::CardOtherResident)
        ));
    }
    assert_eq!(step(ask(&engine, Request::Begin { task: t }).await), Step::Confirm, "refusals change nothing");
    assert_eq!(step(ask(&engine, Request::ScanHousehold { task: t, photo: card0.clone() }).await), Step::Photo);
    complete(&engine, t, labels[0].clone()).await;

    // 2. The code under the card, typed.
    let t = tasks[1];
    let code = codes[&residents[1]].clone();
    let wrong = format!("{:06}", (code.parse::<u32>().expect("digits") + 1) % 1_000_000);
    assert_eq!(step(ask(&engine, Request::ScanPacket { task: t, photo: labels[1].clone() }).await), Step::Confirm);
    assert!(matches!(
        ask(&engine, Request::TypeHouseholdCode { task: t, code: wrong }).await,
        Err(EngineError::HouseholdCodeWrong)
    ));
    assert!(matches!(
        ask(&engine, Request::TypeHouseholdCode { task: t, code: "12 34".into() }).await,
        Err(EngineError::CodeMalformed)
    ));
    assert_eq!(step(ask(&engine, Request::TypeHouseholdCode { task: t, code: code.clone() }).await), Step::Photo);
    complete(&engine, t, labels[1].clone()).await;

    // 3. The daughter receives, with her own code.
    let t = tasks[2];
    assert_eq!(step(ask(&engine, Request::ScanPacket { task: t, photo: labels[2].clone() }).await), Step::Confirm);
    let wrong = if daughter_code == "000000" { "000001" } else { "000000" };
    assert!(matches!(
        ask(&engine, Request::ProxyCode { task: t, proxy: daughter + 100, code: daughter_code.clone() }).await,
        Err(EngineError::NoSuchProxy { proxy }) if proxy == daughter + 100
    ));
    assert!(matches!(
        ask(&engine, Request::ProxyCode { task: t, proxy: daughter, code: wrong.into() }).await,
        Err(EngineError::ProxyCodeWrong)
    ));
    let draft = match ask(&engine, Request::ProxyCode { task: t, proxy: daughter, code: daughter_code }).await {
        Ok(Response::Draft(d)) => d,
        other => panic!("proxy: {other:?}"),
    };
    assert_eq!(draft.current(), Step::Photo);
    assert_eq!(draft.confirmation.as_ref().map(jx_engine::protocol::confirmation_kind), Some("proxy"));
    complete(&engine, t, labels[2].clone()).await;

    // 4. Nobody can confirm: a witness photo, named; it counts only beside a separate photo of the handoff.
    let t = tasks[3];
    assert_eq!(step(ask(&engine, Request::ScanPacket { task: t, photo: labels[3].clone() }).await), Step::Confirm);
    if !codes.contains_key(&residents[3]) {
        assert!(matches!(
            ask(&engine, Request::TypeHouseholdCode { task: t, code: "123456".into() }).await,
            Err(EngineError::NoHouseholdOnFile)
        ));
    }
    assert!(matches!(
        ask(&engine, Request::Witness { task: t, photo: card0.clone(), witness: "  ".into() }).await,
        Err(EngineError::WitnessName)
    ));
    let witness = Request::Witness { task: t, photo: card0.clone(), witness: "邻居 王阿姨".into() };
    assert_eq!(step(ask(&engine, witness).await), Step::Photo);
    assert_eq!(
        step(ask(&engine, Request::AddPhoto { task: t, material: None, photo: card0.clone() }).await),
        Step::Rating
    );
    assert_eq!(step(ask(&engine, Request::Rate { task: t, stars: None }).await), Step::Ready);
    let fix = Fix { at: door(t), accuracy_m: 5.0 };
    assert_eq!(step(ask(&engine, Request::Locate { task: t, fix }).await), Step::Ready);
    match ask(&engine, Request::Finish { task: t }).await {
        Err(EngineError::ProofIncomplete { gaps }) => {
            assert_eq!(gaps, vec![jx_core::proof::Gap::WitnessWithoutHandoffPhoto]);
        }
        other => panic!("the witness photo alone is not the handoff photo: {other:?}"),
    }
    assert_eq!(
        step(ask(&engine, Request::AddPhoto { task: t, material: None, photo: labels[3].clone() }).await),
        Step::Ready
    );
    assert!(matches!(ask(&engine, Request::Finish { task: t }).await, Ok(Response::Recorded { .. })));

    // Four handoffs and their photos (the witness photo among them) wait; a round takes them to the centre.
    let Ok(Response::Sync(waiting)) = ask(&engine, Request::Sync { online: false }).await else { panic!("sync") };
    assert_eq!((waiting.chip, waiting.waiting), (Chip::Offline, 4));
    let report = engine.sync_round().await.expect("a round");
    assert_eq!(report.accepted, 4);
    for t in &tasks[..4] {
        let detail: Value = call(reqwest::Method::GET, format!("{}/tasks/{t}", demo.api), Some(&demo.coord), None)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(detail["state"]["status"], "delivered", "{detail}");
        assert_eq!(detail["proof_gaps"], json!([]), "{detail}");
    }
    let list: Value = call(reqwest::Method::GET, format!("{}/tasks", demo.api), Some(&demo.coord), None)
        .await
        .json()
        .await
        .expect("json");
    let witnessed = list.as_array().expect("tasks").iter().find(|s| s["id"] == tasks[3].to_string()).expect("listed");
    assert_eq!(witnessed["missing_blobs"], 0, "the witness photo was uploaded with the handoff photo");
    let detail: Value = call(reqwest::Method::GET, format!("{}/tasks/{}", demo.api, tasks[2]), Some(&demo.coord), None)
        .await
        .json()
        .await
        .expect("json");
    let proof = detail["history"].as_array().and_then(|h| h.last()).map(|e| e["payload"]["delivered"]["proof"].clone());
    let received = proof.expect("a delivery")["confirmation"]["proxy"].clone();
    assert_eq!((received["proxy"].as_u64(), received["name"].as_str()), (Some(daughter as u64), Some("陈**")));

    // 5. The fifth resident's card is replaced. Until the phone syncs, the new card is unknown to it; after the
    // sync the old card is refused offline, with why, and the new one is taken.
    let t = tasks[4];
    let (serial, _) = issue_card(&demo, residents[4]).await;
    let new_card = card_photo(&demo, residents[4]).await;
    assert_eq!(step(ask(&engine, Request::ScanPacket { task: t, photo: labels[4].clone() }).await), Step::Confirm);
    match ask(&engine, Request::ScanHousehold { task: t, photo: new_card.clone() }).await {
        Err(EngineError::CardNewer { card, known }) => assert_eq!((card, known), (serial, serial - 1)),
        other => panic!("a card newer than the phone knows: {other:?}"),
    }
    engine.sync_round().await.expect("a round");
    match ask(&engine, Request::ScanHousehold { task: t, photo: card4 }).await {
        Err(e @ EngineError::CardReplaced { .. }) => {
            assert_eq!(e, EngineError::CardReplaced { card: serial - 1, current: serial });
            assert!(e.to_string().contains("replaced"), "{e}");
        }
        other => panic!("the old card must be refused offline after the sync: {other:?}"),
    }
    assert_eq!(step(ask(&engine, Request::Begin { task: t }).await), Step::Confirm, "the draft stays at its step");
    assert_eq!(step(ask(&engine, Request::ScanHousehold { task: t, photo: new_card }).await), Step::Photo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_door_card_left_at_a_failed_visit_books_the_next_one_and_the_phone_plans_it_for_then() {
    use jx_engine::protocol::DoorCardScan;
    let demo = demo_centre().await;
    let task = assign(&demo, "delivery", 1, 6).await[0];
    let phone = tempfile::tempdir().expect("tempdir");
    let engine = open(phone.path());
    let enrol = Request::Enrol { centre_url: demo.base.clone(), login: "s06".into(), password: PASSWORD.into() };
    assert!(matches!(ask(&engine, enrol).await, Ok(Response::Enrolled(_))));

    // A roll of cards from the centre; the phone photographs one as printed.
    let sheet = String::from_utf8(bytes(&demo.api, &demo.coord, "/print/door-cards?count=2").await).expect("utf-8");
    let urls: Vec<String> =
        sheet.split("data-url=\"").skip(1).map(|r| r.split('"').next().expect("closed").to_string()).collect();
    assert_eq!(urls.len(), 2);
    let photo = |text: &str| jx_proof::render::png(text, 6).expect("a QR code");

    // What is not a good card is refused on the spot: a packet label, a forged card, a photo without a code.
    let label = bytes(&demo.api, &demo.coord, &format!("/tasks/{task}/qr?kind=packet&format=png")).await;
    let scan = |photo: Vec<u8>| Request::ScanDoorCard { task, photo };
    assert!(matches!(
        ask(&engine, scan(label.clone())).await,
        Err(EngineError::WrongQr { problem: QrProblem::WrongKind })
    ));
    let forged = jx_core::token::TokenSigner::from_secret(1, [9; 32]).issue(
        jx_core::token::TokenKind::DoorCard,
        TaskId::v7(1, [2; 10]),
        jx_core::Timestamp(jx_store::now().0),
    );
    let forged = jx_core::doorcard::card_url(&demo.base, &forged);
    assert!(matches!(
        ask(&engine, scan(photo(&forged))).await,
        Err(EngineError::WrongQr { problem: QrProblem::Forged })
    ));
    // A white 32 × 32 PNG.
    let blank = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        "iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAAAAABWESUoAAAAFklEQVR42mP4TwAwjCoYVTCqYKQqAAA/aPwuqUTQyAAAAABJRU5ErkJggg==",
    )
    .expect("base64");
    assert!(matches!(ask(&engine, scan(blank)).await, Err(EngineError::NoCodeInPhoto)));
    let card = match ask(&engine, scan(photo(&urls[0]))).await {
        Ok(Response::DoorCard(DoorCardScan { card, short })) => {
            assert!(card.starts_with("JX1:") && short.len() == 7, "{card} {short}");
            card
        }
        other => panic!("the card: {other:?}"),
    };
    // A failure with a forged card records nothing.
    let fail = |door_card: Option<String>, retry_at| Request::Fail {
        task,
        reason: FailureReason::AnotherTime,
        note: String::new(),
        retry_at,
        photo: None,
        door_card,
    };
    let asked = Some(jx_core::Timestamp(jx_store::now().0 - 1_000));
    assert!(matches!(ask(&engine, fail(Some(forged), asked)).await, Err(EngineError::WrongQr { .. })));
    // The resident asked for a time already come: the task would be due again now, with the card left.
    assert!(matches!(ask(&engine, fail(Some(card.clone()), asked)).await, Ok(Response::Recorded { .. })));
    let row = |t: &jx_engine::protocol::Tonight| {
        t.todo.iter().chain(&t.finished).flat_map(|s| &s.tasks).find(|r| r.id == task).cloned().expect("the task")
    };
    let before = row(&tonight(&engine).await);
    assert!(before.due_again && before.booked_for.is_none(), "{before:?}");
    // A card books one visit: this phone will not leave it twice.
    assert!(matches!(
        ask(&engine, scan(photo(&urls[0]))).await,
        Err(EngineError::WrongQr { problem: QrProblem::CardAlreadyLeft { short } }) if short == task.short()
    ));
    let report = engine.sync_round().await.expect("a round");
    assert_eq!(report.accepted, 2, "the failure and its card");

    // The resident scans the card and picks the evening after tomorrow on the centre's page.
    const DAY_MS: i64 = 86_400_000;
    let tomorrow = (jx_store::now().0 + 8 * 3_600_000).div_euclid(DAY_MS) + 1;
    let evening = jx_centre::report::Day(tomorrow + 1).to_string();
    let res = reqwest::Client::new()
        .post(&urls[0])
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("evening={evening}"))
        .send()
        .await
        .expect("the page");
    assert_eq!(res.status(), reqwest::StatusCode::OK, "{}", res.text().await.unwrap_or_default());
    let due = jx_core::Timestamp((tomorrow + 1) * DAY_MS - 8 * 3_600_000 + 19 * 3_600_000);

    // The phone's next round brings the booking: the task waits for that evening, and not a moment before.
    engine.sync_round().await.expect("a round");
    let t = tonight(&engine).await;
    let after = row(&t);
    assert_eq!(after.booked_for, Some(due), "{after:?}");
    assert!(!after.due_again && !after.must_return, "{after:?}");
    assert!(t.todo.iter().flat_map(|s| &s.tasks).all(|r| r.id != task), "off tonight's route");
    match ask(&engine, Request::Task { task }).await {
        Ok(Response::Task(v)) => assert!(v.booked_for == Some(due) && !v.open, "{v:?}"),
        other => panic!("task: {other:?}"),
    }
    let (kind, at) = (TaskKind::Delivery, jx_store::now());
    let early = jx_core::Timestamp(due.0 - 1);
    assert_eq!(jx_engine::after_failure(kind, 1, at, after.booked_for, early), jx_engine::AfterFailure::Waiting);
    assert_eq!(jx_engine::after_failure(kind, 1, at, after.booked_for, due), jx_engine::AfterFailure::Due);
    let history = at_centre(&demo, task).await;
    let kinds: Vec<&str> = history["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["payload"].as_object())
        .flat_map(|p| p.keys())
        .map(String::as_str)
        .collect();
    assert_eq!(kinds, ["assigned", "attempt_failed", "door_card_left", "rescheduled"], "{history}");
    assert_eq!(history["history"][2]["payload"]["door_card_left"]["card"], card.as_str());
}

async fn view(e: &Engine, task: TaskId) -> jx_engine::protocol::TaskView {
    match ask(e, Request::Task { task }).await {
        Ok(Response::Task(v)) => *v,
        other => panic!("task: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_asks_for_more_proof_and_the_phone_adds_a_photo_that_reaches_the_centre() {
    let demo = demo_centre().await;
    let tasks = assign(&demo, "delivery", 2, 7).await;
    let (task, open_task) = (tasks[0], tasks[1]);
    let phone = tempfile::tempdir().expect("tempdir");
    let engine = open(phone.path());
    let enrol = Request::Enrol { centre_url: demo.base.clone(), login: "s07".into(), password: PASSWORD.into() };
    assert!(matches!(ask(&engine, enrol).await, Ok(Response::Enrolled(_))));
    let photo = label(&demo, task).await;
    let add = |task, photo: Option<Vec<u8>>, note: &str| Request::AddProof { task, photo, note: note.into() };

    // Not handed over yet: nothing can be added, and nothing is kept.
    let refused = ask(&engine, add(open_task, Some(photo.clone()), "")).await;
    assert!(matches!(refused, Err(EngineError::NotNow { .. })), "{refused:?}");
    deliver(&engine, &demo.api, &demo.coord, task, door(task)).await;
    engine.sync_round().await.expect("a round");
    let v = view(&engine, task).await;
    assert!(v.can_add_proof && v.proof_asked.is_none(), "{v:?}");
    assert_eq!(tonight(&engine).await.proof_asked, 0);

    // The coordinator asks; the next sync brings the request, marked on the route and on the task.
    let body = Some(json!({"ask_for_proof": {"note": "请补拍门牌"}}));
    let res =
        call(reqwest::Method::POST, format!("{}/tasks/{task}/decisions", demo.api), Some(&demo.coord), body).await;
    assert!(res.status().is_success(), "{}", res.status());
    engine.sync_round().await.expect("a round");
    assert_eq!(view(&engine, task).await.proof_asked.as_deref(), Some("请补拍门牌"));
    let t = tonight(&engine).await;
    assert_eq!(t.proof_asked, 1);
    let row = t.todo.iter().chain(&t.finished).flat_map(|s| &s.tasks).find(|r| r.id == task).expect("the row");
    assert!(row.proof_asked, "{row:?}");

    // Refusals keep nothing: an empty answer, a photo that is no photo.
    assert!(matches!(ask(&engine, add(task, None, "   ")).await, Err(EngineError::NothingToAdd)));
    let corrupt = ask(&engine, add(task, Some(b"not an image".to_vec()), "x")).await;
    assert!(matches!(corrupt, Err(EngineError::BadPhoto { .. })), "{corrupt:?}");
    assert!(view(&engine, task).await.proof_asked.is_some());

    assert!(matches!(ask(&engine, add(task, Some(photo), " 门牌在左侧 ")).await, Ok(Response::Done)));
    let v = view(&engine, task).await;
    assert!(v.proof_asked.is_none(), "answered: {v:?}");
    assert_eq!(v.history.last().map(|h| (h.what, h.mine)), Some((jx_core::event::EventKind::ProofAdded, true)));
    assert_eq!(tonight(&engine).await.proof_asked, 0);

    // At the centre once synced, with its photo.
    engine.sync_round().await.expect("a round");
    let detail = at_centre(&demo, task).await;
    let history: Vec<jx_core::Envelope> = serde_json::from_value(detail["history"].clone()).expect("history");
    let added = history.iter().find_map(|e| match &e.payload {
        jx_core::event::EventPayload::ProofAdded { photos, note } => Some((photos.clone(), note.clone())),
        _ => None,
    });
    let (photos, note) = added.expect("the added proof is at the centre");
    assert_eq!((photos.len(), note.as_str()), (1, "门牌在左侧"));
    let jpeg = bytes(&demo.api, &demo.coord, &format!("/blobs/{}", photos[0])).await;
    assert_eq!(jx_core::bytes::Sha256::of(&jpeg), photos[0], "the photo's bytes arrived");
}
