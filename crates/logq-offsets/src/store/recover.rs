//! Opening the store (newest valid checkpoint + journal replay) and writing checkpoints.
//!
//! A checkpoint is chosen when it decodes and the journal still holds every record from its
//! offset on (`journal.first_offset() <= offset <= journal.next_offset()`). When the newest
//! checkpoint is damaged, the previous one is used if the journal provably covers it; if no
//! checkpoint qualifies the open fails with the file and byte offset — the store never
//! silently resets a group to offset 0 (everything redelivered) or skips unacknowledged
//! messages.

use super::checkpoint_file::{self, CheckpointFile};
use super::{OffsetOptions, StateParts, StoreError, StoreResult};
use crate::{GroupEvent, Groups, OutcomeRef};
use logq_log::fs::OpenMode;
use logq_log::Log;
use std::path::{Path, PathBuf};

/// The store's state after recovery.
pub(crate) struct Recovered {
    pub journal: Log,
    pub groups: Groups,
    pub records_replayed: u64,
    pub checkpoint_offset: Option<u64>,
    pub previous_checkpoint_offset: Option<u64>,
}

fn io(file: &Path, operation: &'static str, source: std::io::Error) -> StoreError {
    StoreError::Io {
        file: file.to_path_buf(),
        operation,
        source,
    }
}

fn corrupt(file: &Path, offset: u64, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        file: file.to_path_buf(),
        offset,
        reason: reason.into(),
    }
}

/// The journal directory inside a store directory.
pub(crate) fn journal_dir(dir: &Path) -> PathBuf {
    dir.join("journal")
}

/// Checkpoint files in `dir`, newest first.
fn list_checkpoints(options: &OffsetOptions, dir: &Path) -> StoreResult<Vec<u64>> {
    let fs = options.journal.file_system.as_ref();
    let names = match fs.list(dir) {
        Ok(names) => names,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(io(dir, "list", error)),
    };
    let mut offsets: Vec<u64> = names
        .iter()
        .filter_map(|n| checkpoint_file::parse_file_name(n))
        .collect();
    offsets.sort_unstable_by(|a, b| b.cmp(a));
    Ok(offsets)
}

fn read_checkpoint(options: &OffsetOptions, path: &Path) -> StoreResult<CheckpointFile> {
    let fs = options.journal.file_system.as_ref();
    let file = fs
        .open(path, OpenMode::Read)
        .map_err(|e| io(path, "open", e))?;
    let len = file.len().map_err(|e| io(path, "stat", e))?;
    if len > checkpoint_file::CHECKPOINT_FILE_BYTES_MAX {
        return Err(corrupt(
            path,
            0,
            format!("checkpoint of {len} bytes is larger than any logq writes"),
        ));
    }
    let mut bytes = vec![0u8; usize::try_from(len).map_err(|_| corrupt(path, 0, "too large"))?];
    file.read_exact_at(&mut bytes, 0)
        .map_err(|e| io(path, "read", e))?;
    CheckpointFile::decode(&bytes).map_err(|(offset, reason)| corrupt(path, offset, reason))
}

/// Opens the journal, picks a checkpoint and replays the journal after it.
pub(crate) fn recover(
    dir: &Path,
    options: &OffsetOptions,
    writable: bool,
) -> StoreResult<Recovered> {
    let journal_options = options.journal.clone().durability(options.durability);
    let journal_path = journal_dir(dir);
    let journal = if writable {
        logq_log::fs::create_dir_durable(options.journal.file_system.as_ref(), dir)
            .map_err(|e| io(dir, "create directory", e))?;
        Log::open(&journal_path, journal_options)?
    } else {
        Log::open_read_only(&journal_path, journal_options)?
    };
    let candidates = list_checkpoints(options, dir)?;
    let mut chosen: Option<CheckpointFile> = None;
    let mut first_error: Option<StoreError> = None;
    for offset in &candidates {
        let path = dir.join(checkpoint_file::file_name(*offset));
        match read_checkpoint(options, &path) {
            Ok(file) if file.journal_offset != *offset => {
                first_error.get_or_insert(corrupt(
                    &path,
                    16,
                    format!(
                        "holds journal offset {} but is named {offset}",
                        file.journal_offset
                    ),
                ));
            }
            Ok(file) if file.journal_offset > journal.next_offset() => {
                first_error.get_or_insert(corrupt(
                    &path,
                    16,
                    format!(
                        "checkpoint covers the journal up to {} but the journal ends at {}",
                        file.journal_offset,
                        journal.next_offset()
                    ),
                ));
            }
            Ok(file) if file.journal_offset < journal.first_offset() => {
                first_error.get_or_insert(corrupt(
                    &path,
                    16,
                    format!(
                        "journal records from {} on are needed but the journal starts at {}",
                        file.journal_offset,
                        journal.first_offset()
                    ),
                ));
            }
            Ok(file) => {
                if let Some(error) = &first_error {
                    tracing::warn!(%error, fallback = %path.display(), "newest checkpoint unusable; using the previous one and the journal");
                }
                chosen = Some(file);
                break;
            }
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    let (mut groups, checkpoint_offset, previous) = match chosen {
        Some(file) => {
            let mut groups = Groups::from_checkpoints(options.group_config, &file.groups)?;
            groups.reserve_group_ids_below(file.next_group_id);
            let previous = candidates
                .iter()
                .copied()
                .find(|o| *o < file.journal_offset);
            (groups, Some(file.journal_offset), previous)
        }
        None => {
            if let Some(error) = first_error {
                return Err(error);
            }
            if journal.first_offset() > 0 {
                return Err(corrupt(&journal_path, journal.first_offset(), "the journal does not start at 0 and no checkpoint covers the records before it"));
            }
            (
                Groups::new(options.group_config).map_err(|source| StoreError::Group {
                    group: String::new(),
                    source,
                })?,
                None,
                None,
            )
        }
    };
    let from = checkpoint_offset.unwrap_or(0);
    let replayed = replay(&journal, &mut groups, from)?;
    if replayed > 0 || checkpoint_offset.is_some() {
        tracing::info!(dir = %dir.display(), checkpoint = ?checkpoint_offset, replayed, "recovered consumer groups");
    }
    Ok(Recovered {
        journal,
        groups,
        records_replayed: replayed,
        checkpoint_offset,
        previous_checkpoint_offset: previous,
    })
}

/// Applies every journal record from `from` on; returns how many.
fn replay(journal: &Log, groups: &mut Groups, from: u64) -> StoreResult<u64> {
    let mut count = 0u64;
    let mut groups = groups.replay();
    for batch in journal.batches_from(from) {
        let batch = batch?;
        for record in batch.records() {
            let event = GroupEvent::decode(record.payload).map_err(|e| {
                corrupt(journal.dir(), record.offset, format!("journal record: {e}"))
            })?;
            let outcome_ref = match &event {
                GroupEvent::Acked {
                    outcome: Some(_), ..
                } => Some(OutcomeRef(record.offset)),
                _ => None,
            };
            groups.apply(&event, outcome_ref).map_err(|e| {
                corrupt(
                    journal.dir(),
                    record.offset,
                    format!("journal record does not apply: {e}"),
                )
            })?;
            count += 1;
        }
    }
    Ok(count)
}

/// Writes a checkpoint at the journal's end, then removes what it makes unnecessary.
pub(crate) fn write_checkpoint(
    dir: &Path,
    options: &OffsetOptions,
    journal: &Log,
    state: &mut StateParts<'_>,
) -> StoreResult<()> {
    let fs = options.journal.file_system.as_ref();
    // Everything the checkpoint reflects must be durable in the journal first.
    journal.sync()?;
    let offset = journal.next_offset();
    if *state.checkpoint_offset == Some(offset) {
        *state.records_since_checkpoint = 0;
        return Ok(());
    }
    let file = CheckpointFile {
        journal_offset: offset,
        next_group_id: state.groups.next_group_id(),
        groups: state.groups.checkpoints(),
    };
    let bytes = file.encode()?;
    let path = dir.join(checkpoint_file::file_name(offset));
    let temp = dir.join(format!("{}.tmp", checkpoint_file::file_name(offset)));
    if fs.exists(&temp) {
        fs.remove(&temp).map_err(|e| io(&temp, "remove", e))?;
    }
    let handle = fs
        .open(&temp, OpenMode::CreateNew)
        .map_err(|e| io(&temp, "create", e))?;
    handle
        .write_all_at(&bytes, 0)
        .map_err(|e| io(&temp, "write", e))?;
    handle.sync_data().map_err(|e| io(&temp, "fdatasync", e))?;
    fs.rename(&temp, &path)
        .map_err(|e| io(&path, "rename", e))?;
    fs.sync_dir(dir)
        .map_err(|e| io(dir, "fsync directory", e))?;
    // Keep this checkpoint and the one before it; the journal from the older one on.
    let keep_from = state.checkpoint_offset.unwrap_or(offset);
    for old in list_checkpoints(options, dir)? {
        if old < keep_from {
            let old_path = dir.join(checkpoint_file::file_name(old));
            fs.remove(&old_path)
                .map_err(|e| io(&old_path, "remove", e))?;
        }
    }
    fs.sync_dir(dir)
        .map_err(|e| io(dir, "fsync directory", e))?;
    let min_outcome = state
        .groups
        .iter()
        .filter_map(|(_, _, g)| g.min_outcome_ref())
        .map(|r| r.0)
        .min()
        .unwrap_or(u64::MAX);
    journal.remove_segments_before(keep_from.min(min_outcome))?;
    *state.previous_checkpoint_offset = *state.checkpoint_offset;
    *state.checkpoint_offset = Some(offset);
    *state.records_since_checkpoint = 0;
    Ok(())
}
