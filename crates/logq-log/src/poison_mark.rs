//! Whether a log directory may hold pages that a failed write or fdatasync left clean but
//! never written, across the death of the process that saw the failure.
//!
//! After a failed fdatasync Linux may mark the dirty pages clean while their bytes never
//! reached the disk. They stay in the page cache: a later process reads them as if they were
//! on disk, and its fdatasync skips them, so recovery must rewrite the tail before it trusts
//! an fdatasync of it (`recovery.rs`). The process that saw the failure remembers it in
//! [`FileSystem::mark_poisoned`]; a process killed after it takes that memory with it. So a
//! poisoned log also leaves an empty [`POISON_MARK_FILE_NAME`] file in its directory, and an
//! open treats the log as poisoned while the file is there.
//!
//! Invariants:
//! - The mark is written without fsync, and that is enough: it only has to outlive the
//!   process, as the clean-but-unwritten pages do; a power cut that takes it away also
//!   empties the page cache, and with it the pages it warned of.
//! - It is removed only after an open rewrote and fdatasynced the tail. A removal lost in a
//!   power cut brings it back, and the next open rewrites once more: harmless.
//! - Creating it is best effort: a file system that refuses new files (full, read-only,
//!   failing) leaves only the in-process memory, and the failure is logged.

use crate::format::names::POISON_MARK_FILE_NAME;
use crate::fs::{FileSystem, OpenMode};
use std::path::Path;

/// Marks the log in `dir` poisoned, in this process and on disk.
///
/// ```
/// use logq_log::fs::{FileSystem, RealFs};
/// let dir = tempfile::tempdir().unwrap();
/// logq_log::poison_mark::set(&RealFs, dir.path());
/// assert!(logq_log::poison_mark::is_set(&RealFs, dir.path()));
/// logq_log::poison_mark::clear(&RealFs, dir.path());
/// assert!(!logq_log::poison_mark::is_set(&RealFs, dir.path()));
/// ```
pub fn set(fs: &dyn FileSystem, dir: &Path) {
    fs.mark_poisoned(dir, true);
    let path = dir.join(POISON_MARK_FILE_NAME);
    if fs.exists(&path) {
        return;
    }
    if let Err(error) = fs.open(&path, OpenMode::CreateNew) {
        tracing::error!(file = %path.display(), %error,
            "cannot leave the poison mark: a process started after this one dies will not know that this log's tail must be rewritten");
    }
}

/// Whether the log in `dir` was poisoned in this process or by a process before it (and no
/// open has repaired it since).
pub fn is_set(fs: &dyn FileSystem, dir: &Path) -> bool {
    fs.was_poisoned(dir) || fs.exists(&dir.join(POISON_MARK_FILE_NAME))
}

/// Forgets the poison of the log in `dir`: called once an open rewrote and fdatasynced its
/// tail. A mark that cannot be removed only makes the next open rewrite again.
pub fn clear(fs: &dyn FileSystem, dir: &Path) {
    fs.mark_poisoned(dir, false);
    let path = dir.join(POISON_MARK_FILE_NAME);
    if fs.exists(&path) {
        if let Err(error) = fs.remove(&path) {
            tracing::warn!(file = %path.display(), %error, "cannot remove the poison mark; the next open rewrites the tail again");
        }
    }
}
