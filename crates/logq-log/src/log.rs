//! [`Log`]: the public handle of one log directory.

use crate::durable_future::{AsyncWaiters, WaitDurable};
use crate::error::{Error, Result};
use crate::format::batch::{BatchPlan, EncodedBatch};
use crate::format::record::{OwnedRecord, Record};
use crate::fs::{DirLock, FsFile, OpenMode};
use crate::iter::BatchIter;
use crate::options::{Durability, LogOptions};
use crate::read_cache::ReadCache;
use crate::recovery::{self, Recovered};
use crate::report::RecoveryReport;
use crate::segment::{FoundBatch, Segment};
use crate::sync::GroupCommit;
use crate::writer::{self, ToSeal, WriterEnv, WriterState};
use parking_lot::{Condvar, Mutex, RwLock};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

/// What [`Log::segments`] reports about one segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    /// The segment file.
    pub path: PathBuf,
    /// Its first offset.
    pub base_offset: u64,
    /// The offset after its last visible record.
    pub end_offset: u64,
    /// Bytes of header and batches (preallocated space excluded).
    pub bytes: u64,
    /// False for the active (tail) segment.
    pub sealed: bool,
}

/// An append-only log of records with dense `u64` offsets, stored as segment files in one
/// directory.
///
/// `Log` is cheap to clone (an `Arc`), `Send` and `Sync`: append and read from any number of
/// threads. One process at a time may open a directory for writing (an OS advisory lock).
///
/// ```
/// use logq_log::{Log, LogOptions, Record};
/// let dir = tempfile::tempdir().unwrap();
/// let log = Log::open(dir.path(), LogOptions::default()).unwrap();
/// let offsets = log.append(&[Record::new(b"order 1001"), Record::new(b"order 1002")]).unwrap();
/// assert_eq!(offsets, 0..2);
/// assert_eq!(log.read(1).unwrap().payload, b"order 1002");
/// log.close().unwrap();
/// ```
#[derive(Clone)]
pub struct Log {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub dir: PathBuf,
    pub options: LogOptions,
    writable: bool,
    pub segments: RwLock<Vec<Arc<Segment>>>,
    writer: Mutex<Option<WriterState>>,
    commit: Option<GroupCommit>,
    /// Readers see offsets below this (durable under `Always`, appended otherwise).
    visible_offset: AtomicU64,
    /// Every offset below this is written to the file (not in the write buffer).
    written_offset: AtomicU64,
    closed: AtomicBool,
    report: RecoveryReport,
    flusher_signal: Arc<FlusherSignal>,
    flusher: Mutex<Option<std::thread::JoinHandle<()>>>,
    lock: Mutex<Option<Box<dyn DirLock>>>,
    /// Why retention stopped (a failed removal or directory fsync), if it did.
    retention: Mutex<Option<Arc<str>>>,
    /// The last batch `read` verified.
    read_cache: ReadCache,
    /// Futures waiting for durability, and their committer thread.
    async_waiters: Arc<AsyncWaiters>,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("dir", &self.inner.dir)
            .field("first_offset", &self.first_offset())
            .field("next_offset", &self.next_offset())
            .finish()
    }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Log {
    pub(crate) fn from_inner(inner: Arc<Inner>) -> Log {
        Log { inner }
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    /// Opens (creating if needed) the log in `dir` for writing, recovering from any crash.
    ///
    /// Fails with [`Error::Locked`] when another handle has it open for writing, and with
    /// [`Error::Corrupt`], [`Error::Foreign`] or [`Error::UnsupportedVersion`] when files are
    /// damaged, not logq's, or newer than this build.
    pub fn open(dir: impl AsRef<Path>, options: LogOptions) -> Result<Log> {
        Self::open_inner(dir.as_ref(), options, true)
    }

    /// Opens the log in `dir` for reading only: no lock is taken and no byte is changed. The
    /// handle sees the consistent prefix that was complete when it opened, even while a writer
    /// appends; [`RecoveryReport::unreadable_tail_from`] says where that prefix ends if bytes
    /// follow it.
    pub fn open_read_only(dir: impl AsRef<Path>, options: LogOptions) -> Result<Log> {
        Self::open_inner(dir.as_ref(), options, false)
    }

    fn open_inner(dir: &Path, options: LogOptions, writable: bool) -> Result<Log> {
        let fs = Arc::clone(&options.file_system);
        let result = Self::open_unmarked(dir, options, writable);
        if let (true, Err(Error::Io { .. })) = (writable, &result) {
            // A write or fdatasync may have failed: treat the directory as poisoned so the
            // next open rewrites its tail before trusting an fdatasync of it.
            crate::poison_mark::set(fs.as_ref(), dir);
        }
        result
    }

    fn open_unmarked(dir: &Path, options: LogOptions, writable: bool) -> Result<Log> {
        options.validate()?;
        let fs = Arc::clone(&options.file_system);
        let lock = if writable {
            crate::fs::create_dir_durable(fs.as_ref(), dir)
                .map_err(|e| Error::io(dir, "create directory", e))?;
            let lock = crate::fs::lock_dir_with_grace(fs.as_ref(), dir)
                .map_err(|e| Error::io(dir, "lock", e))?;
            Some(lock.ok_or_else(|| Error::Locked {
                dir: dir.to_path_buf(),
            })?)
        } else {
            None
        };
        // Read once: recovery rewrites a poisoned tail, and the open then fsyncs its directory.
        let poisoned = writable && crate::poison_mark::is_set(fs.as_ref(), dir);
        let Recovered {
            bases,
            tail,
            tail_last_batch_position,
            report,
        } = recovery::recover(dir, &options, writable, poisoned)?;
        if !report.is_clean() {
            tracing::warn!(dir = %dir.display(), ?report, "recovered the log");
        }
        let mode = if writable {
            OpenMode::ReadWrite
        } else {
            OpenMode::Read
        };
        let mut segments = recovery::sealed_segments(&fs, dir, &options, &bases, mode);
        let mut writer = None;
        let mut commit = None;
        let tail = tail.map(Arc::new);
        if writable {
            // Make the recovered tail durable before it is built on: bytes a crash or a failed
            // fdatasync left in the page cache but not on disk must not count as durable
            // (recovery rewrote the tail after its trusted start, so this fdatasync covers it),
            // and neither must directory entries.
            let make_durable = |segment: &Segment, entries_durable: bool| -> Result<()> {
                // `entries_durable`: the directory needs no fsync (see the recovered tail).
                segment
                    .file()?
                    .sync_data()
                    .map_err(|e| Error::io(&segment.path, "fdatasync", e))?;
                if entries_durable {
                    return Ok(());
                }
                fs.sync_dir(dir)
                    .map_err(|e| Error::io(dir, "fsync directory", e))
            };
            let (active, index_file, position, last_batch_position) = match tail {
                Some(tail) => {
                    let index_file = fs.open(&tail.index_path, OpenMode::ReadWrite).ok();
                    // A batch goes into a segment only after the roll that created it
                    // fsynced the directory (`writer::create_segment`), and recovery fsyncs
                    // the directory after each removal or rename it makes; so a tail holding
                    // a batch proves the entries that matter durable, unless a failed fsync
                    // poisoned the directory. A tail with no batch may be an unfinished roll
                    // whose directory fsync never ran.
                    let holds_batch = tail.end_offset() > tail.base_offset;
                    make_durable(&tail, holds_batch && !poisoned)?;
                    segments.push(Arc::clone(&tail));
                    let position = tail.written_len();
                    (tail, index_file, position, tail_last_batch_position)
                }
                None => {
                    // No segment: the directory may be one a killed process created before
                    // fsyncing its parent, which `create_dir_durable` above took as durable.
                    crate::fs::sync_dir_chain(fs.as_ref(), dir)
                        .map_err(|e| Error::io(dir, "fsync directory", e))?;
                    // Durable as created: header fdatasynced, directory fsynced.
                    let (segment, index_file) =
                        writer::create_segment(fs.as_ref(), dir, &options, 0)?;
                    segments.push(Arc::clone(&segment));
                    let header =
                        crate::format::to_u64(crate::format::segment_header::SEGMENT_HEADER_LEN);
                    (segment, index_file, header, header)
                }
            };
            let last_indexed = active
                .index
                .read()
                .entries
                .last()
                .map_or(0, |e| u64::from(e.position));
            let allocated_len = active
                .file()?
                .len()
                .map_err(|e| Error::io(&active.path, "stat", e))?;
            commit = Some(GroupCommit::new(
                Arc::clone(&fs),
                dir.to_path_buf(),
                active.end_offset(),
            ));
            crate::poison_mark::clear(fs.as_ref(), dir);
            writer = Some(WriterState {
                index_file,
                assigned_len: position,
                flushed_len: position,
                allocated_len,
                pending: Vec::new(),
                next_offset: active.end_offset(),
                flushed_offset: active.end_offset(),
                last_batch_position,
                last_indexed_position: last_indexed,
                pending_index: Vec::new(),
                pending_index_at: 0,
                active,
            });
        } else {
            segments.extend(tail);
        }
        let visible = segments.last().map_or(0, |s| s.end_offset());
        let inner = Arc::new(Inner {
            dir: dir.to_path_buf(),
            options,
            writable,
            segments: RwLock::new(segments),
            writer: Mutex::new(writer),
            commit,
            visible_offset: AtomicU64::new(visible),
            written_offset: AtomicU64::new(visible),
            closed: AtomicBool::new(false),
            report,
            flusher_signal: Arc::new(FlusherSignal::default()),
            flusher: Mutex::new(None),
            lock: Mutex::new(lock),
            retention: Mutex::new(None),
            read_cache: ReadCache::default(),
            async_waiters: Arc::new(AsyncWaiters::default()),
        });
        if let (true, Durability::Interval(interval)) = (writable, inner.options.durability) {
            let weak = Arc::downgrade(&inner);
            let signal = Arc::clone(&inner.flusher_signal);
            let handle = std::thread::Builder::new()
                .name("logq-flusher".into())
                .spawn(move || flusher(weak, signal, interval))
                .map_err(|e| Error::io(dir, "spawn flusher thread", e))?;
            *inner.flusher.lock() = Some(handle);
        }
        Ok(Log { inner })
    }

    /// The directory of the log.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// What recovery found and did when this handle opened the log.
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.inner.report
    }

    /// The durability policy the log was opened with.
    ///
    /// ```
    /// use logq_log::{Durability, Log, LogOptions};
    /// let dir = tempfile::tempdir().unwrap();
    /// let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    /// assert_eq!(log.durability(), Durability::Always);
    /// ```
    pub fn durability(&self) -> Durability {
        self.inner.options.durability
    }

    /// The first offset still in the log (retention removes older segments).
    pub fn first_offset(&self) -> u64 {
        self.inner
            .segments
            .read()
            .first()
            .map_or(0, |s| s.base_offset)
    }

    /// The offset the next record will get; readers see every offset below it.
    pub fn next_offset(&self) -> u64 {
        self.inner.visible_offset.load(Ordering::Acquire)
    }

    /// The offset the next append will get: every offset below it has been appended (but
    /// may not be durable or visible yet; see [`Log::wait_durable`]).
    pub fn appended_offset(&self) -> u64 {
        self.inner
            .writer
            .lock()
            .as_ref()
            .map_or_else(|| self.next_offset(), |w| w.next_offset)
    }

    /// Every offset below this is on disk (fdatasynced). Zero for a read-only handle.
    pub fn durable_offset(&self) -> u64 {
        self.inner
            .commit
            .as_ref()
            .map_or(0, GroupCommit::durable_offset)
    }

    /// Appends `records` as one batch: all of them or none become part of the log, at dense
    /// offsets returned as a range. Under [`Durability::Always`] it returns only after the
    /// batch is durable; concurrent appends share one write and one fdatasync.
    ///
    /// After a failed write or fdatasync every append fails with [`Error::Poisoned`] until
    /// the log is reopened.
    pub fn append(&self, records: &[Record<'_>]) -> Result<Range<u64>> {
        let range = self.append_deferred(records)?;
        if self.inner.options.durability == Durability::Always {
            self.wait_durable(range.end)?;
        }
        Ok(range)
    }

    /// Assigns offsets to `records` and queues them as one batch without waiting.
    ///
    /// Under [`Durability::Always`] the batch is neither durable nor visible to readers until
    /// [`Log::wait_durable`] (or [`Log::sync`]) covering it returns; [`Log::flush`] writes it
    /// to the operating system meanwhile. Under the other policies it is written at once.
    /// Batches reach the file in the order their offsets were assigned.
    ///
    /// ```
    /// use logq_log::{Log, LogOptions, Record};
    /// let dir = tempfile::tempdir().unwrap();
    /// let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    /// let a = log.append_deferred(&[Record::new(b"a")]).unwrap();
    /// let b = log.append_deferred(&[Record::new(b"b")]).unwrap();
    /// log.wait_durable(b.end).unwrap(); // one fdatasync for both
    /// assert_eq!((a, b), (0..1, 1..2));
    /// ```
    pub fn append_deferred(&self, records: &[Record<'_>]) -> Result<Range<u64>> {
        let inner = &self.inner;
        if !inner.writable {
            return Err(Error::ReadOnly {
                dir: inner.dir.clone(),
            });
        }
        if inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        // Records stamped by the caller (the queue stamps every message) need no clock read.
        let now = match records.iter().all(|r| r.timestamp_ms != 0) {
            true => 0,
            false => now_ms(),
        };
        let plan = BatchPlan::new(records, now, inner.options.batch_bytes_max)?;
        let mut encoded = EncodedBatch::precomputes_body_crc(plan.len())
            .then(|| EncodedBatch::from_plan(&plan, records));
        let to_seal = match encoded.as_mut() {
            Some(encoded) => ToSeal::Encoded(encoded),
            None => ToSeal::InPlace { plan, records },
        };
        let commit = inner.commit.as_ref().ok_or(Error::Closed)?;
        let env = inner.writer_env(commit);
        let mut guard = inner.writer.lock();
        let state = guard.as_mut().ok_or(Error::Closed)?;
        let sealed = state.seal(&env, to_seal)?;
        if let Some(segment) = &sealed.new_segment {
            inner.segments.write().push(Arc::clone(segment));
        }
        if inner.options.durability != Durability::Always {
            if state.pending_len()
                >= crate::format::to_usize(u64::from(inner.options.write_buffer_bytes)).unwrap_or(0)
            {
                state.flush(&env, false)?;
                inner
                    .written_offset
                    .store(sealed.end_offset, Ordering::Release);
            }
            inner
                .visible_offset
                .store(sealed.end_offset, Ordering::Release);
        }
        Ok(sealed.base_offset..sealed.end_offset)
    }

    /// Writes every queued batch to the operating system (`write`, no fdatasync): from then
    /// on it survives a crash of this process, though not a power cut.
    pub fn flush(&self) -> Result<()> {
        self.inner.flush_all()
    }

    /// Returns once every offset below `offset` is durable, leading a group commit if none
    /// is running.
    pub fn wait_durable(&self, offset: u64) -> Result<()> {
        let inner = &self.inner;
        match inner.commit.as_ref() {
            Some(commit) => inner.wait_durable(commit, offset),
            None => Err(Error::ReadOnly {
                dir: inner.dir.clone(),
            }),
        }
    }

    /// A future that resolves once every offset below `offset` is durable: the waiting
    /// counterpart of [`Log::wait_durable`] for async code. It blocks no thread — a committer
    /// thread of the log runs the fdatasync (sharing it with blocking appenders) and wakes the
    /// task — so many tasks on a few executor threads can each wait for their own append.
    /// Any executor will do.
    ///
    /// It resolves to [`Error::OffsetOutOfRange`] when `offset` is beyond the appended end,
    /// and to [`Error::Poisoned`] or [`Error::Closed`] when the log fails or is closed first.
    ///
    /// ```
    /// use logq_log::{Log, LogOptions, Record};
    /// let dir = tempfile::tempdir().unwrap();
    /// let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    /// let offsets = log.append_deferred(&[Record::new(b"order 1001")]).unwrap();
    /// futures::executor::block_on(log.wait_durable_async(offsets.end)).unwrap();
    /// assert!(log.durable_offset() >= 1);
    /// ```
    pub fn wait_durable_async(&self, offset: u64) -> WaitDurable {
        let refused = if !self.inner.writable {
            Some(Error::ReadOnly {
                dir: self.inner.dir.clone(),
            })
        } else if offset <= self.durable_offset() {
            None
        } else {
            let next = self.appended_offset();
            (offset > next).then(|| Error::OffsetOutOfRange {
                offset,
                first: self.first_offset(),
                next,
            })
        };
        WaitDurable::new(self.clone(), offset, refused)
    }

    /// Makes every append that returned so far durable, whatever the durability policy.
    pub fn sync(&self) -> Result<()> {
        let inner = &self.inner;
        let Some(commit) = inner.commit.as_ref() else {
            return Ok(());
        };
        let target = inner.writer.lock().as_ref().map_or(0, |w| w.next_offset);
        inner.wait_durable(commit, target)
    }

    /// Syncs and closes the log, and releases the writer lock at once (other clones of this
    /// handle then fail appends with [`Error::Closed`]; reads keep working).
    pub fn close(&self) -> Result<()> {
        let result = self.sync();
        self.inner.closed.store(true, Ordering::Release);
        self.inner.stop_flusher();
        self.inner.async_waiters.shut_down();
        *self.inner.writer.lock() = None;
        self.inner.lock.lock().take();
        result
    }

    /// Reads the record at `offset` as an owned copy.
    pub fn read(&self, offset: u64) -> Result<OwnedRecord> {
        let inner = &self.inner;
        // The cached batch was visible when cached and visibility only grows; retention may
        // have removed it since, so the first offset is checked on every hit.
        if offset >= self.first_offset() {
            if let Some(record) = inner.read_cache.get(offset) {
                return Ok(record);
            }
        }
        let (_, found) = inner.find(offset)?;
        if let Some(record) = inner.read_cache.insert(&found, offset) {
            return Ok(record);
        }
        let batch = crate::iter::Batch::new(found, offset);
        let record = batch
            .records()
            .find(|r| r.offset == offset)
            .ok_or_else(|| {
                Error::corrupt(
                    &self.inner.dir,
                    0,
                    format!("offset {offset} missing from its batch"),
                )
            })?;
        Ok(record.to_owned_record())
    }

    /// Iterates over the batches holding offsets from `offset` on, without copying: each
    /// [`crate::Batch`] borrows the memory-mapped segment. The iterator follows the log as
    /// it grows and ends when it has caught up with [`Log::next_offset`].
    pub fn batches_from(&self, offset: u64) -> BatchIter {
        BatchIter::new(Arc::clone(&self.inner), offset)
    }

    /// Removes every sealed segment whose records are all below `offset` (retention). The
    /// active segment is never removed. Each removal is made durable (directory fsync)
    /// before the next, so a crash leaves a contiguous log. Returns the segments removed.
    pub fn remove_segments_before(&self, offset: u64) -> Result<usize> {
        let inner = &self.inner;
        if !inner.writable {
            return Err(Error::ReadOnly {
                dir: inner.dir.clone(),
            });
        }
        // One retention at a time; after a failed removal or directory fsync nothing more is
        // removed until the log is reopened (a later removal made durable before an undecided
        // earlier one would leave a gap after a power cut).
        let mut retention = inner.retention.lock();
        if let Some(cause) = retention.as_ref() {
            return Err(Error::Poisoned {
                cause: Arc::clone(cause),
            });
        }
        let fs = inner.options.file_system.as_ref();
        let mut removed = 0;
        loop {
            let victim = {
                let segments = inner.segments.read();
                match segments.get(..2) {
                    Some([first, second]) if second.base_offset <= offset => Arc::clone(first),
                    _ => return Ok(removed),
                }
            };
            // A reader may hold this segment without having opened it yet (sealed segments
            // are opened on first use): open it before the unlink, so such a reader reads
            // through the open file as it would have before, instead of failing to open a
            // name that is gone. A segment that cannot be opened fails those reads anyway.
            let _opened_for_readers = victim.file();
            // A failed unlink changes nothing: report it and let the caller retry.
            fs.remove(&victim.path)
                .map_err(|e| Error::io(&victim.path, "remove", e))?;
            inner
                .segments
                .write()
                .retain(|s| s.base_offset != victim.base_offset);
            inner.read_cache.clear();
            if fs.exists(&victim.index_path) {
                // Derived data: an index left behind is removed by the next open.
                let _ignored = fs.remove(&victim.index_path);
            }
            if let Err(source) = fs.sync_dir(&inner.dir) {
                let error = Error::io(&inner.dir, "fsync directory", source);
                *retention = Some(Arc::from(error.to_string()));
                return Err(error);
            }
            removed += 1;
        }
    }

    /// The number of segment files.
    pub fn segment_count(&self) -> usize {
        self.inner.segments.read().len()
    }

    /// Every segment: its file, offsets and size (for retention and tools).
    ///
    /// ```
    /// use logq_log::{Log, LogOptions, Record};
    /// let dir = tempfile::tempdir().unwrap();
    /// let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    /// log.append(&[Record::new(b"x")]).unwrap();
    /// let segments = log.segments().unwrap();
    /// assert_eq!((segments[0].base_offset, segments[0].end_offset), (0, 1));
    /// ```
    ///
    /// # Errors
    /// A sealed segment not read since the log was opened is opened now (to learn its size):
    /// one whose file is damaged or gone is its typed error ([`Error::Corrupt`], …).
    pub fn segments(&self) -> Result<Vec<SegmentInfo>> {
        let segments = self.inner.segments.read().clone();
        let last = segments.len().saturating_sub(1);
        segments
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.file()?;
                Ok(SegmentInfo {
                    path: s.path.clone(),
                    base_offset: s.base_offset,
                    end_offset: s.end_offset().min(self.next_offset().max(s.base_offset)),
                    bytes: s.written_len(),
                    sealed: i < last,
                })
            })
            .collect()
    }
}

impl Inner {
    /// The batch holding `offset`, which must be visible.
    /// Writes the buffered appends if `offset` is among them (only when the write buffer of
    /// `Interval`/`Never` is on; otherwise every visible record is already written).
    pub(crate) fn write_buffered(&self, offset: u64) -> Result<()> {
        let buffering =
            self.options.write_buffer_bytes > 0 && self.options.durability != Durability::Always;
        if !buffering || offset < self.written_offset.load(Ordering::Acquire) {
            return Ok(());
        }
        self.flush_all()
    }

    /// Writes every sealed batch still in the process to the file.
    fn flush_all(&self) -> Result<()> {
        let Some(commit) = self.commit.as_ref() else {
            return Ok(());
        };
        let env = self.writer_env(commit);
        let mut guard = self.writer.lock();
        let Some(state) = guard.as_mut() else {
            return Ok(());
        };
        let flushed = state.flush(&env, false)?;
        self.written_offset
            .fetch_max(flushed.written_offset, Ordering::AcqRel);
        Ok(())
    }

    pub(crate) fn find(&self, offset: u64) -> Result<(Arc<Segment>, FoundBatch)> {
        self.write_buffered(offset)?;
        let next = self.visible_offset.load(Ordering::Acquire);
        let (segment, sealed_end) = {
            let segments = self.segments.read();
            let first = segments.first().map_or(0, |s| s.base_offset);
            if offset < first || offset >= next {
                return Err(Error::OffsetOutOfRange {
                    offset,
                    first,
                    next,
                });
            }
            let at = segments.partition_point(|s| s.base_offset <= offset) - 1;
            let sealed_end = segments.get(at + 1).map(|s| s.base_offset);
            (Arc::clone(&segments[at]), sealed_end)
        };
        let found = segment.find_batch(self.options.file_system.as_ref(), offset, sealed_end)?;
        Ok((segment, found))
    }

    fn writer_env<'a>(&'a self, commit: &'a GroupCommit) -> WriterEnv<'a> {
        WriterEnv {
            fs: self.options.file_system.as_ref(),
            dir: &self.dir,
            options: &self.options,
            commit,
        }
    }

    /// Waits (leading a group commit if needed) until every offset below `target` is durable.
    fn wait_durable(&self, commit: &GroupCommit, target: u64) -> Result<()> {
        let env = self.writer_env(commit);
        let always = self.options.durability == Durability::Always;
        commit.wait_durable(
            target,
            &|| {
                self.writer
                    .lock()
                    .as_mut()
                    .ok_or(Error::Closed)?
                    .flush(&env, true)
            },
            &|durable| {
                if always {
                    self.visible_offset.fetch_max(durable, Ordering::AcqRel);
                }
                self.async_waiters.wake_covered(durable);
            },
        )
    }

    pub(crate) fn commit(&self) -> Option<&GroupCommit> {
        self.commit.as_ref()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn async_waiters(&self) -> &Arc<AsyncWaiters> {
        &self.async_waiters
    }

    pub(crate) fn visible_offset(&self) -> u64 {
        self.visible_offset.load(Ordering::Acquire)
    }

    fn stop_flusher(&self) {
        self.flusher_signal.stop();
        if let Some(handle) = self.flusher.lock().take() {
            if handle.thread().id() != std::thread::current().id() {
                let _joined = handle.join();
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.flusher_signal.stop();
        self.async_waiters.signal_stop();
        // The last handle went away without `close`: the write buffer (if any) still goes to
        // the file, as it would have without a buffer. A failure is logged; the appends it
        // held were never promised durable.
        if self.options.write_buffer_bytes > 0 {
            if let Err(error) = self.flush_all() {
                tracing::error!(dir = %self.dir.display(), %error,
                    "write buffer lost when the log was dropped");
            }
        }
    }
}

/// Tells the flusher thread to stop.
#[derive(Default)]
struct FlusherSignal {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl FlusherSignal {
    fn stop(&self) {
        *self.stopped.lock() = true;
        self.wake.notify_all();
    }

    /// Waits for `interval`; true when told to stop.
    fn wait(&self, interval: std::time::Duration) -> bool {
        let mut stopped = self.stopped.lock();
        if !*stopped {
            self.wake.wait_for(&mut stopped, interval);
        }
        *stopped
    }
}

/// The background thread of [`Durability::Interval`]; it holds the log only while syncing.
fn flusher(inner: Weak<Inner>, signal: Arc<FlusherSignal>, interval: std::time::Duration) {
    loop {
        if signal.wait(interval) {
            return;
        }
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let log = Log { inner: strong };
        if let Err(error) = log.sync() {
            tracing::error!(%error, "background sync failed");
            return;
        }
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Log>();
    check::<Arc<dyn FsFile>>();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Record;

    /// A reader that took a sealed segment from the list before retention removed it, but had
    /// not opened it yet (sealed segments open on first use), still reads it: retention opens
    /// a segment before unlinking it.
    #[test]
    fn a_segment_taken_before_retention_removed_it_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let options = LogOptions::default()
            .segment_bytes_max(256)
            .preallocate_bytes(0);
        let log = Log::open(dir.path(), options.clone()).unwrap();
        for i in 0..40u8 {
            log.append(&[Record::new(&[i; 40])]).unwrap();
        }
        drop(log);
        let log = Log::open(dir.path(), options).unwrap();
        let taken = Arc::clone(&log.inner.segments.read()[0]);
        assert!(!taken.is_open(), "sealed segments open on first use");
        let second = log.inner.segments.read()[1].base_offset;
        assert_eq!(log.remove_segments_before(second).unwrap(), 1);
        assert!(!taken.path.exists(), "the file is gone");
        let found = taken
            .find_batch(log.inner.options.file_system.as_ref(), 0, Some(second))
            .unwrap();
        assert_eq!(found.header.base_offset, 0);
    }
}
