//! The pull feed stays right when transactions commit out of order. With a serial id, transaction A takes id 1,
//! transaction B takes id 2 and commits first, a phone pulls up to 2, and never sees 1. The feed's per-staff version
//! is bumped under a row lock held until commit, so B cannot commit a larger version while A holds a smaller one.
//! Meaningful on PostgreSQL (`JX_TEST_POSTGRES`, which the test command sets); on SQLite the one writer serialises
//! everything and the test passes trivially.

mod common;

use jx_centre::db::Db;
use jx_centre::log;
use jx_core::StaffId;
use std::collections::BTreeSet;
use std::time::Duration;

const STAFF: StaffId = StaffId(7);

async fn page(db: &Db, since: i64) -> Vec<(i64, String)> {
    db.call(move |tx| log::feed_page(tx, STAFF, since, 100)).await.expect("feed read")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_committed_later_with_a_smaller_number_is_never_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = match std::env::var("JX_TEST_POSTGRES") {
        Ok(admin) => common::fresh_postgres_database(admin).await,
        Err(_) => dir.path().join("centre.sqlite").to_string_lossy().into_owned(),
    };
    let db = Db::open(url).await.expect("opens");
    // A: tells the phone of task-a, then stays open for a while before committing.
    let a = {
        let db = db.clone();
        tokio::spawn(async move {
            db.call(|tx| {
                log::tell(tx, STAFF, "task-a")?;
                std::thread::sleep(Duration::from_millis(600));
                Ok(())
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    // B: starts after A and would commit first if nothing ordered them.
    let b = {
        let db = db.clone();
        tokio::spawn(async move { db.call(|tx| log::tell(tx, STAFF, "task-b").map(|_| ())).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The phone pulls while A is still open.
    let first = if db.backend() == jx_centre::sql::Backend::Postgres { page(&db, 0).await } else { Vec::new() };
    let cursor = first.last().map(|(v, _)| *v).unwrap_or(0);
    a.await.expect("joined").expect("A commits");
    b.await.expect("joined").expect("B commits");
    let rest = page(&db, cursor).await;
    let seen: BTreeSet<String> = first.iter().chain(&rest).map(|(_, t)| t.clone()).collect();
    assert_eq!(
        seen,
        BTreeSet::from(["task-a".to_string(), "task-b".to_string()]),
        "pulled {first:?} while A was open, then {rest:?} from cursor {cursor}"
    );
    let versions: Vec<i64> = first.iter().chain(&rest).map(|(v, _)| *v).collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "versions in order: {versions:?}");
}
