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
//!
//! ## Residents without a phone
//! [`ProofRequirement::ResidentConfirmation`] is also met, for a resident who has no smartphone, by:
//! - their **household card** (户卡): the token must be the centre's, of a card of *this task's resident*, and the
//!   card must have been in force at the handoff ([`HouseholdContext::cards`]): a card replaced before the handoff
//!   is refused ([`Gap::CardReplaced`]). A phone holds only the card in force, so it refuses an old card as soon as
//!   it has pulled the new serial; the centre keeps every card with the moment it was replaced, so a handoff
//!   recorded before a reissue stays proven (as a code scanned before its key was retired does);
//! - the **household code** printed under the card's QR, checked against the code of a card in force at the handoff;
//! - a **family member** (代收人) on file ([`HouseholdContext::proxies`]) and not removed before the handoff, with
//!   their own code: the member must be on file as recorded (number, masked name, relation) and the code theirs;
//! - a **witness photo**, the named fallback where nobody can confirm: a photo of the handoff with a named witness
//!   (the family member or a neighbour). It counts only together with at least one handoff photo *other* than the
//!   witness photo (so one snapshot never stands for both the handoff and its witness), and the witness must be
//!   named. Coordinators see which way a handoff was confirmed and may ask for better proof.

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
    /// What is on file about the task's resident's household: their card and their family members.
    pub household: HouseholdContext<'a>,
}

/// What is on file about a resident's household where the check runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct HouseholdContext<'a> {
    /// The resident's household cards: on a phone only the one in force (none when none was issued, or the phone
    /// has not got it yet); at the centre every card issued, the replaced ones with when they were replaced.
    pub cards: &'a [CardOnFile<'a>],
    /// The family members who may receive for the resident (at the centre, removed ones too, with when).
    pub proxies: &'a [ProxyCheck<'a>],
}

/// A household card: its serial, how its code can be checked, and whether it is still in force.
#[derive(Clone, Copy, Debug)]
pub struct CardOnFile<'a> {
    pub serial: u32,
    pub code: CodeOnFile<'a>,
    /// When a newer card replaced it; `None` for the card in force.
    pub replaced_at: Option<Timestamp>,
}

impl CardOnFile<'_> {
    /// Whether the card was in force at `at`.
    pub fn in_force_at(&self, at: Timestamp) -> bool {
        self.replaced_at.is_none_or(|r| at < r)
    }
}

/// One family member on file, as a handoff must name them.
#[derive(Clone, Copy, Debug)]
pub struct ProxyCheck<'a> {
    pub id: u32,
    /// Masked (张**), as phones hold it and as the event records it.
    pub name: &'a str,
    pub relation: &'a str,
    pub code: CodeOnFile<'a>,
    /// When a coordinator removed them; `None` while they are on file.
    pub removed_at: Option<Timestamp>,
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
    #[error("the household card's QR is not valid: {error}")]
    HouseholdCardInvalid { error: String },
    #[error("the household card is another resident's")]
    CardOtherResident,
    #[error("the household card No. {card} was replaced: No. {current} is in force")]
    CardReplaced { card: u32, current: u32 },
    #[error("the household card No. {card} is newer than the one on file (No. {known}): sync and check again")]
    CardNewer { card: u32, known: u32 },
    #[error("no household card is on file for this resident")]
    HouseholdNotOnFile,
    #[error("the household code is wrong")]
    HouseholdCodeWrong,
    #[error("family member {proxy} is not (or no longer) on file for this resident")]
    ProxyUnknown { proxy: u32 },
    #[error("family member {proxy} is recorded with another name or relation than the one on file")]
    ProxyNotAsOnFile { proxy: u32 },
    #[error("the code of family member {proxy} is wrong")]
    ProxyCodeWrong { proxy: u32 },
    #[error("no code is on file for family member {proxy}")]
    ProxyCodeNotOnFile { proxy: u32 },
    #[error("the witness is not named")]
    WitnessUnnamed,
    #[error("a witness photo counts only with a separate photo of the handoff")]
    WitnessWithoutHandoffPhoto,
}

impl Gap {
    /// The policy requirement this gap falls under.
    pub fn requirement(&self) -> ProofRequirement {
        match self {
            Gap::Missing { requirement } => *requirement,
            Gap::PacketInvalid { .. } => ProofRequirement::PacketScan,
            Gap::ResidentQrInvalid { .. }
            | Gap::CodeWrong
            | Gap::CodeNotOnFile
            | Gap::HouseholdCardInvalid { .. }
            | Gap::CardOtherResident
            | Gap::CardReplaced { .. }
            | Gap::CardNewer { .. }
            | Gap::HouseholdNotOnFile
            | Gap::HouseholdCodeWrong
            | Gap::ProxyUnknown { .. }
            | Gap::ProxyNotAsOnFile { .. }
            | Gap::ProxyCodeWrong { .. }
            | Gap::ProxyCodeNotOnFile { .. }
            | Gap::WitnessUnnamed
            | Gap::WitnessWithoutHandoffPhoto => ProofRequirement::ResidentConfirmation,
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
                Some(c @ (Confirmation::Signature { .. } | Confirmation::Handwritten { .. })) => {
                    if let Some(Err(g)) = signature(c) {
                        gaps.push(g);
                    }
                }
                Some(c) => gaps.extend(household(task, proof, c, at, ctx)),
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

/// Whether `code` is the one on file: `None` when nothing is on file to check it against.
fn code_matches(code: &str, on_file: CodeOnFile) -> Option<bool> {
    match on_file {
        CodeOnFile::Hash(h) => Some(check_code(code, h)),
        CodeOnFile::Plain(expected) => Some(constant_time_eq(code.trim().as_bytes(), expected.as_bytes())),
        CodeOnFile::None => None,
    }
}

/// What a household confirmation (card, household code, family member, witness) lacks; see the module's rules.
fn household(task: &Task, proof: &HandoffProof, c: &Confirmation, at: Timestamp, ctx: &ProofContext) -> Option<Gap> {
    let on_file = ctx.household;
    match c {
        Confirmation::HouseholdCard { token } => {
            let card = match ctx.keyring.verify_household(token, at) {
                Ok(card) => card,
                Err(e) => return Some(Gap::HouseholdCardInvalid { error: token_gap(e) }),
            };
            if card.resident != task.resident {
                return Some(Gap::CardOtherResident);
            }
            let Some(current) = on_file.cards.iter().map(|c| c.serial).max() else {
                return Some(Gap::HouseholdNotOnFile);
            };
            if card.serial > current {
                return Some(Gap::CardNewer { card: card.serial, known: current });
            }
            match on_file.cards.iter().find(|c| c.serial == card.serial) {
                Some(c) if c.in_force_at(at) => None,
                _ => Some(Gap::CardReplaced { card: card.serial, current }),
            }
        }
        Confirmation::HouseholdCode { code } => {
            let Some(current) = on_file.cards.iter().map(|c| c.serial).max() else {
                return Some(Gap::HouseholdNotOnFile);
            };
            let mut checkable = false;
            for c in on_file.cards.iter().filter(|c| c.in_force_at(at)) {
                match code_matches(code, c.code) {
                    Some(true) => return None,
                    Some(false) => checkable = true,
                    None => {}
                }
            }
            // The code of a card replaced before the handoff (only the centre still knows those).
            let replaced =
                on_file.cards.iter().filter(|c| !c.in_force_at(at)).find(|c| code_matches(code, c.code) == Some(true));
            match replaced {
                Some(c) => Some(Gap::CardReplaced { card: c.serial, current }),
                None if checkable => Some(Gap::HouseholdCodeWrong),
                None => Some(Gap::HouseholdNotOnFile),
            }
        }
        Confirmation::Proxy { proxy, name, relation, code } => {
            let on = |p: &&ProxyCheck| p.id == *proxy && p.removed_at.is_none_or(|r| at < r);
            let Some(p) = on_file.proxies.iter().find(on) else {
                return Some(Gap::ProxyUnknown { proxy: *proxy });
            };
            if p.name != name || p.relation != relation {
                return Some(Gap::ProxyNotAsOnFile { proxy: *proxy });
            }
            match code_matches(code, p.code) {
                None => Some(Gap::ProxyCodeNotOnFile { proxy: *proxy }),
                Some(false) => Some(Gap::ProxyCodeWrong { proxy: *proxy }),
                Some(true) => None,
            }
        }
        Confirmation::Witness { photo, witness } => {
            if witness.trim().is_empty() {
                Some(Gap::WitnessUnnamed)
            } else if !proof.photos.iter().any(|p| p != photo) {
                Some(Gap::WitnessWithoutHandoffPhoto)
            } else {
                None
            }
        }
        // Checked by the caller.
        Confirmation::ResidentQr { .. }
        | Confirmation::ResidentCode { .. }
        | Confirmation::Signature { .. }
        | Confirmation::Handwritten { .. } => None,
    }
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
        ProofContext { keyring: ring, code: CodeOnFile::None, site: None, household: HouseholdContext::default() }
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
                &ProofContext { keyring: &ring, code: on_file, site: None, household: HouseholdContext::default() },
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
                &ProofContext { keyring: &ring, code: CodeOnFile::None, site, household: HouseholdContext::default() },
            )
        };
        assert_eq!(at(50.0, 5.0), vec![]);
        assert_eq!(at(240.0, 5.0), vec![], "140 m out is within the threshold");
        assert_eq!(at(400.0, 5.0), vec![Gap::FarFromCompound { distance_m: 300, threshold_m: 150 }]);
        assert_eq!(at(400.0, 200.0), vec![], "a fix this poor cannot say it was far");
    }

    /// A delivery proven in every way but the resident's confirmation, which is `c`, checked with `household`.
    fn confirmed_by(
        t: &Task,
        c: Confirmation,
        photos: Vec<crate::bytes::Sha256>,
        household: HouseholdContext,
    ) -> Vec<Gap> {
        let ring = Keyring(vec![signer().public()]);
        let mut proof = full_delivery(t);
        proof.confirmation = Some(c);
        proof.photos = photos;
        let ctx = ProofContext { keyring: &ring, code: CodeOnFile::None, site: None, household };
        check(t, &EventPayload::Delivered { proof }, AT, &ctx)
    }

    fn photo() -> Vec<crate::bytes::Sha256> {
        vec![crate::bytes::Sha256::of(b"photo")]
    }

    #[test]
    fn a_household_card_must_be_the_residents_card_in_force() {
        use crate::token::HouseholdCard;
        let t = task(TaskKind::Delivery, 1);
        let card = |resident: u32, serial| Confirmation::HouseholdCard {
            token: signer().issue_household(HouseholdCard { resident: ResidentId(resident), serial }, AT),
        };
        // As a phone holds it: the card in force only.
        let in_force = [CardOnFile { serial: 2, code: CodeOnFile::Plain("135790"), replaced_at: None }];
        let phone = HouseholdContext { cards: &in_force, proxies: &[] };
        assert_eq!(confirmed_by(&t, card(1, 2), photo(), phone), vec![]);
        assert_eq!(confirmed_by(&t, card(1, 1), photo(), phone), vec![Gap::CardReplaced { card: 1, current: 2 }]);
        assert_eq!(confirmed_by(&t, card(1, 3), photo(), phone), vec![Gap::CardNewer { card: 3, known: 2 }]);
        assert_eq!(confirmed_by(&t, card(2, 2), photo(), phone), vec![Gap::CardOtherResident]);
        assert_eq!(confirmed_by(&t, card(1, 1), photo(), HouseholdContext::default()), vec![Gap::HouseholdNotOnFile]);
        let forged = TokenSigner::from_secret(3, [7; 32])
            .issue_household(HouseholdCard { resident: ResidentId(1), serial: 2 }, AT);
        let gaps = confirmed_by(&t, Confirmation::HouseholdCard { token: forged }, photo(), phone);
        assert!(matches!(&gaps[..], [Gap::HouseholdCardInvalid { error }] if error.contains("forged")), "{gaps:?}");
        let per_task = signer().issue(TokenKind::ResidentConfirmation, t.id, AT);
        let gaps = confirmed_by(&t, Confirmation::HouseholdCard { token: per_task }, photo(), phone);
        assert!(matches!(&gaps[..], [Gap::HouseholdCardInvalid { error }] if error.contains("code is needed")));
        assert_eq!(gaps[0].requirement(), ProofRequirement::ResidentConfirmation);

        // As the centre holds them: card No. 1 was replaced by No. 2 at `AT`. A handoff with No. 1 recorded before
        // then stays proven; one recorded at or after it is not.
        let history = [
            CardOnFile { serial: 1, code: CodeOnFile::Plain("111111"), replaced_at: Some(AT) },
            CardOnFile { serial: 2, code: CodeOnFile::Plain("222222"), replaced_at: None },
        ];
        let centre = HouseholdContext { cards: &history, proxies: &[] };
        let at = |c: Confirmation, when: Timestamp| {
            let ring = Keyring(vec![signer().public()]);
            let mut proof = full_delivery(&t);
            proof.confirmation = Some(c);
            let ctx = ProofContext { keyring: &ring, code: CodeOnFile::None, site: None, household: centre };
            check(&t, &EventPayload::Delivered { proof }, when, &ctx)
        };
        let before = Timestamp(AT.0 - 1);
        assert_eq!(at(card(1, 1), before), vec![]);
        assert_eq!(at(card(1, 1), AT), vec![Gap::CardReplaced { card: 1, current: 2 }]);
        assert_eq!(at(card(1, 2), AT), vec![]);
        let code = |c: &str| Confirmation::HouseholdCode { code: c.into() };
        assert_eq!(at(code("111111"), before), vec![]);
        assert_eq!(at(code("111111"), AT), vec![Gap::CardReplaced { card: 1, current: 2 }], "the old card's code");
        assert_eq!(at(code("222222"), AT), vec![]);
        assert_eq!(at(code("333333"), AT), vec![Gap::HouseholdCodeWrong]);
    }

    #[test]
    fn a_household_code_is_checked_against_the_card_on_file() {
        let t = task(TaskKind::Delivery, 1);
        let hash = hash_code("135790", [4; 16], 64, 1).expect("hash");
        let with = |code: &str, code_on_file| {
            let cards = [CardOnFile { serial: 1, code: code_on_file, replaced_at: None }];
            let household = HouseholdContext { cards: &cards, proxies: &[] };
            confirmed_by(&t, Confirmation::HouseholdCode { code: code.into() }, photo(), household)
        };
        assert_eq!(with("135790", CodeOnFile::Hash(&hash)), vec![]);
        assert_eq!(with(" 135790", CodeOnFile::Plain("135790")), vec![]);
        assert_eq!(with("135791", CodeOnFile::Hash(&hash)), vec![Gap::HouseholdCodeWrong]);
        assert_eq!(with("135791", CodeOnFile::Plain("135790")), vec![Gap::HouseholdCodeWrong]);
        assert_eq!(with("135790", CodeOnFile::None), vec![Gap::HouseholdNotOnFile]);
        let none = confirmed_by(&t, Confirmation::HouseholdCode { code: "135790".into() }, photo(), Default::default());
        assert_eq!(none, vec![Gap::HouseholdNotOnFile]);
    }

    #[test]
    fn a_family_member_must_be_on_file_as_recorded_with_their_own_code() {
        let t = task(TaskKind::Delivery, 1);
        let hash = hash_code("246810", [5; 16], 64, 1).expect("hash");
        let proxies = [
            ProxyCheck { id: 4, name: "李*", relation: "女儿", code: CodeOnFile::Hash(&hash), removed_at: None },
            ProxyCheck { id: 5, name: "王**", relation: "儿子", code: CodeOnFile::None, removed_at: None },
            ProxyCheck {
                id: 6,
                name: "赵*",
                relation: "女儿",
                code: CodeOnFile::Plain("135790"),
                removed_at: Some(AT),
            },
            ProxyCheck {
                id: 7,
                name: "钱*",
                relation: "女儿",
                code: CodeOnFile::Plain("135790"),
                removed_at: Some(Timestamp(AT.0 + 1)),
            },
        ];
        let household = HouseholdContext { cards: &[], proxies: &proxies };
        let by = |proxy, name: &str, code: &str| {
            let c = Confirmation::Proxy { proxy, name: name.into(), relation: "女儿".into(), code: code.into() };
            confirmed_by(&t, c, photo(), household)
        };
        assert_eq!(by(4, "李*", "246810"), vec![]);
        assert_eq!(by(4, "李*", "246811"), vec![Gap::ProxyCodeWrong { proxy: 4 }]);
        assert_eq!(by(4, "张*", "246810"), vec![Gap::ProxyNotAsOnFile { proxy: 4 }]);
        assert_eq!(by(9, "李*", "246810"), vec![Gap::ProxyUnknown { proxy: 9 }]);
        // Removed before the handoff: no longer on file; removed after it: the handoff stays proven.
        assert_eq!(by(6, "赵*", "135790"), vec![Gap::ProxyUnknown { proxy: 6 }]);
        assert_eq!(by(7, "钱*", "135790"), vec![]);
        let c =
            Confirmation::Proxy { proxy: 5, name: "王**".into(), relation: "儿子".into(), code: "000000".into() };
        assert_eq!(confirmed_by(&t, c, photo(), household), vec![Gap::ProxyCodeNotOnFile { proxy: 5 }]);
        // Another household's member is simply not on file for this one.
        assert_eq!(
            confirmed_by(
                &t,
                Confirmation::Proxy { proxy: 4, name: "李*".into(), relation: "女儿".into(), code: "246810".into() },
                photo(),
                HouseholdContext::default()
            ),
            vec![Gap::ProxyUnknown { proxy: 4 }]
        );
    }

    #[test]
    fn a_witness_photo_counts_only_named_and_beside_a_separate_handoff_photo() {
        let t = task(TaskKind::Delivery, 1);
        let w = crate::bytes::Sha256::of(b"witness");
        let witness = |name: &str| Confirmation::Witness { photo: w, witness: name.into() };
        assert_eq!(confirmed_by(&t, witness("邻居 王阿姨"), vec![w, photo()[0]], Default::default()), vec![]);
        assert_eq!(
            confirmed_by(&t, witness("邻居 王阿姨"), vec![w], Default::default()),
            vec![Gap::WitnessWithoutHandoffPhoto]
        );
        assert_eq!(
            confirmed_by(&t, witness("邻居"), vec![], Default::default()),
            vec![Gap::WitnessWithoutHandoffPhoto, Gap::Missing { requirement: ProofRequirement::HandoffPhoto }]
        );
        assert_eq!(confirmed_by(&t, witness("  "), photo(), Default::default()), vec![Gap::WitnessUnnamed]);
        // A pickup's authorisation is the resident's own signature: a witness does not stand in for it.
        let p = task(TaskKind::Pickup, 2);
        let proof = HandoffProof {
            confirmation: Some(witness("邻居")),
            photos: photo(),
            position: Some(Fix { at: LatLng { lat: 31.2, lng: 121.2 }, accuracy_m: 8.0 }),
            ..Default::default()
        };
        let m = vec![MaterialCheck { name: "户口簿".into(), present: true, photo: Some(w) }];
        let ring = Keyring::default();
        assert_eq!(
            check(&p, &EventPayload::Collected { proof, materials: m }, AT, &ctx(&ring)),
            vec![Gap::Missing { requirement: ProofRequirement::AuthorisationSignature }]
        );
    }

    #[test]
    fn the_new_gaps_have_stable_names() {
        let name = |g: Gap| serde_json::to_value(g).expect("json")["gap"].as_str().expect("tag").to_string();
        assert_eq!(name(Gap::CardReplaced { card: 1, current: 2 }), "card_replaced");
        assert_eq!(name(Gap::HouseholdCodeWrong), "household_code_wrong");
        assert_eq!(name(Gap::ProxyUnknown { proxy: 1 }), "proxy_unknown");
        assert_eq!(name(Gap::ProxyCodeWrong { proxy: 1 }), "proxy_code_wrong");
        assert_eq!(name(Gap::WitnessWithoutHandoffPhoto), "witness_without_handoff_photo");
    }

    #[test]
    fn non_handoff_events_need_no_proof() {
        let t = task(TaskKind::Delivery, 1);
        let ring = Keyring::default();
        let p = EventPayload::Returned { note: String::new() };
        assert!(check(&t, &p, AT, &ctx(&ring)).is_empty());
    }
}
