//! logq as a [`Target`], through the queue API users embed (`logq::Store`).
//!
//! Producers `send` under [`Durability::Always`] (concurrent senders share one fdatasync).
//! The consumer is a member of one consumer group: it receives with leases and acknowledges
//! the messages of each poll with one durable batch ack (`Consumer::ack_all`). The restart
//! scenario fills a store, kills (SIGKILL) a child process that sends and acks on it, and
//! measures a fresh process until it has opened and recovered the store (message log,
//! consumer-group journal and checkpoint, dedup snapshot) and received the next message (the
//! child processes are in [`crate::restart_child`]; logq's body is [`restart_child`]).

use crate::restart_child::{ChildTarget, Phase, NO_EXE};
use crate::target::{Consumer, Mode, Producer, Target};
use crate::Result;
use logq_log::Durability;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The label of logq rows.
pub const LOGQ_NAME: &str = "logq";

/// logq under test: a data log and an ack journal in a fresh directory per run.
#[derive(Debug)]
pub struct LogqTarget {
    root: PathBuf,
    self_exe: Option<PathBuf>,
    state: Mutex<Option<(logq::Store, logq::Queue)>>,
}

impl LogqTarget {
    /// A target keeping its data under `root`; `self_exe` is this harness's binary, run as
    /// the child killed in the restart scenario.
    pub fn new(root: PathBuf, self_exe: Option<PathBuf>) -> LogqTarget {
        LogqTarget {
            root,
            self_exe,
            state: Mutex::new(None),
        }
    }

    fn queue(&self) -> Result<(logq::Store, logq::Queue)> {
        self.state
            .lock()
            .map_err(|_| "logq target lock poisoned")?
            .clone()
            .ok_or_else(|| "logq target used before reset".into())
    }
}

impl Target for LogqTarget {
    fn name(&self) -> String {
        LOGQ_NAME.to_owned()
    }

    fn durability(&self) -> String {
        "`Durability::Always`: send returns after fdatasync, concurrent sends share one \
         (group commit); acks journalled and fdatasynced before they return (a poll's acks \
         share one fdatasync, `Consumer::ack_all`). Rows marked \"acks pipelined\": \
         `Delivery::ack_async`, the consumer takes its next message while earlier acks are \
         fdatasynced (shared), and every ack is awaited durable before the run ends"
            .to_owned()
    }

    fn buffered_mode(&self) -> Option<String> {
        Some(
            "`Durability::Never` with a 64 KiB in-process write buffer (one `write` per 64 KiB, \
             no fdatasync; a process crash can lose the buffer, as with Redis without fsync)"
                .to_owned(),
        )
    }

    fn reset(&self, mode: Mode) -> Result<()> {
        let mut state = self.state.lock().map_err(|_| "logq target lock poisoned")?;
        *state = None; // closes the previous logs (the last clones drop with it)
        if self.root.exists() {
            std::fs::remove_dir_all(&self.root)?;
        }
        std::fs::create_dir_all(&self.root)?;
        let durability = match mode {
            Mode::Durable => Durability::Always,
            Mode::Buffered => Durability::Never,
        };
        let write_buffer_bytes = match mode {
            Mode::Durable => 0,
            Mode::Buffered => 64 * 1024,
        };
        let options = logq::Options {
            queue: logq::QueueOptions::default()
                .durability(durability)
                .write_buffer_bytes(write_buffer_bytes),
        };
        let store = logq::Store::open(self.root.join("store"), options)?;
        let queue = store.queue("bench")?;
        *state = Some((store, queue));
        Ok(())
    }

    fn producer(&self) -> Result<Box<dyn Producer>> {
        let (_, queue) = self.queue()?;
        Ok(Box::new(LogqProducer { queue }))
    }

    fn consumer(&self) -> Result<Box<dyn Consumer>> {
        let (_, queue) = self.queue()?;
        let consumer = queue.consumer("bench")?;
        Ok(Box::new(LogqConsumer { consumer }))
    }

    fn restart_unsupported(&self) -> Option<String> {
        self.self_exe.is_none().then(|| NO_EXE.to_owned())
    }

    fn restart_after_kill(
        &self,
        backlog_bytes: u64,
        restarts: usize,
    ) -> Result<Vec<crate::target::Restarted>> {
        let exe = self.self_exe.as_ref().ok_or(NO_EXE)?;
        *self.state.lock().map_err(|_| "logq target lock poisoned")? = None;
        if self.root.exists() {
            std::fs::remove_dir_all(&self.root)?;
        }
        let dir = self.root.join("restart");
        fill_backlog(&dir, backlog_bytes)?;
        let restarted = (0..restarts.max(1))
            .map(|_| crate::restart_child::kill_and_reopen(exe, ChildTarget::Logq, &dir))
            .collect::<Result<Vec<_>>>()?;
        std::fs::remove_dir_all(&self.root)?;
        Ok(restarted)
    }

    fn in_process(&self) -> bool {
        true
    }

    fn client(&self) -> String {
        "in process (`logq::Store`)".to_owned()
    }

    fn async_producers(&self, producers: usize, duration: Duration) -> Option<Result<f64>> {
        Some(self.run_async_producers(producers, duration))
    }

    fn pipelined_ack_consumer(&self) -> Option<Result<Box<dyn Consumer>>> {
        Some(self.queue().and_then(|(_, queue)| {
            let consumer = queue.consumer("bench")?;
            Ok(Box::new(PipelinedConsumer {
                consumer,
                pending: futures::stream::FuturesUnordered::new(),
            }) as Box<dyn Consumer>)
        }))
    }
}

impl LogqTarget {
    /// `producers` tasks on this thread, each sending with `Queue::send_async` and awaiting
    /// its own durability before its next send, for `duration`; returns msgs/s.
    fn run_async_producers(&self, producers: usize, duration: Duration) -> Result<f64> {
        self.reset(Mode::Durable)?;
        let (_store, queue) = self.queue()?;
        let stop = AtomicBool::new(false);
        let sent = AtomicU64::new(0);
        let start = Instant::now();
        let outcomes: Vec<std::result::Result<(), logq::Error>> = std::thread::scope(|scope| {
            scope.spawn(|| {
                std::thread::sleep(duration);
                stop.store(true, Ordering::Relaxed);
            });
            futures::executor::block_on(futures::future::join_all((0..producers).map(|_| {
                let (queue, stop, sent) = (&queue, &stop, &sent);
                async move {
                    while !stop.load(Ordering::Relaxed) {
                        let n = sent.fetch_add(1, Ordering::Relaxed);
                        queue
                            .send_async(logq::Message::new(crate::payload(n)))
                            .await?;
                    }
                    Ok(())
                }
            })))
        });
        let elapsed = start.elapsed();
        for outcome in outcomes {
            outcome?;
        }
        // Each task counted the send it was in when stop was set: it completed it.
        Ok(crate::stats::rate(sent.load(Ordering::Relaxed), elapsed))
    }
}

/// Fills a store at `dir` with about `bytes` of 256 B messages in queue `bench` (batches of
/// 1,000, `Durability::Never`, then one sync).
pub fn fill_backlog(dir: &Path, bytes: u64) -> Result<()> {
    let options = logq::Options {
        queue: logq::QueueOptions::default().durability(Durability::Never),
    };
    let store = logq::Store::open(dir, options)?;
    let queue = store.queue("bench")?;
    let batch_len: u64 = 1_000;
    let record_bytes = u64::try_from(crate::PAYLOAD_BYTES)?;
    let batches = bytes.div_ceil(record_bytes * batch_len).max(1);
    let messages: Vec<logq::Message> = (0..batch_len)
        .map(|i| logq::Message::new(crate::payload(i)))
        .collect();
    for _ in 0..batches {
        queue.send_batch(&messages)?;
    }
    queue.sync()?;
    store.close()?;
    Ok(())
}

/// logq's restart child (`logq-bench restart-child --target logq`, see
/// [`crate::restart_child`]).
///
/// [`Phase::Write`]: open the store (`Durability::Always`, the default), print `ready`, send
/// durably on one thread and receive and ack on another until killed. [`Phase::Open`]: open
/// the store (recovering it), receive the next unacknowledged message, check its size, abandon
/// it (its lease is released, it stays queued), print `ready <depth>`, close the store (after
/// the timing: a checkpoint, as SQLite's child checkpoints its WAL when its connection
/// closes, so the next restart on the same fill replays only its own writer's traffic) and
/// exit.
pub fn restart_child(dir: &Path, phase: Phase) -> Result<()> {
    let store = logq::Store::open(dir, logq::Options::default())?;
    let queue = store.queue("bench")?;
    let consumer = queue.consumer("bench")?;
    match phase {
        Phase::Write => {
            // A live service: one thread sends durably, this one receives and acks, until
            // the parent kills the process.
            let producer = queue.clone();
            std::thread::spawn(move || {
                let payload = crate::payload(0);
                while producer.send(logq::Message::new(payload.clone())).is_ok() {}
            });
            crate::restart_child::ready(None)?;
            loop {
                if let Some(delivery) = consumer.receive(Duration::from_secs(1))? {
                    delivery.ack()?;
                }
            }
        }
        Phase::Open => {
            // Usable again: the next unacknowledged message is delivered.
            let delivery = consumer
                .receive(Duration::from_secs(10))?
                .ok_or("no message delivered after the restart")?;
            if delivery.payload().len() != crate::PAYLOAD_BYTES {
                return Err("backlog message read back with the wrong size".into());
            }
            let depth = queue.group_stats("bench")?.depth;
            delivery.abandon();
            crate::restart_child::ready(Some(&depth.to_string()))?;
            drop((consumer, queue));
            store.close()?;
            Ok(())
        }
    }
}

/// Sends one message per send.
struct LogqProducer {
    queue: logq::Queue,
}

impl Producer for LogqProducer {
    fn send(&mut self, payload: &[u8]) -> Result<()> {
        self.queue.send(logq::Message::new(payload.to_vec()))?;
        Ok(())
    }

    fn send_batch(&mut self, payloads: &[Vec<u8>]) -> Result<()> {
        let messages: Vec<logq::Message> = payloads
            .iter()
            .map(|p| logq::Message::new(p.clone()))
            .collect();
        self.queue.send_batch(&messages)?;
        Ok(())
    }
}

/// Receives with leases and acknowledges each poll's messages with one durable batch ack.
struct LogqConsumer {
    consumer: logq::Consumer,
}

impl Consumer for LogqConsumer {
    fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Vec<u8>>> {
        let Some(first) = self.consumer.receive(timeout)? else {
            return Ok(Vec::new());
        };
        let mut deliveries = vec![first];
        while deliveries.len() < max {
            match self.consumer.try_receive()? {
                Some(delivery) => deliveries.push(delivery),
                None => break,
            }
        }
        let payloads = deliveries.iter().map(|d| d.payload().to_vec()).collect();
        self.consumer.ack_all(deliveries)?;
        Ok(payloads)
    }
}

/// The most acks a [`PipelinedConsumer`] leaves pending before it waits for the oldest.
const PIPELINED_ACKS_PENDING_MAX: usize = 1024;

/// An ack on its way to durability.
type PendingAck = std::pin::Pin<Box<dyn std::future::Future<Output = logq::Result<()>> + Send>>;

/// Receives with leases and acknowledges each message with `Delivery::ack_async`: the next
/// message is received while earlier acks become durable (their fdatasyncs shared through
/// the journal's committer thread). Every ack is awaited: each poll collects the ones that
/// are durable, a full window waits for one, and `finish` waits for the rest.
struct PipelinedConsumer {
    consumer: logq::Consumer,
    pending: futures::stream::FuturesUnordered<PendingAck>,
}

impl PipelinedConsumer {
    /// Polls the pending acks once (which also hands new ones to the committer); with
    /// `block`, waits until at least one resolves. Fails on the first failed ack.
    fn collect(&mut self, block: bool) -> Result<()> {
        use futures::StreamExt;
        let pending = &mut self.pending;
        futures::executor::block_on(futures::future::poll_fn(|cx| {
            let mut resolved = 0usize;
            loop {
                match pending.poll_next_unpin(cx) {
                    std::task::Poll::Ready(Some(outcome)) => {
                        outcome?;
                        resolved += 1;
                    }
                    std::task::Poll::Ready(None) => {
                        return std::task::Poll::Ready(Ok::<(), logq::Error>(()))
                    }
                    std::task::Poll::Pending if block && resolved == 0 => {
                        return std::task::Poll::Pending
                    }
                    std::task::Poll::Pending => return std::task::Poll::Ready(Ok(())),
                }
            }
        }))
        .map_err(Into::into)
    }
}

impl Consumer for PipelinedConsumer {
    fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Vec<u8>>> {
        let mut payloads = Vec::new();
        let mut next = self.consumer.receive(timeout)?;
        while let Some(delivery) = next {
            payloads.push(delivery.payload().to_vec());
            self.pending.push(Box::pin(delivery.ack_async()));
            if self.pending.len() >= PIPELINED_ACKS_PENDING_MAX {
                self.collect(true)?;
            }
            next = match payloads.len() < max {
                true => self.consumer.try_receive()?,
                false => None,
            };
        }
        self.collect(false)?;
        Ok(payloads)
    }

    fn finish(&mut self) -> Result<()> {
        while !self.pending.is_empty() {
            self.collect(true)?;
        }
        Ok(())
    }
}
