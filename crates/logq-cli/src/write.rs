//! The only writes the CLI makes: new files and directories in `repair`'s output directory,
//! each fdatasynced, and the directory fsynced after its entries.

use crate::error::{CliError, Result};
use std::fs;
use std::io::Write;
use std::path::Path;

/// Creates `dir` (and its parents) if needed.
pub fn create_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| CliError::io(dir, "create directory", e))
}

/// Writes a new file (failing if it exists) and fdatasyncs it.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| CliError::io(path, "create", e))?;
    file.write_all(bytes)
        .map_err(|e| CliError::io(path, "write", e))?;
    file.sync_data()
        .map_err(|e| CliError::io(path, "fdatasync", e))
}

/// Fsyncs a directory so the entries created in it are durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| CliError::io(dir, "fsync directory", e))
}
