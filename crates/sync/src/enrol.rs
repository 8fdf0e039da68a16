//! Enrolment: the one time a staff member types a password on a phone. Logs in, registers the phone's public key
//! under that staff member, and keeps the device token the centre answers with; from then on the phone syncs with
//! that token alone, until the centre revokes it.

use crate::SyncError;
use jx_core::model::Role;
use jx_core::wire::{ApiErrorBody, EnrolRequest, EnrolResponse, LoginRequest, LoginResponse};
use jx_core::{DeviceId, StaffId};
use jx_store::{DeviceIdentity, Store};
use reqwest::StatusCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Who the phone now belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolled {
    pub device: DeviceId,
    pub staff: StaffId,
    pub name: String,
    pub role: Role,
}

async fn post<B: serde::Serialize, T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
    body: &B,
) -> Result<T, SyncError> {
    let mut req = http.post(url).json(body).timeout(Duration::from_secs(20));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.map_err(|e| SyncError::Offline(e.to_string()))?;
    let status = res.status();
    let bytes = res.bytes().await.map_err(|e| SyncError::Offline(format!("the answer was cut off: {e}")))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|e| SyncError::Protocol(e.to_string()));
    }
    let err: ApiErrorBody = serde_json::from_slice(&bytes)
        .unwrap_or(ApiErrorBody { code: "unknown".into(), message: String::from_utf8_lossy(&bytes).into_owned() });
    Err(match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            SyncError::Unauthorized { code: err.code, message: err.message }
        }
        s if s.is_server_error() => SyncError::Offline(format!("the centre answered {s}")),
        s => SyncError::Refused { status: s.as_u16(), code: err.code, message: err.message },
    })
}

/// Logs `login` in at `centre_url` and enrols this phone under them. Only staff members enrol a phone; a store
/// that is already enrolled is refused (wipe it first). Nothing is written unless the centre accepted both steps.
pub async fn enrol(
    store: Arc<Mutex<Store>>,
    centre_url: &str,
    login: &str,
    password: &str,
) -> Result<Enrolled, SyncError> {
    let base = centre_url.trim().trim_end_matches('/').to_string();
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(SyncError::Refused {
            status: 0,
            code: "bad_centre_url".into(),
            message: "the centre's address must start with http:// or https://".into(),
        });
    }
    let public_key = {
        let mut s = store.lock().map_err(|_| SyncError::Protocol("the store's lock was poisoned".into()))?;
        if s.identity()?.is_some() {
            return Err(SyncError::Refused {
                status: 0,
                code: "already_enrolled".into(),
                message: "this phone is already enrolled".into(),
            });
        }
        s.public_key_hex()?
    };
    let http = reqwest::Client::builder().build().map_err(|e| SyncError::Protocol(e.to_string()))?;
    let session: LoginResponse = post(
        &http,
        &format!("{base}/api/v1/auth/login"),
        None,
        &LoginRequest { login: login.trim().to_string(), password: password.to_string() },
    )
    .await?;
    if session.role != Role::Staff {
        return Err(SyncError::Refused {
            status: 0,
            code: "not_staff".into(),
            message: "only team members enrol a phone".into(),
        });
    }
    let mut random = [0u8; 10];
    getrandom::fill(&mut random).map_err(|e| SyncError::Protocol(format!("no randomness: {e}")))?;
    let device = DeviceId::v7(jx_store::now().0.max(0) as u64, random);
    let answer: EnrolResponse =
        post(&http, &format!("{base}/api/v1/devices"), Some(&session.token), &EnrolRequest { device, public_key })
            .await?;
    let identity = DeviceIdentity {
        device: answer.device,
        staff: answer.staff,
        centre_url: base,
        token: Some(answer.device_token),
    };
    store
        .lock()
        .map_err(|_| SyncError::Protocol("the store's lock was poisoned".into()))?
        .enrol(&identity, jx_store::now())?;
    Ok(Enrolled { device: answer.device, staff: answer.staff, name: session.name, role: session.role })
}
