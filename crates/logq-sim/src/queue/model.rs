//! [`QueueModel`]: what a queue workload was told — the reference every recovered store is
//! checked against.
//!
//! Invariants: every payload is unique (it starts with `m<index>/`), so a payload read back
//! names the send it came from; a send is recorded before it starts and its ids only when it
//! returned `Ok`; acks and dead letters are recorded as *tried* before the call and as `Ok`
//! after it returned `Ok`.

use super::workload::QUEUE_GROUPS;
use crate::rng::{derive_seed, SimRng};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One message the workload tried to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentMessage {
    /// The payload.
    pub payload: Vec<u8>,
    /// The dedup id it was sent with.
    pub dedup: Option<String>,
    /// The send (batch) it belongs to.
    pub batch: usize,
    /// The id the send returned, when it returned `Ok`.
    pub id: Option<u64>,
}

/// What one consumer group was told.
#[derive(Clone, Debug, Default)]
pub struct QueueGroupTrack {
    /// A consumer of the group was asked for (the group may exist).
    pub created_tried: bool,
    /// Creating a consumer of the group returned `Ok` (the group exists).
    pub created_ok: bool,
    /// The queue's first id when the group was first created `Ok`: it starts there, and
    /// retention never had to wait for it below.
    pub start_floor: Option<u64>,
    /// Acks that returned `Ok`, with the outcome.
    pub acked_ok: BTreeMap<u64, Option<Vec<u8>>>,
    /// Acks tried, with each outcome.
    pub acked_tried: BTreeMap<u64, Vec<Option<Vec<u8>>>>,
    /// Explicit dead letters that returned `Ok`.
    pub dead_ok: BTreeSet<u64>,
    /// Explicit dead letters tried.
    pub dead_tried: BTreeSet<u64>,
    /// Highest attempt handed out per id.
    pub attempts: BTreeMap<u64, u32>,
    /// Receives that failed: each may have leased a message (an attempt the model did not
    /// see) before failing.
    pub failed_receives: u64,
}

/// Everything a queue workload was told.
#[derive(Clone, Debug)]
pub struct QueueModel {
    /// Every message, by index.
    pub messages: Vec<SentMessage>,
    /// Message indices of every send (a batch or a single message), in send order.
    pub batches: Vec<Vec<usize>>,
    /// Index of each payload.
    pub by_payload: HashMap<Vec<u8>, usize>,
    /// The id the first `Ok` send of each dedup id returned.
    pub dedup_ok: BTreeMap<String, u64>,
    /// One track per entry of [`QUEUE_GROUPS`].
    pub groups: Vec<QueueGroupTrack>,
    /// Probes sent to check poisoning.
    pub probes: u64,
}

impl Default for QueueModel {
    fn default() -> Self {
        QueueModel {
            messages: Vec::new(),
            batches: Vec::new(),
            by_payload: HashMap::new(),
            dedup_ok: BTreeMap::new(),
            groups: vec![QueueGroupTrack::default(); QUEUE_GROUPS.len()],
            probes: 0,
        }
    }
}

/// The dedup id of number `n`.
pub fn dedup_id(n: u8) -> String {
    format!("d{n}")
}

impl QueueModel {
    /// Records a new send of messages `(size, dedup id)`; returns the message indices.
    pub fn send(&mut self, messages: &[(usize, Option<String>)]) -> Vec<usize> {
        let batch = self.batches.len();
        let mut indices = Vec::new();
        for (size, dedup) in messages {
            let index = self.messages.len();
            let mut payload = format!("m{index}/").into_bytes();
            if payload.len() < *size {
                let start = payload.len();
                payload.resize(*size, 0);
                let seed = derive_seed(u64::try_from(index).unwrap_or(0), &[7]);
                SimRng::new(seed).fill(&mut payload[start..]);
            }
            self.by_payload.insert(payload.clone(), index);
            self.messages.push(SentMessage {
                payload,
                dedup: dedup.clone(),
                batch,
                id: None,
            });
            indices.push(index);
        }
        self.batches.push(indices.clone());
        indices
    }

    /// Records the ids a send returned.
    pub fn sent(&mut self, indices: &[usize], ids: &[u64]) {
        for (&index, &id) in indices.iter().zip(ids) {
            let message = &mut self.messages[index];
            message.id = Some(id);
            if let Some(dedup) = &message.dedup {
                self.dedup_ok.entry(dedup.clone()).or_insert(id);
            }
        }
    }

    /// The track of group `index`.
    pub fn track(&mut self, index: usize) -> &mut QueueGroupTrack {
        &mut self.groups[index % QUEUE_GROUPS.len()]
    }

    /// The outcome an ack of `id` in step `step` carries.
    pub fn outcome_for(id: u64, step: usize) -> Vec<u8> {
        format!("done {id} @{step}").into_bytes()
    }
}
