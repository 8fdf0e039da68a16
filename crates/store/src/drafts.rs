//! Handoffs in progress. The app saves its record of the steps taken after each one (a scanned packet, a typed
//! code, a photo), so that a killed app reopens at the step it was on; the finished handoff is recorded and its
//! draft deleted in one transaction, so a kill between the two can neither lose the handoff nor record it twice.

use crate::Store;
use crate::error::Result;
use crate::events::append;
use jx_core::event::{Envelope, EventPayload};
use jx_core::{TaskId, Timestamp};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

impl Store {
    /// The saved draft of `task`, if a handoff of it is in progress.
    pub fn draft(&self, task: TaskId) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT body FROM drafts WHERE task_id = ?1", [task.to_string()], |r| r.get(0))
            .optional()?)
    }

    /// The handoff in progress that was touched last: where a restarted app resumes.
    pub fn latest_draft(&self) -> Result<Option<(TaskId, String)>> {
        let row: Option<(String, String)> = self
            .conn
            .query_row("SELECT task_id, body FROM drafts ORDER BY updated_at DESC, rowid DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        match row {
            None => Ok(None),
            Some((id, body)) => {
                let task = id.parse().map_err(|_| crate::StoreError::corrupt(format!("draft task id {id}")))?;
                Ok(Some((task, body)))
            }
        }
    }

    /// Every task with a handoff in progress.
    pub fn drafts(&self) -> Result<Vec<TaskId>> {
        let mut stmt = self.conn.prepare("SELECT task_id FROM drafts")?;
        let ids: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        ids.iter().map(|id| id.parse().map_err(|_| crate::StoreError::corrupt(format!("draft task id {id}")))).collect()
    }

    /// Saves (replaces) the draft of `task`. The task must be on this phone.
    pub fn save_draft(&mut self, task: TaskId, body: &str, now: Timestamp) -> Result<()> {
        self.conn.execute(
            "INSERT INTO drafts (task_id, body, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (task_id) DO UPDATE SET body = ?2, updated_at = ?3",
            params![task.to_string(), body, now.millis()],
        )?;
        Ok(())
    }

    /// Abandons the draft of `task` (the staff member went back without finishing).
    pub fn clear_draft(&mut self, task: TaskId) -> Result<()> {
        self.conn.execute("DELETE FROM drafts WHERE task_id = ?1", [task.to_string()])?;
        Ok(())
    }

    /// Records the fact that ends a handoff and deletes its draft, in one transaction: all of it, or (when the
    /// fact is refused, e.g. its proof is incomplete) nothing, with the draft kept.
    pub fn record_closing_draft(&mut self, task: TaskId, payload: EventPayload, now: Timestamp) -> Result<Envelope> {
        let mut out = self.record_closing_draft_with(task, vec![payload], now)?;
        out.pop().ok_or_else(|| crate::StoreError::corrupt("a recorded batch of one came back empty"))
    }

    /// [`Store::record_closing_draft`] for a fact and what goes with it (a failed visit and the door card left
    /// there): every payload is appended to `task`, in order, and the draft deleted, in one transaction; on the first
    /// refusal nothing is written and the draft is kept.
    pub fn record_closing_draft_with(
        &mut self,
        task: TaskId,
        payloads: Vec<EventPayload>,
        now: Timestamp,
    ) -> Result<Vec<Envelope>> {
        let identity = self.identity()?.ok_or(crate::StoreError::NotEnrolled)?;
        let key = self.device_key()?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut out = Vec::with_capacity(payloads.len());
        for payload in payloads {
            out.push(append(&tx, &identity, &key, task, payload, now)?);
        }
        tx.execute("DELETE FROM drafts WHERE task_id = ?1", [task.to_string()])?;
        tx.commit()?;
        Ok(out)
    }
}
