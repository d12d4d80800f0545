//! The last batch [`crate::Log::read`] verified, so that reading its records one by one costs
//! one CRC check and one parse of the batch, not one per record.
//!
//! A consumer reads a backlog offset by offset; producers often send batches of hundreds of
//! records. Without the cache each `read` found the batch, checked its CRC and parsed every
//! record before the one asked for: O(batch) per record, O(batch²) per batch.
//!
//! Invariants:
//! - An entry holds a batch that passed `check_batch` (CRC and structure), with the mapping
//!   it was checked in (a mapping is a snapshot of immutable bytes: durable batches are never
//!   rewritten while the log is open) and the byte position of each record in it.
//! - The cache never widens what a reader may see: the caller checks the offset against the
//!   log's first and visible offsets before asking it.

use crate::format::batch::{BatchHeader, BATCH_HEADER_LEN};
use crate::format::record::{parse_record, OwnedRecord};
use crate::format::{le_u32, to_usize};
use crate::fs::MappedBytes;
use crate::segment::FoundBatch;
use parking_lot::Mutex;
use std::sync::Arc;

/// A verified batch and where each of its records starts.
struct VerifiedBatch {
    map: Arc<dyn MappedBytes>,
    /// Byte position of the batch in the mapping.
    position: usize,
    header: BatchHeader,
    /// Byte position of each record, relative to the batch start.
    record_starts: Vec<u32>,
}

impl VerifiedBatch {
    /// Indexes the records of a batch that passed `check_batch`; `None` if its bytes do not
    /// walk as that check saw them (then the caller falls back to the slow path).
    fn new(found: &FoundBatch) -> Option<VerifiedBatch> {
        let len = to_usize(found.header.len_u64())?;
        let bytes = found
            .map
            .bytes()
            .get(found.position..found.position.checked_add(len)?)?;
        let count = to_usize(u64::from(found.header.record_count))?;
        let mut record_starts = Vec::with_capacity(count.min(bytes.len() / 4));
        let mut at = BATCH_HEADER_LEN;
        for _ in 0..count {
            record_starts.push(u32::try_from(at).ok()?);
            // Each record starts with the u32 length of the rest of it.
            let body_len = to_usize(u64::from(le_u32(bytes.get(at..at + 4)?, 0)))?;
            at = at.checked_add(4)?.checked_add(body_len)?;
        }
        (at == bytes.len()).then(|| VerifiedBatch {
            map: Arc::clone(&found.map),
            position: found.position,
            header: found.header,
            record_starts,
        })
    }

    fn covers(&self, offset: u64) -> bool {
        offset >= self.header.base_offset && offset < self.header.next_offset()
    }

    /// The record at `offset`, which the batch covers.
    fn record(&self, offset: u64) -> Option<OwnedRecord> {
        let index = to_usize(offset.checked_sub(self.header.base_offset)?)?;
        let start = self.position + to_usize(u64::from(*self.record_starts.get(index)?))?;
        let end = self.position + to_usize(self.header.len_u64())?;
        let bytes = self.map.bytes().get(start..end)?;
        let (view, _) = parse_record(bytes, offset, self.header.first_timestamp_ms).ok()?;
        Some(view.to_owned_record())
    }
}

/// The cache of one log: the last batch a `read` verified.
#[derive(Default)]
pub(crate) struct ReadCache {
    last: Mutex<Option<Arc<VerifiedBatch>>>,
}

impl ReadCache {
    /// The record at `offset` if the cached batch holds it.
    pub fn get(&self, offset: u64) -> Option<OwnedRecord> {
        let batch = self
            .last
            .lock()
            .as_ref()
            .filter(|b| b.covers(offset))?
            .clone();
        batch.record(offset)
    }

    /// Caches `found` (just verified) and returns the record at `offset` from it, or `None`
    /// when the batch could not be indexed.
    pub fn insert(&self, found: &FoundBatch, offset: u64) -> Option<OwnedRecord> {
        let batch = Arc::new(VerifiedBatch::new(found)?);
        let record = batch.record(offset)?;
        *self.last.lock() = Some(batch);
        Some(record)
    }

    /// Forgets the cached batch (its segment was removed).
    pub fn clear(&self) {
        *self.last.lock() = None;
    }
}
