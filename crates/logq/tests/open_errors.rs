//! `Store::open` recovers a queue's message log and its group journal side by side (two
//! threads on the real file system): damage in either is still reported as that file's typed
//! error, the message log's first when both are damaged, and nothing is opened half-way.

use logq::{Error, Message, Options, Store};
use std::path::{Path, PathBuf};
use std::time::Duration;

const SEGMENT: &str = "00000000000000000000.log";

/// A store with one queue holding three messages, one of them acknowledged, closed cleanly.
fn store_with_history(dir: &Path) -> PathBuf {
    let store = Store::open(dir, Options::default()).unwrap();
    let orders = store.queue("orders").unwrap();
    for n in 0..3u8 {
        orders.send(Message::new(vec![n; 40])).unwrap();
    }
    let payments = orders.consumer("payments").unwrap();
    let delivery = payments.receive(Duration::from_secs(1)).unwrap().unwrap();
    delivery.ack().unwrap();
    store.close().unwrap();
    dir.join("queues").join("orders")
}

/// Overwrites the magic of a segment file's header: a file logq did not write.
fn damage_magic(segment: &Path) {
    let mut bytes = std::fs::read(segment).unwrap();
    bytes[..4].copy_from_slice(b"XXXX");
    std::fs::write(segment, bytes).unwrap();
}

fn is_foreign_log(error: &Error) -> bool {
    matches!(
        error,
        Error::Log {
            queue,
            source: logq_log::Error::Foreign { .. },
        } if queue == "orders"
    )
}

fn is_foreign_journal(error: &Error) -> bool {
    matches!(
        error,
        Error::Groups {
            queue,
            source: logq_offsets::StoreError::Log(logq_log::Error::Foreign { .. }),
        } if queue == "orders"
    )
}

#[test]
fn a_damaged_message_log_fails_the_open_as_a_log_error() {
    let dir = tempfile::tempdir().unwrap();
    let queue = store_with_history(dir.path());
    damage_magic(&queue.join("log").join(SEGMENT));
    let error = Store::open(dir.path(), Options::default()).unwrap_err();
    assert!(is_foreign_log(&error), "{error:?}");
    assert!(error.to_string().contains(SEGMENT), "{error}");
}

#[test]
fn a_damaged_group_journal_fails_the_open_as_a_groups_error() {
    let dir = tempfile::tempdir().unwrap();
    let queue = store_with_history(dir.path());
    damage_magic(&queue.join("groups").join("journal").join(SEGMENT));
    let error = Store::open(dir.path(), Options::default()).unwrap_err();
    assert!(is_foreign_journal(&error), "{error:?}");
}

#[test]
fn with_both_damaged_the_message_log_is_reported_and_a_repaired_store_opens_whole() {
    let dir = tempfile::tempdir().unwrap();
    let queue = store_with_history(dir.path());
    let log_segment = queue.join("log").join(SEGMENT);
    let journal_segment = queue.join("groups").join("journal").join(SEGMENT);
    let (log_bytes, journal_bytes) = (
        std::fs::read(&log_segment).unwrap(),
        std::fs::read(&journal_segment).unwrap(),
    );
    damage_magic(&log_segment);
    damage_magic(&journal_segment);
    for _ in 0..5 {
        // The same error every time, whichever thread finishes first.
        let error = Store::open(dir.path(), Options::default()).unwrap_err();
        assert!(is_foreign_log(&error), "{error:?}");
    }
    // The failed opens released every lock (the half that opened was closed again): with the
    // bytes put back, the store opens and its acknowledgement still holds.
    std::fs::write(&log_segment, log_bytes).unwrap();
    std::fs::write(&journal_segment, journal_bytes).unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let orders = store.queue("orders").unwrap();
    let payments = orders.consumer("payments").unwrap();
    let next = payments.receive(Duration::from_secs(1)).unwrap().unwrap();
    assert_eq!(
        next.payload(),
        &[1u8; 40][..],
        "the acked message is not redelivered"
    );
}
