//! Injected I/O errors: which operation kinds exist, which errors they can fail with, and the
//! [`FaultPlan`] that says which numbered operation of a kind fails.
//!
//! Invariants: operations of each kind are numbered from 1 in the order the simulated file
//! system starts them (failed ones included); a rule fires only on the operation number it
//! names (or, for a sticky rule, on every one from it on), so a plan replays exactly on a
//! deterministic workload.

use std::fmt;
use std::io;

/// A kind of mutating operation: the ones that count as crash points and can be failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpKind {
    /// `FsFile::write_all_at`.
    Write,
    /// `FsFile::sync_data`.
    SyncData,
    /// `FileSystem::sync_dir`.
    SyncDir,
    /// `FileSystem::rename`.
    Rename,
    /// `FileSystem::remove`.
    Remove,
    /// `FileSystem::open` with `OpenMode::CreateNew`.
    Create,
    /// `FsFile::set_len`.
    SetLen,
}

impl OpKind {
    /// Every kind, in a fixed order.
    pub const ALL: [OpKind; 7] = [
        OpKind::Write,
        OpKind::SyncData,
        OpKind::SyncDir,
        OpKind::Rename,
        OpKind::Remove,
        OpKind::Create,
        OpKind::SetLen,
    ];

    /// Position of the kind in [`OpKind::ALL`].
    pub fn index(self) -> usize {
        match self {
            OpKind::Write => 0,
            OpKind::SyncData => 1,
            OpKind::SyncDir => 2,
            OpKind::Rename => 3,
            OpKind::Remove => 4,
            OpKind::Create => 5,
            OpKind::SetLen => 6,
        }
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            OpKind::Write => "write",
            OpKind::SyncData => "sync_data",
            OpKind::SyncDir => "sync_dir",
            OpKind::Rename => "rename",
            OpKind::Remove => "remove",
            OpKind::Create => "create",
            OpKind::SetLen => "set_len",
        };
        f.write_str(name)
    }
}

/// The error an injected fault returns (Linux `errno` values, identical on macOS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultError {
    /// `EIO`: the device failed.
    Eio,
    /// `ENOSPC`: no space left on the device.
    Enospc,
    /// `EROFS`: the file system was remounted read-only.
    Erofs,
}

impl FaultError {
    /// Every error, in a fixed order.
    pub const ALL: [FaultError; 3] = [FaultError::Eio, FaultError::Enospc, FaultError::Erofs];

    /// The raw OS error number.
    pub fn errno(self) -> i32 {
        match self {
            FaultError::Eio => 5,
            FaultError::Enospc => 28,
            FaultError::Erofs => 30,
        }
    }

    /// The error as an [`io::Error`] carrying the raw OS error (so its `kind()` is the one
    /// the OS would give).
    ///
    /// ```
    /// use logq_sim::FaultError;
    /// assert_eq!(FaultError::Enospc.to_io().kind(), std::io::ErrorKind::StorageFull);
    /// assert_eq!(FaultError::Eio.to_io().raw_os_error(), Some(5));
    /// ```
    pub fn to_io(self) -> io::Error {
        io::Error::from_raw_os_error(self.errno())
    }
}

/// One rule of a [`FaultPlan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultRule {
    /// The kind of operation it fails.
    pub kind: OpKind,
    /// The 1-based number of the first operation of that kind it fails.
    pub nth: u64,
    /// The error returned.
    pub error: FaultError,
    /// False: only operation `nth` fails. True: `nth` and every later one fail.
    pub sticky: bool,
}

/// Which operations fail, by kind and number.
///
/// ```
/// use logq_sim::{FaultError, FaultPlan, OpKind};
/// let plan = FaultPlan::new().fail_nth(OpKind::SyncData, 3, FaultError::Eio);
/// assert_eq!(plan.fault_for(OpKind::SyncData, 3), Some(FaultError::Eio));
/// assert_eq!(plan.fault_for(OpKind::SyncData, 4), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultPlan {
    rules: Vec<FaultRule>,
}

impl FaultPlan {
    /// A plan that fails nothing.
    pub fn new() -> Self {
        FaultPlan::default()
    }

    /// Adds a rule failing only the `nth` (1-based) operation of `kind`.
    pub fn fail_nth(mut self, kind: OpKind, nth: u64, error: FaultError) -> Self {
        self.rules.push(FaultRule {
            kind,
            nth,
            error,
            sticky: false,
        });
        self
    }

    /// Adds a rule failing the `nth` (1-based) operation of `kind` and every later one.
    pub fn fail_from(mut self, kind: OpKind, nth: u64, error: FaultError) -> Self {
        self.rules.push(FaultRule {
            kind,
            nth,
            error,
            sticky: true,
        });
        self
    }

    /// The rules of the plan.
    pub fn rules(&self) -> &[FaultRule] {
        &self.rules
    }

    /// True when the plan fails nothing.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The error operation number `nth` of `kind` fails with, if any rule fires.
    pub fn fault_for(&self, kind: OpKind, nth: u64) -> Option<FaultError> {
        self.rules
            .iter()
            .find(|r| r.kind == kind && (r.nth == nth || (r.sticky && nth >= r.nth)))
            .map(|r| r.error)
    }
}

impl fmt::Display for FaultPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rules.is_empty() {
            return f.write_str("no faults");
        }
        for (i, rule) in self.rules.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            let from = if rule.sticky { " and later" } else { "" };
            write!(f, "{} #{}{from} -> {:?}", rule.kind, rule.nth, rule.error)?;
        }
        Ok(())
    }
}
