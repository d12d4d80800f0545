//! [`SimFs`]: an in-memory [`FileSystem`] with the fault model of ENGINEERING.md §3.
//!
//! Each file has a durable image and the changes pending since its last `sync_data`; each
//! directory has the creations, renames and removals pending since its last `sync_dir`. Reads,
//! maps and listings see the live state; [`SimFs::crash`] replaces it with what a power cut
//! could leave. See the module docs of `image` and `namespace` for the exact rules.

use crate::error::SimError;
use crate::fault::{FaultPlan, OpKind};
use crate::file::{SimFile, SimLock};
use crate::namespace::DirOp;
use crate::state::{Shared, State};
use logq_log::fs::{DirLock, FileSystem, FsFile, OpenMode};
use parking_lot::Mutex;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A simulated file system, deterministic from its seed. Cheap to clone: clones share the
/// same state (use [`SimFs::fork`] for an independent copy).
///
/// ```
/// use logq_log::fs::{FileSystem, OpenMode};
/// use logq_sim::SimFs;
/// use std::path::Path;
///
/// let fs = SimFs::new(1);
/// let dir = Path::new("/log");
/// logq_log::fs::create_dir_durable(&fs, dir).unwrap(); // "/log", then "/" fsynced
/// let file = fs.open(&dir.join("a"), OpenMode::CreateNew).unwrap();
/// file.write_all_at(b"hello", 0).unwrap();
/// file.sync_data().unwrap();
/// // The data is durable but the name is not: a power cut may lose the file.
/// assert_eq!(fs.durable_bytes(&dir.join("a")), None);
/// fs.sync_dir(dir).unwrap();
/// assert_eq!(fs.durable_bytes(&dir.join("a")).as_deref(), Some(&b"hello"[..]));
/// fs.crash(7);
/// assert!(file.len().is_err()); // handles die with the machine
/// ```
#[derive(Clone, Debug)]
pub struct SimFs {
    shared: Arc<Shared>,
}

impl SimFs {
    /// An empty file system; `seed` decides what failed writes leave behind.
    pub fn new(seed: u64) -> Self {
        SimFs::from_state(State::new(seed))
    }

    fn from_state(state: State) -> Self {
        SimFs {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
            }),
        }
    }

    /// An independent deep copy of the current state (files, names, pending changes,
    /// counters, crash point, fault plan). Handles and locks are not copied.
    pub fn fork(&self) -> SimFs {
        let mut state = self.shared.state.lock().clone();
        state.locks.clear();
        state.generation += 1;
        SimFs::from_state(state)
    }

    /// A power cut: each pending write is kept, dropped, torn at a sector boundary or turned
    /// to garbage, a file may grow with zeros, each pending directory operation is applied or
    /// not (a rename atomically), all decided by `seed`. Handles become invalid, locks are
    /// released, the crash point and fault plan are cleared: the machine boots again.
    pub fn crash(&self, seed: u64) {
        self.shared.state.lock().crash(seed);
    }

    /// A process crash (`kill -9`): handles become invalid, locks are released and the
    /// process's memory of poisoned logs is gone, but every write stays in the page cache,
    /// still pending. Does not revive a halted machine.
    pub fn kill(&self) {
        self.shared.state.lock().kill();
    }

    /// The machine goes down after `ops` more mutating operations (writes, syncs, creates,
    /// renames, removals, `set_len`): operation `ops` from now still happens, every operation
    /// after it fails with [`SimError::MachineDown`] until [`SimFs::crash`].
    pub fn crash_after_ops(&self, ops: u64) {
        let mut state = self.shared.state.lock();
        state.halt_at = Some(state.ops_done + ops);
        if ops == 0 {
            state.halted = true;
        }
    }

    /// Chooses the sector model of power cuts. `false` (the default): a drive whose sector
    /// writes are atomic, so a pending write that repeats bytes the disk already holds cannot
    /// damage them, and garbage only lands where new bytes were being written. `true`: a
    /// drive without atomic sector writes, where any sector being written at the power cut
    /// may hold garbage, even when the write repeated its durable bytes.
    pub fn set_garbage_on_rewrite(&self, strict: bool) {
        self.shared.state.lock().garbage_on_rewrite = strict;
    }

    /// True once the crash point was reached.
    pub fn is_halted(&self) -> bool {
        self.shared.state.lock().halted
    }

    /// Mutating operations started so far (the crash-point counter).
    pub fn ops(&self) -> u64 {
        self.shared.state.lock().ops_done
    }

    /// Operations of `kind` started so far (the fault-plan counter).
    pub fn op_count(&self, kind: OpKind) -> u64 {
        self.shared.state.lock().kind_counts[kind.index()]
    }

    /// Replaces the fault plan. Operation numbers count from the creation of the file
    /// system (see [`SimFs::op_count`]).
    pub fn set_fault_plan(&self, plan: FaultPlan) {
        self.shared.state.lock().faults = plan;
    }

    /// Injected faults that fired so far.
    pub fn faults_fired(&self) -> u64 {
        self.shared.state.lock().faults_fired
    }

    /// Injected faults that fired so far on operations of `kind`.
    pub fn faults_fired_on(&self, kind: OpKind) -> u64 {
        self.shared.state.lock().fired_by_kind[kind.index()]
    }

    /// The bytes reads see now, if `path` names a file.
    pub fn live_bytes(&self, path: &Path) -> Option<Vec<u8>> {
        let state = self.shared.state.lock();
        let id = state.names.live.get(path)?;
        state.files.get(id).map(|f| f.live.clone())
    }

    /// The bytes durably named `path` hold durably (what a crash that loses every pending
    /// change would leave), if any.
    pub fn durable_bytes(&self, path: &Path) -> Option<Vec<u8>> {
        let state = self.shared.state.lock();
        let id = state.names.durable.get(path)?;
        state.files.get(id).map(|f| f.durable.clone())
    }

    /// The file names in `dir` now (sorted).
    pub fn live_names(&self, dir: &Path) -> Vec<String> {
        names_in(self.shared.state.lock().names.live.keys(), dir)
    }

    /// The file names durably in `dir` (sorted).
    pub fn durable_names(&self, dir: &Path) -> Vec<String> {
        names_in(self.shared.state.lock().names.durable.keys(), dir)
    }

    /// Directory operations not yet made durable.
    pub fn pending_dir_ops(&self) -> usize {
        self.shared.state.lock().names.pending.len()
    }

    /// Overwrites the durable and live bytes of `path` (for planting damage in tests); the
    /// file must exist durably.
    pub fn replace_durable(&self, path: &Path, bytes: Vec<u8>) -> io::Result<()> {
        let mut state = self.shared.state.lock();
        let id = *state
            .names
            .durable
            .get(path)
            .ok_or_else(|| SimError::NotFound(path.to_path_buf()))?;
        let file = state.file_mut(id);
        file.durable = bytes.clone();
        file.live = bytes;
        file.pending.clear();
        Ok(())
    }

    fn state(&self) -> io::Result<parking_lot::MutexGuard<'_, State>> {
        let state = self.shared.state.lock();
        state.check_alive()?;
        Ok(state)
    }
}

fn names_in<'a>(paths: impl Iterator<Item = &'a PathBuf>, dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = paths
        .filter(|p| p.parent() == Some(dir))
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
        .collect();
    names.sort();
    names
}

impl FileSystem for SimFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut state = self.state()?;
        state.names.make_dirs(dir);
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let state = self.state()?;
        if !state.names.dir_exists(dir) {
            return Err(SimError::NotFound(dir.to_path_buf()).into());
        }
        Ok(names_in(state.names.live.keys(), dir))
    }

    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn FsFile>> {
        let mut state = self.state()?;
        let file = match mode {
            OpenMode::Read | OpenMode::ReadWrite => *state
                .names
                .live
                .get(path)
                .ok_or_else(|| SimError::NotFound(path.to_path_buf()))?,
            OpenMode::CreateNew => {
                if let Some(fault) = state.begin(OpKind::Create)? {
                    return Err(fault.to_io());
                }
                if state.names.live.contains_key(path) {
                    return Err(SimError::AlreadyExists(path.to_path_buf()).into());
                }
                if !state.names.parent_exists(path) {
                    return Err(SimError::NotFound(path.to_path_buf()).into());
                }
                let file = state.new_file();
                state.names.record(DirOp::Link {
                    path: path.to_path_buf(),
                    file,
                });
                file
            }
        };
        Ok(Arc::new(SimFile {
            shared: Arc::clone(&self.shared),
            file,
            generation: state.generation,
            writable: mode != OpenMode::Read,
        }))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut state = self.state()?;
        if let Some(fault) = state.begin(OpKind::Rename)? {
            return Err(fault.to_io());
        }
        let file = *state
            .names
            .live
            .get(from)
            .ok_or_else(|| SimError::NotFound(from.to_path_buf()))?;
        if from.parent() != to.parent() {
            return Err(SimError::CrossDirectoryRename {
                from: from.to_path_buf(),
                to: to.to_path_buf(),
            }
            .into());
        }
        if from != to {
            state.names.record(DirOp::Rename {
                from: from.to_path_buf(),
                to: to.to_path_buf(),
                file,
            });
        }
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut state = self.state()?;
        if let Some(fault) = state.begin(OpKind::Remove)? {
            return Err(fault.to_io());
        }
        if !state.names.live.contains_key(path) {
            return Err(SimError::NotFound(path.to_path_buf()).into());
        }
        state.names.record(DirOp::Unlink {
            path: path.to_path_buf(),
        });
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut state = self.state()?;
        if let Some(fault) = state.begin(OpKind::SyncDir)? {
            // The pending operations keep an unknown fate: a crash may apply each or not.
            return Err(fault.to_io());
        }
        if !state.names.dir_exists(dir) {
            return Err(SimError::NotFound(dir.to_path_buf()).into());
        }
        state.names.sync_dir(dir);
        Ok(())
    }

    fn try_lock_dir(&self, dir: &Path) -> io::Result<Option<Box<dyn DirLock>>> {
        let mut state = self.state()?;
        if !state.names.dir_exists(dir) {
            return Err(SimError::NotFound(dir.to_path_buf()).into());
        }
        if !state.locks.insert(dir.to_path_buf()) {
            return Ok(None);
        }
        Ok(Some(Box::new(SimLock {
            shared: Arc::clone(&self.shared),
            dir: dir.to_path_buf(),
            generation: state.generation,
        })))
    }

    fn exists(&self, path: &Path) -> bool {
        let state = self.shared.state.lock();
        state.names.live.contains_key(path) || state.names.dir_exists(path)
    }

    fn mark_poisoned(&self, dir: &Path, poisoned: bool) {
        let mut state = self.shared.state.lock();
        if poisoned {
            state.poisoned_dirs.insert(dir.to_path_buf());
        } else {
            state.poisoned_dirs.remove(dir);
        }
    }

    fn was_poisoned(&self, dir: &Path) -> bool {
        self.shared.state.lock().poisoned_dirs.contains(dir)
    }

    /// Crash points are numbered operations: recovery runs on one thread, so operation n is
    /// the same operation in every run of a seed.
    fn allows_concurrent_recovery(&self) -> bool {
        false
    }
}
