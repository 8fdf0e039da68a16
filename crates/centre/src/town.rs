//! The town the centre serves: compounds, service items, residents and staff; seeding the demo town; and the task
//! sheets phones receive (the task plus the least of the resident's data it needs).

use crate::auth::hash_password;
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::log::{self, json, to_json};
use crate::params;
use crate::sql::Tx;
use jx_core::demo::DemoTown;
use jx_core::event::{Actor, Envelope, EventPayload};
use jx_core::model::{Address, Compound, GreenChannel, Role, ServiceItem, Task, TaskSheet};
use jx_core::state::TaskState;
use jx_core::{DeviceId, EventId, ResidentId, StaffId, Timestamp};

/// The password of every demo login. Printed by `--demo`; never use the demo outside a demo.
pub const DEMO_PASSWORD: &str = "jx-demo-2026";

/// The demo logins: team members `s01`…, coordinators `c1`….
pub fn demo_login(role: Role, n: usize) -> String {
    match role {
        Role::Staff => format!("s{n:02}"),
        Role::Coordinator => format!("c{n}"),
    }
}

/// Whether the database already holds a town.
pub fn is_seeded(tx: &mut dyn Tx) -> ApiResult<bool> {
    Ok(tx.query_one("SELECT count(*) FROM compounds", params![])?.int(0)? > 0)
}

/// Seeds the demo town: the town, its people, tonight's tasks (unassigned) and last week's handed-in pickups.
pub fn seed_demo(tx: &mut dyn Tx, town: &DemoTown) -> ApiResult<()> {
    let password = hash_password(DEMO_PASSWORD)?;
    for c in &town.compounds {
        tx.execute(
            "INSERT INTO compounds (id, name, body) VALUES ($1, $2, $3)",
            params![c.id.0, &c.name, to_json(c)?],
        )?;
    }
    for s in &town.service_items {
        tx.execute("INSERT INTO service_items (id, body) VALUES ($1, $2)", params![s.id.0, to_json(s)?])?;
    }
    let (mut n_staff, mut n_coord) = (0, 0);
    for s in &town.staff {
        let login = match s.role {
            Role::Staff => {
                n_staff += 1;
                demo_login(Role::Staff, n_staff)
            }
            Role::Coordinator => {
                n_coord += 1;
                demo_login(Role::Coordinator, n_coord)
            }
        };
        tx.execute(
            "INSERT INTO staff (id, login, name, role, home_compound, home_building, capacity, password_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            params![
                s.id.0,
                login,
                &s.name,
                role_str(s.role),
                s.home.as_ref().map(|h| h.compound.0),
                s.home.as_ref().map(|h| h.building),
                s.capacity,
                &password
            ],
        )?;
    }
    for r in &town.residents {
        insert_resident(tx, r.id, &r.name, &r.phone, &r.address, r.green)?;
    }
    let created = now();
    for t in town.earlier_pickups.iter().chain(&town.tasks) {
        insert_task(tx, t, created)?;
    }
    seed_last_week(tx, town, created)
}

/// Last week's pickups were assigned, collected by staff member 1's old (since retired) phone, and handed in:
/// tonight's deliveries that follow them bring back the results.
fn seed_last_week(tx: &mut dyn Tx, town: &DemoTown, now: Timestamp) -> ApiResult<()> {
    let coordinator = town.staff.iter().find(|s| s.role == Role::Coordinator).map(|s| s.id).unwrap_or(StaffId(0));
    let decide = Actor::Coordinator { staff: coordinator };
    let staff = StaffId(1);
    let device = DeviceId(uuid::Uuid::from_u128(0x4A58_0000_0000_0000_0000_0000_0000_0001));
    let phone = Actor::Device { device, staff };
    let (mut seq, mut prev) = (0u64, jx_core::bytes::Sha256::ZERO);
    let week_ago = Timestamp(town.evening.millis() - 7 * 86_400_000);
    for (i, t) in town.earlier_pickups.iter().enumerate() {
        log::append_decision(tx, decide, t.id, EventPayload::Assigned { staff }, week_ago)?;
        let (_, before) = log::load_task(tx, t.id)?.ok_or_else(|| ApiError::internal("seeded task missing"))?;
        seq += 1;
        let collected = Envelope {
            id: EventId::v7(week_ago.millis() as u64 + i as u64, [i as u8; 10]),
            task: t.id,
            actor: phone,
            seq,
            prev,
            at: Timestamp(week_ago.millis() + 3_600_000 + i as i64),
            payload: EventPayload::Collected { proof: Default::default(), materials: vec![] },
            signature: None,
        };
        prev = collected.chain_hash();
        log::insert_event(tx, &collected, true, None, week_ago)?;
        log::refold(tx, t.id, t.kind, &before)?;
        log::append_decision(tx, decide, t.id, EventPayload::HandedIn, Timestamp(week_ago.millis() + 7_200_000))?;
    }
    tx.execute(
        "INSERT INTO devices (device_id, staff_id, public_key, enrolled_at, revoked_at, last_seq, last_hash)
         VALUES ($1, $2, '', $3, $3, $4, $5)",
        params![device.to_string(), staff.0, now.millis(), seq as i64, prev.to_hex()],
    )?;
    // That history predates every phone enrolled from now on: nobody's pull feed needs it.
    tx.execute("DELETE FROM changes", params![])?;
    Ok(())
}

pub fn role_str(r: Role) -> &'static str {
    match r {
        Role::Staff => "staff",
        Role::Coordinator => "coordinator",
    }
}

pub fn insert_resident(
    tx: &mut dyn Tx,
    id: ResidentId,
    name: &str,
    phone: &str,
    a: &Address,
    green: GreenChannel,
) -> ApiResult<()> {
    tx.execute(
        "INSERT INTO residents (id, name, phone, compound, building, unit, room, green)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        params![id.0, name, phone, a.compound.0, a.building, a.unit, &a.room, to_json(&green)?],
    )?;
    Ok(())
}

pub fn insert_task(tx: &mut dyn Tx, t: &Task, created: Timestamp) -> ApiResult<()> {
    crate::proof::add_code(tx, t)?;
    let state = TaskState::new(t.id, t.kind);
    tx.execute(
        "INSERT INTO tasks (task_id, kind, case_number, compound, building, resident, body, status, assignee, state,
                            created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $10)",
        params![
            t.id.to_string(),
            t.kind.to_string(),
            &t.case_number,
            t.address.compound.0,
            t.address.building,
            t.resident.0,
            to_json(t)?,
            state.status.as_str(),
            to_json(&state)?,
            created.millis()
        ],
    )?;
    Ok(())
}

/// What a phone is sent about `task`.
pub fn sheet(tx: &mut dyn Tx, task: &Task) -> ApiResult<TaskSheet> {
    let r = tx
        .query_opt("SELECT name, phone, green FROM residents WHERE id = $1", params![task.resident.0])?
        .ok_or_else(|| ApiError::internal(format!("task {} names a missing resident", task.id)))?;
    let item = service_item(tx, task.service_item.0)?
        .ok_or_else(|| ApiError::internal(format!("task {} names a missing service item", task.id)))?;
    let (household, proxies) = crate::household::on_file(tx, task)?;
    Ok(TaskSheet {
        task: task.clone(),
        resident_name: r.text(0)?,
        resident_phone: r.text(1)?,
        green: json(&r.text(2)?)?,
        service_item_name: item.name,
        materials: item.materials,
        resident_code: crate::proof::resident_code(tx, task.id)?.and_then(|(_, hash)| hash),
        position: building_position(tx, task.address.compound, task.address.building)?,
        compound_name: tx
            .query_opt("SELECT name FROM compounds WHERE id = $1", params![task.address.compound.0])?
            .map(|r| r.text(0))
            .transpose()?,
        household,
        proxies,
    })
}

/// Where a building stands, if its compound is on the map.
pub fn building_position(
    tx: &mut dyn Tx,
    compound: jx_core::CompoundId,
    building: u16,
) -> ApiResult<Option<jx_core::geo::LatLng>> {
    let c: Option<Compound> = tx
        .query_opt("SELECT body FROM compounds WHERE id = $1", params![compound.0])?
        .map(|r| json(&r.text(0)?))
        .transpose()?;
    Ok(c.and_then(|c| c.buildings.into_iter().find(|b| b.number == building)).map(|b| b.position))
}

pub fn service_item(tx: &mut dyn Tx, id: u32) -> ApiResult<Option<ServiceItem>> {
    tx.query_opt("SELECT body FROM service_items WHERE id = $1", params![id])?.map(|r| json(&r.text(0)?)).transpose()
}

pub fn compounds(tx: &mut dyn Tx) -> ApiResult<Vec<Compound>> {
    tx.query("SELECT body FROM compounds ORDER BY id", params![])?.iter().map(|r| json(&r.text(0)?)).collect()
}
