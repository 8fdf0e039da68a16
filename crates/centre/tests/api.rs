//! The centre's API over a real loopback socket: authentication and authorisation, import, assignment and the pull
//! feed, ingest, blobs, and the OpenAPI document kept true.

mod common;

use common::*;
use jx_core::bytes::Sha256;
use jx_core::event::{EventPayload, FailureReason, HandoffProof};
use jx_core::state::TaskStatus;
use jx_core::wire::*;
use jx_core::{StaffId, TaskId};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::BTreeSet;

fn nobody_home() -> EventPayload {
    EventPayload::AttemptFailed {
        reason: FailureReason::NobodyHome,
        note: String::new(),
        photos: vec![],
        retry_at: None,
    }
}

#[tokio::test]
async fn the_suite_runs_on_the_back_end_it_was_asked_for() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let tasks = c.tasks(&coord, "").await.len();
    match (std::env::var("JX_TEST_POSTGRES").is_ok(), c.postgres.clone()) {
        (true, Some(url)) => {
            // The demo town is really in PostgreSQL, not in a SQLite file beside it.
            let n = tokio::task::spawn_blocking(move || {
                let mut pg = postgres::Client::connect(&url, postgres::NoTls).expect("connects");
                pg.query_one("SELECT count(*) FROM tasks", &[]).expect("counts").get::<_, i64>(0)
            })
            .await
            .expect("joined");
            assert_eq!(n as usize, tasks);
        }
        (false, None) => assert!(c.dir_path().join("centre.sqlite").is_file()),
        other => panic!("asked for one back end, got another: {other:?}"),
    }
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes_the_server_has() {
    let c = centre().await;
    let (status, doc) = c.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(p, ops)| ops.as_object().expect("ops").keys().map(move |m| (m.clone(), p.clone())))
        .collect();
    let routed: BTreeSet<(String, String)> =
        jx_centre::http::route_list().iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented, routed);
    // And every listed route is really there: no "no such endpoint" and no 405 for any of them.
    for (method, path) in jx_centre::http::route_list() {
        let concrete = path
            .replace("{device}", "00000000-0000-0000-0000-000000000000")
            .replace("{task}", "00000000-0000-0000-0000-000000000000")
            .replace("{sha256}", &"0".repeat(64));
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let res = c
            .http
            .request(m, format!("{}{}", c.running.as_ref().expect("running").url(), concrete))
            .send()
            .await
            .expect("sent");
        let status = res.status();
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(
            !(status == StatusCode::NOT_FOUND && body["message"] == "no such endpoint"),
            "{method} {path} is not routed"
        );
    }
}

#[tokio::test]
async fn logins_are_checked_and_every_rejection_is_json_with_a_code() {
    let c = centre().await;
    let (status, body) =
        c.call(Method::POST, "/auth/login", None, Some(json!({"login": "c1", "password": "nope"}))).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_credentials")));
    let (status, body) =
        c.call(Method::POST, "/auth/login", None, Some(json!({"login": "nobody", "password": "x"}))).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_credentials")));
    let (status, body) = c.call(Method::GET, "/progress", None, None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
    let (status, body) = c.call(Method::GET, "/progress", Some("made-up"), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unknown_token")));
    let token = c.coordinator().await;
    let (status, body) = c.call(Method::GET, "/progress", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_array().map(Vec::len), Some(13));
}

#[tokio::test]
async fn an_expired_session_is_refused() {
    let c = centre_with(|s| s.session_ttl_ms = -1).await;
    let token = c.coordinator().await;
    let (status, body) = c.call(Method::GET, "/progress", Some(&token), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("token_expired")));
}

#[tokio::test]
async fn staff_tokens_cannot_call_coordinator_endpoints_and_phones_see_only_their_own_tasks() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let staff_session = c.login("s01").await;
    let phone1 = c.phone(1).await;
    let phone2 = c.phone(2).await;
    for token in [&staff_session, &phone1.token] {
        for path in ["/progress", "/exceptions", "/tasks", "/devices", "/staff"] {
            let (status, body) = c.call(Method::GET, path, Some(token), None).await;
            assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("coordinators_only")), "{path}");
        }
    }
    let tasks = c.tasks(&coord, "?status=created").await;
    let t = tasks[0].id;
    assert_eq!(c.decide(&coord, t, Decision::Assign { staff: StaffId(1) }).await.0, StatusCode::OK);
    let (status, _) = c.call(Method::GET, &format!("/tasks/{t}"), Some(&phone1.token), None).await;
    assert_eq!(status, StatusCode::OK, "its own task");
    let (status, body) = c.call(Method::GET, &format!("/tasks/{t}"), Some(&phone2.token), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("not_your_task")));
    assert!(c.pull(&phone2, "", 100).await.changes.is_empty(), "another staff member's phone hears nothing");
    // A phone cannot write facts about someone else's task either.
    let mut p2 = phone2;
    let e = p2.record(t, nobody_home(), far_future());
    let (_, body) = c.push(&p2, &[e]).await;
    assert_eq!(body["results"][0]["outcome"]["rejected"]["code"], "not_your_task");
    // A coordinator cannot enrol a phone, a phone token cannot enrol another.
    let (status, _) = c
        .call(
            Method::POST,
            "/devices",
            Some(&coord),
            Some(json!({"device": uuid::Uuid::now_v7(), "public_key": public_key(9)})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn enrolment_needs_a_real_public_key_and_a_new_device_id() {
    let c = centre().await;
    let session = c.login("s06").await;
    let device = uuid::Uuid::now_v7();
    for bad in ["xyz", "ab", &"zz".repeat(32)] {
        let (status, body) =
            c.call(Method::POST, "/devices", Some(&session), Some(json!({"device": device, "public_key": bad}))).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_public_key")), "{bad}");
    }
    let ok = json!({"device": device, "public_key": public_key(6)});
    assert_eq!(c.call(Method::POST, "/devices", Some(&session), Some(ok.clone())).await.0, StatusCode::CREATED);
    let (status, body) = c.call(Method::POST, "/devices", Some(&session), Some(ok)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("device_exists")));
}

#[tokio::test]
async fn a_revoked_device_is_refused_from_then_on() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let phone = c.phone(3).await;
    assert_eq!(c.call(Method::GET, "/sync/pull", Some(&phone.token), None).await.0, StatusCode::OK);
    let (status, _) = c.call(Method::POST, &format!("/devices/{}/revoke", phone.device), Some(&coord), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = c.call(Method::GET, "/sync/pull", Some(&phone.token), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("device_revoked")));
    let (status, body) = c.push(&phone, &[]).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("device_revoked")));
    let (status, _) =
        c.call(Method::POST, "/devices/00000000-0000-0000-0000-000000000000/revoke", Some(&coord), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

const CSV_HEADER: &str = "kind,case_number,service_item,resident_name,resident_phone,compound,building,unit,room,elderly,disabled,pregnant,follows_case\n";

async fn import(c: &Centre, token: &str, ctype: &str, mode: &str, body: Vec<u8>) -> (StatusCode, serde_json::Value) {
    let res = c
        .http
        .post(format!("{}/tasks/import?mode={mode}", c.url))
        .bearer_auth(token)
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
        .expect("sent");
    let status = res.status();
    (status, res.json().await.expect("json"))
}

#[tokio::test]
async fn an_import_reports_every_bad_row_by_line_and_is_all_or_nothing_when_asked() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let before = c.tasks(&coord, "").await.len();
    let csv = format!(
        "{CSV_HEADER}\
         delivery,NEW-1,1,王秀英,13812345678,1,1,1,301,1,0,0,\n\
         parcel,NEW-2,1,李强,13812345679,1,1,1,302,0,0,0,\n\
         pickup,NEW-3,99,张伟,1381234,1,1,1,303,0,0,0,\n\
         收件,NEW-4,2,刘芳,13912345678,1,999,1,101,maybe,0,0,\n\
         送达,NEW-1,1,王秀英,13812345678,1,1,1,301,1,0,0,\n\
         delivery,NEW-5,3,陈静,13712345678,1,1,1,401,0,0,0,NEW-6\n\
         pickup,NEW-6,3,陈静,13712345678,1,1,1,401,0,0,0,\n"
    );
    let (status, body) = import(&c, &coord, "text/csv", "all_or_nothing", csv.clone().into_bytes()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("import_rejected")));
    let errors = body["report"]["errors"].as_array().expect("errors");
    let lines: BTreeSet<u64> = errors.iter().filter_map(|e| e["line"].as_u64()).collect();
    assert_eq!(lines, BTreeSet::from([3, 4, 5, 6]), "{errors:#?}");
    let text = serde_json::to_string(errors).expect("json");
    for needle in ["parcel", "service item 99", "11-digit", "no building 999", "maybe", "appears again"] {
        assert!(text.contains(needle), "missing {needle}: {text}");
    }
    assert_eq!(c.tasks(&coord, "").await.len(), before, "nothing imported");

    let (status, body) = import(&c, &coord, "text/csv", "good_rows", csv.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["imported"], 3, "NEW-1, NEW-5 (following NEW-6 in the same file) and NEW-6");
    assert_eq!(c.tasks(&coord, "").await.len(), before + 3);

    // The same rows again are all duplicates now.
    let again = format!("{CSV_HEADER}delivery,NEW-1,1,王秀英,13812345678,1,1,1,301,1,0,0,\n");
    let (status, body) = import(&c, &coord, "text/csv", "good_rows", again.into_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["imported"], 0);
    assert!(body["errors"][0]["reason"].as_str().expect("reason").contains("already imported"));
}

#[tokio::test]
async fn json_imports_share_the_rules_and_bad_files_get_specific_errors() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let rows = json!([
        {"kind": "pickup", "case_number": "J-1", "service_item": 2, "resident_name": "周敏", "resident_phone": "15912345678",
         "compound": 2, "building": 1, "unit": 1, "room": "502", "elderly": true},
        {"kind": "pickup", "case_number": "J-2", "service_item": 2, "resident_name": "周敏", "resident_phone": "15912345678",
         "compound": 2, "building": 1, "unit": 0, "room": "502"},
        "not an object"
    ]);
    let (status, body) =
        import(&c, &coord, "application/json", "good_rows", serde_json::to_vec(&rows).expect("json")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["imported"], 1);
    assert_eq!(body["errors"][0]["line"], 2);
    assert_eq!(body["errors"][0]["field"], "unit");
    assert_eq!(body["errors"][1]["line"], 3);

    let (status, body) = import(&c, &coord, "text/plain", "good_rows", b"x".to_vec()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_media_type")));
    let gbk = [CSV_HEADER.as_bytes(), &[0xCD, 0xF5, 0xD0, 0xE3, b'\n']].concat();
    let (status, body) = import(&c, &coord, "text/csv", "good_rows", gbk).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["report"]["errors"][0]["reason"].as_str().expect("reason").contains("UTF-8"));
    let (status, body) = import(&c, &coord, "text/csv", "sometimes", CSV_HEADER.as_bytes().to_vec()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed_query")));
}

#[tokio::test]
async fn pull_sends_a_phone_its_tasks_in_pages_and_tells_it_when_one_leaves() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let phone = c.phone(1).await;
    let tasks: Vec<TaskId> = c.tasks(&coord, "?status=created").await.iter().take(7).map(|t| t.id).collect();
    for t in &tasks {
        assert_eq!(c.decide(&coord, *t, Decision::Assign { staff: StaffId(1) }).await.0, StatusCode::OK);
    }
    let first = c.pull(&phone, "", 5).await;
    assert!(first.more);
    let second = c.pull(&phone, &first.cursor, 5).await;
    assert!(!second.more);
    let got: BTreeSet<TaskId> = first
        .changes
        .iter()
        .chain(&second.changes)
        .filter_map(|ch| match ch {
            TaskChange::Upsert { sheet, history } => {
                assert_eq!(history.len(), 1, "its assignment");
                assert!(!sheet.resident_name.is_empty());
                Some(sheet.task.id)
            }
            TaskChange::Remove { .. } => None,
        })
        .collect();
    assert_eq!(got, tasks.iter().copied().collect());
    assert!(c.pull(&phone, &second.cursor, 5).await.changes.is_empty(), "nothing new");

    assert_eq!(c.decide(&coord, tasks[0], Decision::Reassign { staff: StaffId(2) }).await.0, StatusCode::OK);
    assert_eq!(
        c.decide(&coord, tasks[1], Decision::Cancel { reason: "resident came in".into() }).await.0,
        StatusCode::OK
    );
    let third = c.pull(&phone, &second.cursor, 50).await;
    let removed: BTreeSet<TaskId> = third
        .changes
        .iter()
        .filter_map(|ch| match ch {
            TaskChange::Remove { task } => Some(*task),
            _ => None,
        })
        .collect();
    assert_eq!(removed, BTreeSet::from([tasks[0], tasks[1]]));
    let (status, body) = c.call(Method::GET, "/sync/pull?since=-4", Some(&phone.token), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_cursor")));
}

#[tokio::test]
async fn push_is_idempotent_checks_the_chain_and_keeps_conflicting_facts() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let mut phone = c.phone(1).await;
    let tasks: Vec<TaskId> = c.tasks(&coord, "?status=created").await.iter().take(3).map(|t| t.id).collect();
    for t in &tasks {
        c.decide(&coord, *t, Decision::Assign { staff: StaffId(1) }).await;
    }
    c.decide(&coord, tasks[0], Decision::CheckOut).await;
    let batch = vec![
        phone.record(tasks[0], nobody_home(), far_future()),
        phone.record(tasks[0], EventPayload::Delivered { proof: HandoffProof::default() }, far_future() + 1),
        phone.record(
            tasks[1],
            EventPayload::Collected { proof: HandoffProof::default(), materials: vec![] },
            far_future() + 2,
        ),
    ];
    let (status, body) = c.push(&phone, &batch).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let res: PushResponse = serde_json::from_value(body).expect("push response");
    assert_eq!(res.results[0].outcome, PushOutcome::Accepted);
    assert_eq!(res.results[1].outcome, PushOutcome::Accepted);
    assert!(
        matches!(&res.results[2].outcome, PushOutcome::Rejected { code, .. } if code == "impossible_transition"),
        "a delivery task cannot be collected: {:?}",
        res.results[2]
    );
    let count = c.event_count().await;

    // The same batch again: every event recognised, nothing changes.
    let (_, body) = c.push(&phone, &batch).await;
    let again: PushResponse = serde_json::from_value(body).expect("push response");
    assert!(again.results.iter().all(|r| r.outcome == PushOutcome::Duplicate), "{again:?}");
    assert_eq!(c.event_count().await, count, "a replayed batch has no side effects");

    // The chain is checked: a gap, a broken link, someone else's actor.
    let mut skipped = Phone { seq: phone.seq + 1, ..phone.clone() };
    let gap = skipped.record(tasks[1], nobody_home(), far_future() + 3);
    let (_, body) = c.push(&phone, &[gap]).await;
    assert_eq!(body["results"][0]["outcome"]["rejected"]["code"], "sequence_gap");
    let mut forged = Phone { prev: Sha256::of(b"x"), ..phone.clone() };
    let broken = forged.record(tasks[1], nobody_home(), far_future() + 4);
    let (_, body) = c.push(&phone, &[broken]).await;
    assert_eq!(body["results"][0]["outcome"]["rejected"]["code"], "chain_broken");
    // The chain did not move: the proper next event still links.
    let next = phone.record(tasks[1], nobody_home(), far_future() + 5);
    let (_, body) = c.push(&phone, &[next]).await;
    assert_eq!(body["results"][0]["outcome"], "accepted");

    // A fact after a cancellation the phone had not seen is kept, and flagged for a coordinator.
    c.decide(&coord, tasks[2], Decision::Cancel { reason: "duplicate case".into() }).await;
    let late = phone.record(tasks[2], nobody_home(), far_future() + 6);
    let (_, body) = c.push(&phone, &[late]).await;
    assert_eq!(body["results"][0]["outcome"], "accepted");
    let (_, ex) = c.call(Method::GET, "/exceptions", Some(&coord), None).await;
    let conflicts: Vec<&str> =
        ex["conflicts"].as_array().expect("list").iter().filter_map(|t| t["id"].as_str()).collect();
    assert!(conflicts.contains(&tasks[2].to_string().as_str()), "{ex}");
    let detail = c.call(Method::GET, &format!("/tasks/{}", tasks[0]), Some(&coord), None).await.1;
    assert_eq!(detail["state"]["status"], serde_json::to_value(TaskStatus::Delivered).expect("json"));
}

#[tokio::test]
async fn bad_push_bodies_get_the_right_4xx_and_change_nothing() {
    let c = centre_with(|s| s.max_json_bytes = 64 * 1024).await;
    let phone = c.phone(4).await;
    let url = format!("{}/sync/push", c.url);
    let send = |ctype: &'static str, body: Vec<u8>| {
        c.http.post(&url).bearer_auth(&phone.token).header("content-type", ctype).body(body).send()
    };
    let res = send("application/json", b"{\"events\": [{\"id\": 3}]}".to_vec()).await.expect("sent");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<serde_json::Value>().await.expect("json")["code"], "malformed_body");
    let res = send("application/json", b"{not json".to_vec()).await.expect("sent");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = send("text/plain", b"{\"events\": []}".to_vec()).await.expect("sent");
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let big = format!("{{\"events\": [], \"pad\": \"{}\"}}", "x".repeat(100 * 1024));
    let res = send("application/json", big.into_bytes()).await.expect("sent");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(res.json::<serde_json::Value>().await.expect("json")["code"], "payload_too_large");
}

#[tokio::test]
async fn blobs_are_checked_stored_once_and_complete_a_handoffs_proof() {
    let c = centre_with(|s| s.max_blob_bytes = 256 * 1024).await;
    let coord = c.coordinator().await;
    let mut phone = c.phone(5).await;
    let photo = jx_proof::photo::sample_jpeg(7, 120, 90);
    let hash = Sha256::of(&photo);
    let token = phone.token.clone();
    let put = |hash: String, ctype: &'static str, body: Vec<u8>| {
        c.http
            .put(format!("{}/blobs/{hash}", c.url))
            .bearer_auth(&token)
            .header("content-type", ctype)
            .body(body)
            .send()
    };
    // A handoff that names the photo before it arrives is incomplete until it does.
    let task = c.tasks(&coord, "?status=created").await[0].id;
    c.decide(&coord, task, Decision::Assign { staff: StaffId(5) }).await;
    let proof = HandoffProof { photos: vec![hash], ..Default::default() };
    let e = phone.record(task, EventPayload::Delivered { proof }, far_future());
    let (_, body) = c.push(&phone, &[e]).await;
    assert_eq!(body["results"][0]["outcome"], "accepted");
    let (_, ex) = c.call(Method::GET, "/exceptions", Some(&coord), None).await;
    let missing = ex["missing_proof"].as_array().expect("list").iter().find(|t| t["id"] == task.to_string()).cloned();
    assert_eq!(missing.expect("listed")["missing_blobs"], 1);

    let res = put(hash.to_hex(), "image/jpeg", photo.clone()).await.expect("sent");
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = put(hash.to_hex(), "image/jpeg", photo.clone()).await.expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<serde_json::Value>().await.expect("json")["created"], false);
    let (_, detail) = c.call(Method::GET, "/tasks?status=delivered", Some(&coord), None).await;
    assert_eq!(detail[0]["missing_blobs"], 0);
    let got = c.http.get(format!("{}/blobs/{hash}", c.url)).bearer_auth(&coord).send().await.expect("sent");
    assert_eq!(got.bytes().await.expect("bytes").to_vec(), photo);

    let mut other = photo.clone();
    other.push(1);
    let res = put(hash.to_hex(), "image/jpeg", other).await.expect("sent");
    assert_eq!(
        (res.status(), res.json::<serde_json::Value>().await.expect("json")["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("hash_mismatch"))
    );
    let res = put(hash.to_hex(), "application/pdf", photo.clone()).await.expect("sent");
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let png_claim = put(hash.to_hex(), "image/png", photo.clone()).await.expect("sent");
    assert_eq!(png_claim.json::<serde_json::Value>().await.expect("json")["code"], "type_mismatch");
    let res = put("xyz".into(), "image/jpeg", photo.clone()).await.expect("sent");
    assert_eq!(res.json::<serde_json::Value>().await.expect("json")["code"], "bad_hash");
    let huge = [&[0xFF, 0xD8, 0xFF][..], &vec![0u8; 300 * 1024]].concat();
    let res = put(Sha256::of(&huge).to_hex(), "image/jpeg", huge).await.expect("sent");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn tampered_forged_and_unsigned_events_are_refused_and_the_rest_of_the_batch_goes_through() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let mut phone = c.phone(7).await;
    let tasks: Vec<TaskId> = c.tasks(&coord, "?status=created").await.iter().take(2).map(|t| t.id).collect();
    for t in &tasks {
        c.decide(&coord, *t, Decision::Assign { staff: StaffId(7) }).await;
    }
    let first = phone.record(tasks[0], nobody_home(), far_future());
    let mut draft = Phone { ..phone.clone() };
    let second = draft.record(tasks[1], nobody_home(), far_future() + 1);
    // The same second event, altered after signing: a failed attempt turned into a delivery.
    let mut tampered = second.clone();
    tampered.payload = EventPayload::Delivered { proof: HandoffProof::default() };
    // Signed by a key that is not this device's.
    let mut forged = second.clone();
    jx_core::sign::DeviceKey::from_secret([99; 32]).sign(&mut forged);
    let mut unsigned = second.clone();
    unsigned.signature = None;
    let (_, body) = c.push(&phone, &[first, tampered, forged, unsigned, second.clone()]).await;
    let codes: Vec<String> = body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| match &r["outcome"] {
            serde_json::Value::String(s) => s.clone(),
            o => o["rejected"]["code"].as_str().unwrap_or("?").to_string(),
        })
        .collect();
    assert_eq!(codes, ["accepted", "bad_signature", "bad_signature", "unsigned", "accepted"]);
    let (_, detail) = c.call(Method::GET, &format!("/tasks/{}", tasks[1]), Some(&coord), None).await;
    assert_eq!(detail["state"]["status"], "attempt_failed", "the altered delivery was not believed");
    phone = draft;
    let next = phone.record(tasks[1], nobody_home(), far_future() + 2);
    let (_, body) = c.push(&phone, &[next]).await;
    assert_eq!(body["results"][0]["outcome"], "accepted", "the chain carries on from the genuine event");
}

#[tokio::test]
async fn stopping_the_centre_lets_a_request_in_flight_finish() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut c = centre().await;
    let token = c.coordinator().await;
    let photo = jx_proof::photo::sample_jpeg(3, 800, 600);
    assert!(photo.len() > 100_000, "large enough to cut in the middle: {}", photo.len());
    let hash = Sha256::of(&photo);
    let running = c.running.take().expect("running");
    let mut conn = tokio::net::TcpStream::connect(running.addr).await.expect("connects");
    let head = format!(
        "PUT /api/v1/blobs/{hash} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: image/jpeg\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        photo.len()
    );
    conn.write_all(head.as_bytes()).await.expect("headers");
    conn.write_all(&photo[..100_000]).await.expect("first half");
    // The upload is half-way when the centre is told to stop.
    let stopping = tokio::spawn(running.stop());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(!stopping.is_finished(), "the centre waits for the request in flight");
    conn.write_all(&photo[100_000..]).await.expect("second half");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    stopping.await.expect("joined").expect("stopped cleanly");
}
