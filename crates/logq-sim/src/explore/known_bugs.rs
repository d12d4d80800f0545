//! Bugs found in logq-log by this explorer, recognised by precise signatures. All are fixed;
//! the explorer no longer tolerates them (`ExploreConfig::tolerate_known_bugs` is false by
//! default), so a regression fails the exploration with its name.
//!
//! Every entry has a regression test in `tests/known_bugs.rs` (run by default) that
//! reproduces its exact scenario and passes since the fix.
//! Invariant: a signature matches only the exact situation the bug describes, never a
//! broader class of failures.

use super::violation::Violation;
use crate::fault::{FaultPlan, OpKind};
use crate::SimFs;
use logq_log::format::names;
use logq_log::Error;
use std::fmt;
use std::path::Path;

/// Bytes of a segment header (format v1).
const SEGMENT_HEADER_BYTES: usize = 32;

/// A known, unfixed logq-log bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KnownBug {
    /// A power cut during a roll (new segment created, header written but not yet
    /// fdatasynced) can leave the new tail segment's header as garbage with nothing after
    /// it; `Log::open` then refuses with `Error::Foreign` instead of removing the unfinished
    /// segment as it does for a short or zeroed header.
    GarbageHeaderOfUnfinishedRoll,
    /// A roll truncates the preallocated zeros of the old segment (`set_len`) and then
    /// fdatasyncs it; when that fdatasync fails, the truncation is lost with the other pending
    /// changes, but the live file is already short. After a restart `Log::open` fdatasyncs
    /// the (clean) file, which does not redo the truncation, and later rolls past the segment
    /// without truncating (the live length matches). A power cut then brings back the zeros
    /// at the end of a sealed segment, and reading it fails with `Corrupt` ("zero batch
    /// length"): acknowledged records in that segment become unreadable.
    LostTruncateAfterFailedSync,
    /// `remove_segments_before` takes the oldest segment out of the in-memory list before
    /// its file is removed and its directory fsynced. When that removal (or the directory
    /// fsync) fails, the file stays; a later call removes the next segments, and after a
    /// restart the leftover oldest segment is followed by a gap: `first_offset` is its base
    /// but reading it fails with `Corrupt` ("segment ends at offset X but the next segment
    /// starts at Y"). The same gap appears after a power cut when a failed directory fsync
    /// left the first removal pending and a later one was made durable.
    RetentionGapAfterFailedRemove,
    /// Two threads calling `remove_segments_before` at once: each picks the oldest segment
    /// under a read lock, then each removes index 0 of the list under a write lock, so the
    /// second takes the *next* segment out of memory while deleting the first one's file
    /// again (`NotFound`). The next segment's file stays on disk, later retention removes the
    /// ones after it, and after a restart the log has a gap ("segment ends at offset X but
    /// the next segment starts at Y").
    ConcurrentRetentionRace,
    /// A roll's fdatasync of the old segment can run while the group-commit leader's
    /// fdatasync of the same file fails. The failure drops the pending pages; the roll's
    /// fdatasync then succeeds (Linux reports a writeback error to one caller only) and the
    /// roll seals the segment and creates the next one although its last batches never
    /// reached the disk. After a restart only the tail is rewritten and fdatasynced, so a
    /// power cut leaves a sealed segment short of batches ("a sealed segment holds no
    /// batch", or a damaged batch): `Log::open` or reads fail on acknowledged data. The
    /// roll also marks those offsets durable, so a waiter whose batch they cover returns
    /// `Ok` from `wait_durable` (it checks the durable offset before the poison) and an
    /// acknowledged batch can be lost.
    RollAfterConcurrentFailedSync,
}

impl fmt::Display for KnownBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KnownBug::GarbageHeaderOfUnfinishedRoll => f.write_str(
                "logq-log bug: garbage header of an unfinished roll's segment is refused as Foreign",
            ),
            KnownBug::RetentionGapAfterFailedRemove => f.write_str(
                "logq-log bug: retention after a failed removal leaves a gap behind the oldest segment",
            ),
            KnownBug::ConcurrentRetentionRace => f.write_str(
                "logq-log bug: concurrent remove_segments_before calls remove the wrong segment",
            ),
            KnownBug::RollAfterConcurrentFailedSync => f.write_str(
                "logq-log bug: a roll seals a segment after a concurrent fdatasync of it failed",
            ),
            KnownBug::LostTruncateAfterFailedSync => f.write_str(
                "logq-log bug: a truncation lost by a failed fdatasync leaves zeros in a sealed segment",
            ),
        }
    }
}

/// The known bug that explains `error` from `Log::open` on `fs`, if one does.
pub fn known_bug(fs: &SimFs, dir: &Path, error: &Error) -> Option<KnownBug> {
    let Error::Foreign { file, .. } = error else {
        return None;
    };
    let tail = fs
        .live_names(dir)
        .into_iter()
        .filter(|name| names::parse_numbered(name, names::SEGMENT_EXTENSION).is_some())
        .max()?;
    if file.as_path() != dir.join(&tail) {
        return None;
    }
    let bytes = fs.live_bytes(file)?;
    let nothing_after_header = bytes
        .get(SEGMENT_HEADER_BYTES..)
        .is_none_or(|rest| rest.iter().all(|b| *b == 0));
    nothing_after_header.then_some(KnownBug::GarbageHeaderOfUnfinishedRoll)
}

/// The known bug that explains `violation` found on `fs` in a run of `threads` threads under
/// `faults` (while running, or when checking the log recovered after a crash), if one does.
pub fn known_violation(
    fs: &SimFs,
    dir: &Path,
    threads: usize,
    faults: &FaultPlan,
    violation: &Violation,
) -> Option<KnownBug> {
    let has = |kind: OpKind| faults.rules().iter().any(|r| r.kind == kind);
    let concurrent = threads > 1;
    let error = match violation {
        Violation::UnexpectedError { during, error } => {
            let race = concurrent
                && *during == "remove_segments_before"
                && error.contains("does not exist");
            return race.then_some(KnownBug::ConcurrentRetentionRace);
        }
        Violation::RecoveryFailed { error } => {
            let short_sealed = concurrent
                && has(OpKind::SyncData)
                && error.contains("a sealed segment holds no batch");
            return short_sealed.then_some(KnownBug::RollAfterConcurrentFailedSync);
        }
        Violation::AckedLost { .. } => {
            let lost = concurrent && has(OpKind::SyncData);
            return lost.then_some(KnownBug::RollAfterConcurrentFailedSync);
        }
        Violation::ReadFailed { error, .. } => error,
        _ => return None,
    };
    if error.contains("but the next segment starts at") {
        if has(OpKind::Remove) || has(OpKind::SyncDir) {
            return Some(KnownBug::RetentionGapAfterFailedRemove);
        }
        if concurrent {
            return Some(KnownBug::ConcurrentRetentionRace);
        }
        return None;
    }
    if !has(OpKind::SyncData) {
        return None;
    }
    let segments: Vec<String> = fs
        .live_names(dir)
        .into_iter()
        .filter(|name| names::parse_numbered(name, names::SEGMENT_EXTENSION).is_some())
        .collect();
    let sealed = &segments[..segments.len().saturating_sub(1)];
    let damaged = sealed.iter().find(|name| error.contains(name.as_str()))?;
    let bytes = fs.live_bytes(&dir.join(damaged))?;
    if error.contains("zero batch length") && bytes.last().is_some_and(|b| *b == 0) {
        return Some(KnownBug::LostTruncateAfterFailedSync);
    }
    concurrent.then_some(KnownBug::RollAfterConcurrentFailedSync)
}
