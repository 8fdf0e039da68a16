//! Who is calling: passwords (argon2), bearer tokens (random, stored only as their SHA-256), logins and their
//! throttling, and the kinds of caller — [`Coordinator`], [`StaffSession`], [`DeviceCaller`], [`Caller`] — that the
//! HTTP layer reads from a request.
//!
//! Domain layer: uses storage; never the HTTP layer.

use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::sql::Tx;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jx_core::bytes::Sha256;
use jx_core::model::Role;
use jx_core::wire::{LoginRequest, LoginResponse};
use jx_core::{DeviceId, StaffId, Timestamp};

pub fn hash_password(password: &str) -> ApiResult<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    let salt = SaltString::encode_b64(&bytes).map_err(ApiError::internal)?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(ApiError::internal)
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A new random bearer token (256 bits, hex).
pub fn new_token() -> ApiResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    Ok(hex::encode(bytes))
}

/// What the database keeps of a token.
pub fn token_key(token: &str) -> String {
    Sha256::of(token.as_bytes()).to_hex()
}

/// Stores a token for `staff` (and `device`, for a device token) that expires at `expires_at` (never, if none).
pub fn store_token(
    tx: &mut dyn Tx,
    token: &str,
    staff: StaffId,
    device: Option<DeviceId>,
    expires_at: Option<Timestamp>,
) -> ApiResult<()> {
    tx.execute(
        "INSERT INTO tokens (token_hash, staff_id, device_id, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)",
        crate::params![
            token_key(token),
            staff.0,
            device.map(|d| d.to_string()),
            expires_at.map(|t| t.millis()),
            now().millis()
        ],
    )?;
    Ok(())
}

/// Any authenticated caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A person logged in with a password.
    Session { staff: StaffId, role: Role },
    /// An enrolled, unrevoked staff phone.
    Device { device: DeviceId, staff: StaffId },
}

/// A coordinator's session.
#[derive(Clone, Copy, Debug)]
pub struct Coordinator {
    pub staff: StaffId,
}

/// A staff member's (or coordinator's) password session, as used to enrol a phone.
#[derive(Clone, Copy, Debug)]
pub struct StaffSession {
    pub staff: StaffId,
    pub role: Role,
}

/// An enrolled staff phone.
#[derive(Clone, Copy, Debug)]
pub struct DeviceCaller {
    pub device: DeviceId,
    pub staff: StaffId,
}

/// staff, role, device, expires_at, revoked_at
type TokenRow = (u32, String, Option<String>, Option<i64>, Option<i64>);

/// Who holds the token whose key (see [`token_key`]) is `key`: refused if it is unknown, expired, or a revoked
/// device's.
pub fn caller(tx: &mut dyn Tx, key: String) -> ApiResult<Caller> {
    let row = tx.query_opt(
        "SELECT t.staff_id, s.role, t.device_id, t.expires_at, d.revoked_at
             FROM tokens t JOIN staff s ON s.id = t.staff_id
             LEFT JOIN devices d ON d.device_id = t.device_id
             WHERE t.token_hash = $1",
        crate::params![key],
    )?;
    let row: Option<TokenRow> = match row {
        Some(r) => Some((r.u32(0)?, r.text(1)?, r.opt_text(2)?, r.opt_int(3)?, r.opt_int(4)?)),
        None => None,
    };
    let Some((staff, role, device, expires, revoked)) = row else {
        return Err(ApiError::Unauthenticated("unknown_token", "this token is not valid".into()));
    };
    if expires.is_some_and(|e| e <= now().millis()) {
        return Err(ApiError::Unauthenticated("token_expired", "this token has expired; log in again".into()));
    }
    let staff = StaffId(staff);
    match device {
        Some(d) => {
            if revoked.is_some() {
                return Err(ApiError::Forbidden(
                    "device_revoked",
                    "this device has been revoked by a coordinator; it must be enrolled again".into(),
                ));
            }
            let device = d.parse().map_err(ApiError::internal)?;
            Ok(Caller::Device { device, staff })
        }
        None => {
            let role = if role == "coordinator" { Role::Coordinator } else { Role::Staff };
            Ok(Caller::Session { staff, role })
        }
    }
}

/// A login with a password: a new session token, or the refusal (a wrong password is counted towards the lock-out
/// in the same transaction, which commits either way; hence the nested result).
pub fn login(
    tx: &mut dyn Tx,
    req: &LoginRequest,
    ttl_ms: i64,
    limits: LoginLimits,
) -> ApiResult<Result<LoginResponse, ApiError>> {
    let at = now();
    if let Some(until) = locked_until(tx, &req.login, at)? {
        let minutes = (until.millis() - at.millis() + 59_999) / 60_000;
        return Ok(Err(ApiError::TooManyRequests(
            "locked_out",
            format!("too many failed logins; try again in {minutes} min or ask a coordinator"),
        )));
    }
    let row =
        tx.query_opt("SELECT id, name, role, password_hash FROM staff WHERE login = $1", crate::params![&req.login])?;
    let refused = || ApiError::Unauthenticated("bad_credentials", "wrong login or password".into());
    let ok = row
        .as_ref()
        .map(|r| r.text("password_hash"))
        .transpose()?
        .is_some_and(|hash| verify_password(&req.password, &hash));
    let Some(row) = row.filter(|_| ok) else {
        count_failure(tx, &req.login, at, limits)?;
        return Ok(Err(refused()));
    };
    clear_failures(tx, &req.login)?;
    let (id, name, role) = (row.u32("id")?, row.text("name")?, row.text("role")?);
    let token = new_token()?;
    let expires_at = Timestamp(now().millis() + ttl_ms);
    store_token(tx, &token, StaffId(id), None, Some(expires_at))?;
    let role = if role == "coordinator" { Role::Coordinator } else { Role::Staff };
    Ok(Ok(LoginResponse { token, expires_at, staff: StaffId(id), name, role }))
}

/// Trades the session token `old` of `session` for a new one with a fresh expiry; the old one stops working at once.
pub fn refresh(tx: &mut dyn Tx, old: &str, session: StaffSession, ttl_ms: i64) -> ApiResult<LoginResponse> {
    let n =
        tx.execute("DELETE FROM tokens WHERE token_hash = $1 AND device_id IS NULL", crate::params![token_key(old)])?;
    if n == 0 {
        return Err(ApiError::BadRequest("not_a_session", "only a login session can be refreshed".into()));
    }
    let row = tx.query_one("SELECT name FROM staff WHERE id = $1", crate::params![session.staff.0])?;
    let token = new_token()?;
    let expires_at = Timestamp(now().millis() + ttl_ms);
    store_token(tx, &token, session.staff, None, Some(expires_at))?;
    Ok(LoginResponse { token, expires_at, staff: session.staff, name: row.text("name")?, role: session.role })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let h = hash_password("correct horse").expect("hashes");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token().expect("token"), new_token().expect("token"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(token_key(&a), a);
    }
}

/// How many failed logins lock a login, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures within `window_ms` that lock the login.
    pub max_failures: u32,
    pub window_ms: i64,
    pub lock_ms: i64,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits { max_failures: 5, window_ms: 15 * 60_000, lock_ms: 15 * 60_000 }
    }
}

/// Until when `login` is locked, if it is.
pub fn locked_until(tx: &mut dyn Tx, login: &str, at: Timestamp) -> ApiResult<Option<Timestamp>> {
    Ok(tx
        .query_opt("SELECT locked_until FROM login_failures WHERE login = $1", crate::params![login])?
        .map(|r| r.opt_int(0))
        .transpose()?
        .flatten()
        .map(Timestamp)
        .filter(|until| until.millis() > at.millis()))
}

/// Counts a failed login (for any login name, existing or not, so that probing names learns nothing); locks it
/// when the failures in the window reach the limit.
pub fn count_failure(tx: &mut dyn Tx, login: &str, at: Timestamp, limits: LoginLimits) -> ApiResult<()> {
    let row = tx.query_opt("SELECT failures, first_at FROM login_failures WHERE login = $1", crate::params![login])?;
    let (failures, first_at) = match row {
        Some(r) if at.millis() - r.int(1)? < limits.window_ms => (r.int(0)? + 1, r.int(1)?),
        _ => (1, at.millis()),
    };
    let locked = (failures >= i64::from(limits.max_failures)).then(|| at.millis() + limits.lock_ms);
    // A lock starts a fresh window once it ends.
    let (failures, first_at) = if locked.is_some() { (0, at.millis()) } else { (failures, first_at) };
    tx.execute("DELETE FROM login_failures WHERE login = $1", crate::params![login])?;
    tx.execute(
        "INSERT INTO login_failures (login, failures, first_at, locked_until) VALUES ($1, $2, $3, $4)",
        crate::params![login, failures, first_at, locked],
    )?;
    if locked.is_some() {
        tracing::warn!(failures = limits.max_failures, "a login was locked after repeated failures");
    }
    Ok(())
}

pub fn clear_failures(tx: &mut dyn Tx, login: &str) -> ApiResult<()> {
    tx.execute("DELETE FROM login_failures WHERE login = $1", crate::params![login])?;
    Ok(())
}
