//! Checking a sparse index file against its segment (FORMAT.md §3).
//!
//! The index is derived data: logq rebuilds a wrong one, so a bad index never loses data, but
//! `verify` still reports it because the directory is not as logq wrote it.

use crate::scan::to_usize;
use logq_log::format::batch::check_batch;
use logq_log::format::index_file;
use std::fmt;

/// The state of a segment's index file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexState {
    /// Sealed, and its trailer and entries agree with the segment.
    Ok,
    /// The tail's open index: every entry below the valid end points at the right batch.
    Open,
    /// No index file.
    Missing,
    /// Decodes, but disagrees with the segment (would be rebuilt on next read).
    Stale(String),
    /// Does not decode (header, CRC, trailer).
    Damaged(String),
}

impl IndexState {
    /// The one-word name shown in tables.
    pub fn name(&self) -> &'static str {
        match self {
            IndexState::Ok => "ok",
            IndexState::Open => "open",
            IndexState::Missing => "missing",
            IndexState::Stale(_) => "stale",
            IndexState::Damaged(_) => "damaged",
        }
    }

    /// True for the states that are as logq writes them.
    pub fn is_healthy(&self) -> bool {
        matches!(self, IndexState::Ok | IndexState::Open)
    }

    /// The detail for an unhealthy state.
    pub fn detail(&self) -> Option<&str> {
        match self {
            IndexState::Stale(why) | IndexState::Damaged(why) => Some(why),
            _ => None,
        }
    }
}

impl fmt::Display for IndexState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.detail() {
            Some(why) => write!(f, "{}: {why}", self.name()),
            None => f.write_str(self.name()),
        }
    }
}

/// What the index is checked against: facts from scanning the segment.
#[derive(Clone, Copy, Debug)]
pub struct SegmentFacts<'a> {
    /// The whole segment file.
    pub bytes: &'a [u8],
    /// Its base offset.
    pub base_offset: u64,
    /// True for the last segment of the log (whose index is open).
    pub is_tail: bool,
    /// End of the valid prefix in bytes.
    pub valid_end: u64,
    /// The offset after the last record of the valid prefix.
    pub end_offset: u64,
    /// Position of the last batch of the valid prefix, if any.
    pub last_batch_position: Option<u64>,
    /// Largest batch accepted.
    pub batch_bytes_max: u32,
}

/// Checks `index` (the file's bytes, `None` when missing) against the segment.
pub fn check_index(index: Option<&[u8]>, facts: SegmentFacts<'_>) -> IndexState {
    let Some(raw) = index else {
        return IndexState::Missing;
    };
    let decoded = match index_file::decode(raw, facts.base_offset) {
        Ok(decoded) => decoded,
        Err(why) => return IndexState::Damaged(why),
    };
    for entry in &decoded.entries {
        if facts.is_tail && u64::from(entry.position) >= facts.valid_end {
            // Entries past the valid end of an open tail are dropped on open.
            continue;
        }
        let at = to_usize(u64::from(entry.position));
        let found = facts
            .bytes
            .get(at..)
            .and_then(|rest| check_batch(rest, facts.batch_bytes_max).ok());
        match found {
            Some(header) if header.base_offset == entry.offset => {}
            Some(header) => {
                return IndexState::Stale(format!(
                    "entry for offset {} points at byte {} where the batch of offset {} starts",
                    entry.offset, entry.position, header.base_offset
                ))
            }
            None => {
                return IndexState::Stale(format!(
                    "entry for offset {} points at byte {} where no valid batch starts",
                    entry.offset, entry.position
                ))
            }
        }
    }
    match (decoded.sealed, facts.is_tail) {
        (None, true) => IndexState::Open,
        (None, false) => IndexState::Stale("the index of a sealed segment has no trailer".into()),
        (Some(_), true) => IndexState::Stale(
            "the tail segment has a sealed index (a roll did not finish); rewritten on open".into(),
        ),
        (Some(trailer), false) => check_trailer(trailer, facts),
    }
}

fn check_trailer(trailer: index_file::SealedTrailer, facts: SegmentFacts<'_>) -> IndexState {
    let file_len = u64::try_from(facts.bytes.len()).unwrap_or(u64::MAX);
    if u64::from(trailer.segment_len) != file_len {
        return IndexState::Stale(format!(
            "trailer says the segment has {} bytes, the file has {file_len}",
            trailer.segment_len
        ));
    }
    if trailer.end_offset != facts.end_offset {
        return IndexState::Stale(format!(
            "trailer says the segment ends at offset {}, its batches end at {}",
            trailer.end_offset, facts.end_offset
        ));
    }
    if Some(u64::from(trailer.last_batch_position)) != facts.last_batch_position {
        return IndexState::Stale(format!(
            "trailer says the last batch is at byte {}, it is at {}",
            trailer.last_batch_position,
            facts
                .last_batch_position
                .map_or_else(|| "none".to_string(), |p| p.to_string())
        ));
    }
    IndexState::Ok
}
