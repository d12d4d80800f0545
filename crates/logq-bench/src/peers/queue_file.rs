//! The `queue-file` crate: one file, `sync_data` after every write (its default); an ack
//! removes the head, which rewrites the header with `sync_data`. One writer at a time, so
//! concurrent producers share it behind a mutex.

use crate::target::Target;
use crate::Result;
use std::path::PathBuf;

/// Starts the queue-file peer in `dir`.
#[cfg(feature = "queue-file")]
pub fn start(dir: PathBuf) -> Result<Vec<Box<dyn Target>>> {
    Ok(vec![Box::new(imp::QueueFileTarget::new(dir))])
}

/// Starts the queue-file peer in `dir`.
#[cfg(not(feature = "queue-file"))]
pub fn start(dir: PathBuf) -> Result<Vec<Box<dyn Target>>> {
    let _ = dir;
    Err(crate::peers::not_built("queue-file"))
}

#[cfg(feature = "queue-file")]
mod imp {
    use crate::target::{Consumer, Mode, Producer, Target};
    use crate::Result;
    use queue_file::QueueFile;
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    type Shared = Arc<Mutex<Option<QueueFile>>>;

    /// queue-file under test.
    pub struct QueueFileTarget {
        path: PathBuf,
        queue: Shared,
    }

    impl QueueFileTarget {
        pub fn new(dir: PathBuf) -> QueueFileTarget {
            QueueFileTarget {
                path: dir.join("queue"),
                queue: Arc::new(Mutex::new(None)),
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
            if self.path.exists() {
                std::fs::remove_file(&self.path)?;
            }
            let mut q = QueueFile::open(&self.path)?;
            q.set_sync_writes(mode == Mode::Durable);
            *guard = Some(q);
            Ok(())
        }

        fn producer(&self) -> Result<Box<dyn Producer>> {
            Ok(Box::new(QfProducer(Arc::clone(&self.queue))))
        }

        fn consumer(&self) -> Result<Box<dyn Consumer>> {
            Ok(Box::new(QfConsumer(Arc::clone(&self.queue))))
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
