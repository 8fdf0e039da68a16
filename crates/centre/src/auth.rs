//! Who is calling: passwords (argon2), bearer tokens (random, stored only as their SHA-256), logins and their
//! throttling, and the kinds of caller — [`Coordinator`], [`StaffSession`], [`DeviceCaller`], [`Caller`] — that the
//! HTTP layer reads from a request.
//!
//! Domain layer: uses storage; never the HTTP layer.

use crate::db::{Db, now};
use crate::error::{ApiError, ApiResult};
use crate::sql::Tx;
use crate::throttle::{self, Backoff};
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

/// A token to store: whose, for which device (none for a login session), until when (never, if none), and when
/// its session began (a refreshed session keeps the first login's time).
pub struct NewToken<'a> {
    pub token: &'a str,
    pub staff: StaffId,
    pub device: Option<DeviceId>,
    pub expires_at: Option<Timestamp>,
    pub started_at: Timestamp,
}

pub fn store_token(tx: &mut dyn Tx, t: NewToken<'_>) -> ApiResult<()> {
    tx.execute(
        "INSERT INTO tokens (token_hash, staff_id, device_id, expires_at, created_at, started_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        crate::params![
            token_key(t.token),
            t.staff.0,
            t.device.map(|d| d.to_string()),
            t.expires_at.map(|t| t.millis()),
            now().millis(),
            t.started_at.millis()
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

/// Who holds the token whose key (see [`token_key`]) is `key`: refused if it is unknown, expired, a revoked device's,
/// or a disabled login's.
pub fn caller(tx: &mut dyn Tx, key: String) -> ApiResult<Caller> {
    let Some(r) = tx.query_opt(
        "SELECT t.staff_id, s.role, t.device_id, t.expires_at, d.revoked_at, s.disabled_at
         FROM tokens t JOIN staff s ON s.id = t.staff_id
         LEFT JOIN devices d ON d.device_id = t.device_id
         WHERE t.token_hash = $1",
        crate::params![key],
    )?
    else {
        return Err(ApiError::Unauthenticated("unknown_token", "this token is not valid".into()));
    };
    let (staff, role, device) = (r.u32("staff_id")?, r.text("role")?, r.opt_text("device_id")?);
    let (expires, revoked) = (r.opt_int("expires_at")?, r.opt_int("revoked_at")?);
    if expires.is_some_and(|e| e <= now().millis()) {
        return Err(ApiError::Unauthenticated("token_expired", "this token has expired; log in again".into()));
    }
    if r.opt_int("disabled_at")?.is_some() {
        return Err(disabled_refusal());
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

/// The refusal of a login a coordinator disabled.
pub fn disabled_refusal() -> ApiError {
    ApiError::Forbidden("login_disabled", "this login has been disabled by a coordinator".into())
}

/// How long sessions last: each token `ttl_ms`, a session (through all its refreshes) `max_age_ms` at most.
#[derive(Clone, Copy, Debug)]
pub struct SessionLimits {
    pub ttl_ms: i64,
    pub max_age_ms: i64,
}

/// Trades the session token `old` of `session` for a new one with a fresh expiry, never past the session's maximum
/// age (then: `session_too_old`, log in again); the old one stops working at once.
pub fn refresh(tx: &mut dyn Tx, old: &str, session: StaffSession, limits: SessionLimits) -> ApiResult<LoginResponse> {
    let key = token_key(old);
    let Some(r) = tx.query_opt(
        "SELECT coalesce(started_at, created_at) AS started FROM tokens WHERE token_hash = $1 AND device_id IS NULL",
        crate::params![&key],
    )?
    else {
        return Err(ApiError::BadRequest("not_a_session", "only a login session can be refreshed".into()));
    };
    let started = Timestamp(r.int("started")?);
    tx.execute("DELETE FROM tokens WHERE token_hash = $1", crate::params![&key])?;
    let at = now();
    let deadline = started.millis().saturating_add(limits.max_age_ms);
    if deadline <= at.millis() {
        let hours = limits.max_age_ms / 3_600_000;
        return Err(ApiError::Unauthenticated(
            "session_too_old",
            format!("this session began more than {hours} h ago; log in again"),
        ));
    }
    let row = tx.query_one("SELECT name FROM staff WHERE id = $1", crate::params![session.staff.0])?;
    let token = new_token()?;
    let expires_at = Timestamp((at.millis() + limits.ttl_ms).min(deadline));
    let new = NewToken {
        token: &token,
        staff: session.staff,
        device: None,
        expires_at: Some(expires_at),
        started_at: started,
    };
    store_token(tx, new)?;
    Ok(LoginResponse { token, expires_at, staff: session.staff, name: row.text("name")?, role: session.role })
}

/// Ends the login session of `token` at the centre (signing out): it stops working at once.
pub fn logout(tx: &mut dyn Tx, token: &str) -> ApiResult<()> {
    let n =
        tx.execute("DELETE FROM tokens WHERE token_hash = $1 AND device_id IS NULL", crate::params![token_key(token)])?;
    if n == 0 {
        return Err(ApiError::BadRequest("not_a_session", "only a login session can be signed out".into()));
    }
    Ok(())
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

/// How failed logins are slowed, never locked: by login name *and* address, so that a stranger elsewhere cannot
/// slow anyone else down, and by address alone, so that one address cannot guess across many logins. Each is a
/// [`Backoff`] of growing delays, kept in the database (every replica sees the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginLimits {
    pub per_login: Backoff,
    pub per_address: Backoff,
}

impl Default for LoginLimits {
    fn default() -> Self {
        let forget_ms = 3_600_000;
        LoginLimits {
            per_login: Backoff { free: 3, base_ms: 1_000, max_ms: 15 * 60_000, forget_ms },
            per_address: Backoff { free: 10, base_ms: 1_000, max_ms: 15 * 60_000, forget_ms },
        }
    }
}

/// Password checks at once in this process: Argon2 takes the CPU, and other requests must keep some.
static VERIFYING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The hash an unknown login is checked against, so that it takes as long to refuse as a wrong password.
fn stand_in_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no such login").unwrap_or_default())
}

/// A login with a password from `address`: a new session token, or why not. The password is checked outside any
/// transaction (Argon2 never holds the database), an unknown login as slowly as a known one, and failures slow the
/// next tries from that address as [`LoginLimits`] says.
pub async fn login(
    db: &Db,
    req: LoginRequest,
    address: String,
    ttl_ms: i64,
    limits: LoginLimits,
) -> ApiResult<LoginResponse> {
    let (pair, from) = (format!("login:{}|{address}", req.login), format!("address:{address}"));
    let (wait, account) = {
        let (pair, from, login) = (pair.clone(), from.clone(), req.login.clone());
        db.call(move |tx| {
            let at = now();
            let wait = throttle::wait_ms(tx, &pair, limits.per_login, at)?.max(throttle::wait_ms(
                tx,
                &from,
                limits.per_address,
                at,
            )?);
            let row = tx.query_opt(
                "SELECT id, name, role, password_hash, disabled_at FROM staff WHERE login = $1",
                crate::params![login],
            )?;
            let account = row
                .map(|r| {
                    let disabled = r.opt_int("disabled_at")?.is_some();
                    Ok::<_, ApiError>((
                        r.u32("id")?,
                        r.text("name")?,
                        r.text("role")?,
                        r.text("password_hash")?,
                        disabled,
                    ))
                })
                .transpose()?;
            Ok((wait, account))
        })
        .await?
    };
    if wait > 0 {
        let seconds = (wait + 999) / 1000;
        return Err(ApiError::TooManyRequests(
            "too_many_attempts",
            format!("too many failed logins from here; try again in {seconds} s"),
        ));
    }
    let hash = account.as_ref().map_or_else(|| stand_in_hash().to_string(), |a| a.3.clone());
    let password = req.password;
    let verified = {
        let _turn = VERIFYING.acquire().await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.map_err(ApiError::internal)?
    };
    db.call(move |tx| {
        let at = now();
        let Some((id, name, role, _, disabled)) = account.filter(|_| verified) else {
            throttle::fail(tx, &pair, limits.per_login, at)?;
            throttle::fail(tx, &from, limits.per_address, at)?;
            return Ok(Err(ApiError::Unauthenticated("bad_credentials", "wrong login or password".into())));
        };
        throttle::clear(tx, &pair)?;
        if disabled {
            return Ok(Err(disabled_refusal()));
        }
        let token = new_token()?;
        let expires_at = Timestamp(at.millis() + ttl_ms);
        let new =
            NewToken { token: &token, staff: StaffId(id), device: None, expires_at: Some(expires_at), started_at: at };
        store_token(tx, new)?;
        let role = if role == "coordinator" { Role::Coordinator } else { Role::Staff };
        Ok(Ok(LoginResponse { token, expires_at, staff: StaffId(id), name, role }))
    })
    .await?
}
