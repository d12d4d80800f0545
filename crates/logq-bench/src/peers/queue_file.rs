//! The `queue-file` crate: one file, `sync_data` after every write (its default); an ack
//! removes the head, which rewrites the header with `sync_data`. One writer at a time, so
//! concurrent producers share it behind a mutex.
//!
//! Restart scenario: the harness fills the file (`add_n` of 1,000 with `sync_writes` off, then
//! `sync_all`), runs a child process (see [`crate::restart_child`]) that adds and removes with
//! `sync_writes` on, kills it, and times a fresh child until it has opened the file (reading
//! its header) and peeked at the oldest element (`peek`: nothing is removed). The fill ran at
//! about 1 GB/s here (0.05 GB), so it has no `restart_bytes_max`.

use crate::target::Target;
use crate::Result;
use std::path::PathBuf;

/// Starts the queue-file peer in `dir`; `self_exe` (the harness binary) runs as its restart
/// child.
#[cfg(feature = "queue-file")]
pub fn start(dir: PathBuf, self_exe: Option<PathBuf>) -> Result<Vec<Box<dyn Target>>> {
    Ok(vec![Box::new(imp::QueueFileTarget::new(dir, self_exe))])
}

/// Starts the queue-file peer in `dir`; `self_exe` (the harness binary) runs as its restart
/// child.
#[cfg(not(feature = "queue-file"))]
pub fn start(dir: PathBuf, self_exe: Option<PathBuf>) -> Result<Vec<Box<dyn Target>>> {
    let _ = (dir, self_exe);
    Err(crate::peers::not_built("queue-file"))
}

/// queue-file's restart child on the file in `dir`. [`Phase::Write`](crate::restart_child::Phase::Write): one thread adds,
/// another peeks and removes the head, until killed. [`Phase::Open`](crate::restart_child::Phase::Open): open, peek at the oldest
/// element, check its size, print `ready <n> queued`.
#[cfg(feature = "queue-file")]
pub fn restart_child(dir: &std::path::Path, phase: crate::restart_child::Phase) -> Result<()> {
    imp::restart_child(dir, phase)
}

#[cfg(feature = "queue-file")]
mod imp {
    use crate::restart_child::{ChildTarget, Phase, NO_EXE};
    use crate::target::{Consumer, Mode, Producer, Target};
    use crate::Result;
    use queue_file::QueueFile;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    type Shared = Arc<Mutex<Option<QueueFile>>>;

    /// The queue file in the peer's directory.
    const FILE: &str = "queue";

    /// queue-file under test.
    pub struct QueueFileTarget {
        dir: PathBuf,
        self_exe: Option<PathBuf>,
        queue: Shared,
    }

    impl QueueFileTarget {
        /// The peer in `dir`; `self_exe` runs as its restart child.
        pub fn new(dir: PathBuf, self_exe: Option<PathBuf>) -> QueueFileTarget {
            QueueFileTarget {
                dir,
                self_exe,
                queue: Arc::new(Mutex::new(None)),
            }
        }
    }

    /// Opens (or creates) the queue file in `dir`, `sync_writes` on in [`Mode::Durable`].
    fn open(dir: &Path, mode: Mode) -> Result<QueueFile> {
        let mut q = QueueFile::open(dir.join(FILE))?;
        q.set_sync_writes(mode == Mode::Durable);
        Ok(q)
    }

    /// Fills a new queue file in `dir` with about `bytes` of 256 B elements (`add_n` of 1,000,
    /// `sync_writes` off), then `sync_all`.
    fn fill(dir: &Path, bytes: u64) -> Result<()> {
        let mut q = open(dir, Mode::Buffered)?;
        let batch: Vec<Vec<u8>> = (0..1_000).map(crate::payload).collect();
        let per_batch = u64::try_from(batch.len() * crate::PAYLOAD_BYTES)?;
        for _ in 0..bytes.div_ceil(per_batch).max(1) {
            q.add_n(batch.iter())?;
        }
        q.sync_all()?;
        Ok(())
    }

    /// See [`super::restart_child`].
    pub fn restart_child(dir: &Path, phase: Phase) -> Result<()> {
        let mut q = open(dir, Mode::Durable)?;
        match phase {
            Phase::Write => {
                let shared = Arc::new(Mutex::new(q));
                let producer = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let payload = crate::payload(0);
                    while producer
                        .lock()
                        .map_err(|_| ())
                        .and_then(|mut q| q.add(&payload).map_err(|_| ()))
                        .is_ok()
                    {
                        std::thread::yield_now(); // let the consumer take the lock
                    }
                });
                crate::restart_child::ready(None)?;
                loop {
                    let consumed = {
                        let mut q = shared.lock().map_err(|_| "poisoned")?;
                        let head = q.peek()?;
                        if head.is_some() {
                            q.remove()?;
                        }
                        head.is_some()
                    };
                    if !consumed {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            }
            Phase::Open => {
                // A peek: the oldest element is read, not removed.
                let head = q.peek()?.ok_or("queue-file: empty after the restart")?;
                if head.len() != crate::PAYLOAD_BYTES {
                    return Err("queue-file: backlog element read back with the wrong size".into());
                }
                crate::restart_child::ready(Some(&format!("{} queued", q.size())))
            }
        }
    }

    fn with<T>(queue: &Shared, f: impl FnOnce(&mut QueueFile) -> Result<T>) -> Result<T> {
        let mut guard = queue.lock().map_err(|_| "poisoned")?;
        f(guard.as_mut().ok_or("queue-file used before reset")?)
    }

    impl Target for QueueFileTarget {
        fn name(&self) -> String {
            "queue-file 1.4".into()
        }

        fn durability(&self) -> String {
            "`sync_writes` on (its default): `sync_data` after every add and every remove".into()
        }

        fn buffered_mode(&self) -> Option<String> {
            Some("`set_sync_writes(false)`".into())
        }

        fn reset(&self, mode: Mode) -> Result<()> {
            let mut guard = self.queue.lock().map_err(|_| "poisoned")?;
            *guard = None;
            let path = self.dir.join(FILE);
            if path.exists() {
                std::fs::remove_file(&path)?;
            }
            *guard = Some(open(&self.dir, mode)?);
            Ok(())
        }

        fn producer(&self) -> Result<Box<dyn Producer>> {
            Ok(Box::new(QfProducer(Arc::clone(&self.queue))))
        }

        fn consumer(&self) -> Result<Box<dyn Consumer>> {
            Ok(Box::new(QfConsumer(Arc::clone(&self.queue))))
        }

        fn restart_unsupported(&self) -> Option<String> {
            self.self_exe.is_none().then(|| NO_EXE.to_owned())
        }

        fn restart_after_kill(
            &self,
            backlog_bytes: u64,
            restarts: usize,
        ) -> Result<Vec<crate::target::Restarted>> {
            *self.queue.lock().map_err(|_| "poisoned")? = None;
            crate::restart_child::fill_kill_and_reopen(
                self.self_exe.as_deref(),
                &self.name(),
                ChildTarget::QueueFile,
                &self.dir,
                backlog_bytes,
                restarts,
                || fill(&self.dir, backlog_bytes),
            )
        }

        fn in_process(&self) -> bool {
            true
        }

        fn client(&self) -> String {
            crate::peers::PeerKind::QueueFile.client().into()
        }
    }

    struct QfProducer(Shared);

    impl Producer for QfProducer {
        fn send(&mut self, payload: &[u8]) -> Result<()> {
            with(&self.0, |q| Ok(q.add(payload)?))
        }

        fn send_batch(&mut self, payloads: &[Vec<u8>]) -> Result<()> {
            with(
                &self.0,
                |q| Ok(q.add_n(payloads.iter().map(Vec::as_slice))?),
            )
        }
    }

    struct QfConsumer(Shared);

    impl Consumer for QfConsumer {
        fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Vec<u8>>> {
            let deadline = Instant::now() + timeout;
            loop {
                let got = with(&self.0, |q| {
                    let items: Vec<Vec<u8>> = q.iter().take(max).map(|b| b.to_vec()).collect();
                    if !items.is_empty() {
                        q.remove_n(items.len())?;
                    }
                    Ok(items)
                })?;
                if !got.is_empty() || Instant::now() >= deadline {
                    return Ok(got);
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }
}
