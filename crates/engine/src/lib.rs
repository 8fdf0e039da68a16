//! `jx-engine`: what stands between the app's screens and everything else.
//!
//! It owns the protocol the screens speak ([`protocol`]: requests, answers, errors a screen can explain), the
//! handoff draft and its steps ([`draft`]), and — with the `engine` feature — the engine that answers requests
//! from the phone's store, records handoffs through the proof policy, processes photos and QR codes, and keeps the
//! sync engine running. On the web the engine runs in a dedicated worker (`crates/worker`), where the store can
//! persist to the browser's private file system and photo work never blocks the page; elsewhere it runs in-process.
//!
//! It must never import the UI (Dioxus) or the centre.

pub mod draft;
pub mod protocol;

#[cfg(feature = "engine")]
mod engine;

#[cfg(feature = "engine")]
pub use engine::{
    AfterFailure, DEFAULT_RETENTION, Engine, EngineOptions, LastFailure, MAX_ATTEMPTS, after_failure, chip,
    last_failure, open_proof_request,
};
pub use protocol::{Answer, EngineError, Request, Response};
