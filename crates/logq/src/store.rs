//! [`Store`]: a data directory holding named queues.
//!
//! Layout: `<dir>/LOCK` (held while open), `<dir>/queues/<name>/` per queue with `log/` (the
//! messages), `groups/` (consumer groups: journal and checkpoints) and `dedup-*.snap`.

use crate::error::{Error, Result};
use crate::options::{Options, QueueOptions};
use crate::queue::{check_name, Queue, QueueInner};
use crate::typed::TypedQueue;
use logq_log::fs::{DirLock, FileSystem, RealFs};
use logq_log::LogOptions;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A logq data directory: named queues, opened and recovered together. Cheap to clone,
/// `Send + Sync`; one process at a time may open a directory.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let store = logq::Store::open(dir.path(), logq::Options::default()).unwrap();
/// let orders = store.queue("orders").unwrap();
/// orders.send(logq::Message::new(b"order".to_vec())).unwrap();
/// store.close().unwrap();
/// let store = logq::Store::open(dir.path(), logq::Options::default()).unwrap();
/// assert_eq!(store.queue_names(), vec!["orders".to_string()]);
/// ```
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<StoreInner>,
}

pub(crate) struct StoreInner {
    pub dir: PathBuf,
    pub options: Options,
    pub log_options: LogOptions,
    pub queues: Mutex<BTreeMap<String, Queue>>,
    /// Woken by every change in any queue of the store.
    pub notify: Arc<crate::notify::Notify>,
    lock: Mutex<Option<Box<dyn DirLock>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.dir)
            .finish()
    }
}

impl Store {
    /// Opens (creating) the data directory `dir` and recovers every queue in it.
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<Store> {
        Self::open_with_file_system(dir, options, Arc::new(RealFs))
    }

    /// Like [`Store::open`] on another file system (the simulated one in crash tests).
    pub fn open_with_file_system(
        dir: impl AsRef<Path>,
        options: Options,
        file_system: Arc<dyn FileSystem>,
    ) -> Result<Store> {
        let dir = dir.as_ref();
        let io = |file: &Path, operation, source| Error::Io {
            file: file.to_path_buf(),
            operation,
            source,
        };
        let queues_dir = dir.join("queues");
        logq_log::fs::create_dir_durable(file_system.as_ref(), &queues_dir)
            .map_err(|e| io(&queues_dir, "create directory", e))?;
        let lock = logq_log::fs::lock_dir_with_grace(file_system.as_ref(), dir)
            .map_err(|e| io(dir, "lock", e))?
            .ok_or_else(|| Error::Locked {
                dir: dir.to_path_buf(),
            })?;
        let names = list_queue_dirs(&queues_dir)?;
        let store = Store {
            inner: Arc::new(StoreInner {
                dir: dir.to_path_buf(),
                options,
                log_options: LogOptions::default().file_system(file_system),
                queues: Mutex::new(BTreeMap::new()),
                notify: Arc::default(),
                lock: Mutex::new(Some(lock)),
            }),
        };
        // Existing queues are recovered at open, side by side (see `open_queues`).
        let concurrent = store
            .inner
            .log_options
            .file_system
            .allows_concurrent_recovery();
        let opened = crate::open_queues::open_all(&names, concurrent, |name| {
            store.open_queue(name, store.inner.options.queue.clone())
        })?;
        store
            .inner
            .queues
            .lock()
            .extend(names.into_iter().zip(opened));
        Ok(store)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Queue `name`, created on first use with the store's default queue options.
    pub fn queue(&self, name: &str) -> Result<Queue> {
        self.queue_with(name, self.inner.options.queue.clone())
    }

    /// Queue `name`, created on first use with `options` (an open queue keeps the options
    /// it was opened with).
    pub fn queue_with(&self, name: &str, options: QueueOptions) -> Result<Queue> {
        let mut queues = self.inner.queues.lock();
        if let Some(queue) = queues.get(name) {
            return Ok(queue.clone());
        }
        let queue = self.open_queue(name, options)?;
        queues.insert(name.to_owned(), queue.clone());
        Ok(queue)
    }

    /// Opens (recovering, or creating) queue `name`; the caller keeps it in `queues`.
    fn open_queue(&self, name: &str, options: QueueOptions) -> Result<Queue> {
        check_name(name)?;
        let dir = self.inner.dir.join("queues").join(name);
        let inner = QueueInner::open(
            name,
            &dir,
            options,
            &self.inner.log_options,
            Arc::downgrade(&self.inner),
            Arc::clone(&self.inner.notify),
        )?;
        Ok(Queue {
            inner: Arc::new(inner),
        })
    }

    /// A queue of `T` values, encoded with postcard.
    pub fn typed_queue<T>(&self, name: &str) -> Result<TypedQueue<T>>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        Ok(TypedQueue::new(self.queue(name)?))
    }

    /// Priority queue `name` with `levels` levels (queues `<name>.p0` … `<name>.p<levels-1>`,
    /// higher number = higher priority), created on first use.
    pub fn priority_queue(
        &self,
        name: &str,
        levels: u8,
        policy: crate::PriorityPolicy,
    ) -> Result<crate::PriorityQueue> {
        if levels == 0 || levels > crate::priority::PRIORITY_LEVELS_MAX {
            return Err(Error::InvalidArgument(format!(
                "a priority queue has 1 to {} levels, not {levels}",
                crate::priority::PRIORITY_LEVELS_MAX
            )));
        }
        check_name(name)?;
        let queues = (0..levels)
            .map(|l| self.queue(&format!("{name}.p{l}")))
            .collect::<Result<Vec<_>>>()?;
        crate::PriorityQueue::new(name, queues, policy, Arc::clone(&self.inner.notify))
    }

    /// Names of the open queues.
    pub fn queue_names(&self) -> Vec<String> {
        self.inner.queues.lock().keys().cloned().collect()
    }

    /// Writes dedup snapshots and group checkpoints, syncs, closes every queue and releases
    /// the directory: handles still held afterwards fail with closed-log errors.
    pub fn close(&self) -> Result<()> {
        let queues: Vec<Queue> = std::mem::take(&mut *self.inner.queues.lock())
            .into_values()
            .collect();
        for queue in queues {
            queue.close()?;
        }
        self.inner.lock.lock().take();
        Ok(())
    }
}

fn list_queue_dirs(queues_dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(queues_dir);
    let entries = match entries {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::Io {
                file: queues_dir.to_path_buf(),
                operation: "list",
                source,
            })
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            file: queues_dir.to_path_buf(),
            operation: "list",
            source,
        })?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            if let Ok(name) = entry.file_name().into_string() {
                if check_name(&name).is_ok() {
                    names.push(name);
                }
            }
        }
    }
    names.sort();
    Ok(names)
}
