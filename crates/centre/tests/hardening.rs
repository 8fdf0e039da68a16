//! Hardening at the centre, over a real loopback socket: failed logins slow that login from that address (never
//! lock anyone out), an unknown login is refused as slowly as a wrong password, and every
//! coordinator action and device event is in the audit log, findable by task and by person.

mod common;

use common::*;
use jx_centre::auth::LoginLimits;
use jx_centre::throttle::Backoff;
use jx_core::StaffId;
use jx_core::wire::Decision;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

async fn try_login(c: &Centre, login: &str, password: &str) -> (StatusCode, Value) {
    c.call(Method::POST, "/auth/login", None, Some(json!({"login": login, "password": password}))).await
}

/// A login attempt from loopback address `from` (each is another client to the centre).
async fn login_from(c: &Centre, from: &str, login: &str, password: &str) -> (StatusCode, Value) {
    answer(client_from(from).post(format!("{}/auth/login", c.url)).json(&json!({"login": login, "password": password})))
        .await
}

#[tokio::test]
async fn failed_logins_slow_that_login_from_that_address_and_never_lock_anyone_out() {
    let backoff = |free| Backoff { free, base_ms: 600, max_ms: 2_000, forget_ms: 60_000 };
    let c = centre_with(|s| s.login_limits = LoginLimits { per_login: backoff(3), per_address: backoff(10) }).await;
    let right = jx_centre::town::DEMO_PASSWORD;
    for _ in 0..3 {
        let (status, body) = login_from(&c, "127.0.0.1", "c2", "guess").await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_credentials")));
    }
    // From that address the next try must wait, even with the right password...
    let (status, body) = login_from(&c, "127.0.0.1", "c2", right).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")), "{body}");
    // ...but the coordinator at their own desk is not locked out by a stranger's guesses.
    assert_eq!(login_from(&c, "127.0.0.2", "c2", right).await.0, StatusCode::OK);
    // And after the wait, the right password works from the first address too.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(login_from(&c, "127.0.0.1", "c2", right).await.0, StatusCode::OK);
    // Names that do not exist are slowed the same way (probing learns nothing).
    for _ in 0..3 {
        assert_eq!(login_from(&c, "127.0.0.4", "nobody", "x").await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login_from(&c, "127.0.0.4", "nobody", "x").await.0, StatusCode::TOO_MANY_REQUESTS);
    // One address guessing across many logins is slowed as an address: 10 failures over 10 logins, then it waits.
    for n in 10..20 {
        assert_eq!(login_from(&c, "127.0.0.3", &format!("s{n:02}"), "guess").await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = login_from(&c, "127.0.0.3", "s21", right).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")), "{body}");
}

#[tokio::test]
async fn an_unknown_login_takes_as_long_to_refuse_as_a_wrong_password() {
    let c = centre().await;
    // Medians of a few tries each, from addresses of their own (so no try is slowed by another's failures).
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..4 {
        let started = std::time::Instant::now();
        assert_eq!(login_from(&c, &format!("127.0.1.{i}"), "s07", "wrong").await.0, StatusCode::UNAUTHORIZED);
        known.push(started.elapsed());
        let started = std::time::Instant::now();
        assert_eq!(login_from(&c, &format!("127.0.2.{i}"), "no-such-login", "wrong").await.0, StatusCode::UNAUTHORIZED);
        unknown.push(started.elapsed());
    }
    known.sort();
    unknown.sort();
    let (k, u) = (known[2], unknown[2]);
    // The password hash dominates both (tens of ms); a refusal without it (what an unknown login got before) is
    // over ten times faster. Bounds wide enough for a noisy machine, narrow enough to catch that.
    assert!(u * 3 > k && k * 3 > u, "unknown login {u:?}, wrong password {k:?}");
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

#[tokio::test]
async fn sessions_end_on_sign_out_at_their_maximum_age_and_when_a_coordinator_ends_them() {
    let c = centre_with(|s| {
        s.session_ttl_ms = 60_000;
        s.session_max_age_ms = 1_500;
    })
    .await;
    // Sign-out ends the token at the centre.
    let token = c.login("s08").await;
    let (status, _) = c.call(Method::POST, "/auth/logout", Some(&token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = c.call(Method::GET, "/keyring", Some(&token), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unknown_token")));
    // A refresh never carries a session past its maximum age: the new token expires with the session, and a
    // refresh after that is refused.
    let token = c.login("s08").await;
    let (status, body) = c.call(Method::POST, "/auth/refresh", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let refreshed = body["token"].as_str().expect("token").to_string();
    let expires = body["expires_at"].as_i64().expect("expiry");
    assert!(expires <= jx_centre::db::now().millis() + 1_500, "the refresh stayed within the session's age");
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    let (status, body) = c.call(Method::POST, "/auth/refresh", Some(&refreshed), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // A coordinator ends a member's sessions, and disables a login: it cannot log in, its phone stops working, and it
    // cannot enrol another phone, until enabled again.
    let c = centre().await;
    let coord = c.coordinator().await;
    let phone = c.phone(9).await;
    let session = c.login("s09").await;
    let (status, body) = c.call(Method::POST, "/staff/9/sessions/end", Some(&coord), None).await;
    assert_eq!((status, body["ended"].as_u64()), (StatusCode::OK, Some(2)), "{body}");
    assert_eq!(c.call(Method::GET, "/keyring", Some(&session), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(c.call(Method::GET, "/keyring", Some(&phone.token), None).await.0, StatusCode::OK, "the phone goes on");
    let (status, _) = c.call(Method::POST, "/staff/9/disable", Some(&coord), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = try_login(&c, "s09", jx_centre::town::DEMO_PASSWORD).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("login_disabled")), "{body}");
    let (status, body) = c.call(Method::GET, "/keyring", Some(&phone.token), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("login_disabled")), "{body}");
    let me = c.call(Method::GET, "/staff", Some(&coord), None).await.1;
    let c1 = me.as_array().and_then(|a| a.iter().find(|s| s["login"] == "c1")).map(|s| s["id"].clone()).expect("c1");
    let (status, body) = c.call(Method::POST, &format!("/staff/{c1}/disable"), Some(&coord), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("not_yourself")));
    let (status, _) = c.call(Method::POST, "/staff/9/enable", Some(&coord), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(try_login(&c, "s09", jx_centre::town::DEMO_PASSWORD).await.0, StatusCode::OK);
    assert_eq!(c.call(Method::GET, "/keyring", Some(&phone.token), None).await.0, StatusCode::OK);
}
