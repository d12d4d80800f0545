//! [`Namespace`]: which names point at which files, live and durably.
//!
//! Invariants:
//! - `live` is what `open`, `list` and `exists` see; creates, renames and removals change it
//!   at once.
//! - `durable` is what a power cut would leave if no pending operation reached the disk; it
//!   changes only in [`Namespace::sync_dir`] (the pending operations of that directory applied
//!   in order) and in [`Namespace::settle`].
//! - On a crash each pending operation is applied or not, independently and in order; a
//!   rename is atomic: the file is found under the old name or under the new one.
//! - A directory is an entry of its parent like a file: `mkdir` is pending until the parent is
//!   fsynced. After a power cut a directory survives only if its entry and all its ancestors'
//!   did, and a name survives only if its directory did. The root `/` always exists.

use crate::rng::SimRng;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Identifies a file's contents independently of its names.
pub(crate) type FileId = u64;

/// A directory operation not yet made durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DirOp {
    /// `path` now names `file`.
    Link { path: PathBuf, file: FileId },
    /// `path` names nothing.
    Unlink { path: PathBuf },
    /// `from` moved to `to`, replacing whatever `to` named.
    Rename {
        from: PathBuf,
        to: PathBuf,
        file: FileId,
    },
    /// The directory `path` was created.
    MakeDir { path: PathBuf },
}

impl DirOp {
    /// The directory the operation changes.
    fn dir(&self) -> &Path {
        let path = match self {
            DirOp::Link { path, .. } | DirOp::Unlink { path } | DirOp::MakeDir { path } => path,
            DirOp::Rename { to, .. } => to,
        };
        path.parent().unwrap_or(Path::new(""))
    }

    fn apply(&self, names: &mut BTreeMap<PathBuf, FileId>, dirs: &mut BTreeSet<PathBuf>) {
        match self {
            DirOp::MakeDir { path } => {
                dirs.insert(path.clone());
            }
            DirOp::Link { path, file } => {
                names.insert(path.clone(), *file);
            }
            DirOp::Unlink { path } => {
                names.remove(path);
            }
            DirOp::Rename { from, to, file } => {
                names.remove(from);
                names.insert(to.clone(), *file);
            }
        }
    }
}

/// The names of the simulated file system.
#[derive(Clone, Debug, Default)]
pub(crate) struct Namespace {
    pub live: BTreeMap<PathBuf, FileId>,
    pub durable: BTreeMap<PathBuf, FileId>,
    pub pending: Vec<DirOp>,
    /// The live directories (what `list`, `open` and `exists` see).
    pub dirs: BTreeSet<PathBuf>,
    /// The directories a power cut would leave if no pending operation reached the disk.
    pub durable_dirs: BTreeSet<PathBuf>,
}

impl Namespace {
    /// Applies `op` to the live names and queues it for durability.
    pub fn record(&mut self, op: DirOp) {
        op.apply(&mut self.live, &mut self.dirs);
        self.pending.push(op);
    }

    /// Creates `dir` and its missing ancestors; each creation is pending until its parent is
    /// fsynced.
    pub fn make_dirs(&mut self, dir: &Path) {
        let mut missing: Vec<PathBuf> = dir
            .ancestors()
            .filter(|ancestor| !is_root(ancestor) && !self.dirs.contains(*ancestor))
            .map(Path::to_path_buf)
            .collect();
        missing.reverse();
        for path in missing {
            self.record(DirOp::MakeDir { path });
        }
    }

    /// Whether `dir` exists now (the root always does).
    pub fn dir_exists(&self, dir: &Path) -> bool {
        is_root(dir) || self.dirs.contains(dir)
    }

    /// Makes the pending operations of `dir` durable.
    pub fn sync_dir(&mut self, dir: &Path) {
        let (now, later): (Vec<DirOp>, Vec<DirOp>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|op| op.dir() == dir);
        for op in &now {
            op.apply(&mut self.durable, &mut self.durable_dirs);
        }
        self.pending = later;
    }

    /// The names after a power cut: each pending operation applied with probability
    /// `apply_in_4 / 4`. The live names become those names and nothing is pending.
    pub fn settle(&mut self, apply_in_4: u64, rng: &mut SimRng) {
        let mut names = std::mem::take(&mut self.durable);
        let mut dirs = std::mem::take(&mut self.durable_dirs);
        for op in std::mem::take(&mut self.pending) {
            if rng.chance(apply_in_4, 4) {
                op.apply(&mut names, &mut dirs);
            }
        }
        // A directory whose entry did not survive takes everything below it along.
        let reachable = |path: &Path, dirs: &BTreeSet<PathBuf>| {
            path.ancestors()
                .skip(1)
                .all(|ancestor| is_root(ancestor) || dirs.contains(ancestor))
        };
        let all_dirs = dirs.clone();
        dirs.retain(|dir| reachable(dir, &all_dirs));
        names.retain(|path, _| reachable(path, &dirs));
        self.live = names.clone();
        self.durable = names;
        self.dirs = dirs.clone();
        self.durable_dirs = dirs;
    }

    /// Every file some name (live, durable or pending) still points at.
    pub fn referenced(&self) -> BTreeSet<FileId> {
        let mut files: BTreeSet<FileId> = self.live.values().copied().collect();
        files.extend(self.durable.values().copied());
        for op in &self.pending {
            if let DirOp::Link { file, .. } | DirOp::Rename { file, .. } = op {
                files.insert(*file);
            }
        }
        files
    }

    /// The directory `path` is in, if it exists.
    pub fn parent_exists(&self, path: &Path) -> bool {
        path.parent().is_some_and(|dir| self.dir_exists(dir))
    }
}

/// Whether `path` is the root (or empty): it always exists and is always durable.
fn is_root(path: &Path) -> bool {
    path.as_os_str().is_empty() || path == Path::new("/")
}
