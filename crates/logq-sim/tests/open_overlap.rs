//! `Log::open_and_read` (a group journal replays while its recovered tail is fdatasynced,
//! a message log reads its dedup window the same way) on the simulated file system with
//! concurrent recovery allowed, so that the overlapped path runs under a fault plan:
//! - a failed tail fdatasync fails the open with that error, marks the directory poisoned,
//!   drops what `read` computed, and the next open rewrites and syncs the tail, after which
//!   everything it shows survives a power cut;
//! - an error of `read` is returned once the sync succeeded, and nothing stays locked.

use logq_log::fs::FileSystem;
use logq_log::{Durability, Error, Log, LogOptions, Record};
use logq_sim::{FaultError, FaultPlan, OpKind, SimFs};
use std::path::Path;
use std::sync::Arc;

const DIR: &str = "/overlap/log";

fn options(fs: &SimFs, durability: Durability) -> LogOptions {
    LogOptions::default()
        .durability(durability)
        .file_system(Arc::new(fs.clone()))
}

/// 10 durable records, then 5 written to the page cache only, then a process crash.
fn crashed_log(fs: &SimFs) {
    let log = Log::open(DIR, options(fs, Durability::Always)).unwrap();
    for i in 0..10u8 {
        log.append(&[Record::new(&[i; 30])]).unwrap();
    }
    drop(log);
    let log = Log::open(DIR, options(fs, Durability::Never)).unwrap();
    for i in 10..15u8 {
        log.append(&[Record::new(&[i; 30])]).unwrap();
    }
    drop(log);
    fs.kill();
}

#[test]
fn a_failed_tail_fdatasync_fails_the_open_and_poisons_the_directory() {
    let fs = SimFs::new(11);
    crashed_log(&fs);
    fs.set_concurrent_recovery(true);
    let syncs_before = fs.op_count(OpKind::SyncData);
    fs.set_fault_plan(FaultPlan::new().fail_nth(
        OpKind::SyncData,
        syncs_before + 1,
        FaultError::Eio,
    ));
    let mut read_ran = false;
    let opened = Log::open_and_read(DIR, options(&fs, Durability::Always), |log| {
        read_ran = true;
        Ok::<_, Error>(log.next_offset())
    });
    match opened {
        Err(Error::Io { operation, .. }) => assert_eq!(operation, "fdatasync"),
        Err(other) => panic!("expected the fdatasync's error, got {other:?}"),
        Ok(_) => panic!("an open whose tail fdatasync failed succeeded"),
    }
    assert_eq!(fs.faults_fired_on(OpKind::SyncData), 1);
    assert!(read_ran, "read ran beside the fdatasync");
    assert!(
        fs.was_poisoned(Path::new(DIR)),
        "the next open must rewrite the tail"
    );

    // The next open (the fault is spent) recovers, rewrites and syncs the tail: what it shows
    // is durable, so a power cut right after it takes nothing away.
    let (log, visible) = Log::open_and_read(DIR, options(&fs, Durability::Always), |log| {
        Ok::<_, Error>(log.next_offset())
    })
    .unwrap();
    assert!(!fs.was_poisoned(Path::new(DIR)));
    assert!(visible >= 10, "durable records lost: {visible}");
    drop(log);
    fs.crash(5);
    let log = Log::open(DIR, options(&fs, Durability::Always)).unwrap();
    assert_eq!(
        log.next_offset(),
        visible,
        "records shown after recovery were not durable"
    );
    for i in 0..visible {
        assert_eq!(
            log.read(i).unwrap().payload,
            vec![u8::try_from(i).unwrap(); 30]
        );
    }
}

#[test]
fn an_error_of_read_is_returned_and_nothing_stays_locked() {
    let fs = SimFs::new(12);
    crashed_log(&fs);
    fs.set_concurrent_recovery(true);
    let failed = Log::open_and_read(DIR, options(&fs, Durability::Always), |log| {
        Err::<(), _>(Error::Corrupt {
            file: log.dir().to_path_buf(),
            offset: 7,
            reason: "a journal record that does not apply".into(),
        })
    });
    assert!(
        matches!(failed, Err(Error::Corrupt { offset: 7, .. })),
        "{failed:?}"
    );
    assert!(
        !fs.was_poisoned(Path::new(DIR)),
        "the sync itself succeeded"
    );
    let log = Log::open(DIR, options(&fs, Durability::Always)).unwrap();
    assert_eq!(
        log.append(&[Record::new(b"after")]).unwrap().start,
        log.next_offset() - 1
    );
}
