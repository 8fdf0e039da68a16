//! Importing the back office's export of finished cases (deliveries) and pickup requests, as CSV or JSON.
//!
//! Every row is checked on its own and every bad row is reported with its line and the reason; then the good rows
//! go in, in one transaction, or nothing does, as the caller chose. Both formats share one validator: a JSON row is
//! an object with the CSV's column names as keys.

use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::params;
use crate::sql::Tx;
use crate::town::{compounds, insert_resident, insert_task};
use jx_core::model::{Address, GreenChannel, ProofPolicy, Task, TaskKind};
use jx_core::wire::{ImportMode, ImportReport, ImportRowError};
use jx_core::{CompoundId, EventId, ResidentId, ServiceItemId, TaskId};
use std::collections::{BTreeMap, BTreeSet, HashMap};

mod parse;

pub use parse::{COLUMNS, parse_csv, parse_json};
use parse::{REQUIRED, Row};

/// What the validator needs to know of the town and the tasks already there.
struct Context {
    buildings: HashMap<u32, BTreeSet<u16>>,
    service_items: BTreeSet<u32>,
}

struct NewTask {
    kind: TaskKind,
    case_number: String,
    service_item: ServiceItemId,
    resident_name: String,
    resident_phone: String,
    address: Address,
    green: GreenChannel,
    follows_case: Option<String>,
}

/// The free-text fields of a row, each with its longest length in characters.
const TEXT_LIMITS: &[(&str, usize)] =
    &[("case_number", 64), ("resident_name", 40), ("room", 32), ("follows_case", 64), ("resident_phone", 20)];

fn flag(row: &Row, key: &str, errors: &mut Vec<(String, String)>) -> bool {
    match row.get(key).map(|s| s.to_lowercase()).as_deref() {
        None | Some("") | Some("0") | Some("false") | Some("否") | Some("n") | Some("no") => false,
        Some("1") | Some("true") | Some("是") | Some("y") | Some("yes") => true,
        Some(other) => {
            errors.push((key.into(), format!("“{other}” is not yes/no (use 1/0, true/false or 是/否)")));
            false
        }
    }
}

fn validate(row: &Row, ctx: &Context) -> Result<NewTask, Vec<(String, String)>> {
    if let Some(e) = row.get("__error") {
        return Err(vec![(String::new(), format!("unreadable row: {e}"))]);
    }
    let mut errors: Vec<(String, String)> = Vec::new();
    let get = |k: &str| row.get(k).map(String::as_str).unwrap_or("");
    for k in REQUIRED {
        if get(k).is_empty() {
            errors.push(((*k).into(), "is empty".into()));
        }
    }
    let kind = match get("kind") {
        "delivery" | "送达" => Some(TaskKind::Delivery),
        "pickup" | "收件" => Some(TaskKind::Pickup),
        "" => None,
        other => {
            errors.push(("kind".into(), format!("“{other}” is neither delivery/送达 nor pickup/收件")));
            None
        }
    };
    let number = |k: &str, errors: &mut Vec<(String, String)>| -> Option<u32> {
        let v = get(k);
        if v.is_empty() {
            return None;
        }
        v.parse::<u32>().map_err(|_| errors.push((k.into(), format!("“{v}” is not a whole number")))).ok()
    };
    let service_item = number("service_item", &mut errors);
    if let Some(s) = service_item.filter(|s| !ctx.service_items.contains(s)) {
        errors.push(("service_item".into(), format!("service item {s} is not in the catalogue")));
    }
    let compound = number("compound", &mut errors);
    // Range-checked before any narrowing: building 65537 is no building, never building 1.
    let building = number("building", &mut errors).and_then(|b| match u16::try_from(b) {
        Ok(b) if b > 0 => Some(b),
        _ => {
            errors.push(("building".into(), format!("{b} is not a building number (1 to {})", u16::MAX)));
            None
        }
    });
    let unit = number("unit", &mut errors);
    match compound.map(|c| (c, ctx.buildings.get(&c))) {
        Some((c, None)) => errors.push(("compound".into(), format!("compound {c} is not in this centre's town"))),
        Some((c, Some(bs))) => {
            if let Some(b) = building.filter(|b| !bs.contains(b)) {
                errors.push(("building".into(), format!("compound {c} has no building {b}")));
            }
        }
        None => {}
    }
    if unit == Some(0) || unit.is_some_and(|u| u > 99) {
        errors.push(("unit".into(), "must be between 1 and 99".into()));
    }
    let phone = get("resident_phone");
    if !(phone.is_empty() || is_mobile(phone)) {
        errors.push(("resident_phone".into(), "is not an 11-digit mainland mobile number".into()));
    }
    for (field, max) in TEXT_LIMITS {
        let v = get(field);
        if v.chars().count() > *max {
            errors.push(((*field).into(), format!("is longer than {max} characters")));
        }
        if v.chars().any(char::is_control) {
            errors.push(((*field).into(), "has control characters (a NUL, a line break…)".into()));
        }
    }
    let green = GreenChannel {
        elderly: flag(row, "elderly", &mut errors),
        disabled: flag(row, "disabled", &mut errors),
        pregnant: flag(row, "pregnant", &mut errors),
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let (Some(kind), Some(service_item), Some(compound), Some(building), Some(unit)) =
        (kind, service_item, compound, building, unit)
    else {
        return Err(vec![(String::new(), "incomplete row".into())]);
    };
    Ok(NewTask {
        kind,
        case_number: get("case_number").into(),
        service_item: ServiceItemId(service_item),
        resident_name: get("resident_name").into(),
        resident_phone: phone.into(),
        address: Address {
            compound: CompoundId(compound),
            building,
            unit: u8::try_from(unit).map_err(|_| vec![("unit".to_string(), "must be between 1 and 99".to_string())])?,
            room: get("room").into(),
        },
        green,
        follows_case: Some(get("follows_case").to_string()).filter(|s| !s.is_empty()),
    })
}

/// Validates `rows` and imports them as `mode` says, inside the caller's transaction.
pub fn import(tx: &mut dyn Tx, rows: Vec<(usize, Row)>, mode: ImportMode) -> ApiResult<ImportReport> {
    let ctx = Context {
        buildings: compounds(tx)?
            .into_iter()
            .map(|c| (c.id.0, c.buildings.iter().map(|b| b.number).collect()))
            .collect(),
        service_items: tx
            .query("SELECT id FROM service_items", params![])?
            .iter()
            .map(|r| r.u32("id"))
            .collect::<Result<_, _>>()?,
    };
    let mut errors = Vec::new();
    let mut good: Vec<(usize, NewTask)> = Vec::new();
    let mut seen_cases: BTreeMap<String, usize> = BTreeMap::new();
    for (line, row) in rows {
        match validate(&row, &ctx) {
            Err(errs) => errors.extend(errs.into_iter().map(|(field, reason)| ImportRowError {
                line,
                field: Some(field).filter(|f| !f.is_empty()),
                reason,
            })),
            Ok(t) => {
                let exists = tx
                    .query_one("SELECT count(*) FROM tasks WHERE case_number = $1", params![&t.case_number])?
                    .int(0)?
                    > 0;
                if exists {
                    errors.push(ImportRowError {
                        line,
                        field: Some("case_number".into()),
                        reason: format!("case {} is already imported", t.case_number),
                    });
                } else if let Some(first) = seen_cases.get(&t.case_number) {
                    errors.push(ImportRowError {
                        line,
                        field: Some("case_number".into()),
                        reason: format!("case {} appears again (first on line {first})", t.case_number),
                    });
                } else {
                    seen_cases.insert(t.case_number.clone(), line);
                    good.push((line, t));
                }
            }
        }
    }
    // A delivery may follow a pickup in the database or earlier in this very file.
    let created = now();
    let mut new_ids: BTreeMap<String, (TaskId, TaskKind)> = BTreeMap::new();
    for (_, t) in &good {
        new_ids.insert(t.case_number.clone(), (TaskId(EventId::v7(created.millis() as u64, random10()?).0), t.kind));
    }
    let mut follows: BTreeMap<usize, TaskId> = BTreeMap::new();
    let mut kept = Vec::with_capacity(good.len());
    for (line, t) in good {
        let Some(case) = &t.follows_case else {
            kept.push((line, t));
            continue;
        };
        let found = tx.query_opt("SELECT task_id, kind FROM tasks WHERE case_number = $1", params![case])?;
        let target = match found {
            Some(r) => Some((r.text(0)?.parse::<TaskId>().map_err(ApiError::internal)?, r.text(1)? == "pickup")),
            None => new_ids.get(case).map(|(id, k)| (*id, *k == TaskKind::Pickup)),
        };
        match target {
            Some((id, true)) if t.kind == TaskKind::Delivery => {
                follows.insert(line, id);
                kept.push((line, t));
            }
            Some(_) => errors.push(ImportRowError {
                line,
                field: Some("follows_case".into()),
                reason: format!("only a delivery can follow a pickup, and case {case} is not a pickup"),
            }),
            None => errors.push(ImportRowError {
                line,
                field: Some("follows_case".into()),
                reason: format!("case {case} is not known"),
            }),
        }
    }
    errors.sort_by_key(|e| e.line);
    if mode == ImportMode::AllOrNothing && !errors.is_empty() {
        return Err(ApiError::ImportRejected(ImportReport { imported: 0, errors, tasks: vec![], valid: 0 }));
    }
    if mode == ImportMode::Check {
        return Ok(ImportReport { imported: 0, valid: kept.len(), errors, tasks: vec![] });
    }
    let mut next_resident = tx.query_one("SELECT coalesce(max(id), 0) + 1 FROM residents", params![])?.u32(0)?;
    let mut tasks = Vec::with_capacity(kept.len());
    for (line, t) in kept {
        let a = &t.address;
        let existing = tx.query_opt(
            "SELECT id FROM residents WHERE name = $1 AND phone = $2 AND compound = $3 AND building = $4
             AND unit = $5 AND room = $6",
            params![&t.resident_name, &t.resident_phone, a.compound.0, a.building, a.unit, &a.room],
        )?;
        let resident = match existing {
            Some(r) => ResidentId(r.u32(0)?),
            None => {
                let id = ResidentId(next_resident);
                next_resident += 1;
                insert_resident(tx, id, &t.resident_name, &t.resident_phone, a, t.green)?;
                id
            }
        };
        let (id, _) = new_ids[&t.case_number];
        let task = Task {
            id,
            kind: t.kind,
            case_number: t.case_number,
            service_item: t.service_item,
            resident,
            address: t.address,
            proof: ProofPolicy::standard(t.kind),
            follows: follows.get(&line).copied(),
        };
        insert_task(tx, &task, created)?;
        tasks.push(id);
    }
    Ok(ImportReport { imported: tasks.len(), valid: tasks.len(), errors, tasks })
}

fn random10() -> ApiResult<[u8; 10]> {
    let mut b = [0u8; 10];
    getrandom::fill(&mut b).map_err(ApiError::internal)?;
    Ok(b)
}

/// An 11-digit mainland mobile number.
fn is_mobile(phone: &str) -> bool {
    phone.len() == 11 && phone.starts_with('1') && phone.bytes().all(|b| b.is_ascii_digit())
}
