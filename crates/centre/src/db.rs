//! The centre's SQLite database: opening, migrating, and running work on it off the async threads.
//!
//! One connection behind a mutex, used from the blocking pool: SQLite takes one writer at a time anyway, and WAL
//! lets the operating system cache serve reads fast. (PostgreSQL, for city scale, is the next back end.)

use crate::error::{ApiError, ApiResult};
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};

const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_init.sql")];

/// `PRAGMA application_id` of a centre database: "JXCE".
const APPLICATION_ID: i64 = 0x4A58_4345;

#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    pub fn open(path: &Path) -> anyhow::Result<Db> {
        let mut conn = Connection::open(path)?;
        let app: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if app != APPLICATION_ID && (app != 0 || tables > 0) {
            anyhow::bail!("{} is not a Jing Xiaoer centre database", path.display());
        }
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
        )?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > MIGRATIONS.len() as i64 {
            anyhow::bail!(
                "{} was written by a newer centre (schema {version})",
                path.display()
            );
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {};",
                i + 1
            ))?;
            tx.commit()?;
        }
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    pub async fn call<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> ApiResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| ApiError::internal("database lock poisoned"))?;
            f(&mut guard)
        })
        .await
        .map_err(ApiError::internal)?
    }
}

/// Milliseconds since the epoch, now.
pub fn now() -> jx_core::Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    jx_core::Timestamp(ms)
}
