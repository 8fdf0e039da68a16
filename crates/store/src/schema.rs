//! Opening a file safely and bringing it to the current schema. Migrations are the SQL files in `migrations/`,
//! applied in order, each in its own transaction, at open.

use crate::error::{Result, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::io::Read;
use std::path::Path;

/// `PRAGMA application_id` of a Jing Xiaoer store: "JXST".
pub const APPLICATION_ID: i64 = 0x4A58_5354;

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_device_key.sql"),
    include_str!("../migrations/0003_keyring.sql"),
    include_str!("../migrations/0004_blob_bytes.sql"),
    include_str!("../migrations/0005_drafts.sql"),
];

/// The schema version this build writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// Opens `path` after checking, without writing anything, that it is empty, new, or one of our stores at a
/// version this build understands.
pub fn open_checked(path: &Path) -> Result<Connection> {
    let not_a_store = || StoreError::NotAStore { path: path.to_path_buf() };
    if let Ok(mut f) = std::fs::File::open(path) {
        let mut header = [0u8; 16];
        let n = f.read(&mut header).map_err(StoreError::io(path))?;
        if n > 0 && (n < 16 || &header != b"SQLite format 3\0") {
            return Err(not_a_store());
        }
        if n > 0 {
            // Look before we write: a read-only connection cannot change the file.
            let ro = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|_| not_a_store())?;
            let app: i64 = ro.query_row("PRAGMA application_id", [], |r| r.get(0)).map_err(|_| not_a_store())?;
            let version: i64 = ro.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|_| not_a_store())?;
            let tables: i64 =
                ro.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).map_err(|_| not_a_store())?;
            if app != APPLICATION_ID && (app != 0 || tables > 0) {
                return Err(not_a_store());
            }
            if version > LATEST {
                return Err(StoreError::NewerSchema { path: path.to_path_buf(), found: version, supported: LATEST });
            }
        }
    }
    Ok(Connection::open(path)?)
}

/// Applies every migration the file has not seen yet.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > LATEST {
        return Err(StoreError::NewerSchema { path: path.to_path_buf(), found: current, supported: LATEST });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {};", i + 1))?;
        tx.commit()?;
    }
    Ok(())
}
