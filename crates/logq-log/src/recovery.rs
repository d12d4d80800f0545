//! Opening a log directory: validating headers and finding the true end of the tail.
//!
//! Only the tail segment is opened and read: sealed segments were fsynced when the log rolled
//! past them, so open time grows neither with their bytes nor with their number. Each is
//! opened, its header checked and its index loaded on first read (see `segment.rs`); a damaged
//! sealed segment is an error naming its file then, and `verify` reads every one.
//!
//! The tail is scanned from a trusted index entry. An index entry is trusted when the batch it
//! points at is valid and lies at or below the durable watermark of the last valid indexed
//! batch: everything below the watermark was on disk before that batch was written, so no
//! torn write can hide before the entry.
//!
//! When the scan meets bytes that are not a valid next batch at position `p`, expecting offset
//! `E`, recovery looks for valid batches after `p`:
//! - none: a torn or zero-filled tail; cut at `p`;
//! - some, but every one has a watermark `<= E`: they were written while the bytes at `p` were
//!   not yet durable, so no append covering them was ever acknowledged under `Always` (an
//!   acknowledgement needs an fsync that would also have made `p` durable); cut at `p`;
//! - some with a watermark `> E`: the bytes at `p` had been made durable and were damaged
//!   since. That is corruption: `Error::Corrupt` in `Strict` mode, or the bytes from `p` on are
//!   copied to a quarantine file and the segment is cut in `Quarantine` mode.

use crate::error::{Error, Result};
use crate::format::batch::{check_batch, BATCH_HEADER_LEN};
use crate::format::index_file::{self, IndexEntry};
use crate::format::segment_header::{self, HeaderProblem, SEGMENT_HEADER_LEN};
use crate::format::{le_u32, le_u64, names, to_u64, to_usize, FORMAT_VERSION};
use crate::fs::{FileSystem, FsFile, OpenMode};
use crate::options::{LogOptions, RecoveryMode};
use crate::report::{Quarantined, RecoveryReport, Truncation};
use crate::segment::{write_index_file, Segment, SegmentSettings, SparseIndex};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The state of a log directory after recovery.
///
/// The sealed segments are not opened: [`sealed_segments`] lists them, to be opened on first
/// use.
pub(crate) struct Recovered {
    /// Base offsets of every segment in offset order; the last is the tail's.
    pub bases: Vec<u64>,
    /// The recovered tail segment, `None` for an empty directory.
    pub tail: Option<Segment>,
    /// Position of the tail's last batch (or the header length when it has none).
    pub tail_last_batch_position: u64,
    /// What recovery did.
    pub report: RecoveryReport,
}

pub(crate) fn limits(options: &LogOptions, writable: bool) -> SegmentSettings {
    SegmentSettings {
        writable,
        batch_bytes_max: options.batch_bytes_max,
        index_interval_bytes: options.index_interval_bytes,
    }
}

/// Lists the segment base offsets of `dir`, removing leftover temporary files when writable.
fn list_segments(fs: &dyn FileSystem, dir: &Path, writable: bool) -> Result<Vec<u64>> {
    let entries = fs.list(dir).map_err(|e| Error::io(dir, "list", e))?;
    // The writer lock is held when anything is removed, so the listing is the directory:
    // an index's segment is looked up in it, not with one `stat` per index.
    let listed: std::collections::HashSet<&str> = entries.iter().map(String::as_str).collect();
    let mut bases = Vec::new();
    for name in &entries {
        if let Some(base) = names::parse_numbered(name, names::SEGMENT_EXTENSION) {
            bases.push(base);
        } else if let (true, Some(base)) = (
            writable,
            names::parse_numbered(name, names::INDEX_EXTENSION),
        ) {
            // An index whose segment is gone (retention removed it) is removed too.
            if !listed.contains(names::segment_file_name(base).as_str()) {
                let path = dir.join(name);
                fs.remove(&path)
                    .map_err(|e| Error::io(&path, "remove", e))?;
            }
        } else if writable && name.ends_with(&format!(".{}", names::TEMP_EXTENSION)) {
            let path = dir.join(name);
            fs.remove(&path)
                .map_err(|e| Error::io(&path, "remove", e))?;
        }
    }
    bases.sort_unstable();
    Ok(bases)
}

/// Maps a header problem to the error it is.
fn header_error(path: &Path, problem: HeaderProblem) -> Error {
    match problem {
        HeaderProblem::WrongMagic => Error::Foreign {
            file: path.to_path_buf(),
            reason: "the first 8 bytes are not the logq segment magic".into(),
        },
        HeaderProblem::FutureVersion(found) => Error::UnsupportedVersion {
            file: path.to_path_buf(),
            found,
            supported: FORMAT_VERSION,
        },
        HeaderProblem::Short(len) => Error::corrupt(
            path,
            to_u64(len),
            format!("file of {len} bytes is shorter than the {SEGMENT_HEADER_LEN}-byte header"),
        ),
        HeaderProblem::Zeroed => Error::corrupt(path, 0, "the segment header is all zeros"),
        HeaderProblem::Damaged(why) => Error::corrupt(path, 0, why),
        HeaderProblem::WrongBaseOffset { found, expected } => Error::corrupt(
            path,
            16,
            format!("header base offset {found} differs from the file name's {expected}"),
        ),
    }
}

/// Recovers the log in `dir`. A read-only recovery changes no byte.
/// Recovers the log in `dir`; `poisoned` (writable opens only): a failed write or fdatasync
/// may have left pages clean but unwritten, so the tail is rewritten before it is trusted.
pub(crate) fn recover(
    dir: &Path,
    options: &LogOptions,
    writable: bool,
    poisoned: bool,
) -> Result<Recovered> {
    let fs = options.file_system.as_ref();
    let mut bases = list_segments(fs, dir, writable)?;
    let mut report = RecoveryReport {
        segments: bases.len(),
        ..RecoveryReport::default()
    };
    let mode = if writable {
        OpenMode::ReadWrite
    } else {
        OpenMode::Read
    };
    loop {
        let Some(&tail_base) = bases.last() else {
            return Ok(Recovered {
                bases,
                tail: None,
                tail_last_batch_position: to_u64(SEGMENT_HEADER_LEN),
                report,
            });
        };
        let tail_path = dir.join(names::segment_file_name(tail_base));
        let tail_file = fs
            .open(&tail_path, mode)
            .map_err(|e| Error::io(&tail_path, "open", e))?;
        let tail = TailScan {
            fs,
            dir,
            options,
            writable,
            base: tail_base,
            path: tail_path.clone(),
            file: Arc::clone(&tail_file),
            has_previous: bases.len() > 1,
            poisoned,
        };
        match tail.run(&mut report)? {
            TailOutcome::Unfinished { keep_aside } => {
                bases.pop();
                if writable {
                    remove_unfinished(fs, dir, tail_base, keep_aside)?;
                    report.removed_unfinished_segments.push(tail_path);
                }
            }
            TailOutcome::Recovered {
                segment,
                last_batch_position,
            } => {
                return Ok(Recovered {
                    bases,
                    tail: Some(*segment),
                    tail_last_batch_position: last_batch_position,
                    report,
                });
            }
        }
    }
}

/// Removes a tail segment that never got a header or a batch, and its index.
fn remove_unfinished(fs: &dyn FileSystem, dir: &Path, base: u64, keep_aside: bool) -> Result<()> {
    let path = dir.join(names::segment_file_name(base));
    if keep_aside {
        let aside = dir.join(format!(
            "{}.{}",
            names::segment_file_name(base),
            names::QUARANTINE_EXTENSION
        ));
        tracing::warn!(file = %path.display(), aside = %aside.display(),
            "moving aside a segment with a damaged header and no batch (an unfinished roll)");
        fs.rename(&path, &aside)
            .map_err(|e| Error::io(&path, "rename", e))?;
    } else {
        tracing::warn!(file = %path.display(), "removing an empty segment created by an unfinished roll");
        fs.remove(&path)
            .map_err(|e| Error::io(&path, "remove", e))?;
    }
    let index = dir.join(names::index_file_name(base));
    if fs.exists(&index) {
        fs.remove(&index)
            .map_err(|e| Error::io(&index, "remove", e))?;
    }
    fs.sync_dir(dir)
        .map_err(|e| Error::io(dir, "fsync directory", e))
}

/// The sealed segments of `bases` (every one but the last, the tail), not opened yet: each
/// is opened and its header checked on first use ([`Segment::file`]), so opening a log does
/// not grow with its sealed segments. Their bytes were fsynced when the log rolled past them.
pub(crate) fn sealed_segments(
    fs: &Arc<dyn FileSystem>,
    dir: &Path,
    options: &LogOptions,
    bases: &[u64],
    mode: OpenMode,
) -> Vec<Arc<Segment>> {
    bases
        .windows(2)
        .map(|pair| {
            Arc::new(Segment::sealed_unopened(
                dir,
                pair[0],
                pair[1],
                Arc::clone(fs),
                mode,
                limits(options, mode != OpenMode::Read),
            ))
        })
        .collect()
}

/// Opens the sealed segment at `path` (offsets `base..end`) and checks its header; returns
/// the file and its length.
pub(crate) fn open_sealed_file(
    fs: &dyn FileSystem,
    path: &Path,
    base: u64,
    end: u64,
    mode: OpenMode,
) -> Result<(Arc<dyn FsFile>, u64)> {
    let file = fs
        .open(path, mode)
        .map_err(|e| Error::io(path, "open", e))?;
    let len = file.len().map_err(|e| Error::io(path, "stat", e))?;
    let mut header = [0u8; SEGMENT_HEADER_LEN];
    let readable = to_usize(len).unwrap_or(0).min(SEGMENT_HEADER_LEN);
    file.read_exact_at(&mut header[..readable], 0)
        .map_err(|e| Error::io(path, "read header", e))?;
    segment_header::decode(&header[..readable], base).map_err(|p| header_error(path, p))?;
    if len == to_u64(SEGMENT_HEADER_LEN) && end != base {
        return Err(Error::corrupt(path, len, "a sealed segment holds no batch"));
    }
    Ok((file, len))
}

enum TailOutcome {
    /// The tail has no valid header and no batch: an unfinished roll.
    Unfinished {
        /// The header holds bytes (garbage or another program's): rename the file to a
        /// `.quarantine` name instead of deleting it.
        keep_aside: bool,
    },
    Recovered {
        /// Boxed: a segment is much larger than the other variant.
        segment: Box<Segment>,
        last_batch_position: u64,
    },
}

struct TailScan<'a> {
    fs: &'a dyn FileSystem,
    dir: &'a Path,
    options: &'a LogOptions,
    writable: bool,
    base: u64,
    path: PathBuf,
    file: Arc<dyn FsFile>,
    /// True when an older segment exists, i.e. this tail came from a roll.
    has_previous: bool,
    /// The log is poisoned (see `poison_mark`): rewrite the tail after its trusted start.
    poisoned: bool,
}

impl TailScan<'_> {
    fn run(&self, report: &mut RecoveryReport) -> Result<TailOutcome> {
        let len = self
            .file
            .len()
            .map_err(|e| Error::io(&self.path, "stat", e))?;
        // A writer holds the lock: map the file. A read-only open copies it instead, because
        // a concurrent writer may cut preallocated space and a map of it would fault.
        let (map, copy) = if len == 0 {
            (None, Vec::new())
        } else if self.writable {
            let map = self
                .file
                .map(len)
                .map_err(|e| Error::io(&self.path, "mmap", e))?;
            (Some(map), Vec::new())
        } else {
            let limit = u64::from(u32::MAX);
            if len > limit {
                return Err(Error::corrupt(
                    &self.path,
                    limit,
                    format!("segment of {len} bytes exceeds 4 GiB"),
                ));
            }
            let mut copy = vec![0u8; to_usize(len).unwrap_or(0)];
            self.file
                .read_exact_at(&mut copy, 0)
                .map_err(|e| Error::io(&self.path, "read", e))?;
            (None, copy)
        };
        let bytes: &[u8] = map.as_ref().map_or(copy.as_slice(), |m| m.bytes());
        if let Err(problem) = segment_header::decode(bytes, self.base) {
            // A roll writes the new header and fdatasyncs it before any batch, so a tail
            // with a bad header and no batch after it is an unfinished roll (or creation): a
            // power cut can leave its header missing, zeroed, torn or garbage (even a wrong
            // magic). A wrong magic with other bytes after it and no older segment is a
            // foreign file and stays an error.
            let nothing_after_header = bytes
                .get(SEGMENT_HEADER_LEN..)
                .is_none_or(crate::format::all_zero);
            let torn = match problem {
                HeaderProblem::Short(_) | HeaderProblem::Zeroed | HeaderProblem::Damaged(_) => true,
                HeaderProblem::WrongMagic | HeaderProblem::WrongBaseOffset { .. } => {
                    self.has_previous || nothing_after_header
                }
                HeaderProblem::FutureVersion(_) => false,
            };
            let from = bytes.len().min(SEGMENT_HEADER_LEN);
            if torn && later_batches(bytes, from, self.base, self.options.batch_bytes_max).is_none()
            {
                let keep_aside =
                    !matches!(problem, HeaderProblem::Short(_) | HeaderProblem::Zeroed);
                return Ok(TailOutcome::Unfinished { keep_aside });
            }
            return Err(header_error(&self.path, problem));
        }
        let (entries, start) = self.trusted_start(bytes);
        let mut position = start.map_or(SEGMENT_HEADER_LEN, |e| {
            to_usize(u64::from(e.position)).unwrap_or(0)
        });
        let mut next = start.map_or(self.base, |e| e.offset);
        let mut last_batch_position = SEGMENT_HEADER_LEN;
        report.tail_bytes_scanned = to_u64(bytes.len().saturating_sub(position));
        let mut problem = None;
        while position < bytes.len() {
            match check_batch(&bytes[position..], self.options.batch_bytes_max) {
                Ok(header) if header.base_offset == next => {
                    last_batch_position = position;
                    next = header.next_offset();
                    position += to_usize(header.len_u64()).unwrap_or(usize::MAX);
                }
                Ok(header) => {
                    problem = Some(format!(
                        "batch starts at offset {} but {next} was expected",
                        header.base_offset
                    ));
                    break;
                }
                Err(why) => {
                    problem = Some(why.to_string());
                    break;
                }
            }
        }
        let valid_end = position.min(bytes.len());
        let preallocated = crate::format::all_zero(&bytes[valid_end..]);
        if let (Some(reason), false) = (problem, preallocated) {
            if !self.writable {
                report.unreadable_tail_from = Some(to_u64(valid_end));
            } else {
                self.handle_bad_tail(bytes, valid_end, next, reason, report)?;
            }
        }
        if self.writable && self.poisoned {
            // Without a trusted entry the header may be among the lost pages too.
            let rewrite_from = start.map_or(0, |e| to_usize(u64::from(e.position)).unwrap_or(0));
            self.rewrite(bytes, rewrite_from.min(valid_end), valid_end)?;
        }
        let valid_end_u64 = to_u64(valid_end);
        let entries: Vec<IndexEntry> = entries
            .into_iter()
            .filter(|e| u64::from(e.position) < valid_end_u64)
            .collect();
        drop(map);
        if self.writable {
            let mut index_bytes = index_file::encode_header(self.base, false).to_vec();
            for entry in &entries {
                if let Some(raw) = index_file::encode_entry(self.base, *entry) {
                    index_bytes.extend_from_slice(&raw);
                }
            }
            let index_path = self.dir.join(names::index_file_name(self.base));
            write_index_file(self.fs, &index_path, &index_bytes);
        }
        let segment = Segment::new(
            self.dir,
            self.base,
            Arc::clone(&self.file),
            valid_end_u64,
            next,
            SparseIndex {
                entries,
                loaded: true,
            },
            limits(self.options, self.writable),
        );
        Ok(TailOutcome::Recovered {
            segment: Box::new(segment),
            last_batch_position: to_u64(last_batch_position),
        })
    }

    /// Writes `bytes[from..to)` again over themselves (the caller fdatasyncs afterwards).
    ///
    /// After a failed fdatasync the kernel may hold these bytes in clean pages that never
    /// reached the disk; a later fdatasync would skip them. Rewriting dirties them, so the
    /// fdatasync at the end of open really makes them durable. Only the bytes after the
    /// trusted start need it: everything before it was durable when a later batch was written.
    fn rewrite(&self, bytes: &[u8], from: usize, to: usize) -> Result<()> {
        const CHUNK_BYTES: usize = 1 << 20;
        let mut buffer = Vec::with_capacity(CHUNK_BYTES.min(to - from));
        let mut at = from;
        while at < to {
            let end = (at + CHUNK_BYTES).min(to);
            buffer.clear();
            buffer.extend_from_slice(&bytes[at..end]);
            self.file
                .write_all_at(&buffer, to_u64(at))
                .map_err(|e| Error::io(&self.path, "rewrite tail", e))?;
            at = end;
        }
        Ok(())
    }

    /// The tail's usable index entries and the entry to scan from (see the module docs).
    fn trusted_start(&self, bytes: &[u8]) -> (Vec<IndexEntry>, Option<IndexEntry>) {
        let index_path = self.dir.join(names::index_file_name(self.base));
        let decoded = self
            .fs
            .open(&index_path, OpenMode::Read)
            .ok()
            .and_then(|file| {
                let len = file.len().ok().filter(|l| *l <= 64 * 1024 * 1024)?;
                let mut raw = vec![0u8; to_usize(len)?];
                file.read_exact_at(&mut raw, 0).ok()?;
                index_file::decode(&raw, self.base).ok()
            });
        let Some(decoded) = decoded else {
            return (Vec::new(), None);
        };
        let max = self.options.batch_bytes_max;
        let valid = |entry: &IndexEntry| {
            let at = to_usize(u64::from(entry.position)).unwrap_or(usize::MAX);
            bytes
                .get(at..)
                .and_then(|rest| check_batch(rest, max).ok())
                .filter(|h| h.base_offset == entry.offset)
        };
        let mut entries = decoded.entries;
        let Some(last_valid) = entries.iter().rposition(|e| valid(e).is_some()) else {
            return (Vec::new(), None);
        };
        entries.truncate(last_valid + 1);
        let watermark = valid(&entries[last_valid]).map_or(0, |h| h.durable_watermark);
        let start = entries
            .iter()
            .rev()
            .find(|e| e.offset <= watermark && valid(e).is_some())
            .copied();
        let keep = start.map_or(0, |s| entries.partition_point(|e| e.offset <= s.offset));
        entries.truncate(keep);
        (entries, start)
    }

    /// Cuts, or refuses, or quarantines the bytes from `position` on.
    fn handle_bad_tail(
        &self,
        bytes: &[u8],
        position: usize,
        expected: u64,
        reason: String,
        report: &mut RecoveryReport,
    ) -> Result<()> {
        let later = later_batches(bytes, position + 1, expected, self.options.batch_bytes_max);
        let removed = to_u64(bytes.len() - position);
        let position_u64 = to_u64(position);
        match later {
            Some(watermark) if watermark > expected => {
                let reason = format!(
                    "{reason}; valid batches follow and one was written after offset {expected} was durable"
                );
                if self.options.recovery_mode == RecoveryMode::Strict {
                    return Err(Error::corrupt(&self.path, position_u64, reason));
                }
                let quarantine_file = self.dir.join(format!(
                    "{:020}-{position}.{}",
                    self.base,
                    names::QUARANTINE_EXTENSION
                ));
                self.write_quarantine(&quarantine_file, &bytes[position..])?;
                tracing::error!(file = %self.path.display(), position, %reason, quarantine = %quarantine_file.display(),
                    "moved damaged bytes to quarantine");
                report.quarantined.push(Quarantined {
                    file: self.path.clone(),
                    position: position_u64,
                    bytes: removed,
                    quarantine_file,
                    reason,
                });
            }
            other => {
                let reason = match other {
                    Some(_) => format!("{reason}; the batches after it were never durable"),
                    None => format!("{reason}; nothing valid follows (torn tail)"),
                };
                tracing::warn!(file = %self.path.display(), position, removed, %reason, "truncating the tail");
                report.truncated.push(Truncation {
                    file: self.path.clone(),
                    position: position_u64,
                    bytes_removed: removed,
                    reason,
                });
            }
        }
        self.file
            .set_len(position_u64)
            .map_err(|e| Error::io(&self.path, "truncate", e))?;
        self.file
            .sync_data()
            .map_err(|e| Error::io(&self.path, "fdatasync", e))
    }

    fn write_quarantine(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        let file = self
            .fs
            .open(path, OpenMode::CreateNew)
            .map_err(|e| Error::io(path, "create", e))?;
        file.write_all_at(bytes, 0)
            .map_err(|e| Error::io(path, "write", e))?;
        file.sync_data()
            .map_err(|e| Error::io(path, "fdatasync", e))?;
        self.fs
            .sync_dir(self.dir)
            .map_err(|e| Error::io(self.dir, "fsync directory", e))
    }
}

/// Looks for valid batches starting after `from` whose offsets could follow `expected`;
/// returns the largest durable watermark among them, or None when there is none.
///
/// Cheap filters (plausible length, plausible base offset) run before any CRC.
pub(crate) fn later_batches(
    bytes: &[u8],
    from: usize,
    expected: u64,
    batch_bytes_max: u32,
) -> Option<u64> {
    let mut best: Option<u64> = None;
    let mut position = from;
    while position + BATCH_HEADER_LEN <= bytes.len() {
        let len = le_u32(bytes, position);
        if len == 0 {
            // Skip zero runs fast: a batch cannot start where its 4 length bytes are zero.
            let nonzero = bytes[position..].iter().position(|b| *b != 0);
            match nonzero {
                Some(at) => position += at.saturating_sub(3).max(1),
                None => break,
            }
            continue;
        }
        let remaining = bytes.len() - position;
        let plausible_len = to_usize(u64::from(len))
            .is_some_and(|l| l >= BATCH_HEADER_LEN && l <= remaining)
            && len <= batch_bytes_max;
        if plausible_len {
            let base = le_u64(bytes, position + 8);
            let plausible_base = base >= expected && base - expected <= to_u64(bytes.len());
            if plausible_base {
                if let Ok(header) = check_batch(&bytes[position..], batch_bytes_max) {
                    best = Some(best.map_or(header.durable_watermark, |b| {
                        b.max(header.durable_watermark)
                    }));
                    position += to_usize(header.len_u64()).unwrap_or(usize::MAX - position);
                    continue;
                }
            }
        }
        position += 1;
    }
    best
}
