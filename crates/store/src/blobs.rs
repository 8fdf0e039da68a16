//! Photo and signature blobs, content-addressed by SHA-256.
//!
//! On the web (wasm32) there is no file system: the bytes are a column of the blob's row, written in the same
//! statement as the row. Everywhere else they are files beside the database:
//! bytes go to `blobs/tmp/`, are synced, then renamed to `blobs/<first two hex>/<hex>` (rename is atomic on the
//! same file system) and the folder synced, and only then is the row inserted. A kill before the rename leaves a
//! temporary file, which the next open deletes; a kill between rename and insert leaves a whole file without a
//! row, which the next open verifies and adopts. No reader ever sees half a blob.
//!
//! In an encrypted store the files are sealed (XChaCha20-Poly1305 under a key derived from the store's key; a
//! random nonce per file): `JXB1`, the 24-byte nonce, the ciphertext with its tag. The address stays the SHA-256 of
//! the photo itself, checked after opening.

#[cfg(not(target_arch = "wasm32"))]
use crate::BLOB_DIR;
use crate::Store;
use crate::error::{Result, StoreError};
use jx_core::Timestamp;
use jx_core::bytes::Sha256;
use rusqlite::{OptionalExtension, params};
#[cfg(not(target_arch = "wasm32"))]
use std::fs;
#[cfg(not(target_arch = "wasm32"))]
use std::io::Write;
#[cfg(not(target_arch = "wasm32"))]
use std::path::{Path, PathBuf};

/// The key photo files are sealed with, from the store's key (a separate key for a separate use).
pub(crate) fn blob_key(key: &crate::StoreKey) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"jx-store blob key v1");
    h.update(key.0);
    h.finalize().into()
}

#[cfg(not(target_arch = "wasm32"))]
const SEALED: &[u8; 4] = b"JXB1";

/// What the store knows of one blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobInfo {
    pub hash: Sha256,
    pub size: u64,
    pub mime: String,
    pub uploaded: bool,
}

/// The media type by the file's first bytes; photos are JPEG or PNG, signatures PNG.
pub fn sniff_mime(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        "application/octet-stream"
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn sync_dir(path: &Path) -> Result<()> {
    // Making a rename durable needs the directory synced too (POSIX); harmless elsewhere.
    fs::File::open(path).and_then(|d| d.sync_all()).map_err(StoreError::io(path))
}

impl Store {
    #[cfg(not(target_arch = "wasm32"))]
    fn blob_root(&self) -> PathBuf {
        self.dir.join(BLOB_DIR)
    }

    /// Where a blob's bytes live.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn blob_path(&self, hash: &Sha256) -> PathBuf {
        let hex = hash.to_hex();
        self.blob_root().join(&hex[..2]).join(hex)
    }

    /// Stores `bytes` once and returns their address. Storing the same bytes again is a no-op.
    #[cfg(target_arch = "wasm32")]
    pub fn put_blob(&mut self, bytes: &[u8], now: Timestamp) -> Result<Sha256> {
        let hash = Sha256::of(bytes);
        self.conn.execute(
            "INSERT OR IGNORE INTO blobs (sha256, size, mime, created_at, data) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![hash.to_hex(), bytes.len() as i64, sniff_mime(bytes), now.millis(), bytes],
        )?;
        Ok(hash)
    }

    /// Stores `bytes` once and returns their address. Storing the same bytes again is a no-op.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn put_blob(&mut self, bytes: &[u8], now: Timestamp) -> Result<Sha256> {
        let hash = Sha256::of(bytes);
        if self.blob(&hash)?.is_some() && self.blob_path(&hash).is_file() {
            return Ok(hash);
        }
        let final_path = self.blob_path(&hash);
        let parent = final_path.parent().map(Path::to_path_buf).unwrap_or_else(|| self.blob_root());
        let tmp_dir = self.blob_root().join("tmp");
        fs::create_dir_all(&parent).map_err(StoreError::io(&parent))?;
        fs::create_dir_all(&tmp_dir).map_err(StoreError::io(&tmp_dir))?;
        let tmp = tmp_dir.join(format!("{}.{}.part", hash.to_hex(), uuid::Uuid::now_v7().simple()));
        let on_disk = self.seal(bytes)?;
        {
            let mut f = fs::File::create(&tmp).map_err(StoreError::io(&tmp))?;
            f.write_all(&on_disk).map_err(StoreError::io(&tmp))?;
            f.sync_all().map_err(StoreError::io(&tmp))?;
        }
        fs::rename(&tmp, &final_path).map_err(StoreError::io(&final_path))?;
        sync_dir(&parent)?;
        self.conn.execute(
            "INSERT OR IGNORE INTO blobs (sha256, size, mime, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![hash.to_hex(), bytes.len() as i64, sniff_mime(bytes), now.millis()],
        )?;
        Ok(hash)
    }

    pub fn blob(&self, hash: &Sha256) -> Result<Option<BlobInfo>> {
        Ok(self
            .conn
            .query_row("SELECT size, mime, uploaded FROM blobs WHERE sha256 = ?1", [hash.to_hex()], |r| {
                Ok(BlobInfo { hash: *hash, size: r.get::<_, i64>(0)? as u64, mime: r.get(1)?, uploaded: r.get(2)? })
            })
            .optional()?)
    }

    /// The bytes as they go to disk: sealed in an encrypted store, as they are otherwise.
    #[cfg(not(target_arch = "wasm32"))]
    fn seal(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        use chacha20poly1305::aead::{Aead, KeyInit};
        use chacha20poly1305::{XChaCha20Poly1305, XNonce};
        let Some(key) = self.blob_key else { return Ok(bytes.to_vec()) };
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|e| StoreError::corrupt(format!("no randomness: {e}")))?;
        let sealed = XChaCha20Poly1305::new(&key.into())
            .encrypt(XNonce::from_slice(&nonce), bytes)
            .map_err(|_| StoreError::corrupt("a photo could not be sealed"))?;
        Ok([SEALED.as_slice(), &nonce, &sealed].concat())
    }

    /// The bytes of a file on disk, opened if sealed. `None`: sealed but not with this store's key, or damaged.
    #[cfg(not(target_arch = "wasm32"))]
    fn unseal(&self, data: Vec<u8>) -> Option<Vec<u8>> {
        use chacha20poly1305::aead::{Aead, KeyInit};
        use chacha20poly1305::{XChaCha20Poly1305, XNonce};
        let Some(rest) = data.strip_prefix(SEALED.as_slice()) else { return Some(data) };
        let key = self.blob_key?;
        let (nonce, sealed) = rest.split_at_checked(24)?;
        XChaCha20Poly1305::new(&key.into()).decrypt(XNonce::from_slice(nonce), sealed).ok()
    }

    /// A blob's bytes, checked against its address.
    pub fn read_blob(&self, hash: &Sha256) -> Result<Vec<u8>> {
        #[cfg(target_arch = "wasm32")]
        let bytes: Vec<u8> = self
            .conn
            .query_row("SELECT data FROM blobs WHERE sha256 = ?1", [hash.to_hex()], |r| r.get::<_, Option<Vec<u8>>>(0))
            .optional()?
            .flatten()
            .ok_or(StoreError::CorruptBlob { hash: *hash })?;
        #[cfg(not(target_arch = "wasm32"))]
        let bytes = {
            let path = self.blob_path(hash);
            let data = fs::read(&path).map_err(StoreError::io(&path))?;
            self.unseal(data).ok_or(StoreError::CorruptBlob { hash: *hash })?
        };
        if Sha256::of(&bytes) != *hash {
            return Err(StoreError::CorruptBlob { hash: *hash });
        }
        Ok(bytes)
    }

    /// Blobs that events refer to and that the centre has not confirmed yet, oldest first.
    pub fn blobs_to_upload(&self) -> Result<Vec<BlobInfo>> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT b.sha256, b.size, b.mime FROM blobs b JOIN event_blobs eb ON eb.sha256 = b.sha256
             WHERE b.uploaded = 0 ORDER BY b.created_at, b.sha256",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?)))?;
        rows.map(|row| {
            let (hex, size, mime) = row?;
            let hash = Sha256::from_hex(&hex).map_err(|e| StoreError::corrupt(format!("blob {hex}: {e}")))?;
            Ok(BlobInfo { hash, size: size as u64, mime, uploaded: false })
        })
        .collect()
    }

    /// The centre has the blob: it is never sent again.
    pub fn mark_blob_uploaded(&mut self, hash: &Sha256) -> Result<()> {
        self.conn.execute("UPDATE blobs SET uploaded = 1 WHERE sha256 = ?1", [hash.to_hex()])?;
        Ok(())
    }

    /// At open: nothing to recover where the bytes live in their row.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn recover_blobs(&mut self) -> Result<()> {
        Ok(())
    }

    /// At open: delete unfinished temporary files and adopt whole blobs whose row was never written.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn recover_blobs(&mut self) -> Result<()> {
        let root = self.blob_root();
        let tmp = root.join("tmp");
        if let Ok(entries) = fs::read_dir(&tmp) {
            for e in entries.flatten() {
                fs::remove_file(e.path()).map_err(StoreError::io(e.path()))?;
            }
        }
        let Ok(shards) = fs::read_dir(&root) else {
            return Ok(());
        };
        for shard in shards.flatten() {
            if shard.file_name() == "tmp" || !shard.path().is_dir() {
                continue;
            }
            for file in fs::read_dir(shard.path()).map_err(StoreError::io(shard.path()))?.flatten() {
                let name = file.file_name().to_string_lossy().into_owned();
                let Ok(hash) = Sha256::from_hex(&name) else {
                    continue;
                };
                if self.blob(&hash)?.is_some() {
                    continue;
                }
                let data = fs::read(file.path()).map_err(StoreError::io(file.path()))?;
                let bytes = self.unseal(data).unwrap_or_default();
                if !bytes.is_empty() && Sha256::of(&bytes) == hash {
                    self.conn.execute(
                        "INSERT OR IGNORE INTO blobs (sha256, size, mime, created_at) VALUES (?1, ?2, ?3, 0)",
                        params![hash.to_hex(), bytes.len() as i64, sniff_mime(&bytes)],
                    )?;
                } else {
                    fs::remove_file(file.path()).map_err(StoreError::io(file.path()))?;
                }
            }
        }
        Ok(())
    }
}
