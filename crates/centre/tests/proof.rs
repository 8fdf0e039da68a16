//! Proof at the centre, over a real loopback socket: the codes it signs and prints, the keys phones get, key
//! rotation, and the re-check of every handoff that arrives (a wrong code, another task's label, a forged QR).

mod common;

use common::*;
use jx_core::bytes::Sha256;
use jx_core::event::{Confirmation, EventPayload, Fix, HandoffProof};
use jx_core::proof::Gap;
use jx_core::token::{Keyring, TokenKind, TokenSigner};
use jx_core::wire::*;
use jx_core::{StaffId, TaskId, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn text(c: &Centre, path: &str, token: &str) -> (StatusCode, String, String) {
    let res = c.http.get(format!("{}{}", c.url, path)).bearer_auth(token).send().await.expect("reaches the centre");
    let status = res.status();
    let ctype = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, ctype, res.text().await.expect("body"))
}

async fn keyring(c: &Centre, token: &str) -> Keyring {
    let (status, body) = c.call(Method::GET, "/keyring", Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("keyring")
}

async fn assigned(c: &Centre, coord: &str, staff: u32, n: usize) -> Vec<TaskId> {
    let tasks: Vec<TaskId> = c.tasks(coord, "?status=created").await.iter().take(n).map(|t| t.id).collect();
    for t in &tasks {
        let (status, body) = c.decide(coord, *t, Decision::Assign { staff: StaffId(staff) }).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    tasks
}

/// A photo at the door (a real JPEG: the centre decodes every upload).
fn photo() -> Vec<u8> {
    jx_proof::photo::sample_jpeg(38, 64, 48)
}

/// At the door: the task's building in the demo town.
fn at_door(task: TaskId) -> Option<Fix> {
    let town = jx_core::demo::demo_town();
    let t = town.tasks.iter().find(|t| t.id == task).expect("a demo task");
    let b = town.compound(t.address.compound).and_then(|c| c.buildings.iter().find(|b| b.number == t.address.building));
    Some(Fix { at: b.expect("its building").position, accuracy_m: 10.0 })
}

/// The 6-digit code printed on a task's slip.
fn code_on_slip(html: &str) -> String {
    let start = html.find("class=\"code\">").expect("the slip prints a code") + "class=\"code\">".len();
    html[start..start + 6].to_string()
}

#[tokio::test]
async fn phones_get_the_keys_and_every_code_the_centre_signs_verifies_with_them() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let tasks = assigned(&c, &coord, 2, 2).await;
    let phone = c.phone(2).await;
    let ring = keyring(&c, &phone.token).await;
    assert_eq!(ring.0.len(), 1);
    let page = c.pull(&phone, "0", 100).await;
    assert_eq!(page.keyring, ring, "the pull carries the keys too");

    for (kind, expected) in [("packet", TokenKind::PacketLabel), ("resident", TokenKind::ResidentConfirmation)] {
        let (status, ctype, token) = text(&c, &format!("/tasks/{}/qr?kind={kind}&format=text", tasks[0]), &coord).await;
        assert_eq!((status, ctype.as_str()), (StatusCode::OK, "text/plain; charset=utf-8"));
        let t = ring.verify_for(&token, expected, tasks[0], Timestamp(far_future())).expect("verifies offline");
        assert_eq!(t.key_id, ring.0[0].id);

        // The PNG is a real QR code of a valid token for this task.
        let png = c
            .http
            .get(format!("{}/tasks/{}/qr?kind={kind}&format=png", c.url, tasks[0]))
            .bearer_auth(&coord)
            .send()
            .await
            .expect("sent");
        assert_eq!(png.headers()["content-type"], "image/png");
        let bytes = png.bytes().await.expect("bytes");
        let texts = jx_proof::scan::decode_photo(&bytes).expect("scans");
        assert_eq!(texts.len(), 1);
        let scanned = ring.verify_for(&texts[0], expected, tasks[0], Timestamp(far_future())).expect("valid");
        assert_eq!(scanned.task, tasks[0]);
    }
    let (status, ctype, svg) = text(&c, &format!("/tasks/{}/qr", tasks[1]), &coord).await;
    assert_eq!((status, ctype.as_str()), (StatusCode::OK, "image/svg+xml"));
    assert!(svg.starts_with("<svg") && svg.contains("<path"));

    // Phones may not print codes; nonsense is refused with a reason.
    let (status, _, _) = text(&c, &format!("/tasks/{}/qr", tasks[0]), &phone.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) = text(&c, &format!("/tasks/{}/qr?kind=other", tasks[0]), &coord).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("bad_kind"));
}

#[tokio::test]
async fn the_evening_sheet_has_a_label_per_open_task_with_only_a_masked_name() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let tasks = assigned(&c, &coord, 3, 5).await;
    let (status, ctype, html) = text(&c, "/print/labels?staff=3&evening=2026-11-29", &coord).await;
    assert_eq!((status, ctype.as_str()), (StatusCode::OK, "text/html; charset=utf-8"));
    assert_eq!(html.matches("<svg").count(), 5);
    assert!(html.contains("2026-11-29") && html.contains("文件袋标签") && html.contains("@page"));
    let town = jx_core::demo::demo_town();
    for t in &tasks {
        assert!(html.contains(&t.short()), "label for {t}");
        let task = town.tasks.iter().find(|x| x.id == *t).expect("demo task");
        let sheet = town.sheet(task).expect("sheet");
        assert!(!html.contains(&sheet.resident_name), "the full name is never printed on a packet");
        assert!(html.contains(&jx_core::model::mask_name(&sheet.resident_name)));
        assert!(html.contains(&task.address.to_string()));
    }
    let (_, _, english) = text(&c, "/print/labels?staff=3&lang=en", &coord).await;
    assert!(english.contains("Packet labels") && english.contains("lang=\"en\""));
    let (status, _, body) = text(&c, "/print/labels", &coord).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, _) = text(&c, "/print/labels?staff=999", &coord).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A pickup's packet gets its own label.
    let all = c.tasks(&coord, "").await;
    let p = all.iter().find(|t| t.kind == jx_core::TaskKind::Pickup).expect("the demo has pickups");
    let (status, _, one) = text(&c, &format!("/tasks/{}/label", p.id), &coord).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one.matches("<svg").count(), 1);
    assert!(one.contains(&p.id.short()) && one.contains("上门收件"));
    // Pickups have no resident code to print.
    let (status, _, _) = text(&c, &format!("/tasks/{}/slip", p.id), &coord).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_handoff_is_re_checked_at_the_centre_code_labels_and_keys() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let tasks = assigned(&c, &coord, 4, 5).await;
    let mut phone = c.phone(4).await;
    // The phone's copy carries the slow hash of the code, never the code.
    let page = c.pull(&phone, "0", 100).await;
    let hashes: Vec<_> = page
        .changes
        .iter()
        .filter_map(|ch| match ch {
            TaskChange::Upsert { sheet, .. } => Some((sheet.task.id, sheet.resident_code.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(hashes.len(), 5);
    let (_, _, slip) = text(&c, &format!("/tasks/{}/slip", tasks[0]), &coord).await;
    let code = code_on_slip(&slip);
    assert!(jx_core::code::is_six_digits(&code), "{code}");
    let hash = hashes.iter().find(|(t, _)| *t == tasks[0]).and_then(|(_, h)| h.clone()).expect("hash sent");
    assert!(!serde_json::to_string(&page).expect("json").contains(&format!("\"{code}\"")));
    assert!(jx_core::code::check_code(&code, &hash), "the phone can check the printed code offline");

    let token = |t: TaskId, kind: &'static str| {
        let c = &c;
        let coord = coord.clone();
        async move { text(c, &format!("/tasks/{t}/qr?kind={kind}&format=text"), &coord).await.2 }
    };
    let photo_hash = Sha256::of(&photo());
    let proof = |task: TaskId, packet: String, confirmation: Confirmation| HandoffProof {
        packet: Some(packet),
        confirmation: Some(confirmation),
        photos: vec![photo_hash],
        position: at_door(task),
        rating: None,
    };
    let mut far_away = proof(
        tasks[4],
        token(tasks[4], "packet").await,
        Confirmation::ResidentQr { token: token(tasks[4], "resident").await },
    );
    far_away.position = far_away.position.map(|f| Fix { at: f.at.offset_m(2_000.0, 0.0), ..f });
    let wrong = if code == "000000" { "000001".to_string() } else { "000000".to_string() };
    let forged = TokenSigner::from_secret(1, [66; 32]).issue(TokenKind::PacketLabel, tasks[2], Timestamp(far_future()));
    let cases = [
        (
            tasks[0],
            proof(tasks[0], token(tasks[0], "packet").await, Confirmation::ResidentCode { code: code.clone() }),
            vec![],
        ),
        (
            tasks[1],
            proof(tasks[1], token(tasks[1], "packet").await, Confirmation::ResidentCode { code: wrong }),
            vec!["code_wrong"],
        ),
        (
            tasks[2],
            proof(tasks[2], forged, Confirmation::ResidentQr { token: token(tasks[2], "resident").await }),
            vec!["packet_invalid"],
        ),
        (
            tasks[3],
            proof(
                tasks[3],
                token(tasks[0], "packet").await,
                Confirmation::ResidentQr { token: token(tasks[3], "packet").await },
            ),
            vec!["packet_invalid", "resident_qr_invalid"],
        ),
        (tasks[4], far_away, vec!["far_from_compound"]),
    ];
    let events: Vec<_> = cases
        .iter()
        .map(|(t, p, _)| phone.record(*t, EventPayload::Delivered { proof: p.clone() }, far_future()))
        .collect();
    let (status, body) = c.push(&phone, &events).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for r in body["results"].as_array().expect("results") {
        assert_eq!(r["outcome"], "accepted", "the fact is kept; its proof is judged apart: {r}");
    }
    // The photo arrives too, so only the proof itself can put a task on the exceptions list.
    c.put_jpeg(&phone.token, &photo()).await;
    let (_, ex) = c.call(Method::GET, "/exceptions", Some(&coord), None).await;
    let flagged: Vec<String> = ex["missing_proof"]
        .as_array()
        .expect("list")
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_string())
        .collect();
    for (t, _, expected) in &cases {
        let (_, detail) = c.call(Method::GET, &format!("/tasks/{t}"), Some(&coord), None).await;
        let gaps: Vec<Gap> = serde_json::from_value(detail["proof_gaps"].clone()).expect("gaps");
        let names: Vec<String> = detail["proof_gaps"]
            .as_array()
            .expect("list")
            .iter()
            .map(|g| g["gap"].as_str().expect("gap name").to_string())
            .collect();
        assert_eq!(&names, expected, "{t}: {gaps:?}");
        assert_eq!(flagged.contains(&t.to_string()), !expected.is_empty(), "{t} on the exceptions list");
    }
}

#[tokio::test]
async fn after_a_rotation_new_codes_use_the_new_key_and_old_ones_hold_until_their_end() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let tasks = assigned(&c, &coord, 5, 1).await;
    let before = text(&c, &format!("/tasks/{}/qr?format=text", tasks[0]), &coord).await.2;
    let (status, body) = c.call(Method::POST, "/keyring/rotate", Some(&coord), Some(json!({"retire_after": 1}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let end = jx_centre::db::now().0 + 7 * 86_400_000;
    let (status, body) =
        c.call(Method::POST, "/keyring/rotate", Some(&coord), Some(json!({"retire_after": end}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["key_id"], 2);
    let after = text(&c, &format!("/tasks/{}/qr?format=text", tasks[0]), &coord).await.2;
    let ring = keyring(&c, &coord).await;
    assert_eq!(ring.0.len(), 2);
    assert_eq!(ring.0[0].retired_after, Some(Timestamp(end)));
    let week = Timestamp(end - 1);
    assert_eq!(ring.verify(&before, week).expect("old code still good").key_id, 1);
    assert_eq!(ring.verify(&after, week).expect("new code good").key_id, 2);
    let later = Timestamp(end + 1);
    assert_eq!(ring.verify(&before, later), Err(jx_core::token::TokenError::RetiredKey(1)));
    assert!(ring.verify(&after, later).is_ok());
}

#[tokio::test]
async fn the_scan_command_prints_a_line_per_photo_with_its_verdict() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let tasks = assigned(&c, &coord, 6, 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let png = c
        .http
        .get(format!("{}/tasks/{}/qr?kind=resident&format=png", c.url, tasks[0]))
        .bearer_auth(&coord)
        .send()
        .await
        .expect("sent")
        .bytes()
        .await
        .expect("bytes");
    let good = dir.path().join("slip.png");
    std::fs::write(&good, &png).expect("written");
    // A code signed by someone else, rendered the same way.
    let forged =
        TokenSigner::from_secret(1, [66; 32]).issue(TokenKind::PacketLabel, tasks[0], Timestamp(1_790_000_000_000));
    let fake = dir.path().join("fake.png");
    std::fs::write(&fake, jx_proof::render::png(&forged, 6).expect("renders")).expect("written");
    let garbage = dir.path().join("notes.jpg");
    std::fs::write(&garbage, b"not a photo at all").expect("written");

    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_jx-centre"));
    cmd.arg("scan").arg("--data-dir").arg(c.dir_path());
    if let Some(url) = &c.postgres {
        cmd.arg("--database").arg(url);
    }
    let out = cmd.arg(&good).arg(&fake).arg(&garbage).output().expect("runs");
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(lines[0].starts_with(&good.display().to_string()), "{}", lines[0]);
    assert!(lines[0].contains("resident-confirmation") && lines[0].contains(&tasks[0].to_string()));
    assert!(lines[0].contains("\tvalid") && lines[0].ends_with(" ms"), "{}", lines[0]);
    assert!(lines[1].contains("invalid: the code's signature is not the centre's"), "{}", lines[1]);
    assert!(lines[2].contains("unreadable"), "{}", lines[2]);
    assert_eq!(out.status.code(), Some(1), "a file without a valid code fails the command");

    let ok = std::process::Command::new(env!("CARGO_BIN_EXE_jx-centre"))
        .arg("scan")
        .arg("--data-dir")
        .arg(c.dir_path())
        .args(c.postgres.iter().flat_map(|u| ["--database".to_string(), u.clone()]))
        .arg(&good)
        .output()
        .expect("runs");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));
}
