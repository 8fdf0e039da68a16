//! `/blobs/{sha256}`: photo and signature bytes, content-addressed.

use super::extract::{TypedBody, parse_hash};
use super::route::{BodyLimit, Route};
use crate::auth::{Caller, Coordinator};
use crate::blobs;
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jx_core::bytes::Sha256;
use jx_core::wire::BlobReceipt;

pub fn routes() -> Vec<Route> {
    vec![
        Route::put("/api/v1/blobs/{sha256}", put_blob).limit(BodyLimit::Blob),
        Route::get("/api/v1/blobs/{sha256}", get_blob).limit(BodyLimit::Blob),
    ]
}

async fn put_blob(
    State(st): State<AppState>,
    caller: Caller,
    Path(hash): Path<String>,
    body: TypedBody,
) -> ApiResult<(StatusCode, Json<BlobReceipt>)> {
    let hash = parse_hash(&hash)?;
    let ctype = body.content_type;
    if !matches!(ctype.as_str(), "image/jpeg" | "image/png") {
        return Err(ApiError::UnsupportedMediaType("a blob is a JPEG or PNG image".into()));
    }
    let body = body.bytes.ok_or_else(|| {
        ApiError::PayloadTooLarge(format!("a blob may be at most {} bytes", st.settings.max_blob_bytes))
    })?;
    if blobs::sniff(&body) != Some(ctype.as_str()) {
        return Err(ApiError::BadRequest("type_mismatch", format!("the bytes are not a {ctype} image")));
    }
    if Sha256::of(&body) != hash {
        return Err(ApiError::BadRequest(
            "hash_mismatch",
            "the bytes do not have the SHA-256 named in the path".into(),
        ));
    }
    // The whole image is checked as the phone checks it: its type from its bytes, its size from its header before
    // decoding, every byte decoded.
    let checked = {
        let body = body.clone();
        tokio::task::spawn_blocking(move || jx_proof::photo::inspect(&body, blobs::MAX_PIXELS))
            .await
            .map_err(ApiError::internal)?
    };
    match checked {
        Ok(seen) if seen.mime == ctype => {}
        Ok(seen) => {
            return Err(ApiError::BadRequest("type_mismatch", format!("the bytes are {}, not {ctype}", seen.mime)));
        }
        Err(e) => return Err(ApiError::BadRequest("bad_image", format!("the image is refused: {e}"))),
    }
    let size = body.len() as u64;
    // A phone's new photos count against its daily quota (a photo it already uploaded is free to send again).
    if let Caller::Device { device, .. } = caller {
        let quota = st.settings.upload_bytes_per_device_day;
        st.db.call(move |tx| blobs::count_upload(tx, device, hash, size, quota, now())).await?;
    }
    let created = st.blobs.put(hash, body.to_vec()).await.map_err(ApiError::internal)?;
    st.db.call(move |tx| Ok(blobs::record(tx, hash, size, &ctype, now())?)).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(BlobReceipt { sha256: hash, size, created })))
}

async fn get_blob(State(st): State<AppState>, _c: Coordinator, Path(hash): Path<String>) -> ApiResult<Response> {
    let hash = parse_hash(&hash)?;
    let bytes = st
        .blobs
        .get(hash)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::NotFound(format!("blob {hash} is not here")))?;
    // Served as the type it was checked to be, and never sniffed as anything else by the browser.
    let ctype = blobs::sniff(&bytes).unwrap_or("application/octet-stream");
    Ok(([(header::CONTENT_TYPE, ctype), (header::X_CONTENT_TYPE_OPTIONS, "nosniff")], bytes).into_response())
}
