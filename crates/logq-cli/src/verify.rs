//! `logq verify DIR`: checks every header, batch, offset and index of every log at or below
//! `DIR`, prints each problem on its own line, then `N problems found` (as `bbolt check`).

use crate::analysis::{analyze_log, AnalyzeOptions};
use crate::discover::discover;
use crate::error::{output, Result};
use crate::output::json_line;
use crate::progress::{total_bytes, Progress};
use crate::Outcome;
use serde_json::json;
use std::io::Write;
use std::path::Path;

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
    for log in &logs {
        let report = analyze_log(log, args.options, &|n| progress.advance(n))?;
        totals.logs += 1;
        totals.segments += report.segments.len();
        totals.records += report.segments.iter().map(|s| s.records).sum::<u64>();
        totals.bytes += report.segments.iter().map(|s| s.file_len).sum::<u64>();
        for problem in &report.problems {
            if problem.kind.is_note() {
                totals.notes += 1;
            } else {
                totals.problems += 1;
            }
            if args.json {
                json_line(
                    out,
                    &json!({
                        "type": "problem",
                        "log": report.rel,
                        "file": problem.file,
                        "byte": problem.byte,
                        "kind": problem.kind.name(),
                        "counted": !problem.kind.is_note(),
                        "message": problem.message,
                    }),
                )?;
            } else {
                output(writeln!(out, "{problem}"))?;
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
