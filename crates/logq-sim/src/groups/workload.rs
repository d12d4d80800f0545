//! [`GroupWorkload`]: a scripted sequence of consumer-group operations on an
//! [`logq_offsets::OffsetStore`], with the store options it runs under.
//!
//! Invariant: [`GroupWorkload::random`] is a pure function of its seed; time is part of the
//! script ([`GroupStep::Advance`]), never read from a clock.

use crate::rng::SimRng;
use crate::SimFs;
use logq_log::{Durability, LogOptions};
use logq_offsets::{GroupConfig, OffsetOptions};
use std::path::PathBuf;
use std::sync::Arc;

/// The directory of every group workload's store.
pub const GROUPS_DIR: &str = "/sim/groups";

/// The consumer groups of a workload (steps name them by index).
pub const GROUP_NAMES: [&str; 2] = ["alpha", "beta"];

/// One operation; `pick` chooses among the leases the workload holds in that group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupStep {
    /// The queue grows by `messages` (no I/O: only `log_end` moves).
    Produce {
        /// New messages.
        messages: u64,
    },
    /// `ensure_group` at the earliest offset.
    Ensure {
        /// The group.
        group: usize,
    },
    /// `deliver_next`.
    Deliver {
        /// The group.
        group: usize,
    },
    /// `ack` of a held lease.
    Ack {
        /// The group.
        group: usize,
        /// Which held lease.
        pick: usize,
    },
    /// `ack_with_outcome` of a held lease.
    AckOutcome {
        /// The group.
        group: usize,
        /// Which held lease.
        pick: usize,
    },
    /// `ack_async` of a held lease (with an outcome or not), its future awaited at once.
    AckAsync {
        /// The group.
        group: usize,
        /// Which held lease.
        pick: usize,
        /// Whether the ack carries an outcome.
        with_outcome: bool,
    },
    /// `nack` of a held lease.
    Nack {
        /// The group.
        group: usize,
        /// Which held lease.
        pick: usize,
        /// Redelivery delay.
        delay_ms: u64,
    },
    /// `release` of a held lease (a delivery dropped without a decision).
    Release {
        /// The group.
        group: usize,
        /// Which held lease.
        pick: usize,
    },
    /// `extend` of a held lease.
    Extend {
        /// The group.
        group: usize,
        /// Which held lease.
        pick: usize,
    },
    /// `dead_letter` of every dead-letter candidate.
    DeadLetter {
        /// The group.
        group: usize,
    },
    /// Time passes (leases expire, delays end).
    Advance {
        /// Milliseconds.
        ms: u64,
    },
    /// `checkpoint`.
    Checkpoint,
    /// `close`, then open again.
    Reopen,
    /// The process dies (no close; the page cache survives), then open again.
    Kill,
}

/// A workload and the options of the store it runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupWorkload {
    /// Seed of the simulated file system.
    pub seed: u64,
    /// Lease time.
    pub lease_ms: u64,
    /// Deliveries before an offset becomes a dead-letter candidate.
    pub max_deliveries: u32,
    /// Leases at once per group.
    pub max_in_flight: u32,
    /// Journal records between checkpoints.
    pub checkpoint_interval_records: u64,
    /// Segment size of the journal.
    pub journal_segment_bytes_max: u64,
    /// The operations.
    pub steps: Vec<GroupStep>,
}

impl GroupWorkload {
    /// A random workload of `steps` steps.
    pub fn random(seed: u64, steps: usize) -> GroupWorkload {
        let mut rng = SimRng::new(seed);
        let mut script = vec![
            GroupStep::Ensure { group: 0 },
            GroupStep::Produce { messages: 6 },
        ];
        while script.len() < steps {
            script.push(random_step(&mut rng));
        }
        GroupWorkload {
            seed,
            lease_ms: 100,
            max_deliveries: [2, 3][rng.index(2)],
            max_in_flight: 4,
            checkpoint_interval_records: [3, 5, 8][rng.index(3)],
            journal_segment_bytes_max: [600, 1024][rng.index(2)],
            steps: script,
        }
    }

    /// The store directory.
    pub fn dir(&self) -> PathBuf {
        PathBuf::from(GROUPS_DIR)
    }

    /// The store options on `fs`.
    pub fn options(&self, fs: &SimFs) -> OffsetOptions {
        OffsetOptions::default()
            .durability(Durability::Always)
            .group_config(GroupConfig {
                lease_ms: self.lease_ms,
                max_deliveries: self.max_deliveries,
                max_in_flight: self.max_in_flight,
            })
            .checkpoint_interval_records(self.checkpoint_interval_records)
            .journal(
                LogOptions::default()
                    .segment_bytes_max(self.journal_segment_bytes_max)
                    .index_interval_bytes(128)
                    .file_system(Arc::new(fs.clone())),
            )
    }
}

fn random_step(rng: &mut SimRng) -> GroupStep {
    let group = rng.index(GROUP_NAMES.len());
    let pick = rng.index(4);
    match rng.below(100) {
        0..=5 => GroupStep::Produce {
            messages: rng.range_inclusive(1, 4),
        },
        6..=8 => GroupStep::Ensure { group },
        9..=33 => GroupStep::Deliver { group },
        34..=40 => GroupStep::Ack { group, pick },
        41..=47 => GroupStep::AckAsync {
            group,
            pick,
            with_outcome: false,
        },
        48..=51 => GroupStep::AckOutcome { group, pick },
        52..=55 => GroupStep::AckAsync {
            group,
            pick,
            with_outcome: true,
        },
        56..=63 => GroupStep::Nack {
            group,
            pick,
            delay_ms: [0, 50, 500][rng.index(3)],
        },
        64..=69 => GroupStep::Release { group, pick },
        70..=72 => GroupStep::Extend { group, pick },
        73..=78 => GroupStep::DeadLetter { group },
        79..=87 => GroupStep::Advance {
            ms: [30, 120, 1000][rng.index(3)],
        },
        88..=91 => GroupStep::Checkpoint,
        92..=95 => GroupStep::Reopen,
        _ => GroupStep::Kill,
    }
}
