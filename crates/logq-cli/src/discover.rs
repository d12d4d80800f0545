//! Finding the logs under a directory: the directory itself when it holds segment files, and
//! every subdirectory that does (a store keeps one log per queue plus a journal).

use crate::error::{CliError, Result};
use crate::files::{list_dir, Entry};
use logq_log::format::names;
use std::path::{Path, PathBuf};

/// How deep below the given directory logs are looked for.
pub const DEPTH_MAX: usize = 8;
/// How many directories are visited at most.
pub const DIRECTORIES_MAX: usize = 100_000;

/// A segment file, named by its base offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentFile {
    /// The base offset its name gives.
    pub base_offset: u64,
    /// Its file name.
    pub name: String,
    /// Its path.
    pub path: PathBuf,
    /// The path of its index file (which may not exist).
    pub index_path: PathBuf,
}

/// A directory holding segment files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogDir {
    /// Its path.
    pub path: PathBuf,
    /// Its path relative to the directory the command was given (empty for that directory).
    pub rel: PathBuf,
    /// Segment files in base-offset order.
    pub segments: Vec<SegmentFile>,
    /// Leftover `*.tmp` and `*.quarantine` files.
    pub leftovers: Vec<Entry>,
    /// Every other file (not a segment, index, leftover or the lock file).
    pub others: Vec<Entry>,
}

impl LogDir {
    /// How to show `name` inside this log to the user: relative to the command's directory.
    pub fn show(&self, name: &str) -> String {
        self.rel.join(name).display().to_string()
    }

    /// Reads one directory; `None` when it holds no segment file.
    pub fn read(path: &Path, rel: &Path) -> Result<Option<LogDir>> {
        let entries = list_dir(path)?;
        let mut log = LogDir {
            path: path.to_path_buf(),
            rel: rel.to_path_buf(),
            segments: Vec::new(),
            leftovers: Vec::new(),
            others: Vec::new(),
        };
        for entry in entries.into_iter().filter(|e| !e.is_dir) {
            if let Some(base) = names::parse_numbered(&entry.name, names::SEGMENT_EXTENSION) {
                log.segments.push(SegmentFile {
                    base_offset: base,
                    index_path: path.join(names::index_file_name(base)),
                    name: entry.name,
                    path: entry.path,
                });
            } else if is_leftover(&entry.name) {
                log.leftovers.push(entry);
            } else if entry.name != names::LOCK_FILE_NAME
                && names::parse_numbered(&entry.name, names::INDEX_EXTENSION).is_none()
            {
                log.others.push(entry);
            }
        }
        log.segments.sort_by_key(|s| s.base_offset);
        Ok((!log.segments.is_empty()).then_some(log))
    }
}

/// True for `*.tmp` and `*.quarantine` names.
pub fn is_leftover(name: &str) -> bool {
    [names::TEMP_EXTENSION, names::QUARANTINE_EXTENSION]
        .iter()
        .any(|ext| Path::new(name).extension().is_some_and(|e| e == *ext))
}

/// Every log at or below `root`, the root first, then subdirectories in name order.
///
/// Fails with [`CliError::NotALogDirectory`] when there is none.
pub fn discover(root: &Path) -> Result<Vec<LogDir>> {
    let mut logs = Vec::new();
    let mut visited = 0usize;
    walk(root, Path::new(""), 0, &mut visited, &mut logs)?;
    if logs.is_empty() {
        return Err(CliError::NotALogDirectory {
            path: root.to_path_buf(),
        });
    }
    Ok(logs)
}

fn walk(
    dir: &Path,
    rel: &Path,
    depth: usize,
    visited: &mut usize,
    logs: &mut Vec<LogDir>,
) -> Result<()> {
    *visited += 1;
    if *visited > DIRECTORIES_MAX {
        return Err(CliError::Invalid(format!(
            "{}: more than {DIRECTORIES_MAX} directories; pass a smaller tree",
            dir.display()
        )));
    }
    if let Some(log) = LogDir::read(dir, rel)? {
        logs.push(log);
    }
    if depth >= DEPTH_MAX {
        return Ok(());
    }
    for entry in list_dir(dir)?.into_iter().filter(|e| e.is_dir) {
        walk(
            &entry.path,
            &rel.join(&entry.name),
            depth + 1,
            visited,
            logs,
        )?;
    }
    Ok(())
}

/// The one log at `dir` itself (for commands that read a single log).
pub fn single_log(dir: &Path) -> Result<LogDir> {
    if let Some(log) = LogDir::read(dir, Path::new(""))? {
        return Ok(log);
    }
    let mut logs = discover(dir)?;
    if logs.len() == 1 {
        return Ok(logs.remove(0));
    }
    let examples: Vec<String> = logs
        .iter()
        .take(3)
        .map(|l| l.rel.display().to_string())
        .collect();
    Err(CliError::SeveralLogs {
        path: dir.to_path_buf(),
        count: logs.len(),
        examples: examples.join(", "),
    })
}
