//! The demo's threads: the order service (sends orders, then waits for outcomes of a
//! sample) and the consumers of the payments and inventory groups (process, then ack with
//! an outcome), and the tallies they keep for the final checks.

use super::order::{busy_work, Order, Service};
use super::witness::Witness;
use crate::error::{CliError, Result};
use logq::{Consumer, MessageId, Queue, Status};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a failed payment waits before its retry.
pub const RETRY_DELAY: Duration = Duration::from_millis(50);
/// How long the order service waits for one sampled outcome.
pub const OUTCOME_TIMEOUT: Duration = Duration::from_secs(60);

/// What one group's consumers did in this run.
#[derive(Debug)]
pub struct GroupTally {
    /// The service.
    pub service: Service,
    /// Acks that returned.
    pub acked: AtomicU64,
    /// First attempts that failed and were nacked.
    pub nacked: AtomicU64,
    /// Deliveries after a nack of this run (attempt ≥ 2).
    pub retried_after_nack: AtomicU64,
    /// Deliveries with attempt ≥ 2 of messages not nacked in this run: leased by an earlier
    /// run whose ack never returned (a kill), or nacked by it.
    pub redelivered_from_earlier: AtomicU64,
    /// Deliveries of messages acknowledged before this run started: must stay 0.
    pub delivered_after_ack: AtomicU64,
    /// Messages that are not orders (dead-lettered).
    pub not_orders: AtomicU64,
    /// Returned acks per message id in this run.
    pub acks: Mutex<HashMap<u64, u32>>,
    nacked_ids: Mutex<HashSet<u64>>,
    /// Acked before this run: one flag per id from `acked_before_base`.
    acked_before: Vec<bool>,
    acked_before_base: u64,
}

impl GroupTally {
    /// A tally; `acked_before[i]` says whether id `base + i` was acknowledged at the start.
    pub fn new(service: Service, acked_before: Vec<bool>, base: u64) -> Self {
        GroupTally {
            service,
            acked: AtomicU64::new(0),
            nacked: AtomicU64::new(0),
            retried_after_nack: AtomicU64::new(0),
            redelivered_from_earlier: AtomicU64::new(0),
            delivered_after_ack: AtomicU64::new(0),
            not_orders: AtomicU64::new(0),
            acks: Mutex::new(HashMap::new()),
            nacked_ids: Mutex::new(HashSet::new()),
            acked_before,
            acked_before_base: base,
        }
    }

    fn was_acked_before(&self, id: u64) -> bool {
        id.checked_sub(self.acked_before_base)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.acked_before.get(i).copied())
            .unwrap_or(false)
    }
}

/// What the order service's sample of `wait_outcome` calls found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SampleReport {
    /// Outcomes waited for (orders × groups).
    pub waited: u64,
    /// Outcomes that matched the order.
    pub matched: u64,
}

/// Everything the threads share.
#[derive(Debug)]
pub struct Shared {
    /// Set to stop the consumers.
    pub stop: AtomicBool,
    /// Orders whose send returned.
    pub sent: AtomicU64,
    /// Set when the order service finished sending and sampling.
    pub service_done: AtomicBool,
    /// Durable-send latencies, µs.
    pub send_latency_us: Mutex<Vec<u64>>,
    /// How long sending took.
    pub send_elapsed: Mutex<Option<Duration>>,
    /// Ids of this run's orders, in order.
    pub ids: Mutex<Vec<u64>>,
    /// Per group, in [`Service::ALL`] order.
    pub groups: Vec<GroupTally>,
    /// The sample of outcomes.
    pub samples: Mutex<SampleReport>,
    /// The first error a thread met (the demo stops on it).
    pub error: Mutex<Option<String>>,
    /// The side files.
    pub witness: Witness,
}

impl Shared {
    /// Records `error` (the first one wins) and stops every thread.
    pub fn fail(&self, error: impl std::fmt::Display) {
        let mut slot = self.error.lock();
        if slot.is_none() {
            *slot = Some(error.to_string());
        }
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Acks returned so far per group.
    pub fn acked(&self) -> Vec<u64> {
        self.groups
            .iter()
            .map(|g| g.acked.load(Ordering::Relaxed))
            .collect()
    }
}

/// The order service: sends `count` orders numbered from `first_order`, one durable send
/// each, recording each id once `send` returned; then waits for the outcomes of every
/// `sample_every`-th order in both groups.
pub fn order_service(
    queue: &Queue,
    shared: &Shared,
    first_order: u64,
    count: u64,
    sample_every: u64,
) -> Result<()> {
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let mut ids = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for number in first_order..first_order + count {
        if shared.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let order = Order::new(number);
        let sent_at = Instant::now();
        let id = queue.send(order.to_message())?;
        latencies.push(u64::try_from(sent_at.elapsed().as_micros()).unwrap_or(u64::MAX));
        shared
            .witness
            .sent(number, id.0)
            .map_err(|e| CliError::Invalid(format!("writing the demo's sent file: {e}")))?;
        ids.push(id.0);
        shared.sent.fetch_add(1, Ordering::Relaxed);
    }
    *shared.send_elapsed.lock() = Some(started.elapsed());
    *shared.send_latency_us.lock() = latencies;
    *shared.ids.lock() = ids.clone();
    // The order service looks outcomes up as a client would: wait for a sample.
    let mut report = SampleReport::default();
    for (i, id) in ids.iter().enumerate() {
        if u64::try_from(i).unwrap_or(0) % sample_every.max(1) != 0 {
            continue;
        }
        let order = Order::new(first_order + u64::try_from(i).unwrap_or(0));
        for service in Service::ALL {
            if shared.stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let status = queue.wait_outcome(MessageId(*id), service.group(), OUTCOME_TIMEOUT)?;
            report.waited += 1;
            let expected = service.outcome(&order).into_bytes();
            if status
                == (Status::Acked {
                    outcome: Some(expected),
                })
            {
                report.matched += 1;
            }
        }
    }
    *shared.samples.lock() = report;
    Ok(())
}

/// One consumer of group `index` (into [`Service::ALL`]): receive, process, ack with the
/// outcome; ~1% of payments fail their first attempt and are nacked for a retry.
pub fn consume(consumer: &Consumer, shared: &Shared, index: usize) -> Result<()> {
    let Some(tally) = shared.groups.get(index) else {
        return Ok(());
    };
    let service = tally.service;
    while !shared.stop.load(Ordering::Relaxed) {
        let Some(delivery) = consumer.receive(Duration::from_millis(100))? else {
            continue;
        };
        let id = delivery.id().0;
        if tally.was_acked_before(id) {
            tally.delivered_after_ack.fetch_add(1, Ordering::Relaxed);
        }
        let Some(order) = Order::from_payload(delivery.payload()) else {
            delivery.dead_letter("not an order (payload is not the demo's JSON)")?;
            tally.not_orders.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        if delivery.attempt() > 1 {
            if tally.nacked_ids.lock().contains(&id) {
                tally.retried_after_nack.fetch_add(1, Ordering::Relaxed);
            } else {
                tally
                    .redelivered_from_earlier
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        busy_work(service.work(), id);
        if service == Service::Payments && order.payment_fails_first() && delivery.attempt() == 1 {
            tally.nacked_ids.lock().insert(id);
            delivery.nack(RETRY_DELAY)?;
            tally.nacked.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        delivery.ack_with_outcome(service.outcome(&order).as_bytes())?;
        *tally.acks.lock().entry(id).or_default() += 1;
        tally.acked.fetch_add(1, Ordering::Relaxed);
        shared
            .witness
            .acked(index, id)
            .map_err(|e| CliError::Invalid(format!("writing the demo's acked file: {e}")))?;
    }
    Ok(())
}
