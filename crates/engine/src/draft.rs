//! A handoff in progress: what has been taken so far and, from that alone, the step the screen is on. Saved after
//! every step, so a killed app reopens exactly there. Pure: the engine fills it, the screen shows it.

use jx_core::bytes::Sha256;
use jx_core::event::{Confirmation, EventPayload, Fix, HandoffProof, MaterialCheck};
use jx_core::model::{ProofRequirement, TaskKind, TaskSheet};
use jx_core::{TaskId, Timestamp};
use serde::{Deserialize, Serialize};

/// A photo taken for the handoff: its address, and a small preview for the screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRef {
    pub sha256: Sha256,
    /// A `data:image/jpeg;base64,…` URL of the 320 px thumbnail.
    pub thumb: String,
}

/// One line of a pickup's checklist as it stands at the door.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterialDraft {
    pub name: String,
    pub required: bool,
    pub original: bool,
    pub present: bool,
    pub photo: Option<PhotoRef>,
}

/// The steps of a handoff, in the order the screen takes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Scan the packet's label.
    Packet,
    /// The resident confirms: their QR, their 6-digit code, or a signature.
    Confirm,
    /// A photo of the handoff.
    Photo,
    /// The pickup's checklist, a photo per item.
    Materials,
    /// The resident's authorisation signature (pickups).
    Signature,
    /// The resident rates the service (or declines).
    Rating,
    /// Everything is taken: record it.
    Ready,
}

impl Step {
    /// Whether the phone is turned to the resident for this step (they confirm, sign or rate).
    pub fn resident_facing(self) -> bool {
        matches!(self, Step::Confirm | Step::Signature | Step::Rating)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Packet => "packet",
            Step::Confirm => "confirm",
            Step::Photo => "photo",
            Step::Materials => "materials",
            Step::Signature => "signature",
            Step::Rating => "rating",
            Step::Ready => "ready",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub task: TaskId,
    pub kind: TaskKind,
    /// What is handed over (the service item's name), for the resident-facing screen and its readout.
    #[serde(default)]
    pub item: String,
    pub requires: Vec<ProofRequirement>,
    /// The packet label's token text, checked when scanned.
    pub packet: Option<String>,
    pub packet_skipped: bool,
    pub confirmation: Option<Confirmation>,
    pub photos: Vec<PhotoRef>,
    pub materials: Vec<MaterialDraft>,
    pub rating: Option<u8>,
    /// The resident was asked for a rating (and gave one or declined).
    pub rated: bool,
    pub position: Option<Fix>,
    pub started_at: Timestamp,
}

impl Draft {
    /// A new handoff of `sheet`'s task.
    pub fn new(sheet: &TaskSheet, now: Timestamp) -> Draft {
        Draft {
            task: sheet.task.id,
            kind: sheet.task.kind,
            item: sheet.service_item_name.clone(),
            requires: sheet.task.proof.requires.clone(),
            packet: None,
            packet_skipped: false,
            confirmation: None,
            photos: vec![],
            materials: sheet
                .materials
                .iter()
                .map(|m| MaterialDraft {
                    name: m.name.clone(),
                    required: m.required,
                    original: m.original,
                    present: false,
                    photo: None,
                })
                .collect(),
            rating: None,
            rated: false,
            position: None,
            started_at: now,
        }
    }

    fn requires(&self, r: ProofRequirement) -> bool {
        self.requires.contains(&r)
    }

    /// The steps of this handoff, in order. A delivery: packet, confirmation, photo, rating. A pickup: checklist,
    /// signature, the packet's new label, rating. A step the policy does not need is still offered when it is
    /// part of the job (a pickup's label), but may be skipped.
    pub fn steps(&self) -> Vec<Step> {
        match self.kind {
            TaskKind::Delivery => {
                let mut s = vec![];
                if self.requires(ProofRequirement::PacketScan) {
                    s.push(Step::Packet);
                }
                s.push(Step::Confirm);
                if self.requires(ProofRequirement::HandoffPhoto) {
                    s.push(Step::Photo);
                }
                s.push(Step::Rating);
                s
            }
            TaskKind::Pickup => vec![Step::Materials, Step::Signature, Step::Packet, Step::Rating],
        }
    }

    /// Whether `step` may be skipped.
    pub fn skippable(&self, step: Step) -> bool {
        match step {
            Step::Packet => !self.requires(ProofRequirement::PacketScan),
            Step::Rating => true,
            _ => false,
        }
    }

    /// Whether `step` has been taken.
    pub fn done(&self, step: Step) -> bool {
        match step {
            Step::Packet => self.packet.is_some() || self.packet_skipped,
            Step::Confirm | Step::Signature => self.confirmation.is_some(),
            Step::Photo => !self.photos.is_empty(),
            Step::Materials => {
                self.materials.iter().all(|m| (!m.required || m.present) && (!m.present || m.photo.is_some()))
                    && self.materials.iter().any(|m| m.present)
            }
            Step::Rating => self.rated,
            Step::Ready => false,
        }
    }

    /// The step the screen is on: the first not yet taken, or [`Step::Ready`].
    pub fn current(&self) -> Step {
        self.steps().into_iter().find(|s| !self.done(*s)).unwrap_or(Step::Ready)
    }

    /// The fact this draft records.
    pub fn payload(&self) -> EventPayload {
        let proof = HandoffProof {
            packet: self.packet.clone(),
            confirmation: self.confirmation.clone(),
            photos: self.photos.iter().map(|p| p.sha256).collect(),
            position: self.position,
            rating: self.rating,
        };
        match self.kind {
            TaskKind::Delivery => EventPayload::Delivered { proof },
            TaskKind::Pickup => EventPayload::Collected {
                proof,
                materials: self
                    .materials
                    .iter()
                    .map(|m| MaterialCheck {
                        name: m.name.clone(),
                        present: m.present,
                        photo: m.photo.as_ref().map(|p| p.sha256),
                    })
                    .collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jx_core::demo::demo_town;
    use jx_core::strokes::{Point, Strokes};
    use proptest::prelude::*;

    fn sheet(kind: TaskKind) -> TaskSheet {
        let town = demo_town();
        let task = town.tasks.iter().find(|t| t.kind == kind).expect("the demo town has both kinds");
        town.sheet(task).expect("a sheet for a demo task")
    }

    fn photo(n: u8) -> PhotoRef {
        PhotoRef { sha256: Sha256::of(&[n]), thumb: String::new() }
    }

    #[test]
    fn a_delivery_walks_packet_confirm_photo_rating_then_is_ready() {
        let mut d = Draft::new(&sheet(TaskKind::Delivery), Timestamp(0));
        assert_eq!(d.steps(), vec![Step::Packet, Step::Confirm, Step::Photo, Step::Rating]);
        assert_eq!(d.current(), Step::Packet);
        d.packet = Some("JX1:x".into());
        assert_eq!(d.current(), Step::Confirm);
        d.confirmation = Some(Confirmation::ResidentCode { code: "123456".into() });
        assert_eq!(d.current(), Step::Photo);
        d.photos.push(photo(1));
        assert_eq!(d.current(), Step::Rating);
        assert!(d.skippable(Step::Rating) && !d.skippable(Step::Packet));
        d.rated = true;
        assert_eq!(d.current(), Step::Ready);
        let EventPayload::Delivered { proof } = d.payload() else { panic!("a delivery records Delivered") };
        assert_eq!(proof.photos, vec![Sha256::of(&[1])]);
    }

    #[test]
    fn a_pickup_needs_every_required_item_present_and_photographed() {
        let mut d = Draft::new(&sheet(TaskKind::Pickup), Timestamp(0));
        assert_eq!(d.current(), Step::Materials);
        assert!(!d.materials.is_empty(), "the demo's pickups have checklists");
        for m in &mut d.materials {
            m.present = true;
        }
        assert_eq!(d.current(), Step::Materials, "present but not photographed");
        for (i, m) in d.materials.iter_mut().enumerate() {
            m.photo = Some(photo(i as u8));
        }
        assert_eq!(d.current(), Step::Signature);
        d.confirmation = Some(Confirmation::Handwritten {
            strokes: Strokes {
                width: 300,
                height: 150,
                strokes: vec![vec![Point { x: 10, y: 10, t_ms: 0 }, Point { x: 90, y: 40, t_ms: 16 }]],
            },
        });
        assert_eq!(d.current(), Step::Packet);
        assert!(d.skippable(Step::Packet), "the pickup policy does not require a label");
        d.packet_skipped = true;
        d.rated = true;
        assert_eq!(d.current(), Step::Ready);
        let EventPayload::Collected { materials, .. } = d.payload() else { panic!("a pickup records Collected") };
        assert!(materials.iter().all(|m| m.present && m.photo.is_some()));
    }

    proptest! {
        /// Whatever has been taken, the current step is the first of the handoff's steps not taken, and it is
        /// Ready only when every step is.
        #[test]
        fn the_current_step_is_the_first_untaken(
            pickup in any::<bool>(), packet in any::<bool>(), confirm in any::<bool>(), photos in 0usize..3,
            rated in any::<bool>(), present in proptest::collection::vec(any::<(bool, bool)>(), 0..4),
        ) {
            let kind = if pickup { TaskKind::Pickup } else { TaskKind::Delivery };
            let mut d = Draft::new(&sheet(kind), Timestamp(0));
            if packet { d.packet = Some("JX1:p".into()); }
            if confirm { d.confirmation = Some(Confirmation::ResidentCode { code: "000000".into() }); }
            d.photos = (0..photos as u8).map(photo).collect();
            d.rated = rated;
            for (m, (p, ph)) in d.materials.iter_mut().zip(present) {
                m.present = p;
                m.photo = ph.then(|| photo(9));
            }
            let steps = d.steps();
            let cur = d.current();
            match steps.iter().position(|s| !d.done(*s)) {
                Some(i) => prop_assert_eq!(cur, steps[i]),
                None => prop_assert_eq!(cur, Step::Ready),
            }
            prop_assert!(steps.iter().take_while(|s| **s != cur).all(|s| d.done(*s)));
        }
    }
}
