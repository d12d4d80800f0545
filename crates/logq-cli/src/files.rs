//! Read-only access to files: every read command goes through here, and nothing here writes.
//!
//! Files are read with plain `read` calls into memory, never memory-mapped: a writer that
//! truncates preallocated space while we read cannot crash us with `SIGBUS`, and we never
//! take the writer lock.

use crate::error::{CliError, Result};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest file read into memory at once (a segment is at most 4 GiB by format).
pub const FILE_BYTES_MAX: u64 = 4 * 1024 * 1024 * 1024;

/// Reads the whole of `path`, bounded by [`FILE_BYTES_MAX`].
pub fn read_all(path: &Path) -> Result<Vec<u8>> {
    let file = fs::File::open(path).map_err(|e| CliError::io(path, "open", e))?;
    let len = file
        .metadata()
        .map_err(|e| CliError::io(path, "stat", e))?
        .len();
    if len > FILE_BYTES_MAX {
        return Err(CliError::Invalid(format!(
            "{}: file of {len} bytes exceeds the {FILE_BYTES_MAX}-byte limit",
            path.display()
        )));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    // `take` bounds the read even if a writer appends meanwhile.
    file.take(len)
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::io(path, "read", e))?;
    Ok(bytes)
}

/// Reads `path` if it exists; `Ok(None)` when it does not.
pub fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match read_all(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(CliError::NotFound { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

/// One entry of a directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The file name (entries whose names are not UTF-8 are listed with a lossy name).
    pub name: String,
    /// The full path.
    pub path: PathBuf,
    /// True for a directory (symbolic links are not followed).
    pub is_dir: bool,
}

/// Lists `dir` sorted by name; fails with the typed error for a missing or unreadable path.
pub fn list_dir(dir: &Path) -> Result<Vec<Entry>> {
    let meta = fs::metadata(dir).map_err(|e| CliError::io(dir, "stat", e))?;
    if !meta.is_dir() {
        return Err(CliError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| CliError::io(dir, "list", e))? {
        let entry = entry.map_err(|e| CliError::io(dir, "list", e))?;
        let file_type = entry
            .file_type()
            .map_err(|e| CliError::io(&entry.path(), "stat", e))?;
        entries.push(Entry {
            name: entry.file_name().to_string_lossy().into_owned(),
            path: entry.path(),
            is_dir: file_type.is_dir(),
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}
