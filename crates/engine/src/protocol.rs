//! What the screens ask of the engine and what it answers: plain data, JSON on the wire (between the page and its
//! web worker) and in-process elsewhere. Photos travel as base64 inside the JSON: one copy, and a few
//! milliseconds for a phone photo, which the worker then shrinks to ~250 KB.

use jx_core::event::{Confirmation, EventKind, FailureReason, Fix};
use jx_core::geo::LatLng;
use jx_core::model::{Address, GreenChannel, Material, ProofRequirement, TaskKind};
use jx_core::proof::Gap;
use jx_core::state::TaskStatus;
use jx_core::strokes::Strokes;
use jx_core::{CompoundId, StaffId, TaskId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::draft::Draft;

/// Bytes as base64 text in JSON.
pub mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD.decode(text.as_bytes()).map_err(serde::de::Error::custom)
    }

    /// The same for an optional photo.
    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
            match bytes {
                Some(b) => s.serialize_some(&STANDARD.encode(b)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
            let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
            text.map(|t| STANDARD.decode(t.as_bytes()).map_err(serde::de::Error::custom)).transpose()
        }
    }
}

/// One thing a screen asks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Who this phone is and whether a handoff was left half-done (where to resume).
    Hello,
    Enrol {
        centre_url: String,
        login: String,
        password: String,
    },
    /// Tonight's route, in walking order from `from` when the phone knows where it is.
    Tonight {
        from: Option<LatLng>,
    },
    Task {
        task: TaskId,
    },
    /// Opens the handoff of a task: its saved draft, or a new one.
    Begin {
        task: TaskId,
    },
    /// A photo of the packet's label, to find and check its QR code.
    ScanPacket {
        task: TaskId,
        #[serde(with = "b64")]
        photo: Vec<u8>,
    },
    /// A pickup without a printed label at hand (only where the policy allows it).
    SkipPacket {
        task: TaskId,
    },
    /// A photo of the resident's own QR code.
    ScanResident {
        task: TaskId,
        #[serde(with = "b64")]
        photo: Vec<u8>,
    },
    /// The 6-digit code as the resident reads it out.
    TypeCode {
        task: TaskId,
        code: String,
    },
    /// A photo of the resident's household card (户卡), for a resident without a phone: its QR is read and checked
    /// offline (the centre's, this resident's, the card in force).
    ScanHousehold {
        task: TaskId,
        #[serde(with = "b64")]
        photo: Vec<u8>,
    },
    /// The 6-digit code printed under the household card's QR, as the resident reads it out.
    TypeHouseholdCode {
        task: TaskId,
        code: String,
    },
    /// A family member on file (one of [`TaskView::proxies`]) receives for the resident, with their own code.
    ProxyCode {
        task: TaskId,
        proxy: u32,
        code: String,
    },
    /// Nobody can confirm: a photo of the handoff with a named witness (the family member or a neighbour). The
    /// handoff then needs a separate handoff photo as well.
    Witness {
        task: TaskId,
        #[serde(with = "b64")]
        photo: Vec<u8>,
        witness: String,
    },
    /// A signature drawn on the screen (a delivery's confirmation, a pickup's authorisation).
    Sign {
        task: TaskId,
        strokes: Strokes,
    },
    /// A handoff photo, or (with `material`) the photo of one checklist item.
    AddPhoto {
        task: TaskId,
        material: Option<String>,
        #[serde(with = "b64")]
        photo: Vec<u8>,
    },
    /// Ticks a checklist item as present or not.
    SetMaterial {
        task: TaskId,
        name: String,
        present: bool,
    },
    /// The resident's rating, or `None` when they decline to give one.
    Rate {
        task: TaskId,
        stars: Option<u8>,
    },
    /// Where the phone is, as the platform reports it.
    Locate {
        task: TaskId,
        fix: Fix,
    },
    /// Records the handoff (if its proof is complete) and answers with the next task of the route.
    Finish {
        task: TaskId,
    },
    /// Throws the draft away.
    Abandon {
        task: TaskId,
    },
    /// Records a failed visit.
    Fail {
        task: TaskId,
        reason: FailureReason,
        note: String,
        retry_at: Option<Timestamp>,
        #[serde(default, with = "b64::option", skip_serializing_if = "Option::is_none")]
        photo: Option<Vec<u8>>,
        /// The door card left at the door, as [`Request::ScanDoorCard`] answered it (or as scanned: the card's URL
        /// or its bare `JX1:` token). Checked again, and recorded with the failed visit in one go.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        door_card: Option<String>,
    },
    /// A photo of the door card the staff member is about to leave at a failed visit, to read and check its QR code.
    /// Answers [`Response::DoorCard`]; nothing is recorded until [`Request::Fail`] carries the card.
    ScanDoorCard {
        task: TaskId,
        #[serde(with = "b64")]
        photo: Vec<u8>,
    },
    /// Adds proof to a handoff already recorded (a coordinator asked for it, or a photo was forgotten): a photo, a
    /// note, or both. Recorded as [`jx_core::event::EventPayload::ProofAdded`]; answers [`Response::Done`].
    AddProof {
        task: TaskId,
        #[serde(default, with = "b64::option", skip_serializing_if = "Option::is_none")]
        photo: Option<Vec<u8>>,
        #[serde(default)]
        note: String,
    },
    /// The sync chip; `online` is what the platform says of the network.
    Sync {
        online: bool,
    },
    /// Runs a sync round now, in the background.
    SyncNow,
    Outbox,
}

/// The engine's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
pub enum Response {
    Hello(Hello),
    Enrolled(Me),
    Tonight(Tonight),
    Task(Box<TaskView>),
    Draft(Box<Draft>),
    Recorded {
        next: Option<TaskId>,
    },
    Sync(SyncView),
    Outbox(OutboxView),
    /// A door card that checked out, to pass on in [`Request::Fail`].
    DoorCard(DoorCardScan),
    Done,
}

/// A door card read from a photo: the centre printed it, nobody altered it, and this phone has not left it anywhere
/// yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorCardScan {
    /// The card's bare token (`JX1:…`): what [`Request::Fail`]'s `door_card` takes.
    pub card: String,
    /// The short code printed on the card (`ABC-DEF`), to show.
    pub short: String,
}

/// Why the engine could not do what was asked: each case is shown to the staff member in their language, with
/// what to do about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum EngineError {
    #[error("this phone is not enrolled")]
    NotEnrolled,
    #[error("this phone is already enrolled")]
    AlreadyEnrolled,
    #[error("no such task on this phone")]
    NoSuchTask,
    #[error("login refused: {message}")]
    LoginRefused { message: String },
    #[error("only team members enrol a phone")]
    NotStaff,
    #[error("the centre's address is not valid")]
    BadCentreUrl,
    #[error("the centre cannot be reached: {detail}")]
    Offline { detail: String },
    #[error("the centre refused ({code}): {message}")]
    CentreRefused { code: String, message: String },
    #[error("the photo cannot be used: {detail}")]
    BadPhoto { detail: String },
    #[error("no code could be read in the photo")]
    NoCodeInPhoto,
    #[error("the code is not right: {problem:?}")]
    WrongQr { problem: QrProblem },
    #[error("the 6-digit code is wrong")]
    CodeWrong,
    #[error("the code must be 6 digits")]
    CodeMalformed,
    #[error("no code is on file for this task; use the resident's QR or a signature")]
    CodeNotOnFile,
    #[error("no household card is on file for this resident: sync, or confirm another way")]
    NoHouseholdOnFile,
    #[error("this household card was replaced: card No. {card} was shown, No. {current} is in force")]
    CardReplaced { card: u32, current: u32 },
    #[error("this household card (No. {card}) is newer than this phone knows (No. {known}): sync and try again")]
    CardNewer { card: u32, known: u32 },
    #[error("this household card is another resident's")]
    CardOtherResident,
    #[error("the household code is wrong")]
    HouseholdCodeWrong,
    #[error("family member {proxy} is not on file for this resident")]
    NoSuchProxy { proxy: u32 },
    #[error("the family member's code is wrong")]
    ProxyCodeWrong,
    #[error("the witness needs a name (at most 40 characters)")]
    WitnessName,
    #[error("the signature is blank")]
    SignatureBlank,
    #[error("the signature cannot be used: {detail}")]
    BadSignature { detail: String },
    #[error("not on this task's checklist: {name}")]
    NoSuchMaterial { name: String },
    #[error("a rating is 1 to 5")]
    BadRating,
    #[error("a visit at another time needs the time the resident asked for")]
    RetryTimeNeeded,
    #[error("this step cannot be skipped here")]
    CannotSkip,
    #[error("the handoff lacks proof: {gaps:?}")]
    ProofIncomplete { gaps: Vec<Gap> },
    #[error("this task cannot take that now: {detail}")]
    NotNow { detail: String },
    #[error("add a photo or a note")]
    NothingToAdd,
    #[error("the phone's storage failed: {detail}")]
    Storage { detail: String },
    #[error("the engine failed: {detail}")]
    Internal { detail: String },
}

/// What is wrong with a scanned QR code, for the refusal shown on the spot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum QrProblem {
    /// Not one of the centre's codes (a parcel's barcode, a payment code).
    NotOurs,
    /// Damaged or partly read.
    Damaged,
    /// Signed with a key this phone does not know yet: sync first.
    UnknownKey,
    /// Signed with a key the centre has retired: a new label is needed.
    Retired,
    /// Altered or forged.
    Forged,
    /// The resident's code where a packet label was wanted, or the other way round.
    WrongKind,
    /// Another task's code: the wrong packet or the wrong resident.
    OtherTask { short: String, mine: bool },
    /// A door card this phone already left at a door (the task's short code): a card books one visit; take a new
    /// one.
    CardAlreadyLeft { short: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub staff: StaffId,
    pub name: Option<String>,
    pub centre_url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub me: Option<Me>,
    /// The handoff left half-done, to reopen at its step.
    pub resume: Option<TaskId>,
}

/// One task as a line of the route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub id: TaskId,
    pub short: String,
    pub kind: TaskKind,
    pub status: TaskStatus,
    pub green: bool,
    pub conflicts: u32,
    pub address: Address,
    /// The surname only, the rest masked: a list is seen over shoulders.
    pub resident: String,
    pub item: String,
    /// A handoff of it is half-done.
    pub draft: bool,
    /// A visit failed earlier and it is due again now.
    #[serde(default)]
    pub due_again: bool,
    /// Three visits failed: the packet goes back to the centre.
    #[serde(default)]
    pub must_return: bool,
    /// The resident booked the next visit with a door card: the time it is due (19:00 of the evening they chose).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booked_for: Option<Timestamp>,
    /// Handed over, and a coordinator asks for more proof that this phone has not added yet.
    #[serde(default)]
    pub proof_asked: bool,
}

/// One building of the route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stop {
    pub compound: CompoundId,
    #[serde(default)]
    pub compound_name: Option<String>,
    pub building: u16,
    pub tasks: Vec<Row>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tonight {
    /// Stops with work left, in walking order.
    pub todo: Vec<Stop>,
    /// Stops whose every task is finished or visited tonight.
    pub finished: Vec<Stop>,
    pub done: u32,
    pub total: u32,
    pub green_open: u32,
    pub conflicts: u32,
    /// Handed-over tasks for which a coordinator asks for more proof.
    #[serde(default)]
    pub proof_asked: u32,
}

/// One line of a task's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryLine {
    pub at: Timestamp,
    pub what: EventKind,
    /// Recorded by this phone (otherwise by the centre, a coordinator or another phone).
    pub mine: bool,
    /// For this phone's own: where it is in the outbox.
    pub outbox: Option<String>,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    pub id: TaskId,
    pub short: String,
    pub kind: TaskKind,
    pub status: TaskStatus,
    pub address: Address,
    pub resident: String,
    pub phone_masked: String,
    /// The whole number, only for the call button's `tel:` link.
    pub phone: String,
    pub item: String,
    pub case_number: String,
    pub green: GreenChannel,
    pub materials: Vec<Material>,
    pub requires: Vec<ProofRequirement>,
    /// The resident has a household card on file: offer "show your household card" and "type your code".
    #[serde(default)]
    pub household: bool,
    /// The family members who may receive for the resident: offer "a family member receives".
    #[serde(default)]
    pub proxies: Vec<ProxyChoice>,
    pub attempts: u32,
    pub conflicts: u32,
    pub history: Vec<HistoryLine>,
    pub draft: bool,
    /// A handoff or a failed visit may be recorded now.
    pub open: bool,
    /// Three visits failed: bring the packet back to the centre.
    #[serde(default)]
    pub must_return: bool,
    /// The resident booked the next visit with a door card: the time it is due (19:00 of the evening they chose).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booked_for: Option<Timestamp>,
    /// Handed over: proof can still be added ([`Request::AddProof`]).
    #[serde(default)]
    pub can_add_proof: bool,
    /// A coordinator's open request for more proof: their note (possibly empty), until proof is added or accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof_asked: Option<String>,
}

/// A family member who may receive for the resident, as the screen offers them (never their code).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyChoice {
    pub id: u32,
    /// Masked: the surname, the rest hidden (李**).
    pub name: String,
    /// 女儿, 儿子, 配偶…
    pub relation: String,
}

/// What the sync chip shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Chip {
    /// The network is gone (or the centre unreachable); `waiting` says how much is kept for later.
    Offline,
    Syncing,
    /// Everything recorded is at the centre.
    Synced,
    /// Recorded here, not yet at the centre.
    Waiting,
    /// Something needs the staff member: a refused item, or the centre refusing this phone.
    Problem,
    /// Enrolled, no round has finished yet.
    Never,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncView {
    pub chip: Chip,
    /// Events and photos not yet at the centre.
    pub waiting: u64,
    pub photos_waiting: u32,
    pub rejected: u64,
    pub last_sync: Option<Timestamp>,
    /// For "tap for why": what is wrong, for the words the screen shows…
    #[serde(default)]
    pub problem: Option<SyncProblem>,
    /// …and the technical detail under them.
    pub why: Option<String>,
}

/// Why the sync chip is not simply green.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum SyncProblem {
    /// The last round could not reach the centre; it retries by itself.
    Unreachable,
    /// The centre refuses this phone (revoked, expired): it must be enrolled again.
    Refused { code: String },
    /// The last round failed for another reason; it retries by itself.
    Failed,
    /// The centre refused some recorded facts: they need the coordinator.
    Rejected { count: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxLine {
    pub task: TaskId,
    pub short: String,
    pub what: EventKind,
    pub at: Timestamp,
    /// pending, sent, acknowledged or rejected.
    pub status: String,
    /// Why the centre refused it.
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxView {
    /// Newest first.
    pub lines: Vec<OutboxLine>,
    pub sync: SyncView,
}

/// The answer as it crosses to the page.
pub type Answer = Result<Response, EngineError>;

/// Which resident confirmation a draft holds, for the screen.
pub fn confirmation_kind(c: &Confirmation) -> &'static str {
    match c {
        Confirmation::ResidentQr { .. } => "qr",
        Confirmation::ResidentCode { .. } => "code",
        Confirmation::Signature { .. } | Confirmation::Handwritten { .. } => "signature",
        Confirmation::HouseholdCard { .. } => "household_card",
        Confirmation::HouseholdCode { .. } => "household_code",
        Confirmation::Proxy { .. } => "proxy",
        Confirmation::Witness { .. } => "witness",
    }
}
