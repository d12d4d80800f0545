//! State machine: random sends (with and without dedup ids, batches), receives, acks (with
//! outcomes), nacks, drops, crashes (drop without close, held deliveries abandoned) and
//! clean reopens, against a model of what each group acknowledged.

use logq::{Delivery, Message, MessageId, Options, QueueOptions, Status, Store};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const GROUPS: [&str; 2] = ["payments", "inventory"];

#[derive(Clone, Debug)]
enum Op {
    Send(Option<u8>),
    SendBatch(Vec<Option<u8>>),
    Receive(usize),
    Ack(usize),
    AckWithOutcome(usize),
    Nack(usize),
    Drop(usize),
    Crash,
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => proptest::option::of(0u8..6).prop_map(Op::Send),
        1 => prop::collection::vec(proptest::option::of(0u8..6), 1..4).prop_map(Op::SendBatch),
        5 => (0usize..2).prop_map(Op::Receive),
        3 => any::<usize>().prop_map(Op::Ack),
        2 => any::<usize>().prop_map(Op::AckWithOutcome),
        1 => any::<usize>().prop_map(Op::Nack),
        1 => any::<usize>().prop_map(Op::Drop),
        1 => Just(Op::Crash),
        1 => Just(Op::Reopen),
    ]
}

fn options() -> Options {
    Options {
        queue: QueueOptions::default()
            .lease(Duration::from_secs(60))
            .max_deliveries(1_000),
    }
}

#[derive(Default)]
struct Model {
    payloads: Vec<Vec<u8>>,
    dedup: BTreeMap<u8, MessageId>,
    acked: [BTreeMap<MessageId, Option<Vec<u8>>>; 2],
}

fn check(store: &Store, model: &Model) {
    let orders = store.queue("orders").unwrap();
    let next = u64::try_from(model.payloads.len()).unwrap();
    assert_eq!(orders.id_range(), (MessageId(0), MessageId(next)));
    for (i, payload) in model.payloads.iter().enumerate() {
        let id = MessageId(u64::try_from(i).unwrap());
        assert_eq!(&orders.peek(id).unwrap().payload, payload);
        for (g, group) in GROUPS.iter().enumerate() {
            let status = orders.status(id, group).unwrap();
            match model.acked[g].get(&id) {
                Some(outcome) => assert_eq!(
                    status,
                    Status::Acked {
                        outcome: outcome.clone()
                    }
                ),
                None => assert!(
                    !matches!(status, Status::Acked { .. }),
                    "{group} {id}: {status:?}"
                ),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20, ..ProptestConfig::default() })]

    #[test]
    fn queue_matches_model(ops in prop::collection::vec(op(), 1..50)) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), options()).unwrap();
        let mut model = Model::default();
        let mut held: Vec<(usize, Delivery)> = Vec::new();
        let consumers = |store: &Store| -> Vec<logq::Consumer> {
            let orders = store.queue("orders").unwrap();
            GROUPS.iter().map(|g| orders.consumer(g).unwrap()).collect()
        };
        let mut group_consumers = consumers(&store);
        for op in ops {
            let orders = store.queue("orders").unwrap();
            match op {
                Op::Send(dedup) => {
                    let payload = format!("m{}", model.payloads.len()).into_bytes();
                    let mut message = Message::new(payload.clone());
                    if let Some(key) = dedup {
                        message = message.dedup_id(format!("d{key}"));
                    }
                    let id = orders.send(message).unwrap();
                    match dedup.and_then(|k| model.dedup.get(&k)) {
                        Some(first) => prop_assert_eq!(id, *first),
                        None => {
                            prop_assert_eq!(id.0, u64::try_from(model.payloads.len()).unwrap());
                            model.payloads.push(payload);
                            if let Some(k) = dedup {
                                model.dedup.insert(k, id);
                            }
                        }
                    }
                }
                Op::SendBatch(keys) => {
                    let messages: Vec<Message> = keys
                        .iter()
                        .enumerate()
                        .map(|(i, key)| {
                            let m = Message::new(format!("b{}-{i}", model.payloads.len()).into_bytes());
                            match key { Some(k) => m.dedup_id(format!("d{k}")), None => m }
                        })
                        .collect();
                    let ids = orders.send_batch(&messages).unwrap();
                    for (message, (key, id)) in messages.iter().zip(keys.iter().zip(ids)) {
                        if let Some(first) = key.and_then(|k| model.dedup.get(&k)) {
                            prop_assert_eq!(id, *first);
                            continue;
                        }
                        prop_assert_eq!(id.0, u64::try_from(model.payloads.len()).unwrap());
                        model.payloads.push(message.payload.clone());
                        if let Some(k) = key {
                            model.dedup.insert(*k, id);
                        }
                    }
                }
                Op::Receive(g) => {
                    if let Some(delivery) = group_consumers[g].try_receive().unwrap() {
                        prop_assert!(!model.acked[g].contains_key(&delivery.id()), "acked message redelivered");
                        let index = usize::try_from(delivery.id().0).unwrap();
                        prop_assert_eq!(delivery.payload(), model.payloads[index].as_slice());
                        held.push((g, delivery));
                    }
                }
                Op::Ack(i) | Op::AckWithOutcome(i) | Op::Nack(i) | Op::Drop(i) => {
                    if held.is_empty() {
                        continue;
                    }
                    let (g, delivery) = held.remove(i % held.len());
                    let id = delivery.id();
                    match op {
                        Op::Ack(_) => {
                            delivery.ack().unwrap();
                            model.acked[g].insert(id, None);
                        }
                        Op::AckWithOutcome(_) => {
                            let outcome = format!("done {id}").into_bytes();
                            delivery.ack_with_outcome(&outcome).unwrap();
                            model.acked[g].insert(id, Some(outcome));
                        }
                        Op::Nack(_) => delivery.nack(Duration::ZERO).unwrap(),
                        _ => drop(delivery),
                    }
                }
                Op::Crash => {
                    for (_, delivery) in held.drain(..) {
                        delivery.abandon(); // the process dies: no release
                    }
                    drop((group_consumers, orders));
                    drop(store);
                    store = Store::open(dir.path(), options()).unwrap();
                    check(&store, &model);
                    group_consumers = consumers(&store);
                }
                Op::Reopen => {
                    held.clear();
                    drop((group_consumers, orders));
                    store.close().unwrap();
                    drop(store);
                    store = Store::open(dir.path(), options()).unwrap();
                    check(&store, &model);
                    group_consumers = consumers(&store);
                }
            }
        }
        held.clear();
        check(&store, &model);
        // At least once: each group can still receive every message it did not acknowledge,
        // except those leased to deliveries abandoned by a crash (in flight).
        let orders = store.queue("orders").unwrap();
        for (g, group) in GROUPS.iter().enumerate() {
            let mut received = BTreeSet::new();
            while let Some(delivery) = group_consumers[g].try_receive().unwrap() {
                received.insert(delivery.id());
                delivery.abandon();
            }
            for i in 0..model.payloads.len() {
                let id = MessageId(u64::try_from(i).unwrap());
                let in_flight = matches!(orders.status(id, group).unwrap(), Status::InFlight { .. });
                prop_assert!(model.acked[g].contains_key(&id) || received.contains(&id) || in_flight, "{} {} lost", group, id);
            }
        }
    }
}
