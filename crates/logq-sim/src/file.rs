//! Handles given out by [`crate::SimFs`]: open files, maps and directory locks.
//!
//! Invariants: a handle carries the generation of the file system it was made in; after a
//! crash or kill every operation on it fails with [`SimError::StaleHandle`] (its process is
//! gone). Maps are copies of the live bytes taken when mapping, so they never change.

use crate::error::SimError;
use crate::fault::OpKind;
use crate::image::{sector_pieces, to_u64, to_usize};
use crate::namespace::FileId;
use crate::state::{Shared, State};
use logq_log::fs::{DirLock, FsFile, MappedBytes};
use parking_lot::MutexGuard;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// An open simulated file.
#[derive(Debug)]
pub struct SimFile {
    pub(crate) shared: Arc<Shared>,
    pub(crate) file: FileId,
    pub(crate) generation: u64,
    pub(crate) writable: bool,
}

impl SimFile {
    /// Locks the state after checking the handle is still valid and the machine is up.
    fn state(&self) -> io::Result<MutexGuard<'_, State>> {
        let state = self.shared.state.lock();
        state.check_alive()?;
        if state.generation != self.generation {
            return Err(SimError::StaleHandle.into());
        }
        Ok(state)
    }

    fn writable_state(&self) -> io::Result<MutexGuard<'_, State>> {
        let state = self.state()?;
        if !self.writable {
            return Err(SimError::ReadOnlyHandle.into());
        }
        Ok(state)
    }
}

impl FsFile for SimFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let state = self.state()?;
        let live = &state.file(self.file).live;
        let end = offset + to_u64(buf.len());
        if end > to_u64(live.len()) {
            return Err(SimError::PastEnd {
                wanted: end,
                len: to_u64(live.len()),
            }
            .into());
        }
        buf.copy_from_slice(&live[to_usize(offset)..to_usize(end)]);
        Ok(())
    }

    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        let mut state = self.writable_state()?;
        if let Some(fault) = state.begin(OpKind::Write)? {
            // A failed write may leave any sector-aligned prefix of its bytes written.
            let pieces = sector_pieces(offset, buf.len());
            let count = state.rng.index(pieces.len() + 1);
            let written: usize = pieces[..count].iter().sum();
            if written > 0 {
                state.file_mut(self.file).write(offset, &buf[..written]);
            }
            return Err(fault.to_io());
        }
        state.file_mut(self.file).write(offset, buf);
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        let mut state = self.state()?;
        if let Some(fault) = state.begin(OpKind::SyncData)? {
            state.file_mut(self.file).fail_sync();
            return Err(fault.to_io());
        }
        state.file_mut(self.file).sync();
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut state = self.writable_state()?;
        if let Some(fault) = state.begin(OpKind::SetLen)? {
            return Err(fault.to_io());
        }
        state.file_mut(self.file).set_len(len);
        Ok(())
    }

    fn len(&self) -> io::Result<u64> {
        let state = self.state()?;
        Ok(to_u64(state.file(self.file).live.len()))
    }

    fn map(&self, len: u64) -> io::Result<Arc<dyn MappedBytes>> {
        let state = self.state()?;
        let live = &state.file(self.file).live;
        if len > to_u64(live.len()) {
            return Err(SimError::PastEnd {
                wanted: len,
                len: to_u64(live.len()),
            }
            .into());
        }
        Ok(Arc::new(SimMap {
            bytes: live[..to_usize(len)].to_vec(),
        }))
    }
}

/// A "memory map": a copy of the first bytes of a file when it was mapped.
#[derive(Debug)]
pub struct SimMap {
    bytes: Vec<u8>,
}

impl MappedBytes for SimMap {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A held directory lock; dropping it releases the lock unless a crash or kill already did.
#[derive(Debug)]
pub struct SimLock {
    pub(crate) shared: Arc<Shared>,
    pub(crate) dir: PathBuf,
    pub(crate) generation: u64,
}

impl DirLock for SimLock {}

impl Drop for SimLock {
    fn drop(&mut self) {
        let mut state = self.shared.state.lock();
        if state.generation == self.generation {
            state.locks.remove(&self.dir);
        }
    }
}
