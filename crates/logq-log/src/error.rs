//! Typed errors of the log.
//!
//! Corruption (bytes on disk that are not what logq wrote) is kept apart from I/O failures
//! (the operating system refused an operation), and both name the file and, where it makes
//! sense, the byte offset. After a failed write or fsync the log is poisoned: every later
//! append fails with [`Error::Poisoned`] until the log is reopened, because the kernel may
//! already have dropped the dirty pages (a retried fsync would report a durability that
//! was never reached).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// Result alias of the log crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the log.
///
/// ```
/// use logq_log::Error;
/// let err = Error::Corrupt {
///     file: "00000000000000000000.log".into(),
///     offset: 4096,
///     reason: "batch CRC mismatch".into(),
/// };
/// assert!(err.to_string().contains("4096"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system failed an operation on `file`.
    #[error("I/O error during {operation} of {file}: {source}")]
    Io {
        /// The file or directory the operation was on.
        file: PathBuf,
        /// What logq was doing (for example `fdatasync`).
        operation: &'static str,
        /// The error the operating system returned.
        #[source]
        source: io::Error,
    },
    /// Bytes in `file` at byte `offset` are not what logq wrote.
    #[error("corrupt data in {file} at byte {offset}: {reason}")]
    Corrupt {
        /// The damaged file.
        file: PathBuf,
        /// Byte offset of the damage within the file.
        offset: u64,
        /// What was expected and what was found.
        reason: String,
    },
    /// The file does not start with a logq header at all.
    #[error("{file} is not a logq file: {reason}")]
    Foreign {
        /// The file.
        file: PathBuf,
        /// What was found instead of the header.
        reason: String,
    },
    /// The file was written by a newer logq.
    #[error("{file} has format version {found}; this logq supports up to {supported}")]
    UnsupportedVersion {
        /// The file.
        file: PathBuf,
        /// The version found in the header.
        found: u16,
        /// The newest version this build understands.
        supported: u16,
    },
    /// Another handle (in this or another process) holds the writer lock of `dir`.
    #[error("{dir} is locked by another writer")]
    Locked {
        /// The log directory.
        dir: PathBuf,
    },
    /// An earlier write or fsync failed; the log refuses writes until it is reopened.
    #[error("the log is poisoned by an earlier I/O failure ({cause}); reopen it to recover")]
    Poisoned {
        /// A description of the failure that poisoned the log.
        cause: Arc<str>,
    },
    /// The log was opened read-only.
    #[error("the log at {dir} is open read-only")]
    ReadOnly {
        /// The log directory.
        dir: PathBuf,
    },
    /// The log was closed.
    #[error("the log is closed")]
    Closed,
    /// The requested offset is not in the log.
    #[error("offset {offset} is outside the log [{first}, {next})")]
    OffsetOutOfRange {
        /// The requested offset.
        offset: u64,
        /// The first retained offset.
        first: u64,
        /// The offset the next append will get.
        next: u64,
    },
    /// The caller asked for something the log cannot do.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl Error {
    /// Builds an [`Error::Io`].
    pub(crate) fn io(file: impl Into<PathBuf>, operation: &'static str, source: io::Error) -> Self {
        Error::Io {
            file: file.into(),
            operation,
            source,
        }
    }

    /// Builds an [`Error::Corrupt`].
    pub(crate) fn corrupt(
        file: impl Into<PathBuf>,
        offset: u64,
        reason: impl Into<String>,
    ) -> Self {
        Error::Corrupt {
            file: file.into(),
            offset,
            reason: reason.into(),
        }
    }

    /// True when the error says the data on disk is damaged.
    pub fn is_corruption(&self) -> bool {
        matches!(
            self,
            Error::Corrupt { .. } | Error::Foreign { .. } | Error::UnsupportedVersion { .. }
        )
    }
}
