//! [`Consumer`]: a member of a consumer group, receiving messages with leases.

use crate::clock::now_ms;
use crate::delivery::Delivery;
use crate::error::{Error, Result};
use crate::queue::QueueInner;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

static NEXT_CONSUMER: AtomicU64 = AtomicU64::new(1);

/// A consumer id unique within this process and (very likely) across processes.
fn next_consumer_id() -> u64 {
    (u64::from(std::process::id()) << 32)
        | (NEXT_CONSUMER.fetch_add(1, Ordering::Relaxed) & 0xFFFF_FFFF)
}

/// A consumer in one group of one queue. Each message is delivered to one consumer of a
/// group at a time (a lease); every group gets every message. Cheap to clone (a clone is the
/// same consumer).
///
/// ```
/// use std::time::Duration;
/// let dir = tempfile::tempdir().unwrap();
/// let store = logq::Store::open(dir.path(), logq::Options::default()).unwrap();
/// let orders = store.queue("orders").unwrap();
/// let payments = orders.consumer("payments").unwrap();
/// orders.send(logq::Message::new(b"o-1".to_vec())).unwrap();
/// let delivery = payments.receive(Duration::from_secs(1)).unwrap().unwrap();
/// assert_eq!(delivery.payload(), b"o-1");
/// delivery.ack_with_outcome(b"paid").unwrap();
/// ```
#[derive(Clone)]
pub struct Consumer {
    pub(crate) queue: Arc<QueueInner>,
    pub(crate) group: Arc<str>,
    pub(crate) consumer_id: u64,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("queue", &self.queue.name)
            .field("group", &self.group)
            .field("consumer_id", &self.consumer_id)
            .finish()
    }
}

impl Consumer {
    pub(crate) fn new(queue: Arc<QueueInner>, group: &str) -> Self {
        Consumer {
            queue,
            group: Arc::from(group),
            consumer_id: next_consumer_id(),
        }
    }

    /// The group.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// This consumer's id (as recorded in leases).
    pub fn id(&self) -> u64 {
        self.consumer_id
    }

    /// Waits up to `timeout` for a message and leases it to this consumer. Sleeps (no busy
    /// polling) until a send, a release or a lease expiry can make one deliverable. Messages
    /// that used all their deliveries are moved to the dead-letter queue on the way.
    pub fn receive(&self, timeout: Duration) -> Result<Option<Delivery>> {
        let deadline = Instant::now() + timeout;
        let queue = &self.queue;
        loop {
            let seen = queue.notify.generation();
            let now = now_ms();
            let next_due_ms = crate::schedule::move_due(queue, now)?;
            crate::dead_letter::move_candidates(queue, &self.group, now)?;
            let log_end = queue.log.next_offset();
            let delivered = queue
                .groups
                .deliver_next(&self.group, self.consumer_id, now, log_end)
                .map_err(|e| queue.groups_error(e))?;
            if let Some(delivered) = delivered {
                match queue.read(crate::MessageId(delivered.offset)) {
                    Ok(message) => {
                        return Ok(Some(Delivery::new(self.clone(), message, delivered.lease)))
                    }
                    Err(Error::NotFound { .. }) => {
                        // Deleted by a retention cap meanwhile: nothing left to deliver.
                        queue
                            .groups
                            .ack(&self.group, delivered.offset)
                            .map_err(|e| queue.groups_error(e))?;
                        continue;
                    }
                    Err(error) => return Err(error),
                }
            }
            queue.enforce_retention(false)?;
            let now_instant = Instant::now();
            if now_instant >= deadline {
                return Ok(None);
            }
            let mut wake = deadline;
            let timer = queue
                .groups
                .next_timer_ms(&self.group)
                .map_err(|e| queue.groups_error(e))?;
            for due_ms in [timer, next_due_ms].into_iter().flatten() {
                let until_due = Duration::from_millis(due_ms.saturating_sub(now_ms()));
                wake = wake.min(now_instant + until_due);
            }
            queue.notify.wait(seen, wake);
        }
    }

    /// Acknowledges many deliveries of this consumer's group with one durable wait (one
    /// fdatasync for all of them under `Always`).
    pub fn ack_all(&self, deliveries: Vec<Delivery>) -> Result<()> {
        let queue = &self.queue;
        if let Some(stranger) = deliveries.iter().find(|d| !d.belongs_to(self)) {
            return Err(Error::InvalidArgument(format!(
                "delivery {} is not from queue {:?}, group {:?}",
                stranger.id(),
                queue.name,
                self.group
            )));
        }
        let (offsets, sent_ms): (Vec<u64>, Vec<u64>) =
            deliveries.into_iter().map(Delivery::settle).unzip();
        queue
            .groups
            .ack_many(&self.group, &offsets)
            .map_err(|e| queue.groups_error(e))?;
        let now = now_ms();
        for sent in sent_ms {
            queue.recorder.record_ack(&self.group, now, sent);
        }
        queue.notify.notify();
        Ok(())
    }

    /// Leases a message if one is deliverable now; never waits.
    pub fn try_receive(&self) -> Result<Option<Delivery>> {
        self.receive(Duration::ZERO)
    }
}
