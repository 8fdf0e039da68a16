//! The centre under attack by one of its own enrolled phones (issue: "no phone can freeze it"): facts dated far
//! from the centre's clock, fields far too large, one task's history grown without end, a day's pushes without end,
//! and a report inflated by repeated failures. Each is refused with its own code, and nothing else is lost: the
//! phone's next good fact still links.

mod common;

use common::*;
use jx_core::bounds;
use jx_core::event::{EventPayload, FailureReason};
use jx_core::wire::{DayCount, Decision};
use jx_core::{StaffId, TaskId};
use reqwest::{Method, StatusCode};
use serde_json::Value;

fn failed(note: String) -> EventPayload {
    EventPayload::AttemptFailed { reason: FailureReason::NobodyHome, note, photos: vec![], retry_at: None }
}

fn code(body: &Value, i: usize) -> String {
    match &body["results"][i]["outcome"] {
        Value::String(s) => s.clone(),
        other => other["rejected"]["code"].as_str().unwrap_or("?").to_string(),
    }
}

/// A task of tonight's assigned to team member `staff`.
async fn assigned_task(c: &Centre, staff: u32) -> TaskId {
    let coord = c.coordinator().await;
    let t = c.tasks(&coord, "?status=created").await.first().map(|t| t.id).expect("a task");
    let (status, body) = c.decide(&coord, t, Decision::Assign { staff: StaffId(staff) }).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    t
}

#[tokio::test]
async fn facts_dated_far_from_the_centres_clock_or_with_huge_fields_are_refused_and_the_chain_goes_on() {
    let c = centre().await;
    let task = assigned_task(&c, 1).await;
    let mut phone = c.phone(1).await;
    let now = jx_centre::db::now().millis();
    let events = vec![
        // 2255, before 1970, the end of the clock, and just past the window ahead.
        phone.record(task, failed(String::new()), 9_000_000_000_000),
        phone.record(task, failed(String::new()), -5),
        phone.record(task, failed(String::new()), i64::MAX),
        phone.record(task, failed(String::new()), now + bounds::MAX_AHEAD_MS + 60_000),
        // A 3 MB note.
        phone.record(task, failed("x".repeat(3_000_000)), now),
        // And a good one after them all: it links, and is taken.
        phone.record(task, failed("门口没人".into()), now + 1),
    ];
    let (status, body) = c.push(&phone, &events).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let codes: Vec<String> = (0..events.len()).map(|i| code(&body, i)).collect();
    assert_eq!(
        codes,
        ["bad_event_time", "bad_event_time", "bad_event_time", "bad_event_time", "field_too_large", "accepted"],
        "{body}"
    );
    let reason = body["results"][4]["outcome"]["rejected"]["reason"].as_str().expect("reason");
    assert!(reason.contains("note") && reason.contains(&bounds::MAX_NOTE_CHARS.to_string()), "{reason}");
}

#[tokio::test]
async fn one_task_takes_a_bounded_number_of_facts_and_its_failures_count_once_an_evening() {
    let c = centre().await;
    let task = assigned_task(&c, 1).await;
    let mut phone = c.phone(1).await;
    let coord = c.coordinator().await;
    let week = |body: Value| -> u32 {
        let days: Vec<DayCount> = serde_json::from_value(body).expect("week");
        days.iter().map(|d| d.failed).sum()
    };
    let (_, body) = c.call(Method::GET, "/report/week", Some(&coord), None).await;
    let failed_before = week(body);
    // Every fact on one Shanghai day (today), in the hour before now.
    let now = jx_centre::db::now();
    let start = (now.millis() - 3_600_000).max(jx_core::time::ShanghaiDay::of(now).span().0);
    let n = bounds::MAX_DEVICE_EVENTS_PER_TASK as usize + 50;
    let events: Vec<_> = (0..n).map(|i| phone.record(task, failed(String::new()), start + i as i64)).collect();
    let mut codes = Vec::new();
    for chunk in events.chunks(100) {
        let (status, body) = c.push(&phone, chunk).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        codes.extend((0..chunk.len()).map(|i| code(&body, i)));
    }
    let capped = codes.iter().filter(|c| *c == "task_event_cap").count();
    assert_eq!(capped, 50, "every fact past the cap is refused as such: {:?}", &codes[..8]);
    assert!(codes[..bounds::MAX_DEVICE_EVENTS_PER_TASK as usize].iter().all(|c| c != "task_event_cap"));
    // However many failures one phone recorded for the task tonight, the week shows one failed visit more.
    let (status, body) = c.call(Method::GET, "/report/week", Some(&coord), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(week(body) - failed_before, 1, "one task's failures count as one failed visit");
    // And the phone's next fact on another task still links.
    let other = assigned_task(&c, 1).await;
    let e = phone.record(other, failed(String::new()), jx_centre::db::now().millis());
    let (_, body) = c.push(&phone, &[e]).await;
    assert_eq!(code(&body, 0), "accepted", "{body}");
}

#[tokio::test]
async fn a_phone_that_sends_more_than_a_days_cap_is_refused_until_the_next_day_and_nothing_is_kept() {
    let c = centre().await;
    let mut phone = c.phone(3).await;
    // Facts about a task that was never this phone's: each refused, and each counted against the day.
    let coord = c.coordinator().await;
    let task = c.tasks(&coord, "?status=created").await.first().map(|t| t.id).expect("a task");
    let now = jx_centre::db::now().millis() - 3_600_000;
    let cap = bounds::MAX_EVENTS_PER_DEVICE_DAY as usize;
    let mut sent = 0;
    while sent < cap {
        let batch: Vec<_> = (0..500.min(cap - sent))
            .map(|i| phone.record(task, failed(String::new()), now + (sent + i) as i64))
            .collect();
        let (status, body) = c.push(&phone, &batch).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        sent += batch.len();
    }
    let before = c.event_count().await;
    let over = phone.record(task, failed(String::new()), now + sent as i64);
    let (status, body) = c.push(&phone, &[over]).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("device_daily_cap")), "{body}");
    assert_eq!(c.event_count().await, before, "nothing of the refused push is kept");
}

/// The standard CRC-32 of PNG chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A PNG whose header declares `width`×`height`, with a few bytes of (zlib-stored) data: small on disk, huge if
/// anyone decoded it.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let chunk = |kind: &[u8], data: &[u8]| {
        let body = [kind, data].concat();
        [&(data.len() as u32).to_be_bytes()[..], &body, &crc32(&body).to_be_bytes()].concat()
    };
    let ihdr = [&width.to_be_bytes()[..], &height.to_be_bytes(), &[8, 2, 0, 0, 0]].concat();
    let idat = [0x78, 0x01, 0x01, 0x01, 0x00, 0xFE, 0xFF, 0x00, 0x00, 0x01, 0x00, 0x01];
    [&b"\x89PNG\r\n\x1a\n"[..], &chunk(b"IHDR", &ihdr), &chunk(b"IDAT", &idat), &chunk(b"IEND", &[])].concat()
}

/// `jpeg` with its frame header saying `width`×`height`.
fn jpeg_claiming(mut jpeg: Vec<u8>, width: u16, height: u16) -> Vec<u8> {
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).expect("a baseline frame header");
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    jpeg
}

async fn put(c: &Centre, token: &str, ctype: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let url = format!("{}/blobs/{}", c.url, jx_core::bytes::Sha256::of(bytes));
    answer(c.http.put(url).bearer_auth(token).header("content-type", ctype).body(bytes.to_vec())).await
}

#[tokio::test]
async fn every_upload_is_decoded_at_the_centre_and_a_phone_has_a_daily_quota() {
    let c = centre_with(|s| s.upload_bytes_per_device_day = 40_000).await;
    let phone = c.phone(4).await;
    let good = jx_proof::photo::sample_jpeg(1, 160, 120);
    let bombs = [
        ("image/png", png_claiming(20_000, 20_000)),
        ("image/jpeg", jpeg_claiming(good.clone(), 65_535, 65_535)),
        ("image/jpeg", good[..good.len() / 2].to_vec()),
        ("image/jpeg", [&[0xFF, 0xD8, 0xFF, 0xE0][..], b"<html><script>alert(1)</script></html>"].concat()),
    ];
    for (ctype, bytes) in &bombs {
        let (status, body) = put(&c, &phone.token, ctype, bytes).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_image")), "{body}");
    }
    // A whole photo is kept, and served as what it was checked to be, never to be sniffed as anything else.
    let (status, body) = put(&c, &phone.token, "image/jpeg", &good).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let coord = c.coordinator().await;
    let res = c
        .http
        .get(format!("{}/blobs/{}", c.url, jx_core::bytes::Sha256::of(&good)))
        .bearer_auth(&coord)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    // New photos count against the phone's day; sending one it already sent again is free.
    let mut kept = good.len();
    let mut seed = 2;
    loop {
        let photo = jx_proof::photo::sample_jpeg(seed, 160, 120);
        seed += 1;
        let (status, body) = put(&c, &phone.token, "image/jpeg", &photo).await;
        if kept + photo.len() > 40_000 {
            assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("upload_quota")));
            break;
        }
        assert_eq!(status, StatusCode::CREATED, "{body}");
        kept += photo.len();
    }
    let (status, _) = put(&c, &phone.token, "image/jpeg", &good).await;
    assert_eq!(status, StatusCode::OK, "a photo already kept is taken again past the quota");
}

#[tokio::test]
async fn an_import_range_checks_every_number_and_refuses_control_characters_row_by_row() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let header = jx_centre::import::COLUMNS.join(",");
    // Building 65537 would be building 1 after a silent narrowing; building 1 exists in compound 1.
    let csv = format!(
        "{header}\n\
         delivery,ATK-1,1,王秀英,13812345678,1,65537,1,301,0,0,0,\n\
         delivery,ATK-2,1,李\u{0}强,13812345679,1,1,1,302,0,0,0,\n\
         delivery,ATK-3,1,张伟,13812345670,1,1,4294967296,303,0,0,0,\n\
         delivery,ATK-4,1,刘芳,13912345678,1,1,1,{},0,0,0,\n\
         delivery,ATK-5,1,陈静,13712345678,1,1,1,401,0,0,0,\n",
        "9".repeat(40)
    );
    let url = format!("{}/tasks/import?mode=good_rows", c.url);
    let (status, body) =
        answer(c.http.post(url).bearer_auth(&coord).header("content-type", "text/csv").body(csv)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["imported"], 1, "only the good row: {body}");
    let errors: Vec<(u64, String, String)> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (e["line"].as_u64().unwrap_or(0), text("field"), text("reason"))
        })
        .collect();
    let fields: Vec<(u64, &str)> = errors.iter().map(|(l, f, _)| (*l, f.as_str())).collect();
    assert_eq!(fields, [(2, "building"), (3, "resident_name"), (4, "unit"), (5, "room")], "{errors:?}");
    assert!(errors[0].2.contains("65537"), "{errors:?}");
    assert!(errors[1].2.contains("control characters"), "{errors:?}");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let c = centre().await;
    let base = c.running.as_ref().expect("running").url();
    let coord = c.coordinator().await;
    for (path, token) in [
        ("/api/v1/health", None),
        ("/api/v1/progress", Some(&coord)),
        ("/api/v1/nowhere", None),
        ("/d/not-a-card", None),
    ] {
        let mut req = c.http.get(format!("{base}{path}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("sent");
        let h = res.headers();
        let csp = h.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("'unsafe-eval'"), "{path}: {csp}");
        assert_eq!(h.get("x-frame-options").map(|v| v.as_bytes()), Some(&b"DENY"[..]), "{path}");
        assert_eq!(h.get("x-content-type-options").map(|v| v.as_bytes()), Some(&b"nosniff"[..]), "{path}");
        assert_eq!(h.get("referrer-policy").map(|v| v.as_bytes()), Some(&b"no-referrer"[..]), "{path}");
        assert!(h.get("strict-transport-security").is_none(), "{path}: no HSTS over plain HTTP");
    }
}

#[tokio::test]
async fn the_door_card_pages_are_limited_per_client_so_one_cannot_block_every_resident() {
    let c = centre().await;
    let base = c.running.as_ref().expect("running").url();
    let (flood, resident) = (client_from("127.0.0.5"), client_from("127.0.0.6"));
    let limit = jx_centre::http::doorcards::PAGES_PER_CLIENT_MINUTE;
    for _ in 0..limit {
        let res = flood.get(format!("{base}/d/not-a-card")).send().await.expect("sent");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "a page that says the card is not one of ours");
    }
    let res = flood.get(format!("{base}/d/not-a-card")).send().await.expect("sent");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.text().await.expect("page").contains("请稍后再试"));
    // Another resident's phone is not held up by the flood.
    let res = resident.get(format!("{base}/d/not-a-card")).send().await.expect("sent");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}
