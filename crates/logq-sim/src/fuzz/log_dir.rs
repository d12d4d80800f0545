//! The "log directory made of arbitrary bytes" target: the input is split into up to four
//! files named like segments and indexes, written durably to a [`SimFs`], then opened
//! read-only and for writing; every batch is iterated and every offset read.
//!
//! Input format (anything else is tolerated): repeated `[file: u8][len: u16 LE][bytes]`;
//! `file % 4` picks the name from [`LOG_DIR_FILE_NAMES`]; a later chunk for the same name
//! is appended to it.

use crate::SimFs;
use logq_log::fs::{FileSystem, OpenMode};
use logq_log::{Log, LogOptions, Record};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The file names a fuzz input can fill.
pub const LOG_DIR_FILE_NAMES: [&str; 4] = [
    "00000000000000000000.log",
    "00000000000000000000.idx",
    "00000000000000000004.log",
    "00000000000000000004.idx",
];

const DIR: &str = "/fuzz/log";

/// Records read at most per open (bounds the work on a huge valid-looking input).
const READS_MAX: u64 = 4096;

fn split(data: &[u8]) -> BTreeMap<usize, Vec<u8>> {
    let mut files: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
    let mut rest = data;
    while let [file, lo, hi, tail @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*lo, *hi])).min(tail.len());
        files
            .entry(usize::from(*file) % LOG_DIR_FILE_NAMES.len())
            .or_default()
            .extend_from_slice(&tail[..len]);
        rest = &tail[len..];
    }
    files
}

/// Packs files (name index, bytes) into the input format of [`open_log_dir`].
pub fn pack_log_dir(files: &[(usize, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (index, bytes) in files {
        for chunk in bytes.chunks(usize::from(u16::MAX)) {
            out.push(u8::try_from(*index).unwrap_or(0));
            let len = u16::try_from(chunk.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(chunk);
        }
    }
    out
}

fn exercise(log: &Log) {
    let first = log.first_offset();
    let next = log.next_offset();
    let mut records = 0u64;
    for batch in log.batches_from(first) {
        let Ok(batch) = batch else { break };
        records += u64::try_from(batch.records().count()).unwrap_or(0);
        if records > READS_MAX {
            break;
        }
    }
    for offset in first..next.min(first.saturating_add(READS_MAX)) {
        let _ = log.read(offset);
    }
}

/// Writes the files of `data` to a fresh [`SimFs`] and opens them as a log.
pub fn open_log_dir(data: &[u8]) {
    let fs = SimFs::new(1);
    let dir = Path::new(DIR);
    if fs.create_dir_all(dir).is_err() {
        return;
    }
    for (index, bytes) in split(data) {
        let path = dir.join(LOG_DIR_FILE_NAMES[index]);
        let Ok(file) = fs.open(&path, OpenMode::CreateNew) else {
            return;
        };
        if file.write_all_at(&bytes, 0).is_err() || file.sync_data().is_err() {
            return;
        }
    }
    if fs.sync_dir(dir).is_err() {
        return;
    }
    let options = || {
        LogOptions::default()
            .segment_bytes_max(64 * 1024)
            .batch_bytes_max(1 << 20)
            .file_system(Arc::new(fs.clone()))
    };
    if let Ok(log) = Log::open_read_only(dir, options()) {
        exercise(&log);
    }
    if let Ok(log) = Log::open(dir, options()) {
        exercise(&log);
        if log.append(&[Record::new(b"after recovery")]).is_ok() {
            exercise(&log);
        }
    }
}
