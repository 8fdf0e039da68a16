//! `jx-centre scan PHOTO…`: reads the QR codes in photos and checks them against the centre's keys, one line per
//! file — for a coordinator checking a disputed handoff photo, or anyone checking a printed label.

use jx_core::Timestamp;
use jx_core::token::{Keyring, TokenKind};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What one photo held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// A code of ours, valid.
    Valid { kind: TokenKind, task: jx_core::TaskId },
    /// A code that is not valid, and why.
    Invalid { text: String, reason: String },
    /// No code could be read.
    NoCode,
    /// The file could not be read or is not a usable image.
    Unreadable(String),
}

#[derive(Clone, Debug)]
pub struct ScanLine {
    pub file: PathBuf,
    pub findings: Vec<Finding>,
    pub millis: f64,
}

fn kind_name(k: TokenKind) -> &'static str {
    match k {
        TokenKind::PacketLabel => "packet-label",
        TokenKind::ResidentConfirmation => "resident-confirmation",
        TokenKind::DoorCard => "door-card",
        TokenKind::HouseholdCard => "household-card",
    }
}

impl fmt::Display for ScanLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .findings
            .iter()
            .map(|x| match x {
                Finding::Valid { kind, task } => format!("{}\ttask {task}\tvalid", kind_name(*kind)),
                Finding::Invalid { text, reason } => {
                    let shown: String = text.chars().take(24).collect();
                    let more = if text.chars().count() > 24 { "…" } else { "" };
                    format!("\"{shown}{more}\"\t-\tinvalid: {reason}")
                }
                Finding::NoCode => "-\t-\tno code found".into(),
                Finding::Unreadable(why) => format!("-\t-\tunreadable: {why}"),
            })
            .collect();
        write!(f, "{}\t{}\t{:.0} ms", self.file.display(), parts.join(" | "), self.millis)
    }
}

/// Scans one photo's bytes.
pub fn scan_bytes(bytes: &[u8], ring: &Keyring, now: Timestamp) -> Vec<Finding> {
    match jx_proof::scan::decode_photo(bytes) {
        Err(e) => vec![Finding::Unreadable(e.to_string())],
        Ok(texts) if texts.is_empty() => vec![Finding::NoCode],
        Ok(texts) => texts
            .into_iter()
            .map(|text| match ring.verify(&text, now) {
                Ok(t) => Finding::Valid { kind: t.kind, task: t.task },
                Err(e) => Finding::Invalid { reason: e.to_string(), text },
            })
            .collect(),
    }
}

/// Scans a file, timing the decoding and checking (not the reading).
pub fn scan_file(path: &Path, ring: &Keyring, now: Timestamp) -> ScanLine {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return ScanLine { file: path.into(), findings: vec![Finding::Unreadable(e.to_string())], millis: 0.0 };
        }
    };
    let start = Instant::now();
    let findings = scan_bytes(&bytes, ring, now);
    ScanLine { file: path.into(), findings, millis: start.elapsed().as_secs_f64() * 1000.0 }
}
