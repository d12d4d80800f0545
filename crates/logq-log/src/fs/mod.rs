//! The storage seam: every byte the log reads or writes goes through [`FileSystem`] and
//! [`FsFile`].
//!
//! [`RealFs`] is the operating system. The crash-testing crate plugs a simulated file system
//! with a fault model in here, so the engine that runs in production is the engine that is
//! crashed in tests.
//!
//! Contract every implementation keeps:
//! - `write_at` writes the whole buffer or fails; a failure may leave any prefix written.
//! - `sync_data` returns `Ok` only when every byte written to the file before the call is
//!   durable. After a failed `sync_data` nothing is known about the pending bytes, and a later
//!   `sync_data` that succeeds says nothing about them (the log never retries; it poisons).
//! - Creating, renaming and removing a file become durable only after `sync_dir` on its
//!   directory returned `Ok`.
//! - `map(len)` gives a read-only view of the first `len` bytes, `len <= file length`; the log
//!   never shrinks a file below a length it has mapped while it runs.

mod real;

pub use real::RealFs;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How [`FileSystem::open`] opens a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// An existing file, for reading only.
    Read,
    /// An existing file, for reading and writing.
    ReadWrite,
    /// A new file for reading and writing; fails if it exists.
    CreateNew,
}

/// A read-only view of the first bytes of a file (a memory map for [`RealFs`]).
pub trait MappedBytes: Send + Sync {
    /// The mapped bytes.
    fn bytes(&self) -> &[u8];
}

/// An open file.
pub trait FsFile: Send + Sync + fmt::Debug {
    /// Fills `buf` from byte `offset`; fails with `UnexpectedEof` past the end.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// Writes all of `buf` at byte `offset`, growing the file if needed.
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;
    /// Makes every byte written so far durable (fdatasync).
    fn sync_data(&self) -> io::Result<()>;
    /// Truncates or extends the file to `len` bytes.
    fn set_len(&self, len: u64) -> io::Result<()>;
    /// The current length in bytes.
    fn len(&self) -> io::Result<u64>;
    /// True when the file has no bytes.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
    /// A read-only view of the first `len` bytes (`len` at most the file length).
    fn map(&self, len: u64) -> io::Result<Arc<dyn MappedBytes>>;
}

/// A held exclusive lock on a directory; dropping it releases the lock.
pub trait DirLock: Send + Sync + fmt::Debug {}

/// Everything the log needs from a file system.
///
/// ```
/// use logq_log::fs::{FileSystem, OpenMode, RealFs};
/// let dir = tempfile::tempdir().unwrap();
/// let fs = RealFs;
/// let file = fs.open(&dir.path().join("a"), OpenMode::CreateNew).unwrap();
/// file.write_all_at(b"hello", 0).unwrap();
/// file.sync_data().unwrap();
/// fs.sync_dir(dir.path()).unwrap();
/// assert_eq!(file.len().unwrap(), 5);
/// ```
pub trait FileSystem: Send + Sync + fmt::Debug {
    /// Creates `dir` and its parents if missing. The new entries are durable only once their
    /// parents are fsynced ([`create_dir_durable`] does both).
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// The names of the entries of `dir` (files only, no `.`/`..`).
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Opens `path`.
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn FsFile>>;
    /// Renames `from` to `to`, replacing `to` atomically.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes the file `path`.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Makes creations, renames and removals in `dir` durable (fsync of the directory).
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Takes the exclusive writer lock of `dir`; `Ok(None)` when someone else holds it.
    fn try_lock_dir(&self, dir: &Path) -> io::Result<Option<Box<dyn DirLock>>>;
    /// True when `path` exists.
    fn exists(&self, path: &Path) -> bool;

    /// Remembers (`true`) or forgets (`false`) that a log in `dir` was poisoned by a failed
    /// write or fdatasync. The kernel may then hold unwritten bytes of it in pages marked
    /// clean, which survive a process crash but not a power cut; the next open rewrites its
    /// tail before fdatasyncing it. The default keeps a set for this process; the log also
    /// leaves a mark file that outlives the process (`poison_mark`), since the pages do.
    fn mark_poisoned(&self, dir: &Path, poisoned: bool) {
        let mut dirs = POISONED_DIRS.lock();
        if poisoned {
            dirs.insert(dir.to_path_buf());
        } else {
            dirs.remove(dir);
        }
    }

    /// True when a log in `dir` was poisoned since the page cache was last emptied.
    fn was_poisoned(&self, dir: &Path) -> bool {
        POISONED_DIRS.lock().contains(dir)
    }

    /// True when independent files may be opened and recovered from several threads at once
    /// (a queue recovers its message log and its group journal side by side, so their
    /// fdatasyncs overlap). The default, right for the operating system, is `true`; a
    /// simulated file system that numbers its operations to crash at the n-th one answers
    /// `false`, so that every crash point is the same operation in every run.
    fn allows_concurrent_recovery(&self) -> bool {
        true
    }
}

/// Creates `dir` and its missing ancestors, each made durable: after creating a directory
/// its parent is fsynced, so a power cut cannot take away a directory (and every file in it)
/// that logq went on to write into. Existing directories cost one `exists` each.
///
/// A failed creation or fsync leaves the fate of the new entries unknown, yet the
/// directories are there for the next call to find; so a failure marks every directory of
/// `dir`'s chain poisoned ([`FileSystem::mark_poisoned`]), and a later call for a path under a
/// poisoned directory fsyncs the parent of every level again, existing or not.
///
/// ```
/// use logq_log::fs::{create_dir_durable, FileSystem, RealFs};
/// let root = tempfile::tempdir().unwrap();
/// let dir = root.path().join("queues/orders/log");
/// create_dir_durable(&RealFs, &dir).unwrap();
/// assert!(RealFs.exists(&dir));
/// ```
pub fn create_dir_durable(fs: &dyn FileSystem, dir: &Path) -> io::Result<()> {
    let chain = dir_chain(dir);
    let suspect = chain.iter().any(|level| fs.was_poisoned(level));
    make_dir_chain(fs, &chain, suspect)
}

/// Fsyncs the parent of every level of `dir`'s chain (creating missing levels), whether the
/// levels existed or not.
///
/// [`create_dir_durable`] fsyncs only the parents of levels it creates, so a directory that
/// a killed process created (its parent not fsynced yet) is taken as durable by the next
/// process. A log calls this when it finds no segment in its directory, before it creates the
/// first one: the chain may be such an unfinished creation, and nothing may become durable
/// inside a directory whose own entry could still vanish in a power cut.
///
/// ```
/// use logq_log::fs::{sync_dir_chain, FileSystem, RealFs};
/// let root = tempfile::tempdir().unwrap();
/// let dir = root.path().join("queues/orders/log");
/// sync_dir_chain(&RealFs, &dir).unwrap();
/// assert!(RealFs.exists(&dir));
/// ```
pub fn sync_dir_chain(fs: &dyn FileSystem, dir: &Path) -> io::Result<()> {
    make_dir_chain(fs, &dir_chain(dir), true)
}

/// `dir` and its ancestors, outermost first, without the root and the empty path.
fn dir_chain(dir: &Path) -> Vec<&Path> {
    let mut chain: Vec<&Path> = dir
        .ancestors()
        .filter(|level| !level.as_os_str().is_empty() && level.parent().is_some())
        .collect();
    chain.reverse();
    chain
}

/// Creates the missing levels of `chain` and fsyncs the parent of each level it created, or
/// of every level when `every_level`; a failure marks the whole chain poisoned.
fn make_dir_chain(fs: &dyn FileSystem, chain: &[&Path], every_level: bool) -> io::Result<()> {
    let make = || -> io::Result<()> {
        for level in chain {
            let existed = fs.exists(level);
            if !existed {
                fs.create_dir_all(level)?;
            }
            if !existed || every_level {
                let parent = level.parent().filter(|p| !p.as_os_str().is_empty());
                fs.sync_dir(parent.unwrap_or(Path::new(".")))?;
            }
        }
        Ok(())
    };
    let made = make();
    if made.is_err() {
        for level in chain {
            fs.mark_poisoned(level, true);
        }
    }
    made
}

/// The poisoned log directories of this process (see [`FileSystem::mark_poisoned`]).
static POISONED_DIRS: parking_lot::Mutex<std::collections::BTreeSet<PathBuf>> =
    parking_lot::Mutex::new(std::collections::BTreeSet::new());

/// Takes the writer lock of `dir`, retrying for up to 200 ms before reporting it held.
///
/// A lock released by `close` or drop can stay held for a moment: a child process forked by
/// another thread shares the lock's open file until it execs. A second writer still gets
/// `Ok(None)` after the short wait.
pub fn lock_dir_with_grace(
    fs: &dyn FileSystem,
    dir: &Path,
) -> io::Result<Option<Box<dyn DirLock>>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(200);
    loop {
        if let Some(lock) = fs.try_lock_dir(dir)? {
            return Ok(Some(lock));
        }
        if std::time::Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// The path of the lock file inside a log directory.
pub fn lock_file_path(dir: &Path) -> PathBuf {
    dir.join(crate::format::names::LOCK_FILE_NAME)
}
