//! Door cards over a real loopback socket: a coordinator prints a roll, a phone leaves one at a failed visit, the
//! resident books the next visit on the centre's page without logging in, and the phone's next pull carries the
//! booking. Every way a card cannot book is refused with a page that says why. Three failed visits put the packet
//! on the list to come back, and the counter takes it in.

mod common;

use common::*;
use jx_core::event::{Actor, EventPayload, FailureReason};
use jx_core::model::{TaskSheet, mask_name, mask_phone};
use jx_core::token::{TokenKind, TokenSigner};
use jx_core::wire::*;
use jx_core::{Envelope, TaskId, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::json;

const DAY_MS: i64 = 86_400_000;
const SHANGHAI_MS: i64 = 8 * 3_600_000;

fn failed() -> EventPayload {
    EventPayload::AttemptFailed {
        reason: FailureReason::NobodyHome,
        note: String::new(),
        photos: vec![],
        retry_at: None,
    }
}

fn left(url: &str) -> EventPayload {
    EventPayload::DoorCardLeft { card: jx_core::doorcard::card_token(url).expect("a card's URL") }
}

/// Prints `count` cards and reads their URLs off the sheet.
async fn print(c: &Centre, coord: &str, count: usize) -> Vec<String> {
    let (status, body) = c.call(Method::GET, &format!("/print/door-cards?count={count}"), Some(coord), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let html = body.as_str().expect("an HTML sheet").to_string();
    assert_eq!(html.matches("<svg").count(), count, "one QR code per card");
    assert!(html.contains("扫码预约下次上门时间") && html.contains("或致电中心"), "the words for the resident");
    let urls: Vec<String> = html
        .split("data-url=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().expect("closed").replace("&amp;", "&"))
        .collect();
    assert_eq!(urls.len(), count);
    urls
}

/// A created delivery, assigned to staff member `staff`.
async fn delivery(c: &Centre, coord: &str, skip: usize, staff: u32) -> TaskId {
    let task = c
        .tasks(coord, "?status=created")
        .await
        .into_iter()
        .filter(|t| t.kind == jx_core::TaskKind::Delivery)
        .nth(skip)
        .expect("a delivery to give")
        .id;
    let (status, body) = c.decide(coord, task, Decision::Assign { staff: jx_core::StaffId(staff) }).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    task
}

async fn push_ok(c: &Centre, phone: &Phone, events: &[Envelope]) {
    let (status, body) = c.push(phone, events).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let res: PushResponse = serde_json::from_value(body).expect("push response");
    assert!(res.results.iter().all(|r| r.outcome == PushOutcome::Accepted), "{res:?}");
}

/// A page of the resident's: status and HTML.
async fn page(c: &Centre, url: &str, evening: Option<&str>) -> (StatusCode, String) {
    let req = match evening {
        None => c.http.get(url),
        Some(e) => {
            c.http.post(url).header("content-type", "application/x-www-form-urlencoded").body(format!("evening={e}"))
        }
    };
    let res = req.send().await.expect("reaches the centre");
    let status = res.status();
    let ctype = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(ctype.starts_with("text/html"), "{status}: {ctype}");
    (status, res.text().await.expect("a page"))
}

/// The evenings the page offers, as its buttons name them.
fn offered(html: &str) -> Vec<String> {
    html.split("name=\"evening\" value=\"").skip(1).map(|r| r[..10].to_string()).collect()
}

async fn history(c: &Centre, coord: &str, task: TaskId) -> Vec<Envelope> {
    let (status, body) = c.call(Method::GET, &format!("/tasks/{task}"), Some(coord), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body["history"].clone()).expect("history")
}

fn sheet_of(pull: &PullResponse, task: TaskId) -> Option<(&TaskSheet, &Vec<Envelope>)> {
    pull.changes.iter().find_map(|ch| match ch {
        TaskChange::Upsert { sheet, history } if sheet.task.id == task => Some((sheet.as_ref(), history)),
        _ => None,
    })
}

#[tokio::test]
async fn a_resident_books_the_next_visit_with_the_card_left_at_the_door() {
    let c = centre().await;
    let coord = c.coordinator().await;
    // Only coordinators print, and only 1 to 200 at a time.
    for bad in ["", "?count=0", "?count=201", "?count=x", "?count=-3"] {
        let (status, body) = c.call(Method::GET, &format!("/print/door-cards{bad}"), Some(&coord), None).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_count")), "{bad}");
    }
    let staff_session = c.login("s01").await;
    let (status, _) = c.call(Method::GET, "/print/door-cards?count=1", Some(&staff_session), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let cards = print(&c, &coord, 3).await;
    let base = c.running.as_ref().expect("running").url();
    for url in &cards {
        assert!(url.starts_with(&format!("{base}/d/JX1")), "{url} is under the address the centre was reached at");
    }

    // s01 visits; nobody is home; the card is left and recorded with the failure.
    let task = delivery(&c, &coord, 0, 1).await;
    let mut phone = c.phone(1).await;
    let first = c.pull(&phone, "0", 500).await;
    let (sheet, _) = sheet_of(&first, task).expect("the task is on the phone");
    let sheet = sheet.clone();
    let at = far_future();
    let events = [phone.record(task, failed(), at), phone.record(task, left(&cards[0]), at + 1)];
    push_ok(&c, &phone, &events).await;

    // The page: the service item and the compound, nothing about the resident, seven evenings from tomorrow.
    let (status, html) = page(&c, &cards[0], None).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(&sheet.service_item_name), "{html}");
    assert!(html.contains(sheet.compound_name.as_deref().expect("the compound's name")), "{html}");
    for private in [
        sheet.resident_name.clone(),
        mask_name(&sheet.resident_name),
        sheet.resident_phone.clone(),
        mask_phone(&sheet.resident_phone),
        sheet.task.address.to_string(),
        format!("{}室", sheet.task.address.room),
        sheet.task.case_number.clone(),
    ] {
        assert!(!html.contains(&private), "the page shows {private}");
    }
    let now = jx_centre::db::now().millis();
    let tomorrow = (now + SHANGHAI_MS).div_euclid(DAY_MS) + 1;
    let evenings = offered(&html);
    assert_eq!(evenings.len(), 7, "{html}");
    for (i, e) in evenings.iter().enumerate() {
        assert_eq!(jx_centre::report::Day::parse(e).map(|d| d.0), Some(tomorrow + i as i64), "{e}");
    }

    // Out of range, or no evening at all: refused, nothing booked.
    let today = jx_centre::report::Day(tomorrow - 1).to_string();
    let week_on = jx_centre::report::Day(tomorrow + 7).to_string();
    for bad in [today.as_str(), week_on.as_str(), "2026-13-01", "tomorrow", ""] {
        let (status, html) = page(&c, &cards[0], Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {html}");
        assert!(html.contains("请重新选择日期") && html.contains("12345"), "{html}");
    }
    let no_field = c.http.post(&cards[0]).body("day=x").send().await.expect("sent");
    assert_eq!(no_field.status(), StatusCode::BAD_REQUEST);
    assert!(!history(&c, &coord, task).await.iter().any(|e| matches!(e.payload, EventPayload::Rescheduled { .. })));

    // The second evening offered: booked for 19:00 Shanghai time that day, as the centre's decision.
    let (status, html) = page(&c, &cards[0], Some(&evenings[1])).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("预约成功") && html.contains("晚上7点后"), "{html}");
    let expected = Timestamp((tomorrow + 1) * DAY_MS - SHANGHAI_MS + 19 * 3_600_000);
    let all = history(&c, &coord, task).await;
    let booked: Vec<&Envelope> = all.iter().filter(|e| matches!(e.payload, EventPayload::Rescheduled { .. })).collect();
    assert_eq!(booked.len(), 1, "{all:?}");
    assert_eq!(booked[0].actor, Actor::Centre);
    let token = jx_core::doorcard::card_token(&cards[0]).expect("token");
    assert_eq!(booked[0].payload, EventPayload::Rescheduled { at: expected, card: token.clone() });
    let (status, body) = c.call(Method::GET, &format!("/tasks/{task}"), Some(&coord), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["state"]["status"].as_str(), body["state"]["assignee"].as_u64()),
        (Some("attempt_failed"), Some(1))
    );

    // The phone's next pull brings it.
    let next = c.pull(&phone, &first.cursor, 500).await;
    let (_, pulled) = sheet_of(&next, task).expect("the task changed for its assignee");
    assert!(pulled.iter().any(|e| e.id == booked[0].id), "{pulled:?}");

    // The page now says what was booked; a second booking is refused.
    let (status, html) = page(&c, &cards[0], None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("您已预约") && offered(&html).is_empty(), "{html}");
    let (status, html) = page(&c, &cards[0], Some(&evenings[2])).await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("您已经预约过了") && html.contains("12345"), "{html}");
    let count = |h: &[Envelope]| h.iter().filter(|e| matches!(e.payload, EventPayload::Rescheduled { .. })).count();
    assert_eq!(count(&history(&c, &coord, task).await), 1);

    // A card never left at a door, a forged one, and something that is no card at all.
    let (status, html) = page(&c, &cards[1], None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{html}");
    assert!(html.contains("还没有登记") && html.contains("12345"), "{html}");
    let (status, _) = page(&c, &cards[1], Some(&evenings[0])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let forged =
        TokenSigner::from_secret(1, [9; 32]).issue(TokenKind::DoorCard, TaskId::v7(1, [3; 10]), Timestamp(now));
    let (status, html) = page(&c, &jx_core::doorcard::card_url(&base, &forged), Some(&evenings[0])).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert!(html.contains("校验未通过") && html.contains("12345"), "{html}");
    // A genuine code of another kind is no card either.
    let label = jx_core::doorcard::card_url(&base, &label_code(&c, &coord, task).await);
    for url in [label, format!("{base}/d/hello"), format!("{base}/d/JX1:%ZZ")] {
        let (status, html) = page(&c, &url, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {html}");
        assert!(html.contains("无法识别"), "{html}");
    }

    // The card's fact is in the history; a phone cannot pass the centre's booking off as its own.
    assert!(all.iter().any(|e| e.payload == left(&cards[0]) && e.actor.is_device()));
    let fake = phone.record(task, EventPayload::Rescheduled { at: expected, card: token }, at + 2);
    let (_, body) = c.push(&phone, &[fake]).await;
    assert_eq!(body["results"][0]["outcome"]["rejected"]["code"], "impossible_transition", "{body}");
}

#[tokio::test]
async fn a_card_left_before_its_key_was_retired_still_books_and_an_unused_one_expires() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let cards = print(&c, &coord, 2).await;
    let task = delivery(&c, &coord, 0, 1).await;
    let mut phone = c.phone(1).await;
    let now = jx_centre::db::now().millis();
    let events = [phone.record(task, failed(), now + 10), phone.record(task, left(&cards[0]), now + 11)];
    push_ok(&c, &phone, &events).await;

    // The key that signed the roll is retired two seconds from now, and that time passes.
    let retire_after = jx_centre::db::now().millis() + 2_000;
    let (status, body) =
        c.call(Method::POST, "/keyring/rotate", Some(&coord), Some(json!({"retire_after": retire_after}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    while jx_centre::db::now().millis() <= retire_after + 50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // The card left at the door while the key was in force: the resident books as before.
    let (status, html) = page(&c, &cards[0], None).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let evenings = offered(&html);
    assert_eq!(evenings.len(), 7, "{html}");
    let (status, html) = page(&c, &cards[0], Some(&evenings[0])).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("预约成功"), "{html}");
    assert!(history(&c, &coord, task).await.iter().any(|e| matches!(e.payload, EventPayload::Rescheduled { .. })));
    // A card of the same roll never left anywhere has expired with its key.
    let (status, html) = page(&c, &cards[1], None).await;
    assert_eq!(status, StatusCode::GONE, "{html}");
    assert!(html.contains("这张卡片已过期"), "{html}");
}

async fn exceptions(c: &Centre, coord: &str) -> Exceptions {
    let (status, body) = c.call(Method::GET, "/exceptions", Some(coord), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("exceptions")
}

async fn label_code(c: &Centre, coord: &str, task: TaskId) -> String {
    let (status, body) =
        c.call(Method::GET, &format!("/tasks/{task}/qr?kind=packet&format=text"), Some(coord), None).await;
    assert_eq!(status, StatusCode::OK);
    body.as_str().expect("the label's text").to_string()
}

#[tokio::test]
async fn three_failed_visits_send_the_packet_back_with_its_custody_record() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let cards = print(&c, &coord, 1).await;
    let task = delivery(&c, &coord, 1, 2).await;
    let (status, body) = c.decide(&coord, task, Decision::CheckOut).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut phone = c.phone(2).await;
    let at = far_future();
    // Two failures: on the failed list, not yet to come back.
    let two = [phone.record(task, failed(), at), phone.record(task, failed(), at + 10)];
    push_ok(&c, &phone, &two).await;
    let ex = exceptions(&c, &coord).await;
    assert!(ex.failed_attempts.iter().any(|t| t.id == task));
    assert!(ex.to_return.iter().all(|t| t.id != task), "{:?}", ex.to_return);
    // The third, with a card: the packet is to come back, and the card cannot book another visit.
    let third = [phone.record(task, failed(), at + 20), phone.record(task, left(&cards[0]), at + 21)];
    push_ok(&c, &phone, &third).await;
    let ex = exceptions(&c, &coord).await;
    let listed = ex.to_return.iter().find(|t| t.id == task).expect("to return");
    assert_eq!((listed.attempts, listed.status), (3, jx_core::TaskStatus::AttemptFailed));
    assert!(ex.failed_attempts.iter().all(|t| t.id != task), "listed once, to return, not to reschedule");
    let (status, html) = page(&c, &cards[0], None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("三次上门未遇"), "{html}");

    // Scanned in at the counter: returned, off the list, the custody chain complete.
    let (status, body) = c
        .call(
            Method::POST,
            "/counter",
            Some(&coord),
            Some(json!({"code": label_code(&c, &coord, task).await, "direction": "in"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["action"], "returned", "{body}");
    let ex = exceptions(&c, &coord).await;
    assert!(ex.to_return.iter().all(|t| t.id != task));
    let kinds: Vec<&str> = history(&c, &coord, task).await.iter().map(|e| e.kind().as_str()).collect();
    assert_eq!(
        kinds,
        ["assigned", "checked_out", "attempt_failed", "attempt_failed", "attempt_failed", "door_card_left", "returned"]
    );
    let (status, html) = page(&c, &cards[0], Some("2099-01-01")).await;
    assert_eq!(status, StatusCode::GONE, "{html}");
    assert!(html.contains("退回中心"), "{html}");
}

#[tokio::test]
async fn the_residents_pages_are_rate_limited() {
    let c = centre().await;
    let base = c.running.as_ref().expect("running").url();
    let mut statuses = Vec::new();
    for _ in 0..80 {
        statuses.push(page(&c, &format!("{base}/d/JX1:NOPE"), None).await.0);
    }
    assert_eq!(statuses[0], StatusCode::BAD_REQUEST);
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    assert!(statuses.iter().all(|s| s.is_client_error()), "{statuses:?}");
}
