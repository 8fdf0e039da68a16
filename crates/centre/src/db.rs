//! The centre's database: SQLite (an embedded file, the default) or PostgreSQL (for city scale), opened,
//! migrated, and used one transaction at a time off the async threads.
//!
//! Every query goes through [`crate::sql::Tx`], so the same code runs on both. Each back end has its own
//! migrations, written in its own types (`migrations/sqlite`, `migrations/postgres`, the same number of each);
//! `tests/schema.rs` checks after every migration that the two describe the same tables.
//!
//! SQLite: one connection behind a mutex (it takes one writer at a time anyway). PostgreSQL: a pool of
//! connections and no lock of the centre's own, so many transactions run at once, in this process and in other
//! replicas; what must be ordered is ordered by PostgreSQL's row locks (see `log.rs` for the change feed). A
//! transaction PostgreSQL aborts to break a deadlock is [`DbError::Retry`], which the HTTP layer answers with 503
//! and `Retry-After`, and which every phone sends again.
//!
//! Owns: connections, migrations, transactions. Never imports the HTTP layer's routes.

use crate::error::ApiResult;
use crate::sql::{Backend, DbError, DbResult, PgTx, SqliteTx, Tx, pg_error};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SQLITE_MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/sqlite/0002_proof.sql"),
    include_str!("../migrations/sqlite/0003_hardening.sql"),
    include_str!("../migrations/sqlite/0004_board.sql"),
    include_str!("../migrations/sqlite/0005_doorcards.sql"),
    include_str!("../migrations/sqlite/0006_households.sql"),
    include_str!("../migrations/sqlite/0007_feed.sql"),
    include_str!("../migrations/sqlite/0008_bounds.sql"),
    include_str!("../migrations/sqlite/0009_uploads.sql"),
    include_str!("../migrations/sqlite/0010_throttles.sql"),
    include_str!("../migrations/sqlite/0011_sessions.sql"),
];

const POSTGRES_MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_init.sql"),
    include_str!("../migrations/postgres/0002_proof.sql"),
    include_str!("../migrations/postgres/0003_hardening.sql"),
    include_str!("../migrations/postgres/0004_board.sql"),
    include_str!("../migrations/postgres/0005_doorcards.sql"),
    include_str!("../migrations/postgres/0006_households.sql"),
    include_str!("../migrations/postgres/0007_feed.sql"),
    include_str!("../migrations/postgres/0008_bounds.sql"),
    include_str!("../migrations/postgres/0009_uploads.sql"),
    include_str!("../migrations/postgres/0010_throttles.sql"),
    include_str!("../migrations/postgres/0011_sessions.sql"),
];

/// How many migrations this build knows (the same on both back ends; checked at compile time).
pub const SCHEMA_VERSION: usize = SQLITE_MIGRATIONS.len();
const _: () = assert!(SQLITE_MIGRATIONS.len() == POSTGRES_MIGRATIONS.len());

/// `PRAGMA application_id` of a centre database: "JXCE". On PostgreSQL, the key of the advisory lock that
/// serialises migrations and start-up work between replicas.
const APPLICATION_ID: i64 = 0x4A58_4345;

/// Connections each process keeps to PostgreSQL at most (`JX_DB_POOL` overrides).
const DEFAULT_POOL: usize = 16;

/// How long a request waits for a free pooled connection before it is answered "busy".
const POOL_WAIT: Duration = Duration::from_secs(10);

#[derive(Clone)]
enum Inner {
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    Postgres(deadpool_postgres::Pool),
}

#[derive(Clone)]
pub struct Db {
    inner: Inner,
}

/// A column as both back ends describe it, in common words: for the schema test.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ColumnShape {
    pub table: String,
    pub column: String,
    /// `integer`, `real`, `text` or `bytes`.
    pub kind: String,
    pub not_null: bool,
}

impl Db {
    /// Opens `database` (a `postgres://` URL, or else the path of a SQLite file) and migrates it to this build's
    /// schema.
    pub async fn open(database: String) -> anyhow::Result<Db> {
        Self::open_at(database, SCHEMA_VERSION).await
    }

    /// Opens `database` and migrates it up to `version` at most (the schema test walks the versions one by one).
    pub async fn open_at(database: String, version: usize) -> anyhow::Result<Db> {
        if database.starts_with("postgres://") || database.starts_with("postgresql://") {
            Self::open_postgres(&database, version).await
        } else {
            tokio::task::spawn_blocking(move || Self::open_sqlite(Path::new(&database), version)).await?
        }
    }

    fn open_sqlite(path: &Path, upto: usize) -> anyhow::Result<Db> {
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
        if version > SCHEMA_VERSION as i64 {
            anyhow::bail!("{} was written by a newer centre (schema {version})", path.display());
        }
        for (i, sql) in SQLITE_MIGRATIONS.iter().enumerate().take(upto).skip(version as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {};", i + 1))?;
            tx.commit()?;
        }
        Ok(Db { inner: Inner::Sqlite(Arc::new(Mutex::new(conn))) })
    }

    async fn open_postgres(url: &str, upto: usize) -> anyhow::Result<Db> {
        let size = std::env::var("JX_DB_POOL").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_POOL).max(1);
        let mut config = deadpool_postgres::Config::new();
        config.url = Some(url.to_string());
        config.manager =
            Some(deadpool_postgres::ManagerConfig { recycling_method: deadpool_postgres::RecyclingMethod::Fast });
        let mut pool_config = deadpool_postgres::PoolConfig::new(size);
        pool_config.timeouts.wait = Some(POOL_WAIT);
        pool_config.timeouts.create = Some(POOL_WAIT);
        config.pool = Some(pool_config);
        let pool = config.create_pool(Some(deadpool_postgres::Runtime::Tokio1), tokio_postgres::NoTls)?;
        let mut client = pool.get().await.map_err(|e| anyhow::anyhow!("connecting to PostgreSQL: {e}"))?;
        // Replicas may start together: the advisory lock lets one migrate while the others wait, then find the
        // schema current. DDL is transactional here, so a migration half done is never seen.
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&APPLICATION_ID]).await?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS jx_schema (version BIGINT NOT NULL)").await?;
        let version: i64 = tx.query_opt("SELECT version FROM jx_schema", &[]).await?.map(|r| r.get(0)).unwrap_or(0);
        if version > SCHEMA_VERSION as i64 {
            anyhow::bail!("the database was written by a newer centre (schema {version})");
        }
        for (i, sql) in POSTGRES_MIGRATIONS.iter().enumerate().take(upto).skip(version as usize) {
            tx.batch_execute(sql).await.map_err(|e| anyhow::anyhow!("migration {}: {e}", i + 1))?;
            tx.execute("DELETE FROM jx_schema", &[]).await?;
            tx.execute("INSERT INTO jx_schema (version) VALUES ($1)", &[&(i as i64 + 1)]).await?;
        }
        tx.commit().await?;
        drop(client);
        Ok(Db { inner: Inner::Postgres(pool) })
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            Inner::Sqlite(_) => Backend::Sqlite,
            Inner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs `f` in one transaction on the blocking pool: committed if it returns `Ok`, rolled back otherwise.
    pub async fn call<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx) -> ApiResult<T> + Send + 'static,
    {
        self.run(false, f).await
    }

    /// As [`call`](Self::call), but one at a time across every replica on the same PostgreSQL database (start-up
    /// work: seeding the demo town, making the first signing key). On SQLite every call is one at a time already.
    pub async fn call_exclusive<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx) -> ApiResult<T> + Send + 'static,
    {
        self.run(true, f).await
    }

    async fn run<T, F>(&self, exclusive: bool, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx) -> ApiResult<T> + Send + 'static,
    {
        let joined = match &self.inner {
            Inner::Sqlite(conn) => {
                let conn = Arc::clone(conn);
                tokio::task::spawn_blocking(move || {
                    let mut guard = conn.lock().map_err(|_| DbError::Shape("database lock poisoned".into()))?;
                    let tx = guard.transaction().map_err(DbError::from)?;
                    let out = f(&mut SqliteTx(&tx))?;
                    tx.commit().map_err(DbError::from)?;
                    Ok(out)
                })
                .await
            }
            Inner::Postgres(pool) => {
                let mut client = pool.get().await.map_err(|e| DbError::Pool(e.to_string()))?;
                let rt = tokio::runtime::Handle::current();
                tokio::task::spawn_blocking(move || {
                    let tx = rt.block_on(client.transaction()).map_err(pg_error)?;
                    if exclusive {
                        rt.block_on(tx.execute("SELECT pg_advisory_xact_lock($1)", &[&APPLICATION_ID]))
                            .map_err(pg_error)?;
                    }
                    let out = f(&mut PgTx { tx: &tx, rt: rt.clone() })?;
                    rt.block_on(tx.commit()).map_err(pg_error)?;
                    Ok(out)
                })
                .await
            }
        };
        joined.map_err(crate::error::ApiError::internal)?
    }

    /// Every column of every table of the centre's, in common words, sorted: for the schema test.
    pub async fn describe(&self) -> DbResult<Vec<ColumnShape>> {
        let backend = self.backend();
        self.call(move |tx| Ok(describe(tx, backend)?)).await.map_err(|e| DbError::Shape(e.to_string()))
    }
}

fn describe(tx: &mut dyn Tx, backend: Backend) -> DbResult<Vec<ColumnShape>> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT m.name AS tbl, p.name AS col, p.type AS ty, p.\"notnull\" + p.pk AS not_null \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        }
        Backend::Postgres => {
            "SELECT table_name::text AS tbl, column_name::text AS col, data_type::text AS ty, \
             CAST(CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END AS BIGINT) AS not_null \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> 'jx_schema'"
        }
    };
    let mut out = Vec::new();
    for r in tx.query(sql, &[])? {
        let ty = r.text("ty")?.to_ascii_lowercase();
        let kind = match ty.as_str() {
            "integer" | "bigint" | "smallint" => "integer",
            "real" | "double precision" => "real",
            "text" | "character varying" => "text",
            "blob" | "bytea" => "bytes",
            other => other,
        };
        out.push(ColumnShape {
            table: r.text("tbl")?,
            column: r.text("col")?,
            kind: kind.to_string(),
            not_null: r.int("not_null")? > 0,
        });
    }
    out.sort();
    Ok(out)
}

/// Milliseconds since the epoch, now.
pub fn now() -> jx_core::Timestamp {
    let ms =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    jx_core::Timestamp(ms)
}
