//! Errors that stop a command (exit code 2), as opposed to damage it reports (exit code 1).
//!
//! Every message is one line that says what was wrong and where; `main` prints it to stderr
//! as `logq: <message>`.

use std::io;
use std::path::{Path, PathBuf};

/// Result alias of the CLI library.
pub type Result<T, E = CliError> = std::result::Result<T, E>;

/// Why a command could not run to the end.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The path given does not exist.
    #[error("{}: no such file or directory", .path.display())]
    NotFound {
        /// The missing path.
        path: PathBuf,
    },
    /// A directory was expected.
    #[error("{}: not a directory", .path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// The directory holds no segment file, neither itself nor in a subdirectory.
    #[error("{}: not a logq directory (no segment files in it or below it)", .path.display())]
    NotALogDirectory {
        /// The directory.
        path: PathBuf,
    },
    /// The directory holds several logs where one was needed.
    #[error("{}: holds {count} logs ({examples}); pass one of them", .path.display())]
    SeveralLogs {
        /// The directory.
        path: PathBuf,
        /// How many logs it holds.
        count: usize,
        /// A few of their relative paths.
        examples: String,
    },
    /// A file was written by a newer logq.
    #[error("{}: format version {found} is newer than this logq supports (up to {supported})", .file.display())]
    UnsupportedVersion {
        /// The file.
        file: PathBuf,
        /// The version in its header.
        found: u16,
        /// The newest version this build reads.
        supported: u16,
    },
    /// The operating system refused access.
    #[error("{}: permission denied ({operation})", .path.display())]
    PermissionDenied {
        /// The path.
        path: PathBuf,
        /// What logq was doing.
        operation: &'static str,
    },
    /// Any other I/O failure.
    #[error("{}: I/O error during {operation}: {source}", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What logq was doing.
        operation: &'static str,
        /// The error from the operating system.
        #[source]
        source: io::Error,
    },
    /// `repair --output` names a directory that already holds files.
    #[error("{}: output directory exists and is not empty; repair never overwrites", .path.display())]
    OutputNotEmpty {
        /// The output directory.
        path: PathBuf,
    },
    /// Writing to stdout failed (other than a closed pipe, which ends the command quietly).
    #[error("writing output: {0}")]
    Output(#[source] io::Error),
    /// A limit was exceeded or an argument is unusable.
    #[error("{0}")]
    Invalid(String),
    /// The directory exists but is not a logq store (it has no `queues/` directory).
    #[error("{}: not a logq store (no queues/ directory in it)", .path.display())]
    NotAStore {
        /// The directory.
        path: PathBuf,
    },
    /// The store has no queue of that name.
    #[error("{}: no queue {name:?} (queues: {known})", .path.display())]
    NoSuchQueue {
        /// The store directory.
        path: PathBuf,
        /// The queue asked for.
        name: String,
        /// The queues it has, comma-separated (or `none`).
        known: String,
    },
    /// The queue has no consumer group of that name.
    #[error("queue {queue:?} has no group {group:?} (groups: {known})")]
    NoSuchGroup {
        /// The queue.
        queue: String,
        /// The group asked for.
        group: String,
        /// The groups it has, comma-separated (or `none`).
        known: String,
    },
    /// Another process (a service) holds the store's writer lock.
    #[error("{}: locked by another process (a service has the store open); stop it first, or use the read-only commands stats, groups, status, peek", .path.display())]
    Locked {
        /// The store directory.
        path: PathBuf,
    },
    /// The queue API failed.
    #[error("{0}")]
    Queue(#[source] logq::Error),
    /// Reading a log failed.
    #[error("{0}")]
    Log(#[source] logq_log::Error),
    /// Reading a consumer-group store failed.
    #[error("{0}")]
    Groups(#[source] logq_offsets::StoreError),
}

impl From<logq::Error> for CliError {
    fn from(error: logq::Error) -> Self {
        match error {
            logq::Error::Locked { dir } => CliError::Locked { path: dir },
            other => CliError::Queue(other),
        }
    }
}

impl From<logq_log::Error> for CliError {
    fn from(error: logq_log::Error) -> Self {
        CliError::Log(error)
    }
}

impl From<logq_offsets::StoreError> for CliError {
    fn from(error: logq_offsets::StoreError) -> Self {
        CliError::Groups(error)
    }
}

/// A list of names for error messages: comma-separated, or `none`.
pub fn name_list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

impl CliError {
    /// Maps an I/O error on `path` to the variant that names its cause.
    pub fn io(path: &Path, operation: &'static str, source: io::Error) -> Self {
        match source.kind() {
            io::ErrorKind::NotFound => CliError::NotFound {
                path: path.to_path_buf(),
            },
            io::ErrorKind::PermissionDenied => CliError::PermissionDenied {
                path: path.to_path_buf(),
                operation,
            },
            io::ErrorKind::NotADirectory => CliError::NotADirectory {
                path: path.to_path_buf(),
            },
            _ => CliError::Io {
                path: path.to_path_buf(),
                operation,
                source,
            },
        }
    }

    /// True when the error is a closed stdout pipe (`logq dump … | head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Wraps a write to the output stream.
pub fn output(result: io::Result<()>) -> Result<()> {
    result.map_err(CliError::Output)
}
