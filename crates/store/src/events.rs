//! This device's own events: recording them (chain, clock, state, all in one transaction) and the outbox that
//! carries them to the centre.

use crate::error::{Result, StoreError};
use crate::tasks::{load_task_events, write_task_state};
use crate::{DeviceIdentity, Store};
use jx_core::bytes::Sha256;
use jx_core::event::{Actor, Envelope, EventPayload};
use jx_core::{EventId, TaskId, Timestamp, state};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

/// Where an event is on its way to the centre.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    /// Recorded, not yet sent.
    Pending,
    /// Sent at least once; no answer kept yet.
    Sent,
    /// The centre has it.
    Acknowledged,
    /// The centre refused it; the reason is kept for the staff member to see.
    Rejected,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Acknowledged => "acknowledged",
            OutboxStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<OutboxStatus> {
        [OutboxStatus::Pending, OutboxStatus::Sent, OutboxStatus::Acknowledged, OutboxStatus::Rejected]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// One event in the outbox.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxEntry {
    pub envelope: Envelope,
    pub status: OutboxStatus,
    pub reason: Option<String>,
}

/// How many events are in each outbox state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: u64,
    pub sent: u64,
    pub acknowledged: u64,
    pub rejected: u64,
}

impl OutboxCounts {
    /// Events the centre does not have yet.
    pub fn waiting(&self) -> u64 {
        self.pending + self.sent
    }
}

impl Store {
    /// Records one fact about a task: appends it to the device's chain and updates the task's local state, in one
    /// transaction. An impossible transition is refused (nothing is written); every blob it refers to must already
    /// be stored. Returns the event as recorded.
    pub fn record(&mut self, task: TaskId, payload: EventPayload, now: Timestamp) -> Result<Envelope> {
        let mut out = self.record_batch(vec![(task, payload)], now)?;
        out.pop().ok_or_else(|| StoreError::corrupt("a recorded batch of one came back empty"))
    }

    /// Records several facts in one transaction: all of them, or (on the first refusal) none.
    pub fn record_batch(&mut self, items: Vec<(TaskId, EventPayload)>, now: Timestamp) -> Result<Vec<Envelope>> {
        let identity = self.identity()?.ok_or(StoreError::NotEnrolled)?;
        let key = self.device_key()?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut out = Vec::with_capacity(items.len());
        for (task, payload) in items {
            out.push(append(&tx, &identity, &key, task, payload, now)?);
        }
        tx.commit()?;
        Ok(out)
    }

    /// What `payload` would lack of its task's proof policy if recorded now: the app asks before it offers to
    /// complete a handoff, and [`Store::record`] refuses one with any gap ([`StoreError::ProofIncomplete`]).
    pub fn proof_gaps(&self, task: TaskId, payload: &EventPayload, now: Timestamp) -> Result<Vec<jx_core::proof::Gap>> {
        proof_gaps(&self.conn, task, payload, now)
    }

    /// Events not yet acknowledged by the centre (pending and sent), in chain order, at most `limit`.
    pub fn outbox(&self, limit: usize) -> Result<Vec<OutboxEntry>> {
        self.entries("WHERE outbox IN ('pending', 'sent') ORDER BY seq LIMIT ?1", params![limit as i64])
    }

    /// Events the centre refused, with the reasons, newest first.
    pub fn rejected(&self) -> Result<Vec<OutboxEntry>> {
        self.entries("WHERE outbox = 'rejected' ORDER BY seq DESC LIMIT ?1", params![i64::MAX])
    }

    /// This device's events about one task, in chain order.
    pub fn own_events(&self, task: TaskId) -> Result<Vec<OutboxEntry>> {
        self.entries("WHERE task_id = ?1 ORDER BY seq", params![task.to_string()])
    }

    fn entries(&self, tail: &str, p: impl rusqlite::Params) -> Result<Vec<OutboxEntry>> {
        let mut stmt = self.conn.prepare(&format!("SELECT encoded, outbox, reason FROM events {tail}"))?;
        let rows = stmt.query_map(p, |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?, r.get(2)?)))?;
        rows.map(|row| {
            let (bytes, status, reason) = row?;
            Ok(OutboxEntry {
                envelope: Envelope::decode(&bytes).map_err(StoreError::corrupt)?,
                status: OutboxStatus::parse(&status).ok_or_else(|| StoreError::corrupt(format!("outbox {status}")))?,
                reason,
            })
        })
        .collect()
    }

    /// This device's whole chain, in order, with each event's place in the outbox.
    pub fn chain(&self) -> Result<Vec<OutboxEntry>> {
        self.entries("ORDER BY seq LIMIT ?1", params![i64::MAX])
    }

    /// One of this device's events by id.
    pub fn event(&self, id: EventId) -> Result<Option<OutboxEntry>> {
        Ok(self.entries("WHERE event_id = ?1", params![id.to_string()])?.pop())
    }

    /// Walks this device's whole chain and checks that every event names its predecessor's hash and that the
    /// sequence has no gap. Returns the chain's length.
    pub fn verify_chain(&self) -> Result<u64> {
        let mut stmt = self.conn.prepare("SELECT seq, encoded, chain_hash FROM events ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        let (mut expected_seq, mut prev) = (1u64, Sha256::ZERO);
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let encoded: Vec<u8> = r.get(1)?;
            let stored: Vec<u8> = r.get(2)?;
            let e = Envelope::decode(&encoded).map_err(StoreError::corrupt)?;
            let hash = Sha256::of(&encoded);
            if seq as u64 != expected_seq || e.seq != expected_seq || e.prev != prev || stored != hash.0 {
                return Err(StoreError::ChainBroken { seq: seq as u64 });
            }
            expected_seq += 1;
            prev = hash;
        }
        Ok(expected_seq - 1)
    }

    pub fn outbox_counts(&self) -> Result<OutboxCounts> {
        let mut c = OutboxCounts::default();
        let mut stmt = self.conn.prepare("SELECT outbox, count(*) FROM events GROUP BY outbox")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
        for row in rows {
            let (status, n) = row?;
            match OutboxStatus::parse(&status) {
                Some(OutboxStatus::Pending) => c.pending = n,
                Some(OutboxStatus::Sent) => c.sent = n,
                Some(OutboxStatus::Acknowledged) => c.acknowledged = n,
                Some(OutboxStatus::Rejected) => c.rejected = n,
                None => return Err(StoreError::corrupt(format!("outbox {status}"))),
            }
        }
        Ok(c)
    }

    /// Marks events as sent (before the request goes out, so that a crash mid-request is visible on restart).
    pub fn mark_sent(&mut self, ids: &[EventId]) -> Result<()> {
        self.set_outbox(ids, OutboxStatus::Sent, None, "outbox = 'pending'")
    }

    /// The centre has these events (accepted or recognised as duplicates).
    pub fn acknowledge(&mut self, ids: &[EventId]) -> Result<()> {
        self.set_outbox(ids, OutboxStatus::Acknowledged, None, "outbox IN ('pending', 'sent', 'rejected')")
    }

    /// The centre refused this event; the reason is kept and the rest of the outbox carries on.
    pub fn reject(&mut self, id: EventId, reason: &str) -> Result<()> {
        self.set_outbox(&[id], OutboxStatus::Rejected, Some(reason), "outbox IN ('pending', 'sent')")
    }

    fn set_outbox(&mut self, ids: &[EventId], to: OutboxStatus, reason: Option<&str>, from: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt =
                tx.prepare(&format!("UPDATE events SET outbox = ?1, reason = ?2 WHERE event_id = ?3 AND {from}"))?;
            for id in ids {
                stmt.execute(params![to.as_str(), reason, id.to_string()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

/// Appends one event inside `tx`.
pub(crate) fn append(
    tx: &Transaction<'_>,
    identity: &DeviceIdentity,
    key: &jx_core::sign::DeviceKey,
    task: TaskId,
    payload: EventPayload,
    now: Timestamp,
) -> Result<Envelope> {
    let kind: String = tx
        .query_row("SELECT kind FROM tasks WHERE task_id = ?1", [task.to_string()], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::UnknownTask(task))?;
    let kind = match kind.as_str() {
        "delivery" => jx_core::TaskKind::Delivery,
        "pickup" => jx_core::TaskKind::Pickup,
        other => return Err(StoreError::corrupt(format!("task kind {other}"))),
    };
    let known = load_task_events(tx, task)?;
    let current = state::fold(task, kind, &known);

    let last: Option<(i64, Vec<u8>, i64)> = tx
        .query_row("SELECT seq, chain_hash, at FROM events ORDER BY seq DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let (seq, prev, own_at) = match last {
        Some((seq, hash, at)) => {
            let prev: [u8; 32] = hash.try_into().map_err(|_| StoreError::corrupt("chain hash length"))?;
            (seq as u64 + 1, Sha256(prev), Some(Timestamp(at)))
        }
        None => (1, Sha256::ZERO, None),
    };
    let seen = known.iter().map(|e| e.at).chain(own_at).max();
    let at = Timestamp::next_after(now, seen);
    let mut envelope = Envelope {
        id: EventId(uuid::Uuid::now_v7()),
        task,
        actor: Actor::Device { device: identity.device, staff: identity.staff },
        seq,
        prev,
        at,
        payload,
        signature: None,
    };
    key.sign(&mut envelope);
    let next = current.apply(&envelope)?;
    let blobs = envelope.payload.blobs();
    for b in &blobs {
        let have: bool =
            tx.query_row("SELECT count(*) > 0 FROM blobs WHERE sha256 = ?1", [b.to_hex()], |r| r.get(0))?;
        if !have {
            return Err(StoreError::MissingBlob(*b));
        }
    }
    // A handoff that lacks what its task's policy needs is not recorded as complete.
    if envelope.payload.kind().is_device_fact() {
        let gaps = proof_gaps(tx, task, &envelope.payload, at)?;
        if !gaps.is_empty() {
            return Err(StoreError::ProofIncomplete(gaps));
        }
    }
    let encoded = envelope.encode();
    tx.execute(
        "INSERT INTO events (seq, event_id, task_id, kind, at, encoded, chain_hash, outbox, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8)",
        params![
            seq as i64,
            envelope.id.to_string(),
            task.to_string(),
            envelope.kind().as_str(),
            envelope.at.millis(),
            encoded,
            Sha256::of(&encoded).0.to_vec(),
            now.millis()
        ],
    )?;
    for b in blobs {
        tx.execute(
            "INSERT OR IGNORE INTO event_blobs (event_id, sha256) VALUES (?1, ?2)",
            params![envelope.id.to_string(), b.to_hex()],
        )?;
    }
    write_task_state(tx, &next)?;
    Ok(envelope)
}

/// What a handoff lacks of its task's proof policy, checked with the centre's keys and the resident's code hash this
/// phone holds.
pub(crate) fn proof_gaps(
    conn: &rusqlite::Connection,
    task: TaskId,
    payload: &EventPayload,
    at: Timestamp,
) -> Result<Vec<jx_core::proof::Gap>> {
    use jx_core::proof::{CardOnFile, CodeOnFile, HouseholdContext, ProofContext, ProxyCheck, check};
    let sheet: String = conn
        .query_row("SELECT sheet FROM tasks WHERE task_id = ?1", [task.to_string()], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::UnknownTask(task))?;
    let sheet: jx_core::TaskSheet = serde_json::from_str(&sheet).map_err(StoreError::corrupt)?;
    let keyring = crate::keyring(conn)?;
    let code = sheet.resident_code.as_ref().map_or(CodeOnFile::None, CodeOnFile::Hash);
    // The household card in force and the family members, as the last pull left them: a reissued card or a removed
    // member is refused here once the phone has pulled the change.
    let proxies: Vec<ProxyCheck> = sheet
        .proxies
        .iter()
        .map(|p| ProxyCheck {
            id: p.id,
            name: &p.name,
            relation: &p.relation,
            code: CodeOnFile::Hash(&p.code),
            removed_at: None,
        })
        .collect();
    let cards: Vec<CardOnFile> = sheet
        .household
        .iter()
        .map(|h| CardOnFile { serial: h.serial, code: CodeOnFile::Hash(&h.code), replaced_at: None })
        .collect();
    let household = HouseholdContext { cards: &cards, proxies: &proxies };
    Ok(check(&sheet.task, payload, at, &ProofContext { keyring: &keyring, code, site: None, household }))
}
