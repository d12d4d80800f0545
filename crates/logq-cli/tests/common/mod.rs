//! Helpers shared by the CLI tests: logs made with `logq_log::Log`, damage, hashing, running
//! the real binary.
#![allow(dead_code)]

use assert_cmd::Command;
use logq_log::{Durability, Log, LogOptions, Record};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Small segments so a few hundred records make several.
pub fn options() -> LogOptions {
    LogOptions::default()
        .segment_bytes_max(1024)
        .index_interval_bytes(256)
        .durability(Durability::Never)
}

/// The payload of record `i`: text, except every 7th, which is not UTF-8.
pub fn payload(i: u64) -> Vec<u8> {
    if i % 7 == 3 {
        vec![0xff, 0xfe, u8::try_from(i % 251).unwrap(), 0x00]
    } else {
        format!(
            "order-{i:05}-{}",
            "x".repeat(usize::try_from(i % 13).unwrap())
        )
        .into_bytes()
    }
}

/// The key of record `i`.
pub fn key(i: u64) -> Vec<u8> {
    format!("k{i}").into_bytes()
}

/// Timestamp of record `i` (deterministic).
pub fn timestamp(i: u64) -> u64 {
    1_767_225_600_000 + i * 1000
}

/// Appends records `from..to`, `per_batch` records per batch.
pub fn append(log: &Log, from: u64, to: u64, per_batch: u64) {
    let mut i = from;
    while i < to {
        let end = (i + per_batch).min(to);
        let payloads: Vec<Vec<u8>> = (i..end).map(payload).collect();
        let keys: Vec<Vec<u8>> = (i..end).map(key).collect();
        let headers = [("type", &b"order"[..])];
        let records: Vec<Record<'_>> = (i..end)
            .zip(payloads.iter().zip(&keys))
            .map(|(n, (p, k))| {
                Record::new(p)
                    .key(k)
                    .headers(&headers)
                    .timestamp_ms(timestamp(n))
            })
            .collect();
        assert_eq!(log.append(&records).unwrap(), i..end);
        i = end;
    }
}

/// A closed log of `n` records in `dir`, in batches of 2, over several segments.
pub fn make_log(dir: &Path, n: u64) {
    let log = Log::open(dir, options()).unwrap();
    append(&log, 0, n, 2);
    assert!(
        log.segment_count() >= 3,
        "segments: {}",
        log.segment_count()
    );
    log.close().unwrap();
}

/// Like [`make_log`], then `extra` single-record batches appended under `Durability::Always`,
/// so each tail batch's watermark proves the one before it durable.
pub fn make_log_with_durable_tail(dir: &Path, n: u64, extra: u64) {
    make_log(dir, n);
    let log = Log::open(dir, options().durability(Durability::Always)).unwrap();
    append(&log, n, n + extra, 1);
    log.close().unwrap();
}

/// The segment files of `dir` in offset order.
pub fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    files
}

/// Every file under `dir` with its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(path.clone(), fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// XORs one byte of `file` at `at`.
pub fn flip(file: &Path, at: u64) {
    let mut bytes = fs::read(file).unwrap();
    let at = usize::try_from(at).unwrap();
    bytes[at] ^= 0x40;
    fs::write(file, bytes).unwrap();
}

/// The real binary.
pub fn logq() -> Command {
    Command::cargo_bin("logq").unwrap()
}

/// Runs `logq args…`, checks the tree is byte-identical afterwards, returns (code, stdout,
/// stderr).
pub fn run_read_only(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let before = snapshot(dir);
    let output = logq().args(args).output().unwrap();
    assert_eq!(before, snapshot(dir), "logq {args:?} changed a byte");
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// Parses JSON lines.
pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Decodes `{"text": …}` / `{"bytes": base64}`.
pub fn decode_bytes(value: &Value) -> Vec<u8> {
    use base64::Engine;
    if let Some(text) = value.get("text").and_then(Value::as_str) {
        return text.as_bytes().to_vec();
    }
    let b64 = value["bytes"].as_str().expect("text or bytes");
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

/// The batches of `dir` as (file name, position, length, base offset, count) from
/// `logq dump --json`.
pub fn batches(dir: &Path) -> Vec<(String, u64, u64, u64, u64)> {
    let (code, stdout, _) = run_read_only(
        dir,
        &["dump", dir.to_str().unwrap(), "--json", "--payload", "none"],
    );
    assert_eq!(code, 0);
    json_lines(&stdout)
        .into_iter()
        .filter(|v| v["type"] == "batch")
        .map(|v| {
            let file = Path::new(v["file"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (
                file,
                v["position"].as_u64().unwrap(),
                v["length"].as_u64().unwrap(),
                v["base_offset"].as_u64().unwrap(),
                v["record_count"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Reads every record of a log opened for writing (recovery runs) as (offset, payload).
pub fn read_all_records(dir: &Path) -> Vec<(u64, Vec<u8>)> {
    let log = Log::open(dir, options()).unwrap();
    assert!(
        log.recovery_report().is_clean(),
        "{:?}",
        log.recovery_report()
    );
    let mut out = Vec::new();
    for batch in log.batches_from(log.first_offset()) {
        for r in batch.unwrap().records() {
            out.push((r.offset, r.payload.to_vec()));
        }
    }
    out
}
