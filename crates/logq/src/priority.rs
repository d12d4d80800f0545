//! Priority queues: one queue per level (`<name>.p0` … `<name>.p<N-1>`, higher number =
//! higher priority), so durability, acks, leases, dead letters, retention and recovery are
//! exactly those of plain queues. A [`PriorityConsumer`] holds one consumer per level and
//! picks the level to take from: the highest ready level first ([`PriorityPolicy::Strict`]),
//! or by smooth weighted round robin ([`PriorityPolicy::Weighted`]) so that no level with a
//! positive weight starves. Within a level, messages come in order (FIFO).

use crate::clock::now_ms;
use crate::consumer::Consumer;
use crate::delivery::Delivery;
use crate::error::{Error, Result};
use crate::message::{Message, MessageId};
use crate::notify::Notify;
use crate::queue::Queue;
use crate::stats::QueueStats;
use logq_offsets::MessageStatus;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The most priority levels a queue may declare.
pub const PRIORITY_LEVELS_MAX: u8 = 16;

/// How a [`PriorityConsumer`] chooses among levels that have ready messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PriorityPolicy {
    /// Always the highest level with a ready message; lower levels wait while higher ones
    /// have work (they can starve — the caller chose that).
    Strict,
    /// Levels share deliveries in proportion to these weights (index = level) while they all
    /// have work; an idle level's share goes to the others. A level with a positive weight
    /// never starves.
    Weighted(Vec<u32>),
}

/// A message id in a priority queue: its level and its id in that level's queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PriorityId {
    /// The level (0 = lowest priority).
    pub level: u8,
    /// The id in the level's queue.
    pub id: MessageId,
}

/// A queue with priority levels, declared at creation.
///
/// ```
/// use std::time::Duration;
/// use logq::PriorityPolicy;
/// let dir = tempfile::tempdir().unwrap();
/// let store = logq::Store::open(dir.path(), logq::Options::default()).unwrap();
/// let work = store.priority_queue("work", 3, PriorityPolicy::Strict).unwrap();
/// work.send(logq::Message::new(b"routine".to_vec()), 0).unwrap();
/// work.send(logq::Message::new(b"urgent".to_vec()), 2).unwrap();
/// let consumer = work.consumer("workers").unwrap();
/// let first = consumer.receive(Duration::from_secs(1)).unwrap().unwrap();
/// assert_eq!((first.level, first.delivery.payload()), (2, &b"urgent"[..]));
/// first.delivery.ack().unwrap();
/// ```
#[derive(Clone)]
pub struct PriorityQueue {
    name: String,
    levels: Vec<Queue>,
    policy: PriorityPolicy,
    notify: Arc<Notify>,
}

impl std::fmt::Debug for PriorityQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PriorityQueue")
            .field("name", &self.name)
            .field("levels", &self.levels.len())
            .field("policy", &self.policy)
            .finish()
    }
}

impl PriorityQueue {
    pub(crate) fn new(
        name: &str,
        levels: Vec<Queue>,
        policy: PriorityPolicy,
        notify: Arc<Notify>,
    ) -> Result<Self> {
        if let PriorityPolicy::Weighted(weights) = &policy {
            if weights.len() != levels.len() || weights.iter().all(|w| *w == 0) {
                return Err(Error::InvalidArgument(format!(
                    "weights must give one weight per level ({}) and not all be zero",
                    levels.len()
                )));
            }
        }
        Ok(PriorityQueue {
            name: name.to_owned(),
            levels,
            policy,
            notify,
        })
    }

    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of levels.
    pub fn level_count(&self) -> u8 {
        u8::try_from(self.levels.len()).unwrap_or(u8::MAX)
    }

    /// The plain queue of one level.
    pub fn level(&self, level: u8) -> Result<&Queue> {
        self.levels.get(usize::from(level)).ok_or_else(|| {
            Error::InvalidArgument(format!("level {level} of {} levels", self.levels.len()))
        })
    }

    /// Sends `message` at `level` (0 = lowest priority); durable on return.
    pub fn send(&self, message: Message, level: u8) -> Result<PriorityId> {
        let id = self.level(level)?.send(message)?;
        Ok(PriorityId { level, id })
    }

    /// The status of a message in `group`.
    pub fn status(&self, id: PriorityId, group: &str) -> Result<MessageStatus> {
        self.level(id.level)?.status(id.id, group)
    }

    /// Statistics per level, lowest first.
    pub fn stats(&self) -> Result<Vec<QueueStats>> {
        self.levels.iter().map(Queue::stats).collect()
    }

    /// A consumer in `group` across all levels.
    pub fn consumer(&self, group: &str) -> Result<PriorityConsumer> {
        let consumers = self
            .levels
            .iter()
            .map(|q| q.consumer(group))
            .collect::<Result<Vec<_>>>()?;
        let current = vec![0i64; consumers.len()];
        Ok(PriorityConsumer {
            consumers,
            policy: self.policy.clone(),
            current: Arc::new(Mutex::new(current)),
            notify: Arc::clone(&self.notify),
        })
    }
}

/// A delivery from a priority queue, with its level.
#[derive(Debug)]
pub struct PriorityDelivery {
    /// The level it came from.
    pub level: u8,
    /// The delivery (ack, nack, extend, ...).
    pub delivery: Delivery,
}

/// A consumer of a [`PriorityQueue`]. Cheap to clone (clones share the weighted-choice
/// state).
#[derive(Clone)]
pub struct PriorityConsumer {
    consumers: Vec<Consumer>,
    policy: PriorityPolicy,
    current: Arc<Mutex<Vec<i64>>>,
    notify: Arc<Notify>,
}

impl std::fmt::Debug for PriorityConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PriorityConsumer")
            .field("levels", &self.consumers.len())
            .finish()
    }
}

impl PriorityConsumer {
    /// The order in which levels are tried now.
    fn order(&self) -> Vec<usize> {
        let count = self.consumers.len();
        match &self.policy {
            PriorityPolicy::Strict => (0..count).rev().collect(),
            PriorityPolicy::Weighted(weights) => {
                let mut current = self.current.lock();
                for (c, w) in current.iter_mut().zip(weights) {
                    *c += i64::from(*w);
                }
                let mut order: Vec<usize> = (0..count).filter(|&l| weights[l] > 0).collect();
                order.sort_by_key(|&l| (std::cmp::Reverse(current[l]), std::cmp::Reverse(l)));
                order
            }
        }
    }

    /// Charges the weighted choice for a delivery from `level`.
    fn charge(&self, level: usize) {
        if let PriorityPolicy::Weighted(weights) = &self.policy {
            let total: i64 = weights.iter().map(|w| i64::from(*w)).sum();
            self.current.lock()[level] -= total;
        }
    }

    /// Waits up to `timeout` for a message from the level the policy picks among those with
    /// a ready message, and leases it. Sleeps (no polling) until something changes in the
    /// store or a lease or delay of one of the levels falls due.
    pub fn receive(&self, timeout: Duration) -> Result<Option<PriorityDelivery>> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.notify.generation();
            for level in self.order() {
                if let Some(delivery) = self.consumers[level].try_receive()? {
                    self.charge(level);
                    let level = u8::try_from(level).unwrap_or(u8::MAX);
                    return Ok(Some(PriorityDelivery { level, delivery }));
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let mut wake = deadline;
            for consumer in &self.consumers {
                let queue = &consumer.queue;
                let timer = queue
                    .groups
                    .next_timer_ms(consumer.group())
                    .map_err(|e| queue.groups_error(e))?;
                let due = crate::schedule::summary(queue)?.1;
                for at in [timer, due].into_iter().flatten() {
                    wake = wake.min(now + Duration::from_millis(at.saturating_sub(now_ms())));
                }
            }
            self.notify.wait(seen, wake);
        }
    }
}
