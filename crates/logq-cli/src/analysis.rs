//! Reading a whole segment, and a whole log, into a report: what is there, where it ends,
//! what is damaged and whether open would cut it or refuse it.
//!
//! The classification follows the log's recovery (docs/DESIGN.md, "Recovery"): in the tail
//! segment, damage followed by nothing valid, or only by batches whose durable watermark is not
//! above the damaged offset, is a torn write that open cuts; any other damage, and any damage
//! in a sealed segment, is corruption.

use crate::discover::{LogDir, SegmentFile};
use crate::error::{CliError, Result};
use crate::files::{read_all, read_if_exists};
use crate::index_check::{check_index, IndexState, SegmentFacts};
use crate::problem::{Problem, ProblemKind};
use crate::scan::{
    check_header, next_valid, to_u64, HeaderState, Piece, Walker, SUPPORTED_VERSION,
};
use logq_log::format::names;
use logq_log::format::segment_header::SEGMENT_HEADER_LEN;

/// Settings of an analysis.
#[derive(Clone, Copy, Debug)]
pub struct AnalyzeOptions {
    /// The largest batch accepted (the log's `batch_bytes_max`).
    pub batch_bytes_max: u32,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            batch_bytes_max: logq_log::LogOptions::default().batch_bytes_max,
        }
    }
}

/// A damaged range of a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DamageInfo {
    /// Byte position where it starts.
    pub position: u64,
    /// Bytes up to the next valid batch or the end of the file.
    pub len: u64,
    /// The offset the batch at `position` should have started with.
    pub expected_offset: u64,
    /// What is wrong.
    pub reason: String,
    /// Offsets `[first, end)` of the valid batches found after it in this segment.
    pub later_offsets: Option<(u64, u64)>,
    /// True when open would cut it as a torn write (tail segment only).
    pub torn: bool,
}

/// The state of a segment's data in one word plus detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataState {
    /// Every byte is a valid batch (or preallocated zeros in the tail).
    Ok,
    /// A torn tail from the given byte.
    TornTail(u64),
    /// Damage at the given byte.
    Corrupt(u64),
    /// Not a logq segment.
    Foreign,
    /// A tail segment that never got a header or a batch.
    Unfinished,
}

impl DataState {
    /// A short description for tables.
    pub fn summary(&self) -> String {
        match self {
            DataState::Ok => "ok".into(),
            DataState::TornTail(at) => format!("torn tail at {at}"),
            DataState::Corrupt(at) => format!("damaged at {at}"),
            DataState::Foreign => "foreign file".into(),
            DataState::Unfinished => "unfinished".into(),
        }
    }
}

/// Everything known about one segment file.
#[derive(Clone, Debug)]
pub struct SegmentReport {
    /// The file.
    pub file: SegmentFile,
    /// Its name relative to the command's directory.
    pub display: String,
    /// Its length in bytes.
    pub file_len: u64,
    /// True for the log's tail segment.
    pub is_tail: bool,
    /// The header check.
    pub header: HeaderState,
    /// Valid batches found (also after damage).
    pub batches: u64,
    /// Records in them.
    pub records: u64,
    /// Offset of the last valid record.
    pub last_offset: Option<u64>,
    /// Smallest record timestamp.
    pub first_timestamp_ms: Option<u64>,
    /// Largest record timestamp.
    pub last_timestamp_ms: Option<u64>,
    /// End of the valid prefix (bytes): what open would keep.
    pub valid_end: u64,
    /// The offset after the valid prefix.
    pub end_offset: u64,
    /// Position of the last batch of the valid prefix.
    pub last_batch_position: Option<u64>,
    /// Damaged ranges in file order.
    pub damage: Vec<DamageInfo>,
    /// Where preallocated zeros start, if the file ends in them.
    pub zero_tail_from: Option<u64>,
    /// The index file's state.
    pub index: IndexState,
    /// The data's state.
    pub data: DataState,
}

/// Per-damage running state while walking.
struct Pending {
    info: DamageInfo,
    watermark_max: Option<u64>,
}

/// Reads and checks one segment file.
///
/// Fails only for I/O errors and a format version newer than this build.
pub fn analyze_segment(
    file: &SegmentFile,
    display: String,
    is_tail: bool,
    options: AnalyzeOptions,
) -> Result<SegmentReport> {
    let bytes = read_all(&file.path)?;
    let index_bytes = read_if_exists(&file.index_path)?;
    let header = check_header(&bytes, file.base_offset);
    if let HeaderState::FutureVersion(found) = header {
        return Err(CliError::UnsupportedVersion {
            file: file.path.clone(),
            found,
            supported: SUPPORTED_VERSION,
        });
    }
    let header_len = to_u64(SEGMENT_HEADER_LEN);
    let mut report = SegmentReport {
        file: file.clone(),
        display,
        file_len: to_u64(bytes.len()),
        is_tail,
        header: header.clone(),
        batches: 0,
        records: 0,
        last_offset: None,
        first_timestamp_ms: None,
        last_timestamp_ms: None,
        valid_end: header_len.min(to_u64(bytes.len())),
        end_offset: file.base_offset,
        last_batch_position: None,
        damage: Vec::new(),
        zero_tail_from: None,
        index: IndexState::Missing,
        data: DataState::Ok,
    };
    match header {
        HeaderState::Ok => walk_batches(&bytes, &mut report, options),
        HeaderState::Foreign => report.data = DataState::Foreign,
        HeaderState::Damaged(reason) => {
            let from = bytes.len().min(SEGMENT_HEADER_LEN);
            let batch_follows =
                next_valid(&bytes, from, file.base_offset, options.batch_bytes_max).is_some();
            report.data = if is_tail && !batch_follows {
                DataState::Unfinished
            } else {
                report.damage.push(DamageInfo {
                    position: 0,
                    len: report.file_len,
                    expected_offset: file.base_offset,
                    reason,
                    later_offsets: None,
                    torn: false,
                });
                DataState::Corrupt(0)
            };
        }
        HeaderState::FutureVersion(_) => {}
    }
    report.index = check_index(
        index_bytes.as_deref(),
        SegmentFacts {
            bytes: &bytes,
            base_offset: file.base_offset,
            is_tail,
            valid_end: report.valid_end,
            end_offset: report.end_offset,
            last_batch_position: report.last_batch_position,
            batch_bytes_max: options.batch_bytes_max,
        },
    );
    Ok(report)
}

fn walk_batches(bytes: &[u8], report: &mut SegmentReport, options: AnalyzeOptions) {
    let mut pending: Vec<Pending> = Vec::new();
    for piece in Walker::new(bytes, report.file.base_offset, options.batch_bytes_max) {
        match piece {
            Piece::Batch { position, header } => {
                report.batches += 1;
                report.records += u64::from(header.record_count);
                report.last_offset = Some(header.next_offset() - 1);
                report.first_timestamp_ms = Some(
                    report
                        .first_timestamp_ms
                        .map_or(header.first_timestamp_ms, |t| {
                            t.min(header.first_timestamp_ms)
                        }),
                );
                report.last_timestamp_ms = Some(
                    report
                        .last_timestamp_ms
                        .map_or(header.max_timestamp_ms, |t| t.max(header.max_timestamp_ms)),
                );
                match pending.last_mut() {
                    None => {
                        report.valid_end = position + header.len_u64();
                        report.end_offset = header.next_offset();
                        report.last_batch_position = Some(position);
                    }
                    Some(last) => {
                        last.watermark_max =
                            Some(last.watermark_max.map_or(header.durable_watermark, |w| {
                                w.max(header.durable_watermark)
                            }));
                        let (first, _) = last
                            .info
                            .later_offsets
                            .unwrap_or((header.base_offset, header.next_offset()));
                        last.info.later_offsets = Some((first, header.next_offset()));
                    }
                }
            }
            Piece::Damage {
                position,
                len,
                expected_offset,
                reason,
            } => pending.push(Pending {
                info: DamageInfo {
                    position,
                    len,
                    expected_offset,
                    reason,
                    later_offsets: None,
                    torn: false,
                },
                watermark_max: None,
            }),
            Piece::ZeroTail { position, len } => {
                if report.is_tail {
                    report.zero_tail_from = Some(position);
                } else {
                    pending.push(Pending {
                        info: DamageInfo {
                            position,
                            len,
                            expected_offset: report.end_offset,
                            reason: "zero-filled space after the last batch of a sealed segment"
                                .into(),
                            later_offsets: None,
                            torn: false,
                        },
                        watermark_max: None,
                    });
                }
            }
        }
    }
    // A damaged range is torn when nothing after it (in any later range) proves it durable.
    let mut suffix_max: Option<u64> = None;
    for entry in pending.iter_mut().rev() {
        suffix_max = match (suffix_max, entry.watermark_max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let expected = entry.info.expected_offset;
        entry.info.torn = report.is_tail && suffix_max.is_none_or(|w| w <= expected);
    }
    report.damage = pending.into_iter().map(|p| p.info).collect();
    report.data = match report.damage.first() {
        None => DataState::Ok,
        Some(first) if first.torn => DataState::TornTail(first.position),
        Some(first) => DataState::Corrupt(first.position),
    };
}

/// Everything known about one log directory.
#[derive(Clone, Debug)]
pub struct LogReport {
    /// The log's directory relative to the command's directory.
    pub rel: String,
    /// One report per segment file, in offset order.
    pub segments: Vec<SegmentReport>,
    /// Every problem, in file order; notes (leftovers) last.
    pub problems: Vec<Problem>,
}

impl LogReport {
    /// Problems that count (not notes).
    pub fn problem_count(&self) -> usize {
        self.problems.iter().filter(|p| !p.kind.is_note()).count()
    }
}

/// Reads and checks every segment of `log`, calling `progress` with the bytes of each file
/// once it is read.
pub fn analyze_log(
    log: &LogDir,
    options: AnalyzeOptions,
    progress: &dyn Fn(u64),
) -> Result<LogReport> {
    let count = log.segments.len();
    let mut segments = Vec::with_capacity(count);
    for (i, file) in log.segments.iter().enumerate() {
        let report = analyze_segment(file, log.show(&file.name), i + 1 == count, options)?;
        progress(report.file_len);
        segments.push(report);
    }
    // Recovery removes an unfinished tail; the segment before it is then the tail.
    let mut tail = count;
    while tail >= 2 && segments[tail - 1].data == DataState::Unfinished {
        tail -= 1;
        let file = &log.segments[tail - 1];
        segments[tail - 1] = analyze_segment(file, log.show(&file.name), true, options)?;
    }
    let mut problems: Vec<Problem> = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        problems.extend(segment.problems());
        let Some(next) = segments.get(i + 1) else {
            continue;
        };
        if segment.data != DataState::Ok || next.data == DataState::Unfinished {
            continue;
        }
        if segment.end_offset != next.file.base_offset {
            let what = if segment.end_offset < next.file.base_offset {
                format!(
                    "offsets {}..{} are missing",
                    segment.end_offset, next.file.base_offset
                )
            } else {
                "the segments overlap".to_string()
            };
            problems.push(Problem {
                file: segment.display.clone(),
                byte: Some(segment.valid_end),
                kind: ProblemKind::Gap,
                message: format!(
                    "segment ends at offset {} but the next segment, {}, starts at {}: {what}",
                    segment.end_offset, next.file.name, next.file.base_offset
                ),
            });
        }
    }
    for leftover in &log.leftovers {
        let len = std::fs::metadata(&leftover.path).map_or(0, |m| m.len());
        let message = if leftover.name.ends_with(names::TEMP_EXTENSION) {
            format!("leftover temporary file of {len} bytes (an unfinished replacement; removed on the next writable open)")
        } else {
            format!("quarantine file of {len} bytes: damaged bytes moved aside by an earlier recovery or repair")
        };
        problems.push(Problem {
            file: log.show(&leftover.name),
            byte: None,
            kind: ProblemKind::Leftover,
            message,
        });
    }
    if log.path.join(names::POISON_MARK_FILE_NAME).exists() {
        problems.push(Problem {
            file: log.show(names::POISON_MARK_FILE_NAME),
            byte: None,
            kind: ProblemKind::Poisoned,
            message: "a write or fdatasync of this log failed and no open has repaired it since; \
                 the next writable open rewrites the tail before it trusts it (check the disk)"
                .into(),
        });
    }
    Ok(LogReport {
        rel: log.rel.display().to_string(),
        segments,
        problems,
    })
}
