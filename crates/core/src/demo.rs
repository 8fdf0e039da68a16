//! The demo town: a deterministic, realistic slice of Huajing (华泾镇), Xuhui, Shanghai, for `--demo`, the tests
//! and the benchmarks. The same seed gives the same town, byte for byte, forever (see [`crate::rng`]).
//!
//! Every person in it is invented; phone numbers are generated and belong to no one on purpose.

use crate::geo::{LatLng, Polygon};
use crate::ids::{CompoundId, ResidentId, ServiceItemId, StaffId, TaskId};
use crate::model::{
    Address, Building, Compound, GreenChannel, Material, ProofPolicy, Resident, Role, ServiceItem, Staff, StaffHome,
    Task, TaskKind, TaskSheet,
};
use crate::rng::SplitMix64;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

/// The seed of the town everybody knows.
pub const DEMO_SEED: u64 = 0x4A58_2026;
/// 2026-11-30 18:00 in Shanghai: the demo evening.
pub const DEMO_EVENING: Timestamp = Timestamp(1_796_032_800_000);

/// Sizes of a generated town.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TownSize {
    pub compounds: usize,
    pub staff: usize,
    pub residents: usize,
    pub deliveries: usize,
    pub pickups: usize,
}

impl TownSize {
    /// One centre's ordinary evening.
    pub const DEMO: TownSize = TownSize { compounds: 13, staff: 25, residents: 3_000, deliveries: 300, pickups: 80 };
}

/// Everything `--demo` seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DemoTown {
    pub seed: u64,
    pub evening: Timestamp,
    pub compounds: Vec<Compound>,
    /// Team members first, then coordinators.
    pub staff: Vec<Staff>,
    pub residents: Vec<Resident>,
    pub service_items: Vec<ServiceItem>,
    /// Last week's pickups, already handed in; some of tonight's deliveries bring back their results.
    pub earlier_pickups: Vec<Task>,
    /// Tonight's deliveries and pickups.
    pub tasks: Vec<Task>,
}

const COMPOUND_NAMES: &[&str] = &[
    "华泾绿苑",
    "华欣家园",
    "景洪苑",
    "盛华景苑",
    "华泾新苑",
    "龙吴新村",
    "徐浦小区",
    "鑫都花苑",
    "华发公寓",
    "瑞和家园",
    "长华公寓",
    "华展苑",
    "馨宁公寓",
    "汇成新村",
    "丰谷路小区",
    "关港新村",
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "高",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "潘", "袁", "蔡",
    "蒋", "余", "于", "杜", "叶", "程", "魏", "苏", "吕", "丁", "任", "沈", "姚", "卢", "钟", "顾", "陆", "金", "施",
];

const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞",
    "平", "刚", "桂英", "建华", "国庆", "玉兰", "志强", "秀兰", "海燕", "文", "斌", "婷", "红", "建国", "凤英", "德",
    "佳", "欣怡", "子涵", "浩然", "雨桐", "宇轩", "梓萱", "晨", "颖", "琳", "慧", "根宝", "阿毛", "小妹", "金娣",
];

const MOBILE_PREFIXES: &[&str] = &["138", "139", "158", "159", "186", "187", "135", "137", "150", "151", "189", "133"];

/// One catalogue line: (service item, receipt handed back, materials as (name, original?)).
type CatalogueLine = (&'static str, &'static str, &'static [(&'static str, bool)]);

const CATALOGUE: &[CatalogueLine] = &[
    ("社会保障卡申领", "社会保障卡", &[("居民身份证", true), ("近期免冠照片", false)]),
    ("居住证办理", "上海市居住证", &[("居民身份证", true), ("租赁合同或房屋产权证明", false), ("近期免冠照片", false)]),
    ("老年综合津贴申请", "老年综合津贴审批通知", &[("居民身份证", true), ("户口簿", true), ("本人银行卡", false)]),
    ("敬老卡申领", "敬老卡", &[("居民身份证", true), ("户口簿", false)]),
    ("长期护理保险评估申请", "评估结果通知书", &[("居民身份证", true), ("社会保障卡", true), ("近期病历资料", false)]),
    ("残疾人证换领", "残疾人证", &[("原残疾人证", true), ("居民身份证", true), ("近期免冠照片", false)]),
    (
        "生育保险待遇申领",
        "生育保险待遇核定通知",
        &[("居民身份证", true), ("出生医学证明", false), ("本人银行卡", false)],
    ),
    ("独生子女父母光荣证补办", "独生子女父母光荣证", &[("居民身份证", true), ("户口簿", false)]),
    ("城乡居民基本医疗保险参保登记", "参保凭证", &[("居民身份证", true), ("户口簿", false)]),
    ("就业失业登记", "就业失业登记证明", &[("居民身份证", true), ("近期免冠照片", false)]),
    ("灵活就业登记", "灵活就业登记凭证", &[("居民身份证", true), ("本人银行卡", false)]),
    ("最低生活保障申请", "审批决定书", &[("居民身份证", true), ("户口簿", true), ("家庭收入证明", false)]),
    ("临时救助申请", "救助审批决定书", &[("居民身份证", true), ("困难情况说明", false)]),
    ("医保就医记录册补办", "医保就医记录册", &[("社会保障卡", true)]),
    ("少儿住院互助基金参保", "参保凭证", &[("儿童户口簿", true), ("监护人身份证", false)]),
    ("生育登记", "生育服务登记单", &[("夫妻双方身份证", true), ("结婚证", true)]),
    ("养老服务补贴申请", "补贴审批通知", &[("居民身份证", true), ("户口簿", false), ("收入证明", false)]),
    ("困难残疾人生活补贴申请", "补贴审批通知", &[("残疾人证", true), ("居民身份证", true)]),
    ("退役军人优待证申领", "退役军人优待证", &[("居民身份证", true), ("退役证件", true), ("近期免冠照片", false)]),
    ("居家养老服务申请", "服务确认书", &[("居民身份证", true), ("评估结果通知书", false)]),
];

/// The demo town everybody knows.
pub fn demo_town() -> DemoTown {
    generate(DEMO_SEED, TownSize::DEMO)
}

/// A town of the given size from a seed; the same inputs always give the same town.
pub fn generate(seed: u64, size: TownSize) -> DemoTown {
    let mut rng = SplitMix64::new(seed);
    let origin = LatLng::new(31.1080, 121.4380);
    let compounds: Vec<Compound> = (0..size.compounds).map(|i| compound(&mut rng, origin, i)).collect();
    let staff = staff(&mut rng, &compounds, size.staff);
    let residents = residents(&mut rng, &compounds, size.residents);
    let service_items: Vec<ServiceItem> = CATALOGUE
        .iter()
        .enumerate()
        .map(|(i, (name, receipt, materials))| ServiceItem {
            id: ServiceItemId(i as u32 + 1),
            name: (*name).into(),
            receipt: (*receipt).into(),
            materials: materials
                .iter()
                .map(|(m, original)| Material { name: (*m).into(), original: *original, required: true })
                .collect(),
        })
        .collect();
    let mut case = 0u32;
    let mut make_task = |rng: &mut SplitMix64, kind: TaskKind, resident: &Resident, at: Timestamp| {
        case += 1;
        Task {
            id: TaskId::v7(at.millis() as u64, rng.bytes()),
            kind,
            case_number: format!("XH{}{:06}", 2026, case),
            service_item: ServiceItemId(rng.range(1, service_items.len() as u64) as u32),
            resident: resident.id,
            address: resident.address.clone(),
            proof: ProofPolicy::standard(kind),
            follows: None,
        }
    };
    let last_week = Timestamp(DEMO_EVENING.millis() - 7 * 86_400_000);
    let earlier_pickups: Vec<Task> = (0..size.deliveries / 8)
        .map(|_| {
            let r = pick_resident(&mut rng, &residents);
            make_task(&mut rng, TaskKind::Pickup, r, last_week)
        })
        .collect();
    let mut tasks = Vec::with_capacity(size.deliveries + size.pickups);
    for (n, pickup) in earlier_pickups.iter().enumerate() {
        // Each earlier pickup's result comes back tonight as a delivery to the same resident.
        let r = &residents[(pickup.resident.0 - 1) as usize];
        let mut d = make_task(&mut rng, TaskKind::Delivery, r, DEMO_EVENING);
        d.service_item = pickup.service_item;
        d.follows = Some(pickup.id);
        d.case_number = format!("{}-R{n}", pickup.case_number);
        tasks.push(d);
    }
    while tasks.len() < size.deliveries {
        let r = pick_resident(&mut rng, &residents);
        tasks.push(make_task(&mut rng, TaskKind::Delivery, r, DEMO_EVENING));
    }
    for _ in 0..size.pickups {
        let r = pick_resident(&mut rng, &residents);
        tasks.push(make_task(&mut rng, TaskKind::Pickup, r, DEMO_EVENING));
    }
    DemoTown { seed, evening: DEMO_EVENING, compounds, staff, residents, service_items, earlier_pickups, tasks }
}

fn compound(rng: &mut SplitMix64, origin: LatLng, i: usize) -> Compound {
    // Compounds sit on a rough 4-wide grid of blocks about 450 m apart, each a slightly skewed quadrilateral.
    let (col, row) = ((i % 4) as f64, (i / 4) as f64);
    let centre = origin.offset_m(col * 450.0 + rng.unit() * 60.0, row * 420.0 + rng.unit() * 60.0);
    let (w, h) = (220.0 + rng.unit() * 140.0, 200.0 + rng.unit() * 140.0);
    let mut jitter = || rng.unit() * 30.0 - 15.0;
    let boundary = Polygon(vec![
        centre.offset_m(-w / 2.0 + jitter(), -h / 2.0 + jitter()),
        centre.offset_m(w / 2.0 + jitter(), -h / 2.0 + jitter()),
        centre.offset_m(w / 2.0 + jitter(), h / 2.0 + jitter()),
        centre.offset_m(-w / 2.0 + jitter(), h / 2.0 + jitter()),
    ]);
    let high_rise = rng.chance(0.4);
    let (cols, rows) = (rng.range(3, 5) as usize, rng.range(3, 6) as usize);
    let mut buildings = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            let east = -w / 2.0 + w * (c as f64 + 0.5) / cols as f64;
            let north = -h / 2.0 + h * (r as f64 + 0.5) / rows as f64;
            let position = centre.offset_m(east * 0.8, north * 0.8);
            if !boundary.contains(position) {
                continue;
            }
            buildings.push(Building {
                number: buildings.len() as u16 + 1,
                position,
                units: rng.range(1, if high_rise { 2 } else { 4 }) as u8,
                floors: if high_rise { rng.range(11, 28) as u8 } else { 6 },
            });
        }
    }
    Compound {
        id: CompoundId(i as u32 + 1),
        name: COMPOUND_NAMES[i % COMPOUND_NAMES.len()].to_string()
            + &if i >= COMPOUND_NAMES.len() { format!("{}期", i / COMPOUND_NAMES.len() + 1) } else { String::new() },
        boundary,
        buildings,
    }
}

fn person_name(rng: &mut SplitMix64) -> String {
    format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN))
}

fn staff(rng: &mut SplitMix64, compounds: &[Compound], n: usize) -> Vec<Staff> {
    // Some compounds have no resident team member (their work goes to the nearest one), some have several.
    let staffed: Vec<&Compound> = compounds.iter().filter(|c| c.id.0 % 5 != 3).collect();
    let mut out: Vec<Staff> = (0..n)
        .map(|i| {
            // The first pass gives every staffed compound one member; the rest cluster in the larger compounds.
            let c = if i < staffed.len() { staffed[i] } else { staffed[(rng.below(staffed.len() as u64)) as usize] };
            let building = rng.range(1, c.buildings.len().max(1) as u64) as u16;
            Staff {
                id: StaffId(i as u32 + 1),
                name: person_name(rng),
                role: Role::Staff,
                home: Some(StaffHome { compound: c.id, building }),
                capacity: rng.range(10, 22) as u16,
            }
        })
        .collect();
    for k in 0..3 {
        out.push(Staff {
            id: StaffId(n as u32 + k + 1),
            name: person_name(rng),
            role: Role::Coordinator,
            home: None,
            capacity: 0,
        });
    }
    out
}

fn residents(rng: &mut SplitMix64, compounds: &[Compound], n: usize) -> Vec<Resident> {
    let buildings: Vec<(&Compound, &Building)> =
        compounds.iter().flat_map(|c| c.buildings.iter().map(move |b| (c, b))).collect();
    (0..n)
        .map(|i| {
            let (c, b) = buildings[rng.below(buildings.len() as u64) as usize];
            let floor = rng.range(1, b.floors as u64);
            let door = rng.range(1, if b.floors > 6 { 4 } else { 2 });
            let elderly = rng.chance(0.28);
            Resident {
                id: ResidentId(i as u32 + 1),
                name: person_name(rng),
                phone: format!("{}{:08}", rng.pick(MOBILE_PREFIXES), rng.below(100_000_000)),
                address: Address {
                    compound: c.id,
                    building: b.number,
                    unit: rng.range(1, b.units as u64) as u8,
                    room: format!("{floor}{door:02}"),
                },
                green: GreenChannel { elderly, disabled: rng.chance(0.03), pregnant: !elderly && rng.chance(0.02) },
            }
        })
        .collect()
}

fn pick_resident<'a>(rng: &mut SplitMix64, residents: &'a [Resident]) -> &'a Resident {
    &residents[rng.below(residents.len() as u64) as usize]
}

impl DemoTown {
    pub fn compound(&self, id: CompoundId) -> Option<&Compound> {
        self.compounds.iter().find(|c| c.id == id)
    }

    pub fn resident(&self, id: ResidentId) -> Option<&Resident> {
        self.residents.iter().find(|r| r.id == id)
    }

    pub fn service_item(&self, id: ServiceItemId) -> Option<&ServiceItem> {
        self.service_items.iter().find(|s| s.id == id)
    }

    pub fn team(&self) -> impl Iterator<Item = &Staff> {
        self.staff.iter().filter(|s| s.role == Role::Staff)
    }

    /// What a staff phone would be sent for `task`, or `None` if the task names a resident or item not in the town.
    pub fn sheet(&self, task: &Task) -> Option<TaskSheet> {
        let resident = self.resident(task.resident)?;
        let item = self.service_item(task.service_item)?;
        Some(TaskSheet {
            task: task.clone(),
            resident_name: resident.name.clone(),
            resident_phone: resident.phone.clone(),
            green: resident.green,
            service_item_name: item.name.clone(),
            materials: item.materials.clone(),
            resident_code: None,
            position: self
                .compound(task.address.compound)
                .and_then(|c| c.buildings.iter().find(|b| b.number == task.address.building))
                .map(|b| b.position),
            compound_name: self.compound(task.address.compound).map(|c| c.name.clone()),
            household: None,
            proxies: vec![],
        })
    }

    /// Tonight's tasks per compound.
    pub fn tasks_by_compound(&self) -> BTreeMap<CompoundId, usize> {
        let mut m = BTreeMap::new();
        for t in &self.tasks {
            *m.entry(t.address.compound).or_insert(0) += 1;
        }
        m
    }

    /// The whole town as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The compounds (polygons) and buildings (points) as a GeoJSON FeatureCollection, WGS-84 `[lng, lat]`.
    pub fn compounds_geojson(&self) -> serde_json::Value {
        let mut features = Vec::new();
        for c in &self.compounds {
            let mut ring: Vec<[f64; 2]> = c.boundary.0.iter().map(|p| [p.lng, p.lat]).collect();
            if let Some(first) = ring.first().copied() {
                ring.push(first);
            }
            features.push(json!({
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"kind": "compound", "id": c.id.0, "name": c.name},
            }));
            for b in &c.buildings {
                features.push(json!({
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [b.position.lng, b.position.lat]},
                    "properties": {"kind": "building", "compound": c.id.0, "number": b.number,
                                   "units": b.units, "floors": b.floors},
                }));
            }
        }
        json!({"type": "FeatureCollection", "features": features})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_same_seed_gives_the_same_town() {
        assert_eq!(demo_town().to_json(), demo_town().to_json());
        assert_ne!(generate(1, TownSize::DEMO).to_json(), demo_town().to_json());
    }

    #[test]
    fn the_demo_town_has_the_promised_shape() {
        let t = demo_town();
        assert!((10..=15).contains(&t.compounds.len()));
        assert_eq!(t.team().count(), 25);
        assert!(t.residents.len() >= 2_000);
        assert!((18..=22).contains(&t.service_items.len()));
        assert_eq!(t.tasks.iter().filter(|x| x.kind == TaskKind::Delivery).count(), 300);
        assert_eq!(t.tasks.iter().filter(|x| x.kind == TaskKind::Pickup).count(), 80);
        let staffed: BTreeSet<CompoundId> = t.team().filter_map(|s| s.home.as_ref().map(|h| h.compound)).collect();
        assert!(staffed.len() < t.compounds.len(), "some compounds have no resident staff");
        let mut per: BTreeMap<CompoundId, usize> = BTreeMap::new();
        for s in t.team() {
            *per.entry(s.home.as_ref().map(|h| h.compound).unwrap_or(CompoundId(0))).or_default() += 1;
        }
        assert!(per.values().any(|&n| n >= 2), "some compounds have several staff");
    }

    #[test]
    fn everything_is_where_it_says_it_is() {
        let t = demo_town();
        let huajing = LatLng::new(31.12, 121.45);
        let ids: BTreeSet<TaskId> = t.tasks.iter().chain(&t.earlier_pickups).map(|x| x.id).collect();
        assert_eq!(ids.len(), t.tasks.len() + t.earlier_pickups.len(), "task ids are unique");
        for c in &t.compounds {
            assert!(!c.buildings.is_empty(), "{} has buildings", c.name);
            for b in &c.buildings {
                assert!(c.boundary.contains(b.position), "building {} of {} inside", b.number, c.name);
                assert!(b.position.distance_m(huajing) < 3_000.0, "in Huajing");
            }
        }
        for task in &t.tasks {
            let c = t.compound(task.address.compound).expect("task's compound exists");
            assert!(c.building(task.address.building).is_some());
            assert!(t.sheet(task).is_some());
            if let Some(p) = task.follows {
                assert!(t.earlier_pickups.iter().any(|e| e.id == p));
            }
        }
        for r in &t.residents {
            assert_eq!(r.phone.len(), 11);
            assert!(r.phone.starts_with('1'));
        }
    }

    #[test]
    fn geojson_closes_every_ring() {
        let g = demo_town().compounds_geojson();
        let features = g["features"].as_array().expect("features");
        let polygons: Vec<_> = features.iter().filter(|f| f["geometry"]["type"] == "Polygon").collect();
        assert_eq!(polygons.len(), 13);
        for p in polygons {
            let ring = p["geometry"]["coordinates"][0].as_array().expect("ring");
            assert_eq!(ring.first(), ring.last());
        }
    }
}
