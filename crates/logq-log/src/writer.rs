//! The append path: batches are sealed in order, buffered, written at the end of the active
//! segment, indexed, and the log rolls to a new segment when the active one is full.
//!
//! Invariants (all under the writer lock):
//! - `next_offset` is the offset the next batch gets; `assigned_len` the byte length of the
//!   active segment once every sealed batch is written; `pending` holds the sealed batches not
//!   yet written, which start at `flushed_len`.
//! - Bytes reach the file in offset order, and a batch is published to readers (segment
//!   `written_len`/`end_offset`) only after the write that holds it returned `Ok`.
//! - The file is extended with zeros in `preallocate_bytes` steps ahead of the data, so most
//!   fdatasyncs only flush data, not the file size. Zeros after the last batch are
//!   preallocated space, and recovery treats them so.
//! - A roll writes what is pending, cuts the preallocated zeros, makes the old segment durable
//!   (fdatasync) before the new file exists, and the new file (header fdatasynced, then the
//!   directory fsynced) before any batch goes into it. So every sealed segment is entirely
//!   durable and exactly as long as its batches.
//! - A failed write, truncate, fdatasync or directory fsync poisons the log before the error
//!   returns.

use crate::error::{Error, Result};
use crate::format::batch::{self, BatchPlan, EncodedBatch};
use crate::format::index_file::{self, IndexEntry};
use crate::format::record::Record;
use crate::format::segment_header::{self, SEGMENT_HEADER_LEN};
use crate::format::{names, to_u64};
use crate::fs::{FileSystem, FsFile, OpenMode};
use crate::options::LogOptions;
use crate::segment::{Segment, SparseIndex};
use crate::sync::{Flushed, GroupCommit};
use std::path::Path;
use std::sync::Arc;

/// The mutable state of the append path.
pub(crate) struct WriterState {
    /// The segment batches are appended to.
    pub active: Arc<Segment>,
    /// Its open index file (None after an index write failed: the index is then rebuilt
    /// from the log when needed).
    pub index_file: Option<Arc<dyn FsFile>>,
    /// Length of the active segment once every sealed batch is written.
    pub assigned_len: u64,
    /// Length of the active segment's bytes that are written to the file.
    pub flushed_len: u64,
    /// Length of the file, preallocated zeros included.
    pub allocated_len: u64,
    /// Sealed batches not yet written, starting at `flushed_len`.
    pub pending: Vec<u8>,
    /// Offset of the next record.
    pub next_offset: u64,
    /// Offset after the last written record.
    pub flushed_offset: u64,
    /// Position of the last batch sealed (for the sealed index trailer).
    pub last_batch_position: u64,
    /// Position of the last indexed batch.
    pub last_indexed_position: u64,
    /// Encoded index entries of batches not yet written, for the index file from
    /// `pending_index_at` on: written with the batches, in one write after them, so an
    /// append costs no system call of its own and no entry reaches the file before its batch.
    pub pending_index: Vec<u8>,
    /// Where `pending_index` goes in the index file.
    pub pending_index_at: u64,
}

/// A batch to seal: encoded already (large batches, outside the writer lock), or to be
/// encoded straight into the pending buffer (small ones: no allocation, one CRC pass).
pub(crate) enum ToSeal<'b, 'r> {
    /// Encoded, body CRC possibly precomputed.
    Encoded(&'b mut EncodedBatch),
    /// Checked and measured; written under the lock.
    InPlace {
        plan: BatchPlan,
        records: &'b [Record<'r>],
    },
}

impl ToSeal<'_, '_> {
    fn len(&self) -> usize {
        match self {
            ToSeal::Encoded(encoded) => encoded.len(),
            ToSeal::InPlace { plan, .. } => plan.len(),
        }
    }
}

/// The outcome of sealing one batch.
pub(crate) struct Sealed {
    pub base_offset: u64,
    pub end_offset: u64,
    /// A roll happened: this segment must be added to the segment list.
    pub new_segment: Option<Arc<Segment>>,
}

/// The environment the writer works in.
pub(crate) struct WriterEnv<'a> {
    pub fs: &'a dyn FileSystem,
    pub dir: &'a Path,
    pub options: &'a LogOptions,
    pub commit: &'a GroupCommit,
}

impl WriterState {
    /// Seals `batch` at the end of the log and queues it for writing; the caller holds the
    /// writer lock and either flushes at once or leaves the write to the group commit.
    pub fn seal(&mut self, env: &WriterEnv<'_>, batch: ToSeal<'_, '_>) -> Result<Sealed> {
        env.commit.check_poison()?;
        let len = to_u64(batch.len());
        let mut new_segment = None;
        let header_len = to_u64(SEGMENT_HEADER_LEN);
        if self.assigned_len > header_len && self.assigned_len + len > env.options.segment_bytes_max
        {
            let segment = self.roll(env).inspect_err(|e| env.commit.poison(e))?;
            new_segment = Some(segment);
        }
        let base_offset = self.next_offset;
        let watermark = env.commit.durable_offset();
        let record_count = match batch {
            ToSeal::Encoded(encoded) => {
                self.pending
                    .extend_from_slice(encoded.seal(base_offset, watermark));
                encoded.record_count()
            }
            ToSeal::InPlace { plan, records } => {
                let start = self.pending.len();
                plan.write_into(records, &mut self.pending);
                batch::seal_in_place(&mut self.pending[start..], base_offset, watermark, None);
                plan.record_count()
            }
        };
        let batch_position = self.assigned_len;
        self.assigned_len += len;
        self.next_offset += u64::from(record_count);
        self.last_batch_position = batch_position;
        self.index_batch(env.options, base_offset, batch_position);
        Ok(Sealed {
            base_offset,
            end_offset: self.next_offset,
            new_segment,
        })
    }

    /// Bytes of sealed batches not yet written.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Writes every pending batch with one write and publishes it to readers. With
    /// `for_fsync` the caller fdatasyncs the returned file next; that fdatasync is announced
    /// to the group commit here, under the writer lock (`GroupCommit::exclusive_fsync_slot`).
    pub fn flush(&mut self, env: &WriterEnv<'_>, for_fsync: bool) -> Result<Flushed> {
        env.commit.check_poison()?;
        if !self.pending.is_empty() {
            self.write_pending(env)
                .inspect_err(|e| env.commit.poison(e))?;
        }
        if for_fsync {
            env.commit.begin_fsync();
        }
        Ok(Flushed {
            file: Arc::clone(self.active.file()?),
            path: self.active.path.clone(),
            written_offset: self.flushed_offset,
        })
    }

    fn write_pending(&mut self, env: &WriterEnv<'_>) -> Result<()> {
        let file = self.active.file()?;
        file.write_all_at(&self.pending, self.flushed_len)
            .map_err(|e| Error::io(&self.active.path, "write", e))?;
        self.flushed_len += to_u64(self.pending.len());
        self.pending.clear();
        self.flushed_offset = self.next_offset;
        if self.flushed_len > self.allocated_len {
            self.allocated_len = self.flushed_len;
        }
        // Only fdatasync-per-append needs it; elsewhere it would double the bytes copied.
        let chunk = if env.options.durability == crate::options::Durability::Always {
            env.options.preallocate_bytes
        } else {
            0
        };
        if chunk > 0 && self.allocated_len - self.flushed_len < chunk / 2 {
            let target =
                (self.flushed_len + chunk).min(env.options.segment_bytes_max.max(self.flushed_len));
            if target > self.allocated_len {
                let zeros =
                    vec![0u8; crate::format::to_usize(target - self.allocated_len).unwrap_or(0)];
                file.write_all_at(&zeros, self.allocated_len)
                    .map_err(|e| Error::io(&self.active.path, "preallocate", e))?;
                self.allocated_len = target;
            }
        }
        self.write_pending_index();
        self.active
            .publish_append(self.flushed_len, self.flushed_offset);
        Ok(())
    }

    /// Writes the index entries of the batches just written. A failure costs only speed: the
    /// index is derived data, rebuilt from the log when it is missing or short.
    fn write_pending_index(&mut self) {
        if self.pending_index.is_empty() {
            return;
        }
        if let Some(file) = &self.index_file {
            if let Err(error) = file.write_all_at(&self.pending_index, self.pending_index_at) {
                tracing::warn!(file = %self.active.index_path.display(), %error,
                    "index write failed; the index will be rebuilt from the log");
                self.index_file = None;
            }
        }
        self.pending_index.clear();
    }

    /// Adds an index entry when the batch starts far enough past the last indexed one; the
    /// entry reaches the index file with the batch (`write_pending_index`).
    fn index_batch(&mut self, options: &LogOptions, offset: u64, position: u64) {
        // `last_indexed_position` is 0 until the segment's first entry (positions are >= 32).
        let first = self.last_indexed_position == 0;
        if !first && position - self.last_indexed_position < u64::from(options.index_interval_bytes)
        {
            return;
        }
        let Ok(position_u32) = u32::try_from(position) else {
            return;
        };
        let entry = IndexEntry {
            offset,
            position: position_u32,
        };
        let mut index = self.active.index.write();
        if let (Some(_), Some(raw)) = (
            &self.index_file,
            index_file::encode_entry(self.active.base_offset, entry),
        ) {
            if self.pending_index.is_empty() {
                self.pending_index_at = to_u64(
                    index_file::INDEX_HEADER_LEN
                        + index.entries.len() * index_file::INDEX_ENTRY_LEN,
                );
            }
            self.pending_index.extend_from_slice(&raw);
        }
        index.entries.push(entry);
        self.last_indexed_position = position;
    }

    /// Seals the active segment and starts a new one at `next_offset`.
    fn roll(&mut self, env: &WriterEnv<'_>) -> Result<Arc<Segment>> {
        if !self.pending.is_empty() {
            self.write_pending(env)?;
        }
        let old = Arc::clone(&self.active);
        // No leader fdatasync of this file may overlap the roll's (see GroupCommit).
        env.commit.exclusive_fsync_slot()?;
        // Always cut to the batches, even when the live length already matches: a cut whose
        // fdatasync failed before a restart is pending in no page and must be redone.
        old.file()?
            .set_len(self.flushed_len)
            .map_err(|e| Error::io(&old.path, "truncate preallocated space", e))?;
        old.file()?
            .sync_data()
            .map_err(|e| Error::io(&old.path, "fdatasync", e))?;
        env.commit.mark_durable(self.next_offset);
        old.write_sealed_index(env.fs, self.last_batch_position);
        let (segment, index_file) = create_segment(env.fs, env.dir, env.options, self.next_offset)?;
        self.active = Arc::clone(&segment);
        self.index_file = index_file;
        let header_len = to_u64(SEGMENT_HEADER_LEN);
        self.assigned_len = header_len;
        self.flushed_len = header_len;
        self.allocated_len = header_len;
        self.last_batch_position = header_len;
        self.last_indexed_position = 0;
        self.pending_index.clear();
        Ok(segment)
    }
}

/// A created segment and its open index file (None when the index could not be created).
pub(crate) type NewSegment = (Arc<Segment>, Option<Arc<dyn FsFile>>);

/// Creates a segment file at `base_offset` durably: header written and fdatasynced, index
/// header written, directory fsynced.
pub(crate) fn create_segment(
    fs: &dyn FileSystem,
    dir: &Path,
    options: &LogOptions,
    base_offset: u64,
) -> Result<NewSegment> {
    let path = dir.join(names::segment_file_name(base_offset));
    let file = fs
        .open(&path, OpenMode::CreateNew)
        .map_err(|e| Error::io(&path, "create", e))?;
    file.write_all_at(&segment_header::encode(base_offset), 0)
        .map_err(|e| Error::io(&path, "write header", e))?;
    file.sync_data()
        .map_err(|e| Error::io(&path, "fdatasync", e))?;
    let index_path = dir.join(names::index_file_name(base_offset));
    let index_file = open_index_file(fs, &index_path, base_offset);
    fs.sync_dir(dir)
        .map_err(|e| Error::io(dir, "fsync directory", e))?;
    let segment = Segment::new(
        dir,
        base_offset,
        file,
        to_u64(SEGMENT_HEADER_LEN),
        base_offset,
        SparseIndex {
            entries: Vec::new(),
            loaded: true,
        },
        crate::recovery::limits(options, true),
    );
    Ok((Arc::new(segment), index_file))
}

/// Creates (replacing) an open index file with just its header; None on failure (logged).
pub(crate) fn open_index_file(
    fs: &dyn FileSystem,
    path: &Path,
    base_offset: u64,
) -> Option<Arc<dyn FsFile>> {
    let result = (|| {
        if fs.exists(path) {
            fs.remove(path)?;
        }
        let file = fs.open(path, OpenMode::CreateNew)?;
        file.write_all_at(&index_file::encode_header(base_offset, false), 0)?;
        Ok::<_, std::io::Error>(file)
    })();
    result
        .inspect_err(|error| {
            tracing::warn!(file = %path.display(), %error, "could not create index file; it will be rebuilt");
        })
        .ok()
}
