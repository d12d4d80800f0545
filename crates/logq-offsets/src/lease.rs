//! Small value types shared by the group state, the events and the checkpoint:
//! [`Lease`], [`OutcomeRef`], [`GroupId`] and [`GroupConfig`].

use std::fmt;

use crate::GroupError;

/// A delivery in flight: which consumer holds the offset, until when, and which attempt it is.
///
/// `attempt` counts deliveries of this offset to this group, starting at 1; it never goes
/// down, and expired, released and negatively acknowledged deliveries all count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// The consumer the offset was delivered to.
    pub consumer_id: u64,
    /// The lease expires when the clock reaches this time (a lease is expired at
    /// `now_ms >= deadline_ms`).
    pub deadline_ms: u64,
    /// Which delivery of the offset this is (1 for the first).
    pub attempt: u32,
}

/// An opaque locator of the outcome bytes of an acknowledgement, assigned by the
/// persistence layer (the position of the journal record holding the bytes).
///
/// The group state keeps only this handle, never the bytes: each retained outcome costs one
/// `BTreeMap<u64, OutcomeRef>` entry, 16 bytes of key and value plus B-tree node overhead
/// (roughly 25–40 bytes in total).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutcomeRef(pub u64);

/// The id of a consumer group inside one queue, assigned when the group is created; journal
/// events name their group by id rather than by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct GroupId(pub u32);

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Delivery policy of a consumer group. Not journalled: supplied when the state is built.
///
/// ```
/// use logq_offsets::GroupConfig;
/// let config = GroupConfig { lease_ms: 30_000, max_deliveries: 5, max_in_flight: 1_000 };
/// assert!(config.validate().is_ok());
/// assert!(GroupConfig { max_deliveries: 0, ..config }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupConfig {
    /// How long a delivery stays leased before it may be delivered again.
    pub lease_ms: u64,
    /// Deliveries allowed per offset; an offset that used them all and is not acknowledged
    /// becomes a dead-letter candidate. At least 1.
    pub max_deliveries: u32,
    /// Unexpired leases allowed at once; at least 1.
    pub max_in_flight: u32,
}

impl Default for GroupConfig {
    /// 30 s leases, 5 deliveries, 1000 in flight.
    fn default() -> Self {
        Self {
            lease_ms: 30_000,
            max_deliveries: 5,
            max_in_flight: 1_000,
        }
    }
}

impl GroupConfig {
    /// Checks that the limits are usable (`max_deliveries >= 1`, `max_in_flight >= 1`).
    pub fn validate(&self) -> Result<(), GroupError> {
        if self.max_deliveries == 0 {
            return Err(GroupError::InvalidConfig {
                reason: "max_deliveries must be at least 1",
            });
        }
        if self.max_in_flight == 0 {
            return Err(GroupError::InvalidConfig {
                reason: "max_in_flight must be at least 1",
            });
        }
        Ok(())
    }
}
