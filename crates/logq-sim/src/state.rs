//! The mutable state behind a [`crate::SimFs`] and the bookkeeping every operation goes
//! through: the crash point, the fault plan and the operation counters.
//!
//! Invariants:
//! - Every mutating operation calls [`State::begin`] exactly once before changing anything;
//!   it is numbered (globally and per kind) whether it then succeeds or fails.
//! - Once the crash point is reached (`halted`), every operation fails with
//!   [`SimError::MachineDown`] and changes nothing, until [`State::crash`].
//! - Files are kept while some name (live, durable or pending) or a live handle could reach
//!   them; a crash keeps exactly the files its surviving names reach.

use crate::error::SimError;
use crate::fault::{FaultError, FaultPlan, OpKind};
use crate::image::{CrashProfile, FileImage};
use crate::namespace::{FileId, Namespace};
use crate::rng::SimRng;
use parking_lot::Mutex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The state, shared by the file system and its handles.
#[derive(Debug)]
pub(crate) struct Shared {
    pub state: Mutex<State>,
}

/// Everything the simulated file system knows.
#[derive(Clone, Debug)]
pub(crate) struct State {
    pub files: BTreeMap<FileId, FileImage>,
    pub next_file: FileId,
    pub names: Namespace,
    pub locks: BTreeSet<PathBuf>,
    /// Bumped by every crash and kill; handles of older generations are stale.
    pub generation: u64,
    /// Mutating operations started so far.
    pub ops_done: u64,
    /// The machine goes down after this many operations.
    pub halt_at: Option<u64>,
    pub halted: bool,
    pub faults: FaultPlan,
    pub faults_fired: u64,
    /// Injected faults that fired, per [`OpKind::index`].
    pub fired_by_kind: [u64; 7],
    pub kind_counts: [u64; 7],
    /// Drives the choices of failed writes (which prefix survives).
    pub rng: SimRng,
    /// The strict sector model: see [`crate::SimFs::set_garbage_on_rewrite`].
    pub garbage_on_rewrite: bool,
    /// Log directories marked poisoned by the running process (the page cache may hold
    /// pages that a failed fdatasync marked clean). Forgotten on a kill, as `RealFs`'s
    /// in-process set is; the log's on-disk poison mark is what outlives the process.
    pub poisoned_dirs: BTreeSet<PathBuf>,
}

impl State {
    pub fn new(seed: u64) -> Self {
        State {
            files: BTreeMap::new(),
            next_file: 1,
            names: Namespace::default(),
            locks: BTreeSet::new(),
            generation: 0,
            ops_done: 0,
            halt_at: None,
            halted: false,
            faults: FaultPlan::new(),
            faults_fired: 0,
            fired_by_kind: [0; 7],
            kind_counts: [0; 7],
            rng: SimRng::new(seed),
            garbage_on_rewrite: false,
            poisoned_dirs: BTreeSet::new(),
        }
    }

    /// Fails when the machine is down.
    pub fn check_alive(&self) -> Result<(), SimError> {
        if self.halted {
            return Err(SimError::MachineDown);
        }
        Ok(())
    }

    /// Numbers a mutating operation of `kind`; returns the injected fault it must fail with,
    /// if any, or an error when the machine is down.
    pub fn begin(&mut self, kind: OpKind) -> Result<Option<FaultError>, SimError> {
        self.check_alive()?;
        self.ops_done += 1;
        if self.halt_at == Some(self.ops_done) {
            // This operation still happens; the machine dies right after it.
            self.halted = true;
        }
        let count = &mut self.kind_counts[kind.index()];
        *count += 1;
        let fault = self.faults.fault_for(kind, *count);
        if fault.is_some() {
            self.faults_fired += 1;
            self.fired_by_kind[kind.index()] += 1;
        }
        Ok(fault)
    }

    pub fn file(&self, file: FileId) -> &FileImage {
        // A handle of the current generation always finds its file: files are only dropped
        // by crashes and kills, which make every older handle stale first.
        self.files
            .get(&file)
            .unwrap_or_else(|| panic!("file {file} of a live handle vanished"))
    }

    pub fn file_mut(&mut self, file: FileId) -> &mut FileImage {
        self.files
            .get_mut(&file)
            .unwrap_or_else(|| panic!("file {file} of a live handle vanished"))
    }

    /// A new, empty file.
    pub fn new_file(&mut self) -> FileId {
        let id = self.next_file;
        self.next_file += 1;
        self.files.insert(id, FileImage::default());
        id
    }

    /// The processes die: handles and locks are gone, the page cache survives.
    pub fn kill(&mut self) {
        self.generation += 1;
        self.locks.clear();
        // The process that remembered which logs it poisoned is gone, as with `RealFs`; what
        // it left in the page cache and on disk (a poison mark file) stays.
        self.poisoned_dirs.clear();
        let referenced = self.names.referenced();
        self.files.retain(|id, _| referenced.contains(id));
    }

    /// A power cut, decided by `seed`; the machine then boots with no fault plan and no
    /// crash point.
    pub fn crash(&mut self, seed: u64) {
        let mut rng = SimRng::new(seed);
        let profile = CrashProfile::draw(&mut rng, self.garbage_on_rewrite);
        self.names.settle(profile.dir_op_in_4, &mut rng);
        let referenced = self.names.referenced();
        let mut files = BTreeMap::new();
        for (id, image) in &self.files {
            if referenced.contains(id) {
                files.insert(*id, FileImage::settled(image.settle(&profile, &mut rng)));
            }
        }
        self.files = files;
        self.generation += 1;
        self.locks.clear();
        self.poisoned_dirs.clear();
        self.halt_at = None;
        self.halted = false;
        self.faults = FaultPlan::new();
    }
}
