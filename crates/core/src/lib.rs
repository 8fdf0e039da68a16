//! `jx-core`: the pure heart of Jing Xiaoer.
//!
//! It owns the domain types (compounds, staff, residents, service items, tasks), the events that record what
//! happened to a task and their canonical byte encoding, the state machine that folds a task's events into its
//! state, and the deterministic demo town.
//!
//! It must never import anything that does I/O: no files, no sockets, no clocks, no async runtime, no database, and
//! none of the other crates of this workspace. Callers pass in the time and the randomness it needs, so every
//! function here is a plain function of its inputs.

pub mod assign;
pub mod bounds;
pub mod bytes;
pub mod code;
pub mod demo;
pub mod doorcard;
pub mod event;
pub mod geo;
pub mod ids;
pub mod model;
pub mod proof;
pub mod rng;
pub mod route;
pub mod sign;
pub mod state;
pub mod strokes;
pub mod time;
pub mod token;
pub mod tsplib;
pub mod wire;

pub use event::{Actor, Envelope, EventKind, EventPayload};
pub use ids::{CompoundId, DeviceId, EventId, ResidentId, ServiceItemId, StaffId, TaskId};
pub use model::{Task, TaskKind, TaskSheet};
pub use state::{Conflict, ConflictKind, TaskState, TaskStatus, TransitionError};
pub use time::Timestamp;
