//! Everything that can go wrong with the device store, with the context a user (or a developer reading a report)
//! needs.

use jx_core::bytes::Sha256;
use jx_core::{TaskId, TransitionError};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path} is not a Jing Xiaoer store (it was left untouched)")]
    NotAStore { path: PathBuf },
    #[error(
        "{path} cannot be read with this key: it is encrypted with another one, or damaged (it was left untouched)"
    )]
    WrongKey { path: PathBuf },
    #[error(
        "{path} was written by a newer version of the app (schema {found}, this app knows up to {supported}); update the app — the file was left untouched"
    )]
    NewerSchema { path: PathBuf, found: i64, supported: i64 },
    #[error("this phone is not enrolled at a centre yet")]
    NotEnrolled,
    #[error("task {0} is not on this phone")]
    UnknownTask(TaskId),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("the handoff is not proven: {}", .0.iter().map(|g| g.to_string()).collect::<Vec<_>>().join("; "))]
    ProofIncomplete(Vec<jx_core::proof::Gap>),
    #[error("the event refers to photo {0}, which is not stored on this phone")]
    MissingBlob(Sha256),
    #[error("photo {hash} on disk does not match its name (damaged storage)")]
    CorruptBlob { hash: Sha256 },
    #[error("this phone's event chain is broken at event {seq}")]
    ChainBroken { seq: u64 },
    #[error("a stored row is damaged: {0}")]
    CorruptRow(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("file error at {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = path.into();
        move |source| StoreError::Io { path, source }
    }

    pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
        StoreError::CorruptRow(what.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
