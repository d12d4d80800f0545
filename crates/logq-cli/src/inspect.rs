//! `logq segments DIR`: one row per segment file of every log at or below `DIR`.

use crate::analysis::{analyze_log, AnalyzeOptions, SegmentReport};
use crate::discover::discover;
use crate::error::{output, Result};
use crate::output::{json_line, Table};
use crate::progress::{total_bytes, Progress};
use crate::timefmt::format_ms;
use crate::Outcome;
use serde_json::json;
use std::io::Write;
use std::path::Path;

/// Arguments of `logq segments`.
#[derive(Clone, Debug)]
pub struct SegmentsArgs<'a> {
    /// The data or log directory.
    pub dir: &'a Path,
    /// JSON lines instead of a table.
    pub json: bool,
    /// Limits used to read the log.
    pub options: AnalyzeOptions,
}

/// Prints the segment table; [`Outcome::Damaged`] when any segment or index is not as logq
/// writes it (the table's INDEX and DATA columns say which).
pub fn segments(
    args: &SegmentsArgs<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Outcome> {
    let logs = discover(args.dir)?;
    let progress = Progress::bytes(
        total_bytes(
            logs.iter()
                .flat_map(|l| l.segments.iter().map(|s| s.path.as_path())),
        ),
        "reading segments",
    );
    let mut table = Table::new(&[
        "FILE",
        ">BASE",
        ">LAST",
        ">RECORDS",
        ">BYTES",
        "FIRST TIMESTAMP",
        "LAST TIMESTAMP",
        "INDEX",
        "DATA",
    ]);
    let mut problems = 0usize;
    for log in &logs {
        let report = analyze_log(log, args.options, &|n| progress.advance(n))?;
        problems += report.problem_count();
        for segment in &report.segments {
            if args.json {
                json_line(out, &segment_json(&report.rel, segment))?;
            } else {
                table.row(segment_row(segment));
            }
        }
    }
    progress.finish();
    if !args.json {
        table.write(out)?;
    }
    if problems > 0 {
        output(writeln!(
            err,
            "logq: {problems} problems found; run `logq verify {}` for details",
            args.dir.display()
        ))?;
        return Ok(Outcome::Damaged);
    }
    Ok(Outcome::Clean)
}

fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "-".into())
}

fn segment_row(s: &SegmentReport) -> Vec<String> {
    vec![
        s.display.clone(),
        s.file.base_offset.to_string(),
        or_dash(s.last_offset.map(|o| o.to_string())),
        s.records.to_string(),
        s.file_len.to_string(),
        or_dash(s.first_timestamp_ms.map(format_ms)),
        or_dash(s.last_timestamp_ms.map(format_ms)),
        s.index.name().to_string(),
        s.data.summary(),
    ]
}

fn segment_json(log: &str, s: &SegmentReport) -> serde_json::Value {
    json!({
        "type": "segment",
        "log": log,
        "file": s.display,
        "base_offset": s.file.base_offset,
        "last_offset": s.last_offset,
        "end_offset": s.end_offset,
        "records": s.records,
        "batches": s.batches,
        "bytes": s.file_len,
        "valid_bytes": s.valid_end,
        "first_timestamp_ms": s.first_timestamp_ms,
        "last_timestamp_ms": s.last_timestamp_ms,
        "tail": s.is_tail,
        "index": s.index.name(),
        "index_detail": s.index.detail(),
        "data": s.data.summary(),
    })
}
