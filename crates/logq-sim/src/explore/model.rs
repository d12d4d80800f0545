//! [`Model`]: what the workload sent and what the log acknowledged, the reference every
//! recovered log is checked against.
//!
//! Invariants: every payload is unique (it starts with `<batch id>/<index>/`), so a payload
//! read back names the batch and position it was sent at; a batch is recorded before its
//! append starts and marked acknowledged only when the append returned `Ok`.

use crate::rng::{derive_seed, SimRng};
use std::collections::HashMap;
use std::ops::Range;

/// One batch the workload tried to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentBatch {
    /// The payloads, in order.
    pub payloads: Vec<Vec<u8>>,
    /// The offsets the append returned, once they are promised durable: when the append
    /// returned `Ok` under `Always`, or a later `sync` returned `Ok` otherwise.
    pub acked: Option<Range<u64>>,
    /// The offsets the append returned when it returned `Ok` (durable or not). A batch found
    /// in the log must be at these offsets.
    pub returned: Option<Range<u64>>,
}

/// Everything sent and acknowledged so far.
#[derive(Clone, Debug, Default)]
pub struct Model {
    batches: Vec<SentBatch>,
    by_payload: HashMap<Vec<u8>, (usize, usize)>,
    retention_before: u64,
    ordered: bool,
}

/// A deterministic payload of `len` bytes (at least its prefix) for record `index` of batch
/// `batch`.
pub fn payload(batch: usize, index: usize, len: usize) -> Vec<u8> {
    let mut bytes = format!("{batch}/{index}/").into_bytes();
    if bytes.len() < len {
        let start = bytes.len();
        bytes.resize(len, 0);
        let seed = derive_seed(
            u64::try_from(batch).unwrap_or(0),
            &[u64::try_from(index).unwrap_or(0)],
        );
        SimRng::new(seed).fill(&mut bytes[start..]);
    }
    bytes
}

impl Model {
    /// An empty model; `ordered` says batches were appended one at a time, so their order
    /// in the log must be the order they were sent in.
    pub fn new(ordered: bool) -> Self {
        Model {
            ordered,
            ..Model::default()
        }
    }

    /// Records a new batch with payloads of the given sizes; returns its id and payloads.
    pub fn send(&mut self, sizes: &[usize]) -> (usize, Vec<Vec<u8>>) {
        let id = self.batches.len();
        let payloads: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(index, len)| payload(id, index, *len))
            .collect();
        for (index, p) in payloads.iter().enumerate() {
            self.by_payload.insert(p.clone(), (id, index));
        }
        self.batches.push(SentBatch {
            payloads: payloads.clone(),
            acked: None,
            returned: None,
        });
        (id, payloads)
    }

    /// Marks batch `id` acknowledged (promised durable) at `offsets`.
    pub fn ack(&mut self, id: usize, offsets: Range<u64>) {
        if let Some(batch) = self.batches.get_mut(id) {
            batch.returned = Some(offsets.clone());
            batch.acked = Some(offsets);
        }
    }

    /// Notes that the append of batch `id` returned `offsets` without a durability promise
    /// (`Interval`, `Never`).
    pub fn returned(&mut self, id: usize, offsets: Range<u64>) {
        if let Some(batch) = self.batches.get_mut(id) {
            batch.returned = Some(offsets);
        }
    }

    /// The batches whose append returned but that are not promised durable yet: what a
    /// `sync` starting now covers.
    pub fn not_yet_durable(&self) -> Vec<usize> {
        self.batches
            .iter()
            .enumerate()
            .filter(|(_, b)| b.returned.is_some() && b.acked.is_none())
            .map(|(id, _)| id)
            .collect()
    }

    /// A `sync` that started after `ids` were appended returned `Ok`: they are durable.
    pub fn synced(&mut self, ids: &[usize]) {
        for id in ids {
            if let Some(batch) = self.batches.get_mut(*id) {
                batch.acked.clone_from(&batch.returned);
            }
        }
    }

    /// Notes a call of `remove_segments_before(before)` (successful or not).
    pub fn note_retention(&mut self, before: u64) {
        self.retention_before = self.retention_before.max(before);
    }

    /// The largest offset retention was asked to remove records below.
    pub fn retention_before(&self) -> u64 {
        self.retention_before
    }

    /// True when batches were sent one at a time.
    pub fn ordered(&self) -> bool {
        self.ordered
    }

    /// The batch with id `id`.
    pub fn batch(&self, id: usize) -> Option<&SentBatch> {
        self.batches.get(id)
    }

    /// Every batch, by id.
    pub fn batches(&self) -> &[SentBatch] {
        &self.batches
    }

    /// The batch id and position in it of a payload that was sent.
    pub fn lookup(&self, payload: &[u8]) -> Option<(usize, usize)> {
        self.by_payload.get(payload).copied()
    }

    /// Number of acknowledged batches.
    pub fn acked_count(&self) -> usize {
        self.batches.iter().filter(|b| b.acked.is_some()).count()
    }
}
