//! What a queue under test offers the scenarios.
//!
//! A [`Target`] is one queue (logq, or a peer) already started. Scenarios ask it for
//! [`Producer`]s (one per thread: network clients hold one connection each) and
//! [`Consumer`]s, after a [`Target::reset`] that empties the queue and picks the mode.

use crate::Result;
use std::time::Duration;

/// Whether sends wait for the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The strongest durability the target offers: a send returns after fsync.
    Durable,
    /// The target's non-durable mode: a send returns once the target has accepted it.
    Buffered,
}

/// The outcome of one restart after `kill -9`.
#[derive(Clone, Debug, PartialEq)]
pub struct Restarted {
    /// From starting the fresh process until it had the next message.
    pub elapsed: Duration,
    /// Something the restart needed or found that the time alone does not say (shown in
    /// the table).
    pub note: Option<String>,
}

impl From<Duration> for Restarted {
    fn from(elapsed: Duration) -> Self {
        Restarted {
            elapsed,
            note: None,
        }
    }
}

/// One queue under test.
pub trait Target: Send + Sync {
    /// The row label in the tables, e.g. `redis 7.0.15 streams`.
    fn name(&self) -> String;
    /// How it is configured for durability, for the report.
    fn durability(&self) -> String;
    /// Why the durable scenarios do not apply (`None` when they do).
    fn durable_unsupported(&self) -> Option<String> {
        None
    }
    /// The buffered mode, described for the report, or `None` when the target has none.
    fn buffered_mode(&self) -> Option<String>;
    /// Empties the queue and switches to `mode` for the producers and consumers made next.
    fn reset(&self, mode: Mode) -> Result<()>;
    /// A new producer (its own connection, for network peers).
    fn producer(&self) -> Result<Box<dyn Producer>>;
    /// A new consumer of the queue.
    fn consumer(&self) -> Result<Box<dyn Consumer>>;
    /// Why the restart scenario does not apply (`None` when it does).
    fn restart_unsupported(&self) -> Option<String> {
        Some("kill -9 and restart not implemented for this target in the harness".into())
    }
    /// Whether the queue runs inside the harness's process (logq, SQLite, yaque,
    /// queue-file) rather than as a server. In-process targets fill a backlog at hundreds of
    /// MB/s, so the restart scenario runs them at every size; servers are capped by
    /// `--peer-restart-gb-max`.
    fn in_process(&self) -> bool {
        false
    }
    /// The largest backlog the restart scenario fills for this target (`None`: every size
    /// asked for). Filling is the slow part for peers with a low ingest rate.
    fn restart_bytes_max(&self) -> Option<u64> {
        None
    }
    /// Fills about `backlog_bytes`, then measures the restart time after `kill -9`:
    /// `restarts` times on that one fill for in-process targets (each a fresh writing child
    /// killed, then a fresh process timed), once for servers, whose restarts take from
    /// milliseconds to seconds, where sub-millisecond noise changes no comparison. `Err` with
    /// a reason when the target cannot be restarted by this harness.
    fn restart_after_kill(&self, backlog_bytes: u64, restarts: usize) -> Result<Vec<Restarted>> {
        let _ = (backlog_bytes, restarts);
        Err("restart after kill -9 is not implemented for this target".into())
    }
    /// A short note on the client, shown once in the report.
    fn client(&self) -> String;
    /// Scenario (2) once more with `producers` async tasks on one thread instead of
    /// `producers` threads, for targets with an async send that waits for durability without
    /// blocking a thread; returns msgs/s. `None`: the target has none.
    fn async_producers(&self, producers: usize, duration: Duration) -> Option<Result<f64>> {
        let _ = (producers, duration);
        None
    }
    /// A consumer for scenario (3) once more, for targets whose acks can be confirmed
    /// durable asynchronously: its `poll` returns messages whose acks are started, not yet
    /// durable, and [`Consumer::finish`] waits until every one is. `None`: the target has
    /// none.
    fn pipelined_ack_consumer(&self) -> Option<Result<Box<dyn Consumer>>> {
        None
    }
}

/// Sends messages into a [`Target`].
pub trait Producer: Send {
    /// Sends one message; returns when it is durable (in [`Mode::Durable`]) or accepted.
    fn send(&mut self, payload: &[u8]) -> Result<()>;
    /// Sends many messages at once (to fill a backlog); durable as one unit at least.
    fn send_batch(&mut self, payloads: &[Vec<u8>]) -> Result<()> {
        for p in payloads {
            self.send(p)?;
        }
        Ok(())
    }
}

/// Receives messages from a [`Target`] and acknowledges them.
pub trait Consumer: Send {
    /// Receives up to `max` messages, waiting at most `timeout` for the first, and
    /// acknowledges all of them durably (one acknowledgement for the group) before
    /// returning them. An empty vector means nothing arrived in time.
    fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Vec<u8>>>;
    /// Waits until every acknowledgement this consumer started is durable (only a
    /// [`Target::pipelined_ack_consumer`] has any still pending after `poll`).
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}
