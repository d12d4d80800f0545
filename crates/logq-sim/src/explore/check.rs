//! Checking a recovered log against the [`Model`]: the invariants of ENGINEERING.md §2 that
//! concern the log (1–4), plus retention keeping the log contiguous from `first_offset`.
//!
//! What is checked, in order:
//! - offsets are dense from `first_offset` to `next_offset`, by iteration, and `read` agrees
//!   with iteration at every offset and fails at `next_offset`;
//! - every record is a payload that was sent, every batch found is whole, found once, and at
//!   the offsets its append returned when it was acknowledged; one thread's batches keep
//!   their send order;
//! - every acknowledged batch at or above `first_offset` is present; one below it is only
//!   allowed to be gone when retention was asked to remove it.

use super::model::Model;
use super::violation::Violation;
use logq_log::{Error, Log};
use std::collections::HashSet;

/// The records of a recovered log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogState {
    /// `Log::first_offset`.
    pub first: u64,
    /// `Log::next_offset`.
    pub next: u64,
    /// Every record from `first` on, as `(offset, payload)`.
    pub records: Vec<(u64, Vec<u8>)>,
}

impl LogState {
    /// `(first, next, records)` for messages.
    pub fn summary(&self) -> (u64, u64, usize) {
        (self.first, self.next, self.records.len())
    }
}

/// Reads the whole log and checks it against `model`.
pub fn check_log(log: &Log, model: &Model) -> Result<LogState, Violation> {
    let state = read_all(log)?;
    check_reads(log, &state)?;
    check_batches(&state, model)?;
    check_acked(&state, model)?;
    Ok(state)
}

fn read_all(log: &Log) -> Result<LogState, Violation> {
    let first = log.first_offset();
    let next = log.next_offset();
    let mut expected = first;
    let mut records = Vec::new();
    for batch in log.batches_from(first) {
        let batch = batch.map_err(|e| Violation::ReadFailed {
            offset: expected,
            error: e.to_string(),
        })?;
        let header = batch.header();
        if header.base_offset != expected {
            return Err(Violation::NotDense {
                expected,
                found: header.base_offset,
            });
        }
        for record in batch.records() {
            if record.offset != expected {
                return Err(Violation::NotDense {
                    expected,
                    found: record.offset,
                });
            }
            records.push((record.offset, record.payload.to_vec()));
            expected += 1;
        }
        if expected != header.next_offset() {
            return Err(Violation::NotDense {
                expected: header.next_offset(),
                found: expected,
            });
        }
    }
    if expected != next {
        return Err(Violation::NotDense {
            expected: next,
            found: expected,
        });
    }
    Ok(LogState {
        first,
        next,
        records,
    })
}

fn check_reads(log: &Log, state: &LogState) -> Result<(), Violation> {
    for (offset, payload) in &state.records {
        let record = log.read(*offset).map_err(|e| Violation::ReadFailed {
            offset: *offset,
            error: e.to_string(),
        })?;
        if record.offset != *offset || record.payload != *payload {
            return Err(Violation::ReadMismatch { offset: *offset });
        }
    }
    match log.read(state.next) {
        Err(Error::OffsetOutOfRange { .. }) => {}
        _ => return Err(Violation::ReadMismatch { offset: state.next }),
    }
    if state.first > 0 {
        match log.read(state.first - 1) {
            Err(Error::OffsetOutOfRange { .. }) => {}
            _ => {
                return Err(Violation::ReadMismatch {
                    offset: state.first - 1,
                })
            }
        }
    }
    Ok(())
}

fn prefix(payload: &[u8]) -> String {
    String::from_utf8_lossy(&payload[..payload.len().min(16)]).into_owned()
}

fn check_batches(state: &LogState, model: &Model) -> Result<(), Violation> {
    let mut seen = HashSet::new();
    let mut last_batch: Option<usize> = None;
    let mut at = 0;
    while let Some((offset, payload)) = state.records.get(at) {
        let offset = *offset;
        let Some((id, index)) = model.lookup(payload) else {
            return Err(Violation::Phantom {
                offset,
                prefix: prefix(payload),
            });
        };
        if index != 0 {
            return Err(Violation::PartialBatch { offset, batch: id });
        }
        if !seen.insert(id) {
            return Err(Violation::Duplicate { offset, batch: id });
        }
        if model.ordered() && last_batch.is_some_and(|last| last > id) {
            return Err(Violation::OutOfOrder { offset });
        }
        last_batch = Some(id);
        let Some(batch) = model.batch(id) else {
            return Err(Violation::PartialBatch { offset, batch: id });
        };
        for (j, expected) in batch.payloads.iter().enumerate() {
            match state.records.get(at + j) {
                Some((_, found)) if found == expected => {}
                _ => return Err(Violation::PartialBatch { offset, batch: id }),
            }
        }
        if let Some(acked) = &batch.returned {
            if acked.start != offset {
                return Err(Violation::WrongOffset {
                    batch: id,
                    acked: acked.clone(),
                    found: offset,
                });
            }
        }
        at += batch.payloads.len();
    }
    Ok(())
}

fn check_acked(state: &LogState, model: &Model) -> Result<(), Violation> {
    if state.first > model.retention_before() {
        return Err(Violation::HeadLost {
            first: state.first,
            retention_before: model.retention_before(),
        });
    }
    for (id, batch) in model.batches().iter().enumerate() {
        let Some(acked) = &batch.acked else { continue };
        let lost = Violation::AckedLost {
            batch: id,
            acked: acked.clone(),
            first: state.first,
            next: state.next,
        };
        if acked.end <= state.first {
            continue; // removed by retention (first <= retention_before checked above)
        }
        if acked.start < state.first || acked.end > state.next {
            return Err(lost);
        }
        let from = usize::try_from(acked.start - state.first).unwrap_or(usize::MAX);
        for (j, expected) in batch.payloads.iter().enumerate() {
            match state.records.get(from + j) {
                Some((_, found)) if found == expected => {}
                _ => return Err(lost),
            }
        }
    }
    Ok(())
}
