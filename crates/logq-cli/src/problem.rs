//! A problem found in a data directory: which file, which byte, what kind, what is wrong.

use serde::Serialize;
use std::fmt;

/// The kind of a [`Problem`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// Bytes that logq wrote and that changed since (bit rot, overwrites): data at risk.
    Corrupt,
    /// A torn or unsynced tail: open would cut it (nothing acknowledged is lost).
    TornTail,
    /// A tail segment created by a roll that never finished: open would remove it.
    Unfinished,
    /// A file named like a segment that is not a logq segment.
    Foreign,
    /// Offsets not dense across segments (a missing or overlapping segment).
    Gap,
    /// An index file that is missing, damaged or disagrees with its segment (derived data).
    Index,
    /// A leftover `*.tmp` or `*.quarantine` file: reported, not counted as a problem.
    Leftover,
    /// The log's `POISONED` mark: a write or fdatasync failed and no open has repaired the
    /// log since (the next writable open rewrites its tail). Reported, not counted.
    Poisoned,
    /// A group-journal record that does not decode as a group event.
    Journal,
    /// A checkpoint file that does not decode or does not fit its journal.
    Checkpoint,
    /// The journal or a checkpoint refers to messages beyond the end of the message log.
    Reference,
}

impl ProblemKind {
    /// True for findings that are reported but not counted as problems.
    pub fn is_note(self) -> bool {
        matches!(self, ProblemKind::Leftover | ProblemKind::Poisoned)
    }

    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::Corrupt => "corrupt",
            ProblemKind::TornTail => "torn_tail",
            ProblemKind::Unfinished => "unfinished",
            ProblemKind::Foreign => "foreign",
            ProblemKind::Gap => "gap",
            ProblemKind::Index => "index",
            ProblemKind::Leftover => "leftover",
            ProblemKind::Poisoned => "poisoned",
            ProblemKind::Journal => "journal",
            ProblemKind::Checkpoint => "checkpoint",
            ProblemKind::Reference => "reference",
        }
    }
}

/// One finding, shown as `file: byte N: message`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file, relative to the directory the command was given.
    pub file: String,
    /// The byte offset in the file, when the problem has one.
    pub byte: Option<u64>,
    /// What kind of problem.
    pub kind: ProblemKind,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = if self.kind.is_note() { "note: " } else { "" };
        match self.byte {
            Some(byte) => write!(f, "{}: byte {byte}: {label}{}", self.file, self.message),
            None => write!(f, "{}: {label}{}", self.file, self.message),
        }
    }
}
