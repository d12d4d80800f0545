//! Checks of a queue's consumer-group store for `logq verify`: every journal record decodes
//! as a [`GroupEvent`], every checkpoint file decodes as a [`CheckpointFile`] whose journal
//! offset matches its name and lies inside the journal, and neither refers to a message id
//! beyond the end of the queue's message log (which would mean messages were lost).
//!
//! Layout (see `logq_offsets::OffsetStore`): `<queue>/groups/journal/` is a logq-log log of
//! encoded group events, `<queue>/groups/checkpoint-<20 digits>.ckpt` are checkpoints; the
//! messages are in `<queue>/log/`.
//!
//! Concurrency: a running service appends messages before it journals their deliveries and
//! writes checkpoints only for a journal it has written. So checkpoints are read first, then
//! the journal, then the message log; what a later file holds is never older than what an
//! earlier one refers to, and a live store does not look inconsistent.

use crate::analysis::{AnalyzeOptions, LogReport};
use crate::discover::LogDir;
use crate::error::{CliError, Result};
use crate::files::{list_dir, read_all};
use crate::problem::{Problem, ProblemKind};
use crate::records::records;
use crate::scan::{check_header, to_usize, HeaderState, Piece, Walker};
use logq_offsets::{CheckpointFile, GroupEvent};
use std::path::{Path, PathBuf};

/// True for a log at `<queue>/groups/journal`.
pub fn is_journal(log: &LogDir) -> bool {
    log.path.file_name().is_some_and(|n| n == "journal")
        && log
            .path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == "groups")
}

/// The queue directory of a journal log (`<queue>` of `<queue>/groups/journal`).
pub fn journal_queue_dir(log: &LogDir) -> Option<PathBuf> {
    log.path.parent()?.parent().map(Path::to_path_buf)
}

/// The queue directory of a message log (`<queue>` of `<queue>/log`), when it is one.
pub fn message_log_queue_dir(log: &LogDir) -> Option<PathBuf> {
    let queue = log.path.parent()?;
    (log.path.file_name()? == "log" && queue.join("groups").is_dir()).then(|| queue.to_path_buf())
}

/// The largest message position an event or checkpoint needs the message log to reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The message log must hold ids below this (an offset plus one, or a next offset).
    pub needs_end: u64,
    /// Where the reference is, for the report.
    pub file: String,
    /// Byte position of the journal batch (none for a checkpoint).
    pub byte: Option<u64>,
    /// What refers, in words.
    pub what: String,
}

/// What checking a journal found.
#[derive(Clone, Debug, Default)]
pub struct JournalCheck {
    /// Records decoded.
    pub events: u64,
    /// Records that do not decode.
    pub problems: Vec<Problem>,
    /// The reference reaching furthest into the message log.
    pub furthest: Option<Reference>,
}

/// The message end an event needs: `offset + 1` for events about one message,
/// `next_offset`/`start_offset` for the others.
fn needed_end(event: &GroupEvent) -> Option<(u64, &'static str)> {
    match event {
        GroupEvent::GroupCreated { start_offset, .. } => Some((*start_offset, "group created at")),
        GroupEvent::Delivered { offset, .. } => Some((offset + 1, "delivery of")),
        GroupEvent::Extended { offset, .. } => Some((offset + 1, "lease extension of")),
        GroupEvent::Acked { offset, .. } => Some((offset + 1, "ack of")),
        GroupEvent::AckedThrough { next_offset, .. } => Some((*next_offset, "ack through")),
        GroupEvent::Nacked { offset, .. } => Some((offset + 1, "nack of")),
        GroupEvent::Released { offset, .. } => Some((offset + 1, "release of")),
        GroupEvent::DeadLettered { offset, .. } => Some((offset + 1, "dead letter of")),
        _ => None,
    }
}

/// Decodes every record of every valid batch of the journal `log` (damaged ranges are
/// reported by the log analysis, not here).
pub fn check_journal(log: &LogDir, options: AnalyzeOptions) -> Result<JournalCheck> {
    let mut check = JournalCheck::default();
    for segment in &log.segments {
        let bytes = match read_all(&segment.path) {
            Ok(bytes) => bytes,
            // Removed by the running service since the listing (below a checkpoint).
            Err(CliError::NotFound { .. }) => continue,
            Err(other) => return Err(other),
        };
        if check_header(&bytes, segment.base_offset) != HeaderState::Ok {
            continue;
        }
        let display = log.show(&segment.name);
        for piece in Walker::new(&bytes, segment.base_offset, options.batch_bytes_max) {
            let Piece::Batch { position, header } = piece else {
                continue;
            };
            let start = to_usize(position);
            let end = start.saturating_add(to_usize(header.len_u64()));
            let Some(batch) = bytes.get(start..end) else {
                continue;
            };
            for record in records(&header, batch) {
                match GroupEvent::decode(record.payload) {
                    Ok(event) => {
                        check.events += 1;
                        if let Some((needs_end, what)) = needed_end(&event) {
                            if check.furthest.as_ref().is_none_or(|f| needs_end > f.needs_end) {
                                check.furthest = Some(Reference {
                                    needs_end,
                                    file: display.clone(),
                                    byte: Some(position),
                                    what: format!(
                                        "journal record {} ({what} message {})",
                                        record.offset,
                                        if what == "ack through" || what == "group created at" {
                                            needs_end
                                        } else {
                                            needs_end - 1
                                        }
                                    ),
                                });
                            }
                        }
                    }
                    Err(error) => check.problems.push(Problem {
                        file: display.clone(),
                        byte: Some(position),
                        kind: ProblemKind::Journal,
                        message: format!(
                            "journal record {} (in the batch at this byte) does not decode as a group event: {error}",
                            record.offset
                        ),
                    }),
                }
            }
        }
    }
    Ok(check)
}

/// One checkpoint file and what decoding it gave.
#[derive(Clone, Debug)]
pub struct CheckpointCheck {
    /// Its name relative to the command's directory.
    pub display: String,
    /// The journal offset in its name.
    pub name_offset: u64,
    /// The decoded file, or the problem.
    pub decoded: std::result::Result<CheckpointFile, Problem>,
}

/// The journal offset in a checkpoint file name `checkpoint-<20 digits>.ckpt`.
pub fn parse_checkpoint_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("checkpoint-")?.strip_suffix(".ckpt")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// Reads and decodes the checkpoint files of the groups directory `groups_dir` (shown as
/// `rel`).
pub fn read_checkpoints(groups_dir: &Path, rel: &Path) -> Result<Vec<CheckpointCheck>> {
    let mut out = Vec::new();
    for entry in list_dir(groups_dir)?.into_iter().filter(|e| !e.is_dir) {
        let Some(name_offset) = parse_checkpoint_name(&entry.name) else {
            continue;
        };
        let bytes = match read_all(&entry.path) {
            Ok(bytes) => bytes,
            // Replaced by a newer checkpoint since the listing.
            Err(CliError::NotFound { .. }) => continue,
            Err(other) => return Err(other),
        };
        let display = rel.join(&entry.name).display().to_string();
        let decoded = CheckpointFile::decode(&bytes).map_err(|(byte, reason)| Problem {
            file: display.clone(),
            byte: Some(byte),
            kind: ProblemKind::Checkpoint,
            message: format!("checkpoint does not decode: {reason}"),
        });
        out.push(CheckpointCheck {
            display,
            name_offset,
            decoded,
        });
    }
    Ok(out)
}

/// The problems of `checkpoints` against their journal (`journal`, when it was read without
/// damage: offsets `[first, end)`), and the reference reaching furthest into the messages.
pub fn check_checkpoints(
    checkpoints: &[CheckpointCheck],
    journal: Option<(u64, u64)>,
) -> (Vec<Problem>, Option<Reference>) {
    let mut problems = Vec::new();
    let mut furthest: Option<Reference> = None;
    for checkpoint in checkpoints {
        let file = match &checkpoint.decoded {
            Ok(file) => file,
            Err(problem) => {
                problems.push(problem.clone());
                continue;
            }
        };
        let problem = |message: String| Problem {
            file: checkpoint.display.clone(),
            byte: Some(16),
            kind: ProblemKind::Checkpoint,
            message,
        };
        if file.journal_offset != checkpoint.name_offset {
            problems.push(problem(format!(
                "holds journal offset {} but its name says {}",
                file.journal_offset, checkpoint.name_offset
            )));
        }
        if let Some((first, end)) = journal {
            if file.journal_offset > end {
                problems.push(problem(format!(
                    "covers the journal up to offset {} but the journal ends at {end}",
                    file.journal_offset
                )));
            } else if file.journal_offset < first {
                problems.push(problem(format!(
                    "replay needs journal records from offset {} but the journal starts at {first}",
                    file.journal_offset
                )));
            }
        }
        for group in &file.groups {
            let needs_end = group.floor.max(group.next_to_deliver);
            if furthest.as_ref().is_none_or(|f| needs_end > f.needs_end) {
                furthest = Some(Reference {
                    needs_end,
                    file: checkpoint.display.clone(),
                    byte: None,
                    what: format!(
                        "checkpoint of group {:?} (floor {}, next to deliver {})",
                        group.name, group.floor, group.next_to_deliver
                    ),
                });
            }
        }
    }
    (problems, furthest)
}

/// The offsets `[first, end)` of a log read without damage.
pub fn clean_range(report: &LogReport) -> Option<(u64, u64)> {
    if report.problem_count() > 0 {
        return None;
    }
    let first = report.segments.first()?.file.base_offset;
    let end = report.segments.last()?.end_offset;
    Some((first, end))
}

/// A problem when `reference` needs more messages than the message log's `end`.
pub fn check_reference(reference: &Reference, end: u64) -> Option<Problem> {
    (reference.needs_end > end).then(|| Problem {
        file: reference.file.clone(),
        byte: reference.byte,
        kind: ProblemKind::Reference,
        message: format!(
            "{} is beyond the end of the message log (ids below {end}): messages are missing",
            reference.what
        ),
    })
}
