//! The team and their phones: the staff list, enrolling a phone, the list of phones, revoking one.
//!
//! Domain layer: uses storage and the audit log; never the HTTP layer.

use crate::audit::{self, About};
use crate::auth::{NewToken, StaffSession, new_token, store_token};
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::params;
use crate::sql::Tx;
use jx_core::bytes::Sha256;
use jx_core::model::Role;
use jx_core::wire::{EnrolRequest, EnrolResponse};
use jx_core::{DeviceId, StaffId};

#[derive(serde::Serialize)]
pub struct StaffView {
    id: StaffId,
    login: String,
    name: String,
    role: String,
    home_compound: Option<u32>,
    home_building: Option<u16>,
    capacity: u16,
    /// A coordinator disabled the login: it cannot log in, and none of its tokens works.
    disabled: bool,
}

pub fn list(tx: &mut dyn Tx) -> ApiResult<Vec<StaffView>> {
    tx.query(
        "SELECT id, login, name, role, home_compound, home_building, capacity, disabled_at FROM staff ORDER BY id",
        params![],
    )?
    .iter()
    .map(|r| {
        Ok(StaffView {
            id: StaffId(r.u32("id")?),
            login: r.text("login")?,
            name: r.text("name")?,
            role: r.text("role")?,
            home_compound: r.opt_int("home_compound")?.map(|v| v as u32),
            home_building: r.opt_int("home_building")?.map(|v| v as u16),
            capacity: r.int("capacity")? as u16,
            disabled: r.opt_int("disabled_at")?.is_some(),
        })
    })
    .collect()
}

/// Checks a phone's public key: 32 bytes as 64 hex characters, an Ed25519 point. Returns it as stored.
fn check_public_key(key: &str) -> ApiResult<String> {
    let key = key.trim().to_lowercase();
    let bytes: [u8; 32] = hex::decode(&key).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| {
        ApiError::BadRequest("bad_public_key", "the public key must be 32 bytes as 64 hex characters".into())
    })?;
    if ed25519_dalek::VerifyingKey::from_bytes(&bytes).is_err() {
        return Err(ApiError::BadRequest("bad_public_key", "that is not an Ed25519 public key".into()));
    }
    Ok(key)
}

/// Enrols the phone `req` names, with its public key, for the team member of `session`: a device token that never
/// expires.
pub fn enrol(tx: &mut dyn Tx, session: StaffSession, req: &EnrolRequest) -> ApiResult<EnrolResponse> {
    if session.role != Role::Staff {
        return Err(ApiError::Forbidden("staff_only", "only a team member's phone can be enrolled".into()));
    }
    let key = check_public_key(&req.public_key)?;
    let owner = tx.query_opt("SELECT staff_id FROM devices WHERE device_id = $1", params![req.device.to_string()])?;
    if owner.is_some() {
        return Err(ApiError::Conflict("device_exists", format!("device {} is already enrolled", req.device)));
    }
    tx.execute(
        "INSERT INTO devices (device_id, staff_id, public_key, enrolled_at, last_seq, last_hash)
         VALUES ($1, $2, $3, $4, 0, $5)",
        params![req.device.to_string(), session.staff.0, key, now().millis(), Sha256::ZERO.to_hex()],
    )?;
    let token = new_token()?;
    let new =
        NewToken { token: &token, staff: session.staff, device: Some(req.device), expires_at: None, started_at: now() };
    store_token(tx, new)?;
    let about = About { staff: Some(session.staff), device: Some(req.device), task: None };
    audit::record(tx, now(), session.staff, "enrol", about, "phone enrolled")?;
    tracing::info!(device = %req.device, staff = session.staff.0, "device enrolled");
    Ok(EnrolResponse { device: req.device, staff: session.staff, device_token: token })
}

#[derive(serde::Serialize)]
pub struct DeviceView {
    device: DeviceId,
    staff: StaffId,
    enrolled_at: i64,
    revoked_at: Option<i64>,
    last_seq: i64,
}

pub fn devices(tx: &mut dyn Tx) -> ApiResult<Vec<DeviceView>> {
    tx.query(
        "SELECT device_id, staff_id, enrolled_at, revoked_at, last_seq FROM devices ORDER BY enrolled_at",
        params![],
    )?
    .iter()
    .map(|r| {
        Ok(DeviceView {
            device: r.text("device_id")?.parse().map_err(ApiError::internal)?,
            staff: StaffId(r.u32("staff_id")?),
            enrolled_at: r.int("enrolled_at")?,
            revoked_at: r.opt_int("revoked_at")?,
            last_seq: r.int("last_seq")?,
        })
    })
    .collect()
}

/// Revokes `device` (a coordinator's decision `by`): its token stops working, and the phone wipes itself on its
/// next contact.
pub fn revoke(tx: &mut dyn Tx, device: DeviceId, by: StaffId) -> ApiResult<()> {
    let n = tx.execute(
        "UPDATE devices SET revoked_at = coalesce(revoked_at, $2) WHERE device_id = $1",
        params![device.to_string(), now().millis()],
    )?;
    if n == 0 {
        return Err(ApiError::NotFound(format!("device {device} is not enrolled")));
    }
    let owner = tx
        .query_opt("SELECT staff_id FROM devices WHERE device_id = $1", params![device.to_string()])?
        .map(|r| r.u32("staff_id"))
        .transpose()?
        .map(StaffId);
    let about = About { staff: owner, device: Some(device), task: None };
    audit::record(tx, now(), by, "revoke", about, "phone revoked")?;
    tracing::info!(device = %device, by = by.0, "device revoked");
    Ok(())
}

/// Ends every login session of `staff` (a coordinator's decision `by`); their phones keep their device tokens.
/// Returns how many sessions ended.
pub fn end_sessions(tx: &mut dyn Tx, staff: StaffId, by: StaffId) -> ApiResult<u64> {
    known(tx, staff)?;
    let n = tx.execute("DELETE FROM tokens WHERE staff_id = $1 AND device_id IS NULL", params![staff.0])?;
    let about = About { staff: Some(staff), ..About::default() };
    audit::record(tx, now(), by, "end_sessions", about, &format!("{n} sessions ended"))?;
    Ok(n)
}

/// Disables (or enables again) the login of `staff`, a coordinator's decision `by` about someone else: disabled, it
/// cannot log in, its sessions end, and none of its tokens works, its phones' included (so the owner of a revoked
/// phone cannot enrol another until a coordinator enables the login again).
pub fn set_disabled(tx: &mut dyn Tx, staff: StaffId, disabled: bool, by: StaffId) -> ApiResult<()> {
    if staff == by {
        return Err(ApiError::Conflict(
            "not_yourself",
            "a coordinator cannot disable or enable their own login".into(),
        ));
    }
    known(tx, staff)?;
    let at = disabled.then(|| now().millis());
    tx.execute("UPDATE staff SET disabled_at = $2 WHERE id = $1", params![staff.0, at])?;
    if disabled {
        tx.execute("DELETE FROM tokens WHERE staff_id = $1 AND device_id IS NULL", params![staff.0])?;
    }
    let (what, text) = if disabled { ("disable_login", "login disabled") } else { ("enable_login", "login enabled") };
    audit::record(tx, now(), by, what, About { staff: Some(staff), ..About::default() }, text)?;
    tracing::info!(staff = staff.0, by = by.0, disabled, "a login was disabled or enabled");
    Ok(())
}

fn known(tx: &mut dyn Tx, staff: StaffId) -> ApiResult<()> {
    tx.query_opt("SELECT id FROM staff WHERE id = $1", params![staff.0])?
        .map(|_| ())
        .ok_or_else(|| ApiError::NotFound(format!("no staff member {staff}")))
}
