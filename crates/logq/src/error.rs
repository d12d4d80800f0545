//! Typed errors of the queue API.

use crate::MessageId;

/// Result alias of the queue API.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a [`crate::Store`].
///
/// ```
/// use logq::{Error, MessageId};
/// let err = Error::NotFound { queue: "orders".into(), id: MessageId(7) };
/// assert!(err.to_string().contains("orders"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The message log failed (I/O, corruption, lock, poisoning).
    #[error("queue {queue:?}: {source}")]
    Log {
        /// The queue.
        queue: String,
        /// The cause.
        #[source]
        source: logq_log::Error,
    },
    /// The consumer-group store failed.
    #[error("queue {queue:?}: {source}")]
    Groups {
        /// The queue.
        queue: String,
        /// The cause.
        #[source]
        source: logq_offsets::StoreError,
    },
    /// A store-level file operation failed.
    #[error("I/O error during {operation} of {file}: {source}")]
    Io {
        /// The file or directory.
        file: std::path::PathBuf,
        /// What was being done.
        operation: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A store file (dedup snapshot, ...) is damaged.
    #[error("corrupt {file} at byte {offset}: {reason}")]
    Corrupt {
        /// The file.
        file: std::path::PathBuf,
        /// Byte offset of the damage.
        offset: u64,
        /// What was expected.
        reason: String,
    },
    /// Another process has the store open.
    #[error("{dir} is locked by another process")]
    Locked {
        /// The data directory.
        dir: std::path::PathBuf,
    },
    /// The queue name is not allowed.
    #[error("invalid queue name {name:?}: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// An argument is out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// No message with this id is retained in the queue.
    #[error("no message {id} in queue {queue:?}")]
    NotFound {
        /// The queue.
        queue: String,
        /// The id.
        id: MessageId,
    },
    /// The payload of message `id` does not decode as the queue's type.
    #[error("message {id} in queue {queue:?} does not decode: {reason}")]
    Decode {
        /// The queue.
        queue: String,
        /// The message.
        id: MessageId,
        /// What postcard said.
        reason: String,
    },
    /// A value could not be encoded for a typed queue.
    #[error("encoding a message for queue {queue:?}: {reason}")]
    Encode {
        /// The queue.
        queue: String,
        /// What postcard said.
        reason: String,
    },
    /// The waited-for result did not come in time.
    #[error("timed out")]
    Timeout,
}
