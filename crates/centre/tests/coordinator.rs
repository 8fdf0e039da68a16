//! The coordinators' side of the centre over a real loopback socket: import checks, the town map, the board with
//! its staff loads and its pending-sync flags, settling conflicts and asking for proof, the counter, and the
//! reports.

mod common;

use common::*;
use jx_core::event::{EventKind, EventPayload, FailureReason, HandoffProof};
use jx_core::model::Compound;
use jx_core::state::{ConflictKind, TaskState, TaskStatus};
use jx_core::token::{TokenKind, TokenSigner};
use jx_core::wire::*;
use jx_core::{CompoundId, EventId, StaffId, TaskId, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const CSV_HEADER: &str = "kind,case_number,service_item,resident_name,resident_phone,compound,building,unit,room,elderly,disabled,pregnant,follows_case\n";

fn code(body: &Value) -> Option<&str> {
    body["code"].as_str()
}

fn failed(reason: FailureReason) -> EventPayload {
    EventPayload::AttemptFailed { reason, note: String::new(), photos: vec![], retry_at: None }
}

fn delivered(rating: Option<u8>) -> EventPayload {
    EventPayload::Delivered { proof: HandoffProof { rating, ..Default::default() } }
}

async fn board(c: &Centre, token: &str, query: &str) -> Board {
    let (status, body) = c.call(Method::GET, &format!("/board{query}"), Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("a board")
}

async fn summary(c: &Centre, token: &str, task: TaskId) -> TaskSummary {
    c.tasks(token, "").await.into_iter().find(|t| t.id == task).expect("listed")
}

async fn detail(c: &Centre, token: &str, task: TaskId) -> Value {
    let (status, body) = c.call(Method::GET, &format!("/tasks/{task}"), Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn state(c: &Centre, token: &str, task: TaskId) -> TaskState {
    serde_json::from_value(detail(c, token, task).await["state"].clone()).expect("a task state")
}

async fn ok(c: &Centre, token: &str, task: TaskId, d: Decision) -> Value {
    let (status, body) = c.decide(token, task, d).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// `n` open tasks of a kind (`created` deliveries or `requested` pickups), in different compounds where possible.
async fn open_tasks(c: &Centre, token: &str, status: &str, n: usize) -> Vec<TaskSummary> {
    let mut all = c.tasks(token, &format!("?status={status}")).await;
    assert!(all.len() >= n, "the demo town has {} {status} tasks", all.len());
    let mut seen = BTreeSet::new();
    all.sort_by_key(|t| !seen.insert(t.compound));
    all.truncate(n);
    all
}

async fn label(c: &Centre, token: &str, task: TaskId, kind: &str) -> (StatusCode, String) {
    let (status, body) =
        c.call(Method::GET, &format!("/tasks/{task}/qr?kind={kind}&format=text"), Some(token), None).await;
    (status, body.as_str().map(String::from).unwrap_or_default())
}

async fn counter(c: &Centre, token: &str, code: &str, direction: &str) -> (StatusCode, Value) {
    c.call(Method::POST, "/counter", Some(token), Some(json!({"code": code, "direction": direction}))).await
}

async fn audit_actions(c: &Centre, token: &str, task: TaskId) -> Vec<(String, Option<u64>, String)> {
    let (status, body) = c.call(Method::GET, &format!("/audit?task={task}"), Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["staff"].as_u64(),
                e["detail"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn history_kinds(detail: &Value) -> Vec<String> {
    let history: Vec<jx_core::Envelope> = serde_json::from_value(detail["history"].clone()).expect("history");
    history.iter().map(|e| e.kind().as_str().to_string()).collect()
}

fn upserted(pull: &PullResponse, task: TaskId) -> Option<&Vec<jx_core::Envelope>> {
    pull.changes.iter().find_map(|ch| match ch {
        TaskChange::Upsert { sheet, history } if sheet.task.id == task => Some(history),
        _ => None,
    })
}

fn removed(pull: &PullResponse, task: TaskId) -> bool {
    pull.changes.iter().any(|ch| matches!(ch, TaskChange::Remove { task: t } if *t == task))
}

#[tokio::test]
async fn an_import_check_reports_the_bad_rows_and_writes_nothing() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let before = c.tasks(&coord, "").await;
    let csv = format!(
        "{CSV_HEADER}\
         delivery,CHK-1,1,王秀英,13812345678,1,1,1,301,1,0,0,\n\
         parcel,CHK-2,1,李强,13812345679,1,1,1,302,0,0,0,\n\
         pickup,CHK-3,2,张伟,13812345670,1,1,1,303,0,0,0,\n\
         delivery,CHK-4,99,刘芳,13912345678,1,1,1,101,0,0,0,\n"
    );
    let send = |mode: &str| {
        c.http
            .post(format!("{}/tasks/import?mode={mode}", c.url))
            .bearer_auth(&coord)
            .header("content-type", "text/csv")
            .body(csv.clone())
            .send()
    };
    let res = send("check").await.expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    let report: ImportReport = res.json().await.expect("a report");
    assert_eq!((report.imported, report.valid), (0, 2), "{report:?}");
    assert!(report.tasks.is_empty());
    let lines: BTreeSet<usize> = report.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, BTreeSet::from([3, 5]), "{:?}", report.errors);
    let after = c.tasks(&coord, "").await;
    assert_eq!(after, before, "a check writes nothing");
    let (_, audit) = c.call(Method::GET, "/audit?limit=5000", Some(&coord), None).await;
    assert!(audit.as_array().expect("entries").iter().all(|e| e["action"] != "import"), "{audit}");
    // The rows it called good are exactly the ones a real import takes.
    let res = send("good_rows").await.expect("sent");
    let real: ImportReport = res.json().await.expect("a report");
    assert_eq!((real.imported, real.valid), (report.valid, report.valid));
    assert_eq!(real.errors, report.errors);
    assert_eq!(c.tasks(&coord, "").await.len(), before.len() + report.valid);
}

#[tokio::test]
async fn the_town_map_is_the_towns_compounds_for_coordinators_only() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let (status, body) = c.call(Method::GET, "/town", Some(&coord), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let map: TownMap = serde_json::from_value(body).expect("a town map");
    let town = jx_core::demo::demo_town();
    let ids = |cs: &[Compound]| cs.iter().map(|c| (c.id, c.name.clone(), c.buildings.len())).collect::<Vec<_>>();
    assert_eq!(ids(&map.compounds), ids(&town.compounds));
    assert_eq!(map.compounds, town.compounds, "boundaries and buildings as seeded");
    let phone = c.phone(1).await;
    let (status, body) = c.call(Method::GET, "/town", Some(&phone.token), None).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, Some("coordinators_only")));
}

#[tokio::test]
async fn the_board_counts_filters_and_shows_every_team_members_load() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let mut phone1 = c.phone(1).await;
    let before = board(&c, &coord, "").await;
    let tasks = open_tasks(&c, &coord, "created", 4).await;
    let ids: Vec<TaskId> = tasks.iter().map(|t| t.id).collect();
    for t in &ids[..3] {
        ok(&c, &coord, *t, Decision::Assign { staff: StaffId(1) }).await;
    }
    ok(&c, &coord, ids[3], Decision::Assign { staff: StaffId(2) }).await;
    ok(&c, &coord, ids[0], Decision::CheckOut).await;
    let events = [
        phone1.record(ids[0], delivered(None), far_future()),
        phone1.record(ids[1], failed(FailureReason::NobodyHome), far_future() + 1),
    ];
    let (_, body) = c.push(&phone1, &events).await;
    assert_eq!(body["results"][0]["outcome"], "accepted", "{body}");
    assert_eq!(body["results"][1]["outcome"], "accepted", "{body}");

    let b = board(&c, &coord, "").await;
    // The compounds are the progress view; the tasks the whole list.
    let (_, progress) = c.call(Method::GET, "/progress", Some(&coord), None).await;
    assert_eq!(serde_json::to_value(&b.compounds).expect("json"), progress);
    let all = c.tasks(&coord, "").await;
    assert_eq!(b.tasks, all);
    // Team members only, by id, each counted from the task list.
    let (_, staff) = c.call(Method::GET, "/staff", Some(&coord), None).await;
    let team: Vec<u64> = staff
        .as_array()
        .expect("staff")
        .iter()
        .filter(|s| s["role"] == "staff")
        .filter_map(|s| s["id"].as_u64())
        .collect();
    assert_eq!(b.staff.iter().map(|s| u64::from(s.staff.0)).collect::<Vec<_>>(), team);
    for load in &b.staff {
        let mine: Vec<&TaskSummary> = all.iter().filter(|t| t.assignee == Some(load.staff)).collect();
        let count = |ss: &[TaskStatus]| mine.iter().filter(|t| ss.contains(&t.status)).count() as u32;
        use TaskStatus::*;
        assert_eq!(load.open, count(&[Assigned, CheckedOut, AttemptFailed]), "{load:?}");
        assert_eq!(load.done, count(&[Delivered, Collected, HandedIn]), "{load:?}");
        assert_eq!(load.failed, count(&[AttemptFailed, Returned]), "{load:?}");
    }
    // What tonight's decisions and facts added: staff 1 holds a failed and an assigned task, delivered one; staff
    // 2 holds one.
    let load = |b: &Board, s: u32| b.staff.iter().find(|l| l.staff == StaffId(s)).cloned().expect("a team member");
    let delta = |s: u32| {
        let (now, then) = (load(&b, s), load(&before, s));
        (now.open - then.open, now.done - then.done, now.failed - then.failed)
    };
    assert_eq!(delta(1), (2, 1, 1));
    assert_eq!(delta(2), (1, 0, 0));
    let one = load(&b, 1);
    assert!(!one.login.is_empty() && !one.name.is_empty() && one.capacity > 0);
    let town = jx_core::demo::demo_town();
    let seeded = town.staff.iter().find(|s| s.id == StaffId(1)).expect("staff 1");
    assert_eq!(one.home, seeded.home);

    // Filters: by staff, by compound, both.
    let by_staff = board(&c, &coord, "?staff=1").await;
    let theirs: Vec<TaskSummary> = all.iter().filter(|t| t.assignee == Some(StaffId(1))).cloned().collect();
    assert_eq!(by_staff.tasks, theirs);
    let listed: BTreeSet<TaskId> = by_staff.tasks.iter().map(|t| t.id).collect();
    assert!(ids[..3].iter().all(|t| listed.contains(t)) && !listed.contains(&ids[3]), "tonight's three are staff 1's");
    assert_eq!(by_staff.staff, b.staff, "the loads are never filtered");
    let compound = tasks[0].compound;
    let by_compound = board(&c, &coord, &format!("?compound={}", compound.0)).await;
    let expected: Vec<TaskSummary> = all.iter().filter(|t| t.compound == compound).cloned().collect();
    assert!(!expected.is_empty());
    assert_eq!(by_compound.tasks, expected);
    let both = board(&c, &coord, &format!("?compound={}&staff=1", compound.0)).await;
    assert_eq!(both.tasks, expected.iter().filter(|t| t.assignee == Some(StaffId(1))).cloned().collect::<Vec<_>>());
    for bad in ["?staff=abc", "?compound=-1", "?compound=99999999999"] {
        let (status, body) = c.call(Method::GET, &format!("/board{bad}"), Some(&coord), None).await;
        assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, Some("malformed_query")), "{bad}");
    }
    let (status, _) = c.call(Method::GET, "/board", Some(&phone1.token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn pending_sync_lasts_until_every_phone_of_the_former_assignee_has_pulled_the_change() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let phone = c.phone(1).await;
    let spare = c.phone(1).await;
    let tasks = open_tasks(&c, &coord, "created", 2).await;
    let (t, u) = (tasks[0].id, tasks[1].id);
    ok(&c, &coord, t, Decision::Assign { staff: StaffId(1) }).await;
    let first = c.pull(&phone, "", 100).await;
    assert!(upserted(&first, t).is_some(), "the phone holds the task");
    assert!(!summary(&c, &coord, t).await.pending_sync, "assigned, never reassigned");

    ok(&c, &coord, t, Decision::Reassign { staff: StaffId(2) }).await;
    assert!(summary(&c, &coord, t).await.pending_sync, "the phone does not know yet");
    let on_board = board(&c, &coord, "?staff=2").await;
    assert!(on_board.tasks.iter().any(|s| s.id == t && s.pending_sync), "{:?}", on_board.tasks);

    // The pull that carries the change: the centre cannot know the phone stored it until it asks past it.
    let second = c.pull(&phone, &first.cursor, 100).await;
    assert!(removed(&second, t));
    assert!(summary(&c, &coord, t).await.pending_sync);
    c.pull(&phone, &second.cursor, 100).await;
    assert!(summary(&c, &coord, t).await.pending_sync, "the other phone of staff 1 has pulled nothing");
    let (status, _) = c.call(Method::POST, &format!("/devices/{}/revoke", spare.device), Some(&coord), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!summary(&c, &coord, t).await.pending_sync, "a revoked phone no longer counts");

    // Reassigned from someone with no phone at all: nothing to wait for.
    ok(&c, &coord, u, Decision::Assign { staff: StaffId(3) }).await;
    ok(&c, &coord, u, Decision::Reassign { staff: StaffId(2) }).await;
    assert!(!summary(&c, &coord, u).await.pending_sync);
    // Reassigned again, from staff 2 whose new phone has not pulled it.
    let phone2 = c.phone(2).await;
    ok(&c, &coord, u, Decision::Reassign { staff: StaffId(4) }).await;
    assert!(summary(&c, &coord, u).await.pending_sync);
    let p = c.pull(&phone2, "", 1000).await;
    c.pull(&phone2, &p.cursor, 1000).await;
    assert!(!summary(&c, &coord, u).await.pending_sync);
}

#[tokio::test]
async fn a_late_delivery_by_the_former_assignee_is_accepted_as_theirs() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let mut phone = c.phone(1).await;
    let t = open_tasks(&c, &coord, "created", 1).await[0].id;
    ok(&c, &coord, t, Decision::Assign { staff: StaffId(1) }).await;
    ok(&c, &coord, t, Decision::CheckOut).await;
    let held = c.pull(&phone, "", 100).await;
    assert!(upserted(&held, t).is_some());
    ok(&c, &coord, t, Decision::Reassign { staff: StaffId(2) }).await;
    // Offline, the phone still had the packet and handed it over.
    let e = phone.record(t, delivered(Some(5)), far_future());
    let (_, body) = c.push(&phone, std::slice::from_ref(&e)).await;
    assert_eq!(body["results"][0]["outcome"], "accepted", "{body}");
    let s = state(&c, &coord, t).await;
    assert_eq!((s.status, s.assignee), (TaskStatus::Delivered, Some(StaffId(2))));
    assert_eq!(s.conflicts.len(), 1);
    assert_eq!(
        (s.conflicts[0].event, &s.conflicts[0].kind),
        (e.id, &ConflictKind::NotAssignee { assignee: Some(StaffId(2)) })
    );

    // Only a conflict can be accepted: not another event of the task, not a made-up one, not a malformed id.
    let history: Vec<jx_core::Envelope> =
        serde_json::from_value(detail(&c, &coord, t).await["history"].clone()).expect("history");
    let assigned = history.iter().find(|h| h.kind() == EventKind::Assigned).expect("assigned").id;
    for event in [assigned, EventId(uuid::Uuid::now_v7())] {
        let (status, body) = c.decide(&coord, t, Decision::AcceptConflict { event, note: String::new() }).await;
        assert_eq!((status, code(&body)), (StatusCode::CONFLICT, Some("not_a_conflict")), "{body}");
    }
    let (status, body) = c
        .call(
            Method::POST,
            &format!("/tasks/{t}/decisions"),
            Some(&coord),
            Some(json!({"accept_conflict": {"event": "nope", "note": ""}})),
        )
        .await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, Some("malformed_body")));
    assert_eq!(state(&c, &coord, t).await, s, "refused decisions change nothing");

    let after: TaskState = serde_json::from_value(
        ok(&c, &coord, t, Decision::AcceptConflict { event: e.id, note: "staff 1 had the packet".into() }).await,
    )
    .expect("a task state");
    assert!(after.conflicts.is_empty(), "{after:?}");
    assert_eq!((after.status, after.assignee), (TaskStatus::Delivered, Some(StaffId(1))));
    let listed = summary(&c, &coord, t).await;
    assert_eq!((listed.conflicts, listed.assignee), (0, Some(StaffId(1))));
    assert!(audit_actions(&c, &coord, t).await.iter().any(|(a, s, _)| a == "conflict_accepted" && *s == Some(1)));
    // The task is staff 1's again: their phone hears of it, with the decision in its history.
    let back = c.pull(&phone, &held.cursor, 100).await;
    let history = upserted(&back, t).expect("upserted to staff 1 again");
    assert!(history.iter().any(|h| matches!(&h.payload, EventPayload::ConflictAccepted { event, staff: Some(StaffId(1)), .. } if *event == e.id)));
    let (status, body) = c.decide(&coord, t, Decision::AcceptConflict { event: e.id, note: String::new() }).await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, Some("not_a_conflict")), "accepted once");
}

#[tokio::test]
async fn accepting_a_conflict_of_another_kind_keeps_the_assignee() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let mut phone = c.phone(1).await;
    let t = open_tasks(&c, &coord, "created", 1).await[0].id;
    ok(&c, &coord, t, Decision::Assign { staff: StaffId(1) }).await;
    ok(&c, &coord, t, Decision::Cancel { reason: "came in".into() }).await;
    let e = phone.record(t, delivered(None), far_future());
    c.push(&phone, std::slice::from_ref(&e)).await;
    let s = state(&c, &coord, t).await;
    assert_eq!(
        s.conflicts.iter().map(|c| (c.event, c.kind.clone())).collect::<Vec<_>>(),
        [(e.id, ConflictKind::AfterCancel)]
    );
    let after: TaskState =
        serde_json::from_value(ok(&c, &coord, t, Decision::AcceptConflict { event: e.id, note: String::new() }).await)
            .expect("state");
    assert!(after.conflicts.is_empty());
    assert_eq!((after.status, after.assignee), (s.status, s.assignee));
}

#[tokio::test]
async fn proof_is_asked_for_only_after_a_handoff_and_reaches_the_phone() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let mut phone = c.phone(1).await;
    let t = open_tasks(&c, &coord, "created", 1).await[0].id;
    ok(&c, &coord, t, Decision::Assign { staff: StaffId(1) }).await;
    let before = state(&c, &coord, t).await;
    let (status, body) = c.decide(&coord, t, Decision::AskForProof { note: "photo?".into() }).await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, Some("not_settled")), "{body}");
    assert!(body["message"].as_str().unwrap_or_default().contains("assigned"), "{body}");
    assert_eq!(state(&c, &coord, t).await, before);

    let first = c.pull(&phone, "", 100).await;
    let e = phone.record(t, delivered(None), far_future());
    c.push(&phone, &[e]).await;
    let settled = state(&c, &coord, t).await;
    assert_eq!(settled.status, TaskStatus::Delivered);
    let after: TaskState =
        serde_json::from_value(ok(&c, &coord, t, Decision::AskForProof { note: "the photo is blurred".into() }).await)
            .expect("state");
    assert_eq!(TaskState { applied: settled.applied.clone(), ..after }, settled, "no state changes");
    assert_eq!(history_kinds(&detail(&c, &coord, t).await).last().map(String::as_str), Some("proof_requested"));
    assert!(audit_actions(&c, &coord, t).await.iter().any(|(a, s, _)| a == "proof_requested" && s.is_none()));
    let next = c.pull(&phone, &first.cursor, 100).await;
    let history = upserted(&next, t).expect("the request reaches the assignee's phone");
    assert!(
        history
            .iter()
            .any(|h| matches!(&h.payload, EventPayload::ProofRequested { note } if note == "the photo is blurred"))
    );
}

#[tokio::test]
async fn proof_added_by_the_phone_reaches_the_desk_and_accepted_proof_leaves_the_exceptions() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let mut phone = c.phone(1).await;
    let tasks = open_tasks(&c, &coord, "created", 2).await;
    let (t, open) = (tasks[0].id, tasks[1].id);
    for id in [t, open] {
        ok(&c, &coord, id, Decision::Assign { staff: StaffId(1) }).await;
    }
    let photo_bytes = jx_proof::photo::sample_jpeg(412, 64, 48);
    let photo = jx_core::bytes::Sha256::of(&photo_bytes);
    let added =
        |photos: Vec<jx_core::bytes::Sha256>| EventPayload::ProofAdded { photos, note: "门牌照片补拍".into() };

    // Nothing handed over yet: proof cannot be added to it, or accepted.
    let early = phone.record(open, added(vec![]), far_future());
    let (_, body) = c.push(&phone, &[early]).await;
    assert_eq!(body["results"][0]["outcome"]["rejected"]["code"], "impossible_transition", "{body}");
    let (status, body) = c.decide(&coord, open, Decision::AcceptProof { note: String::new() }).await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, Some("not_settled")), "{body}");

    // Delivered without the proof its policy asks for: on the exceptions list.
    let handoff = phone.record(t, delivered(None), far_future());
    c.push(&phone, &[handoff]).await;
    let missing = |ex: &Value| ex["missing_proof"].as_array().expect("list").iter().any(|s| s["id"] == t.to_string());
    let (_, ex) = c.call(Method::GET, "/exceptions", Some(&coord), None).await;
    assert!(missing(&ex), "{ex}");
    ok(&c, &coord, t, Decision::AskForProof { note: "请补拍门牌".into() }).await;

    // The phone's answer: a photo and a note, a fact in its signed chain. Until the photo's bytes arrive, the task
    // counts it among its missing blobs.
    // (Stamped after the request it answers, as a phone that pulled it stamps it.)
    let answer = phone.record(t, added(vec![photo]), far_future() + 10);
    let (_, body) = c.push(&phone, std::slice::from_ref(&answer)).await;
    assert_eq!(body["results"][0]["outcome"], "accepted", "{body}");
    assert_eq!(summary(&c, &coord, t).await.missing_blobs, 1);
    c.put_jpeg(&phone.token, &photo_bytes).await;
    assert_eq!(summary(&c, &coord, t).await.missing_blobs, 0);
    let d = detail(&c, &coord, t).await;
    assert_eq!(history_kinds(&d)[history_kinds(&d).len() - 2..], ["proof_requested", "proof_added"]);
    let res = c.http.get(format!("{}/blobs/{photo}", c.url)).bearer_auth(&coord).send().await.expect("sent");
    assert_eq!(res.bytes().await.expect("bytes").to_vec(), photo_bytes, "the coordinator sees the added photo");
    // The handoff itself still lacks what its policy asked for: the coordinator judges.
    let (_, ex) = c.call(Method::GET, "/exceptions", Some(&coord), None).await;
    assert!(missing(&ex), "{ex}");

    let first = c.pull(&phone, "", 100).await;
    let before = state(&c, &coord, t).await;
    let after: TaskState =
        serde_json::from_value(ok(&c, &coord, t, Decision::AcceptProof { note: "已电话核实".into() }).await)
            .expect("state");
    assert_eq!(TaskState { applied: before.applied.clone(), ..after }, before, "no state changes");
    let (_, ex) = c.call(Method::GET, "/exceptions", Some(&coord), None).await;
    assert!(!missing(&ex), "accepted proof leaves the list: {ex}");
    assert!(audit_actions(&c, &coord, t).await.iter().any(|(a, _, _)| a == "proof_accepted"));
    let next = c.pull(&phone, &first.cursor, 100).await;
    let history = upserted(&next, t).expect("the acceptance reaches the phone");
    assert!(history.iter().any(|h| matches!(&h.payload, EventPayload::ProofAccepted { note } if note == "已电话核实")));
    assert!(history.iter().any(|h| h.id == answer.id), "the phone's own answer is in the history it pulls");
}

#[tokio::test]
async fn the_counter_checks_packets_out_and_in_by_their_labels() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let mut phone = c.phone(1).await;
    let deliveries = open_tasks(&c, &coord, "created", 3).await;
    let (d, spare, unassigned) = (deliveries[0].id, deliveries[1].id, deliveries[2].id);
    let p = open_tasks(&c, &coord, "requested", 1).await[0].id;
    for t in [d, spare, p] {
        ok(&c, &coord, t, Decision::Assign { staff: StaffId(1) }).await;
    }
    let (_, d_label) = label(&c, &coord, d, "packet").await;
    assert!(d_label.starts_with("JX1:"), "{d_label}");

    let (status, body) = counter(&c, &coord, &d_label, "out").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let out: CounterResult = serde_json::from_value(body).expect("a counter result");
    assert_eq!(out.action, EventKind::CheckedOut);
    assert_eq!((out.task.id, out.task.status, out.task.assignee), (d, TaskStatus::CheckedOut, Some(StaffId(1))));
    assert_eq!(out.task, summary(&c, &coord, d).await, "the summary is fresh");
    let (status, body) = counter(&c, &coord, &d_label, "out").await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, Some("wrong_state")));
    assert!(body["message"].as_str().unwrap_or_default().contains("checked_out"), "{body}");

    let (status, body) = counter(&c, &coord, &d_label, "in").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let back: CounterResult = serde_json::from_value(body).expect("a counter result");
    assert_eq!((back.action, back.task.status), (EventKind::Returned, TaskStatus::Returned));
    let history: Vec<jx_core::Envelope> =
        serde_json::from_value(detail(&c, &coord, d).await["history"].clone()).expect("history");
    assert!(
        matches!(&history.last().expect("events").payload, EventPayload::Returned { note } if note == "returned at the counter")
    );
    let (status, body) = counter(&c, &coord, &d_label, "in").await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, Some("wrong_state")));
    let actions = audit_actions(&c, &coord, d).await;
    for a in ["checked_out", "returned"] {
        assert!(
            actions.iter().any(|(x, s, detail)| x == a && *s == Some(1) && detail == "at the counter"),
            "{actions:?}"
        );
    }

    // A failed visit without checking out first: the packet can still go out, and come back.
    let e = phone.record(spare, failed(FailureReason::NobodyHome), far_future());
    c.push(&phone, &[e]).await;
    let (_, spare_label) = label(&c, &coord, spare, "packet").await;
    let (status, body) = counter(&c, &coord, &spare_label, "in").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["action"], "returned");

    // Nobody to give it to.
    let (_, u_label) = label(&c, &coord, unassigned, "packet").await;
    let (status, body) = counter(&c, &coord, &u_label, "out").await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, Some("not_assigned")));

    // A pickup never goes out; it comes in once collected.
    let (_, p_label) = label(&c, &coord, p, "packet").await;
    let (status, body) = counter(&c, &coord, &p_label, "out").await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, Some("wrong_kind")));
    assert!(body["message"].as_str().unwrap_or_default().contains("pickup"), "{body}");
    let (status, body) = counter(&c, &coord, &p_label, "in").await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, Some("wrong_state")), "not collected yet");
    let e = phone.record(
        p,
        EventPayload::Collected { proof: HandoffProof::default(), materials: vec![] },
        far_future() + 1,
    );
    c.push(&phone, &[e]).await;
    let (status, body) = counter(&c, &coord, &p_label, "in").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let handed: CounterResult = serde_json::from_value(body).expect("a counter result");
    assert_eq!((handed.action, handed.task.status), (EventKind::HandedIn, TaskStatus::HandedIn));

    // Codes that are not a label of this centre's.
    let before = c.tasks(&coord, "").await;
    for garbage in ["hello", "", "JX1:", "JX1:!!!!", &d_label[..d_label.len() - 6]] {
        let (status, body) = counter(&c, &coord, garbage, "out").await;
        assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, Some("bad_code")), "{garbage:?}: {body}");
    }
    let forged =
        TokenSigner::from_secret(1, [7; 32]).issue(TokenKind::PacketLabel, spare, Timestamp(1_800_000_000_000));
    let unknown_key =
        TokenSigner::from_secret(77, [7; 32]).issue(TokenKind::PacketLabel, spare, Timestamp(1_800_000_000_000));
    for bad in [forged, unknown_key] {
        let (status, body) = counter(&c, &coord, &bad, "in").await;
        assert_eq!((status, code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_signature")), "{body}");
    }
    let resident = {
        let mut found = None;
        for t in c.tasks(&coord, "?status=created").await {
            let (status, text) = label(&c, &coord, t.id, "resident").await;
            if status == StatusCode::OK {
                found = Some(text);
                break;
            }
        }
        found.expect("some delivery asks for the resident's confirmation")
    };
    let (status, body) = counter(&c, &coord, &resident, "out").await;
    assert_eq!((status, code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, Some("not_a_label")), "{body}");
    let (status, body) =
        c.call(Method::POST, "/counter", Some(&coord), Some(json!({"code": d_label, "direction": "sideways"}))).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, Some("malformed_body")));
    assert_eq!(c.tasks(&coord, "").await, before, "refused scans change nothing");
    let (status, _) = counter(&c, &phone.token, &d_label, "out").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// 2031-05-20T00:00:00+08:00: the first millisecond of that Shanghai day.
const DAY_START: i64 = 1_936_972_800_000;
const HOUR: i64 = 3_600_000;

#[tokio::test]
async fn the_reports_count_each_shanghai_day_by_compound_and_team_member() {
    // The facts are dated on a fixed day in 2031, after tonight's decisions: a centre that takes events from then.
    let c = centre_with(|s| s.event_window.ahead_ms = 10 * 365 * 24 * HOUR).await;
    let coord = c.coordinator().await;
    let mut one = c.phone(1).await;
    let mut two = c.phone(2).await;
    // Four deliveries in the compound with the most, one in another.
    let mut by_compound: BTreeMap<CompoundId, Vec<TaskId>> = BTreeMap::new();
    for t in c.tasks(&coord, "?status=created").await {
        by_compound.entry(t.compound).or_default().push(t.id);
    }
    let (x, in_x) = by_compound.iter().max_by_key(|(_, ts)| ts.len()).map(|(c, ts)| (*c, ts.clone())).expect("tasks");
    assert!(in_x.len() >= 4, "compound {x} has {} deliveries tonight", in_x.len());
    let (y, in_y) = by_compound.iter().find(|(c, _)| **c != x).map(|(c, ts)| (*c, ts[0])).expect("another compound");
    let pickup = open_tasks(&c, &coord, "requested", 1).await.remove(0);
    for t in in_x.iter().chain([&in_y]) {
        ok(&c, &coord, *t, Decision::Assign { staff: StaffId(1) }).await;
    }
    ok(&c, &coord, pickup.id, Decision::Assign { staff: StaffId(2) }).await;

    let facts = [
        one.record(in_x[3], failed(FailureReason::NobodyHome), DAY_START - 1),
        one.record(in_x[2], failed(FailureReason::Refused), DAY_START),
        one.record(in_x[0], delivered(Some(5)), DAY_START + 19 * HOUR),
        one.record(in_x[1], delivered(Some(4)), DAY_START + 20 * HOUR),
        one.record(in_y, delivered(None), DAY_START + 21 * HOUR),
    ];
    let (_, body) = c.push(&one, &facts).await;
    assert!(body["results"].as_array().expect("results").iter().all(|r| r["outcome"] == "accepted"), "{body}");
    let next_day = two.record(
        pickup.id,
        EventPayload::Collected { proof: HandoffProof { rating: Some(3), ..Default::default() }, materials: vec![] },
        DAY_START + 24 * HOUR,
    );
    // Not staff 2's task: refused, and never counted.
    let refused = two.record(in_x[0], delivered(Some(1)), DAY_START + 22 * HOUR);
    let (_, body) = c.push(&two, &[next_day, refused]).await;
    assert_eq!(body["results"][0]["outcome"], "accepted", "{body}");
    assert_eq!(body["results"][1]["outcome"]["rejected"]["code"], "not_your_task", "{body}");
    // The same packet recorded delivered a second time (kept, and flagged as a conflict): still one handoff, rated
    // once.
    let again = one.record(in_x[0], delivered(Some(1)), DAY_START + 22 * HOUR);
    let (_, body) = c.push(&one, &[again]).await;
    assert_eq!(body["results"][0]["outcome"], "accepted", "{body}");
    assert_eq!(state(&c, &coord, in_x[0]).await.conflicts.len(), 1);

    let res = c
        .http
        .get(format!("{}/report/evening.csv?day=2031-05-20", c.url))
        .bearer_auth(&coord)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let bytes = res.bytes().await.expect("body");
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "a UTF-8 byte-order mark for spreadsheets");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header: Vec<String> = reader.headers().expect("header").iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "compound",
            "compound_name",
            "staff_login",
            "staff_name",
            "done",
            "failed",
            "failed_nobody_home",
            "failed_refused",
            "failed_wrong_address",
            "failed_another_time",
            "failed_must_be_in_person",
            "failed_documents_mismatch",
            "rated",
            "satisfaction_avg"
        ]
    );
    let rows: Vec<Vec<String>> =
        reader.records().map(|r| r.expect("a row").iter().map(String::from).collect()).collect();
    let town = jx_core::demo::demo_town();
    let name = |id: CompoundId| town.compounds.iter().find(|c| c.id == id).expect("compound").name.clone();
    let (_, staff) = c.call(Method::GET, "/staff", Some(&coord), None).await;
    let s1 = staff.as_array().expect("staff").iter().find(|s| s["id"] == 1).expect("staff 1").clone();
    let who = [s1["login"].as_str().expect("login").to_string(), s1["name"].as_str().expect("name").to_string()];
    let row = |compound: CompoundId, rest: &[&str]| -> Vec<String> {
        [compound.0.to_string(), name(compound), who[0].clone(), who[1].clone()]
            .into_iter()
            .chain(rest.iter().map(|s| s.to_string()))
            .collect()
    };
    let mut expected = BTreeMap::new();
    expected.insert(x, row(x, &["2", "1", "0", "1", "0", "0", "0", "0", "2", "4.5"]));
    expected.insert(y, row(y, &["1", "0", "0", "0", "0", "0", "0", "0", "0", ""]));
    assert_eq!(rows, expected.into_values().collect::<Vec<_>>());

    let (status, body) = c.call(Method::GET, "/report/week?until=2031-05-21", Some(&coord), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let week: Vec<DayCount> = serde_json::from_value(body).expect("days");
    let days: Vec<&str> = week.iter().map(|d| d.day.as_str()).collect();
    assert_eq!(
        days,
        ["2031-05-15", "2031-05-16", "2031-05-17", "2031-05-18", "2031-05-19", "2031-05-20", "2031-05-21"]
    );
    let counts: Vec<(u32, u32)> = week.iter().map(|d| (d.done, d.failed)).collect();
    assert_eq!(counts, [(0, 0), (0, 0), (0, 0), (0, 0), (0, 1), (3, 1), (1, 0)]);
    let (_, body) = c.call(Method::GET, "/report/week?until=2031-05-19", Some(&coord), None).await;
    let earlier: Vec<DayCount> = serde_json::from_value(body).expect("days");
    assert_eq!(earlier.last().map(|d| (d.day.as_str(), d.done, d.failed)), Some(("2031-05-19", 0, 1)));

    // The demo's pickups of last week were collected on the evening of 2026-11-23.
    let (_, body) = c.call(Method::GET, "/report/week?until=2026-11-29", Some(&coord), None).await;
    let demo_week: Vec<DayCount> = serde_json::from_value(body).expect("days");
    let collected = jx_core::demo::demo_town().earlier_pickups.len() as u32;
    assert!(collected > 0);
    assert_eq!(demo_week[0].day, "2026-11-23");
    assert_eq!(
        demo_week.iter().map(|d| (d.done, d.failed)).collect::<Vec<_>>(),
        [(collected, 0), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0)]
    );

    // Today in Shanghai by default.
    let (status, body) = c.call(Method::GET, "/report/week", Some(&coord), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let now: Vec<DayCount> = serde_json::from_value(body).expect("days");
    let today = shanghai_today();
    assert_eq!(now.last().map(|d| d.day.clone()), Some(today.clone()));
    let (_, body) = c.call(Method::GET, &format!("/report/week?until={today}"), Some(&coord), None).await;
    assert_eq!(serde_json::to_value(&now).expect("json"), body);

    for path in [
        "/report/evening.csv",
        "/report/evening.csv?day=",
        "/report/evening.csv?day=2031-02-30",
        "/report/evening.csv?day=20310520",
        "/report/week?until=yesterday",
    ] {
        let (status, body) = c.call(Method::GET, path, Some(&coord), None).await;
        assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, Some("bad_day")), "{path}: {body}");
    }
    let (status, _) = c.call(Method::GET, "/report/week", Some(&one.token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// Today's date in Shanghai, `YYYY-MM-DD`, counted out month by month from 1970.
fn shanghai_today() -> String {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_millis() as i64;
    let mut days = (ms + 8 * HOUR) / (24 * HOUR);
    let mut year = 1970;
    loop {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let months = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let len: i64 = months.iter().sum();
        if days >= len {
            days -= len;
            year += 1;
            continue;
        }
        for (m, n) in months.iter().enumerate() {
            if days < *n {
                return format!("{year:04}-{:02}-{:02}", m + 1, days + 1);
            }
            days -= n;
        }
    }
}
