//! The append path: one writer at a time writes a sealed batch at the end of the active
//! segment, indexes it, and rolls to a new segment when the active one is full.
//!
//! Invariants (all under the writer lock):
//! - `position` is the byte length of the active segment's valid data and `next_offset` the
//!   offset the next batch gets; both move only after a write returned `Ok`.
//! - A roll makes the old segment durable (fdatasync) before the new file exists, and the new
//!   file (header fdatasynced, then the directory fsynced) before any batch goes into it. So
//!   every sealed segment is entirely durable, and a tail segment with a damaged header and a
//!   valid batch after it cannot come from a crash.
//! - A failed write, fdatasync or directory fsync poisons the log before the error returns.

use crate::error::{Error, Result};
use crate::format::batch::EncodedBatch;
use crate::format::index_file::{self, IndexEntry};
use crate::format::segment_header::{self, SEGMENT_HEADER_LEN};
use crate::format::{names, to_u64};
use crate::fs::{FileSystem, FsFile, OpenMode};
use crate::options::LogOptions;
use crate::segment::{Segment, SparseIndex};
use crate::sync::GroupCommit;
use std::path::Path;
use std::sync::Arc;

/// The mutable state of the append path.
pub(crate) struct WriterState {
    /// The segment batches are appended to.
    pub active: Arc<Segment>,
    /// Its open index file (None after an index write failed: the index is then rebuilt
    /// from the log when needed).
    pub index_file: Option<Arc<dyn FsFile>>,
    /// Byte length of the active segment.
    pub position: u64,
    /// Offset of the next record.
    pub next_offset: u64,
    /// Position of the last batch written (for the sealed index trailer).
    pub last_batch_position: u64,
    /// Position of the last indexed batch.
    pub last_indexed_position: u64,
}

/// The outcome of writing one batch.
pub(crate) struct Written {
    pub base_offset: u64,
    pub end_offset: u64,
    /// A roll happened: this segment must be added to the segment list.
    pub new_segment: Option<Arc<Segment>>,
}

impl WriterState {
    /// Writes `batch` at the end of the log; the caller holds the writer lock.
    pub fn write(
        &mut self,
        fs: &dyn FileSystem,
        dir: &Path,
        options: &LogOptions,
        commit: &GroupCommit,
        batch: &mut EncodedBatch,
    ) -> Result<Written> {
        commit.check_poison()?;
        let len = to_u64(batch.len());
        let mut new_segment = None;
        if self.position > to_u64(SEGMENT_HEADER_LEN)
            && self.position + len > options.segment_bytes_max
        {
            let segment = self
                .roll(fs, dir, options, commit)
                .inspect_err(|e| commit.poison(e))?;
            new_segment = Some(segment);
        }
        let base_offset = self.next_offset;
        let bytes = batch.seal(base_offset, commit.durable_offset());
        if let Err(source) = self.active.file.write_all_at(bytes, self.position) {
            let error = Error::io(&self.active.path, "write", source);
            commit.poison(&error);
            return Err(error);
        }
        let batch_position = self.position;
        self.position += len;
        self.next_offset += u64::from(batch.record_count());
        self.last_batch_position = batch_position;
        self.index_batch(options, base_offset, batch_position);
        self.active.publish_append(self.position, self.next_offset);
        commit.note_written(self.next_offset);
        Ok(Written {
            base_offset,
            end_offset: self.next_offset,
            new_segment,
        })
    }

    /// Adds an index entry when the batch starts far enough past the last indexed one.
    fn index_batch(&mut self, options: &LogOptions, offset: u64, position: u64) {
        let first = self.active.index.read().entries.is_empty();
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
        if let (Some(file), Some(raw)) = (
            &self.index_file,
            index_file::encode_entry(self.active.base_offset, entry),
        ) {
            let at = to_u64(
                index_file::INDEX_HEADER_LEN + index.entries.len() * index_file::INDEX_ENTRY_LEN,
            );
            if let Err(error) = file.write_all_at(&raw, at) {
                tracing::warn!(file = %self.active.index_path.display(), %error,
                    "index write failed; the index will be rebuilt from the log");
                self.index_file = None;
            }
        }
        index.entries.push(entry);
        self.last_indexed_position = position;
    }

    /// Seals the active segment and starts a new one at `next_offset`.
    fn roll(
        &mut self,
        fs: &dyn FileSystem,
        dir: &Path,
        options: &LogOptions,
        commit: &GroupCommit,
    ) -> Result<Arc<Segment>> {
        let old = Arc::clone(&self.active);
        old.file
            .sync_data()
            .map_err(|e| Error::io(&old.path, "fdatasync", e))?;
        old.write_sealed_index(fs, self.last_batch_position);
        let (segment, index_file) = create_segment(fs, dir, options, self.next_offset)?;
        commit.switch_file(
            Arc::clone(&segment.file),
            segment.path.clone(),
            self.next_offset,
        );
        self.active = Arc::clone(&segment);
        self.index_file = index_file;
        self.position = to_u64(SEGMENT_HEADER_LEN);
        self.last_batch_position = self.position;
        self.last_indexed_position = 0;
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
        crate::recovery::limits(options),
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
