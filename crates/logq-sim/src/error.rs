//! [`SimError`]: why the simulated file system refused an operation (other than an injected
//! fault, which is a plain OS error from [`crate::FaultError`]).
//!
//! Every `SimError` reaches the log wrapped in an [`std::io::Error`] whose kind matches what a
//! real file system would report; tests can get it back with [`SimError::of`].

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A refusal of the simulated file system.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimError {
    /// The simulated machine is down: the crash point set by
    /// [`crate::SimFs::crash_after_ops`] was reached.
    MachineDown,
    /// The handle was opened before a crash or kill; the process that owned it is gone.
    StaleHandle,
    /// The handle was opened read-only.
    ReadOnlyHandle,
    /// No file or directory at this path.
    NotFound(PathBuf),
    /// A file already exists at this path.
    AlreadyExists(PathBuf),
    /// A rename between two directories (not simulated).
    CrossDirectoryRename {
        /// The source.
        from: PathBuf,
        /// The target.
        to: PathBuf,
    },
    /// A map or read past the end of the file.
    PastEnd {
        /// Bytes asked for, counted from the start of the file.
        wanted: u64,
        /// Bytes in the file.
        len: u64,
    },
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::MachineDown => {
                f.write_str("the simulated machine is down (crash point reached)")
            }
            SimError::StaleHandle => {
                f.write_str("file handle from before a simulated crash or kill")
            }
            SimError::ReadOnlyHandle => f.write_str("file handle is read-only"),
            SimError::NotFound(path) => write!(f, "{} does not exist", path.display()),
            SimError::AlreadyExists(path) => write!(f, "{} already exists", path.display()),
            SimError::CrossDirectoryRename { from, to } => write!(
                f,
                "rename from {} to {} crosses directories (not simulated)",
                from.display(),
                to.display()
            ),
            SimError::PastEnd { wanted, len } => {
                write!(f, "{wanted} bytes wanted from a {len}-byte file")
            }
        }
    }
}

impl std::error::Error for SimError {}

impl SimError {
    /// The `io::ErrorKind` a real file system reports for this refusal.
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            SimError::MachineDown | SimError::StaleHandle => io::ErrorKind::Other,
            SimError::ReadOnlyHandle => io::ErrorKind::PermissionDenied,
            SimError::NotFound(_) => io::ErrorKind::NotFound,
            SimError::AlreadyExists(_) => io::ErrorKind::AlreadyExists,
            SimError::CrossDirectoryRename { .. } => io::ErrorKind::CrossesDevices,
            SimError::PastEnd { .. } => io::ErrorKind::UnexpectedEof,
        }
    }

    /// The `SimError` inside an `io::Error`, if it carries one.
    ///
    /// ```
    /// use logq_sim::SimError;
    /// let err: std::io::Error = SimError::MachineDown.into();
    /// assert_eq!(SimError::of(&err), Some(&SimError::MachineDown));
    /// ```
    pub fn of(error: &io::Error) -> Option<&SimError> {
        error.get_ref().and_then(|e| e.downcast_ref::<SimError>())
    }
}

impl From<SimError> for io::Error {
    fn from(error: SimError) -> Self {
        io::Error::new(error.kind(), error)
    }
}
