//! `logq verify DIR`: checks every header, batch, offset and index of every log at or below
//! `DIR`, prints each problem on its own line, then `N problems found` (as `bbolt check`).
//!
//! In a store it also checks each queue's consumer groups ([`crate::journal_check`]): every
//! journal record decodes, every checkpoint decodes and fits its journal, and neither refers
//! to messages beyond the end of the queue's message log.

use crate::analysis::{analyze_log, AnalyzeOptions};
use crate::discover::discover;
use crate::error::{output, Result};
use crate::journal_check::{
    check_checkpoints, check_journal, check_reference, clean_range, is_journal, journal_queue_dir,
    message_log_queue_dir, read_checkpoints, CheckpointCheck, Reference,
};
use crate::output::json_line;
use crate::problem::Problem;
use crate::progress::{total_bytes, Progress};
use crate::Outcome;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;

/// Arguments of `logq verify`.
#[derive(Clone, Debug)]
pub struct VerifyArgs<'a> {
    /// The data or log directory.
    pub dir: &'a Path,
    /// JSON lines instead of text.
    pub json: bool,
    /// Limits used to read the log.
    pub options: AnalyzeOptions,
}

/// Totals over everything verified.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Logs checked.
    pub logs: usize,
    /// Segment files checked.
    pub segments: usize,
    /// Valid records found.
    pub records: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Problems found (notes excluded).
    pub problems: usize,
    /// Notes (leftover files).
    pub notes: usize,
    /// Group-journal records decoded.
    pub journal_events: u64,
    /// Checkpoint files read.
    pub checkpoints: usize,
}

/// Prints one problem and counts it.
fn emit(
    out: &mut dyn Write,
    json: bool,
    log: &str,
    problem: &Problem,
    totals: &mut Totals,
) -> Result<()> {
    if problem.kind.is_note() {
        totals.notes += 1;
    } else {
        totals.problems += 1;
    }
    if json {
        json_line(
            out,
            &json!({
                "type": "problem",
                "log": log,
                "file": problem.file,
                "byte": problem.byte,
                "kind": problem.kind.name(),
                "counted": !problem.kind.is_note(),
                "message": problem.message,
            }),
        )
    } else {
        output(writeln!(out, "{problem}"))
    }
}

/// Verifies `DIR`; [`Outcome::Damaged`] when at least one problem was found.
pub fn verify(args: &VerifyArgs<'_>, out: &mut dyn Write) -> Result<Outcome> {
    let logs = discover(args.dir)?;
    let progress = Progress::bytes(
        total_bytes(
            logs.iter()
                .flat_map(|l| l.segments.iter().map(|s| s.path.as_path())),
        ),
        "verifying",
    );
    let mut totals = Totals::default();
    // Checkpoints first, then journals, then message logs (see `journal_check`).
    let mut checkpoints: BTreeMap<PathBuf, (String, Vec<CheckpointCheck>)> = BTreeMap::new();
    for log in logs.iter().filter(|l| is_journal(l)) {
        if let (Some(queue), Some(groups)) = (journal_queue_dir(log), log.path.parent()) {
            let rel = log.rel.parent().unwrap_or(&log.rel).to_path_buf();
            let read = read_checkpoints(groups, &rel)?;
            totals.checkpoints += read.len();
            checkpoints.insert(queue, (rel.display().to_string(), read));
        }
    }
    let mut references: BTreeMap<PathBuf, Vec<Reference>> = BTreeMap::new();
    for log in &logs {
        let report = analyze_log(log, args.options, &|n| progress.advance(n))?;
        totals.logs += 1;
        totals.segments += report.segments.len();
        totals.records += report.segments.iter().map(|s| s.records).sum::<u64>();
        totals.bytes += report.segments.iter().map(|s| s.file_len).sum::<u64>();
        for problem in &report.problems {
            emit(out, args.json, &report.rel, problem, &mut totals)?;
        }
        if let (true, Some(queue)) = (is_journal(log), journal_queue_dir(log)) {
            let journal = check_journal(log, args.options)?;
            totals.journal_events += journal.events;
            for problem in &journal.problems {
                emit(out, args.json, &report.rel, problem, &mut totals)?;
            }
            let refs = references.entry(queue.clone()).or_default();
            refs.extend(journal.furthest);
            if let Some((rel, files)) = checkpoints.get(&queue) {
                let (problems, furthest) = check_checkpoints(files, clean_range(&report));
                for problem in &problems {
                    emit(out, args.json, rel, problem, &mut totals)?;
                }
                refs.extend(furthest);
            }
        }
        if let Some(queue) = message_log_queue_dir(log) {
            if let Some((_, end)) = clean_range(&report) {
                for reference in references.get(&queue).into_iter().flatten() {
                    if let Some(problem) = check_reference(reference, end) {
                        emit(out, args.json, &report.rel, &problem, &mut totals)?;
                    }
                }
            }
        }
    }
    progress.finish();
    if args.json {
        json_line(
            out,
            &json!({
                "type": "summary",
                "logs": totals.logs,
                "segments": totals.segments,
                "records": totals.records,
                "bytes": totals.bytes,
                "problems": totals.problems,
                "notes": totals.notes,
                "journal_events": totals.journal_events,
                "checkpoints": totals.checkpoints,
            }),
        )?;
    } else {
        let plural = |n: usize, word: &str| {
            if n == 1 {
                format!("{n} {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        output(writeln!(
            out,
            "checked {}: {}, {} records, {} bytes",
            plural(totals.logs, "log"),
            plural(totals.segments, "segment"),
            totals.records,
            totals.bytes
        ))?;
        if totals.journal_events > 0 || totals.checkpoints > 0 {
            output(writeln!(
                out,
                "checked consumer groups: {} journal events, {}",
                totals.journal_events,
                plural(totals.checkpoints, "checkpoint")
            ))?;
        }
        let notes = if totals.notes > 0 {
            format!(" ({})", plural(totals.notes, "note"))
        } else {
            String::new()
        };
        output(writeln!(out, "{} problems found{notes}", totals.problems))?;
    }
    Ok(if totals.problems == 0 {
        Outcome::Clean
    } else {
        Outcome::Damaged
    })
}
