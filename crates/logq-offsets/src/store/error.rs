//! Errors of the durable group store.

use crate::{EncodeError, GroupError, GroupsError};
use std::path::PathBuf;

/// Everything that can go wrong in an [`crate::OffsetStore`].
///
/// ```
/// use logq_offsets::StoreError;
/// let err = StoreError::UnknownGroup { name: "payments".into() };
/// assert!(err.to_string().contains("payments"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The journal (a logq-log log) failed: I/O, corruption, poisoning, locking.
    #[error("group journal: {0}")]
    Log(#[from] logq_log::Error),
    /// A checkpoint or journal record is damaged or inconsistent.
    #[error("corrupt consumer-group state in {file} at {offset}: {reason}")]
    Corrupt {
        /// The file or journal directory.
        file: PathBuf,
        /// Byte offset in a checkpoint file, or record offset in the journal.
        offset: u64,
        /// What was expected and what was found.
        reason: String,
    },
    /// A checkpoint file could not be written or read.
    #[error("I/O error during {operation} of {file}: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// What was being done.
        operation: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// No group has this name.
    #[error("no consumer group named {name:?}")]
    UnknownGroup {
        /// The name.
        name: String,
    },
    /// The operation is not allowed in the group's current state.
    #[error("group {group:?}: {source}")]
    Group {
        /// The group.
        group: String,
        /// Why.
        #[source]
        source: GroupError,
    },
    /// Creating or deleting a group failed.
    #[error(transparent)]
    Groups(#[from] GroupsError),
    /// An event or checkpoint could not be encoded (a field too long).
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The store was opened read-only.
    #[error("the consumer-group store is open read-only")]
    ReadOnly,
}

/// Result alias of the store.
pub type StoreResult<T> = Result<T, StoreError>;
