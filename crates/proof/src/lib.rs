//! Proof media: the pixels around a handoff's proof.
//!
//! - [`render`]: QR codes as SVG and PNG, and the printable A4 sheets of packet labels and resident slips.
//! - [`scan`]: finding and decoding QR codes in full-resolution camera photos.
//! - [`photo`]: turning a camera photo into what the proof keeps (oriented, downscaled, metadata stripped,
//!   re-encoded, thumbnailed).
//!
//! Pure computation over bytes in memory: no files, no network, no clock, no database. It may import `jx-core`
//! and image codecs; it must never import the store, sync or centre crates.

pub mod photo;
pub mod render;
pub mod scan;
