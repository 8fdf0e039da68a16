//! Hardening at the centre, over a real loopback socket: failed logins lock a login for a while, and every
//! coordinator action and device event is in the audit log, findable by task and by person.

mod common;

use common::*;
use jx_centre::auth::LoginLimits;
use jx_core::StaffId;
use jx_core::wire::Decision;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

async fn try_login(c: &Centre, login: &str, password: &str) -> (StatusCode, Value) {
    c.call(Method::POST, "/auth/login", None, Some(json!({"login": login, "password": password}))).await
}

#[tokio::test]
async fn repeated_failures_lock_a_login_for_a_while_and_only_that_login() {
    let c = centre_with(|s| s.login_limits = LoginLimits { max_failures: 3, window_ms: 60_000, lock_ms: 1_500 }).await;
    for _ in 0..2 {
        let (status, body) = try_login(&c, "s05", "guess").await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_credentials")));
    }
    // A success before the limit clears the count.
    assert_eq!(try_login(&c, "s05", jx_centre::town::DEMO_PASSWORD).await.0, StatusCode::OK);
    for _ in 0..3 {
        assert_eq!(try_login(&c, "s05", "guess").await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = try_login(&c, "s05", jx_centre::town::DEMO_PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("locked_out")), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("min")), "{body}");
    assert_eq!(try_login(&c, "s06", jx_centre::town::DEMO_PASSWORD).await.0, StatusCode::OK, "others are not locked");
    // Names that do not exist are counted the same way (probing learns nothing) and lock too.
    for _ in 0..3 {
        assert_eq!(try_login(&c, "nobody", "x").await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(try_login(&c, "nobody", "x").await.0, StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(Duration::from_millis(1_700)).await;
    assert_eq!(try_login(&c, "s05", jx_centre::town::DEMO_PASSWORD).await.0, StatusCode::OK, "the lock ends");
}

#[tokio::test]
async fn every_coordinator_action_and_device_event_is_in_the_audit_log() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let (_, me) = try_login(&c, "c1", jx_centre::town::DEMO_PASSWORD).await;
    let coord_id = me["staff"].as_u64().expect("id");
    let task = c.tasks(&coord, "?status=created").await[0].id;
    assert_eq!(c.decide(&coord, task, Decision::Assign { staff: StaffId(7) }).await.0, StatusCode::OK);
    assert_eq!(c.decide(&coord, task, Decision::Reassign { staff: StaffId(8) }).await.0, StatusCode::OK);
    let (status, _) = c.decide(&coord, task, Decision::Cancel { reason: "withdrawn".into() }).await;
    assert_eq!(status, StatusCode::OK);
    let phone = c.phone(8).await;
    let (status, _) = c.call(Method::POST, &format!("/devices/{}/revoke", phone.device), Some(&coord), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (status, by_task) = c.call(Method::GET, &format!("/audit?task={task}"), Some(&coord), None).await;
    assert_eq!(status, StatusCode::OK, "{by_task}");
    let actions: Vec<&str> =
        by_task.as_array().expect("list").iter().map(|e| e["action"].as_str().expect("action")).collect();
    assert_eq!(actions, ["cancelled", "reassigned", "assigned"], "newest first");
    assert!(by_task.as_array().expect("list").iter().all(|e| e["actor"].as_u64() == Some(coord_id)));

    let (_, by_person) = c.call(Method::GET, "/audit?staff=8", Some(&coord), None).await;
    let actions: Vec<&str> =
        by_person.as_array().expect("list").iter().map(|e| e["action"].as_str().expect("action")).collect();
    assert_eq!(actions, ["revoke", "enrol", "reassigned"], "what was done by and to staff member 8");
    let device = phone.device.to_string();
    assert!(by_person[0]["device"].as_str() == Some(device.as_str()));

    // The log is for coordinators only.
    let (status, _) = c.call(Method::GET, "/audit", Some(&phone.token), None).await;
    assert!(status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN, "{status}");
}

#[tokio::test]
async fn a_session_is_refreshed_into_a_new_token_and_the_old_one_stops_working() {
    let c = centre().await;
    let (_, first) = try_login(&c, "c2", jx_centre::town::DEMO_PASSWORD).await;
    let old = first["token"].as_str().expect("token").to_string();
    let (status, fresh) = c.call(Method::POST, "/auth/refresh", Some(&old), None).await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    let new = fresh["token"].as_str().expect("token").to_string();
    assert_ne!(new, old);
    assert!(fresh["expires_at"].as_i64() >= first["expires_at"].as_i64());
    assert_eq!(c.call(Method::GET, "/tasks", Some(&new), None).await.0, StatusCode::OK);
    assert_eq!(c.call(Method::GET, "/tasks", Some(&old), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(c.call(Method::POST, "/auth/refresh", Some(&old), None).await.0, StatusCode::UNAUTHORIZED);
    let phone = c.phone(9).await;
    let (status, _) = c.call(Method::POST, "/auth/refresh", Some(&phone.token), None).await;
    assert!(status.is_client_error(), "a device token is not a session: {status}");
    assert_eq!(c.call(Method::GET, "/sync/pull?since=0", Some(&phone.token), None).await.0, StatusCode::OK);
}

#[cfg(unix)]
#[tokio::test]
async fn a_data_directory_open_to_others_is_closed_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("centre");
    std::fs::create_dir_all(&data).expect("dir");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut s = jx_centre::Settings::new(&data);
    s.listen = "127.0.0.1:0".parse().expect("addr");
    let running = jx_centre::start(s, false).await.expect("centre starts");
    let mode = std::fs::metadata(&data).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the data directory is owner-only after start");
    running.abort();
}
