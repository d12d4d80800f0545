//! One segment file: its mapped bytes, its sparse index, and finding a batch by offset.
//!
//! Invariants:
//! - `written_len` only grows while the log runs, and every byte below it is a complete,
//!   CRC-valid batch (or the header); it is published with `Release` after the write returned.
//! - A map never covers more than `written_len` bytes.
//! - Index entries are hints: before one is used, the batch it points at is checked (CRC and
//!   base offset). A wrong entry makes the segment rebuild its index from the log bytes.
//! - A sealed segment found by `Log::open` is opened on first use ([`Segment::file`]): its
//!   header is checked then, and `written_len` is its file length from then on. Until then
//!   nothing reads `written_len`: every read goes through [`Segment::map_covering`] or
//!   [`Segment::file`], which open it first. Open time therefore does not grow with the
//!   number of sealed segments.

use crate::error::{Error, Result};
use crate::format::batch::{check_batch, BatchHeader};
use crate::format::index_file::{self, IndexEntry, SealedTrailer};
use crate::format::names;
use crate::format::segment_header::SEGMENT_HEADER_LEN;
use crate::format::{to_u64, to_usize};
use crate::fs::{FileSystem, FsFile, MappedBytes, OpenMode};
use parking_lot::{Mutex, RwLock};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// The in-memory sparse index of a segment.
#[derive(Debug, Default)]
pub(crate) struct SparseIndex {
    /// Entries in increasing offset and position order.
    pub entries: Vec<IndexEntry>,
    /// False for a sealed segment whose index file was not read yet.
    pub loaded: bool,
}

impl SparseIndex {
    /// The last entry at or below `offset`.
    pub fn floor(&self, offset: u64) -> Option<IndexEntry> {
        let after = self.entries.partition_point(|e| e.offset <= offset);
        after.checked_sub(1).map(|i| self.entries[i])
    }
}

/// A batch found in a segment: where it is and what its header says.
#[derive(Clone)]
pub(crate) struct FoundBatch {
    pub map: Arc<dyn MappedBytes>,
    pub position: usize,
    pub header: BatchHeader,
}

/// One segment of the log.
pub(crate) struct Segment {
    pub base_offset: u64,
    pub path: PathBuf,
    pub index_path: PathBuf,
    /// The open file; empty until first use for a sealed segment found at open.
    file: OnceLock<Arc<dyn FsFile>>,
    /// How to open `file` on first use (`None` for a segment created open).
    deferred_open: Option<DeferredOpen>,
    /// Held while a deferred open runs, so that the file is opened once.
    opening: Mutex<()>,
    written_len: AtomicU64,
    end_offset: AtomicU64,
    map: RwLock<Option<Arc<dyn MappedBytes>>>,
    pub index: RwLock<SparseIndex>,
    limits: SegmentSettings,
}

/// What opening a sealed segment on first use needs.
struct DeferredOpen {
    fs: Arc<dyn FileSystem>,
    mode: OpenMode,
}

/// What a segment needs to know to read and index batches.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SegmentSettings {
    pub batch_bytes_max: u32,
    pub index_interval_bytes: u32,
    /// False for a read-only log: a rebuilt index then stays in memory, no file is written.
    pub writable: bool,
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment")
            .field("path", &self.path)
            .field("written_len", &self.written_len())
            .field("end_offset", &self.end_offset())
            .finish()
    }
}

impl Segment {
    /// A segment over an open file with `written_len` valid bytes ending at `end_offset`.
    pub fn new(
        dir: &Path,
        base_offset: u64,
        file: Arc<dyn FsFile>,
        written_len: u64,
        end_offset: u64,
        index: SparseIndex,
        limits: SegmentSettings,
    ) -> Self {
        Segment {
            file: OnceLock::from(file),
            written_len: AtomicU64::new(written_len),
            ..Self::new_unset(dir, base_offset, end_offset, index, limits)
        }
    }

    /// A sealed segment that `Log::open` found in the directory listing, holding offsets
    /// `base_offset..end_offset` (the next segment's base), opened on first use.
    pub fn sealed_unopened(
        dir: &Path,
        base_offset: u64,
        end_offset: u64,
        fs: Arc<dyn FileSystem>,
        mode: OpenMode,
        limits: SegmentSettings,
    ) -> Self {
        Segment {
            file: OnceLock::new(),
            deferred_open: Some(DeferredOpen { fs, mode }),
            // Not read before the file is open; set from its length then.
            ..Self::new_unset(dir, base_offset, end_offset, SparseIndex::default(), limits)
        }
    }

    /// A segment without a file or a deferred open, `written_len` 0: the fields both
    /// constructors share.
    fn new_unset(
        dir: &Path,
        base_offset: u64,
        end_offset: u64,
        index: SparseIndex,
        limits: SegmentSettings,
    ) -> Self {
        Segment {
            base_offset,
            path: dir.join(names::segment_file_name(base_offset)),
            index_path: dir.join(names::index_file_name(base_offset)),
            file: OnceLock::new(),
            deferred_open: None,
            opening: Mutex::new(()),
            written_len: AtomicU64::new(0),
            end_offset: AtomicU64::new(end_offset),
            map: RwLock::new(None),
            index: RwLock::new(index),
            limits,
        }
    }

    /// The segment's file, opened now if this is its first use (see the module doc). An
    /// error (a damaged header, a file gone) is returned on every use until it is fixed.
    pub fn file(&self) -> Result<&Arc<dyn FsFile>> {
        if let Some(file) = self.file.get() {
            return Ok(file);
        }
        let _opening = self.opening.lock();
        if let Some(file) = self.file.get() {
            return Ok(file);
        }
        let Some(deferred) = &self.deferred_open else {
            // Unreachable: a segment without a deferred open was created with its file.
            return Err(Error::io(
                &self.path,
                "open",
                std::io::Error::other("segment created without its file"),
            ));
        };
        let (file, len) = crate::recovery::open_sealed_file(
            deferred.fs.as_ref(),
            &self.path,
            self.base_offset,
            self.end_offset(),
            deferred.mode,
        )?;
        self.written_len.store(len, Ordering::Release);
        Ok(self.file.get_or_init(|| file))
    }

    /// True once the file is open (always for a segment created open).
    #[cfg(test)]
    pub fn is_open(&self) -> bool {
        self.file.get().is_some()
    }

    /// Bytes of complete batches (header included).
    pub fn written_len(&self) -> u64 {
        self.written_len.load(Ordering::Acquire)
    }

    /// The offset after the last record written to this segment.
    pub fn end_offset(&self) -> u64 {
        self.end_offset.load(Ordering::Acquire)
    }

    /// Publishes a batch the writer appended.
    pub fn publish_append(&self, written_len: u64, end_offset: u64) {
        self.end_offset.store(end_offset, Ordering::Release);
        self.written_len.store(written_len, Ordering::Release);
    }

    /// A map covering at least `needed` bytes (at most `written_len`).
    pub fn map_covering(&self, needed: u64) -> Result<Arc<dyn MappedBytes>> {
        if let Some(map) = self.map.read().as_ref() {
            if to_u64(map.bytes().len()) >= needed {
                return Ok(Arc::clone(map));
            }
        }
        let mut slot = self.map.write();
        if let Some(map) = slot.as_ref() {
            if to_u64(map.bytes().len()) >= needed {
                return Ok(Arc::clone(map));
            }
        }
        let file = self.file()?;
        let len = self.written_len();
        let map = file
            .map(len)
            .map_err(|e| Error::io(&self.path, "mmap", e))?;
        *slot = Some(Arc::clone(&map));
        Ok(map)
    }

    /// Checks the batch at `position` of `map`, as an error naming this file.
    pub fn check_at(&self, map: &dyn MappedBytes, position: usize) -> Result<BatchHeader> {
        let bytes = map.bytes().get(position..).unwrap_or(&[]);
        check_batch(bytes, self.limits.batch_bytes_max)
            .map_err(|why| Error::corrupt(&self.path, to_u64(position), why.to_string()))
    }

    /// Finds the batch that holds `offset` (which must be below `end_offset`).
    pub fn find_batch(
        &self,
        fs: &dyn FileSystem,
        offset: u64,
        sealed_end: Option<u64>,
    ) -> Result<FoundBatch> {
        self.ensure_index(fs, sealed_end)?;
        let map = self.map_covering(self.written_len())?;
        let hint = self.index.read().floor(offset);
        if let Some(entry) = hint {
            let position = to_usize(u64::from(entry.position)).unwrap_or(usize::MAX);
            match self.check_at(map.as_ref(), position) {
                Ok(header) if header.base_offset == entry.offset => {
                    return self.scan_to(map, position, offset);
                }
                _ => {
                    tracing::warn!(file = %self.index_path.display(), offset = entry.offset,
                        "index entry does not match the log; rebuilding the index");
                    self.rebuild_index(fs, sealed_end)?;
                    let retry = self.index.read().floor(offset);
                    let position = retry.map_or(SEGMENT_HEADER_LEN, |e| {
                        to_usize(u64::from(e.position)).unwrap_or(usize::MAX)
                    });
                    return self.scan_to(map, position, offset);
                }
            }
        }
        self.scan_to(map, SEGMENT_HEADER_LEN, offset)
    }

    /// Walks batches from `position` until the one holding `offset`.
    fn scan_to(
        &self,
        map: Arc<dyn MappedBytes>,
        mut position: usize,
        offset: u64,
    ) -> Result<FoundBatch> {
        let limit = to_usize(self.written_len())
            .unwrap_or(usize::MAX)
            .min(map.bytes().len());
        while position < limit {
            let header = self.check_at(map.as_ref(), position)?;
            if header.base_offset > offset {
                break;
            }
            if offset < header.next_offset() {
                return Ok(FoundBatch {
                    map,
                    position,
                    header,
                });
            }
            position += to_usize(header.len_u64()).unwrap_or(usize::MAX);
        }
        Err(Error::corrupt(
            &self.path,
            to_u64(position),
            format!("offset {offset} is not in this segment where it should be"),
        ))
    }

    /// Loads the index of a sealed segment on first use; `sealed_end` is the next segment's
    /// base offset (None for the tail, whose index is built by recovery and the writer).
    fn ensure_index(&self, fs: &dyn FileSystem, sealed_end: Option<u64>) -> Result<()> {
        if self.index.read().loaded {
            return Ok(());
        }
        match self.load_sealed_index(fs, sealed_end) {
            Some(entries) => {
                let mut index = self.index.write();
                index.entries = entries;
                index.loaded = true;
                Ok(())
            }
            None => self.rebuild_index(fs, sealed_end),
        }
    }

    /// Reads the index file and checks it against the segment; None when it must be rebuilt.
    fn load_sealed_index(
        &self,
        fs: &dyn FileSystem,
        sealed_end: Option<u64>,
    ) -> Option<Vec<IndexEntry>> {
        let end = sealed_end?;
        let file = fs.open(&self.index_path, OpenMode::Read).ok()?;
        let len = file.len().ok()?;
        if len > 64 * 1024 * 1024 {
            return None;
        }
        let mut bytes = vec![0u8; to_usize(len)?];
        file.read_exact_at(&mut bytes, 0).ok()?;
        let decoded = index_file::decode(&bytes, self.base_offset).ok()?;
        let trailer = decoded.sealed?;
        let map = self.map_covering(self.written_len()).ok()?;
        let last = self
            .check_at(
                map.as_ref(),
                to_usize(u64::from(trailer.last_batch_position))?,
            )
            .ok()?;
        let consistent = trailer.end_offset == end
            && u64::from(trailer.segment_len) == self.written_len()
            && last.next_offset() == end
            && u64::from(trailer.last_batch_position) + last.len_u64() == self.written_len();
        consistent.then_some(decoded.entries)
    }

    /// Rebuilds the index by reading every batch; any damage is `Corrupt`. For a sealed
    /// segment it also checks that the segment ends where the next one begins, and writes a
    /// sealed index file (derived data: written without fsync, replaced atomically).
    pub fn rebuild_index(&self, fs: &dyn FileSystem, sealed_end: Option<u64>) -> Result<()> {
        let map = self.map_covering(self.written_len())?;
        let limit = to_usize(self.written_len())
            .unwrap_or(usize::MAX)
            .min(map.bytes().len());
        let interval = to_usize(u64::from(self.limits.index_interval_bytes)).unwrap_or(4096);
        let mut entries = Vec::new();
        let mut position = SEGMENT_HEADER_LEN;
        let mut next = self.base_offset;
        let mut last_position = position;
        let mut last_indexed = 0usize;
        while position < limit {
            let header = self.check_at(map.as_ref(), position)?;
            if header.base_offset != next {
                return Err(Error::corrupt(
                    &self.path,
                    to_u64(position),
                    format!(
                        "batch starts at offset {} but {next} was expected",
                        header.base_offset
                    ),
                ));
            }
            if entries.is_empty() || position - last_indexed >= interval {
                let position_u32 = u32::try_from(position).map_err(|_| {
                    Error::corrupt(&self.path, to_u64(position), "position beyond 4 GiB")
                })?;
                entries.push(IndexEntry {
                    offset: next,
                    position: position_u32,
                });
                last_indexed = position;
            }
            last_position = position;
            next = header.next_offset();
            position += to_usize(header.len_u64()).unwrap_or(usize::MAX);
        }
        if let Some(end) = sealed_end {
            if next != end {
                return Err(Error::corrupt(
                    &self.path,
                    to_u64(position),
                    format!("segment ends at offset {next} but the next segment starts at {end}"),
                ));
            }
            let trailer = SealedTrailer {
                end_offset: end,
                last_batch_position: u32::try_from(last_position).unwrap_or(0),
                segment_len: u32::try_from(position).unwrap_or(0),
            };
            if self.limits.writable {
                let bytes = index_file::encode_sealed(self.base_offset, &entries, trailer);
                write_index_file(fs, &self.index_path, &bytes);
            }
        }
        let mut index = self.index.write();
        index.entries = entries;
        index.loaded = true;
        Ok(())
    }

    /// Writes this (now sealed) segment's index file with its trailer.
    pub fn write_sealed_index(&self, fs: &dyn FileSystem, last_batch_position: u64) {
        let index = self.index.read();
        let trailer = SealedTrailer {
            end_offset: self.end_offset(),
            last_batch_position: u32::try_from(last_batch_position).unwrap_or(0),
            segment_len: u32::try_from(self.written_len()).unwrap_or(0),
        };
        let bytes = index_file::encode_sealed(self.base_offset, &index.entries, trailer);
        write_index_file(fs, &self.index_path, &bytes);
    }
}

/// Replaces an index file through a temporary file and a rename. Index files are derived
/// data: a failure is logged and the index is rebuilt from the log when next needed.
/// Whether the file at `path` holds exactly `bytes`.
fn index_file_holds(fs: &dyn FileSystem, path: &Path, bytes: &[u8]) -> bool {
    let Ok(file) = fs.open(path, OpenMode::Read) else {
        return false;
    };
    if file.len().ok() != Some(crate::format::to_u64(bytes.len())) {
        return false;
    }
    let mut existing = vec![0u8; bytes.len()];
    file.read_exact_at(&mut existing, 0).is_ok() && existing == bytes
}

pub(crate) fn write_index_file(fs: &dyn FileSystem, path: &Path, bytes: &[u8]) {
    if index_file_holds(fs, path, bytes) {
        // Already right (the usual case after a process crash): a rewrite and rename would
        // only cost an inode eviction per open.
        return;
    }
    let temp = path.with_extension(names::TEMP_EXTENSION);
    let result = (|| {
        if fs.exists(&temp) {
            fs.remove(&temp)?;
        }
        let file = fs.open(&temp, OpenMode::CreateNew)?;
        file.write_all_at(bytes, 0)?;
        fs.rename(&temp, path)
    })();
    if let Err(error) = result {
        tracing::warn!(file = %path.display(), %error, "could not write index file; it will be rebuilt");
    }
}
