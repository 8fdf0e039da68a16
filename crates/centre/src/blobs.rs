//! Photo and signature bytes, content-addressed by SHA-256, behind one interface: a local folder by default, an
//! S3-compatible object store at city scale (the next back end).

use async_trait::async_trait;
use jx_core::bytes::Sha256;
use std::io;
use std::path::{Path, PathBuf};

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `bytes` under `hash` (already checked by the caller). Returns false if it was already there.
    async fn put(&self, hash: Sha256, bytes: Vec<u8>) -> io::Result<bool>;
    async fn get(&self, hash: Sha256) -> io::Result<Option<Vec<u8>>>;
}

/// Blobs as files `<root>/<first two hex>/<hex>`, written to a temporary name, synced, and renamed into place.
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    pub fn new(root: &Path) -> io::Result<LocalBlobs> {
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(LocalBlobs { root: root.to_path_buf() })
    }

    fn path(&self, hash: &Sha256) -> PathBuf {
        let hex = hash.to_hex();
        self.root.join(&hex[..2]).join(hex)
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn put(&self, hash: Sha256, bytes: Vec<u8>) -> io::Result<bool> {
        let path = self.path(&hash);
        let tmp = self.root.join("tmp").join(format!("{}.{}", hash.to_hex(), uuid::Uuid::now_v7().simple()));
        tokio::task::spawn_blocking(move || {
            if path.is_file() {
                return Ok(false);
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            {
                use std::io::Write;
                let mut f = std::fs::File::create(&tmp)?;
                f.write_all(&bytes)?;
                f.sync_all()?;
            }
            std::fs::rename(&tmp, &path)?;
            Ok(true)
        })
        .await
        .map_err(io::Error::other)?
    }

    async fn get(&self, hash: Sha256) -> io::Result<Option<Vec<u8>>> {
        match tokio::fs::read(self.path(&hash)).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The media types a blob may have, recognised by their first bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

/// Most pixels an uploaded image may declare (phones send photos of at most 1,600 px a side: 2.6 MP).
pub const MAX_PIXELS: u64 = 16_000_000;

/// Counts `bytes` of the upload of `hash` against `device`'s quota for the Shanghai day of `at`, unless the centre
/// keeps those bytes already (sending a photo again is free); refuses (429 `upload_quota`) past `quota`, and then
/// counts nothing (the caller's transaction rolls back).
pub fn count_upload(
    tx: &mut dyn crate::sql::Tx,
    device: jx_core::DeviceId,
    hash: Sha256,
    bytes: u64,
    quota: u64,
    at: jx_core::Timestamp,
) -> crate::error::ApiResult<()> {
    if tx.query_opt("SELECT 1 AS kept FROM blobs WHERE sha256 = $1", crate::params![hash.to_hex()])?.is_some() {
        return Ok(());
    }
    let day = jx_core::time::ShanghaiDay::of(at).0;
    let used = tx
        .query_one(
            "UPDATE devices SET up_bytes = CASE WHEN up_day = $2 THEN up_bytes + $3 ELSE $3 END, up_day = $2
             WHERE device_id = $1 RETURNING up_bytes",
            crate::params![device.to_string(), day, bytes as i64],
        )?
        .int("up_bytes")?;
    if used as u64 > quota {
        return Err(crate::error::ApiError::TooManyRequests(
            "upload_quota",
            format!("this phone has uploaded its {quota} bytes of photos for today; the rest are taken tomorrow"),
        ));
    }
    Ok(())
}

/// Records that the bytes of `hash` are kept (once; a second upload of the same bytes changes nothing).
pub fn record(
    tx: &mut dyn crate::sql::Tx,
    hash: Sha256,
    size: u64,
    mime: &str,
    at: jx_core::Timestamp,
) -> Result<(), crate::sql::DbError> {
    tx.execute(
        "INSERT INTO blobs (sha256, size, mime, stored_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        crate::params![hash.to_hex(), size as i64, mime, at.millis()],
    )?;
    Ok(())
}
