//! The things the service centre works with: compounds and their buildings, staff, residents, the service
//! catalogue, and tasks with the proof each one needs.

use crate::geo::{LatLng, Polygon};
use crate::ids::{CompoundId, ResidentId, ServiceItemId, StaffId, TaskId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A residential compound (小区) with its boundary and numbered buildings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Compound {
    pub id: CompoundId,
    pub name: String,
    pub boundary: Polygon,
    pub buildings: Vec<Building>,
}

impl Compound {
    pub fn building(&self, number: u16) -> Option<&Building> {
        self.buildings.iter().find(|b| b.number == number)
    }
}

/// A building (楼, 号楼) of a compound, as a point: where its entrance is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Building {
    pub number: u16,
    pub position: LatLng,
    pub units: u8,
    pub floors: u8,
}

/// What a member of staff does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A Jing Xiaoer team member who delivers and collects in their own compound.
    Staff,
    /// A coordinator at the centre.
    Coordinator,
}

/// A member of the centre's staff.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Staff {
    pub id: StaffId,
    pub name: String,
    pub role: Role,
    /// The compound they live in; coordinators have none.
    pub home: Option<StaffHome>,
    /// How many tasks they can take on an evening.
    pub capacity: u16,
}

/// Where a team member lives, down to the building they start their route from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffHome {
    pub compound: CompoundId,
    pub building: u16,
}

/// An address inside a compound, down to the room.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Address {
    pub compound: CompoundId,
    /// Building number (号楼).
    pub building: u16,
    /// Unit / stairwell (单元).
    pub unit: u8,
    /// Room (室), e.g. "1203".
    pub room: String,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}号楼{}单元{}室", self.building, self.unit, self.room)
    }
}

/// Reasons a resident may be served first (绿色通道).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GreenChannel {
    pub elderly: bool,
    pub disabled: bool,
    pub pregnant: bool,
}

impl GreenChannel {
    pub fn any(self) -> bool {
        self.elderly || self.disabled || self.pregnant
    }
}

/// A resident known to the centre. Personal data under PIPL: the centre keeps it; a staff phone gets only what a
/// task needs (see [`TaskSheet`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resident {
    pub id: ResidentId,
    pub name: String,
    /// Mainland mobile number, 11 digits.
    pub phone: String,
    pub address: Address,
    pub green: GreenChannel,
}

/// A phone number as it may be shown: the middle four digits hidden (138****5678).
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().collect();
    if digits.len() < 7 {
        return "*".repeat(digits.len());
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// A name as it may be printed on a packet label: the surname, the rest hidden (张**).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

/// An item of the centre's service catalogue (事项) with the materials a pickup must collect for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceItem {
    pub id: ServiceItemId,
    pub name: String,
    /// What the centre hands back when the case is done (回执), e.g. 社会保障卡.
    pub receipt: String,
    pub materials: Vec<Material>,
}

/// One line of a service item's checklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    pub name: String,
    /// An original (原件) is carried to the centre; otherwise a copy or a photo suffices.
    pub original: bool,
    pub required: bool,
}

/// Delivery of a receipt, or pickup of documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Delivery,
    Pickup,
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskKind::Delivery => "delivery",
            TaskKind::Pickup => "pickup",
        })
    }
}

/// One piece of evidence a handoff can carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProofRequirement {
    /// The packet's label QR, signed by the centre, scanned at the door.
    PacketScan,
    /// The resident's confirmation: their signed QR, the 6-digit code, or a signature on the screen.
    ResidentConfirmation,
    /// A photo of the handoff.
    HandoffPhoto,
    /// A photo of each collected material (pickups).
    MaterialPhotos,
    /// The resident's signed authorisation for proxy handling (pickups).
    AuthorisationSignature,
    /// The device's position at the handoff.
    Location,
}

/// What a task's handoff must carry to count as proven.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofPolicy {
    pub requires: Vec<ProofRequirement>,
}

impl ProofPolicy {
    /// The centre's standard policy for a kind of task.
    pub fn standard(kind: TaskKind) -> Self {
        use ProofRequirement::*;
        let requires = match kind {
            TaskKind::Delivery => vec![PacketScan, ResidentConfirmation, HandoffPhoto, Location],
            TaskKind::Pickup => vec![MaterialPhotos, AuthorisationSignature, Location],
        };
        Self { requires }
    }

    pub fn requires(&self, r: ProofRequirement) -> bool {
        self.requires.contains(&r)
    }
}

/// A task as the centre defines it: one delivery or one pickup for one resident.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    pub kind: TaskKind,
    /// The back office's case number (办件编号) this task belongs to.
    pub case_number: String,
    pub service_item: ServiceItemId,
    pub resident: ResidentId,
    pub address: Address,
    pub proof: ProofPolicy,
    /// For a delivery: the pickup whose case it completes. For a pickup: none.
    pub follows: Option<TaskId>,
}

/// Everything a staff phone holds about one task: the task and the minimum of the resident's data needed to do it
/// (PIPL's minimisation: no identity number, nothing of other tasks).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskSheet {
    pub task: Task,
    pub resident_name: String,
    /// Full number, for the call button only; shown masked.
    pub resident_phone: String,
    pub green: GreenChannel,
    pub service_item_name: String,
    pub materials: Vec<Material>,
    /// The salted slow hash of the resident's 6-digit fallback code, for checking it offline (never the code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_code: Option<crate::code::CodeHash>,
    /// Where the task's building stands, for ordering the walk offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<crate::geo::LatLng>,
    /// The compound's name as residents say it ("华泾绿苑"), for the route's headings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compound_name: Option<String>,
    /// The resident's household card in force, for checking the card or its code offline; `None` when the centre
    /// has issued none (or its code's hash is not made yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<HouseholdOnFile>,
    /// The family members who may receive for the resident, each with their own code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proxies: Vec<ProxyOnFile>,
}

/// What a phone holds of a resident's household card: the serial in force (an older card is refused) and the
/// salted slow hash of the 6-digit code printed under its QR (never the code).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdOnFile {
    pub serial: u32,
    pub code: crate::code::CodeHash,
}

/// What a phone holds of one family member (代收人) who may receive for the resident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyOnFile {
    /// The centre's number for this family member.
    pub id: u32,
    /// Masked as on a packet label: the surname, the rest hidden (张**).
    pub name: String,
    /// How they are related to the resident, as the coordinator wrote it (女儿, 儿子, 配偶…).
    pub relation: String,
    /// The salted slow hash of their own 6-digit code.
    pub code: crate::code::CodeHash,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_show_only_their_ends() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("12345"), "*****");
    }

    #[test]
    fn names_keep_only_the_surname() {
        assert_eq!(mask_name("王秀英"), "王**");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn a_sheet_without_a_household_keeps_its_old_json_and_reads_old_json() {
        let town = crate::demo::demo_town();
        let sheet = town.sheet(&town.tasks[0]).expect("a demo sheet");
        let json = serde_json::to_value(&sheet).expect("json");
        assert!(json.get("household").is_none() && json.get("proxies").is_none(), "{json}");
        let back: TaskSheet = serde_json::from_value(json).expect("an old sheet parses");
        assert_eq!(back, sheet);
        let code = crate::code::CodeHash { salt: [1; 16], m_kib: 64, t: 1, hash: [2; 32] };
        let with = TaskSheet {
            household: Some(HouseholdOnFile { serial: 3, code: code.clone() }),
            proxies: vec![ProxyOnFile { id: 7, name: mask_name("李小红"), relation: "女儿".into(), code }],
            ..sheet
        };
        let text = serde_json::to_string(&with).expect("json");
        assert!(text.contains("\"household\"") && text.contains("\"李**\""), "{text}");
        assert_eq!(serde_json::from_str::<TaskSheet>(&text).expect("parses"), with);
    }

    #[test]
    fn addresses_read_the_way_residents_write_them() {
        let a = Address { compound: CompoundId(1), building: 12, unit: 3, room: "1203".into() };
        assert_eq!(a.to_string(), "12号楼3单元1203室");
    }
}
