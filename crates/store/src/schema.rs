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

/// The key a store is encrypted with: 32 random bytes, used as SQLCipher's raw key (AES-256 with an HMAC per page;
/// OpenSSL's implementation natively, libtomcrypt's on the web). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey(pub [u8; 32]);

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(…)")
    }
}

fn apply_key(conn: &Connection, key: &StoreKey) -> Result<()> {
    // A raw key (x'…') skips SQLCipher's passphrase derivation: the key is already random.
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex::encode(key.0)))?;
    Ok(())
}

/// The first 16 bytes of the file, if it has any (native only; the web's files are not reachable through std).
fn header(path: &Path) -> Result<Option<Vec<u8>>> {
    let Ok(mut f) = std::fs::File::open(path) else { return Ok(None) };
    let mut header = [0u8; 16];
    let n = f.read(&mut header).map_err(StoreError::io(path))?;
    Ok((n > 0).then(|| header[..n].to_vec()))
}

const PLAIN_HEADER: &[u8] = b"SQLite format 3\0";

/// Checks an opened connection's file is one of our stores at a version this build understands.
fn check_ours(conn: &Connection, path: &Path) -> Result<()> {
    let not_a_store = || StoreError::NotAStore { path: path.to_path_buf() };
    let app: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0)).map_err(|_| not_a_store())?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|_| not_a_store())?;
    let tables: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).map_err(|_| not_a_store())?;
    if app != APPLICATION_ID && (app != 0 || tables > 0) {
        return Err(not_a_store());
    }
    if version > LATEST {
        return Err(StoreError::NewerSchema { path: path.to_path_buf(), found: version, supported: LATEST });
    }
    Ok(())
}

/// Opens `path` after checking, without writing anything, that it is empty, new, or one of our stores at a
/// version this build understands. With a key the store is encrypted: a new file is created encrypted, an
/// encrypted one must open with this key, and one of our stores still in plain text (written before encryption)
/// is encrypted in place first.
pub fn open_checked(path: &Path, key: Option<&StoreKey>) -> Result<Connection> {
    let not_a_store = || StoreError::NotAStore { path: path.to_path_buf() };
    let head = header(path)?;
    let plain = head.as_deref().is_some_and(|h| h == PLAIN_HEADER);
    if let Some(h) = head.as_deref() {
        if key.is_none() && h != PLAIN_HEADER {
            return Err(not_a_store());
        }
        if plain {
            // Look before we write: a read-only connection cannot change the file.
            let ro = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|_| not_a_store())?;
            check_ours(&ro, path)?;
        }
    }
    match key {
        None => Ok(Connection::open(path)?),
        Some(key) => {
            if plain {
                encrypt_in_place(path, key)?;
            }
            let conn = Connection::open(path)?;
            apply_key(&conn, key)?;
            if conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).is_err() {
                return Err(StoreError::WrongKey { path: path.to_path_buf() });
            }
            check_ours(&conn, path)?;
            Ok(conn)
        }
    }
}

/// Rewrites a plain-text store as an encrypted one: everything is checkpointed into the main file, exported into
/// an encrypted copy beside it, and the copy renamed over the original. A kill at any point leaves either the
/// plain store (and a stray copy, removed next time) or the encrypted one.
fn encrypt_in_place(path: &Path, key: &StoreKey) -> Result<()> {
    let tmp = path.with_extension("sqlite.encrypting");
    let _ = std::fs::remove_file(&tmp);
    let quoted = tmp.to_string_lossy().replace('\'', "''");
    {
        let plain = Connection::open(path)?;
        plain.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let version: i64 = plain.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        plain.execute_batch(&format!("ATTACH DATABASE '{quoted}' AS enc KEY \"x'{}'\";", hex::encode(key.0)))?;
        plain.query_row("SELECT sqlcipher_export('enc')", [], |_| Ok(()))?;
        plain.execute_batch(&format!(
            "PRAGMA enc.user_version = {version}; PRAGMA enc.application_id = {APPLICATION_ID}; DETACH DATABASE enc;"
        ))?;
    }
    std::fs::rename(&tmp, path).map_err(StoreError::io(path))?;
    for ext in ["sqlite-wal", "sqlite-shm"] {
        let _ = std::fs::remove_file(path.with_extension(ext));
    }
    Ok(())
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
