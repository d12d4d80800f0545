//! Which directory fsyncs an open needs, checked against power cuts on `SimFs`.
//!
//! - A reopened log whose tail holds a batch fsyncs no directory: the roll that created the
//!   tail fsynced it before the first batch went in. Everything acknowledged before and after
//!   the reopen survives every power cut.
//! - A tail with a header and no batch (an unfinished roll: the process died before its
//!   directory fsync) gets its directory fsynced before anything is built on it.
//! - Directories a killed process created without fsyncing their parents are fsynced again
//!   when a log in them has no segment yet, so a queue created there keeps what it
//!   acknowledged.

use logq::{Message, Options, Store};
use logq_log::format::{names, segment_header};
use logq_log::fs::{FileSystem, OpenMode};
use logq_log::{Log, LogOptions, Record};
use logq_sim::{OpKind, SimFs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Power cuts tried on each end state.
const CRASH_SEEDS: u64 = 48;

fn log_options(fs: &SimFs) -> LogOptions {
    LogOptions::default().file_system(Arc::new(fs.clone()))
}

fn append(log: &Log, from: u64, count: u64) {
    for n in from..from + count {
        let payload = format!("record {n}");
        log.append(&[Record::new(payload.as_bytes())])
            .expect("durable append");
    }
}

/// Every payload of the log at `dir` on `fs`, in order.
fn payloads(fs: &SimFs, dir: &Path) -> Vec<String> {
    let log = Log::open(dir, log_options(fs)).expect("reopen after the power cut");
    let mut out = Vec::new();
    for batch in log.batches_from(log.first_offset()) {
        for record in batch.expect("readable batch").records() {
            out.push(String::from_utf8_lossy(record.payload).into_owned());
        }
    }
    out
}

/// Asserts that every power cut of `fs` keeps records `0..count` of the log at `dir`.
fn assert_survives_power_cuts(fs: &SimFs, dir: &Path, count: u64) {
    let expected: Vec<String> = (0..count).map(|n| format!("record {n}")).collect();
    for seed in 0..CRASH_SEEDS {
        let cut = fs.fork();
        cut.crash(seed);
        let found = payloads(&cut, dir);
        assert!(
            found.len() >= expected.len() && found[..expected.len()] == expected[..],
            "power cut {seed}: acknowledged records lost: {found:?}"
        );
    }
}

/// Reopens the log at `dir` on `fs`; returns it with the directory fsyncs and the
/// fdatasyncs the open made.
fn reopen_counting_syncs(fs: &SimFs, dir: &Path) -> (Log, u64, u64) {
    let dir_syncs = fs.op_count(OpKind::SyncDir);
    let data_syncs = fs.op_count(OpKind::SyncData);
    let log = Log::open(dir, log_options(fs)).expect("reopen after kill -9");
    (
        log,
        fs.op_count(OpKind::SyncDir) - dir_syncs,
        fs.op_count(OpKind::SyncData) - data_syncs,
    )
}

#[test]
fn a_reopened_tail_with_batches_fsyncs_no_directory_and_keeps_every_acknowledged_record() {
    let fs = SimFs::new(11);
    let dir = Path::new("/store/log");
    let log = Log::open(dir, log_options(&fs)).expect("open");
    append(&log, 0, 5);
    drop(log);
    fs.kill();
    let (log, dir_syncs, data_syncs) = reopen_counting_syncs(&fs, dir);
    assert_eq!(dir_syncs, 0, "the reopen fsynced a directory");
    assert!(data_syncs > 0, "the recovered tail was not fdatasynced");
    append(&log, 5, 5);
    drop(log);
    assert_survives_power_cuts(&fs, dir, 10);
}

#[test]
fn a_tail_without_a_batch_gets_its_directory_fsynced_before_it_is_used() {
    let fs = SimFs::new(12);
    let dir = Path::new("/store/log");
    let log = Log::open(dir, log_options(&fs)).expect("open");
    append(&log, 0, 3);
    let next = log.next_offset();
    let active = log.segments().expect("segments").pop().expect("a segment");
    drop(log);
    // A roll that died after cutting the old segment's preallocated zeros (fdatasynced) and
    // writing and fdatasyncing the new segment's header, before its directory fsync: the new
    // name is pending.
    let old = fs
        .open(&active.path, OpenMode::ReadWrite)
        .expect("old segment");
    old.set_len(active.bytes).expect("cut preallocated zeros");
    old.sync_data().expect("fdatasync old segment");
    let path = dir.join(names::segment_file_name(next));
    let file = fs.open(&path, OpenMode::CreateNew).expect("create");
    file.write_all_at(&segment_header::encode(next), 0)
        .expect("header");
    file.sync_data().expect("fdatasync header");
    fs.kill();
    assert!(
        fs.pending_dir_ops() > 0,
        "the new segment's name is pending"
    );
    let (log, dir_syncs, _) = reopen_counting_syncs(&fs, dir);
    assert!(
        dir_syncs > 0,
        "a tail with no batch was built on without a directory fsync"
    );
    append(&log, 3, 4);
    drop(log);
    assert_survives_power_cuts(&fs, dir, 7);
}

#[test]
fn directories_a_killed_process_made_are_fsynced_before_a_queue_in_them_acknowledges() {
    let store_dir = Path::new("/data/store");
    let fs = SimFs::new(13);
    // A process that died after `mkdir -p` and before any parent fsync.
    for dir in ["queues/orders/log", "queues/orders/groups/journal"] {
        fs.create_dir_all(&store_dir.join(dir)).expect("mkdir");
    }
    fs.kill();
    assert!(fs.pending_dir_ops() > 0, "the new directories are pending");

    let open = |fs: &SimFs| {
        Store::open_with_file_system(store_dir, Options::default(), Arc::new(fs.clone()))
            .expect("open")
    };
    let store = open(&fs);
    let orders = store.queue("orders").expect("queue");
    orders
        .send(Message::new(b"order 1".to_vec()))
        .expect("durable send");
    drop(orders);
    drop(store);
    fs.kill();

    for seed in 0..CRASH_SEEDS {
        let cut = fs.fork();
        cut.crash(seed);
        let store = open(&cut);
        let consumer = store
            .queue("orders")
            .expect("queue")
            .consumer("payments")
            .expect("consumer");
        let delivery = consumer
            .receive(Duration::from_millis(10))
            .expect("receive")
            .unwrap_or_else(|| panic!("power cut {seed}: the acknowledged order is gone"));
        assert_eq!(delivery.payload(), b"order 1", "power cut {seed}");
    }
}
