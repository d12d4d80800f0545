//! Group commit: many appenders, one write and one fdatasync.
//!
//! Under `Durability::Always` appenders only copy their sealed batch into the writer's
//! pending buffer, then wait here until the durable offset passes the end of their batch. The
//! first waiter that finds no commit running becomes the leader: it has the writer write the
//! whole pending buffer with one `pwrite` (the `flush` callback, which takes the writer lock
//! briefly), then runs fdatasync outside every lock — appenders keep filling the next buffer
//! meanwhile — and on success publishes the flushed offset as durable and wakes everyone.
//! Everyone covered returns; the others elect the next leader.
//!
//! A failed write or fdatasync poisons the log: the kernel may have dropped the dirty pages
//! and a later fdatasync would report success for bytes that are gone. Every waiter not yet
//! covered fails, and so does every later append, until the log is reopened and recovered.

use crate::error::{Error, Result};
use crate::fs::FsFile;
use parking_lot::{Condvar, Mutex};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// What a flush hands the leader: the file to fdatasync, its path (for errors), and the
/// offset below which every batch is now written to that file.
pub(crate) struct Flushed {
    pub file: Arc<dyn FsFile>,
    pub path: PathBuf,
    pub written_offset: u64,
}

struct CommitState {
    /// True while a leader writes and fdatasyncs.
    syncing: bool,
    /// Leader fdatasyncs announced by a flush (under the writer lock) and not finished.
    fsyncs_in_flight: u32,
    /// Why the log is poisoned, if it is.
    poison: Option<Arc<str>>,
}

/// The group-commit coordinator of one log.
pub(crate) struct GroupCommit {
    dir: PathBuf,
    fs: Arc<dyn crate::fs::FileSystem>,
    state: Mutex<CommitState>,
    wake: Condvar,
    /// Every offset below this is durable.
    durable_offset: AtomicU64,
    poisoned: AtomicBool,
}

impl GroupCommit {
    /// A coordinator for a log whose offsets below `durable_offset` are durable.
    pub fn new(fs: Arc<dyn crate::fs::FileSystem>, dir: PathBuf, durable_offset: u64) -> Self {
        GroupCommit {
            dir,
            fs,
            state: Mutex::new(CommitState {
                syncing: false,
                fsyncs_in_flight: 0,
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
        Err(self.poison_error(&self.state.lock()))
    }

    fn poison_error(&self, state: &CommitState) -> Error {
        let cause = state
            .poison
            .clone()
            .unwrap_or_else(|| Arc::from("unknown failure"));
        Error::Poisoned { cause }
    }

    /// Poisons the log after a failed write or fsync.
    pub fn poison(&self, cause: &Error) {
        let mut state = self.state.lock();
        self.poison_locked(&mut state, cause);
        self.poisoned.store(true, Ordering::Release);
        self.wake.notify_all();
    }

    fn poison_locked(&self, state: &mut CommitState, cause: &Error) {
        self.fs.mark_poisoned(&self.dir, true);
        if state.poison.is_none() {
            tracing::error!(%cause, "log poisoned; it refuses writes until reopened");
            state.poison = Some(Arc::from(cause.to_string()));
        }
    }

    /// Records that a roll fdatasynced everything below `durable_offset`.
    pub fn mark_durable(&self, durable_offset: u64) {
        self.durable_offset
            .fetch_max(durable_offset, Ordering::AcqRel);
        let _state = self.state.lock();
        self.wake.notify_all();
    }

    /// Announces a leader fdatasync; called by the flush that precedes it, under the writer
    /// lock, so a roll (which holds that lock) sees every fdatasync that could overlap its own.
    pub fn begin_fsync(&self) {
        self.state.lock().fsyncs_in_flight += 1;
    }

    /// Waits until no leader fdatasync runs and fails if the log is poisoned. A roll calls it
    /// (holding the writer lock, so no new leader fdatasync can start) before its own
    /// fdatasync of the old segment: two fdatasyncs of one file must never overlap, because
    /// when one fails Linux drops the pages and may report success to the other.
    pub fn exclusive_fsync_slot(&self) -> Result<()> {
        let mut state = self.state.lock();
        while state.fsyncs_in_flight > 0 {
            self.wake.wait(&mut state);
        }
        if state.poison.is_some() {
            return Err(self.poison_error(&state));
        }
        Ok(())
    }

    /// Returns once every offset below `target` is durable, leading a commit if none runs.
    ///
    /// `flush` writes the pending batches (under the writer lock) and says what to fdatasync;
    /// `on_durable` runs with each newly durable offset.
    pub fn wait_durable(
        &self,
        target: u64,
        flush: &dyn Fn() -> Result<Flushed>,
        on_durable: &dyn Fn(u64),
    ) -> Result<()> {
        let mut state = self.state.lock();
        loop {
            if self.durable_offset() >= target {
                return Ok(());
            }
            if state.poison.is_some() {
                return Err(self.poison_error(&state));
            }
            if state.syncing {
                self.wake.wait(&mut state);
                continue;
            }
            state.syncing = true;
            let flushed = parking_lot::MutexGuard::unlocked(&mut state, flush);
            let result = match flushed {
                Ok(flushed) => {
                    // The flush announced this fdatasync (`begin_fsync`).
                    let synced = parking_lot::MutexGuard::unlocked(&mut state, || {
                        flushed
                            .file
                            .sync_data()
                            .map_err(|e| Error::io(flushed.path, "fdatasync", e))
                    });
                    // Released under the lock that also records a failure (below), so a
                    // roll waiting for the slot sees the poison.
                    state.fsyncs_in_flight -= 1;
                    synced.map(|()| flushed.written_offset)
                }
                Err(error) => Err(error),
            };
            state.syncing = false;
            match result {
                Ok(written_offset) => {
                    let before = self
                        .durable_offset
                        .fetch_max(written_offset, Ordering::AcqRel);
                    if written_offset > before {
                        on_durable(written_offset);
                    }
                    self.wake.notify_all();
                }
                Err(error) => {
                    self.poison_locked(&mut state, &error);
                    self.poisoned.store(true, Ordering::Release);
                    self.wake.notify_all();
                    return Err(error);
                }
            }
        }
    }
}
