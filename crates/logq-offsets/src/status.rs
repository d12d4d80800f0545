//! What a group knows about one offset ([`Status`]) and about itself ([`GroupStats`]).

use crate::OutcomeRef;

/// The recorded state of one offset in one group.
///
/// Statuses report recorded facts and do not depend on the clock: an `InFlight` lease or a
/// `Delayed` offset may already be past its time; ask
/// [`GroupState::next_deliverable`](crate::GroupState::next_deliverable) what can be
/// delivered now.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Not acknowledged, not leased, not delayed; delivered `attempts` times so far
    /// (0 for a never-delivered offset, including offsets beyond the end of the log).
    Pending {
        /// Deliveries so far.
        attempts: u32,
    },
    /// Leased to a consumer.
    InFlight {
        /// Which delivery this is (1 for the first).
        attempt: u32,
        /// The consumer holding the lease.
        consumer_id: u64,
        /// When the lease expires.
        deadline_ms: u64,
    },
    /// Negatively acknowledged; not to be delivered before `until_ms`.
    Delayed {
        /// The earliest redelivery time.
        until_ms: u64,
        /// Deliveries so far.
        attempts: u32,
    },
    /// Acknowledged, with the locator of its outcome bytes if the ack carried an outcome
    /// that is still retained.
    Acked {
        /// Where the persistence layer keeps the outcome bytes.
        outcome: Option<OutcomeRef>,
    },
    /// Moved to the dead-letter queue.
    DeadLettered {
        /// Why.
        reason: String,
    },
}

/// Counters of one group, for monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupStats {
    /// Lowest offset neither acknowledged nor dead-lettered.
    pub min_unacked_offset: u64,
    /// Lowest offset never delivered (and not settled).
    pub next_to_deliver: u64,
    /// Leases that have not expired at the time asked.
    pub in_flight: u64,
    /// Leases that expired and were not yet redelivered, acknowledged or released.
    pub expired_leases: u64,
    /// Offsets waiting out a negative-acknowledgement delay (recorded, even if passed).
    pub delayed: u64,
    /// Dead-lettered offsets remembered.
    pub dead: u64,
    /// Offsets that used all their deliveries and wait to be dead-lettered.
    pub dead_letter_candidates: u64,
    /// Settled (acknowledged or dead-lettered) offsets above `min_unacked_offset`.
    pub acked_above_floor: u64,
    /// Gaps in the settled offsets above `min_unacked_offset`.
    pub gaps: u64,
    /// Outcome locators retained.
    pub outcomes: u64,
}
