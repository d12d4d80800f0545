//! A read-only view of a `logq::Store` data directory: its queues, each queue's message log
//! and consumer-group store, opened with `Log::open_read_only` and
//! `OffsetStore::open_read_only` — no lock taken, no byte changed, so it works while a
//! service has the store open.
//!
//! Layout read (see `logq::Store`): `<dir>/queues/<name>/log/` (messages; id = offset),
//! `<dir>/queues/<name>/groups/` (journal and checkpoints), `<dir>/queues/<name>/dedup-*.snap`.
//!
//! The view is a snapshot taken at open: the message log shows the consistent prefix that was
//! complete then, and the group store the journal as far as it was written then. Figures that
//! only a running process records (send and ack rates, latency histograms) are not on disk.

use crate::error::{name_list, CliError, Result};
use crate::files::list_dir;
use logq_log::{Log, LogOptions};
use logq_offsets::{GroupStats, MessageStatus, OffsetOptions, OffsetStore};
use std::path::{Path, PathBuf};

/// The directory of queue directories inside a store.
pub const QUEUES_DIR: &str = "queues";
/// The message log inside a queue directory.
pub const LOG_DIR: &str = "log";
/// The consumer-group store inside a queue directory.
pub const GROUPS_DIR: &str = "groups";
/// The group journal inside the groups directory.
pub const JOURNAL_DIR: &str = "journal";

/// A store directory, checked to look like one.
#[derive(Clone, Debug)]
pub struct StoreView {
    dir: PathBuf,
    queues: Vec<String>,
}

impl StoreView {
    /// Opens `dir`: fails when it does not exist, is not a directory, or has no `queues/`.
    pub fn open(dir: &Path) -> Result<StoreView> {
        list_dir(dir)?;
        let queues_dir = dir.join(QUEUES_DIR);
        if !queues_dir.is_dir() {
            return Err(CliError::NotAStore {
                path: dir.to_path_buf(),
            });
        }
        let queues = list_dir(&queues_dir)?
            .into_iter()
            .filter(|e| e.is_dir && e.path.join(LOG_DIR).is_dir())
            .map(|e| e.name)
            .collect();
        Ok(StoreView {
            dir: dir.to_path_buf(),
            queues,
        })
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Names of the queues, sorted.
    pub fn queue_names(&self) -> &[String] {
        &self.queues
    }

    /// The directory of queue `name` (which may not exist).
    pub fn queue_dir(&self, name: &str) -> PathBuf {
        self.dir.join(QUEUES_DIR).join(name)
    }

    /// Fails with [`CliError::NoSuchQueue`] unless the store has queue `name`.
    pub fn check_queue(&self, name: &str) -> Result<()> {
        if self.queues.iter().any(|q| q == name) {
            Ok(())
        } else {
            Err(CliError::NoSuchQueue {
                path: self.dir.clone(),
                name: name.to_owned(),
                known: name_list(&self.queues),
            })
        }
    }

    /// Opens queue `name` read-only.
    pub fn open_queue(&self, name: &str) -> Result<QueueView> {
        self.check_queue(name)?;
        QueueView::open(name, &self.queue_dir(name))
    }
}

/// One queue, read-only: its message log and (if it has one) its consumer-group store.
#[derive(Debug)]
pub struct QueueView {
    name: String,
    dir: PathBuf,
    log: Log,
    groups: Option<OffsetStore>,
}

impl QueueView {
    /// Opens the queue in `dir` read-only.
    pub fn open(name: &str, dir: &Path) -> Result<QueueView> {
        let log = Log::open_read_only(dir.join(LOG_DIR), LogOptions::default())?;
        let groups_dir = dir.join(GROUPS_DIR);
        let groups = if groups_dir.join(JOURNAL_DIR).is_dir() {
            Some(OffsetStore::open_read_only(
                &groups_dir,
                OffsetOptions::default(),
            )?)
        } else {
            None
        };
        Ok(QueueView {
            name: name.to_owned(),
            dir: dir.to_path_buf(),
            log,
            groups,
        })
    }

    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The queue's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The message log.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The first retained message id.
    pub fn first_id(&self) -> u64 {
        self.log.first_offset()
    }

    /// The id the next message will get (as of the open).
    pub fn next_id(&self) -> u64 {
        self.log.next_offset()
    }

    /// Group names, in the store's order (creation order).
    pub fn group_names(&self) -> Vec<String> {
        self.groups
            .as_ref()
            .map(OffsetStore::group_names)
            .unwrap_or_default()
    }

    /// Fails with [`CliError::NoSuchGroup`] unless the queue has group `group`.
    pub fn check_group(&self, group: &str) -> Result<()> {
        let names = self.group_names();
        if names.iter().any(|g| g == group) {
            Ok(())
        } else {
            Err(CliError::NoSuchGroup {
                queue: self.name.clone(),
                group: group.to_owned(),
                known: name_list(&names),
            })
        }
    }

    /// The recorded counters of `group` at `now_ms`.
    pub fn group_stats(&self, group: &str, now_ms: u64) -> Result<GroupStats> {
        self.check_group(group)?;
        let store = self.groups_store()?;
        Ok(store.stats(group, now_ms)?)
    }

    /// The status of message `id` in `group`, with its outcome bytes.
    pub fn status(&self, group: &str, id: u64) -> Result<MessageStatus> {
        self.check_group(group)?;
        Ok(self.groups_store()?.status(group, id)?)
    }

    fn groups_store(&self) -> Result<&OffsetStore> {
        self.groups.as_ref().ok_or_else(|| CliError::NoSuchGroup {
            queue: self.name.clone(),
            group: String::new(),
            known: "none".into(),
        })
    }

    /// Bytes of the message log's segments (header and batches); a sealed segment that
    /// cannot be opened is its typed error.
    pub fn log_bytes(&self) -> Result<u64> {
        Ok(self.log.segments()?.iter().map(|s| s.bytes).sum())
    }

    /// Bytes of every file in the queue's directory tree (log, indexes, journal,
    /// checkpoints, dedup snapshots; preallocated space included).
    pub fn disk_bytes(&self) -> u64 {
        tree_bytes(&self.dir)
    }

    /// The timestamp of message `id`, if it is retained.
    pub fn timestamp_ms(&self, id: u64) -> Option<u64> {
        self.log.read(id).ok().map(|r| r.timestamp_ms)
    }
}

/// The total size of the regular files below `dir` (unreadable entries count as 0).
pub fn tree_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(entry.path()),
                Ok(t) if t.is_file() => total += entry.metadata().map_or(0, |m| m.len()),
                _ => {}
            }
        }
    }
    total
}

/// Milliseconds since the Unix epoch now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The message-log directory of `queue` in the store `dir` (checked to exist).
pub fn queue_log_dir(dir: &Path, queue: &str) -> Result<PathBuf> {
    let store = StoreView::open(dir)?;
    store.check_queue(queue)?;
    Ok(store.queue_dir(queue).join(LOG_DIR))
}
