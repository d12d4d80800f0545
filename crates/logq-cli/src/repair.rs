//! `logq repair DIR --output NEW_DIR`: writes a repaired copy and never touches `DIR`.
//!
//! Offsets are preserved, so the copy keeps each log's longest valid, dense prefix: segments
//! are copied byte for byte up to the first damage; torn tails and trailing zeros are cut;
//! damaged ranges, and whole segments after the first damage (a log cannot have a gap), go to
//! `<base>-<position>.quarantine` files; each segment gets a freshly built index. What could
//! not be kept is reported by offset range on stdout and in `NEW_DIR/repair-report.txt`.

use crate::analysis::{analyze_log, AnalyzeOptions, DataState, SegmentReport};
use crate::discover::{is_leftover, LogDir, DEPTH_MAX};
use crate::error::{output, CliError, Result};
use crate::files::{list_dir, read_all};
use crate::scan::{to_u64, to_usize, HeaderState, Piece, Walker};
use crate::write::{create_dir, sync_dir, write_new};
use crate::Outcome;
use logq_log::format::index_file::{self, IndexEntry, SealedTrailer};
use logq_log::format::{names, segment_header};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Name of the report written into the output directory.
pub const REPORT_FILE_NAME: &str = "repair-report.txt";

/// Arguments of `logq repair`.
#[derive(Clone, Debug)]
pub struct RepairArgs<'a> {
    /// The damaged data or log directory (only read).
    pub dir: &'a Path,
    /// Where the repaired copy goes: must not exist or be empty, and not inside `dir`.
    pub output: &'a Path,
    /// Limits used to read the log.
    pub options: AnalyzeOptions,
    /// One index entry per this many bytes in the rebuilt indexes.
    pub index_interval_bytes: u32,
}

/// Writes the repaired copy; [`Outcome::Damaged`] when anything was cut or quarantined.
pub fn repair(args: &RepairArgs<'_>, out: &mut dyn Write) -> Result<Outcome> {
    check_output(args.dir, args.output)?;
    // Fails with "not a logq directory" before anything is created.
    crate::discover::discover(args.dir)?;
    create_dir(args.output)?;
    let mut job = Job {
        args,
        lines: vec![format!(
            "repair of {} into {}",
            args.dir.display(),
            args.output.display()
        )],
        lost: false,
    };
    job.tree(args.dir, Path::new(""), 0)?;
    job.lines.push(if job.lost {
        "result: data was cut or quarantined; see the lines above".into()
    } else {
        "result: exact copy, nothing lost".into()
    });
    let text = job.lines.join("\n") + "\n";
    write_new(&args.output.join(REPORT_FILE_NAME), text.as_bytes())?;
    sync_dir(args.output)?;
    output(out.write_all(text.as_bytes()))?;
    Ok(if job.lost {
        Outcome::Damaged
    } else {
        Outcome::Clean
    })
}

/// Refuses an output directory that holds files or lies inside the source.
fn check_output(dir: &Path, out_dir: &Path) -> Result<()> {
    let source = std::fs::canonicalize(dir).map_err(|e| CliError::io(dir, "resolve", e))?;
    if out_dir.exists() && !list_dir(out_dir)?.is_empty() {
        return Err(CliError::OutputNotEmpty {
            path: out_dir.to_path_buf(),
        });
    }
    let parent = out_dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Ok(parent) = std::fs::canonicalize(parent) {
        let target = parent.join(out_dir.file_name().unwrap_or_default());
        if target.starts_with(&source) {
            return Err(CliError::Invalid(format!(
                "{}: the output directory must be outside {} (repair never modifies it)",
                out_dir.display(),
                dir.display()
            )));
        }
    }
    Ok(())
}

struct Job<'a> {
    args: &'a RepairArgs<'a>,
    lines: Vec<String>,
    lost: bool,
}

impl Job<'_> {
    fn tree(&mut self, dir: &Path, rel: &Path, depth: usize) -> Result<()> {
        let target = self.args.output.join(rel);
        create_dir(&target)?;
        match LogDir::read(dir, rel)? {
            Some(log) => self.log(&log, &target)?,
            None => {
                for entry in list_dir(dir)?.into_iter().filter(|e| !e.is_dir) {
                    self.copy_verbatim(
                        &entry.path,
                        &target.join(&entry.name),
                        &rel.join(&entry.name),
                    )?;
                }
            }
        }
        if depth < DEPTH_MAX {
            for entry in list_dir(dir)?.into_iter().filter(|e| e.is_dir) {
                self.tree(&entry.path, &rel.join(&entry.name), depth + 1)?;
            }
        }
        sync_dir(&target)
    }

    fn copy_verbatim(&mut self, from: &Path, to: &Path, shown: &Path) -> Result<()> {
        write_new(to, &read_all(from)?)?;
        self.lines.push(format!(
            "{}: copied verbatim (not a segment)",
            shown.display()
        ));
        Ok(())
    }

    fn log(&mut self, log: &LogDir, target: &Path) -> Result<()> {
        let lost_before = std::mem::take(&mut self.lost);
        let report = analyze_log(log, self.args.options, &|_| {})?;
        let plan = plan(&report.segments);
        let mut kept_end = None;
        for (i, segment) in report.segments.iter().enumerate() {
            match plan.get(i).copied() {
                Some(Keep::Whole) | Some(Keep::Prefix) => {
                    let is_last = i + 1 == plan.len();
                    let end = self.keep(segment, target, is_last)?;
                    kept_end = Some(end);
                }
                Some(Keep::HeaderOnly) => {
                    let base = segment.file.base_offset;
                    self.write_segment(target, base, &segment_header::encode(base), true)?;
                    kept_end = Some(base);
                    self.lost = true;
                    self.quarantine(segment, target, 0)?;
                }
                None => {
                    if segment.data == DataState::Unfinished {
                        self.lines.push(format!(
                            "{}: not copied: unfinished segment without data (open would remove it)",
                            segment.display
                        ));
                        continue;
                    }
                    self.lost = true;
                    self.quarantine(segment, target, 0)?;
                }
            }
        }
        for leftover in &log.leftovers {
            let shown = log.show(&leftover.name);
            if leftover.name.ends_with(names::TEMP_EXTENSION) {
                self.lines
                    .push(format!("{shown}: not copied (leftover temporary file)"));
            } else {
                let to = target.join(&leftover.name);
                write_new(&to, &read_all(&leftover.path)?)?;
                self.lines
                    .push(format!("{shown}: copied verbatim (earlier quarantine)"));
            }
        }
        for other in log.others.iter().filter(|o| !is_leftover(&o.name)) {
            self.copy_verbatim(
                &other.path,
                &target.join(&other.name),
                Path::new(&log.show(&other.name)),
            )?;
        }
        let name = if report.rel.is_empty() {
            ".".to_string()
        } else {
            report.rel.clone()
        };
        let first = report.segments.first().map_or(0, |s| s.file.base_offset);
        let lost_to = report
            .segments
            .iter()
            .filter_map(|s| s.last_offset.map(|o| o + 1))
            .max();
        let log_lost = self.lost;
        self.lost |= lost_before;
        match kept_end {
            Some(end) if lost_to.is_some_and(|l| l > end) || log_lost => {
                let upto = lost_to
                    .filter(|l| *l > end)
                    .map_or_else(String::new, |l| format!(", valid batches seen up to {l}"));
                self.lines.push(format!(
                    "{name}: the repaired log holds offsets {first}..{end}; offsets from {end} were not kept{upto}"
                ));
            }
            Some(end) => self.lines.push(format!(
                "{name}: the repaired log holds offsets {first}..{end}"
            )),
            None => self.lines.push(format!("{name}: nothing could be kept")),
        }
        Ok(())
    }

    /// Copies the valid prefix of `segment`, builds its index, and accounts for the rest.
    fn keep(&mut self, segment: &SegmentReport, target: &Path, is_last: bool) -> Result<u64> {
        let bytes = read_all(&segment.file.path)?;
        let keep_len = to_usize(segment.valid_end).min(bytes.len());
        let kept = &bytes[..keep_len];
        let base = segment.file.base_offset;
        let (entries, end_offset, last_position) = index_prefix(
            kept,
            base,
            self.args.options.batch_bytes_max,
            self.args.index_interval_bytes,
        )
        .ok_or_else(|| {
            CliError::Invalid(format!(
                "{}: the file changed while it was being repaired; run repair again",
                segment.file.path.display()
            ))
        })?;
        self.write_segment(target, base, kept, is_last)?;
        let index = if is_last {
            let mut raw = index_file::encode_header(base, false).to_vec();
            for entry in &entries {
                raw.extend_from_slice(&index_file::encode_entry(base, *entry).unwrap_or_default());
            }
            raw
        } else {
            let trailer = SealedTrailer {
                end_offset,
                last_batch_position: u32::try_from(last_position).unwrap_or(0),
                segment_len: u32::try_from(keep_len).unwrap_or(0),
            };
            index_file::encode_sealed(base, &entries, trailer)
        };
        write_new(&target.join(names::index_file_name(base)), &index)?;
        let cut = to_u64(bytes.len() - keep_len);
        if cut == 0 {
            self.lines.push(format!(
                "{}: kept whole ({} bytes, offsets {base}..{end_offset})",
                segment.display, keep_len
            ));
            return Ok(end_offset);
        }
        let lead = format!(
            "{}: kept {keep_len} of {} bytes (offsets {base}..{end_offset})",
            segment.display,
            bytes.len()
        );
        match &segment.data {
            DataState::Ok => self
                .lines
                .push(format!("{lead}; cut {cut} bytes of preallocated zeros")),
            DataState::TornTail(_) => {
                self.lost = true;
                self.lines.push(format!(
                    "{lead}; cut a torn tail of {cut} bytes at byte {keep_len} (never acknowledged; open would cut it too)"
                ));
            }
            _ => {
                self.lost = true;
                self.lines.push(lead);
                self.quarantine(segment, target, segment.valid_end)?;
            }
        }
        Ok(end_offset)
    }

    fn write_segment(
        &mut self,
        target: &Path,
        base: u64,
        bytes: &[u8],
        is_last: bool,
    ) -> Result<()> {
        write_new(&target.join(names::segment_file_name(base)), bytes)?;
        if bytes.len() == segment_header::SEGMENT_HEADER_LEN && is_last {
            write_new(
                &target.join(names::index_file_name(base)),
                &index_file::encode_header(base, false),
            )?;
        }
        Ok(())
    }

    /// Moves bytes `[from, end)` of `segment` to a quarantine file and reports them.
    fn quarantine(&mut self, segment: &SegmentReport, target: &Path, from: u64) -> Result<()> {
        let bytes = read_all(&segment.file.path)?;
        let from_usize = to_usize(from).min(bytes.len());
        let name = format!(
            "{:020}-{from}.{}",
            segment.file.base_offset,
            names::QUARANTINE_EXTENSION
        );
        write_new(&target.join(&name), &bytes[from_usize..])?;
        let why = match (&segment.header, from) {
            (HeaderState::Foreign, _) => "not a logq segment".to_string(),
            (HeaderState::Damaged(why), _) => why.clone(),
            (_, 0) => "after the first damage of the log (offsets must stay dense)".to_string(),
            _ => segment
                .damage
                .first()
                .map_or_else(String::new, |d| d.reason.clone()),
        };
        let inside = if from == 0 {
            segment
                .last_offset
                .map(|l| format!("; valid batches inside hold offsets up to {l}"))
                .unwrap_or_default()
        } else {
            segment
                .damage
                .iter()
                .filter_map(|d| d.later_offsets)
                .fold(None, |acc: Option<(u64, u64)>, (a, b)| {
                    Some(acc.map_or((a, b), |(x, y)| (x.min(a), y.max(b))))
                })
                .map(|(a, b)| format!("; valid batches inside hold offsets {a}..{b}"))
                .unwrap_or_default()
        };
        self.lines.push(format!(
            "{}: bytes {from}..{} moved to {}: {why}{inside}",
            segment.display,
            bytes.len(),
            PathBuf::from(&segment.display)
                .with_file_name(&name)
                .display()
        ));
        Ok(())
    }
}

/// What to keep of a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keep {
    /// Its whole valid part (the file minus trailing zeros).
    Whole,
    /// Its valid prefix; the rest is cut or quarantined; it becomes the tail.
    Prefix,
    /// Only a fresh header (its own is damaged and it is the first segment): the log still
    /// starts at its base offset.
    HeaderOnly,
}

/// The longest dense valid prefix of the log, as a plan per segment (index-aligned; segments
/// past the plan's end are not kept).
fn plan(segments: &[SegmentReport]) -> Vec<Keep> {
    let mut plan = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        if segment.header != HeaderState::Ok {
            if i == 0 && segment.data != DataState::Unfinished {
                plan.push(Keep::HeaderOnly);
            }
            break;
        }
        if segment.data != DataState::Ok {
            plan.push(Keep::Prefix);
            break;
        }
        plan.push(Keep::Whole);
        let next = segments.get(i + 1);
        let dense = next.is_none_or(|n| n.file.base_offset == segment.end_offset);
        let next_unfinished = next.is_some_and(|n| n.data == DataState::Unfinished);
        if !dense && !next_unfinished {
            break;
        }
    }
    plan
}

/// Re-checks the kept bytes and builds index entries; `None` unless they are exactly a run
/// of valid, dense batches. Returns (entries, end offset, position of the last batch).
fn index_prefix(
    kept: &[u8],
    base: u64,
    batch_bytes_max: u32,
    interval: u32,
) -> Option<(Vec<IndexEntry>, u64, u64)> {
    let mut entries: Vec<IndexEntry> = Vec::new();
    let mut end_offset = base;
    let mut last_position = to_u64(segment_header::SEGMENT_HEADER_LEN);
    if segment_header::decode(kept, base).is_err() {
        return None;
    }
    for piece in Walker::new(kept, base, batch_bytes_max) {
        let Piece::Batch { position, header } = piece else {
            return None;
        };
        let due = entries
            .last()
            .is_none_or(|e| position - u64::from(e.position) >= u64::from(interval));
        if due {
            entries.push(IndexEntry {
                offset: header.base_offset,
                position: u32::try_from(position).ok()?,
            });
        }
        last_position = position;
        end_offset = header.next_offset();
    }
    Some((entries, end_offset, last_position))
}
