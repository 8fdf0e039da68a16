//! The two back ends' schemas are one schema: after every migration step (not only the last), SQLite's and
//! PostgreSQL's hold the same tables, the same columns with the same kinds and nullability, and the same indexes.
//! PostgreSQL is the cluster named by `JX_TEST_POSTGRES` (the test command starts one); without it only SQLite's
//! steps are walked.

mod common;

use jx_centre::db::{ColumnShape, Db, SCHEMA_VERSION};
use jx_centre::sql::Backend;
use std::collections::BTreeSet;

/// The indexes a migration created by name (not the ones a back end makes for a primary key or UNIQUE itself), as
/// (table, index, unique).
async fn indexes(db: &Db) -> BTreeSet<(String, String, bool)> {
    let backend = db.backend();
    db.call(move |tx| {
        let sql = match backend {
            Backend::Sqlite => {
                "SELECT m.tbl_name AS tbl, m.name AS idx, i.\"unique\" AS uniq FROM sqlite_master m
                 JOIN pragma_index_list(m.tbl_name) i ON i.name = m.name
                 WHERE m.type = 'index' AND m.sql IS NOT NULL"
            }
            Backend::Postgres => {
                "SELECT t.relname::text AS tbl, c.relname::text AS idx, CAST(CASE WHEN i.indisunique THEN 1 ELSE 0 END AS BIGINT) AS uniq
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = current_schema() AND NOT i.indisprimary
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
            }
        };
        let mut out = BTreeSet::new();
        for r in tx.query(sql, &[])? {
            out.insert((r.text("tbl")?, r.text("idx")?, r.int("uniq")? != 0));
        }
        Ok(out)
    })
    .await
    .expect("indexes listed")
}

async fn shape(db: &Db) -> (Vec<ColumnShape>, BTreeSet<(String, String, bool)>) {
    (db.describe().await.expect("columns described"), indexes(db).await)
}

#[tokio::test]
async fn after_every_migration_both_back_ends_hold_the_same_tables_columns_and_indexes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = dir.path().join("centre.sqlite").to_string_lossy().into_owned();
    let postgres = match std::env::var("JX_TEST_POSTGRES") {
        Ok(admin) => Some(common::fresh_postgres_database(admin).await),
        Err(_) => None,
    };
    let mut previous_tables = 0;
    for version in 1..=SCHEMA_VERSION {
        let lite = Db::open_at(sqlite.clone(), version).await.expect("SQLite migrates");
        let (columns, idx) = shape(&lite).await;
        let tables: BTreeSet<&str> = columns.iter().map(|c| c.table.as_str()).collect();
        assert!(!tables.is_empty() && tables.len() >= previous_tables, "step {version}: tables {tables:?}");
        previous_tables = tables.len();
        for c in &columns {
            assert!(["integer", "real", "text", "bytes"].contains(&c.kind.as_str()), "step {version}: {c:?}");
        }
        if let Some(url) = &postgres {
            let pg = Db::open_at(url.clone(), version).await.expect("PostgreSQL migrates");
            let (pg_columns, pg_idx) = shape(&pg).await;
            let only = |a: &[ColumnShape], b: &[ColumnShape]| -> Vec<ColumnShape> {
                a.iter().filter(|c| !b.contains(c)).cloned().collect()
            };
            assert_eq!(
                (only(&columns, &pg_columns), only(&pg_columns, &columns)),
                (vec![], vec![]),
                "step {version}: columns only in SQLite, only in PostgreSQL"
            );
            assert_eq!(idx, pg_idx, "step {version}: indexes (SQLite left, PostgreSQL right)");
        }
    }
    // The last step is this build's schema: opening it again migrates nothing and changes nothing.
    let before = shape(&Db::open_at(sqlite.clone(), SCHEMA_VERSION).await.expect("opens")).await;
    let again = Db::open(sqlite).await.expect("reopens");
    assert_eq!(shape(&again).await, before);
}
