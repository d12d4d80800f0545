//! What recovery found and did when a log was opened.

use std::path::PathBuf;

/// A summary of recovery, kept by the log and logged with `tracing`.
///
/// ```
/// let report = logq_log::RecoveryReport::default();
/// assert!(report.is_clean());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segment files found.
    pub segments: usize,
    /// Bytes of the tail segment read to find its end.
    pub tail_bytes_scanned: u64,
    /// Torn or unsynced tails cut off.
    pub truncated: Vec<Truncation>,
    /// Tail segment files that were created but never got a complete header or any batch
    /// (a crash during a roll) and were removed.
    pub removed_unfinished_segments: Vec<PathBuf>,
    /// Damaged ranges moved to quarantine files (only in [`crate::RecoveryMode::Quarantine`]).
    pub quarantined: Vec<Quarantined>,
    /// For a read-only open: where the readable prefix of the tail ends, if bytes follow it.
    pub unreadable_tail_from: Option<u64>,
}

impl RecoveryReport {
    /// True when recovery changed nothing.
    pub fn is_clean(&self) -> bool {
        self.truncated.is_empty()
            && self.removed_unfinished_segments.is_empty()
            && self.quarantined.is_empty()
    }
}

/// A cut tail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// The segment file.
    pub file: PathBuf,
    /// The byte position it was cut at.
    pub position: u64,
    /// Bytes removed.
    pub bytes_removed: u64,
    /// Why the bytes could be removed.
    pub reason: String,
}

/// Bytes moved aside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quarantined {
    /// The segment file.
    pub file: PathBuf,
    /// Byte position of the damage in it.
    pub position: u64,
    /// Bytes moved.
    pub bytes: u64,
    /// Where they went.
    pub quarantine_file: PathBuf,
    /// What was wrong.
    pub reason: String,
}
