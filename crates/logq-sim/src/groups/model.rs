//! [`GroupModel`]: what a consumer-group workload was told — the reference every recovered
//! store is checked against.
//!
//! Invariants: an offset is in `acked_ok` only after `ack`/`ack_with_outcome` returned
//! `Ok(true)`, in `dead_ok` only after `dead_letter` returned `Ok`; every call is noted as
//! *tried* before it starts, so a recovered ack or dead letter that was never tried is a
//! phantom.

use super::workload::GROUP_NAMES;
use std::collections::{BTreeMap, BTreeSet};

/// What one group was told.
#[derive(Clone, Debug, Default)]
pub struct GroupTrack {
    /// `ensure_group` returned `Ok`.
    pub created: bool,
    /// Offsets leased to the workload (oldest first).
    pub held: Vec<u64>,
    /// Acks that returned `Ok(true)`, with the outcome stored.
    pub acked_ok: BTreeMap<u64, Option<Vec<u8>>>,
    /// Acks tried, with the outcome each carried.
    pub acked_tried: BTreeMap<u64, Vec<Option<Vec<u8>>>>,
    /// Dead letters that returned `Ok`.
    pub dead_ok: BTreeSet<u64>,
    /// Dead letters tried.
    pub dead_tried: BTreeSet<u64>,
    /// Highest attempt number handed out per offset.
    pub attempts: BTreeMap<u64, u32>,
}

/// Everything a group workload was told.
#[derive(Clone, Debug)]
pub struct GroupModel {
    /// The queue's next offset.
    pub log_end: u64,
    /// The scripted clock.
    pub now_ms: u64,
    /// One track per entry of [`GROUP_NAMES`].
    pub groups: Vec<GroupTrack>,
    /// Probe groups created to check poisoning.
    pub probes: u64,
}

impl Default for GroupModel {
    fn default() -> Self {
        GroupModel {
            log_end: 0,
            now_ms: 1_000_000,
            groups: vec![GroupTrack::default(); GROUP_NAMES.len()],
            probes: 0,
        }
    }
}

impl GroupModel {
    /// The track of group `index`.
    pub fn track(&mut self, index: usize) -> &mut GroupTrack {
        &mut self.groups[index % GROUP_NAMES.len()]
    }

    /// The outcome bytes an ack of `offset` in step `step` carries.
    pub fn outcome_for(offset: u64, step: usize) -> Vec<u8> {
        format!("outcome {offset} @{step}").into_bytes()
    }
}

impl GroupTrack {
    /// The held offset `pick` chooses, if any lease is held.
    pub fn pick(&self, pick: usize) -> Option<u64> {
        if self.held.is_empty() {
            return None;
        }
        self.held.get(pick % self.held.len()).copied()
    }

    /// Forgets the lease on `offset`.
    pub fn drop_held(&mut self, offset: u64) {
        self.held.retain(|o| *o != offset);
    }
}
