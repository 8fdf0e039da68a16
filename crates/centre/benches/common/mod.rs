//! What the centre's benches share: logging in, a fresh PostgreSQL database, assigning a member's tasks.

use jx_centre::town;
use jx_core::wire::Decision;
use jx_core::{StaffId, TaskId};
use reqwest::Client;
use serde_json::json;

pub async fn login(http: &Client, url: &str, login: &str) -> String {
    let res: serde_json::Value = http
        .post(format!("{url}/auth/login"))
        .json(&json!({"login": login, "password": town::DEMO_PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    res["token"].as_str().expect("token").to_string()
}

/// A new, empty database on the cluster of `admin` (an admin URL); its URL.
pub async fn fresh_database(admin: &str) -> String {
    let admin = admin.to_string();
    tokio::task::spawn_blocking(move || {
        let name = format!("jx_bench_{}", uuid::Uuid::now_v7().simple());
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("cluster answers");
        c.batch_execute(&format!("CREATE DATABASE {name}")).expect("created");
        format!("{}/{name}", admin.rsplit_once('/').expect("url").0)
    })
    .await
    .expect("joined")
}

/// Assigns team member `staff` the `tasks`, as coordinator `coord`.
pub async fn assign(http: &Client, url: &str, coord: &str, staff: StaffId, tasks: &[TaskId]) {
    for t in tasks {
        http.post(format!("{url}/tasks/{t}/decisions"))
            .bearer_auth(coord)
            .json(&Decision::Assign { staff })
            .send()
            .await
            .expect("assign");
    }
}
