//! Format stability: a directory written by logq-log format version 1 is checked in under
//! `tests/fixtures/v1-log` and must be read, byte for byte, by every later version.
//!
//! Regenerate (only when deliberately adding a new fixture version, never to make this test
//! pass): `LOGQ_WRITE_FIXTURES=1 cargo test -p logq-log --test fixture`.

use logq_log::{Durability, Log, LogOptions, Record};
use std::path::{Path, PathBuf};

const RECORDS: u64 = 60;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1-log")
}

fn options() -> LogOptions {
    LogOptions::default()
        .durability(Durability::Never)
        .segment_bytes_max(1024)
        .index_interval_bytes(128)
}

fn payload(i: u64) -> Vec<u8> {
    format!("{{\"order\":{},\"amount_cents\":{}}}", 1000 + i, i * 137).into_bytes()
}

fn key(i: u64) -> Vec<u8> {
    format!("o-{}", 1000 + i).into_bytes()
}

const BASE_TIMESTAMP_MS: u64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

#[test]
fn write_fixture_when_asked() {
    if std::env::var_os("LOGQ_WRITE_FIXTURES").is_none() {
        return;
    }
    let dir = fixture_dir();
    let _ = std::fs::remove_dir_all(&dir);
    let log = Log::open(&dir, options()).unwrap();
    let mut i = 0;
    while i < RECORDS {
        let n = 1 + i % 3;
        let payloads: Vec<Vec<u8>> = (i..i + n).map(payload).collect();
        let keys: Vec<Vec<u8>> = (i..i + n).map(key).collect();
        let headers = [("type", &b"order"[..]), ("v", &b"1"[..])];
        let records: Vec<Record<'_>> = (0..usize::try_from(n).unwrap())
            .map(|j| {
                Record::new(&payloads[j])
                    .key(&keys[j])
                    .headers(&headers)
                    .timestamp_ms(BASE_TIMESTAMP_MS + i * 1000)
            })
            .collect();
        log.append(&records).unwrap();
        i += n;
    }
    log.close().unwrap();
    std::fs::remove_file(dir.join("LOCK")).unwrap();
}

#[test]
fn version_1_fixture_reads_back_exactly() {
    let dir = fixture_dir();
    let log = Log::open_read_only(&dir, options()).unwrap();
    assert!(
        log.segment_count() >= 3,
        "the fixture spans several segments"
    );
    assert_eq!(log.next_offset(), RECORDS);
    let mut expected = 0u64;
    for batch in log.batches_from(0) {
        let batch = batch.unwrap();
        let batch_first = batch.header().base_offset;
        for record in batch.records() {
            assert_eq!(record.offset, expected);
            assert_eq!(record.payload, payload(expected).as_slice());
            assert_eq!(record.key, Some(key(expected).as_slice()));
            assert_eq!(record.timestamp_ms, BASE_TIMESTAMP_MS + batch_first * 1000);
            let headers: Vec<(&str, &[u8])> = record.headers().collect();
            assert_eq!(headers, vec![("type", &b"order"[..]), ("v", &b"1"[..])]);
            expected += 1;
        }
    }
    assert_eq!(expected, RECORDS);
    // A writable open of a copy recovers nothing and appends after the fixture.
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
    }
    let log = Log::open(copy.path(), options()).unwrap();
    assert!(
        log.recovery_report().is_clean(),
        "{:?}",
        log.recovery_report()
    );
    assert_eq!(
        log.append(&[Record::new(b"v2")]).unwrap(),
        RECORDS..RECORDS + 1
    );
}
