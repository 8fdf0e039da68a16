//! `jx-sync`: the phone's side of the conversation with the centre.
//!
//! A sync round pushes the outbox in order (batched), uploads the photos its events refer to, then pulls the
//! changes since the cursor and applies them to the store. Every step leaves the store consistent, so a round cut
//! short anywhere (no signal, the app killed) is simply resumed by the next: the centre recognises events it already
//! has, a photo it already has is answered as such, and applying a pulled page twice changes nothing.
//!
//! It depends on `jx-core` and `jx-store`, and talks to the centre only over HTTP; it must never import the centre
//! crate or anything of the UI.

mod engine;
mod enrol;
mod retry;
mod rt;

pub use engine::{RoundReport, SyncConfig, SyncEngine, SyncError, SyncProgress, SyncState, SyncStatus};
pub use enrol::{Enrolled, enrol};
pub use retry::Backoff;
