//! `Store::open` recovers every existing queue, several side by side on the real file
//! system: all of them come back whole (messages, acknowledgements, leases released), and
//! damage is reported as the error of the first damaged queue in name order, as a sequential
//! open would.

use logq::{Error, Message, Options, Store};
use std::path::Path;
use std::time::Duration;

const SEGMENT: &str = "00000000000000000000.log";

/// 12 queues (more than the open's threads), each with `n + 1` messages of which the first
/// is acknowledged by group `billing`, left without a clean close.
fn store_with_queues(dir: &Path) -> Vec<String> {
    let store = Store::open(dir, Options::default()).unwrap();
    let names: Vec<String> = (0..12).map(|n| format!("shop-{n:02}")).collect();
    for (n, name) in names.iter().enumerate() {
        let queue = store.queue(name).unwrap();
        for m in 0..=n {
            queue.send(Message::new(format!("{name}/{m}"))).unwrap();
        }
        let billing = queue.consumer("billing").unwrap();
        billing
            .receive(Duration::from_secs(1))
            .unwrap()
            .unwrap()
            .ack()
            .unwrap();
    }
    drop(store); // no close: no checkpoint, the journals are replayed at the next open
    names
}

#[test]
fn every_queue_comes_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let names = store_with_queues(dir.path());
    let store = Store::open(dir.path(), Options::default()).unwrap();
    for (n, name) in names.iter().enumerate() {
        let queue = store.queue(name).unwrap();
        let billing = queue.consumer("billing").unwrap();
        // The acknowledged first message stays acknowledged; the rest come in order.
        for m in 1..=n {
            let delivery = billing
                .try_receive()
                .unwrap()
                .unwrap_or_else(|| panic!("{name}: message {m} not delivered"));
            assert_eq!(delivery.payload(), format!("{name}/{m}").as_bytes());
            delivery.ack().unwrap();
        }
        assert!(
            billing.try_receive().unwrap().is_none(),
            "{name}: extra message"
        );
    }
    store.close().unwrap();
}

#[test]
fn the_first_damaged_queue_in_name_order_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let names = store_with_queues(dir.path());
    let damage = |name: &str| {
        let segment = dir
            .path()
            .join("queues")
            .join(name)
            .join("log")
            .join(SEGMENT);
        let mut bytes = std::fs::read(&segment).unwrap();
        bytes[..4].copy_from_slice(b"XXXX");
        std::fs::write(&segment, bytes).unwrap();
    };
    // Damaged queues opened by different threads; the earlier name wins every time.
    damage(&names[9]);
    damage(&names[4]);
    for _ in 0..5 {
        match Store::open(dir.path(), Options::default()) {
            Err(Error::Log {
                queue,
                source: logq_log::Error::Foreign { file, .. },
            }) => {
                assert_eq!(queue, names[4]);
                assert!(file.ends_with(Path::new(&names[4]).join("log").join(SEGMENT)));
            }
            Err(other) => panic!("expected the foreign log of {}, got {other:?}", names[4]),
            Ok(_) => panic!("a damaged queue was opened"),
        }
    }
}
