//! The in-memory state of one consumer group of one queue, and how journal events change it.
//!
//! # Offsets and their states
//! An offset is *settled* when it is acknowledged or dead-lettered; settled offsets live in
//! one [`RangeSet`] so memory grows with the gaps, not the messages, and its floor is
//! [`GroupState::min_unacked_offset`] (what retention may delete below). Dead-lettered
//! offsets additionally keep their reason; acknowledged ones may keep an [`OutcomeRef`].
//!
//! # Invariants (checked by [`GroupState::check_invariants`])
//! - `next_to_deliver` is not settled; every offset at or above it was never delivered.
//! - Every unsettled offset below `next_to_deliver` has an attempt count `>= 1`, and is in
//!   exactly one of: leased (`leases`), delayed (`delays`), or plain pending.
//! - A lease's `attempt` equals the offset's attempt count; attempt counts never go down.
//! - Settled offsets have no attempt count, lease or delay; outcome locators only exist for
//!   acknowledged offsets, reasons only for dead-lettered ones.
//!
//! # Derived indices (not journalled, rebuilt from the above)
//! Redeliveries are found without scanning history: `timers` orders leases by deadline and
//! delays by their end; when the clock passes a timer the offset moves to `ready` (or to
//! `exhausted` when it used all its deliveries). The clock is the highest `now_ms` seen;
//! a lower `now_ms` counts as that highest value, so time never runs backwards. A bulk
//! replay ([`crate::Replay`]) leaves them stale and rebuilds them once at its end.

use std::collections::{BTreeMap, BTreeSet};

use crate::{GroupConfig, GroupError, Lease, OutcomeRef, RangeSet, Status};

/// The most bytes a dead-letter reason may have.
pub const REASON_BYTES_MAX: u32 = 4096;

/// The state of one consumer group: settled offsets, leases, attempts, delays, dead letters,
/// outcome locators and the delivery cursor.
///
/// ```
/// use logq_offsets::{GroupConfig, GroupState, Status};
/// let config = GroupConfig { lease_ms: 1_000, max_deliveries: 3, max_in_flight: 10 };
/// let mut group = GroupState::new(config, 0).unwrap();
/// let log_end = 2;
/// assert_eq!(group.next_deliverable(0, log_end), Some(0));
/// let lease = group.deliver(0, 7, 0).unwrap();
/// assert_eq!(lease.deadline_ms, 1_000);
/// assert_eq!(group.next_deliverable(0, log_end), Some(1));
/// // The lease expires at 1000 ms: offset 0 is the lowest deliverable offset again.
/// assert_eq!(group.next_deliverable(1_000, log_end), Some(0));
/// assert!(group.ack(0).unwrap());
/// assert!(matches!(group.status(0), Status::Acked { outcome: None }));
/// assert_eq!(group.min_unacked_offset(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct GroupState {
    pub(crate) config: GroupConfig,
    pub(crate) settled: RangeSet,
    pub(crate) next_to_deliver: u64,
    pub(crate) leases: BTreeMap<u64, Lease>,
    pub(crate) attempts: BTreeMap<u64, u32>,
    pub(crate) delays: BTreeMap<u64, u64>,
    pub(crate) dead: BTreeMap<u64, String>,
    pub(crate) outcomes: BTreeMap<u64, OutcomeRef>,
    // Derived indices.
    pub(crate) clock_ms: u64,
    pub(crate) timers: BTreeSet<(u64, u64)>,
    pub(crate) ready: BTreeSet<u64>,
    pub(crate) exhausted: BTreeSet<u64>,
    pub(crate) expired_leases: u64,
    /// True only inside a [`crate::Replay`]: the derived indices are left stale and
    /// rebuilt when it ends.
    pub(crate) indices_deferred: bool,
}

impl PartialEq for GroupState {
    /// Compares the recorded state; the derived indices and the clock are ignored.
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
            && self.settled == other.settled
            && self.next_to_deliver == other.next_to_deliver
            && self.leases == other.leases
            && self.attempts == other.attempts
            && self.delays == other.delays
            && self.dead == other.dead
            && self.outcomes == other.outcomes
    }
}

impl Eq for GroupState {}

impl GroupState {
    /// A group whose first offset to deliver is `start_offset`; every lower offset counts
    /// as acknowledged.
    pub fn new(config: GroupConfig, start_offset: u64) -> Result<Self, GroupError> {
        config.validate()?;
        Ok(Self {
            config,
            settled: RangeSet::with_floor(start_offset),
            next_to_deliver: start_offset,
            leases: BTreeMap::new(),
            attempts: BTreeMap::new(),
            delays: BTreeMap::new(),
            dead: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            clock_ms: 0,
            timers: BTreeSet::new(),
            ready: BTreeSet::new(),
            exhausted: BTreeSet::new(),
            expired_leases: 0,
            indices_deferred: false,
        })
    }

    /// Offsets leased to a consumer (expired or not), ascending.
    pub fn leased_offsets(&self) -> Vec<u64> {
        self.leases.keys().copied().collect()
    }

    /// The smallest retained outcome locator (journal records below it hold no outcome
    /// that is still needed). Cost: one pass over the retained outcomes.
    pub fn min_outcome_ref(&self) -> Option<OutcomeRef> {
        self.outcomes.values().min().copied()
    }

    /// The delivery policy.
    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    /// The lowest offset neither acknowledged nor dead-lettered: retention may delete below it.
    pub fn min_unacked_offset(&self) -> u64 {
        self.settled.floor()
    }

    /// The lowest never-delivered, unsettled offset.
    pub fn next_to_deliver(&self) -> u64 {
        self.next_to_deliver
    }

    /// The settled (acknowledged or dead-lettered) offsets.
    pub fn settled(&self) -> &RangeSet {
        &self.settled
    }

    /// The lease on `offset`, if any (it may have expired).
    pub fn lease(&self, offset: u64) -> Option<&Lease> {
        self.leases.get(&offset)
    }

    /// Deliveries of `offset` so far; 0 once it is settled.
    pub fn attempts(&self, offset: u64) -> u32 {
        self.attempts.get(&offset).copied().unwrap_or(0)
    }

    /// The recorded state of `offset`; see [`Status`] for what it does not tell.
    pub fn status(&self, offset: u64) -> Status {
        if let Some(reason) = self.dead.get(&offset) {
            return Status::DeadLettered {
                reason: reason.clone(),
            };
        }
        if self.settled.contains(offset) {
            return Status::Acked {
                outcome: self.outcomes.get(&offset).copied(),
            };
        }
        if let Some(lease) = self.leases.get(&offset) {
            return Status::InFlight {
                attempt: lease.attempt,
                consumer_id: lease.consumer_id,
                deadline_ms: lease.deadline_ms,
            };
        }
        let attempts = self.attempts(offset);
        match self.delays.get(&offset) {
            Some(&until_ms) => Status::Delayed { until_ms, attempts },
            None => Status::Pending { attempts },
        }
    }
}
