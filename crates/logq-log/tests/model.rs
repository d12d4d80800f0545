//! State-machine test: random appends, reads, iterations, rolls, reopens and retention
//! against an in-memory model (a map from offset to record).

use logq_log::{Durability, Log, LogOptions, Record};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Op {
    /// Append a batch of records: (payload length, has key, header count) per record.
    Append(Vec<(usize, bool, u8)>),
    Read(u64),
    IterateFrom(u64),
    Reopen,
    DropWithoutClose,
    RemoveBefore(u64),
    Sync,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => prop::collection::vec((0usize..300, any::<bool>(), 0u8..3), 1..6).prop_map(Op::Append),
        3 => any::<u64>().prop_map(Op::Read),
        2 => any::<u64>().prop_map(Op::IterateFrom),
        1 => Just(Op::Reopen),
        1 => Just(Op::DropWithoutClose),
        1 => any::<u64>().prop_map(Op::RemoveBefore),
        1 => Just(Op::Sync),
    ]
}

#[derive(Clone, Debug, PartialEq)]
struct ModelRecord {
    key: Option<Vec<u8>>,
    headers: Vec<(String, Vec<u8>)>,
    payload: Vec<u8>,
}

fn make_record(seed: u64, (len, has_key, headers): (usize, bool, u8)) -> ModelRecord {
    let byte = u8::try_from(seed % 251).unwrap();
    ModelRecord {
        key: has_key.then(|| format!("key-{seed}").into_bytes()),
        headers: (0..headers)
            .map(|h| (format!("h{h}"), vec![byte; usize::from(h) * 3]))
            .collect(),
        payload: (0..len)
            .map(|i| byte.wrapping_add(u8::try_from(i % 256).unwrap()))
            .collect(),
    }
}

fn options(durability: Durability) -> LogOptions {
    LogOptions::default()
        .durability(durability)
        .segment_bytes_max(1500)
        .index_interval_bytes(200)
}

fn check_all(log: &Log, model: &BTreeMap<u64, ModelRecord>, first: u64) {
    assert_eq!(log.first_offset(), first);
    let next = model.keys().next_back().map_or(first, |o| o + 1).max(first);
    assert_eq!(log.next_offset(), next);
    let mut seen = 0usize;
    for batch in log.batches_from(first) {
        for record in batch.unwrap().records() {
            let expected = &model[&record.offset];
            assert_eq!(record.payload, expected.payload.as_slice());
            assert_eq!(record.key, expected.key.as_deref());
            let headers: Vec<(String, Vec<u8>)> = record
                .headers()
                .map(|(n, v)| (n.to_string(), v.to_vec()))
                .collect();
            assert_eq!(headers, expected.headers);
            seen += 1;
        }
    }
    assert_eq!(seen, model.range(first..).count());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn log_matches_model(ops in prop::collection::vec(op(), 1..60), always in any::<bool>()) {
        let durability = if always { Durability::Always } else { Durability::Never };
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::open(dir.path(), options(durability)).unwrap();
        let mut model: BTreeMap<u64, ModelRecord> = BTreeMap::new();
        let mut first = 0u64;
        let mut next = 0u64;
        for (step, op) in ops.into_iter().enumerate() {
            match op {
                Op::Append(shape) => {
                    let records: Vec<ModelRecord> = shape
                        .into_iter()
                        .enumerate()
                        .map(|(i, s)| make_record(next + u64::try_from(i).unwrap(), s))
                        .collect();
                    let header_views: Vec<Vec<(&str, &[u8])>> = records
                        .iter()
                        .map(|r| r.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect())
                        .collect();
                    let views: Vec<Record<'_>> = records
                        .iter()
                        .zip(&header_views)
                        .map(|(r, h)| {
                            let mut v = Record::new(&r.payload).headers(h);
                            if let Some(k) = &r.key {
                                v = v.key(k);
                            }
                            v
                        })
                        .collect();
                    let range = log.append(&views).unwrap();
                    prop_assert_eq!(range.start, next);
                    prop_assert_eq!(range.end, next + u64::try_from(records.len()).unwrap());
                    for (i, record) in records.into_iter().enumerate() {
                        model.insert(next + u64::try_from(i).unwrap(), record);
                    }
                    next = range.end;
                }
                Op::Read(raw) => {
                    let offset = if next == 0 { raw % 3 } else { raw % (next + 2) };
                    match model.get(&offset).filter(|_| offset >= first) {
                        Some(expected) => {
                            let record = log.read(offset).unwrap();
                            prop_assert_eq!(&record.payload, &expected.payload);
                            prop_assert_eq!(&record.key, &expected.key);
                            prop_assert_eq!(&record.headers, &expected.headers);
                        }
                        None => prop_assert!(matches!(
                            log.read(offset),
                            Err(logq_log::Error::OffsetOutOfRange { .. })
                        ), "step {} offset {}", step, offset),
                    }
                }
                Op::IterateFrom(raw) => {
                    let from = first + if next > first { raw % (next - first + 1) } else { 0 };
                    let offsets: Vec<u64> = log
                        .batches_from(from)
                        .flat_map(|b| b.unwrap().records().map(|r| r.offset).collect::<Vec<_>>())
                        .collect();
                    prop_assert_eq!(offsets, (from..next).collect::<Vec<_>>());
                }
                Op::Reopen => {
                    log.close().unwrap();
                    log = Log::open(dir.path(), options(durability)).unwrap();
                    prop_assert!(log.recovery_report().is_clean());
                    check_all(&log, &model, first);
                }
                Op::DropWithoutClose => {
                    // A process crash: the page cache survives, so nothing may be lost.
                    drop(log);
                    log = Log::open(dir.path(), options(durability)).unwrap();
                    check_all(&log, &model, first);
                }
                Op::RemoveBefore(raw) => {
                    let target = if next == 0 { 0 } else { raw % (next + 1) };
                    log.remove_segments_before(target).unwrap();
                    let new_first = log.first_offset();
                    prop_assert!(new_first >= first && new_first <= target.max(first));
                    first = new_first;
                }
                Op::Sync => {
                    log.sync().unwrap();
                    prop_assert_eq!(log.durable_offset(), next);
                }
            }
            prop_assert_eq!(log.next_offset(), next);
        }
        check_all(&log, &model, first);
    }
}
