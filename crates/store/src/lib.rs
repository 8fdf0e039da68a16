//! `jx-store`: the staff phone's local database, on rusqlite.
//!
//! It owns the tasks as last pulled from the centre, this device's own events (its hash chain and its outbox),
//! photo blobs (files named by SHA-256, metadata in SQLite), the sync cursor and the device's identity. Every write
//! that matters is one SQLite transaction; blob bytes are written to a temporary file, synced and renamed before
//! their row is inserted, so a kill at any moment leaves either the whole blob or none of it.
//!
//! It depends on `jx-core` only. It must never import the sync engine, the centre, the UI or anything async: it is
//! called by them, and it never talks to the network.

mod blobs;
mod drafts;
mod error;
mod events;
mod privacy;
mod schema;
mod tasks;

pub use blobs::BlobInfo;
pub use error::{Result, StoreError};
pub use events::{OutboxCounts, OutboxEntry, OutboxStatus};
pub use privacy::Purged;
pub use schema::StoreKey;
pub use tasks::{BuildingStop, HistoryEntry, StatusBar, TaskDetail, TaskRow};

use jx_core::token::{CentreKey, Keyring};
use jx_core::{DeviceId, StaffId, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};

/// The store's database file inside its directory.
pub const DB_FILE: &str = "store.sqlite";
/// The blob folder inside its directory.
pub const BLOB_DIR: &str = "blobs";

/// Who this phone is at the centre.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceIdentity {
    pub device: DeviceId,
    pub staff: StaffId,
    pub centre_url: String,
    /// The device token the centre issued at enrolment.
    pub token: Option<String>,
}

/// How durable a commit is. `Full` survives power loss; `Normal` (WAL) survives a killed app but may lose the
/// last commits on power loss. The default is `Full`: nothing a staff member records may be lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    #[default]
    Full,
    Normal,
}

/// The device's local database.
pub struct Store {
    conn: Connection,
    dir: PathBuf,
    /// For an encrypted store: the key photo files are sealed with (natively; on the web they are in the database).
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    blob_key: Option<[u8; 32]>,
}

/// The wall clock, for callers that have no better time (the app). Tests pass their own times.
pub(crate) fn keyring(conn: &rusqlite::Connection) -> Result<Keyring> {
    let mut stmt = conn.prepare("SELECT key_id, public, retired_after FROM centre_keys ORDER BY key_id")?;
    let rows =
        stmt.query_map([], |r| Ok((r.get::<_, u16>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, Option<i64>>(2)?)))?;
    let mut keys = Vec::new();
    for row in rows {
        let (id, public, retired) = row?;
        let public: [u8; 32] = public.try_into().map_err(|_| StoreError::corrupt("centre key length"))?;
        keys.push(CentreKey { id, public, retired_after: retired.map(Timestamp) });
    }
    Ok(Keyring(keys))
}

/// The wall clock (on the web, the browser's: `std::time` panics on wasm32).
pub fn now() -> Timestamp {
    #[cfg(not(target_arch = "wasm32"))]
    use std::time::{SystemTime, UNIX_EPOCH};
    #[cfg(target_arch = "wasm32")]
    use web_time::{SystemTime, UNIX_EPOCH};
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    Timestamp(ms)
}

impl Store {
    /// Opens (or creates) the store in `dir`, migrating it to the current schema. A file that is not a store, or
    /// that a newer app wrote, is refused with a clear error and left untouched.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store> {
        Self::open_with(dir, Durability::default())
    }

    pub fn open_with(dir: impl AsRef<Path>, durability: Durability) -> Result<Store> {
        Self::open_inner(dir.as_ref(), None, durability)
    }

    /// Opens (or creates) the store encrypted with `key`: residents' data is unreadable in the file without it.
    /// A plain store of ours is encrypted in place first; a file encrypted with another key is refused, untouched.
    pub fn open_encrypted(dir: impl AsRef<Path>, key: &StoreKey) -> Result<Store> {
        Self::open_inner(dir.as_ref(), Some(key), Durability::default())
    }

    fn open_inner(dir: &Path, key: Option<&StoreKey>, durability: Durability) -> Result<Store> {
        let dir = dir.to_path_buf();
        #[cfg(not(target_arch = "wasm32"))]
        std::fs::create_dir_all(&dir).map_err(StoreError::io(&dir))?;
        let path = dir.join(DB_FILE);
        let conn = schema::open_checked(&path, key)?;
        let sync = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        // The browser's OPFS pool VFS has no shared memory, so no WAL there: a rollback journal instead.
        let journal = if cfg!(target_arch = "wasm32") { "DELETE" } else { "WAL" };
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = {journal}; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON; \
             PRAGMA busy_timeout = 5000; PRAGMA secure_delete = ON;"
        ))?;
        let blob_key = key.map(blobs::blob_key);
        let mut store = Store { conn, dir, blob_key };
        schema::migrate(&mut store.conn, &path)?;
        store.recover_blobs()?;
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Records this phone's enrolment at a centre (replacing any earlier one).
    pub fn enrol(&mut self, id: &DeviceIdentity, now: Timestamp) -> Result<()> {
        self.conn.execute(
            "INSERT INTO device (id, device_id, staff_id, centre_url, token, enrolled_at) VALUES (1, ?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET device_id = ?1, staff_id = ?2, centre_url = ?3, token = ?4, enrolled_at = ?5",
            params![id.device.to_string(), id.staff.0, id.centre_url, id.token, now.millis()],
        )?;
        Ok(())
    }

    pub fn identity(&self) -> Result<Option<DeviceIdentity>> {
        self.conn
            .query_row("SELECT device_id, staff_id, centre_url, token FROM device WHERE id = 1", [], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?, r.get::<_, String>(2)?, r.get(3)?))
            })
            .optional()?
            .map(|(device, staff, centre_url, token)| {
                Ok(DeviceIdentity {
                    device: device.parse().map_err(|e| StoreError::corrupt(format!("device id: {e}")))?,
                    staff: StaffId(staff),
                    centre_url,
                    token,
                })
            })
            .transpose()
    }

    /// This phone's signing key, made (from the operating system's randomness) on first use.
    pub fn device_key(&mut self) -> Result<jx_core::sign::DeviceKey> {
        let tx = self.conn.transaction()?;
        let existing: Option<Vec<u8>> =
            tx.query_row("SELECT secret FROM device_key WHERE id = 1", [], |r| r.get(0)).optional()?;
        let secret: [u8; 32] = match existing {
            Some(bytes) => bytes.try_into().map_err(|_| StoreError::corrupt("device key length"))?,
            None => {
                let mut secret = [0u8; 32];
                getrandom::fill(&mut secret).map_err(|e| StoreError::corrupt(format!("no randomness: {e}")))?;
                tx.execute("INSERT INTO device_key (id, secret) VALUES (1, ?1)", [secret.to_vec()])?;
                secret
            }
        };
        tx.commit()?;
        Ok(jx_core::sign::DeviceKey::from_secret(secret))
    }

    /// The public half of this phone's key, as enrolment sends it (64 hex characters).
    pub fn public_key_hex(&mut self) -> Result<String> {
        Ok(self.device_key()?.public_hex())
    }

    /// The centre's public keys this phone checks QR codes with.
    pub fn keyring(&self) -> Result<Keyring> {
        keyring(&self.conn)
    }

    /// Replaces the centre's keys with the set the centre just sent.
    pub fn set_keyring(&mut self, ring: &Keyring) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM centre_keys", [])?;
        for k in &ring.0 {
            tx.execute(
                "INSERT INTO centre_keys (key_id, public, retired_after) VALUES (?1, ?2, ?3)",
                rusqlite::params![k.id, k.public.to_vec(), k.retired_after.map(|t| t.0)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The pull cursor the centre gave last time, if any.
    pub fn cursor(&self) -> Result<Option<String>> {
        self.setting("cursor")
    }

    pub fn set_cursor(&mut self, cursor: &str) -> Result<()> {
        self.set_setting("cursor", cursor)
    }

    /// When the last sync round finished, if one ever did.
    pub fn last_sync(&self) -> Result<Option<Timestamp>> {
        Ok(self.setting("last_sync")?.and_then(|s| s.parse().ok()).map(Timestamp))
    }

    pub fn set_last_sync(&mut self, at: Timestamp) -> Result<()> {
        self.set_setting("last_sync", &at.millis().to_string())
    }

    fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM sync_state WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
            params![key, value],
        )?;
        Ok(())
    }
}
