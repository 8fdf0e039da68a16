//! A handoff's proof policy, applied: what a delivery or pickup event carries, checked against what its task needs.
//!
//! The same check runs in two places. On the phone, before a handoff is recorded as complete: a handoff that lacks
//! what its policy needs is not recorded, and the staff member is told what is missing. At the centre, when the
//! event arrives: the phone's word is checked again with the centre's own knowledge (its keys, the resident's code
//! in clear), and whatever fails shows as a proof gap on the coordinator's board.
//!
//! Checking means verifying, not just noticing that something is there: the packet QR must be the centre's
//! signature on this task's packet label, the resident's QR must be this task's resident code, the 6-digit code
//! must match, a signature must have ink on it.

use crate::code::{CodeHash, check_code};
use crate::event::{Confirmation, EventPayload, HandoffProof, MaterialCheck};
use crate::model::{ProofRequirement, Task};
use crate::time::Timestamp;
use crate::token::{Keyring, TokenError, TokenKind};
use serde::{Deserialize, Serialize};

/// How the 6-digit code can be checked where the check runs.
#[derive(Clone, Copy, Debug)]
pub enum CodeOnFile<'a> {
    /// The phone: a salted slow hash.
    Hash(&'a CodeHash),
    /// The centre: the code itself.
    Plain(&'a str),
    /// Nothing on file for this task: a typed code cannot be checked.
    None,
}

/// What the check knows besides the event.
#[derive(Clone, Copy, Debug)]
pub struct ProofContext<'a> {
    pub keyring: &'a Keyring,
    pub code: CodeOnFile<'a>,
    /// The task's compound and how far outside it a handoff may be recorded before it is flagged (the centre sets
    /// it; on the phone a far position is shown, not refused, since a phone's fix can be off).
    pub site: Option<Site<'a>>,
}

/// Where a handoff is expected to happen.
#[derive(Clone, Copy, Debug)]
pub struct Site<'a> {
    pub boundary: &'a crate::geo::Polygon,
    pub far_m: f64,
}

/// One thing a handoff's proof lacks or gets wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "gap")]
pub enum Gap {
    #[error("missing: {requirement:?}")]
    Missing { requirement: ProofRequirement },
    #[error("the packet QR is not valid: {error}")]
    PacketInvalid { error: String },
    #[error("the resident's QR is not valid: {error}")]
    ResidentQrInvalid { error: String },
    #[error("the 6-digit code is wrong")]
    CodeWrong,
    #[error("the 6-digit code cannot be checked: no code is on file for this task")]
    CodeNotOnFile,
    #[error("the signature is blank")]
    SignatureBlank,
    #[error("material \"{name}\" is marked present but has no photo")]
    MaterialUnphotographed { name: String },
    #[error(
        "recorded {distance_m} m outside the task's compound (more than {threshold_m} m, allowing for the fix's accuracy)"
    )]
    FarFromCompound { distance_m: u32, threshold_m: u32 },
}

impl Gap {
    /// The policy requirement this gap falls under.
    pub fn requirement(&self) -> ProofRequirement {
        match self {
            Gap::Missing { requirement } => *requirement,
            Gap::PacketInvalid { .. } => ProofRequirement::PacketScan,
            Gap::ResidentQrInvalid { .. } | Gap::CodeWrong | Gap::CodeNotOnFile => {
                ProofRequirement::ResidentConfirmation
            }
            Gap::SignatureBlank => ProofRequirement::AuthorisationSignature,
            Gap::MaterialUnphotographed { .. } => ProofRequirement::MaterialPhotos,
            Gap::FarFromCompound { .. } => ProofRequirement::Location,
        }
    }
}

fn token_gap(e: TokenError) -> String {
    e.to_string()
}

/// Whether a signature confirmation has ink on it (a blob signature is taken as drawn; its bytes are checked where
/// they are stored).
fn signature(c: &Confirmation) -> Option<Result<(), Gap>> {
    match c {
        Confirmation::Signature { .. } => Some(Ok(())),
        Confirmation::Handwritten { strokes } if strokes.is_blank() => Some(Err(Gap::SignatureBlank)),
        Confirmation::Handwritten { .. } => Some(Ok(())),
        _ => None,
    }
}

/// Everything `payload` lacks of `task`'s policy, checked as of `at` (the event's time: a code scanned before its
/// key was retired stays good). Empty means proven. Events that are not handoffs need no proof.
pub fn check(task: &Task, payload: &EventPayload, at: Timestamp, ctx: &ProofContext) -> Vec<Gap> {
    let (proof, materials): (&HandoffProof, Option<&[MaterialCheck]>) = match payload {
        EventPayload::Delivered { proof } => (proof, None),
        EventPayload::Collected { proof, materials } => (proof, Some(materials)),
        _ => return vec![],
    };
    let mut gaps = Vec::new();
    let missing = |requirement| Gap::Missing { requirement };
    for &r in &task.proof.requires {
        match r {
            ProofRequirement::PacketScan => match &proof.packet {
                None => gaps.push(missing(r)),
                Some(text) => {
                    if let Err(e) = ctx.keyring.verify_for(text, TokenKind::PacketLabel, task.id, at) {
                        gaps.push(Gap::PacketInvalid { error: token_gap(e) });
                    }
                }
            },
            ProofRequirement::ResidentConfirmation => match &proof.confirmation {
                None => gaps.push(missing(r)),
                Some(Confirmation::ResidentQr { token }) => {
                    if let Err(e) = ctx.keyring.verify_for(token, TokenKind::ResidentConfirmation, task.id, at) {
                        gaps.push(Gap::ResidentQrInvalid { error: token_gap(e) });
                    }
                }
                Some(Confirmation::ResidentCode { code }) => {
                    let ok = match ctx.code {
                        CodeOnFile::Hash(h) => check_code(code, h),
                        CodeOnFile::Plain(expected) => constant_time_eq(code.trim().as_bytes(), expected.as_bytes()),
                        CodeOnFile::None => {
                            gaps.push(Gap::CodeNotOnFile);
                            continue;
                        }
                    };
                    if !ok {
                        gaps.push(Gap::CodeWrong);
                    }
                }
                Some(c) => {
                    if let Some(Err(g)) = signature(c) {
                        gaps.push(g);
                    }
                }
            },
            ProofRequirement::HandoffPhoto => {
                if proof.photos.is_empty() {
                    gaps.push(missing(r));
                }
            }
            ProofRequirement::MaterialPhotos => match materials {
                None | Some([]) => gaps.push(missing(r)),
                Some(list) => gaps.extend(
                    list.iter()
                        .filter(|m| m.present && m.photo.is_none())
                        .map(|m| Gap::MaterialUnphotographed { name: m.name.clone() }),
                ),
            },
            ProofRequirement::AuthorisationSignature => match proof.confirmation.as_ref().and_then(signature) {
                None => gaps.push(missing(r)),
                Some(Err(g)) => gaps.push(g),
                Some(Ok(())) => {}
            },
            ProofRequirement::Location => match (proof.position, ctx.site) {
                (None, _) => gaps.push(missing(r)),
                (Some(fix), Some(site)) => {
                    let outside = site.boundary.distance_m(fix.at);
                    if outside - f64::from(fix.accuracy_m.max(0.0)) > site.far_m {
                        gaps.push(Gap::FarFromCompound {
                            distance_m: outside.round() as u32,
                            threshold_m: site.far_m.round() as u32,
                        });
                    }
                }
                (Some(_), None) => {}
            },
        }
    }
    gaps
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::hash_code;
    use crate::event::Fix;
    use crate::geo::LatLng;
    use crate::ids::{CompoundId, ResidentId, ServiceItemId, TaskId};
    use crate::model::{Address, ProofPolicy, TaskKind};
    use crate::strokes::{Point, Strokes};
    use crate::token::TokenSigner;

    const AT: Timestamp = Timestamp(1_790_000_000_000);

    fn task(kind: TaskKind, n: u8) -> Task {
        Task {
            id: TaskId::v7(1_789_000_000_000, [n; 10]),
            kind,
            case_number: format!("C{n}"),
            service_item: ServiceItemId(1),
            resident: ResidentId(1),
            address: Address { compound: CompoundId(1), building: 1, unit: 1, room: "101".into() },
            proof: ProofPolicy::standard(kind),
            follows: None,
        }
    }

    fn signer() -> TokenSigner {
        TokenSigner::from_secret(3, [9; 32])
    }

    fn full_delivery(t: &Task) -> HandoffProof {
        HandoffProof {
            packet: Some(signer().issue(TokenKind::PacketLabel, t.id, AT)),
            confirmation: Some(Confirmation::ResidentQr {
                token: signer().issue(TokenKind::ResidentConfirmation, t.id, AT),
            }),
            photos: vec![crate::bytes::Sha256::of(b"photo")],
            position: Some(Fix { at: LatLng { lat: 31.2, lng: 121.2 }, accuracy_m: 8.0 }),
            rating: None,
        }
    }

    fn ctx(ring: &Keyring) -> ProofContext<'_> {
        ProofContext { keyring: ring, code: CodeOnFile::None, site: None }
    }

    #[test]
    fn a_fully_proven_delivery_has_no_gaps() {
        let t = task(TaskKind::Delivery, 1);
        let ring = Keyring(vec![signer().public()]);
        let p = EventPayload::Delivered { proof: full_delivery(&t) };
        assert_eq!(check(&t, &p, AT, &ctx(&ring)), vec![]);
    }

    #[test]
    fn an_empty_delivery_lists_every_requirement() {
        let t = task(TaskKind::Delivery, 1);
        let ring = Keyring(vec![signer().public()]);
        let gaps = check(&t, &EventPayload::Delivered { proof: HandoffProof::default() }, AT, &ctx(&ring));
        let reqs: Vec<_> = gaps.iter().map(Gap::requirement).collect();
        assert_eq!(reqs, t.proof.requires);
    }

    #[test]
    fn another_tasks_label_or_a_swapped_kind_is_caught() {
        let t = task(TaskKind::Delivery, 1);
        let other = task(TaskKind::Delivery, 2);
        let ring = Keyring(vec![signer().public()]);
        let mut proof = full_delivery(&t);
        proof.packet = full_delivery(&other).packet;
        proof.confirmation = Some(Confirmation::ResidentQr { token: full_delivery(&t).packet.expect("packet") });
        let gaps = check(&t, &EventPayload::Delivered { proof }, AT, &ctx(&ring));
        assert_eq!(gaps.len(), 2, "{gaps:?}");
        assert!(matches!(&gaps[0], Gap::PacketInvalid { error } if error.contains("not for this task")));
        assert!(matches!(&gaps[1], Gap::ResidentQrInvalid { error } if error.contains("code is needed")));
    }

    #[test]
    fn codes_are_checked_against_the_hash_or_the_clear_code() {
        let t = task(TaskKind::Delivery, 1);
        let ring = Keyring(vec![signer().public()]);
        let hash = hash_code("424242", [1; 16], 64, 1).expect("hash");
        let with = |code: &str, on_file| {
            let mut proof = full_delivery(&t);
            proof.confirmation = Some(Confirmation::ResidentCode { code: code.into() });
            check(
                &t,
                &EventPayload::Delivered { proof },
                AT,
                &ProofContext { keyring: &ring, code: on_file, site: None },
            )
        };
        assert_eq!(with("424242", CodeOnFile::Hash(&hash)), vec![]);
        assert_eq!(with(" 424242 ", CodeOnFile::Plain("424242")), vec![]);
        assert_eq!(with("424243", CodeOnFile::Hash(&hash)), vec![Gap::CodeWrong]);
        assert_eq!(with("42424", CodeOnFile::Plain("424242")), vec![Gap::CodeWrong]);
        assert_eq!(with("424242", CodeOnFile::None), vec![Gap::CodeNotOnFile]);
    }

    #[test]
    fn a_pickup_needs_ink_and_a_photo_of_each_material_present() {
        let t = task(TaskKind::Pickup, 1);
        let ring = Keyring::default();
        let strokes = |n: u16| Strokes {
            width: 300,
            height: 150,
            strokes: vec![(0..n).map(|i| Point { x: 10 + i, y: 50, t_ms: u32::from(i) * 16 }).collect()],
        };
        let proof = |n| HandoffProof {
            confirmation: Some(Confirmation::Handwritten { strokes: strokes(n) }),
            position: Some(Fix { at: LatLng { lat: 31.2, lng: 121.2 }, accuracy_m: 8.0 }),
            ..Default::default()
        };
        let m = |name: &str, present, photo: bool| MaterialCheck {
            name: name.into(),
            present,
            photo: photo.then(|| crate::bytes::Sha256::of(name.as_bytes())),
        };
        let good = vec![m("身份证复印件", true, true), m("户口簿", false, false)];
        assert_eq!(
            check(&t, &EventPayload::Collected { proof: proof(40), materials: good.clone() }, AT, &ctx(&ring)),
            vec![]
        );
        assert_eq!(
            check(&t, &EventPayload::Collected { proof: proof(1), materials: good }, AT, &ctx(&ring)),
            vec![Gap::SignatureBlank]
        );
        let bad = vec![m("身份证复印件", true, false)];
        assert_eq!(
            check(&t, &EventPayload::Collected { proof: proof(40), materials: bad }, AT, &ctx(&ring)),
            vec![Gap::MaterialUnphotographed { name: "身份证复印件".into() }]
        );
    }

    #[test]
    fn a_key_retired_before_the_handoff_fails_it_but_not_one_retired_after() {
        let t = task(TaskKind::Delivery, 1);
        let retire = |after| Keyring(vec![crate::token::CentreKey { retired_after: Some(after), ..signer().public() }]);
        let p = EventPayload::Delivered { proof: full_delivery(&t) };
        assert_eq!(check(&t, &p, AT, &ctx(&retire(Timestamp(AT.0 + 1)))), vec![]);
        let gaps = check(&t, &p, AT, &ctx(&retire(Timestamp(AT.0 - 1))));
        assert_eq!(gaps.len(), 2);
        assert!(gaps.iter().all(|g| g.to_string().contains("retired")));
    }

    #[test]
    fn a_handoff_far_outside_its_compound_is_flagged_with_the_distance() {
        let t = task(TaskKind::Delivery, 1);
        let ring = Keyring(vec![signer().public()]);
        let o = LatLng { lat: 31.2, lng: 121.2 };
        let square =
            crate::geo::Polygon(vec![o, o.offset_m(100.0, 0.0), o.offset_m(100.0, 100.0), o.offset_m(0.0, 100.0)]);
        let at = |east: f64, accuracy_m: f32| {
            let mut proof = full_delivery(&t);
            proof.position = Some(Fix { at: o.offset_m(east, 50.0), accuracy_m });
            let site = Some(Site { boundary: &square, far_m: 150.0 });
            check(
                &t,
                &EventPayload::Delivered { proof },
                AT,
                &ProofContext { keyring: &ring, code: CodeOnFile::None, site },
            )
        };
        assert_eq!(at(50.0, 5.0), vec![]);
        assert_eq!(at(240.0, 5.0), vec![], "140 m out is within the threshold");
        assert_eq!(at(400.0, 5.0), vec![Gap::FarFromCompound { distance_m: 300, threshold_m: 150 }]);
        assert_eq!(at(400.0, 200.0), vec![], "a fix this poor cannot say it was far");
    }

    #[test]
    fn non_handoff_events_need_no_proof() {
        let t = task(TaskKind::Delivery, 1);
        let ring = Keyring::default();
        let p = EventPayload::Returned { note: String::new() };
        assert!(check(&t, &p, AT, &ctx(&ring)).is_empty());
    }
}
