//! [`QueueWorkload`]: a scripted sequence of queue operations on a [`logq::Store`], with the
//! options it runs under.
//!
//! Invariant: [`QueueWorkload::random`] is a pure function of its seed. The queue reads the
//! wall clock (timestamps, the once-a-second retention check), so leases are long (30 s)
//! and redelivery comes from nacks with zero delay and from deliveries dropped without a
//! decision; lease expiry with a scripted clock is the group explorer's job.

use crate::rng::SimRng;
use logq::{DedupOptions, Durability, Options, QueueOptions};

/// The data directory of every queue workload.
pub const STORE_DIR: &str = "/sim/store";

/// The queue under test.
pub const QUEUE: &str = "q";

/// Its dead-letter queue (the default name).
pub const DEAD_LETTER_QUEUE: &str = "q.dlq";

/// The consumer groups of a workload (steps name them by index).
pub const QUEUE_GROUPS: [&str; 2] = ["g1", "g2"];

/// What a consumer does with a message it received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// `Delivery::ack`.
    Ack,
    /// `Delivery::ack_with_outcome`.
    AckOutcome,
    /// `Delivery::nack` with no delay.
    Nack,
    /// The delivery is dropped without a decision (released at once).
    Drop,
    /// `Delivery::dead_letter`.
    DeadLetter,
    /// Kept undecided (its lease stays held) until a later `Settle`, reopen or kill.
    Hold,
}

/// One operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueStep {
    /// `Queue::send` of one message, with dedup id `d<n>` if given (a small pool, so ids
    /// are sent again).
    Send {
        /// Payload size.
        size: usize,
        /// Dedup id number.
        dedup: Option<u8>,
    },
    /// `Queue::send_batch`.
    SendBatch {
        /// Payload sizes with their dedup id numbers.
        messages: Vec<(usize, Option<u8>)>,
    },
    /// `Consumer::try_receive` in a group, then `decision`.
    Receive {
        /// The group.
        group: usize,
        /// What to do with the message.
        decision: Decision,
    },
    /// Decides a held delivery.
    Settle {
        /// Which held delivery.
        pick: usize,
        /// The decision (`Hold` keeps it).
        decision: Decision,
    },
    /// `Queue::enforce_retention`.
    Retention,
    /// `Queue::sync`.
    Sync,
    /// `Store::close`, then open again.
    Reopen,
    /// The process dies (no destructors, no close), then the store is opened again.
    Kill,
}

/// A queue workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueWorkload {
    /// Seed of the simulated file system.
    pub seed: u64,
    /// Segment size of the queues' logs.
    pub segment_bytes_max: u64,
    /// Deliveries before a message is dead-lettered.
    pub max_deliveries: u32,
    /// Journal records between group checkpoints.
    pub checkpoint_interval_records: u64,
    /// Sends between dedup snapshots.
    pub snapshot_interval_sends: u64,
    /// The operations.
    pub steps: Vec<QueueStep>,
}

impl QueueWorkload {
    /// A random workload of `steps` steps.
    pub fn random(seed: u64, steps: usize) -> QueueWorkload {
        let mut rng = SimRng::new(seed);
        let mut script = Vec::new();
        while script.len() < steps {
            script.push(random_step(&mut rng));
        }
        QueueWorkload {
            seed,
            segment_bytes_max: [700, 1024][rng.index(2)],
            max_deliveries: [2, 3][rng.index(2)],
            checkpoint_interval_records: [4, 7][rng.index(2)],
            snapshot_interval_sends: [3, 6][rng.index(2)],
            steps: script,
        }
    }

    /// The store options.
    pub fn options(&self) -> Options {
        Options {
            queue: QueueOptions::default()
                .durability(Durability::Always)
                .segment_bytes_max(self.segment_bytes_max)
                .max_deliveries(self.max_deliveries)
                .checkpoint_interval_records(self.checkpoint_interval_records)
                .dedup(DedupOptions {
                    snapshot_interval_sends: self.snapshot_interval_sends,
                    ..DedupOptions::default()
                }),
        }
    }
}

fn size(rng: &mut SimRng) -> usize {
    if rng.chance(1, 10) {
        usize::try_from(rng.range_inclusive(300, 600)).unwrap_or(300)
    } else {
        usize::try_from(rng.range_inclusive(8, 120)).unwrap_or(8)
    }
}

fn dedup(rng: &mut SimRng) -> Option<u8> {
    rng.chance(1, 3)
        .then(|| u8::try_from(rng.below(6)).unwrap_or(0))
}

fn decision(rng: &mut SimRng) -> Decision {
    [
        Decision::Ack,
        Decision::Ack,
        Decision::AckOutcome,
        Decision::Nack,
        Decision::Drop,
        Decision::DeadLetter,
        Decision::Hold,
        Decision::Hold,
    ][rng.index(8)]
}

fn random_step(rng: &mut SimRng) -> QueueStep {
    match rng.below(100) {
        0..=29 => QueueStep::Send {
            size: size(rng),
            dedup: dedup(rng),
        },
        30..=37 => {
            let count = rng.range_inclusive(2, 4);
            QueueStep::SendBatch {
                messages: (0..count).map(|_| (size(rng), dedup(rng))).collect(),
            }
        }
        38..=72 => QueueStep::Receive {
            group: rng.index(QUEUE_GROUPS.len()),
            decision: decision(rng),
        },
        73..=82 => QueueStep::Settle {
            pick: rng.index(4),
            decision: decision(rng),
        },
        83..=87 => QueueStep::Retention,
        88..=90 => QueueStep::Sync,
        91..=95 => QueueStep::Reopen,
        _ => QueueStep::Kill,
    }
}
