//! Residents without phones, over a real loopback socket: the household card (issued, reissued, printed, sent to
//! the phones of the resident's open tasks), family members (added, listed without codes, printed, removed), and
//! the centre's re-check of handoffs confirmed by card, household code, family member or witness photo.

mod common;

use common::*;
use jx_core::bytes::Sha256;
use jx_core::event::{Confirmation, EventPayload, Fix, HandoffProof};
use jx_core::model::TaskSheet;
use jx_core::token::{HouseholdCard, Keyring, TokenKind};
use jx_core::wire::*;
use jx_core::{ResidentId, StaffId, TaskId};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;

async fn text(c: &Centre, path: &str, token: &str) -> (StatusCode, String, String) {
    let res = c.http.get(format!("{}{}", c.url, path)).bearer_auth(token).send().await.expect("reaches the centre");
    let status = res.status();
    let ctype = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, ctype, res.text().await.expect("body"))
}

async fn assigned(c: &Centre, coord: &str, staff: u32, n: usize) -> Vec<TaskId> {
    let tasks: Vec<TaskId> = c.tasks(coord, "?status=created").await.iter().take(n).map(|t| t.id).collect();
    assert_eq!(tasks.len(), n);
    for t in &tasks {
        let (status, body) = c.decide(coord, *t, Decision::Assign { staff: StaffId(staff) }).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    tasks
}

async fn resident_of(c: &Centre, coord: &str, task: TaskId) -> ResidentId {
    let (status, detail) = c.call(Method::GET, &format!("/tasks/{task}"), Some(coord), None).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    ResidentId(detail["task"]["resident"].as_u64().expect("a resident id") as u32)
}

async fn issue(c: &Centre, coord: &str, resident: ResidentId) -> (u32, String) {
    let (status, body) = c.call(Method::POST, &format!("/residents/{}/card", resident.0), Some(coord), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["resident"], resident.0);
    let code = body["code"].as_str().expect("code").to_string();
    assert!(jx_core::code::is_six_digits(&code), "{code}");
    (body["serial"].as_u64().expect("serial") as u32, code)
}

async fn add_proxy(c: &Centre, coord: &str, resident: ResidentId, name: &str, relation: &str) -> (u32, String) {
    let body = json!({"name": name, "relation": relation});
    let (status, body) =
        c.call(Method::POST, &format!("/residents/{}/proxies", resident.0), Some(coord), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!((body["name"].as_str(), body["relation"].as_str()), (Some(name), Some(relation)));
    (body["id"].as_u64().expect("id") as u32, body["code"].as_str().expect("code").to_string())
}

/// The code printed in large type on a card page.
fn printed_code(html: &str) -> String {
    let start = html.find("class=\"code\">").expect("the card prints a code") + "class=\"code\">".len();
    html[start..start + 6].to_string()
}

/// The sheets of `task` that a pull since `since` brings, and the next cursor.
async fn sheets(c: &Centre, phone: &Phone, since: &str, task: TaskId) -> (Vec<TaskSheet>, String) {
    let page = c.pull(phone, since, 1000).await;
    let found = page
        .changes
        .iter()
        .filter_map(|ch| match ch {
            TaskChange::Upsert { sheet, .. } if sheet.task.id == task => Some((**sheet).clone()),
            _ => None,
        })
        .collect();
    (found, page.cursor)
}

async fn keyring(c: &Centre, token: &str) -> Keyring {
    let (status, body) = c.call(Method::GET, "/keyring", Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("keyring")
}

#[tokio::test]
async fn a_card_is_issued_printed_and_reissued_and_the_phone_hears_of_each() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let task = assigned(&c, &coord, 2, 1).await[0];
    let resident = resident_of(&c, &coord, task).await;
    let phone = c.phone(2).await;
    let (before, cursor) = sheets(&c, &phone, "0", task).await;
    assert_eq!(before.len(), 1);
    assert!(before[0].household.is_none() && before[0].proxies.is_empty());
    let full_name = before[0].resident_name.clone();

    // No card yet: nothing to print.
    let (status, _, _) = text(&c, &format!("/residents/{}/card", resident.0), &coord).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (serial, code) = issue(&c, &coord, resident).await;
    assert_eq!(serial, 1);
    // The resident's open task goes to the phone again, with the card's serial and its code's hash (never the code).
    let (after, cursor) = sheets(&c, &phone, &cursor, task).await;
    let card = after.last().and_then(|s| s.household.clone()).expect("the card is on the task's sheet");
    assert_eq!(card.serial, 1);
    assert!(jx_core::code::check_code(&code, &card.code), "the phone can check the printed code offline");
    assert!(!serde_json::to_string(&after).expect("json").contains(&format!("\"{code}\"")));

    // The printable card: zh-CN, a QR, the code under it, the name masked.
    let (status, ctype, html) = text(&c, &format!("/residents/{}/card", resident.0), &coord).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/html"), "{ctype}");
    assert!(html.contains("lang=\"zh-CN\"") && html.contains("<svg") && html.contains("户卡"), "{html}");
    assert_eq!(printed_code(&html), code);
    let surname: String = full_name.chars().take(1).collect();
    assert!(html.contains(&jx_core::model::mask_name(&full_name)) && html.contains(&surname));
    assert!(!html.contains(&full_name), "the card masks the resident's name");
    let (_, _, en) = text(&c, &format!("/residents/{}/card?lang=en", resident.0), &coord).await;
    assert!(en.contains("lang=\"en\"") && en.contains(&code));
    // The QR is the centre's signature on this resident's card No. 1.
    let (status, _, token) = text(&c, &format!("/residents/{}/card?format=text", resident.0), &coord).await;
    assert_eq!(status, StatusCode::OK);
    let ring = keyring(&c, &coord).await;
    let now = jx_centre::db::now();
    assert_eq!(ring.verify_household(&token, now), Ok(HouseholdCard { resident, serial: 1 }));
    assert_eq!(ring.verify(&token, now).map(|t| t.kind), Ok(TokenKind::HouseholdCard));
    let (status, ctype, _) = text(&c, &format!("/residents/{}/card?format=png", resident.0), &coord).await;
    assert_eq!((status, ctype.as_str()), (StatusCode::OK, "image/png"));

    // A reissue: the next serial; the phone hears of it; the page and the QR are the new card's.
    let (serial, new_code) = issue(&c, &coord, resident).await;
    assert_eq!(serial, 2);
    let (again, _) = sheets(&c, &phone, &cursor, task).await;
    let card = again.last().and_then(|s| s.household.clone()).expect("the new card is on the sheet");
    assert_eq!(card.serial, 2);
    assert!(jx_core::code::check_code(&new_code, &card.code));
    let (_, _, html) = text(&c, &format!("/residents/{}/card", resident.0), &coord).await;
    assert_eq!(printed_code(&html), new_code);
    let (_, _, token) = text(&c, &format!("/residents/{}/card?format=text", resident.0), &coord).await;
    assert_eq!(ring.verify_household(&token, now).map(|c| c.serial), Ok(2));
    let (_, audit) = c.call(Method::GET, "/audit?limit=20", Some(&coord), None).await;
    let cards = audit.as_array().expect("audit").iter().filter(|e| e["action"] == "household_card").count();
    assert_eq!(cards, 2, "{audit}");

    // Bad requests are refused with reasons, never a 500.
    let refused = |status: StatusCode, body: &Value, code: &str| {
        assert_eq!(body["code"], code, "{status} {body}");
    };
    let (status, body) = c.call(Method::POST, "/residents/abc/card", Some(&coord), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    refused(status, &body, "bad_resident_id");
    let (status, body) = c.call(Method::POST, "/residents/999999/card", Some(&coord), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    refused(status, &body, "not_found");
    let (status, body) =
        c.call(Method::GET, &format!("/residents/{}/card?format=bmp", resident.0), Some(&coord), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    refused(status, &body, "bad_format");
    let staff = c.login("s02").await;
    let (status, _) = c.call(Method::POST, &format!("/residents/{}/card", resident.0), Some(&staff), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = c.call(Method::POST, &format!("/residents/{}/card", resident.0), None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn family_members_are_added_listed_without_codes_printed_and_removed() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let task = assigned(&c, &coord, 3, 1).await[0];
    let resident = resident_of(&c, &coord, task).await;
    let phone = c.phone(3).await;
    let (_, cursor) = sheets(&c, &phone, "0", task).await;
    let path = format!("/residents/{}/proxies", resident.0);

    let (id, code) = add_proxy(&c, &coord, resident, "李小红", "女儿").await;
    assert!(jx_core::code::is_six_digits(&code));
    let (other, _) = add_proxy(&c, &coord, resident, "王建国", "女婿").await;
    assert_ne!(id, other);

    // Listed without their codes.
    let (status, list) = c.call(Method::GET, &path, Some(&coord), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list = list.as_array().expect("a list").clone();
    assert_eq!(list.len(), 2);
    assert_eq!((list[0]["id"].as_u64(), list[0]["name"].as_str()), (Some(id as u64), Some("李小红")));
    assert_eq!(list[0]["relation"], "女儿");
    assert!(list.iter().all(|p| p.get("code").is_none()), "{list:?}");

    // The phone gets them masked, with their codes' hashes.
    let (after, cursor) = sheets(&c, &phone, &cursor, task).await;
    let proxies = after.last().map(|s| s.proxies.clone()).expect("the task came again");
    assert_eq!(proxies.len(), 2);
    assert_eq!((proxies[0].id, proxies[0].name.as_str(), proxies[0].relation.as_str()), (id, "李**", "女儿"));
    assert!(jx_core::code::check_code(&code, &proxies[0].code));
    let json = serde_json::to_string(&after).expect("json");
    assert!(!json.contains("李小红") && !json.contains(&format!("\"{code}\"")), "{json}");

    // Their printable card: the code, the masked name and relation.
    let (status, ctype, html) = text(&c, &format!("{path}/{id}/card"), &coord).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/html"));
    assert_eq!(printed_code(&html), code);
    assert!(html.contains("李**（女儿）") && !html.contains("李小红"), "{html}");

    // Bad input: 4xx with reasons.
    for (body, expected) in [
        (json!({"name": "  ", "relation": "女儿"}), "bad_name"),
        (json!({"name": "李小红", "relation": "亲".repeat(21)}), "bad_relation"),
        (json!({"name": "李小红"}), "malformed_body"),
        (json!(["李小红"]), "malformed_body"),
    ] {
        let (status, res) = c.call(Method::POST, &path, Some(&coord), Some(body)).await;
        assert_eq!((status, res["code"].as_str()), (StatusCode::BAD_REQUEST, Some(expected)), "{res}");
    }
    let (status, _) = c.call(Method::GET, "/residents/999999/proxies", Some(&coord), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, res) = c.call(Method::DELETE, &format!("{path}/x"), Some(&coord), None).await;
    assert_eq!((status, res["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_proxy_id")));
    let (status, _) =
        c.call(Method::DELETE, &format!("/residents/{}/proxies/{id}", resident.0 + 1), Some(&coord), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another resident's member");

    // Removed: gone from the list and, after the next pull, from the phone; a second removal finds nobody.
    let (status, _) = c.call(Method::DELETE, &format!("{path}/{id}"), Some(&coord), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = c.call(Method::DELETE, &format!("{path}/{id}"), Some(&coord), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = c.call(Method::GET, &path, Some(&coord), None).await;
    assert_eq!(list.as_array().map(|l| l.len()), Some(1));
    let (after, _) = sheets(&c, &phone, &cursor, task).await;
    let left: Vec<u32> = after.last().expect("re-sent").proxies.iter().map(|p| p.id).collect();
    assert_eq!(left, vec![other]);
    let (status, _, _) = text(&c, &format!("{path}/{id}/card"), &coord).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // At most a handful at a time.
    for n in 0..jx_centre::household::MAX_PROXIES - 1 {
        add_proxy(&c, &coord, resident, &format!("张{n}"), "邻居").await;
    }
    let (status, res) =
        c.call(Method::POST, &path, Some(&coord), Some(json!({"name": "赵一", "relation": "邻居"}))).await;
    assert_eq!((status, res["code"].as_str()), (StatusCode::CONFLICT, Some("too_many_proxies")), "{res}");
}

/// A photo at the door (a real JPEG: the centre decodes every upload).
fn photo() -> Vec<u8> {
    jx_proof::photo::sample_jpeg(38, 64, 48)
}
/// The neighbour beside the resident.
fn witness() -> Vec<u8> {
    jx_proof::photo::sample_jpeg(251, 64, 48)
}

fn at_door(task: TaskId) -> Option<Fix> {
    let town = jx_core::demo::demo_town();
    let t = town.tasks.iter().find(|t| t.id == task).expect("a demo task");
    let b = town.compound(t.address.compound).and_then(|c| c.buildings.iter().find(|b| b.number == t.address.building));
    Some(Fix { at: b.expect("its building").position, accuracy_m: 10.0 })
}

#[tokio::test]
async fn handoffs_confirmed_the_household_ways_pass_and_old_cards_or_wrong_codes_show_gaps() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let tasks = assigned(&c, &coord, 4, 7).await;
    let mut residents = Vec::new();
    for t in &tasks {
        residents.push(resident_of(&c, &coord, *t).await);
    }
    // Cards for everyone; the fifth task's resident gets a second one, after its first card's QR was kept.
    let mut codes: BTreeMap<ResidentId, String> = BTreeMap::new();
    for r in &residents {
        if !codes.contains_key(r) {
            codes.insert(*r, issue(&c, &coord, *r).await.1);
        }
    }
    let card_text = |r: ResidentId| {
        let (c, coord) = (&c, coord.clone());
        async move { text(c, &format!("/residents/{}/card?format=text", r.0), &coord).await.2 }
    };
    let old_card = card_text(residents[4]).await;
    let (serial, code) = issue(&c, &coord, residents[4]).await;
    assert!(serial >= 2);
    codes.insert(residents[4], code);
    let (daughter, daughter_code) = add_proxy(&c, &coord, residents[2], "陈美玲", "女儿").await;
    let (son, son_code) = add_proxy(&c, &coord, residents[5], "周大伟", "儿子").await;
    let wrong = |code: &str| if code == "000000" { "000001".to_string() } else { "000000".to_string() };
    let removed = add_proxy(&c, &coord, residents[6], "吴小芳", "孙女").await;
    let (status, _) = c
        .call(Method::DELETE, &format!("/residents/{}/proxies/{}", residents[6].0, removed.0), Some(&coord), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let packet = |t: TaskId| {
        let (c, coord) = (&c, coord.clone());
        async move { text(c, &format!("/tasks/{t}/qr?kind=packet&format=text"), &coord).await.2 }
    };
    let (door_photo, witness_photo) = (Sha256::of(&photo()), Sha256::of(&witness()));
    let proxy = |id: u32, name: &str, relation: &str, code: String| Confirmation::Proxy {
        proxy: id,
        name: name.into(),
        relation: relation.into(),
        code,
    };
    let cases: Vec<(TaskId, Confirmation, Vec<Sha256>, Vec<&str>)> = vec![
        (tasks[0], Confirmation::HouseholdCard { token: card_text(residents[0]).await }, vec![door_photo], vec![]),
        (tasks[1], Confirmation::HouseholdCode { code: codes[&residents[1]].clone() }, vec![door_photo], vec![]),
        (tasks[2], proxy(daughter, "陈**", "女儿", daughter_code), vec![door_photo], vec![]),
        (
            tasks[3],
            Confirmation::Witness { photo: witness_photo, witness: "邻居 王阿姨".into() },
            vec![door_photo],
            vec![],
        ),
        (tasks[4], Confirmation::HouseholdCard { token: old_card }, vec![door_photo], vec!["card_replaced"]),
        (tasks[5], proxy(son, "周**", "儿子", wrong(&son_code)), vec![door_photo], vec!["proxy_code_wrong"]),
        (tasks[6], proxy(removed.0, "吴**", "孙女", removed.1.clone()), vec![door_photo], vec!["proxy_unknown"]),
    ];
    let mut phone = c.phone(4).await;
    let events: Vec<_> = cases
        .iter()
        .map(|(t, confirmation, photos, _)| {
            let proof = HandoffProof {
                packet: None,
                confirmation: Some(confirmation.clone()),
                photos: photos.clone(),
                position: at_door(*t),
                rating: Some(5),
            };
            (*t, proof)
        })
        .collect::<Vec<_>>();
    let mut signed = Vec::new();
    for (t, mut proof) in events {
        proof.packet = Some(packet(t).await);
        signed.push(phone.record(t, EventPayload::Delivered { proof }, far_future()));
    }
    let (status, body) = c.push(&phone, &signed).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for r in body["results"].as_array().expect("results") {
        assert_eq!(r["outcome"], "accepted", "{r}");
    }
    // The witness photo is one of the handoff's blobs: the centre waits for it as for the handoff photo.
    let missing = |summaries: Vec<TaskSummary>| summaries.iter().find(|s| s.id == tasks[3]).map(|s| s.missing_blobs);
    assert_eq!(missing(c.tasks(&coord, "").await), Some(2));
    for bytes in [&photo(), &witness()] {
        c.put_jpeg(&phone.token, bytes).await;
    }
    assert_eq!(missing(c.tasks(&coord, "").await), Some(0));

    for (t, confirmation, _, expected) in &cases {
        let (_, detail) = c.call(Method::GET, &format!("/tasks/{t}"), Some(&coord), None).await;
        let names: Vec<&str> =
            detail["proof_gaps"].as_array().expect("gaps").iter().map(|g| g["gap"].as_str().expect("name")).collect();
        assert_eq!(&names, expected, "{confirmation:?}: {}", detail["proof_gaps"]);
        assert_eq!(detail["state"]["status"], "delivered");
    }
    // The handoff records who received it.
    let (_, detail) = c.call(Method::GET, &format!("/tasks/{}", tasks[2]), Some(&coord), None).await;
    let last = detail["history"].as_array().and_then(|h| h.last()).expect("history");
    let recorded = &last["payload"]["delivered"]["proof"]["confirmation"]["proxy"];
    assert_eq!((recorded["proxy"].as_u64(), recorded["relation"].as_str()), (Some(daughter as u64), Some("女儿")));
    assert_eq!(recorded["name"], "陈**");
}

#[tokio::test]
async fn a_handoff_recorded_before_a_reissue_or_a_removal_stays_proven_and_one_after_does_not() {
    let c = centre().await;
    let coord = c.coordinator().await;
    // Three deliveries for one new resident, at the address (and door) of a demo task.
    let model = c.tasks(&coord, "?status=created").await[0].id;
    let (_, detail) = c.call(Method::GET, &format!("/tasks/{model}"), Some(&coord), None).await;
    let t = &detail["task"];
    let rows: Vec<Value> = (1..=3)
        .map(|n| {
            json!({
                "kind": "delivery", "case_number": format!("HH-{n}"), "service_item": t["service_item"],
                "resident_name": "欧阳秋菊", "resident_phone": "13698765432",
                "compound": t["address"]["compound"], "building": t["address"]["building"],
                "unit": t["address"]["unit"], "room": t["address"]["room"],
            })
        })
        .collect();
    let res =
        c.http.post(format!("{}/tasks/import", c.url)).bearer_auth(&coord).json(&rows).send().await.expect("sent");
    assert!(res.status().is_success(), "{}", res.status());
    let report: ImportReport = res.json().await.expect("report");
    let tasks = report.tasks;
    assert_eq!(tasks.len(), 3);
    for task in &tasks {
        let (status, body) = c.decide(&coord, *task, Decision::Assign { staff: StaffId(5) }).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let resident = resident_of(&c, &coord, tasks[0]).await;
    assert_eq!(resident_of(&c, &coord, tasks[2]).await, resident, "one resident");
    let (_, code) = issue(&c, &coord, resident).await;
    let (_, _, first_card) = text(&c, &format!("/residents/{}/card?format=text", resident.0), &coord).await;
    let (aunt, aunt_code) = add_proxy(&c, &coord, resident, "欧阳红", "姐姐").await;

    let mut phone = c.phone(5).await;
    let proof = |task: TaskId, confirmation: Confirmation| {
        let (c, coord) = (&c, coord.clone());
        async move {
            let packet = text(c, &format!("/tasks/{task}/qr?kind=packet&format=text"), &coord).await.2;
            let proof = HandoffProof {
                packet: Some(packet),
                confirmation: Some(confirmation),
                photos: vec![Sha256::of(&photo())],
                position: at_door(model),
                rating: None,
            };
            EventPayload::Delivered { proof }
        }
    };
    // Recorded at the door (offline) with the first card, the household code and the aunt's code...
    let now = jx_centre::db::now().0;
    let before = [
        phone.record(tasks[0], proof(tasks[0], Confirmation::HouseholdCard { token: first_card.clone() }).await, now),
        phone.record(tasks[1], proof(tasks[1], Confirmation::HouseholdCode { code: code.clone() }).await, now + 1),
        phone.record(
            tasks[2],
            proof(
                tasks[2],
                Confirmation::Proxy { proxy: aunt, name: "欧**".into(), relation: "姐姐".into(), code: aunt_code },
            )
            .await,
            now + 2,
        ),
    ];
    // ...then, before the phone syncs, the card is reissued and the aunt removed.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    issue(&c, &coord, resident).await;
    let (status, _) =
        c.call(Method::DELETE, &format!("/residents/{}/proxies/{aunt}", resident.0), Some(&coord), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = c.push(&phone, &before).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let gaps = |task: TaskId| {
        let (c, coord) = (&c, coord.clone());
        async move {
            let (_, detail) = c.call(Method::GET, &format!("/tasks/{task}"), Some(&coord), None).await;
            assert_eq!(detail["state"]["status"], "delivered", "{detail}");
            detail["proof_gaps"].clone()
        }
    };
    for task in &tasks {
        assert_eq!(gaps(*task).await, json!([]), "recorded before the change: still proven");
    }

    // The same old card, shown after the reissue, is not proof (another visit of the same resident, recorded later).
    let extra = json!([{
        "kind": "delivery", "case_number": "HH-4", "service_item": t["service_item"],
        "resident_name": "欧阳秋菊", "resident_phone": "13698765432",
        "compound": t["address"]["compound"], "building": t["address"]["building"],
        "unit": t["address"]["unit"], "room": t["address"]["room"],
    }]);
    let res =
        c.http.post(format!("{}/tasks/import", c.url)).bearer_auth(&coord).json(&extra).send().await.expect("sent");
    let later: ImportReport = res.json().await.expect("report");
    let (status, body) = c.decide(&coord, later.tasks[0], Decision::Assign { staff: StaffId(5) }).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after =
        phone.record(later.tasks[0], proof(later.tasks[0], Confirmation::HouseholdCode { code }).await, far_future());
    let (status, body) = c.push(&phone, &[after]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<String> = gaps(later.tasks[0])
        .await
        .as_array()
        .expect("gaps")
        .iter()
        .map(|g| g["gap"].as_str().expect("name").to_string())
        .collect();
    assert_eq!(names, ["card_replaced"], "the old card's code, after the reissue");
}
