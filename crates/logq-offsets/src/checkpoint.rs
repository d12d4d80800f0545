//! A snapshot of one group's recorded state, so the journal before it can be dropped.
//!
//! Layout (see `docs/FORMAT.md` §5; all integers little-endian): a version byte (1), the group
//! id and name, the floor and delivery cursor, then six lists, each a `u32` count followed by
//! fixed-width entries sorted by strictly increasing offset (dead-letter reasons are
//! length-prefixed). Decoding bounds every count by the bytes left before allocating, so it
//! allocates at most about three times the input length; loading
//! ([`GroupState::from_checkpoint`]) re-checks every invariant of the group state.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::codec::{Reader, Writer};
use crate::{
    DecodeError, EncodeError, GroupConfig, GroupError, GroupId, GroupState, Lease, OutcomeRef,
    RangeSet, GROUP_NAME_BYTES_MAX, REASON_BYTES_MAX,
};

/// The version byte of the current checkpoint layout (0 is never used).
pub const CHECKPOINT_VERSION: u8 = 1;

// Entry sizes in bytes, used to bound counts before allocating.
const RANGE_BYTES: usize = 8 + 8;
const LEASE_BYTES: usize = 8 + 8 + 8 + 4;
const ATTEMPT_BYTES: usize = 8 + 4;
const DELAY_BYTES: usize = 8 + 8;
const DEAD_BYTES_MIN: usize = 8 + 4;
const OUTCOME_BYTES: usize = 8 + 8;
const _: () = assert!(LEASE_BYTES == 28);

/// The recorded state of one group, as plain sorted lists.
///
/// ```
/// use logq_offsets::{Checkpoint, GroupConfig, GroupId, GroupState};
/// let config = GroupConfig::default();
/// let mut group = GroupState::new(config, 0).unwrap();
/// group.deliver(0, 1, 0).unwrap();
/// group.ack(1).unwrap();
/// let checkpoint = group.checkpoint(GroupId(3), "billing");
/// let bytes = checkpoint.to_bytes().unwrap();
/// let decoded = Checkpoint::decode(&bytes).unwrap();
/// assert_eq!(decoded, checkpoint);
/// assert_eq!(GroupState::from_checkpoint(config, &decoded).unwrap(), group);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Checkpoint {
    /// The group's id.
    pub group: GroupId,
    /// The group's name.
    pub name: String,
    /// Every offset below is settled; the floor itself is not.
    pub floor: u64,
    /// The lowest never-delivered, unsettled offset.
    pub next_to_deliver: u64,
    /// Settled ranges above the floor, ascending, disjoint, non-adjacent.
    pub settled_ranges: Vec<Range<u64>>,
    /// Leases by offset.
    pub leases: Vec<(u64, Lease)>,
    /// Delivery attempt counts of delivered, unsettled offsets.
    pub attempts: Vec<(u64, u32)>,
    /// Redelivery delays (offset, not before ms).
    pub delays: Vec<(u64, u64)>,
    /// Dead-lettered offsets and their reasons.
    pub dead: Vec<(u64, String)>,
    /// Outcome locators of acknowledged offsets.
    pub outcomes: Vec<(u64, OutcomeRef)>,
}

impl GroupState {
    /// Snapshots the recorded state, labelled with the group's id and name.
    pub fn checkpoint(&self, group: GroupId, name: &str) -> Checkpoint {
        Checkpoint {
            group,
            name: name.to_owned(),
            floor: self.settled.floor(),
            next_to_deliver: self.next_to_deliver,
            settled_ranges: self.settled.ranges_above_floor().collect(),
            leases: pairs(&self.leases),
            attempts: pairs(&self.attempts),
            delays: pairs(&self.delays),
            dead: pairs(&self.dead),
            outcomes: pairs(&self.outcomes),
        }
    }

    /// Rebuilds a group from a checkpoint, checking every invariant (a checkpoint read from
    /// disk is not trusted). The clock starts at 0.
    pub fn from_checkpoint(
        config: GroupConfig,
        checkpoint: &Checkpoint,
    ) -> Result<GroupState, GroupError> {
        let mut state = GroupState::new(config, checkpoint.floor)?;
        state.settled = RangeSet::from_parts(checkpoint.floor, &checkpoint.settled_ranges)
            .map_err(|what| GroupError::Inconsistent { what })?;
        state.next_to_deliver = checkpoint.next_to_deliver;
        state.leases = sorted_map(&checkpoint.leases)?;
        state.attempts = sorted_map(&checkpoint.attempts)?;
        state.delays = sorted_map(&checkpoint.delays)?;
        state.dead = sorted_map(&checkpoint.dead)?;
        state.outcomes = sorted_map(&checkpoint.outcomes)?;
        state.check_recorded()?;
        state.rebuild_indices();
        Ok(state)
    }
}

fn pairs<V: Clone>(map: &BTreeMap<u64, V>) -> Vec<(u64, V)> {
    map.iter().map(|(&k, v)| (k, v.clone())).collect()
}

fn sorted_map<V: Clone>(entries: &[(u64, V)]) -> Result<BTreeMap<u64, V>, GroupError> {
    if entries.windows(2).any(|pair| pair[0].0 >= pair[1].0) {
        return Err(GroupError::Inconsistent {
            what: "checkpoint entries not in strictly increasing offset order",
        });
    }
    Ok(entries.iter().cloned().collect())
}

impl Checkpoint {
    /// Appends the encoding to `out`; fails (appending nothing) if a string or list is too long.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        let result = self.write(&mut Writer { out });
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    /// The encoding as a new vector.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode_into(&mut out)?;
        Ok(out)
    }

    fn write(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.u8(CHECKPOINT_VERSION);
        w.u32(self.group.0);
        w.bytes("group name", self.name.as_bytes(), GROUP_NAME_BYTES_MAX)?;
        w.u64(self.floor);
        w.u64(self.next_to_deliver);
        w.count("settled ranges", self.settled_ranges.len(), u32::MAX)?;
        for range in &self.settled_ranges {
            w.u64(range.start);
            w.u64(range.end);
        }
        w.count("leases", self.leases.len(), u32::MAX)?;
        for (offset, lease) in &self.leases {
            w.u64(*offset);
            w.u64(lease.consumer_id);
            w.u64(lease.deadline_ms);
            w.u32(lease.attempt);
        }
        w.count("attempts", self.attempts.len(), u32::MAX)?;
        for (offset, attempts) in &self.attempts {
            w.u64(*offset);
            w.u32(*attempts);
        }
        w.count("delays", self.delays.len(), u32::MAX)?;
        for (offset, not_before_ms) in &self.delays {
            w.u64(*offset);
            w.u64(*not_before_ms);
        }
        w.count("dead letters", self.dead.len(), u32::MAX)?;
        for (offset, reason) in &self.dead {
            w.u64(*offset);
            w.bytes("reason", reason.as_bytes(), REASON_BYTES_MAX)?;
        }
        w.count("outcomes", self.outcomes.len(), u32::MAX)?;
        for (offset, outcome) in &self.outcomes {
            w.u64(*offset);
            w.u64(outcome.0);
        }
        Ok(())
    }

    /// Decodes exactly one checkpoint from `bytes`. Only the layout is checked here; the
    /// meaning is checked by [`GroupState::from_checkpoint`].
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let version = r.u8("checkpoint version")?;
        if version != CHECKPOINT_VERSION {
            return Err(DecodeError::UnknownTag {
                at: 0,
                expected: "checkpoint version",
                tag: version,
            });
        }
        let group = GroupId(r.u32("group id")?);
        let name = r.string("group name", GROUP_NAME_BYTES_MAX)?;
        let floor = r.u64("floor")?;
        let next_to_deliver = r.u64("next to deliver")?;

        let count = r.count("settled ranges", u32::MAX, RANGE_BYTES)?;
        let mut settled_ranges = Vec::with_capacity(count);
        for _ in 0..count {
            settled_ranges.push(r.u64("range start")?..r.u64("range end")?);
        }
        let count = r.count("leases", u32::MAX, LEASE_BYTES)?;
        let mut leases = Vec::with_capacity(count);
        for _ in 0..count {
            let offset = r.u64("lease offset")?;
            let lease = Lease {
                consumer_id: r.u64("lease consumer id")?,
                deadline_ms: r.u64("lease deadline")?,
                attempt: r.u32("lease attempt")?,
            };
            leases.push((offset, lease));
        }
        let count = r.count("attempts", u32::MAX, ATTEMPT_BYTES)?;
        let mut attempts = Vec::with_capacity(count);
        for _ in 0..count {
            attempts.push((r.u64("attempt offset")?, r.u32("attempt count")?));
        }
        let count = r.count("delays", u32::MAX, DELAY_BYTES)?;
        let mut delays = Vec::with_capacity(count);
        for _ in 0..count {
            delays.push((r.u64("delay offset")?, r.u64("delay until")?));
        }
        let count = r.count("dead letters", u32::MAX, DEAD_BYTES_MIN)?;
        let mut dead = Vec::with_capacity(count);
        for _ in 0..count {
            dead.push((r.u64("dead offset")?, r.string("reason", REASON_BYTES_MAX)?));
        }
        let count = r.count("outcomes", u32::MAX, OUTCOME_BYTES)?;
        let mut outcomes = Vec::with_capacity(count);
        for _ in 0..count {
            outcomes.push((r.u64("outcome offset")?, OutcomeRef(r.u64("outcome ref")?)));
        }
        r.finish()?;
        Ok(Checkpoint {
            group,
            name,
            floor,
            next_to_deliver,
            settled_ranges,
            leases,
            attempts,
            delays,
            dead,
            outcomes,
        })
    }
}
