//! The centre's database: SQLite (an embedded file, the default) or PostgreSQL (for city scale), opened,
//! migrated, and used one transaction at a time off the async threads.
//!
//! Every query goes through [`crate::sql::Tx`], so the same code runs on both; the migrations differ only in
//! column types. One connection behind a mutex: SQLite takes one writer at a time anyway, and on PostgreSQL this
//! keeps the change feed's ids in commit order (replicas each hold their own connection; see the README).

use crate::error::{ApiError, ApiResult};
use crate::sql::{Backend, PgTx, SqliteTx, Tx};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The schema, written once in SQLite's terms. PostgreSQL gets the same tables with its own names for the types
/// (see [`postgres_ddl`]), so the two can never drift apart.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_proof.sql"),
    include_str!("../migrations/0003_hardening.sql"),
    include_str!("../migrations/0004_board.sql"),
    include_str!("../migrations/0005_doorcards.sql"),
    include_str!("../migrations/0006_households.sql"),
];

/// A migration in PostgreSQL's types: 64-bit integers, `BYTEA`, `BIGSERIAL` for the change feed's ids.
fn postgres_ddl(sqlite: &str) -> String {
    sqlite
        .replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
        .replace("INTEGER", "BIGINT")
        .replace("BLOB", "BYTEA")
}

/// `PRAGMA application_id` of a centre database: "JXCE".
const APPLICATION_ID: i64 = 0x4A58_4345;

enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(PgClient),
}

/// The synchronous PostgreSQL client runs a small runtime of its own and blocks on it, even when dropped; dropped
/// on an async worker thread that would panic. This wrapper closes it on a plain thread instead.
struct PgClient(Option<Box<postgres::Client>>, HashMap<String, postgres::Statement>);

impl Drop for PgClient {
    fn drop(&mut self) {
        let statements = std::mem::take(&mut self.1);
        if let Some(client) = self.0.take() {
            std::thread::spawn(move || drop((statements, client)));
        }
    }
}

#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Conn>>,
    backend: Backend,
}

impl Db {
    /// Opens `database`: a `postgres://` URL, or else the path of a SQLite file.
    pub async fn open(database: String) -> anyhow::Result<Db> {
        tokio::task::spawn_blocking(move || {
            if database.starts_with("postgres://") || database.starts_with("postgresql://") {
                Self::open_postgres(&database)
            } else {
                Self::open_sqlite(Path::new(&database))
            }
        })
        .await?
    }

    fn open_sqlite(path: &Path) -> anyhow::Result<Db> {
        let mut conn = rusqlite::Connection::open(path)?;
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
            anyhow::bail!("{} was written by a newer centre (schema {version})", path.display());
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {};", i + 1))?;
            tx.commit()?;
        }
        Ok(Db { conn: Arc::new(Mutex::new(Conn::Sqlite(conn))), backend: Backend::Sqlite })
    }

    fn open_postgres(url: &str) -> anyhow::Result<Db> {
        let mut client = postgres::Client::connect(url, postgres::NoTls)?;
        client.batch_execute("CREATE TABLE IF NOT EXISTS jx_schema (version BIGINT NOT NULL)")?;
        let version: i64 = client.query_opt("SELECT version FROM jx_schema", &[])?.map(|r| r.get(0)).unwrap_or(0);
        if version > MIGRATIONS.len() as i64 {
            anyhow::bail!("the database was written by a newer centre (schema {version})");
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let mut tx = client.transaction()?;
            tx.batch_execute(&postgres_ddl(sql))?;
            tx.execute("DELETE FROM jx_schema", &[])?;
            tx.execute("INSERT INTO jx_schema (version) VALUES ($1)", &[&(i as i64 + 1)])?;
            tx.commit()?;
        }
        Ok(Db {
            conn: Arc::new(Mutex::new(Conn::Postgres(PgClient(Some(Box::new(client)), HashMap::new())))),
            backend: Backend::Postgres,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `f` in one transaction on the blocking pool: committed if it returns `Ok`, rolled back otherwise.
    pub async fn call<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx) -> ApiResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| ApiError::internal("database lock poisoned"))?;
            match &mut *guard {
                Conn::Sqlite(c) => {
                    let tx = c.transaction()?;
                    let out = f(&mut SqliteTx(&tx))?;
                    tx.commit()?;
                    Ok(out)
                }
                Conn::Postgres(PgClient(Some(c), statements)) => {
                    let mut tx = c.transaction().map_err(ApiError::internal)?;
                    let out = f(&mut PgTx { tx: &mut tx, statements })?;
                    tx.commit().map_err(ApiError::internal)?;
                    Ok(out)
                }
                Conn::Postgres(PgClient(None, _)) => Err(ApiError::internal("the PostgreSQL connection is closed")),
            }
        })
        .await
        .map_err(ApiError::internal)?
    }
}

/// Milliseconds since the epoch, now.
pub fn now() -> jx_core::Timestamp {
    let ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    jx_core::Timestamp(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_postgres_schema_is_the_sqlite_one_in_postgres_types() {
        let ddl = postgres_ddl(MIGRATIONS[0]);
        assert!(ddl.contains("change_id BIGSERIAL PRIMARY KEY"));
        assert!(ddl.contains("encoded     BYTEA NOT NULL"));
        assert!(!ddl.contains("INTEGER") && !ddl.contains("BLOB") && !ddl.contains("AUTOINCREMENT"));
    }
}
