//! Events: the append-only facts from which every task's state is derived, and the envelope each one travels in.
//!
//! The envelope's canonical byte encoding ([`Envelope::signed_bytes`]) is what a device signs and what its hash
//! chain covers, so it is part of the protocol: a magic prefix with a format version, then the fields in
//! [postcard](https://postcard.jamesmunns.com/wire-format) form, whose wire format is stable since 1.0. Variants and
//! fields are only ever appended, never reordered or removed; the golden-bytes test below fails on any change.

use crate::bytes::{Sha256, Signature};
use crate::geo::LatLng;
use crate::ids::{DeviceId, EventId, StaffId, TaskId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Who recorded an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// A staff member's enrolled phone.
    Device { device: DeviceId, staff: StaffId },
    /// A coordinator at the centre.
    Coordinator { staff: StaffId },
    /// The centre itself (imports, automatic rules).
    Centre,
}

impl Actor {
    pub fn is_device(&self) -> bool {
        matches!(self, Actor::Device { .. })
    }

    /// The staff member behind a device, if it is one.
    pub fn device_staff(&self) -> Option<StaffId> {
        match self {
            Actor::Device { staff, .. } => Some(*staff),
            _ => None,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Device { device, staff } => write!(f, "device {device} of {staff}"),
            Actor::Coordinator { staff } => write!(f, "coordinator {staff}"),
            Actor::Centre => f.write_str("the centre"),
        }
    }
}

/// A device's position at a moment, as the phone reported it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub at: LatLng,
    /// Horizontal accuracy in metres, as the platform reports it.
    pub accuracy_m: f32,
}

/// How the resident confirmed a handoff, in the order of preference the proof policy allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confirmation {
    /// The text of the resident's signed QR token, as scanned.
    ResidentQr { token: String },
    /// The 6-digit code printed under the resident's QR, as typed.
    ResidentCode { code: String },
    /// A handwritten signature on the screen, stored as a blob.
    Signature { image: Sha256 },
    /// A handwritten signature as the pen's strokes, inside the event (so the device's signature covers it).
    Handwritten { strokes: crate::strokes::Strokes },
    /// The text of the resident's household card token (户卡, [`crate::token::HouseholdCard`]), as scanned.
    HouseholdCard { token: String },
    /// The 6-digit code printed under the household card's QR, as typed.
    HouseholdCode { code: String },
    /// A family member on file received for the resident: who (their number, masked name and relation as the phone
    /// holds them) and their own 6-digit code, as typed.
    Proxy { proxy: u32, name: String, relation: String, code: String },
    /// Where the resident cannot confirm: a photo of the handoff with a named witness (the family member or a
    /// neighbour). Accepted only with a separate handoff photo; see [`crate::proof`].
    Witness { photo: Sha256, witness: String },
}

/// The evidence captured at a door.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HandoffProof {
    /// The text of the packet label's signed QR token, as scanned.
    pub packet: Option<String>,
    pub confirmation: Option<Confirmation>,
    /// Photos by content address; the bytes travel separately as blobs.
    pub photos: Vec<Sha256>,
    pub position: Option<Fix>,
    /// The resident's satisfaction rating (好差评), 1 (very dissatisfied) to 5 (very satisfied).
    pub rating: Option<u8>,
}

impl HandoffProof {
    /// Every blob this proof refers to.
    pub fn blobs(&self) -> impl Iterator<Item = Sha256> + '_ {
        let sig = match &self.confirmation {
            Some(Confirmation::Signature { image }) => Some(*image),
            Some(Confirmation::Witness { photo, .. }) => Some(*photo),
            _ => None,
        };
        self.photos.iter().copied().chain(sig)
    }
}

/// Why a visit did not end in a handoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    NobodyHome,
    Refused,
    WrongAddress,
    /// The resident asks for another time.
    AnotherTime,
    /// Only the person themself may receive or hand over.
    MustBeInPerson,
    /// The documents at the door do not match the checklist.
    DocumentsMismatch,
}

/// One checklist line as found at the door.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterialCheck {
    pub name: String,
    pub present: bool,
    pub photo: Option<Sha256>,
}

/// What happened. Coordinator decisions and device facts alike; see [`crate::state`] for what each one does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventPayload {
    Assigned {
        staff: StaffId,
    },
    Reassigned {
        staff: StaffId,
    },
    /// The packet was scanned out at the counter: custody centre → staff.
    CheckedOut {
        staff: StaffId,
    },
    Delivered {
        proof: HandoffProof,
    },
    AttemptFailed {
        reason: FailureReason,
        note: String,
        photos: Vec<Sha256>,
        retry_at: Option<Timestamp>,
    },
    Collected {
        proof: HandoffProof,
        materials: Vec<MaterialCheck>,
    },
    /// A collected packet was scanned in at the counter: custody staff → centre.
    HandedIn,
    /// An undelivered packet came back to the centre.
    Returned {
        note: String,
    },
    Cancelled {
        reason: String,
    },
    /// A coordinator settles a flagged event: its conflict is cleared. For a fact from someone who was not the
    /// assignee, `staff` (filled in by the centre) is the staff member whose phone recorded it, who becomes the
    /// assignee: they did the handoff.
    ConflictAccepted {
        event: EventId,
        staff: Option<StaffId>,
        note: String,
    },
    /// A coordinator asks the assignee for better proof of a settled handoff; it changes no state.
    ProofRequested {
        note: String,
    },
    /// The staff member left a door card ([`crate::doorcard`]) at the failed visit just recorded: `card` is the
    /// card's bare token (`JX1:…`), checked on the phone. Recorded by the phone in the same transaction as the
    /// `AttemptFailed` it belongs to, right after it in the device's chain. A device fact (only a phone records it)
    /// but no handoff: it needs no proof and changes no state; see [`crate::state`].
    DoorCardLeft {
        card: String,
    },
    /// The resident booked the next visit with a door card: the centre's decision ([`Actor::Centre`]) that the next
    /// visit is due at `at` (19:00 Shanghai time of the evening chosen), not before. `card` is the bare token of the
    /// card booked with. It changes no state; the phone plans the visit from it.
    Rescheduled {
        at: Timestamp,
        card: String,
    },
    /// The staff member adds proof to a handoff already recorded (a coordinator asked for it with
    /// [`EventPayload::ProofRequested`], or they noticed a photo was missing): more photos and what they say about
    /// it. A device fact, not a handoff: it changes no state and is possible only once the packet was handed over.
    ProofAdded {
        photos: Vec<Sha256>,
        note: String,
    },
    /// A coordinator has looked at a settled handoff's proof (with what was added to it) and accepts it: the task
    /// leaves the list of incomplete proof. It changes no state.
    ProofAccepted {
        note: String,
    },
}

/// The name of an event's kind, for errors, logs and queries (never any of its contents).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Assigned,
    Reassigned,
    CheckedOut,
    Delivered,
    AttemptFailed,
    Collected,
    HandedIn,
    Returned,
    Cancelled,
    ConflictAccepted,
    ProofRequested,
    DoorCardLeft,
    Rescheduled,
    ProofAdded,
    ProofAccepted,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Assigned => "assigned",
            EventKind::Reassigned => "reassigned",
            EventKind::CheckedOut => "checked_out",
            EventKind::Delivered => "delivered",
            EventKind::AttemptFailed => "attempt_failed",
            EventKind::Collected => "collected",
            EventKind::HandedIn => "handed_in",
            EventKind::Returned => "returned",
            EventKind::Cancelled => "cancelled",
            EventKind::ConflictAccepted => "conflict_accepted",
            EventKind::ProofRequested => "proof_requested",
            EventKind::DoorCardLeft => "door_card_left",
            EventKind::Rescheduled => "rescheduled",
            EventKind::ProofAdded => "proof_added",
            EventKind::ProofAccepted => "proof_accepted",
        }
    }

    /// Facts a staff phone records at a door; the others are coordinators' decisions at the centre.
    /// `DoorCardLeft` and `ProofAdded` are facts: only a phone records them, signed in its chain; they are not
    /// handoffs (see [`EventKind::is_handoff`]).
    pub fn is_device_fact(self) -> bool {
        matches!(
            self,
            EventKind::Delivered
                | EventKind::AttemptFailed
                | EventKind::Collected
                | EventKind::DoorCardLeft
                | EventKind::ProofAdded
        )
    }

    /// A handoff at a door: what a proof policy is checked against.
    pub fn is_handoff(self) -> bool {
        matches!(self, EventKind::Delivered | EventKind::Collected)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl EventPayload {
    pub fn kind(&self) -> EventKind {
        match self {
            EventPayload::Assigned { .. } => EventKind::Assigned,
            EventPayload::Reassigned { .. } => EventKind::Reassigned,
            EventPayload::CheckedOut { .. } => EventKind::CheckedOut,
            EventPayload::Delivered { .. } => EventKind::Delivered,
            EventPayload::AttemptFailed { .. } => EventKind::AttemptFailed,
            EventPayload::Collected { .. } => EventKind::Collected,
            EventPayload::HandedIn => EventKind::HandedIn,
            EventPayload::Returned { .. } => EventKind::Returned,
            EventPayload::Cancelled { .. } => EventKind::Cancelled,
            EventPayload::ConflictAccepted { .. } => EventKind::ConflictAccepted,
            EventPayload::ProofRequested { .. } => EventKind::ProofRequested,
            EventPayload::DoorCardLeft { .. } => EventKind::DoorCardLeft,
            EventPayload::Rescheduled { .. } => EventKind::Rescheduled,
            EventPayload::ProofAdded { .. } => EventKind::ProofAdded,
            EventPayload::ProofAccepted { .. } => EventKind::ProofAccepted,
        }
    }

    /// Every blob (photo, signature image) the event refers to.
    pub fn blobs(&self) -> Vec<Sha256> {
        match self {
            EventPayload::Delivered { proof } => proof.blobs().collect(),
            EventPayload::Collected { proof, materials } => {
                proof.blobs().chain(materials.iter().filter_map(|m| m.photo)).collect()
            }
            EventPayload::AttemptFailed { photos, .. } | EventPayload::ProofAdded { photos, .. } => photos.clone(),
            _ => Vec::new(),
        }
    }
}

/// One event with everything needed to order, deduplicate, chain and verify it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: EventId,
    pub task: TaskId,
    pub actor: Actor,
    /// The actor's own sequence number: 1, 2, 3, … with no gaps.
    pub seq: u64,
    /// [`Envelope::chain_hash`] of the actor's previous event; [`Sha256::ZERO`] for its first.
    pub prev: Sha256,
    /// When it happened, by the recorder's hybrid logical clock ([`Timestamp::next_after`]).
    pub at: Timestamp,
    pub payload: EventPayload,
    /// Ed25519 signature by the recording device over [`Envelope::signed_bytes`].
    pub signature: Option<Signature>,
}

/// The magic prefix and format version of the canonical encoding.
pub const CANONICAL_MAGIC: &[u8; 4] = b"JXE\x01";

#[derive(Serialize)]
struct SignedPartRef<'a> {
    id: &'a EventId,
    task: &'a TaskId,
    actor: &'a Actor,
    seq: u64,
    prev: &'a Sha256,
    at: Timestamp,
    payload: &'a EventPayload,
}

#[derive(Serialize, Deserialize)]
struct Full<'a> {
    #[serde(borrow)]
    signed: &'a [u8],
    signature: Option<Signature>,
}

#[derive(Deserialize)]
struct SignedPart {
    id: EventId,
    task: TaskId,
    actor: Actor,
    seq: u64,
    prev: Sha256,
    at: Timestamp,
    payload: EventPayload,
}

/// Why bytes did not decode into an envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not an event: the bytes do not start with the event format's prefix")]
    NotAnEvent,
    #[error("event format version {0} is newer than this program understands")]
    NewerVersion(u8),
    #[error("malformed event: {0}")]
    Malformed(String),
}

impl Envelope {
    /// The canonical bytes that are signed: every field but the signature.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let part = SignedPartRef {
            id: &self.id,
            task: &self.task,
            actor: &self.actor,
            seq: self.seq,
            prev: &self.prev,
            at: self.at,
            payload: &self.payload,
        };
        let mut out = CANONICAL_MAGIC.to_vec();
        // Serialising plain data into a Vec cannot fail: postcard only errors on unsupported types or full buffers.
        #[allow(clippy::expect_used)]
        let body = postcard::to_allocvec(&part).expect("postcard encodes plain data into a Vec");
        out.extend_from_slice(&body);
        out
    }

    /// The whole envelope, signature included: what is stored and hashed.
    pub fn encode(&self) -> Vec<u8> {
        let signed = self.signed_bytes();
        let full = Full { signed: &signed, signature: self.signature };
        #[allow(clippy::expect_used)]
        let body = postcard::to_allocvec(&full).expect("postcard encodes plain data into a Vec");
        body
    }

    /// Decodes [`Envelope::encode`]'s output. Never panics, whatever the bytes.
    pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
        let (full, rest): (Full<'_>, _) =
            postcard::take_from_bytes(bytes).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(DecodeError::Malformed(format!("{} trailing bytes", rest.len())));
        }
        let signed = full.signed;
        if signed.len() < 4 || &signed[..3] != b"JXE" {
            return Err(DecodeError::NotAnEvent);
        }
        if signed[3] != CANONICAL_MAGIC[3] {
            return Err(DecodeError::NewerVersion(signed[3]));
        }
        let (p, rest): (SignedPart, _) =
            postcard::take_from_bytes(&signed[4..]).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(DecodeError::Malformed(format!("{} trailing bytes in the signed part", rest.len())));
        }
        Ok(Envelope {
            id: p.id,
            task: p.task,
            actor: p.actor,
            seq: p.seq,
            prev: p.prev,
            at: p.at,
            payload: p.payload,
            signature: full.signature,
        })
    }

    /// The link of the actor's hash chain that this event makes: SHA-256 of its full encoding.
    pub fn chain_hash(&self) -> Sha256 {
        Sha256::of(&self.encode())
    }

    pub fn kind(&self) -> EventKind {
        self.payload.kind()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn sample() -> Envelope {
        Envelope {
            id: EventId(Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001)),
            task: TaskId(Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0002)),
            actor: Actor::Device { device: DeviceId(Uuid::from_u128(3)), staff: StaffId(7) },
            seq: 5,
            prev: Sha256([0xAB; 32]),
            at: Timestamp(1_795_950_300_000),
            payload: EventPayload::Delivered {
                proof: HandoffProof {
                    packet: Some("JX1:PK:abc".into()),
                    confirmation: Some(Confirmation::ResidentCode { code: "123456".into() }),
                    photos: vec![Sha256([0x11; 32])],
                    position: Some(Fix { at: LatLng::new(31.12, 121.45), accuracy_m: 8.0 }),
                    rating: Some(5),
                },
            },
            signature: None,
        }
    }

    proptest::proptest! {
        /// Decoding is fed bytes from the network and from disk: any bytes, and any corruption of a real
        /// envelope, give an error or an envelope, never a panic; a flipped byte never yields the same event.
        #[test]
        fn decoding_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
                                 flip in 0usize..400, bit in 0u8..8) {
            let _ = Envelope::decode(&bytes);
            let good = Envelope { signature: Some(Signature([9; 64])), ..sample() }.encode();
            let mut bad = good.clone();
            let i = flip % bad.len();
            bad[i] ^= 1 << bit;
            if let Ok(e) = Envelope::decode(&bad) {
                proptest::prop_assert_ne!(e.encode(), good.clone());
            }
            let _ = Envelope::decode(&good[..i]);
        }

        /// Events travel as JSON and are signed over their binary form: any position a phone reports must come back
        /// from JSON bit for bit, or the centre would see a forged signature.
        #[test]
        fn json_keeps_the_signed_bytes_of_any_position(
            lat in -90.0f64..90.0, lng in -180.0f64..180.0, accuracy in 0.0f32..5000.0,
        ) {
            let mut e = sample();
            e.payload = EventPayload::Delivered {
                proof: HandoffProof { position: Some(Fix { at: LatLng::new(lat, lng), accuracy_m: accuracy }), ..Default::default() },
            };
            let back: Envelope = serde_json::from_str(&serde_json::to_string(&e).expect("json")).expect("parses");
            proptest::prop_assert_eq!(back.signed_bytes(), e.signed_bytes());
        }
    }

    #[test]
    fn encoding_round_trips() {
        let e = sample();
        assert_eq!(Envelope::decode(&e.encode()), Ok(e.clone()));
        let signed = Envelope { signature: Some(Signature([7; 64])), ..e };
        assert_eq!(Envelope::decode(&signed.encode()), Ok(signed));
    }

    #[test]
    fn canonical_bytes_are_stable() {
        // Golden value: if this changes, every stored signature and hash chain breaks. Append, never reorder.
        assert_eq!(
            Sha256::of(&sample().signed_bytes()).to_hex(),
            include_str!("../tests/golden/envelope_signed_sha256.txt").trim()
        );
    }

    #[test]
    fn the_coordinators_later_decisions_are_appended_and_round_trip() {
        // postcard writes a variant's index first: appended variants leave every earlier event's bytes as they were.
        let index = |p: &EventPayload| postcard::to_allocvec(p).expect("encodes")[0];
        assert_eq!(index(&EventPayload::Cancelled { reason: String::new() }), 8);
        let accepted = EventPayload::ConflictAccepted {
            event: EventId(Uuid::from_u128(9)),
            staff: Some(StaffId(3)),
            note: "交接属实".into(),
        };
        let asked = EventPayload::ProofRequested { note: "photo unreadable".into() };
        assert_eq!((index(&accepted), index(&asked)), (9, 10));
        for payload in [accepted, asked] {
            assert!(!payload.kind().is_device_fact());
            let e = Envelope { payload, ..sample() };
            assert_eq!(Envelope::decode(&e.encode()), Ok(e.clone()));
        }
        assert_eq!(EventKind::ConflictAccepted.as_str(), "conflict_accepted");
        assert_eq!(EventKind::ProofRequested.to_string(), "proof_requested");
    }

    #[test]
    fn the_door_card_events_are_appended_and_round_trip() {
        let index = |p: &EventPayload| postcard::to_allocvec(p).expect("encodes")[0];
        let left = EventPayload::DoorCardLeft { card: "JX1:card".into() };
        let booked = EventPayload::Rescheduled { at: Timestamp(1_796_036_400_000), card: "JX1:card".into() };
        assert_eq!((index(&left), index(&booked)), (11, 12));
        assert!(left.kind().is_device_fact() && !left.kind().is_handoff());
        assert!(!booked.kind().is_device_fact());
        assert_eq!((left.kind().as_str(), booked.kind().as_str()), ("door_card_left", "rescheduled"));
        for payload in [left, booked] {
            assert!(payload.blobs().is_empty());
            let e = Envelope { payload, ..sample() };
            assert_eq!(Envelope::decode(&e.encode()), Ok(e.clone()));
            let back: Envelope = serde_json::from_str(&serde_json::to_string(&e).expect("json")).expect("parses");
            assert_eq!(back.signed_bytes(), e.signed_bytes());
        }
    }

    #[test]
    fn added_and_accepted_proof_are_appended_and_round_trip() {
        let index = |p: &EventPayload| postcard::to_allocvec(p).expect("encodes")[0];
        let photo = Sha256::of(b"the packet on the doormat");
        let added = EventPayload::ProofAdded { photos: vec![photo], note: "居民不在，交给了女儿".into() };
        let accepted = EventPayload::ProofAccepted { note: "已电话核实".into() };
        assert_eq!((index(&added), index(&accepted)), (13, 14));
        assert!(added.kind().is_device_fact() && !added.kind().is_handoff());
        assert!(!accepted.kind().is_device_fact());
        assert_eq!((added.kind().as_str(), accepted.kind().as_str()), ("proof_added", "proof_accepted"));
        assert_eq!(added.blobs(), vec![photo]);
        assert!(accepted.blobs().is_empty());
        for payload in [added, accepted] {
            let e = Envelope { payload, ..sample() };
            assert_eq!(Envelope::decode(&e.encode()), Ok(e.clone()));
            let back: Envelope = serde_json::from_str(&serde_json::to_string(&e).expect("json")).expect("parses");
            assert_eq!(back.signed_bytes(), e.signed_bytes());
        }
    }

    #[test]
    fn the_signature_is_not_signed_but_is_chained() {
        let a = sample();
        let b = Envelope { signature: Some(Signature([1; 64])), ..a.clone() };
        assert_eq!(a.signed_bytes(), b.signed_bytes());
        assert_ne!(a.chain_hash(), b.chain_hash());
    }

    #[test]
    fn bad_bytes_get_specific_errors() {
        assert!(matches!(Envelope::decode(b""), Err(DecodeError::Malformed(_))));
        let mut other = sample().encode();
        // The signed part is length-prefixed (one byte of varint for this size), so its magic starts at index 1 or 2.
        let at = other.windows(3).position(|w| w == b"JXE").expect("magic present");
        other[at + 3] = 9;
        assert_eq!(Envelope::decode(&other), Err(DecodeError::NewerVersion(9)));
        other[at] = b'X';
        assert_eq!(Envelope::decode(&other), Err(DecodeError::NotAnEvent));
        let mut long = sample().encode();
        long.push(0);
        assert!(matches!(Envelope::decode(&long), Err(DecodeError::Malformed(_))));
    }

    #[test]
    fn the_household_confirmations_are_appended_and_round_trip() {
        // postcard writes a variant's index first: appended variants leave every earlier event's bytes as they were.
        let index = |c: &Confirmation| postcard::to_allocvec(c).expect("encodes")[0];
        assert_eq!(index(&Confirmation::Signature { image: Sha256([1; 32]) }), 2);
        let new = [
            Confirmation::HouseholdCard { token: "JX1:card".into() },
            Confirmation::HouseholdCode { code: "135790".into() },
            Confirmation::Proxy { proxy: 3, name: "李*".into(), relation: "女儿".into(), code: "246810".into() },
            Confirmation::Witness { photo: Sha256([4; 32]), witness: "邻居 王阿姨".into() },
        ];
        assert_eq!(new.iter().map(index).collect::<Vec<_>>(), vec![4, 5, 6, 7]);
        for c in new {
            let payload =
                EventPayload::Delivered { proof: HandoffProof { confirmation: Some(c), ..Default::default() } };
            let e = Envelope { payload, ..sample() };
            assert_eq!(Envelope::decode(&e.encode()), Ok(e.clone()));
            let back: Envelope = serde_json::from_str(&serde_json::to_string(&e).expect("json")).expect("parses");
            assert_eq!(back.signed_bytes(), e.signed_bytes());
        }
    }

    #[test]
    fn a_witness_photo_travels_as_a_blob() {
        let payload = EventPayload::Delivered {
            proof: HandoffProof {
                confirmation: Some(Confirmation::Witness { photo: Sha256([9; 32]), witness: "邻居".into() }),
                photos: vec![Sha256([1; 32])],
                ..Default::default()
            },
        };
        assert_eq!(payload.blobs(), vec![Sha256([1; 32]), Sha256([9; 32])]);
    }

    #[test]
    fn blobs_lists_every_photo_and_signature() {
        let payload = EventPayload::Collected {
            proof: HandoffProof {
                confirmation: Some(Confirmation::Signature { image: Sha256([2; 32]) }),
                photos: vec![Sha256([1; 32])],
                ..Default::default()
            },
            materials: vec![MaterialCheck { name: "户口簿".into(), present: true, photo: Some(Sha256([3; 32])) }],
        };
        assert_eq!(payload.blobs(), vec![Sha256([1; 32]), Sha256([2; 32]), Sha256([3; 32])]);
    }
}
