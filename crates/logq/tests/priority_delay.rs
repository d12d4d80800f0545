//! Priority levels and delayed delivery, also across crashes (drop without close).

use logq::{Message, MessageId, Options, PriorityPolicy, Scheduled, Status, Store};
use std::time::{Duration, Instant};

const SECOND: Duration = Duration::from_secs(1);

fn msg(text: &str) -> Message {
    Message::new(text.as_bytes().to_vec())
}

#[test]
fn strict_priority_takes_the_highest_level_first_and_fifo_within_a_level() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let work = store
        .priority_queue("work", 3, PriorityPolicy::Strict)
        .unwrap();
    let sends = [
        (0, "a0"),
        (2, "a2"),
        (1, "a1"),
        (2, "b2"),
        (0, "b0"),
        (1, "b1"),
    ];
    for (level, text) in sends {
        work.send(msg(text), level).unwrap();
    }
    let consumer = work.consumer("workers").unwrap();
    let mut got = Vec::new();
    while let Some(d) = consumer.receive(Duration::from_millis(10)).unwrap() {
        got.push(String::from_utf8(d.delivery.payload().to_vec()).unwrap());
        d.delivery.ack().unwrap();
    }
    assert_eq!(got, ["a2", "b2", "a1", "b1", "a0", "b0"]);
    // Durable per level, across a crash.
    let id = work.send(msg("late"), 1).unwrap();
    drop((work, consumer, store));
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let work = store
        .priority_queue("work", 3, PriorityPolicy::Strict)
        .unwrap();
    assert_eq!(
        work.status(id, "workers").unwrap(),
        Status::Pending { attempts: 0 }
    );
    let d = work
        .consumer("workers")
        .unwrap()
        .receive(SECOND)
        .unwrap()
        .unwrap();
    assert_eq!((d.level, d.delivery.id()), (1, id.id));
}

#[test]
fn weighted_priority_shares_deliveries_and_no_level_starves() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let work = store
        .priority_queue("work", 2, PriorityPolicy::Weighted(vec![1, 3]))
        .unwrap();
    for i in 0..40 {
        work.send(msg(&format!("low {i}")), 0).unwrap();
        work.send(msg(&format!("high {i}")), 1).unwrap();
    }
    let consumer = work.consumer("workers").unwrap();
    let mut per_level = [0u32; 2];
    for _ in 0..20 {
        let d = consumer.receive(SECOND).unwrap().unwrap();
        per_level[usize::from(d.level)] += 1;
        d.delivery.ack().unwrap();
    }
    assert!(
        (4..=6).contains(&per_level[0]),
        "low level got {per_level:?} of 20 (weight 1 of 4)"
    );
    // When the high level runs dry the low level gets everything.
    while let Some(d) = consumer.receive(Duration::from_millis(10)).unwrap() {
        per_level[usize::from(d.level)] += 1;
        d.delivery.ack().unwrap();
    }
    assert_eq!(per_level, [40, 40]);
    assert!(store
        .priority_queue("bad", 2, PriorityPolicy::Weighted(vec![0, 0]))
        .is_err());
    assert!(store
        .priority_queue("bad", 0, PriorityPolicy::Strict)
        .is_err());
}

#[test]
fn priority_order_holds_with_concurrent_producers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let work = store
        .priority_queue("work", 4, PriorityPolicy::Strict)
        .unwrap();
    std::thread::scope(|scope| {
        for level in 0..4u8 {
            for producer in 0..2 {
                let work = work.clone();
                scope.spawn(move || {
                    for i in 0..15 {
                        work.send(msg(&format!("{level}:{producer}:{i}")), level)
                            .unwrap();
                    }
                });
            }
        }
    });
    let consumer = work.consumer("workers").unwrap();
    let mut last: Option<(u8, MessageId)> = None;
    let mut count = 0;
    while let Some(d) = consumer.receive(Duration::from_millis(10)).unwrap() {
        if let Some((level, id)) = last {
            assert!(
                d.level < level || (d.level == level && d.delivery.id() > id),
                "order broken"
            );
        }
        last = Some((d.level, d.delivery.id()));
        count += 1;
        d.delivery.ack().unwrap();
    }
    assert_eq!(count, 4 * 2 * 15);
}

#[test]
fn delayed_messages_are_durable_at_once_and_deliverable_only_when_due() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let orders = store.queue("orders").unwrap();
    let jobs = orders.consumer("jobs").unwrap();
    let started = Instant::now();
    let scheduled = orders
        .send_delayed(msg("cancel unpaid order o-1"), Duration::from_millis(300))
        .unwrap();
    orders.send(msg("now")).unwrap();
    assert!(matches!(
        orders.scheduled(scheduled).unwrap(),
        Scheduled::Waiting { .. }
    ));
    let first = jobs.receive(SECOND).unwrap().unwrap();
    assert_eq!(first.payload(), b"now");
    first.ack().unwrap();
    assert_eq!(orders.stats().unwrap().delayed_waiting, 1);
    let delayed = jobs.receive(5 * SECOND).unwrap().unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(290),
        "not before its time"
    );
    assert_eq!(delayed.payload(), b"cancel unpaid order o-1");
    assert_eq!(
        orders.scheduled(scheduled).unwrap(),
        Scheduled::Moved(delayed.id())
    );
    delayed.ack().unwrap();
    assert_eq!(orders.stats().unwrap().delayed_waiting, 0);
}

#[test]
fn a_restart_keeps_every_schedule_and_a_move_happens_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let orders = store.queue("orders").unwrap();
    let soon = orders
        .send_delayed(msg("retry payment"), Duration::from_millis(400))
        .unwrap();
    let later = orders
        .send_delayed(msg("much later"), Duration::from_secs(3600))
        .unwrap();
    // A move interrupted by a crash: the copy reached the queue, the schedule was not told.
    orders
        .send(msg("retry payment").dedup_id(format!("delayed:orders:{}", soon.0)))
        .unwrap();
    drop((orders, store)); // crash
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let orders = store.queue("orders").unwrap();
    let stats = orders.stats().unwrap();
    assert_eq!(stats.delayed_waiting, 2, "both schedules survive");
    let jobs = orders.consumer("jobs").unwrap();
    let d = jobs.receive(5 * SECOND).unwrap().unwrap();
    assert_eq!(d.payload(), b"retry payment");
    d.ack().unwrap();
    assert!(
        jobs.receive(Duration::from_millis(600)).unwrap().is_none(),
        "moved once, not twice"
    );
    assert!(matches!(
        orders.scheduled(later).unwrap(),
        Scheduled::Waiting { .. }
    ));
    assert_eq!(orders.id_range().1, MessageId(1));
}
