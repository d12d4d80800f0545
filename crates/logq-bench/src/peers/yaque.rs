//! The `yaque` crate: a file-backed queue that writes through a buffer and never fsyncs (its
//! receiver state is saved without fsync either, yaque#36), so it only has a buffered mode.
//!
//! Restart scenario: the harness fills the queue with its sender (batches of 1,000, then the
//! harness fsyncs the segment files, which yaque never does), runs a child process (see
//! [`crate::restart_child`]) that sends and receives (commits) on it, kills it, and times a
//! fresh child until it has run yaque's crash recovery (`yaque::recovery::recover`: removes
//! the lock files of the dead process, sets the receiver position with replay) and received
//! the oldest message (then rolled back: yaque has no peek, and nothing is consumed). A kill
//! while yaque rewrites its receiver state leaves that file empty (5 of 20 kills in a trial
//! here, with a live consumer), which `recover` cannot open; the child then removes it first,
//! as an operator would, and yaque replays from its oldest segment. The fill ran at about
//! 470 MB/s here (0.05 GB), so it has no `restart_bytes_max`.

use crate::target::Target;
use crate::Result;
use std::path::PathBuf;

/// Starts the yaque peer in `dir`; `self_exe` (the harness binary) runs as its restart child.
#[cfg(feature = "yaque")]
pub fn start(dir: PathBuf, self_exe: Option<PathBuf>) -> Result<Vec<Box<dyn Target>>> {
    Ok(vec![Box::new(imp::YaqueTarget::new(dir, self_exe))])
}

/// Starts the yaque peer in `dir`; `self_exe` (the harness binary) runs as its restart child.
#[cfg(not(feature = "yaque"))]
pub fn start(dir: PathBuf, self_exe: Option<PathBuf>) -> Result<Vec<Box<dyn Target>>> {
    let _ = (dir, self_exe);
    Err(crate::peers::not_built("yaque"))
}

/// yaque's restart child on the queue in `dir`. [`Phase::Write`](crate::restart_child::Phase::Write): one thread sends
/// (`try_send`), another receives and commits, until killed. [`Phase::Open`](crate::restart_child::Phase::Open): recover, receive
/// the oldest message, check its size, roll it back, print `ready seq <n>`.
#[cfg(feature = "yaque")]
pub fn restart_child(dir: &std::path::Path, phase: crate::restart_child::Phase) -> Result<()> {
    imp::restart_child(dir, phase)
}

#[cfg(feature = "yaque")]
mod imp {
    use crate::restart_child::{ChildTarget, Phase, NO_EXE};
    use crate::target::{Consumer, Mode, Producer, Target};
    use crate::Result;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use yaque::{Receiver, Sender, TryRecvError};

    /// yaque under test (buffered and restart scenarios only).
    pub struct YaqueTarget {
        dir: PathBuf,
        self_exe: Option<PathBuf>,
        sender: Arc<Mutex<Option<Sender>>>,
    }

    impl YaqueTarget {
        /// The peer in `dir`; `self_exe` runs as its restart child.
        pub fn new(dir: PathBuf, self_exe: Option<PathBuf>) -> YaqueTarget {
            YaqueTarget {
                dir: dir.join("queue"),
                self_exe,
                sender: Arc::new(Mutex::new(None)),
            }
        }
    }

    /// Fills a new queue in `dir` with about `bytes` of 256 B messages (`try_send_batch` of
    /// 1,000, each written and flushed to the OS), then fsyncs its files.
    fn fill(dir: &Path, bytes: u64) -> Result<()> {
        let mut sender = Sender::open(dir)?;
        let batch: Vec<Vec<u8>> = (0..1_000).map(crate::payload).collect();
        let per_batch = u64::try_from(batch.len() * crate::PAYLOAD_BYTES)?;
        for _ in 0..bytes.div_ceil(per_batch).max(1) {
            sender
                .try_send_batch(&batch)
                .map_err(|e| format!("yaque send: {e}"))?;
        }
        drop(sender); // flushed; releases the send lock
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_file() {
                std::fs::File::open(path)?.sync_all()?;
            }
        }
        Ok(())
    }

    /// See [`super::restart_child`].
    pub fn restart_child(dir: &Path, phase: Phase) -> Result<()> {
        match phase {
            Phase::Write => {
                let mut sender = Sender::open(dir)?;
                let mut receiver = Receiver::open(dir)?;
                std::thread::spawn(move || {
                    let payload = crate::payload(0);
                    while sender.try_send(&payload).is_ok() {}
                });
                crate::restart_child::ready(None)?;
                loop {
                    match receiver.try_recv() {
                        Ok(guard) => guard.commit()?,
                        Err(TryRecvError::QueueEmpty) => {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        Err(TryRecvError::Io(e)) => return Err(e.into()),
                    }
                }
            }
            Phase::Open => {
                let torn = remove_torn_recv_metadata(dir)?;
                if torn {
                    eprintln!(
                        "restart-child yaque: recv-metadata torn by the kill, removed (replay \
                         from the oldest segment)"
                    );
                }
                // The killed process left its lock files: without this, opening fails.
                yaque::recovery::recover(dir)?;
                let mut receiver = Receiver::open(dir)?;
                let guard = match receiver.try_recv() {
                    Ok(guard) => guard,
                    Err(TryRecvError::QueueEmpty) => {
                        return Err("yaque: no message after the restart".into())
                    }
                    Err(TryRecvError::Io(e)) => return Err(e.into()),
                };
                let (len, sequence) = (guard.len(), crate::sequence_of(&guard));
                // Read, not consumed: yaque has no peek, so the receive is rolled back.
                guard.rollback()?;
                if len != crate::PAYLOAD_BYTES {
                    return Err("yaque: backlog message read back with the wrong size".into());
                }
                let torn = if torn {
                    format!(
                        "{}the kill left yaque's recv-metadata empty: yaque could not reopen the \
                         queue (not even with its `recover`); the file was removed by hand, and \
                         yaque replayed messages already consumed",
                        crate::restart_child::NOTE_MARK
                    )
                } else {
                    String::new()
                };
                crate::restart_child::ready(Some(&format!("seq {}{torn}", sequence.unwrap_or(0))))
            }
        }
    }

    /// Removes the receiver state file if the kill tore it, and says whether it did. yaque
    /// saves it by truncating and rewriting its 16 bytes (every 250 receives or 350 ms), so a
    /// kill in between leaves it empty, and then yaque cannot open the queue, not even through
    /// `recovery::recover` ("failed to fill whole buffer"). Without the file, `recover` starts
    /// the receiver at the oldest segment (replaying what was consumed from it).
    fn remove_torn_recv_metadata(dir: &Path) -> Result<bool> {
        let path = dir.join("recv-metadata");
        match std::fs::metadata(&path) {
            Ok(m) if m.len() < 16 => {
                std::fs::remove_file(&path)?;
                Ok(true)
            }
            Ok(_) => Ok(false),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    impl Target for YaqueTarget {
        fn name(&self) -> String {
            "yaque 0.6".into()
        }

        fn durability(&self) -> String {
            "none available: sends are flushed to the OS, never fsynced; receiver state saved without fsync".into()
        }

        fn durable_unsupported(&self) -> Option<String> {
            Some("no durable mode (yaque never fsyncs)".into())
        }

        fn buffered_mode(&self) -> Option<String> {
            Some("its only mode: `try_send` (write + flush to the OS)".into())
        }

        fn reset(&self, _mode: Mode) -> Result<()> {
            let mut guard = self.sender.lock().map_err(|_| "poisoned")?;
            *guard = None;
            if self.dir.exists() {
                std::fs::remove_dir_all(&self.dir)?;
            }
            *guard = Some(Sender::open(&self.dir)?);
            Ok(())
        }

        fn producer(&self) -> Result<Box<dyn Producer>> {
            Ok(Box::new(YaqueProducer(Arc::clone(&self.sender))))
        }

        fn consumer(&self) -> Result<Box<dyn Consumer>> {
            Ok(Box::new(YaqueConsumer(Receiver::open(&self.dir)?)))
        }

        fn restart_unsupported(&self) -> Option<String> {
            self.self_exe.is_none().then(|| NO_EXE.to_owned())
        }

        fn restart_after_kill(
            &self,
            backlog_bytes: u64,
            restarts: usize,
        ) -> Result<Vec<crate::target::Restarted>> {
            *self.sender.lock().map_err(|_| "poisoned")? = None; // releases the send lock
            crate::restart_child::fill_kill_and_reopen(
                self.self_exe.as_deref(),
                &self.name(),
                ChildTarget::Yaque,
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
            crate::peers::PeerKind::Yaque.client().into()
        }
    }

    struct YaqueProducer(Arc<Mutex<Option<Sender>>>);

    impl Producer for YaqueProducer {
        fn send(&mut self, payload: &[u8]) -> Result<()> {
            let mut guard = self.0.lock().map_err(|_| "poisoned")?;
            let sender = guard.as_mut().ok_or("yaque used before reset")?;
            sender
                .try_send(payload)
                .map_err(|e| format!("yaque send: {e:?}"))?;
            Ok(())
        }
    }

    struct YaqueConsumer(Receiver);

    impl Consumer for YaqueConsumer {
        fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Vec<u8>>> {
            let _ = timeout;
            match self.0.try_recv_batch_up_to(max) {
                Ok(guard) => {
                    let items = guard.try_into_inner()?;
                    Ok(items)
                }
                Err(_) => Ok(Vec::new()),
            }
        }
    }
}
