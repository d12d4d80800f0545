//! State machine for priority levels and delayed delivery, across crashes: a strict
//! priority consumer always gets a message of the highest level that has a ready one (FIFO
//! within it), delayed messages are never delivered before their time and each is moved
//! once, and nothing acknowledged comes back.

use logq::{Message, Options, PriorityPolicy, Store};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const LEVELS: u8 = 3;

#[derive(Clone, Debug)]
enum Op {
    Send(u8),
    SendDelayedFar,
    SendDelayedDue,
    ReceiveAndAck,
    ReceiveAndDrop,
    Crash,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0u8..LEVELS).prop_map(Op::Send),
        1 => Just(Op::SendDelayedFar),
        1 => Just(Op::SendDelayedDue),
        4 => Just(Op::ReceiveAndAck),
        1 => Just(Op::ReceiveAndDrop),
        1 => Just(Op::Crash),
    ]
}

#[derive(Default)]
struct Model {
    /// Per level, payloads sent and not yet acknowledged, in send order.
    pending: BTreeMap<u8, Vec<String>>,
    acked: BTreeSet<String>,
    far: BTreeSet<String>,
    /// Delayed messages already due: they join level 0 when moved, so their place in its
    /// FIFO order is the move's, not the send's.
    due: BTreeSet<String>,
    counter: u64,
}

impl Model {
    fn name(&mut self, kind: &str) -> String {
        self.counter += 1;
        format!("{kind}-{}", self.counter)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn priority_and_delays_match_the_model(ops in prop::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), Options::default()).unwrap();
        let mut model = Model::default();
        for op in ops {
            let work = store.priority_queue("work", LEVELS, PriorityPolicy::Strict).unwrap();
            // Delayed messages go to level 0's queue and land there when due.
            let level0 = work.level(0).unwrap().clone();
            match op {
                Op::Send(level) => {
                    let name = model.name(&format!("l{level}"));
                    work.send(Message::new(name.clone().into_bytes()), level).unwrap();
                    model.pending.entry(level).or_default().push(name);
                }
                Op::SendDelayedFar => {
                    let name = model.name("far");
                    level0.send_delayed(Message::new(name.clone().into_bytes()), Duration::from_secs(3600)).unwrap();
                    model.far.insert(name);
                }
                Op::SendDelayedDue => {
                    let name = model.name("due");
                    level0.send_at(Message::new(name.clone().into_bytes()), 1).unwrap();
                    model.due.insert(name);
                }
                Op::ReceiveAndAck | Op::ReceiveAndDrop => {
                    let consumer = work.consumer("workers").unwrap();
                    let got = consumer.receive(Duration::from_millis(20)).unwrap();
                    let highest = model
                        .pending
                        .iter()
                        .rev()
                        .find(|(_, v)| !v.is_empty())
                        .map(|(l, _)| *l)
                        .or_else(|| (!model.due.is_empty()).then_some(0));
                    match (got, highest) {
                        (None, None) => {}
                        (None, Some(level)) => prop_assert!(false, "level {} has messages but none came", level),
                        (Some(d), expected) => {
                            let name = String::from_utf8(d.delivery.payload().to_vec()).unwrap();
                            prop_assert!(!model.far.contains(&name), "{} delivered before its time", name);
                            prop_assert!(!model.acked.contains(&name), "{} acked earlier, delivered again", name);
                            prop_assert_eq!(Some(d.level), expected, "not the highest ready level");
                            let ack = matches!(op, Op::ReceiveAndAck);
                            if name.starts_with("due-") {
                                prop_assert!(model.due.contains(&name));
                                if ack {
                                    model.due.remove(&name);
                                }
                            } else {
                                let queue = model.pending.get_mut(&d.level).unwrap();
                                prop_assert_eq!(queue.first(), Some(&name), "FIFO within level {}", d.level);
                                if ack {
                                    queue.remove(0);
                                }
                            }
                            if ack {
                                model.acked.insert(name);
                                d.delivery.ack().unwrap();
                            }
                        }
                    }
                }
                Op::Crash => {
                    drop((work, level0));
                    drop(store);
                    store = Store::open(dir.path(), Options::default()).unwrap();
                }
            }
        }
        // Each level's queue holds every message once (delayed ones moved once).
        let work = store.priority_queue("work", LEVELS, PriorityPolicy::Strict).unwrap();
        let mut seen = BTreeMap::new();
        for level in 0..LEVELS {
            let queue = work.level(level).unwrap();
            for message in queue.peek_range(logq::MessageId(0), 10_000).unwrap() {
                *seen.entry(String::from_utf8(message.payload).unwrap()).or_insert(0) += 1;
            }
        }
        prop_assert!(seen.values().all(|n| *n == 1), "a message appears twice: {:?}", seen);
        prop_assert!(model.far.iter().all(|n| !seen.contains_key(n)), "a far message was moved early");
    }
}
