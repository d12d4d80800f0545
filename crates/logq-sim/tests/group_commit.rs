//! The group commit under concurrency and faults: many threads append under
//! `Durability::Always` — blocking (`append`), async (`append_deferred` then awaiting
//! `wait_durable_async`, tasks on two executor threads), or both at once — while the n-th
//! fdatasync, write or directory fsync fails, and the segment rolls under them. Checked
//! after a power cut:
//! - every append that returned `Ok` is durable, at its offset, with its payload;
//! - offsets are dense and never given twice;
//! - after the failure every append fails (poisoned), none hangs, none is reported durable
//!   without being so.

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

/// What one appender saw: (offset, payload) of each `Ok` append, and the failures.
type ThreadOutcome = (Vec<(u64, Vec<u8>)>, u64);

/// How the appenders wait for durability.
#[derive(Clone, Copy, Debug)]
enum Waiting {
    /// `THREADS` threads calling `append`.
    Blocking,
    /// `THREADS` async tasks, half on each of two executor threads.
    Async,
    /// Half blocking threads, half async tasks on one executor thread.
    Mixed,
}

const ALL_WAITING: [Waiting; 3] = [Waiting::Blocking, Waiting::Async, Waiting::Mixed];

/// One blocking appender.
fn blocking_appender(log: &Log, appender: u64) -> ThreadOutcome {
    let mut acked = Vec::new();
    let mut failed = 0u64;
    for i in 0..APPENDS_PER_THREAD {
        let payload = format!("t{appender}-m{i}").into_bytes();
        match log.append(&[Record::new(&payload)]) {
            Ok(range) => {
                assert_eq!(range.end - range.start, 1);
                acked.push((range.start, payload));
            }
            Err(_) => failed += 1,
        }
    }
    (acked, failed)
}

/// One async appender: each append is `Ok` only once its future resolved `Ok`.
async fn async_appender(log: &Log, appender: u64) -> ThreadOutcome {
    let mut acked = Vec::new();
    let mut failed = 0u64;
    for i in 0..APPENDS_PER_THREAD {
        let payload = format!("t{appender}-m{i}").into_bytes();
        let appended = match log.append_deferred(&[Record::new(&payload)]) {
            Ok(range) => log.wait_durable_async(range.end).await.map(|()| range),
            Err(error) => Err(error),
        };
        match appended {
            Ok(range) => {
                assert_eq!(range.end - range.start, 1);
                acked.push((range.start, payload));
            }
            Err(_) => failed += 1,
        }
    }
    (acked, failed)
}

/// Runs `appenders` async appenders (numbered from `first`) on this thread.
fn async_appenders(log: &Log, first: u64, appenders: u64) -> Vec<ThreadOutcome> {
    futures::executor::block_on(futures::future::join_all(
        (first..first + appenders).map(|appender| async_appender(log, appender)),
    ))
}

/// Runs the appenders; returns what each `Ok` append was given, and how many failed.
fn run_appenders(log: &Log, waiting: Waiting) -> (BTreeMap<u64, Vec<u8>>, u64) {
    let half = THREADS / 2;
    let results: Vec<ThreadOutcome> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        match waiting {
            Waiting::Blocking => {
                for appender in 0..THREADS {
                    handles.push(scope.spawn(move || vec![blocking_appender(log, appender)]));
                }
            }
            Waiting::Async => {
                handles.push(scope.spawn(move || async_appenders(log, 0, half)));
                handles.push(scope.spawn(move || async_appenders(log, half, THREADS - half)));
            }
            Waiting::Mixed => {
                for appender in 0..half {
                    handles.push(scope.spawn(move || vec![blocking_appender(log, appender)]));
                }
                handles.push(scope.spawn(move || async_appenders(log, half, THREADS - half)));
            }
        }
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("appender thread panicked"))
            .collect()
    });
    assert_eq!(results.len() as u64, THREADS);
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
    for waiting in ALL_WAITING {
        let what = format!("{waiting:?}, no faults");
        let fs = SimFs::new(7);
        logq_log::fs::create_dir_durable(&fs, Path::new("/q")).unwrap();
        let log = Log::open(Path::new("/q"), options(&fs)).unwrap();
        let (acked, failed) = run_appenders(&log, waiting);
        assert_eq!(failed, 0, "{what}");
        let expected: Vec<u64> = (0..THREADS * APPENDS_PER_THREAD).collect();
        assert_eq!(
            acked.keys().copied().collect::<Vec<_>>(),
            expected,
            "{what}"
        );
        assert!(
            log.segment_count() > 1,
            "{what}: the run must roll segments"
        );
        drop(log);
        for seed in 0..4 {
            check_after_power_cut(&fs, &acked, seed, &what);
        }
    }
}

#[test]
fn a_failure_under_concurrent_appends_poisons_and_never_loses_an_ack() {
    let mut runs = 0;
    for (kind, waiting) in [OpKind::SyncData, OpKind::Write, OpKind::SyncDir]
        .into_iter()
        .flat_map(|kind| ALL_WAITING.map(|waiting| (kind, waiting)))
    {
        for nth in [2u64, 5, 11, 23, 40] {
            for error in [FaultError::Eio, FaultError::Enospc] {
                let what = format!("{waiting:?}: {kind:?} #{nth} fails with {error:?}");
                let fs = SimFs::new(nth);
                logq_log::fs::create_dir_durable(&fs, Path::new("/q")).unwrap();
                let log = Log::open(Path::new("/q"), options(&fs)).unwrap();
                fs.set_fault_plan(FaultPlan::new().fail_nth(kind, fs.op_count(kind) + nth, error));
                let (acked, failed) = run_appenders(&log, waiting);
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
    assert_eq!(runs, 90);
}
