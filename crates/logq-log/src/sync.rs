//! Group commit: many appenders, one fdatasync.
//!
//! Appenders write their batch under the writer lock, then wait here until the durable
//! offset passes the end of their batch. The first waiter that finds no fdatasync running
//! becomes the leader: it notes how far the file has been written, releases the lock, calls
//! fdatasync (outside every lock, so appends continue meanwhile), and on success publishes the
//! noted offset as durable and wakes everyone. Everyone whose batch is covered returns; the
//! others elect the next leader. One fdatasync thus serves every batch written before it
//! started.
//!
//! A failed fdatasync poisons the log: the kernel may have dropped the dirty pages and a later
//! fdatasync would report success for bytes that are gone. Every waiter not yet covered fails,
//! and so does every later append, until the log is reopened and recovered.

use crate::error::{Error, Result};
use crate::fs::FsFile;
use parking_lot::{Condvar, Mutex};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// What the leader needs to know about the written but not yet durable bytes.
struct SyncState {
    /// The file that holds every written, not yet durable batch (the active segment).
    file: Arc<dyn FsFile>,
    /// Its path, for errors.
    path: PathBuf,
    /// The offset after the last batch written to `file`.
    written_offset: u64,
    /// True while a leader runs fdatasync.
    syncing: bool,
    /// Why the log is poisoned, if it is.
    poison: Option<Arc<str>>,
}

/// The group-commit coordinator of one log.
pub(crate) struct GroupCommit {
    state: Mutex<SyncState>,
    wake: Condvar,
    /// Every offset below this is durable.
    durable_offset: AtomicU64,
    poisoned: AtomicBool,
}

impl GroupCommit {
    /// A coordinator whose bytes up to `durable_offset` in `file` are already durable.
    pub fn new(file: Arc<dyn FsFile>, path: PathBuf, durable_offset: u64) -> Self {
        GroupCommit {
            state: Mutex::new(SyncState {
                file,
                path,
                written_offset: durable_offset,
                syncing: false,
                poison: None,
            }),
            wake: Condvar::new(),
            durable_offset: AtomicU64::new(durable_offset),
            poisoned: AtomicBool::new(false),
        }
    }

    /// Every offset below the returned one is durable.
    pub fn durable_offset(&self) -> u64 {
        self.durable_offset.load(Ordering::Acquire)
    }

    /// Fails when the log is poisoned.
    pub fn check_poison(&self) -> Result<()> {
        if !self.poisoned.load(Ordering::Acquire) {
            return Ok(());
        }
        Err(self.poison_error())
    }

    fn poison_error(&self) -> Error {
        let cause = self
            .state
            .lock()
            .poison
            .clone()
            .unwrap_or_else(|| Arc::from("unknown failure"));
        Error::Poisoned { cause }
    }

    /// Poisons the log after a failed write or fsync.
    pub fn poison(&self, cause: &Error) {
        let mut state = self.state.lock();
        if state.poison.is_none() {
            tracing::error!(%cause, "log poisoned");
            state.poison = Some(Arc::from(cause.to_string()));
        }
        self.poisoned.store(true, Ordering::Release);
        self.wake.notify_all();
    }

    /// Records that batches up to `written_offset` are written to `file`.
    pub fn note_written(&self, written_offset: u64) {
        self.state.lock().written_offset = written_offset;
    }

    /// Called by a roll after it fsynced the old segment: everything up to `durable_offset`
    /// is durable and new batches go to `file`.
    pub fn switch_file(&self, file: Arc<dyn FsFile>, path: PathBuf, durable_offset: u64) {
        let mut state = self.state.lock();
        state.file = file;
        state.path = path;
        state.written_offset = state.written_offset.max(durable_offset);
        self.durable_offset
            .fetch_max(durable_offset, Ordering::AcqRel);
        self.wake.notify_all();
    }

    /// Returns once every offset below `target` is durable, leading an fdatasync if none runs.
    /// `on_durable` runs (under the lock) with each new durable offset.
    pub fn wait_durable(&self, target: u64, on_durable: &dyn Fn(u64)) -> Result<()> {
        let mut state = self.state.lock();
        loop {
            if self.durable_offset() >= target {
                return Ok(());
            }
            if state.poison.is_some() {
                drop(state);
                return Err(self.poison_error());
            }
            if state.syncing {
                self.wake.wait(&mut state);
                continue;
            }
            state.syncing = true;
            let file = Arc::clone(&state.file);
            let path = state.path.clone();
            let upto = state.written_offset;
            let result = parking_lot::MutexGuard::unlocked(&mut state, || file.sync_data());
            state.syncing = false;
            match result {
                Ok(()) => {
                    let before = self.durable_offset.fetch_max(upto, Ordering::AcqRel);
                    if upto > before {
                        on_durable(upto);
                    }
                    self.wake.notify_all();
                }
                Err(source) => {
                    let error = Error::io(path, "fdatasync", source);
                    if state.poison.is_none() {
                        tracing::error!(%error, "fdatasync failed; log poisoned");
                        state.poison = Some(Arc::from(error.to_string()));
                    }
                    self.poisoned.store(true, Ordering::Release);
                    self.wake.notify_all();
                    return Err(error);
                }
            }
        }
    }
}
