//! Regression tests for the logq-log bugs the crash explorer found (all fixed in logq-log;
//! see the closing note of the crash-testing issue for the commits). Each test reproduces the
//! exact failure scenario and must keep passing.

use logq_log::{Log, LogOptions, Record};
use logq_sim::explore::{check_log, Model};
use logq_sim::{FaultError, FaultPlan, OpKind, SimFs};
use std::sync::Arc;

const DIR: &str = "/bug/log";

fn options(fs: &SimFs, segment_bytes_max: u64, preallocate_bytes: u64) -> LogOptions {
    LogOptions::default()
        .segment_bytes_max(segment_bytes_max)
        .index_interval_bytes(64)
        .preallocate_bytes(preallocate_bytes)
        .file_system(Arc::new(fs.clone()))
}

/// Appends a batch of one record of `len` bytes through the model; returns whether it was
/// acknowledged.
fn append(log: &Log, model: &mut Model, len: usize) -> bool {
    let (id, payloads) = model.send(&[len]);
    let records: Vec<Record<'_>> = payloads.iter().map(|p| Record::new(p)).collect();
    match log.append(&records) {
        Ok(range) => {
            model.ack(id, range);
            true
        }
        Err(_) => false,
    }
}

/// Opens the log on `fs` and checks it against `model`; panics with `context` otherwise.
fn open_and_check(
    fs: &SimFs,
    segment_bytes_max: u64,
    preallocate_bytes: u64,
    model: &Model,
    context: &str,
) {
    let log = Log::open(DIR, options(fs, segment_bytes_max, preallocate_bytes))
        .unwrap_or_else(|e| panic!("{context}: open failed: {e}"));
    if let Err(violation) = check_log(&log, model) {
        panic!("{context}: {violation}");
    }
}

/// Was BUG (KnownBug::GarbageHeaderOfUnfinishedRoll): a power cut during a roll, after the new
/// segment's header was written but before it was fdatasynced, can leave that header as
/// garbage (a torn sector). `Log::open` then fails with `Error::Foreign` ("not a logq file")
/// instead of removing the unfinished segment, as it does for a short or zeroed header
/// (recovery.rs, `TailScan::run`: only `Short | Zeroed | Damaged` count as torn; garbage
/// decodes as `WrongMagic`). A segment's header is durable before any batch goes into it, so
/// a tail segment with an invalid header and nothing after it can only be an unfinished roll.
#[test]

fn bug_garbage_header_of_an_unfinished_roll_blocks_open() {
    let base = SimFs::new(1);
    let mut model = Model::new(true);
    {
        let log = Log::open(DIR, options(&base, 300, 0)).unwrap();
        assert!(append(&log, &mut model, 150));
    }
    base.kill();
    // Crash at every operation of the append that rolls to a new segment.
    for k in 1..40 {
        let fs = base.fork();
        let mut run_model = model.clone();
        let log = Log::open(DIR, options(&fs, 300, 0)).unwrap();
        fs.crash_after_ops(k);
        let _acked = append(&log, &mut run_model, 150);
        let halted = fs.is_halted();
        drop(log);
        for seed in 0..16 {
            let crashed = fs.fork();
            crashed.crash(seed);
            open_and_check(
                &crashed,
                300,
                0,
                &run_model,
                &format!("crash after op {k}, crash seed {seed}"),
            );
        }
        if !halted {
            return;
        }
    }
}

/// Was BUG (KnownBug::LostTruncateAfterFailedSync): a roll cuts the old segment's preallocated
/// zeros (`set_len`) and fdatasyncs it. When that fdatasync fails (EIO), the truncation is
/// lost with the rest of the pending changes (Linux marks the pages clean; the model of
/// ENGINEERING.md §3 loses every pending change), but the live file is already short. After
/// the restart, `Log::open` rewrites the tail's bytes (the fsyncgate fix) but not its length,
/// and its fdatasync succeeds; the next roll sees `allocated_len == flushed_len` and does not
/// truncate either. After a power cut the sealed segment ends in zeros again and reading any
/// acknowledged record in it fails with `Corrupt` ("zero batch length").
#[test]

fn bug_truncation_lost_by_a_failed_fdatasync_corrupts_a_sealed_segment() {
    let fs = SimFs::new(2);
    let mut model = Model::new(true);
    let log = Log::open(DIR, options(&fs, 512, 1 << 20)).unwrap();
    assert!(append(&log, &mut model, 100));
    // The next append rolls: its first fdatasync is the one after the truncation.
    let next_sync = fs.op_count(OpKind::SyncData) + 1;
    fs.set_fault_plan(FaultPlan::new().fail_nth(OpKind::SyncData, next_sync, FaultError::Eio));
    assert!(
        !append(&log, &mut model, 400),
        "the roll's fdatasync must fail"
    );
    drop(log);
    fs.kill();
    let log = Log::open(DIR, options(&fs, 512, 1 << 20)).unwrap();
    assert!(append(&log, &mut model, 400));
    assert!(append(&log, &mut model, 10));
    drop(log);
    for seed in 0..8 {
        let crashed = fs.fork();
        crashed.crash(seed);
        open_and_check(
            &crashed,
            512,
            1 << 20,
            &model,
            &format!("crash seed {seed}"),
        );
    }
}

/// Was BUG (KnownBug::RetentionGapAfterFailedRemove): `remove_segments_before` removes the oldest
/// segment from the in-memory list before `remove(file)` and the directory fsync succeed
/// (log.rs). When that remove fails, the error is returned but the file stays on disk; the
/// next call removes the following segments. After a restart the leftover segment is the
/// first one, followed by a gap: `first_offset` is its base, and reading it fails with
/// `Corrupt` ("segment ends at offset X but the next segment starts at Y"). No crash needed.
#[test]

fn bug_retention_after_a_failed_remove_leaves_a_gap() {
    let fs = SimFs::new(3);
    let mut model = Model::new(true);
    let log = Log::open(DIR, options(&fs, 300, 0)).unwrap();
    for _ in 0..8 {
        assert!(append(&log, &mut model, 150));
    }
    assert!(log.segment_count() >= 4);
    let next_remove = fs.op_count(OpKind::Remove) + 1;
    fs.set_fault_plan(FaultPlan::new().fail_nth(OpKind::Remove, next_remove, FaultError::Eio));
    let below = log.next_offset() - 1;
    model.note_retention(below);
    assert!(log.remove_segments_before(below).is_err());
    assert!(log.remove_segments_before(below).is_ok());
    drop(log);
    fs.kill();
    open_and_check(&fs, 300, 0, &model, "after a restart");
}

/// Was BUG (strict sector model, `SimFs::set_garbage_on_rewrite(true)`): the fsyncgate fix in
/// recovery (recovery.rs, `TailScan::rewrite`) rewrites the tail segment in place from the
/// trusted index entry — or from byte 0, header included, when there is none — before its
/// fdatasync. On a drive without atomic sector writes, a power cut during that rewrite can
/// turn bytes that were durable and acknowledged into garbage: the next open loses
/// acknowledged records (cut as a torn tail) or refuses the segment (garbage header).
/// Rewriting in place trades the fsyncgate hazard for a torn-rewrite hazard.
#[test]

fn bug_recovery_rewrite_can_destroy_durable_records() {
    let base = SimFs::new(4);
    let mut model = Model::new(true);
    {
        let log = Log::open(DIR, options(&base, 4096, 0)).unwrap();
        assert!(append(&log, &mut model, 100));
        assert!(append(&log, &mut model, 100));
    }
    base.kill();
    base.crash(0);
    // Crash the recovery after each of its operations, with garbage allowed in rewritten
    // sectors, and recover again.
    for m in 1..40 {
        let fs = base.fork();
        fs.set_garbage_on_rewrite(true);
        fs.crash_after_ops(m);
        let opened = Log::open(DIR, options(&fs, 4096, 0));
        let halted = fs.is_halted();
        drop(opened);
        for seed in 0..16 {
            let crashed = fs.fork();
            crashed.crash(seed);
            open_and_check(
                &crashed,
                4096,
                0,
                &model,
                &format!("crash after recovery op {m}, seed {seed}"),
            );
        }
        if !halted {
            return;
        }
    }
}

/// A log opened in a directory that did not exist yet, nested several levels deep (as a
/// queue created at run time is): `Log::open` used to create the directories without
/// fsyncing their parents, so a power cut could take the directory — and every acknowledged
/// record in it — away. Every crash must now keep the acknowledged records.
#[test]
fn acknowledged_records_survive_a_power_cut_in_a_directory_created_at_open() {
    let fs = SimFs::new(21);
    let dir = std::path::Path::new("/store/queues/orders/log");
    let log = Log::open(dir, options(&fs, 1 << 20, 4096)).expect("open");
    let range = log.append(&[Record::new(b"order 1")]).expect("append");
    for seed in 0..200 {
        let crashed = fs.fork();
        crashed.crash(seed);
        let reopened = Log::open(dir, options(&crashed, 1 << 20, 4096))
            .unwrap_or_else(|e| panic!("crash seed {seed}: reopen failed: {e}"));
        let record = reopened
            .read(range.start)
            .unwrap_or_else(|e| panic!("crash seed {seed}: acknowledged record lost: {e}"));
        assert_eq!(record.payload, b"order 1", "crash seed {seed}");
    }
}

/// Was BUG (found when `SimFs::kill` stopped keeping the dead process's memory of poisoned
/// logs, as `RealFs` never did): a failed fdatasync leaves its pages clean but unwritten; the
/// process is killed; the next process opens the log without knowing, reads those pages as
/// if they were on disk, and its fdatasync skips them; a power cut later takes them back,
/// with records acknowledged after them. The explorer's `every_single_fault_eio` failed with
/// "the segment header is all zeros". Now a poisoned log leaves a `POISONED` mark file that
/// outlives the process, and the open that finds it rewrites the tail before fdatasyncing.
#[test]
fn bug_a_failed_fdatasync_is_forgotten_when_the_process_dies() {
    let base = SimFs::new(3);
    let mut model = Model::new(true);
    let log = Log::open(DIR, options(&base, 4096, 0)).unwrap();
    for _ in 0..3 {
        assert!(append(&log, &mut model, 100));
    }
    base.set_fault_plan(FaultPlan::new().fail_nth(
        OpKind::SyncData,
        base.op_count(OpKind::SyncData) + 1,
        FaultError::Eio,
    ));
    assert!(
        !append(&log, &mut model, 100),
        "the failed fdatasync was reported"
    );
    assert!(
        base.live_names(std::path::Path::new(DIR))
            .contains(&"POISONED".to_owned()),
        "no poison mark was left"
    );
    drop(log);
    base.kill();

    let log = Log::open(DIR, options(&base, 4096, 0)).unwrap();
    assert!(
        !base
            .live_names(std::path::Path::new(DIR))
            .contains(&"POISONED".to_owned()),
        "the repairing open left the mark"
    );
    for _ in 0..3 {
        assert!(append(&log, &mut model, 100));
    }
    drop(log);
    for seed in 0..64 {
        let fs = base.fork();
        fs.crash(seed);
        open_and_check(&fs, 4096, 0, &model, &format!("power cut {seed}"));
    }
}
