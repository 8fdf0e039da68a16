//! The centre's HTTP API as data: the request and response bodies of `/api/v1`, shared by the centre and the
//! phone's sync engine so that both ends compile against the same definitions. JSON on the wire.

use crate::bytes::Sha256;
use crate::event::Envelope;
use crate::event::EventKind;
use crate::ids::{CompoundId, DeviceId, EventId, StaffId, TaskId};
use crate::model::{Compound, Role, StaffHome, TaskKind, TaskSheet};
use crate::state::TaskStatus;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Every error the API returns: a stable machine-readable code and a message for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub code: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: Timestamp,
    pub staff: StaffId,
    pub name: String,
    pub role: Role,
}

/// A staff phone registers its Ed25519 public key (32 bytes, hex) under the logged-in staff member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub device: DeviceId,
    pub public_key: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub device: DeviceId,
    pub staff: StaffId,
    /// The bearer token the phone uses from now on, until the device is revoked.
    pub device_token: String,
}

/// What changed about one of the phone's tasks since its cursor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskChange {
    /// A task that is (still) the phone's, with every event the centre has of it.
    Upsert { sheet: Box<TaskSheet>, history: Vec<Envelope> },
    /// A task that is no longer the phone's: reassigned away or cancelled.
    Remove { task: TaskId },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub changes: Vec<TaskChange>,
    /// Pass this back as `since` next time.
    pub cursor: String,
    /// More changes are waiting: pull again at once.
    pub more: bool,
    /// The centre's public keys for checking QR codes offline (all of them, retired ones with their end dates).
    #[serde(default)]
    pub keyring: crate::token::Keyring,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub events: Vec<Envelope>,
}

/// What became of one pushed event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushOutcome {
    Accepted,
    /// The centre already had this very event: nothing changed.
    Duplicate,
    Rejected {
        code: String,
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResult {
    pub event: EventId,
    pub outcome: PushOutcome,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<PushResult>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobReceipt {
    pub sha256: Sha256,
    pub size: u64,
    /// False when the centre already had these bytes.
    pub created: bool,
}

/// How an import treats bad rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Any bad row and nothing is imported.
    #[default]
    AllOrNothing,
    /// The good rows are imported (in one transaction); the bad ones are reported.
    GoodRows,
    /// Nothing is written: every bad row is reported, and `valid` says how many rows would be imported.
    Check,
}

/// One bad row of an import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRowError {
    /// 1-based line of the file (CSV, the header being line 1) or 1-based index in the JSON array.
    pub line: usize,
    pub field: Option<String>,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub imported: usize,
    pub errors: Vec<ImportRowError>,
    /// The ids of the imported tasks, in file order.
    pub tasks: Vec<TaskId>,
    /// Rows that passed every check (imported, or in `check` mode, would be).
    #[serde(default)]
    pub valid: usize,
}

/// A coordinator's decision about one task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Assign {
        staff: StaffId,
    },
    Reassign {
        staff: StaffId,
    },
    CheckOut,
    HandIn,
    Return {
        note: String,
    },
    Cancel {
        reason: String,
    },
    /// Clears one of the task's conflicts, naming the flagged event. A fact from someone who was not the assignee
    /// is accepted as theirs: they become the assignee.
    AcceptConflict {
        event: EventId,
        note: String,
    },
    /// Asks the assignee for better proof of a settled handoff (delivered, collected or handed in).
    AskForProof {
        note: String,
    },
    /// Accepts the proof of a settled handoff as it now stands (with anything the phone added): the task leaves
    /// the list of incomplete proof.
    AcceptProof {
        note: String,
    },
}

/// A task as coordinators list it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSummary {
    pub id: TaskId,
    pub kind: TaskKind,
    pub case_number: String,
    pub compound: CompoundId,
    pub building: u16,
    pub status: TaskStatus,
    pub assignee: Option<StaffId>,
    pub attempts: u32,
    pub conflicts: u32,
    /// Blobs the task's events refer to that the centre does not have yet.
    pub missing_blobs: u32,
    /// Reassigned away from someone whose phone has not yet pulled that change: until it does, that phone may
    /// still act on the task.
    #[serde(default)]
    pub pending_sync: bool,
}

/// One compound's evening at a glance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompoundProgress {
    pub compound: CompoundId,
    pub name: String,
    pub unassigned: u32,
    pub assigned: u32,
    pub checked_out: u32,
    pub done: u32,
    pub failed: u32,
    pub cancelled: u32,
    pub conflicts: u32,
}

/// What needs a coordinator's attention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exceptions {
    pub failed_attempts: Vec<TaskSummary>,
    pub conflicts: Vec<TaskSummary>,
    pub missing_proof: Vec<TaskSummary>,
    /// Deliveries that failed [`crate::state::MAX_DELIVERY_ATTEMPTS`] visits and are not yet returned, delivered or
    /// cancelled: their packets are to come back to the centre (scanned in at the counter).
    #[serde(default)]
    pub to_return: Vec<TaskSummary>,
}

/// The town's own geometry, for drawing the coordinators' map without any tile server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TownMap {
    pub compounds: Vec<Compound>,
}

/// A team member's evening: open tasks against capacity, and what is settled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffLoad {
    pub staff: StaffId,
    pub login: String,
    pub name: String,
    pub home: Option<StaffHome>,
    pub capacity: u16,
    /// Assigned, checked out or failed-and-still-open tasks.
    pub open: u32,
    pub done: u32,
    pub failed: u32,
}

/// The evening's board in one answer: every compound's counts, every team member's load, and the tasks that
/// match the board's filter (`?compound=`, `?staff=`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Board {
    pub compounds: Vec<CompoundProgress>,
    pub staff: Vec<StaffLoad>,
    pub tasks: Vec<TaskSummary>,
}

/// Which way a packet crosses the counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterDirection {
    /// Out to the task's assignee (custody centre → staff).
    Out,
    /// Back in: a collected pickup handed in, or an undelivered packet returned.
    In,
}

/// A packet label scanned at the counter (`POST /counter`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterScan {
    /// The label's QR text, as the scanner read it.
    pub code: String,
    pub direction: CounterDirection,
}

/// What a counter scan did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterResult {
    pub task: TaskSummary,
    /// The decision recorded: checked_out, handed_in or returned.
    pub action: EventKind,
}

/// One day of the week's chart (Shanghai calendar day, `YYYY-MM-DD`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    pub day: String,
    pub done: u32,
    pub failed: u32,
}
