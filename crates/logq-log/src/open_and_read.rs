//! [`Log::open_and_read`]: opening a log and reading what it recovered while its recovered
//! tail is made durable.
//!
//! Invariants:
//! - the log is handed to the caller only after the tail's fdatasync and the directory's
//!   fsync succeeded; if either fails, the open fails with that error (the directory is
//!   marked poisoned, as after any failed open) and whatever `read` computed is dropped;
//! - `read` runs before the tail is durable, so nothing it observes may be promised durable
//!   to anyone outside the open: a group journal replaying its events into memory is the use;
//! - with a file system that numbers its operations (the simulated one), under
//!   `Durability::Interval` (whose flusher thread starts at open), or when no thread can be
//!   started, the open completes first and `read` runs after it, as `Log::open` then `read`.

use crate::error::Error;
use crate::log::Log;
use crate::options::Durability;
use std::path::Path;
use std::sync::Arc;

impl Log {
    /// Opens the log in `dir` for writing, as [`Log::open`], and runs `read` on it while the
    /// recovered tail is fdatasynced (with its directory) on another thread; returns the log
    /// and `read`'s value once both are done. A consumer-group journal replays its events
    /// this way, so that its replay and its fdatasync overlap.
    ///
    /// `read` sees the recovered records before they are made durable: it must only read,
    /// and must not count anything as durable. An error from the fdatasync wins over one from
    /// `read` (the open then fails as [`Log::open`] would); otherwise `read`'s error is
    /// returned.
    ///
    /// ```
    /// use logq_log::{Log, LogOptions, Record};
    /// let dir = tempfile::tempdir().unwrap();
    /// let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    /// log.append(&[Record::new(b"order 1001"), Record::new(b"order 1002")]).unwrap();
    /// drop(log);
    /// let (log, count) = Log::open_and_read(dir.path(), LogOptions::default(), |log| {
    ///     Ok::<_, logq_log::Error>(log.batches_from(0).count())
    /// })
    /// .unwrap();
    /// assert_eq!((count, log.next_offset()), (1, 2));
    /// ```
    pub fn open_and_read<T, E>(
        dir: impl AsRef<Path>,
        options: crate::LogOptions,
        read: impl FnOnce(&Log) -> std::result::Result<T, E>,
    ) -> std::result::Result<(Log, T), E>
    where
        E: From<Error>,
    {
        let dir = dir.as_ref();
        let fs = Arc::clone(&options.file_system);
        let overlap = fs.allows_concurrent_recovery()
            && !matches!(options.durability, Durability::Interval(_));
        let (log, tail) = Log::open_marked(dir, options, true, overlap)?;
        let Some(tail) = tail else {
            let value = read(&log)?;
            return Ok((log, value));
        };
        let mut read = Some(read);
        let (synced, value) = std::thread::scope(|scope| {
            let spawned = std::thread::Builder::new()
                .name("logq-open-sync".into())
                .spawn_scoped(scope, || Log::make_tail_durable(fs.as_ref(), dir, &tail));
            match spawned {
                Ok(handle) => {
                    let value = read.take().map(|read| read(&log));
                    let synced = handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    (synced, value)
                }
                // No thread: the open finishes first; `read` runs below if it succeeded.
                Err(_) => (Log::make_tail_durable(fs.as_ref(), dir, &tail), None),
            }
        });
        if let Err(error) = synced {
            if matches!(error, Error::Io { .. }) {
                fs.mark_poisoned(dir, true);
            }
            log.poison_commit(&error);
            return Err(error.into());
        }
        let value = match (value, read) {
            (Some(value), _) => value?,
            (None, Some(read)) => read(&log)?,
            // Unreachable: `read` is taken exactly when the thread started.
            (None, None) => return Err(Error::Closed.into()),
        };
        Ok((log, value))
    }
}
