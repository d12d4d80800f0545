//! [`Queue`]: a named queue — its message log, its consumer groups, its dedup index.
//!
//! Invariants:
//! - A message id is its offset in the queue's log; ids are dense and increasing.
//! - `send` returns only when the message is durable (under `Durability::Always`); a send
//!   with a dedup id already in the horizon appends nothing and returns the first id, after
//!   that first message is durable too. The dedup check and the append happen under one lock,
//!   so concurrent sends of one id append once.
//! - Consumers see only durable messages (the log shows readers durable offsets only).
//! - `send_async` appends when it is called and resolves only once the message is durable;
//!   it keeps the same dedup rule (the future of a known dedup id waits for the first copy).

use crate::clock::now_ms;
use crate::consumer::Consumer;
use crate::dedup::{self, DedupIndex, DEDUP_ID_BYTES_MAX};
use crate::error::{Error, Result};
use crate::message::{reserved, Message, MessageId, ReceivedMessage};
use crate::notify::Notify;
use crate::options::QueueOptions;
use crate::stats::{GroupStatsView, QueueStats, Recorder};
use crate::store::StoreInner;
use logq_log::fs::OpenMode;
use logq_log::{Durability, Log, LogOptions, Record};
use logq_offsets::{GroupConfig, MessageStatus, OffsetOptions, OffsetStore, StartPosition};
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// A named queue. Cheap to clone, `Send + Sync`.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let store = logq::Store::open(dir.path(), logq::Options::default()).unwrap();
/// let orders = store.queue("orders").unwrap();
/// let id = orders.send(logq::Message::new(b"order 1001".to_vec()).dedup_id("o-1001")).unwrap();
/// let again = orders.send(logq::Message::new(b"order 1001".to_vec()).dedup_id("o-1001")).unwrap();
/// assert_eq!(id, again); // a retried send appends nothing
/// assert_eq!(orders.peek(id).unwrap().payload, b"order 1001");
/// ```
#[derive(Clone)]
pub struct Queue {
    pub(crate) inner: Arc<QueueInner>,
}

/// A batch appended (or found by its dedup ids) and not yet reported sent.
struct StagedSend {
    ids: Vec<MessageId>,
    /// The batch is durable once every offset below this is (0: nothing to wait for).
    durable_end: u64,
    now_ms: u64,
    /// Enough sends since the last dedup snapshot that the next may be due (checked again
    /// after the durable wait: a concurrent sender may have written it meanwhile).
    snapshot_due: bool,
}

pub(crate) struct QueueInner {
    pub name: String,
    pub dir: PathBuf,
    pub options: QueueOptions,
    pub log: Log,
    pub groups: OffsetStore,
    pub send_state: Mutex<SendState>,
    /// Shared by every queue of the store (priority consumers wait on several queues).
    pub notify: Arc<Notify>,
    /// Delayed messages of this queue waiting in `<queue>.delayed` (loaded on first use).
    pub schedule: Mutex<crate::schedule::Slot>,
    pub recorder: Recorder,
    pub store: Weak<StoreInner>,
    pub retention_checked_ms: Mutex<u64>,
}

pub(crate) struct SendState {
    dedup: DedupIndex,
    sends_since_snapshot: u64,
    snapshot_offset: Option<u64>,
}

impl SendState {
    /// The message first sent with dedup id `id`, if within the horizon.
    pub(crate) fn dedup_lookup(&mut self, id: &str) -> Option<u64> {
        self.dedup.lookup(id, now_ms())
    }
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("name", &self.inner.name)
            .finish()
    }
}

/// Checks a queue name: 1 to 200 of `[A-Za-z0-9._-]`, not `.` or `..`.
pub(crate) fn check_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() || name.len() > 200 {
        Some("must have 1 to 200 characters")
    } else if name == "." || name == ".." {
        Some("must not be . or ..")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        Some("may only contain ASCII letters, digits, '.', '_' and '-'")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidName {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Opens (creating) the consumer groups of queue `name` in `<dir>/groups` and releases every
/// lease found there: one process has the store at a time, so they are a dead consumer's.
fn open_groups(
    name: &str,
    dir: &Path,
    options: &QueueOptions,
    log_options: &LogOptions,
) -> Result<OffsetStore> {
    let wrap = |source| Error::Groups {
        queue: name.to_owned(),
        source,
    };
    let group_options = OffsetOptions::default()
        .durability(options.durability)
        .group_config(GroupConfig {
            lease_ms: options.lease_ms,
            max_deliveries: options.max_deliveries,
            max_in_flight: options.max_in_flight,
        })
        .checkpoint_interval_records(options.checkpoint_interval_records)
        .journal(log_options.clone().segment_bytes_max(32 * 1024 * 1024));
    let groups = OffsetStore::open(dir.join("groups"), group_options).map_err(wrap)?;
    let released = groups.release_all_leases().map_err(wrap)?;
    if released > 0 {
        tracing::info!(
            queue = name,
            released,
            "released the leases of a previous process"
        );
    }
    Ok(groups)
}

impl QueueInner {
    /// The store this queue belongs to.
    pub(crate) fn store(&self) -> Result<crate::Store> {
        self.store
            .upgrade()
            .map(|inner| crate::Store { inner })
            .ok_or_else(|| Error::InvalidArgument("the store was closed".into()))
    }

    pub(crate) fn log_error(&self, source: logq_log::Error) -> Error {
        Error::Log {
            queue: self.name.clone(),
            source,
        }
    }

    pub(crate) fn groups_error(&self, source: logq_offsets::StoreError) -> Error {
        Error::Groups {
            queue: self.name.clone(),
            source,
        }
    }

    /// Opens (creating) the queue in `dir`, recovering its log, groups and dedup index.
    pub(crate) fn open(
        name: &str,
        dir: &Path,
        options: QueueOptions,
        log_options: &LogOptions,
        store: Weak<StoreInner>,
        notify: Arc<Notify>,
    ) -> Result<Self> {
        let fs = log_options.file_system.clone();
        logq_log::fs::create_dir_durable(fs.as_ref(), dir).map_err(|source| Error::Io {
            file: dir.to_path_buf(),
            operation: "create directory",
            source,
        })?;
        let log_options = log_options
            .clone()
            .durability(options.durability)
            .segment_bytes_max(options.segment_bytes_max);
        let wrap_log = |source| Error::Log {
            queue: name.to_owned(),
            source,
        };
        let open_log = || {
            Log::open(
                dir.join("log"),
                log_options
                    .clone()
                    .write_buffer_bytes(options.write_buffer_bytes),
            )
            .map_err(wrap_log)
        };
        let open_groups = || open_groups(name, dir, &options, &log_options);
        let fs = fs.as_ref();
        let (log, groups, (dedup, snapshot_offset)) = if fs.allows_concurrent_recovery() {
            // The message log (with the dedup index it holds) and the group journal are
            // independent files: recovering them side by side overlaps their fdatasyncs.
            // This thread recovers the group journal (the longer side after a crash: it
            // replays events since the checkpoint) while a helper thread recovers the log.
            // A helper can start late (0.2-0.9 ms after its spawn was measured on a two-vCPU
            // VM, whose idle vCPU must be woken), so the log side waits in a slot: the helper
            // takes it if it starts in time, else this thread does when the journal is done.
            // A helper that cannot be started (resource limits) only costs the overlap.
            let open_log_side = || {
                open_log().and_then(|log| {
                    let dedup = recover_dedup(name, dir, &options, &log, fs)?;
                    Ok((log, dedup))
                })
            };
            let log_task = Mutex::new(Some(open_log_side));
            // The lock is released before the task runs: it guards the hand-over only.
            let take_and_run = || {
                let task = log_task.lock().take();
                task.map(|task| task())
            };
            let (log_side, groups) = std::thread::scope(|scope| {
                let helper = std::thread::Builder::new()
                    .name("logq-open-log".into())
                    .spawn_scoped(scope, take_and_run);
                let groups = open_groups();
                let log_side = match take_and_run() {
                    Some(done_here) => done_here,
                    None => helper
                        .ok()
                        .and_then(|handle| {
                            handle
                                .join()
                                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                        })
                        .ok_or_else(|| {
                            Error::InvalidArgument("the log's recovery task ran nowhere".into())
                        })?,
                };
                Ok::<_, Error>((log_side, groups))
            })?;
            let (log, dedup) = log_side?;
            (log, groups?, dedup)
        } else {
            let log = open_log()?;
            let groups = open_groups()?;
            let dedup = recover_dedup(name, dir, &options, &log, fs)?;
            (log, groups, dedup)
        };
        Ok(QueueInner {
            name: name.to_owned(),
            dir: dir.to_path_buf(),
            options,
            log,
            groups,
            send_state: Mutex::new(SendState {
                dedup,
                sends_since_snapshot: 0,
                snapshot_offset,
            }),
            notify,
            schedule: Mutex::new(crate::schedule::Slot::Unknown),
            recorder: Recorder::default(),
            store,
            retention_checked_ms: Mutex::new(0),
        })
    }

    /// Writes a dedup snapshot after making the log durable through its offset.
    pub(crate) fn snapshot_dedup(&self) -> Result<()> {
        let fs = self.log_fs();
        let mut state = self.send_state.lock();
        self.log.sync().map_err(|e| self.log_error(e))?;
        let scan_offset = self.log.next_offset();
        if state.snapshot_offset == Some(scan_offset) {
            state.sends_since_snapshot = 0;
            return Ok(());
        }
        let bytes = state.dedup.encode(scan_offset);
        let path = self.dir.join(dedup::file_name(scan_offset));
        let temp = self
            .dir
            .join(format!("{}.tmp", dedup::file_name(scan_offset)));
        let io = |file: &Path, operation, source| Error::Io {
            file: file.to_path_buf(),
            operation,
            source,
        };
        if fs.exists(&temp) {
            fs.remove(&temp).map_err(|e| io(&temp, "remove", e))?;
        }
        let file = fs
            .open(&temp, OpenMode::CreateNew)
            .map_err(|e| io(&temp, "create", e))?;
        file.write_all_at(&bytes, 0)
            .map_err(|e| io(&temp, "write", e))?;
        file.sync_data().map_err(|e| io(&temp, "fdatasync", e))?;
        fs.rename(&temp, &path)
            .map_err(|e| io(&path, "rename", e))?;
        fs.sync_dir(&self.dir)
            .map_err(|e| io(&self.dir, "fsync directory", e))?;
        if let Some(old) = state.snapshot_offset {
            let old_path = self.dir.join(dedup::file_name(old));
            if fs.exists(&old_path) {
                fs.remove(&old_path)
                    .map_err(|e| io(&old_path, "remove", e))?;
                fs.sync_dir(&self.dir)
                    .map_err(|e| io(&self.dir, "fsync directory", e))?;
            }
        }
        state.snapshot_offset = Some(scan_offset);
        state.sends_since_snapshot = 0;
        Ok(())
    }

    fn log_fs(&self) -> Arc<dyn logq_log::fs::FileSystem> {
        self.store.upgrade().map_or_else(
            || Arc::new(logq_log::fs::RealFs) as Arc<dyn logq_log::fs::FileSystem>,
            |s| s.log_options.file_system.clone(),
        )
    }

    /// Sends messages as one batch, each with the `reserved` headers added; dedup ids are
    /// checked first. Returns once the batch is durable (under `Always`).
    pub(crate) fn send_records(
        &self,
        messages: &[Message],
        reserved: &[(&str, &[u8])],
    ) -> Result<Vec<MessageId>> {
        let staged = self.stage_records(messages, reserved)?;
        if let Some(end) = self.durable_wait(&staged) {
            self.log.wait_durable(end).map_err(|e| self.log_error(e))?;
        }
        self.finish_send(&staged)?;
        Ok(staged.ids)
    }

    /// [`QueueInner::send_records`] for async callers: the batch is appended now (so sends
    /// keep the order of the calls); the returned future waits for its durability without
    /// blocking a thread.
    pub(crate) fn send_records_async(
        self: &Arc<Self>,
        messages: &[Message],
    ) -> impl std::future::Future<Output = Result<Vec<MessageId>>> + Send + 'static {
        let staged = self.stage_records(messages, &[]);
        let inner = Arc::clone(self);
        async move {
            let staged = staged?;
            if let Some(end) = inner.durable_wait(&staged) {
                inner
                    .log
                    .wait_durable_async(end)
                    .await
                    .map_err(|e| inner.log_error(e))?;
            }
            inner.finish_send(&staged)?;
            Ok(staged.ids)
        }
    }

    /// The offset `staged` must wait for before it is reported sent, if any (under `Always`).
    fn durable_wait(&self, staged: &StagedSend) -> Option<u64> {
        (self.options.durability == Durability::Always && staged.durable_end > 0)
            .then_some(staged.durable_end)
    }

    /// After the batch is durable: counts the sends, wakes consumers, snapshots the dedup
    /// index when it is due.
    fn finish_send(&self, staged: &StagedSend) -> Result<()> {
        self.recorder
            .sends
            .lock()
            .record(staged.now_ms, u64::try_from(staged.ids.len()).unwrap_or(0));
        self.notify.notify();
        // Senders staged while the count crossed the interval all see it due; the first to
        // get here writes the snapshot and resets the count, the others then find it low.
        let due = staged.snapshot_due
            && self.send_state.lock().sends_since_snapshot
                >= self.options.dedup.snapshot_interval_sends;
        if due {
            self.snapshot_dedup()?;
        }
        Ok(())
    }

    /// Validates the messages, resolves dedup ids and appends the new ones as one batch
    /// (not waiting for durability).
    fn stage_records(
        &self,
        messages: &[Message],
        reserved: &[(&str, &[u8])],
    ) -> Result<StagedSend> {
        for message in messages {
            validate(message)?;
        }
        let now = now_ms();
        // Where each message's id comes from: a known dedup id, or its place in the batch.
        enum Slot {
            Known(u64),
            Fresh(usize),
        }
        let (ids, end, snapshot_due) = {
            let mut state = self.send_state.lock();
            let mut slots = Vec::with_capacity(messages.len());
            let mut fresh: Vec<usize> = Vec::new();
            let mut end = 0u64;
            for (i, message) in messages.iter().enumerate() {
                let dedup_id = message.dedup_id.as_deref();
                if let Some(offset) = dedup_id.and_then(|id| state.dedup.lookup(id, now)) {
                    slots.push(Slot::Known(offset));
                    end = end.max(offset + 1);
                } else if let Some(n) = dedup_id.and_then(|id| {
                    fresh
                        .iter()
                        .position(|&j| messages[j].dedup_id.as_deref() == Some(id))
                }) {
                    slots.push(Slot::Fresh(n));
                } else {
                    slots.push(Slot::Fresh(fresh.len()));
                    fresh.push(i);
                }
            }
            let mut base = 0u64;
            if !fresh.is_empty() {
                let header_lists: Vec<Vec<(&str, &[u8])>> = fresh
                    .iter()
                    .map(|&i| {
                        let mut headers = headers_of(&messages[i]);
                        headers.extend_from_slice(reserved);
                        headers
                    })
                    .collect();
                let records: Vec<Record<'_>> = fresh
                    .iter()
                    .zip(&header_lists)
                    .map(|(&i, headers)| {
                        let message = &messages[i];
                        let record = Record::new(&message.payload)
                            .headers(headers)
                            .timestamp_ms(now);
                        match &message.key {
                            Some(key) => record.key(key),
                            None => record,
                        }
                    })
                    .collect();
                let range = self
                    .log
                    .append_deferred(&records)
                    .map_err(|e| self.log_error(e))?;
                base = range.start;
                for (n, &i) in fresh.iter().enumerate() {
                    if let Some(dedup_id) = &messages[i].dedup_id {
                        state
                            .dedup
                            .insert(dedup_id, base + u64::try_from(n).unwrap_or(0), now);
                    }
                }
                end = end.max(range.end);
                state.sends_since_snapshot += u64::try_from(fresh.len()).unwrap_or(0);
            }
            let ids: Vec<MessageId> = slots
                .into_iter()
                .map(|slot| match slot {
                    Slot::Known(offset) => MessageId(offset),
                    Slot::Fresh(n) => MessageId(base + u64::try_from(n).unwrap_or(0)),
                })
                .collect();
            let snapshot_due =
                state.sends_since_snapshot >= self.options.dedup.snapshot_interval_sends;
            (ids, end, snapshot_due)
        };
        Ok(StagedSend {
            ids,
            durable_end: end,
            now_ms: now,
            snapshot_due,
        })
    }

    /// Reads message `id`.
    pub(crate) fn read(&self, id: MessageId) -> Result<ReceivedMessage> {
        match self.log.read(id.0) {
            Ok(record) => Ok(ReceivedMessage::from_record(record)),
            Err(logq_log::Error::OffsetOutOfRange { .. }) => Err(Error::NotFound {
                queue: self.name.clone(),
                id,
            }),
            Err(error) => Err(self.log_error(error)),
        }
    }

    /// Deletes what retention allows (at most once a second): sealed segments every group
    /// acknowledged past, and, with caps, older ones (counted as dropped).
    pub(crate) fn enforce_retention(&self, force: bool) -> Result<()> {
        let now = now_ms();
        {
            let mut checked = self.retention_checked_ms.lock();
            if !force && now.saturating_sub(*checked) < 1000 {
                return Ok(());
            }
            *checked = now;
        }
        let Some(needed) = self.groups.min_unacked_offset() else {
            return Ok(()); // no group yet: nothing may be deleted unprocessed
        };
        let retention = &self.options.retention;
        // Only the caps need the segments' sizes and ages (which opens sealed segments not
        // read since the log was opened).
        let segments = if retention.max_age.is_some() || retention.max_bytes.is_some() {
            self.log.segments().map_err(|e| self.log_error(e))?
        } else {
            Vec::new()
        };
        let mut target = needed;
        if let Some(max_age) = retention.max_age {
            let max_age_ms = crate::clock::millis(max_age);
            for segment in segments
                .iter()
                .filter(|s| s.sealed && s.end_offset > s.base_offset)
            {
                let newest = self
                    .log
                    .read(segment.end_offset - 1)
                    .map(|r| r.timestamp_ms)
                    .unwrap_or(u64::MAX);
                if now.saturating_sub(newest) > max_age_ms {
                    target = target.max(segment.end_offset);
                }
            }
        }
        if let Some(max_bytes) = retention.max_bytes {
            let mut total: u64 = segments.iter().map(|s| s.bytes).sum();
            for segment in segments.iter().filter(|s| s.sealed) {
                if total <= max_bytes {
                    break;
                }
                total -= segment.bytes;
                target = target.max(segment.end_offset);
            }
        }
        if target <= self.log.first_offset() {
            return Ok(());
        }
        let removed = self
            .log
            .remove_segments_before(target)
            .map_err(|e| self.log_error(e))?;
        if removed == 0 {
            return Ok(());
        }
        let first = self.log.first_offset();
        tracing::info!(queue = %self.name, removed, first, "retention removed segments");
        for group in self.groups.group_names() {
            if first > needed {
                let dropped = self
                    .groups
                    .ack_through(&group, first)
                    .map_err(|e| self.groups_error(e))?;
                *self.recorder.dropped_by_retention.lock() += dropped;
            }
            self.groups
                .forget_outcomes_below(&group, first)
                .map_err(|e| self.groups_error(e))?;
        }
        Ok(())
    }
}

/// The id of a one-message send.
fn only_id(ids: Vec<MessageId>) -> Result<MessageId> {
    ids.into_iter()
        .next()
        .ok_or_else(|| Error::InvalidArgument("no message".into()))
}

fn validate(message: &Message) -> Result<()> {
    if let Some((name, _)) = message
        .headers
        .iter()
        .find(|(n, _)| n.starts_with(reserved::PREFIX))
    {
        return Err(Error::InvalidArgument(format!(
            "header {name:?} uses the reserved prefix {:?}",
            reserved::PREFIX
        )));
    }
    if let Some(id) = &message.dedup_id {
        if id.is_empty() || id.len() > DEDUP_ID_BYTES_MAX {
            return Err(Error::InvalidArgument(format!(
                "a dedup id must have 1 to {DEDUP_ID_BYTES_MAX} bytes"
            )));
        }
    }
    Ok(())
}

fn headers_of(message: &Message) -> Vec<(&str, &[u8])> {
    let mut headers: Vec<(&str, &[u8])> = message
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    if let Some(id) = &message.dedup_id {
        headers.push((reserved::DEDUP_ID, id.as_bytes()));
    }
    headers
}

/// Loads the newest usable dedup snapshot and scans the log after it.
fn recover_dedup(
    name: &str,
    dir: &Path,
    options: &QueueOptions,
    log: &Log,
    fs: &dyn logq_log::fs::FileSystem,
) -> Result<(DedupIndex, Option<u64>)> {
    let names = fs.list(dir).map_err(|source| Error::Io {
        file: dir.to_path_buf(),
        operation: "list",
        source,
    })?;
    let mut snapshots: Vec<u64> = names
        .iter()
        .filter_map(|n| dedup::parse_file_name(n))
        .collect();
    snapshots.sort_unstable_by(|a, b| b.cmp(a));
    let mut loaded = None;
    for offset in snapshots {
        let path = dir.join(dedup::file_name(offset));
        let bytes = fs.open(&path, OpenMode::Read).and_then(|f| {
            let len = usize::try_from(f.len()?).unwrap_or(0).min(1 << 30);
            let mut bytes = vec![0u8; len];
            f.read_exact_at(&mut bytes, 0)?;
            Ok(bytes)
        });
        match bytes.map(|b| DedupIndex::decode(&b, &options.dedup)) {
            Ok(Ok((index, scan))) if scan == offset && scan <= log.next_offset() => {
                loaded = Some((index, scan));
                break;
            }
            Ok(Ok(_)) => {
                tracing::warn!(queue = name, file = %path.display(), "dedup snapshot does not match the log; rebuilding from the log")
            }
            Ok(Err((at, reason))) => {
                tracing::warn!(queue = name, file = %path.display(), at, %reason, "damaged dedup snapshot; rebuilding from the log")
            }
            Err(error) => {
                tracing::warn!(queue = name, file = %path.display(), %error, "unreadable dedup snapshot; rebuilding from the log")
            }
        }
    }
    let (mut index, scan_from, snapshot_offset) = match loaded {
        Some((index, scan)) => (index, scan, Some(scan)),
        None => (DedupIndex::new(&options.dedup), 0, None),
    };
    let now = now_ms();
    let horizon_ms = crate::clock::millis(options.dedup.max_age);
    for batch in log.batches_from(scan_from.max(log.first_offset())) {
        let batch = batch.map_err(|source| Error::Log {
            queue: name.to_owned(),
            source,
        })?;
        if now.saturating_sub(batch.header().max_timestamp_ms) > horizon_ms {
            continue;
        }
        for record in batch.records() {
            if let Some((_, id)) = record.headers().find(|(n, _)| *n == reserved::DEDUP_ID) {
                if let Ok(id) = std::str::from_utf8(id) {
                    index.insert(id, record.offset, record.timestamp_ms);
                }
            }
        }
    }
    index.retain_below(log.next_offset());
    index.expire(now);
    Ok((index, snapshot_offset))
}

impl Queue {
    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Sends one message; returns its id once it is durable (under `Always`). A message
    /// whose dedup id was seen within the horizon is not appended again: the first id is
    /// returned.
    pub fn send(&self, message: Message) -> Result<MessageId> {
        let ids = self
            .inner
            .send_records(std::slice::from_ref(&message), &[])?;
        only_id(ids)
    }

    /// Sends one message from async code: it is appended at once (sends keep the order of
    /// the calls), and the returned future resolves to its id once it is durable (under
    /// `Always`) without blocking a thread — many tasks can each wait for their own message
    /// and share one fdatasync. Any executor will do; the future is `Send + 'static`.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = logq::Store::open(dir.path(), logq::Options::default()).unwrap();
    /// let orders = store.queue("orders").unwrap();
    /// let sent = orders.send_async(logq::Message::new(b"order 1001".to_vec()));
    /// let id = futures::executor::block_on(sent).unwrap();
    /// assert_eq!(orders.peek(id).unwrap().payload, b"order 1001");
    /// ```
    pub fn send_async(
        &self,
        message: Message,
    ) -> impl std::future::Future<Output = Result<MessageId>> + Send + 'static {
        let sent = self
            .inner
            .send_records_async(std::slice::from_ref(&message));
        async move { only_id(sent.await?) }
    }

    /// Sends messages as one batch: all of them become durable together or none does.
    /// Messages whose dedup id is already known are not appended; their first ids are
    /// returned in place.
    pub fn send_batch(&self, messages: &[Message]) -> Result<Vec<MessageId>> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        self.inner.send_records(messages, &[])
    }

    /// Sends `message` for delivery after `delay`: durable when this returns, deliverable to
    /// consumers only from then (it waits in `<queue>.delayed`; restarts keep the schedule).
    pub fn send_delayed(&self, message: Message, delay: Duration) -> Result<crate::ScheduledId> {
        let deliver_at_ms = now_ms().saturating_add(crate::clock::millis(delay));
        self.send_at(message, deliver_at_ms)
    }

    /// Sends `message` for delivery at `deliver_at_ms` (ms since the Unix epoch).
    pub fn send_at(&self, message: Message, deliver_at_ms: u64) -> Result<crate::ScheduledId> {
        validate(&message)?;
        crate::schedule::send_delayed(&self.inner, message, deliver_at_ms)
    }

    /// Where delayed message `id` is: waiting, or moved into this queue under an id.
    pub fn scheduled(&self, id: crate::ScheduledId) -> Result<crate::Scheduled> {
        crate::schedule::status(&self.inner, id)
    }

    /// A consumer in group `group` (created at the earliest retained message on first use).
    pub fn consumer(&self, group: &str) -> Result<Consumer> {
        self.consumer_from(group, StartPosition::Earliest)
    }

    /// A consumer in group `group`, created at `start` if the group is new.
    pub fn consumer_from(&self, group: &str, start: StartPosition) -> Result<Consumer> {
        let inner = &self.inner;
        inner
            .groups
            .ensure_group(
                group,
                start,
                inner.log.first_offset(),
                inner.log.next_offset(),
            )
            .map_err(|e| inner.groups_error(e))?;
        Ok(Consumer::new(Arc::clone(inner), group))
    }

    /// Reads message `id` without consuming it.
    pub fn peek(&self, id: MessageId) -> Result<ReceivedMessage> {
        self.inner.read(id)
    }

    /// Reads up to `count` messages from `from` on without consuming them.
    pub fn peek_range(&self, from: MessageId, count: usize) -> Result<Vec<ReceivedMessage>> {
        let mut out = Vec::new();
        let start = from.0.max(self.inner.log.first_offset());
        for batch in self.inner.log.batches_from(start) {
            let batch = batch.map_err(|e| self.inner.log_error(e))?;
            for record in batch.records() {
                if out.len() == count {
                    return Ok(out);
                }
                out.push(ReceivedMessage::from_record(record.to_owned_record()));
            }
        }
        Ok(out)
    }

    /// The status of message `id` in `group`: pending, in flight, delayed, acknowledged
    /// (with the consumer's outcome) or dead-lettered.
    pub fn status(&self, id: MessageId, group: &str) -> Result<MessageStatus> {
        let inner = &self.inner;
        if id.0 >= inner.log.next_offset() {
            return Err(Error::NotFound {
                queue: inner.name.clone(),
                id,
            });
        }
        inner
            .groups
            .status(group, id.0)
            .map_err(|e| inner.groups_error(e))
    }

    /// Waits until `group` acknowledged or dead-lettered message `id`, and returns that
    /// status (with the outcome). Fails with [`Error::Timeout`] after `timeout`.
    pub fn wait_outcome(
        &self,
        id: MessageId,
        group: &str,
        timeout: Duration,
    ) -> Result<MessageStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.inner.notify.generation();
            let status = self.status(id, group)?;
            if matches!(
                status,
                MessageStatus::Acked { .. } | MessageStatus::DeadLettered { .. }
            ) {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                return Err(Error::Timeout);
            }
            self.inner.notify.wait(seen, deadline);
        }
    }

    /// Statistics of the queue and each of its groups.
    ///
    /// The queue's `disk_bytes` needs every segment's size: the first call after an open
    /// opens the sealed segments not read yet. [`Queue::group_stats`] reads none of them.
    pub fn stats(&self) -> Result<QueueStats> {
        let inner = &self.inner;
        let now = now_ms();
        let next = inner.log.next_offset();
        let mut groups = Vec::new();
        for group in inner.groups.group_names() {
            groups.push(self.group_view(group, now, next)?);
        }
        let (delayed_waiting, next_due_ms) = crate::schedule::summary(inner)?;
        let sends = inner.recorder.sends.lock();
        Ok(QueueStats {
            delayed_waiting,
            next_due_ms,
            queue: inner.name.clone(),
            first_id: inner.log.first_offset(),
            next_id: next,
            disk_bytes: inner
                .log
                .segments()
                .map_err(|e| inner.log_error(e))?
                .iter()
                .map(|s| s.bytes)
                .sum(),
            sent_total: sends.total(),
            send_rate_per_s: sends.rate_per_s(now),
            dropped_by_retention: *inner.recorder.dropped_by_retention.lock(),
            dedup_entries: u64::try_from(inner.send_state.lock().dedup.len()).unwrap_or(u64::MAX),
            groups,
        })
    }

    /// Statistics of consumer group `group` alone: its depth (the queue length it sees),
    /// leases, delays, dead letters and rates.
    ///
    /// ```
    /// use logq::{Message, Options, Store};
    /// let dir = tempfile::tempdir().unwrap();
    /// let orders = Store::open(dir.path(), Options::default()).unwrap().queue("orders").unwrap();
    /// orders.consumer("payments").unwrap();
    /// orders.send(Message::new("order 1001")).unwrap();
    /// assert_eq!(orders.group_stats("payments").unwrap().depth, 1);
    /// ```
    ///
    /// # Errors
    /// [`Error::Groups`] for a group that does not exist.
    pub fn group_stats(&self, group: &str) -> Result<GroupStatsView> {
        let next = self.inner.log.next_offset();
        self.group_view(group.to_owned(), now_ms(), next)
    }

    /// One group's statistics at `now` with `next` the queue's next id.
    fn group_view(&self, group: String, now: u64, next: u64) -> Result<GroupStatsView> {
        let inner = &self.inner;
        let counters = inner
            .groups
            .stats(&group, now)
            .map_err(|e| inner.groups_error(e))?;
        let min_unacked = counters.min_unacked_offset.min(next);
        let depth = next
            .saturating_sub(min_unacked)
            .saturating_sub(counters.acked_above_floor);
        let oldest = (min_unacked < next)
            .then(|| inner.log.read(min_unacked).ok())
            .flatten()
            .map(|r| now.saturating_sub(r.timestamp_ms));
        let (acked_total, ack_rate_per_s, latency) = inner.recorder.group_view(&group, now);
        let not_ready = counters.in_flight + counters.delayed + counters.dead_letter_candidates;
        Ok(GroupStatsView {
            group,
            depth,
            ready: depth.saturating_sub(not_ready),
            in_flight: counters.in_flight,
            delayed: counters.delayed,
            dead_lettered: counters.dead,
            oldest_unacked_age_ms: oldest,
            acked_total,
            ack_rate_per_s,
            latency,
        })
    }

    /// Runs retention now (it also runs by itself at most once a second as consumers work).
    pub fn enforce_retention(&self) -> Result<()> {
        self.inner.enforce_retention(true)
    }

    /// Moves every dead letter of this queue's dead-letter queue back into this queue
    /// (each once, even across crashes) and returns how many were requeued.
    pub fn requeue_dead_letters(&self) -> Result<usize> {
        crate::dead_letter::requeue_all(self)
    }

    /// The ids of the first retained and of the next message.
    pub fn id_range(&self) -> (MessageId, MessageId) {
        (
            MessageId(self.inner.log.first_offset()),
            MessageId(self.inner.log.next_offset()),
        )
    }

    /// Makes everything durable and writes the dedup snapshot and group checkpoint.
    pub fn sync(&self) -> Result<()> {
        let inner = &self.inner;
        inner.log.sync().map_err(|e| inner.log_error(e))?;
        inner.groups.sync().map_err(|e| inner.groups_error(e))?;
        Ok(())
    }

    pub(crate) fn close(&self) -> Result<()> {
        let inner = &self.inner;
        inner.snapshot_dedup()?;
        inner.groups.close().map_err(|e| inner.groups_error(e))?;
        inner.log.close().map_err(|e| inner.log_error(e))
    }
}
