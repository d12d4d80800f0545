//! The `yaque` crate: a file-backed queue that writes through a buffer and never fsyncs (its
//! receiver state is saved without fsync either, yaque#36), so it only has a buffered mode.

use crate::target::Target;
use crate::Result;
use std::path::PathBuf;

/// Starts the yaque peer in `dir`.
#[cfg(feature = "yaque")]
pub fn start(dir: PathBuf) -> Result<Vec<Box<dyn Target>>> {
    Ok(vec![Box::new(imp::YaqueTarget::new(dir))])
}

/// Starts the yaque peer in `dir`.
#[cfg(not(feature = "yaque"))]
pub fn start(dir: PathBuf) -> Result<Vec<Box<dyn Target>>> {
    let _ = dir;
    Err(crate::peers::not_built("yaque"))
}

#[cfg(feature = "yaque")]
mod imp {
    use crate::target::{Consumer, Mode, Producer, Target};
    use crate::Result;
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use yaque::{Receiver, Sender};

    /// yaque under test (buffered scenario only).
    pub struct YaqueTarget {
        dir: PathBuf,
        sender: Arc<Mutex<Option<Sender>>>,
    }

    impl YaqueTarget {
        pub fn new(dir: PathBuf) -> YaqueTarget {
            YaqueTarget {
                dir: dir.join("queue"),
                sender: Arc::new(Mutex::new(None)),
            }
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
