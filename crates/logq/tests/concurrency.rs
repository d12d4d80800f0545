//! 8 producers and 4 consumers in two groups: every message delivered and acknowledged
//! once per group, none lost, each producer's messages in its send order.

use logq::{Message, MessageId, Options, Store};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

const PRODUCERS: u64 = 8;
const PER_PRODUCER: u64 = 150;

#[test]
fn eight_producers_four_consumers_two_groups() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let orders = store.queue("orders").unwrap();
    let groups = ["payments", "inventory"];
    for group in groups {
        orders.consumer(group).unwrap();
    }
    let sent: Mutex<BTreeMap<MessageId, (u64, u64)>> = Mutex::new(BTreeMap::new());
    let acked: Mutex<BTreeMap<&str, Vec<MessageId>>> = Mutex::new(BTreeMap::new());
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let consumers: Vec<_> = groups
            .iter()
            .flat_map(|group| [group, group])
            .map(|group| {
                let consumer = orders.consumer(group).unwrap();
                let (acked, done) = (&acked, &done);
                scope.spawn(move || loop {
                    match consumer.receive(Duration::from_millis(50)).unwrap() {
                        Some(delivery) => {
                            let id = delivery.id();
                            delivery.ack().unwrap();
                            acked.lock().unwrap().entry(*group).or_default().push(id);
                        }
                        None if done.load(Ordering::Acquire) => return,
                        None => {}
                    }
                })
            })
            .collect();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|producer| {
                let orders = orders.clone();
                let sent = &sent;
                scope.spawn(move || {
                    for seq in 0..PER_PRODUCER {
                        let payload = format!("{producer}:{seq}");
                        let id = orders.send(Message::new(payload.into_bytes())).unwrap();
                        sent.lock().unwrap().insert(id, (producer, seq));
                    }
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        // Let the consumers drain, then stop them.
        let total = usize::try_from(PRODUCERS * PER_PRODUCER).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while acked.lock().unwrap().values().map(Vec::len).sum::<usize>() < 2 * total
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        done.store(true, Ordering::Release);
        for c in consumers {
            c.join().unwrap();
        }
    });
    let sent = sent.into_inner().unwrap();
    let total = usize::try_from(PRODUCERS * PER_PRODUCER).unwrap();
    assert_eq!(sent.len(), total);
    let ids: BTreeSet<MessageId> = sent.keys().copied().collect();
    assert_eq!(ids, (0..PRODUCERS * PER_PRODUCER).map(MessageId).collect());
    for (group, list) in acked.into_inner().unwrap() {
        let unique: BTreeSet<MessageId> = list.iter().copied().collect();
        assert_eq!(
            list.len(),
            total,
            "{group}: every message acked exactly once"
        );
        assert_eq!(unique, ids, "{group}: none lost");
    }
    // Per producer, ids increase in send order, and payloads match.
    let mut last: BTreeMap<u64, (u64, MessageId)> = BTreeMap::new();
    for (id, (producer, seq)) in &sent {
        if let Some((prev_seq, prev_id)) = last.get(producer) {
            assert!(seq > prev_seq && id > prev_id);
        }
        last.insert(*producer, (*seq, *id));
        assert_eq!(
            orders.peek(*id).unwrap().payload,
            format!("{producer}:{seq}").into_bytes()
        );
    }
    for group in groups {
        let stats = orders.stats().unwrap();
        let view = stats.groups.iter().find(|g| g.group == group).unwrap();
        assert_eq!(view.depth, 0, "{group}");
    }
}
