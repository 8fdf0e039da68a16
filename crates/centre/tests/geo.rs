//! Geo at the centre over a real loopback socket: the evening's assignment proposal and applying it, a staff
//! member's walking route, and the `jx-centre route` command against a published TSPLIB optimum.

mod common;

use common::*;
use jx_core::assign::{Proposal, Reason};
use jx_core::{StaffId, TaskId};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::BTreeMap;

#[tokio::test]
async fn the_evening_is_proposed_by_neighbourhood_applied_once_and_walked_in_order() {
    let c = centre().await;
    let coord = c.coordinator().await;
    let town = jx_core::demo::demo_town();
    let (status, body) = c.call(Method::POST, "/assign/proposal", Some(&coord), Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let p: Proposal = serde_json::from_value(body).expect("proposal");
    let open = c.tasks(&coord, "?status=created").await.len() + c.tasks(&coord, "?status=requested").await.len();
    assert_eq!(p.assignments.len() + p.unplaced.len(), open, "every open task is placed or explained");
    let homes: BTreeMap<StaffId, _> =
        town.staff.iter().filter_map(|s| s.home.as_ref().map(|h| (s.id, h.compound))).collect();
    let capacity: BTreeMap<StaffId, u16> = town.staff.iter().map(|s| (s.id, s.capacity)).collect();
    for a in &p.assignments {
        let task = town.tasks.iter().find(|t| t.id == a.task).expect("a demo task");
        match a.reason {
            Reason::LivesInCompound => assert_eq!(homes[&a.staff], task.address.compound),
            Reason::NearestWithCapacity { distance_m, .. } => assert!(distance_m > 0.0),
            Reason::Pinned => panic!("nothing was assigned before"),
        }
    }
    for (s, load) in &p.loads {
        assert!(*load <= capacity[s], "{s} over capacity");
    }

    // One staff member is off tonight: none of their tasks are proposed to them.
    let (_, body) = c.call(Method::POST, "/assign/proposal", Some(&coord), Some(json!({"unavailable": [2]}))).await;
    let without: Proposal = serde_json::from_value(body).expect("proposal");
    assert!(without.assignments.iter().all(|a| a.staff != StaffId(2)));

    let items: Vec<_> = p.assignments.iter().map(|a| json!({"task": a.task, "staff": a.staff})).collect();
    let (status, applied) =
        c.call(Method::POST, "/assign/apply", Some(&coord), Some(json!({"assignments": items.clone()}))).await;
    assert_eq!(status, StatusCode::OK, "{applied}");
    assert_eq!(applied["assigned"], p.assignments.len());
    let (_, again) = c.call(Method::POST, "/assign/apply", Some(&coord), Some(json!({"assignments": items}))).await;
    assert_eq!(
        (again["assigned"].as_u64(), again["skipped"].as_array().map(Vec::len)),
        (Some(0), Some(p.assignments.len()))
    );

    // Staff member 4's route: every one of their tasks once, green-channel stops first, in a sensible walk.
    let mine: Vec<TaskId> = p.assignments.iter().filter(|a| a.staff == StaffId(4)).map(|a| a.task).collect();
    assert!(!mine.is_empty());
    let (status, route) = c.call(Method::GET, "/staff/4/route", Some(&coord), None).await;
    assert_eq!(status, StatusCode::OK, "{route}");
    let stops = route["stops"].as_array().expect("stops");
    let mut routed: Vec<String> = stops
        .iter()
        .flat_map(|s| s["tasks"].as_array().expect("tasks").iter().map(|t| t.as_str().expect("id").to_string()))
        .collect();
    routed.sort();
    let mut expected: Vec<String> = mine.iter().map(|t| t.to_string()).collect();
    expected.sort();
    assert_eq!(routed, expected);
    let greens: Vec<bool> = stops.iter().map(|s| s["green"].as_bool().expect("green")).collect();
    assert!(greens.windows(2).all(|w| w[0] || !w[1]), "green-channel stops come first: {greens:?}");
    assert!(route["walk_m"].as_f64().expect("walk") > 0.0);

    // A phone sees its own route, not another's.
    let phone = c.phone(4).await;
    let (status, _) = c.call(Method::GET, "/staff/4/route", Some(&phone.token), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = c.call(Method::GET, "/staff/5/route", Some(&phone.token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = c.call(Method::GET, "/staff/x/route", Some(&coord), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_staff_id")));
}

#[test]
fn the_route_command_reaches_the_published_optimum_of_berlin52() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/data/tsplib/berlin52.tsp");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_jx-centre"))
        .args(["route", "--kicks", "3000", "--ms", "600000", "--tour", file, "/nonexistent.tsp"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].contains("berlin52") && lines[0].contains("length 7542") && lines[0].contains("gap 0.00%"),
        "{}",
        lines[0]
    );
    let mut nodes: Vec<usize> = lines[1].split(' ').map(|n| n.parse().expect("node")).collect();
    nodes.sort();
    assert_eq!(nodes, (1..=52).collect::<Vec<_>>());
    assert!(lines[2].contains("error"), "{}", lines[2]);
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test]
async fn a_demo_seeded_assigned_gives_team_members_a_route_at_once() {
    let c = centre_with(|s| s.demo_assigned = true).await;
    let coord = c.coordinator().await;
    let assigned = c.tasks(&coord, "?status=assigned").await;
    let left = c.tasks(&coord, "?status=created").await.len() + c.tasks(&coord, "?status=requested").await.len();
    let town = jx_core::demo::demo_town();
    assert_eq!(assigned.len() + left, town.tasks.len(), "every task is assigned or still open, none lost");
    assert!(assigned.len() > town.tasks.len() / 2, "most of the evening is assigned: {}", assigned.len());
    let (status, route) = c.call(Method::GET, "/staff/1/route", Some(&coord), None).await;
    assert_eq!(status, StatusCode::OK, "{route}");
    assert!(!route["stops"].as_array().expect("stops").is_empty(), "s01 has somewhere to go");
}
