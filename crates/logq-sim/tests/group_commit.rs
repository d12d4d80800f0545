//! The group commit under concurrency and faults: many threads append under
//! `Durability::Always` while the n-th fdatasync, write or directory fsync fails, and the
//! segment rolls under them. Checked after a power cut:
//! - every append that returned `Ok` is durable, at its offset, with its payload;
//! - offsets are dense and never given twice;
//! - after the failure every append fails (poisoned), none hangs, none is reported durable
//!   without being so.

use logq_log::fs::FileSystem;
use logq_log::{Durability, Log, LogOptions, Record};
use logq_sim::{FaultError, FaultPlan, OpKind, SimFs};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

const THREADS: u64 = 24;
const APPENDS_PER_THREAD: u64 = 40;

fn options(fs: &SimFs) -> LogOptions {
    LogOptions::default()
        .durability(Durability::Always)
        // Small segments: rolls (exclusive fdatasync slot, mark_durable) happen mid-run.
        .segment_bytes_max(4096)
        .file_system(Arc::new(fs.clone()))
}

/// What one appender thread saw: (offset, payload) of each `Ok` append, and the failures.
type ThreadOutcome = (Vec<(u64, Vec<u8>)>, u64);

/// Runs the appenders; returns what each `Ok` append was given, and how many failed.
fn run_appenders(log: &Log) -> (BTreeMap<u64, Vec<u8>>, u64) {
    let results: Vec<ThreadOutcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|thread| {
                scope.spawn(move || {
                    let mut acked = Vec::new();
                    let mut failed = 0u64;
                    for i in 0..APPENDS_PER_THREAD {
                        let payload = format!("t{thread}-m{i}").into_bytes();
                        match log.append(&[Record::new(&payload)]) {
                            Ok(range) => {
                                assert_eq!(range.end - range.start, 1);
                                acked.push((range.start, payload));
                            }
                            Err(_) => failed += 1,
                        }
                    }
                    (acked, failed)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("appender thread panicked"))
            .collect()
    });
    let mut acked = BTreeMap::new();
    let mut failed = 0;
    for (thread_acked, thread_failed) in results {
        failed += thread_failed;
        for (offset, payload) in thread_acked {
            assert!(
                acked.insert(offset, payload).is_none(),
                "offset {offset} given twice"
            );
        }
    }
    (acked, failed)
}

/// Power-cuts `fs` with `seed`, reopens, and checks every acknowledged append.
fn check_after_power_cut(fs: &SimFs, acked: &BTreeMap<u64, Vec<u8>>, seed: u64, what: &str) {
    let crashed = fs.fork();
    crashed.crash(seed);
    let log = Log::open(Path::new("/q"), options(&crashed))
        .unwrap_or_else(|e| panic!("{what}: reopen after power cut {seed} failed: {e}"));
    for (offset, payload) in acked {
        let record = log
            .read(*offset)
            .unwrap_or_else(|e| panic!("{what}: acknowledged offset {offset} lost: {e}"));
        assert_eq!(
            &record.payload, payload,
            "{what}: acknowledged offset {offset} changed"
        );
    }
}

#[test]
fn concurrent_appends_without_faults_are_all_durable_and_dense() {
    let fs = SimFs::new(7);
    fs.create_dir_all(Path::new("/q")).unwrap();
    let log = Log::open(Path::new("/q"), options(&fs)).unwrap();
    let (acked, failed) = run_appenders(&log);
    assert_eq!(failed, 0);
    let expected: Vec<u64> = (0..THREADS * APPENDS_PER_THREAD).collect();
    assert_eq!(acked.keys().copied().collect::<Vec<_>>(), expected);
    assert!(log.segment_count() > 1, "the run must roll segments");
    drop(log);
    for seed in 0..4 {
        check_after_power_cut(&fs, &acked, seed, "no faults");
    }
}

#[test]
fn a_failure_under_concurrent_appends_poisons_and_never_loses_an_ack() {
    let mut runs = 0;
    for kind in [OpKind::SyncData, OpKind::Write, OpKind::SyncDir] {
        for nth in [2u64, 5, 11, 23, 40] {
            for error in [FaultError::Eio, FaultError::Enospc] {
                let what = format!("{kind:?} #{nth} fails with {error:?}");
                let fs = SimFs::new(nth);
                fs.create_dir_all(Path::new("/q")).unwrap();
                let log = Log::open(Path::new("/q"), options(&fs)).unwrap();
                fs.set_fault_plan(FaultPlan::new().fail_nth(kind, fs.op_count(kind) + nth, error));
                let (acked, failed) = run_appenders(&log);
                let total = THREADS * APPENDS_PER_THREAD;
                assert_eq!(acked.len() as u64 + failed, total, "{what}");
                if fs.faults_fired() == 0 {
                    assert_eq!(failed, 0, "{what}: an append failed without a fault");
                }
                if failed > 0 {
                    // Poisoned: the next append fails too. (A fault may also fire on a
                    // sparse-index write, which is derived data and fails nothing.)
                    assert!(log.append(&[Record::new(b"after")]).is_err(), "{what}");
                }
                // Acknowledged offsets are dense from 0: a batch after a failed one is
                // never acknowledged.
                let expected: Vec<u64> = (0..acked.len() as u64).collect();
                assert_eq!(
                    acked.keys().copied().collect::<Vec<_>>(),
                    expected,
                    "{what}"
                );
                drop(log);
                for seed in 0..3 {
                    check_after_power_cut(&fs, &acked, seed, &what);
                }
                runs += 1;
            }
        }
    }
    assert_eq!(runs, 30);
}
