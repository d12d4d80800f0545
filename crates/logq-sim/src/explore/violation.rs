//! [`Violation`]: an invariant of ENGINEERING.md §2 that a run broke, with what was found.

use std::fmt;
use std::ops::Range;

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// `Log::open` failed on a state a crash, kill or injected fault can produce.
    RecoveryFailed {
        /// The error.
        error: String,
    },
    /// Reading or iterating failed inside `[first_offset, next_offset)`.
    ReadFailed {
        /// The offset being read.
        offset: u64,
        /// The error.
        error: String,
    },
    /// Offsets are not dense (invariant 4).
    NotDense {
        /// The offset expected next.
        expected: u64,
        /// The offset found (or where iteration ended).
        found: u64,
    },
    /// `read(offset)` and iteration disagree, or `read` succeeded outside the log.
    ReadMismatch {
        /// The offset.
        offset: u64,
    },
    /// A payload that was never sent (invariants 2 and 3).
    Phantom {
        /// Where it was found.
        offset: u64,
        /// Its first bytes.
        prefix: String,
    },
    /// Part of a batch without the rest of it, or out of place (invariant 3).
    PartialBatch {
        /// Where the break was found.
        offset: u64,
        /// The batch id in the model.
        batch: usize,
    },
    /// A batch found twice.
    Duplicate {
        /// Where the second copy starts.
        offset: u64,
        /// The batch id in the model.
        batch: usize,
    },
    /// An acknowledged batch found at another offset than the append returned.
    WrongOffset {
        /// The batch id.
        batch: usize,
        /// The offsets the append returned.
        acked: Range<u64>,
        /// Where it was found.
        found: u64,
    },
    /// Batches of one thread found out of the order they were sent in.
    OutOfOrder {
        /// The offset of the later-sent batch found first.
        offset: u64,
    },
    /// An acknowledged batch is missing (invariant 1).
    AckedLost {
        /// The batch id.
        batch: usize,
        /// The offsets the append returned.
        acked: Range<u64>,
        /// The recovered log's first offset.
        first: u64,
        /// The recovered log's next offset.
        next: u64,
    },
    /// The log starts above every offset retention was asked to remove.
    HeadLost {
        /// The recovered log's first offset.
        first: u64,
        /// The largest `remove_segments_before` argument.
        retention_before: u64,
    },
    /// An append returned `Ok` after an earlier append on the same handle failed
    /// (invariant 8).
    AckAfterFailure {
        /// The batch id.
        batch: usize,
    },
    /// An append returned offsets that do not fit its batch.
    BadAppendRange {
        /// The batch id.
        batch: usize,
        /// The range returned.
        returned: Range<u64>,
    },
    /// An operation failed although no fault was injected and the machine was up.
    UnexpectedError {
        /// The operation.
        during: &'static str,
        /// The error.
        error: String,
    },
    /// Recovery interrupted by a crash, then completed, recovered another state than an
    /// uninterrupted recovery (invariant 7).
    NotIdempotent {
        /// `(first, next, records)` after an uninterrupted recovery.
        expected: (u64, u64, usize),
        /// `(first, next, records)` after the interrupted one.
        found: (u64, u64, usize),
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::RecoveryFailed { error } => write!(f, "recovery failed: {error}"),
            Violation::ReadFailed { offset, error } => {
                write!(f, "reading offset {offset} failed: {error}")
            }
            Violation::NotDense { expected, found } => {
                write!(f, "offsets not dense: expected {expected}, found {found}")
            }
            Violation::ReadMismatch { offset } => {
                write!(f, "read({offset}) disagrees with iteration")
            }
            Violation::Phantom { offset, prefix } => {
                write!(f, "phantom record at offset {offset}: {prefix:?}")
            }
            Violation::PartialBatch { offset, batch } => {
                write!(f, "batch {batch} only partly present (at offset {offset})")
            }
            Violation::Duplicate { offset, batch } => {
                write!(f, "batch {batch} found twice (again at offset {offset})")
            }
            Violation::WrongOffset { batch, acked, found } => write!(
                f,
                "acknowledged batch {batch} at offsets {acked:?} found at offset {found}"
            ),
            Violation::OutOfOrder { offset } => {
                write!(f, "batches out of send order at offset {offset}")
            }
            Violation::AckedLost {
                batch,
                acked,
                first,
                next,
            } => write!(
                f,
                "acknowledged batch {batch} at offsets {acked:?} lost; the log holds [{first}, {next})"
            ),
            Violation::HeadLost {
                first,
                retention_before,
            } => write!(
                f,
                "the log starts at {first} but retention only removed below {retention_before}"
            ),
            Violation::AckAfterFailure { batch } => write!(
                f,
                "append of batch {batch} returned Ok after an earlier append failed (not poisoned)"
            ),
            Violation::BadAppendRange { batch, returned } => {
                write!(f, "append of batch {batch} returned offsets {returned:?}")
            }
            Violation::UnexpectedError { during, error } => {
                write!(f, "{during} failed with no fault injected: {error}")
            }
            Violation::NotIdempotent { expected, found } => write!(
                f,
                "recovery after a crash during recovery gave (first, next, records) {found:?}, \
                 an uninterrupted recovery {expected:?}"
            ),
        }
    }
}

impl std::error::Error for Violation {}
