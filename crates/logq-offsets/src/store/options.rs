//! Options of the durable group store.

use crate::GroupConfig;
use logq_log::{Durability, LogOptions};

/// Options of [`crate::OffsetStore::open`].
///
/// ```
/// use logq_offsets::{GroupConfig, OffsetOptions};
/// let options = OffsetOptions::default().checkpoint_interval_records(10_000);
/// assert_eq!(options.checkpoint_interval_records, 10_000);
/// ```
#[derive(Clone, Debug)]
pub struct OffsetOptions {
    /// When acknowledgements and other decisions are durable (default `Always`: an ack
    /// returns only when it is on disk). Deliveries are always written to the operating
    /// system before they are handed out, so attempt counts survive a process crash.
    pub durability: Durability,
    /// Lease time, delivery limit and in-flight cap of every group.
    pub group_config: GroupConfig,
    /// A checkpoint is written after this many journal records (default 100,000), bounding
    /// the replay on open.
    pub checkpoint_interval_records: u64,
    /// Options of the journal log (its durability is replaced by `durability`).
    pub journal: LogOptions,
}

impl Default for OffsetOptions {
    fn default() -> Self {
        OffsetOptions {
            durability: Durability::Always,
            group_config: GroupConfig::default(),
            checkpoint_interval_records: 100_000,
            journal: LogOptions::default().segment_bytes_max(32 * 1024 * 1024),
        }
    }
}

impl OffsetOptions {
    /// Sets the durability policy.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Sets the group configuration.
    pub fn group_config(mut self, config: GroupConfig) -> Self {
        self.group_config = config;
        self
    }

    /// Sets how many journal records trigger a checkpoint.
    pub fn checkpoint_interval_records(mut self, records: u64) -> Self {
        self.checkpoint_interval_records = records.max(1);
        self
    }

    /// Sets the journal's log options (file system, segment size, ...).
    pub fn journal(mut self, journal: LogOptions) -> Self {
        self.journal = journal;
        self
    }
}
