//! The durable store: crash (drop without close) and reopen, checkpoints, damage.

use logq_log::LogOptions;
use logq_offsets::{
    GroupConfig, MessageStatus, OffsetOptions, OffsetStore, StartPosition, StoreError,
};
use std::fs;
use std::path::{Path, PathBuf};

fn options(checkpoint_every: u64) -> OffsetOptions {
    OffsetOptions::default()
        .group_config(GroupConfig {
            lease_ms: 1_000,
            max_deliveries: 3,
            max_in_flight: 100,
        })
        .checkpoint_interval_records(checkpoint_every)
        .journal(
            LogOptions::default()
                .segment_bytes_max(1024)
                .preallocate_bytes(0),
        )
}

#[test]
fn acks_and_outcomes_survive_a_crash_and_acked_messages_are_not_redelivered() {
    let dir = tempfile::tempdir().unwrap();
    let store = OffsetStore::open(dir.path(), options(1_000)).unwrap();
    store
        .ensure_group("payments", StartPosition::Earliest, 0, 10)
        .unwrap();
    store
        .ensure_group("inventory", StartPosition::Earliest, 0, 10)
        .unwrap();
    for expected in 0..4u64 {
        let d = store.deliver_next("payments", 1, 100, 10).unwrap().unwrap();
        assert_eq!(d.offset, expected);
        assert_eq!(d.lease.attempt, 1);
    }
    assert!(store.ack_with_outcome("payments", 2, b"paid:2").unwrap());
    assert!(store.ack("payments", 0).unwrap());
    assert!(
        !store.ack("payments", 0).unwrap(),
        "a second ack is a no-op"
    );
    drop(store);
    let store = OffsetStore::open(dir.path(), options(1_000)).unwrap();
    assert_eq!(
        store.status("payments", 2).unwrap(),
        MessageStatus::Acked {
            outcome: Some(b"paid:2".to_vec())
        }
    );
    assert_eq!(store.outcome("payments", 0).unwrap(), None);
    assert!(matches!(
        store.status("payments", 1).unwrap(),
        MessageStatus::InFlight { attempt: 1, .. }
    ));
    // Groups are independent.
    assert_eq!(
        store.status("inventory", 2).unwrap(),
        MessageStatus::Pending { attempts: 0 }
    );
    // After the leases expire, 1 and 3 come back; 0 and 2 never do.
    let mut redelivered = Vec::new();
    while let Some(d) = store.deliver_next("payments", 2, 5_000, 4).unwrap() {
        redelivered.push((d.offset, d.lease.attempt));
    }
    assert_eq!(redelivered, vec![(1, 2), (3, 2)]);
    assert_eq!(
        store.min_unacked_offset(),
        Some(0),
        "inventory still needs 0"
    );
}

#[test]
fn a_message_that_kills_its_consumer_every_time_is_dead_lettered() {
    let dir = tempfile::tempdir().unwrap();
    let mut now = 0;
    for attempt in 1..=3u32 {
        let store = OffsetStore::open(dir.path(), options(1_000)).unwrap();
        store
            .ensure_group("g", StartPosition::Earliest, 0, 1)
            .unwrap();
        now += 2_000; // the previous lease expired
        let d = store.deliver_next("g", 9, now, 1).unwrap().unwrap();
        assert_eq!((d.offset, d.lease.attempt), (0, attempt));
        drop(store); // the consumer's process dies mid-work
    }
    let store = OffsetStore::open(dir.path(), options(1_000)).unwrap();
    now += 2_000;
    assert_eq!(store.deliver_next("g", 9, now, 1).unwrap(), None);
    assert_eq!(store.dead_letter_candidates("g", now).unwrap(), vec![0]);
    store.dead_letter("g", 0, "3 deliveries failed").unwrap();
    drop(store);
    let store = OffsetStore::open(dir.path(), options(1_000)).unwrap();
    assert_eq!(
        store.status("g", 0).unwrap(),
        MessageStatus::DeadLettered {
            reason: "3 deliveries failed".into()
        }
    );
    assert_eq!(store.min_unacked_offset(), Some(1));
}

#[test]
fn nack_delays_and_release_redelivers_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = OffsetStore::open(dir.path(), options(1_000)).unwrap();
    store
        .ensure_group("g", StartPosition::Earliest, 0, 2)
        .unwrap();
    store.deliver_next("g", 1, 0, 2).unwrap().unwrap();
    store.deliver_next("g", 1, 0, 2).unwrap().unwrap();
    assert_eq!(store.nack("g", 0, 500, 10).unwrap(), 510);
    store.release("g", 1).unwrap();
    drop(store);
    let store = OffsetStore::open(dir.path(), options(1_000)).unwrap();
    assert_eq!(
        store.status("g", 0).unwrap(),
        MessageStatus::Delayed {
            until_ms: 510,
            attempts: 1
        }
    );
    assert_eq!(
        store.deliver_next("g", 1, 20, 2).unwrap().map(|d| d.offset),
        Some(1)
    );
    assert_eq!(
        store.deliver_next("g", 1, 20, 2).unwrap(),
        None,
        "0 is delayed"
    );
    assert_eq!(
        store
            .deliver_next("g", 1, 510, 2)
            .unwrap()
            .map(|d| d.offset),
        Some(0)
    );
    let lease = store.extend("g", 0, 1, 5_000, 600).unwrap();
    assert_eq!(lease.deadline_ms, 510 + 1_000 + 5_000);
    assert_eq!(store.ack_through("g", 2).unwrap(), 2);
    assert_eq!(store.min_unacked_offset(), Some(2));
}

fn checkpoints(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ckpt"))
        .collect();
    files.sort();
    files
}

/// Drives many records so checkpoints happen and old journal segments go.
fn churn(store: &OffsetStore, messages: u64) {
    store
        .ensure_group("g", StartPosition::Earliest, 0, messages)
        .unwrap();
    for i in 0..messages {
        let d = store.deliver_next("g", 1, 0, messages).unwrap().unwrap();
        assert_eq!(d.offset, i);
        if i % 3 == 0 {
            store
                .ack_with_outcome("g", i, format!("outcome-{i}").as_bytes())
                .unwrap();
        } else {
            store.ack("g", i).unwrap();
        }
    }
}

#[test]
fn checkpoints_bound_the_journal_and_keep_outcomes_readable() {
    let dir = tempfile::tempdir().unwrap();
    let store = OffsetStore::open(dir.path(), options(50)).unwrap();
    churn(&store, 300);
    assert_eq!(
        checkpoints(dir.path()).len(),
        2,
        "the newest and the previous"
    );
    // Outcomes keep their journal segments; forgetting them lets the journal shrink.
    assert_eq!(store.journal().first_offset(), 0);
    store.forget_outcomes_below("g", 300).unwrap();
    store.checkpoint().unwrap();
    store.ack_through("g", 300).unwrap();
    store.checkpoint().unwrap();
    assert!(
        store.journal().first_offset() > 0,
        "old journal segments removed"
    );
    drop(store);
    let store = OffsetStore::open(dir.path(), options(50)).unwrap();
    assert_eq!(
        store.status("g", 299).unwrap(),
        MessageStatus::Acked { outcome: None }
    );
    assert_eq!(store.min_unacked_offset(), Some(300));
}

#[test]
fn outcomes_survive_checkpoints_and_journal_trimming() {
    let dir = tempfile::tempdir().unwrap();
    let store = OffsetStore::open(dir.path(), options(40)).unwrap();
    churn(&store, 200);
    drop(store);
    let store = OffsetStore::open(dir.path(), options(40)).unwrap();
    for i in (0..200u64).step_by(3) {
        assert_eq!(
            store.outcome("g", i).unwrap(),
            Some(format!("outcome-{i}").into_bytes()),
            "offset {i}"
        );
    }
}

#[test]
fn a_damaged_newest_checkpoint_falls_back_to_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = OffsetStore::open(dir.path(), options(30)).unwrap();
    churn(&store, 100);
    store.close().unwrap();
    let files = checkpoints(dir.path());
    assert_eq!(files.len(), 2);
    let newest = files.last().unwrap();
    let mut bytes = fs::read(newest).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    fs::write(newest, &bytes).unwrap();
    let store = OffsetStore::open(dir.path(), options(30)).unwrap();
    assert_eq!(store.min_unacked_offset(), Some(100));
    assert_eq!(
        store.outcome("g", 99).unwrap(),
        Some(b"outcome-99".to_vec())
    );
    drop(store);
    // Both damaged: a typed error naming a file, never a silent reset.
    for file in checkpoints(dir.path()) {
        let mut bytes = fs::read(&file).unwrap();
        bytes[40] ^= 0x01;
        fs::write(&file, &bytes).unwrap();
    }
    match OffsetStore::open(dir.path(), options(30)) {
        Err(StoreError::Corrupt { file, offset, .. }) => {
            assert!(file.to_string_lossy().ends_with(".ckpt"), "{file:?}");
            assert!(offset > 0);
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn a_missing_checkpoint_whose_journal_is_gone_is_an_error_not_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    let store = OffsetStore::open(dir.path(), options(30)).unwrap();
    churn(&store, 100);
    store.forget_outcomes_below("g", 100).unwrap();
    store.checkpoint().unwrap();
    store.checkpoint().unwrap();
    store.ack_through("g", 100).unwrap();
    store.checkpoint().unwrap();
    assert!(store.journal().first_offset() > 0);
    drop(store);
    for file in checkpoints(dir.path()) {
        fs::remove_file(file).unwrap();
    }
    assert!(matches!(
        OffsetStore::open(dir.path(), options(30)),
        Err(StoreError::Corrupt { .. })
    ));
}

#[test]
fn a_checkpoint_newer_than_the_journal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = OffsetStore::open(dir.path(), options(1_000)).unwrap();
    churn(&store, 10);
    store.close().unwrap();
    let mut files = checkpoints(dir.path());
    assert_eq!(files.len(), 1, "close wrote the only checkpoint");
    let newest = files.pop().unwrap();
    let renamed = dir.path().join("checkpoint-00000000000000999999.ckpt");
    let mut bytes = fs::read(&newest).unwrap();
    // Rewrite the journal offset (and both CRCs) so only the offset is wrong.
    bytes[16..24].copy_from_slice(&999_999u64.to_le_bytes());
    let header_crc = crc32(&bytes[..28]);
    bytes[28..32].copy_from_slice(&header_crc.to_le_bytes());
    let end = bytes.len() - 4;
    let crc = crc32(&bytes[..end]);
    bytes[end..].copy_from_slice(&crc.to_le_bytes());
    fs::write(&renamed, &bytes).unwrap();
    fs::remove_file(newest).unwrap();
    match OffsetStore::open(dir.path(), options(1_000)) {
        Err(StoreError::Corrupt {
            file,
            offset,
            reason,
        }) => {
            assert_eq!(file, renamed);
            assert_eq!(offset, 16);
            assert!(reason.contains("journal ends"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn a_torn_journal_tail_loses_only_what_was_never_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(1_000);
    let store = OffsetStore::open(dir.path(), opts.clone()).unwrap();
    churn(&store, 20);
    drop(store);
    let journal = dir.path().join("journal/00000000000000000000.log");
    let mut segments: Vec<PathBuf> = fs::read_dir(dir.path().join("journal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    segments.sort();
    let tail = segments.last().unwrap_or(&journal).clone();
    let mut bytes = fs::read(&tail).unwrap();
    bytes.extend_from_slice(&[0xAB; 37]); // a torn, never-acknowledged record
    fs::write(&tail, &bytes).unwrap();
    let store = OffsetStore::open(dir.path(), opts).unwrap();
    assert_eq!(store.min_unacked_offset(), Some(20));
    assert_eq!(store.journal().recovery_report().truncated.len(), 1);
}

#[test]
fn read_only_open_sees_the_state_and_refuses_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = OffsetStore::open(dir.path(), options(1_000)).unwrap();
    churn(&store, 5);
    let reader = OffsetStore::open_read_only(dir.path(), options(1_000)).unwrap();
    assert_eq!(reader.outcome("g", 3).unwrap(), Some(b"outcome-3".to_vec()));
    assert!(matches!(reader.ack("g", 4), Err(StoreError::ReadOnly)));
    assert!(matches!(
        reader.status("nope", 0),
        Err(StoreError::UnknownGroup { .. })
    ));
}
