//! Keeping residents' data on the phone no longer than needed: finished tasks are purged once the centre has all
//! of their facts and photos and a retention period has passed, and a revoked phone wipes everything.
//!
//! The store runs with `PRAGMA secure_delete = ON`, so deleted rows are overwritten in the file, not just
//! unlinked; a purge ends with a checkpoint so the write-ahead log does not keep old pages either.

use crate::Store;
use crate::error::{Result, StoreError};
use jx_core::Timestamp;
use jx_core::bytes::Sha256;
use rusqlite::params;

/// What a purge removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub tasks: usize,
    pub blobs: usize,
}

/// Statuses after which nothing more happens to a task on the phone.
const FINISHED: &str = "('delivered', 'collected', 'handed_in', 'returned', 'cancelled')";

impl Store {
    /// Removes finished tasks (their sheet with the resident's name, phone and room, the centre's history) and the
    /// photos only they refer to, once every event of this device about them is acknowledged, every photo uploaded,
    /// and `retention_ms` has passed since the task last changed here. Pending work is never touched. This device's
    /// own events stay: they are its signed hash chain, and they carry ids, not a resident's data.
    pub fn purge_finished(&mut self, now: Timestamp, retention_ms: i64) -> Result<Purged> {
        let cutoff = now.millis().saturating_sub(retention_ms);
        let tx = self.conn.transaction()?;
        let tasks: Vec<String> = {
            let mut stmt = tx.prepare(&format!(
                "SELECT t.task_id FROM tasks t
                 WHERE t.status IN {FINISHED}
                   AND t.pulled_at <= ?1
                   AND NOT EXISTS (SELECT 1 FROM events e WHERE e.task_id = t.task_id
                                   AND (e.outbox != 'acknowledged' OR e.recorded_at > ?1))
                   AND NOT EXISTS (SELECT 1 FROM events e JOIN event_blobs eb ON eb.event_id = e.event_id
                                   JOIN blobs b ON b.sha256 = eb.sha256
                                   WHERE e.task_id = t.task_id AND b.uploaded = 0)"
            ))?;
            stmt.query_map([cutoff], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
        };
        let mut blobs: Vec<String> = Vec::new();
        for id in &tasks {
            let mut stmt = tx.prepare(
                "SELECT DISTINCT eb.sha256 FROM event_blobs eb JOIN events e ON e.event_id = eb.event_id
                 WHERE e.task_id = ?1",
            )?;
            let hashes: Vec<String> = stmt.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            tx.execute(
                "DELETE FROM event_blobs WHERE event_id IN (SELECT event_id FROM events WHERE task_id = ?1)",
                [id],
            )?;
            tx.execute("DELETE FROM task_history WHERE task_id = ?1", [id])?;
            tx.execute("DELETE FROM tasks WHERE task_id = ?1", [id])?;
            for h in hashes {
                let still_used: bool =
                    tx.query_row("SELECT count(*) > 0 FROM event_blobs WHERE sha256 = ?1", [&h], |r| r.get(0))?;
                if !still_used {
                    tx.execute("DELETE FROM blobs WHERE sha256 = ?1", [&h])?;
                    blobs.push(h);
                }
            }
        }
        tx.commit()?;
        // The rows are gone; now the bytes: photo files, and old pages in the write-ahead log.
        for h in &blobs {
            self.remove_blob_bytes(h)?;
        }
        self.checkpoint()?;
        Ok(Purged { tasks: tasks.len(), blobs: blobs.len() })
    }

    /// Everything goes: tasks, events, photos, the device's identity and signing key, the centre's keys. What
    /// remains is an empty store, as before enrolment. For a phone the centre has revoked.
    pub fn wipe(&mut self) -> Result<()> {
        let hashes: Vec<String> = {
            let mut stmt = self.conn.prepare("SELECT sha256 FROM blobs")?;
            stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
        };
        let tx = self.conn.transaction()?;
        for table in [
            "drafts",
            "event_blobs",
            "blobs",
            "events",
            "task_history",
            "tasks",
            "sync_state",
            "centre_keys",
            "device_key",
            "device",
        ] {
            tx.execute(&format!("DELETE FROM {table}"), params![])?;
        }
        tx.commit()?;
        for h in &hashes {
            self.remove_blob_bytes(h)?;
        }
        self.conn.execute_batch("VACUUM")?;
        self.checkpoint()
    }

    fn checkpoint(&self) -> Result<()> {
        if !cfg!(target_arch = "wasm32") {
            self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(())
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn remove_blob_bytes(&self, hex: &str) -> Result<()> {
        let hash = Sha256::from_hex(hex).map_err(|e| StoreError::corrupt(format!("blob {hex}: {e}")))?;
        let path = self.blob_path(&hash);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::io(&path)(e)),
            _ => Ok(()),
        }
    }

    /// On the web the bytes were in the row, already deleted.
    #[cfg(target_arch = "wasm32")]
    fn remove_blob_bytes(&self, hex: &str) -> Result<()> {
        Sha256::from_hex(hex).map(|_| ()).map_err(|e| StoreError::corrupt(format!("blob {hex}: {e}")))
    }
}
