//! Appending, reading, rolling, retention, locking and read-only opens.

use logq_log::{Durability, Error, Log, LogOptions, Record};
use std::sync::Arc;

fn small_segments() -> LogOptions {
    LogOptions::default()
        .segment_bytes_max(4096)
        .index_interval_bytes(256)
}

fn payload(i: u64) -> Vec<u8> {
    format!(
        "order-{i:06}-{}",
        "x".repeat(usize::try_from(i % 50).unwrap())
    )
    .into_bytes()
}

#[test]
fn append_read_reopen_across_rolls() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), small_segments()).unwrap();
    for i in 0..500u64 {
        let p = payload(i);
        let headers = [("type", &b"order"[..])];
        let range = log
            .append(&[Record::new(&p).key(b"k").headers(&headers)])
            .unwrap();
        assert_eq!(range, i..i + 1);
    }
    assert!(log.segment_count() > 5, "segments: {}", log.segment_count());
    for i in (0..500u64).rev() {
        let record = log.read(i).unwrap();
        assert_eq!(record.offset, i);
        assert_eq!(record.payload, payload(i));
        assert_eq!(record.key.as_deref(), Some(&b"k"[..]));
        assert_eq!(
            record.headers,
            vec![("type".to_string(), b"order".to_vec())]
        );
    }
    log.close().unwrap();
    let log = Log::open(dir.path(), small_segments()).unwrap();
    assert!(log.recovery_report().is_clean());
    assert_eq!(log.next_offset(), 500);
    let mut expected = 0u64;
    for batch in log.batches_from(0) {
        for record in batch.unwrap().records() {
            assert_eq!(record.offset, expected);
            assert_eq!(record.payload, payload(expected).as_slice());
            expected += 1;
        }
    }
    assert_eq!(expected, 500);
    assert_eq!(log.append(&[Record::new(b"after")]).unwrap(), 500..501);
}

#[test]
fn batches_are_atomic_ranges_and_iteration_starts_mid_batch() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    let records: Vec<Vec<u8>> = (0..10u64).map(payload).collect();
    let views: Vec<Record<'_>> = records.iter().map(|p| Record::new(p)).collect();
    assert_eq!(log.append(&views).unwrap(), 0..10);
    assert_eq!(log.append(&views[..3]).unwrap(), 10..13);
    let mut iter = log.batches_from(7);
    let first = iter.next().unwrap().unwrap();
    let offsets: Vec<u64> = first.records().map(|r| r.offset).collect();
    assert_eq!(offsets, vec![7, 8, 9]);
    let second = iter.next().unwrap().unwrap();
    assert_eq!(second.header().base_offset, 10);
    assert!(iter.next().is_none());
}

#[test]
fn out_of_range_and_bad_arguments_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert!(matches!(
        log.read(0),
        Err(Error::OffsetOutOfRange {
            offset: 0,
            first: 0,
            next: 0
        })
    ));
    assert!(matches!(log.append(&[]), Err(Error::InvalidArgument(_))));
    let big = vec![0u8; 17 * 1024 * 1024];
    assert!(matches!(
        log.append(&[Record::new(&big)]),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(log.next_offset(), 0);
}

#[test]
fn concurrent_appenders_get_dense_unique_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), small_segments()).unwrap();
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                for i in 0..50u64 {
                    let p = format!("{t}:{i}");
                    let range = log.append(&[Record::new(p.as_bytes())]).unwrap();
                    mine.push((range.start, p));
                }
                mine
            })
        })
        .collect();
    let mut all: Vec<(u64, String)> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort();
    assert_eq!(all.len(), 400);
    for (i, (offset, p)) in all.iter().enumerate() {
        assert_eq!(*offset, u64::try_from(i).unwrap());
        assert_eq!(log.read(*offset).unwrap().payload, p.as_bytes());
    }
    // Per-thread order is kept.
    for t in 0..8u64 {
        let prefix = format!("{t}:");
        let seq: Vec<u64> = all
            .iter()
            .filter(|(_, p)| p.starts_with(&prefix))
            .map(|(_, p)| p[prefix.len()..].parse().unwrap())
            .collect();
        assert_eq!(seq, (0..50).collect::<Vec<_>>());
    }
    assert_eq!(log.durable_offset(), 400);
}

#[test]
fn retention_removes_only_whole_sealed_segments() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), small_segments()).unwrap();
    for i in 0..300u64 {
        log.append(&[Record::new(&payload(i))]).unwrap();
    }
    let before = log.segment_count();
    let removed = log.remove_segments_before(150).unwrap();
    assert!(removed > 0);
    assert_eq!(log.segment_count(), before - removed);
    let first = log.first_offset();
    assert!(first <= 150 && first > 0, "first {first}");
    assert!(matches!(
        log.read(first - 1),
        Err(Error::OffsetOutOfRange { .. })
    ));
    assert_eq!(log.read(150).unwrap().payload, payload(150));
    // Never the active segment.
    log.remove_segments_before(u64::MAX).unwrap();
    assert_eq!(log.segment_count(), 1);
    assert_eq!(log.read(299).unwrap().payload, payload(299));
    drop(log);
    let log = Log::open(dir.path(), small_segments()).unwrap();
    assert_eq!(log.segment_count(), 1);
    assert_eq!(log.next_offset(), 300);
}

#[test]
fn second_writer_is_locked_and_read_only_sees_a_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    log.append(&[Record::new(b"one")]).unwrap();
    assert!(matches!(
        Log::open(dir.path(), LogOptions::default()),
        Err(Error::Locked { .. })
    ));
    let reader = Log::open_read_only(dir.path(), LogOptions::default()).unwrap();
    assert_eq!(reader.next_offset(), 1);
    assert_eq!(reader.read(0).unwrap().payload, b"one");
    assert!(matches!(
        reader.append(&[Record::new(b"x")]),
        Err(Error::ReadOnly { .. })
    ));
    log.append(&[Record::new(b"two")]).unwrap();
    assert_eq!(reader.next_offset(), 1, "a read-only handle is a snapshot");
    drop(log);
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert_eq!(log.next_offset(), 2);
}

#[test]
fn every_durability_mode_round_trips() {
    for durability in [
        Durability::Always,
        Durability::Never,
        Durability::Interval(std::time::Duration::from_millis(5)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::open(dir.path(), small_segments().durability(durability)).unwrap();
        for i in 0..100u64 {
            log.append(&[Record::new(&payload(i))]).unwrap();
        }
        assert_eq!(log.next_offset(), 100);
        if durability != Durability::Always {
            std::thread::sleep(std::time::Duration::from_millis(30));
        }
        log.sync().unwrap();
        assert_eq!(log.durable_offset(), 100, "{durability:?}");
        log.close().unwrap();
        let log = Log::open(dir.path(), small_segments()).unwrap();
        assert_eq!(log.next_offset(), 100);
        assert_eq!(log.read(99).unwrap().payload, payload(99));
    }
}

#[test]
fn dropping_an_interval_log_releases_the_lock_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let options =
        LogOptions::default().durability(Durability::Interval(std::time::Duration::from_secs(60)));
    let log = Log::open(dir.path(), options.clone()).unwrap();
    log.append(&[Record::new(b"x")]).unwrap();
    drop(log);
    let log = Log::open(dir.path(), options).unwrap();
    assert_eq!(log.next_offset(), 1);
}

#[test]
fn log_is_send_sync_and_shared() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(Log::open(dir.path(), LogOptions::default()).unwrap());
    assert_send_sync(&log);
}

#[test]
fn write_buffer_reads_its_own_appends_and_is_written_on_drop_and_close() {
    let dir = tempfile::tempdir().unwrap();
    let options = small_segments()
        .durability(Durability::Never)
        .write_buffer_bytes(16 * 1024);
    let log = Log::open(dir.path(), options.clone()).unwrap();
    for i in 0..400u64 {
        let p = payload(i);
        assert_eq!(log.append(&[Record::new(&p)]).unwrap(), i..i + 1);
        assert_eq!(
            log.read(i).unwrap().payload,
            p,
            "a buffered append is readable at once"
        );
    }
    let count: usize = log
        .batches_from(0)
        .map(|b| b.unwrap().records().count())
        .sum();
    assert_eq!(count, 400);
    for i in 400..450u64 {
        log.append(&[Record::new(&payload(i))]).unwrap();
    }
    drop(log); // dropping the last handle without `close` writes the buffer too
    let log = Log::open(dir.path(), options.clone()).unwrap();
    let next = log.next_offset();
    assert_eq!(next, 450);
    for i in 0..next {
        assert_eq!(log.read(i).unwrap().payload, payload(i));
    }
    for i in next..next + 20 {
        log.append(&[Record::new(&payload(i))]).unwrap();
    }
    log.close().unwrap();
    let log = Log::open(dir.path(), options).unwrap();
    assert_eq!(log.next_offset(), next + 20, "close writes the buffer");
}

#[test]
fn reading_a_large_batch_record_by_record_returns_each_record_and_respects_retention() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(
        dir.path(),
        LogOptions::default().segment_bytes_max(64 * 1024),
    )
    .unwrap();
    let payloads: Vec<Vec<u8>> = (0..300u64).map(payload).collect();
    let keys: Vec<Vec<u8>> = (0..300u64).map(|i| format!("k{i}").into_bytes()).collect();
    let records: Vec<Record<'_>> = payloads
        .iter()
        .zip(&keys)
        .map(|(p, k)| Record::new(p).key(k))
        .collect();
    for _ in 0..4 {
        log.append(&records).unwrap();
    }
    assert!(log.segment_count() > 1);
    // Out of order and repeated, across batches: each read is the record at that offset
    // (the verified-batch cache must never answer for another offset or batch).
    for offset in [5u64, 4, 299, 0, 300, 301, 5, 599, 900, 1199, 600, 1] {
        let index = usize::try_from(offset % 300).unwrap();
        let record = log.read(offset).unwrap();
        assert_eq!(record.offset, offset);
        assert_eq!(record.payload, payloads[index]);
        assert_eq!(record.key.as_deref(), Some(&keys[index][..]));
    }
    assert!(matches!(
        log.read(1200),
        Err(Error::OffsetOutOfRange { .. })
    ));
    // Read from the first segment, then remove it: the cached batch must not answer.
    log.read(10).unwrap();
    let removed = log.remove_segments_before(log.next_offset()).unwrap();
    assert!(removed > 0);
    assert!(log.first_offset() > 10);
    assert!(matches!(log.read(10), Err(Error::OffsetOutOfRange { .. })));
    let last = log.read(1199).unwrap();
    assert_eq!(last.payload, payloads[299]);
}
