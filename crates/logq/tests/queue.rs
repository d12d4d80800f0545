//! The queue API's rules, each also across a crash (drop without close) and reopen.

use logq::{
    Durability, Error, Message, MessageId, Options, QueueOptions, RetentionOptions, Status, Store,
};
use std::path::Path;
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

fn options(queue: QueueOptions) -> Options {
    Options { queue }
}

fn open(dir: &Path, queue: QueueOptions) -> Store {
    Store::open(dir, options(queue)).unwrap()
}

#[test]
fn send_receive_ack_with_outcome_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), QueueOptions::default());
    let orders = store.queue("orders").unwrap();
    let payments = orders.consumer("payments").unwrap();
    let id = orders
        .send(
            Message::new(b"o-1".to_vec())
                .key("o-1")
                .header("type", "order"),
        )
        .unwrap();
    let second = orders.send(Message::new(b"o-2".to_vec())).unwrap();
    assert_eq!((id, second), (MessageId(0), MessageId(1)));
    let delivery = payments.receive(SECOND).unwrap().unwrap();
    assert_eq!(delivery.id(), id);
    assert_eq!(delivery.message().key.as_deref(), Some(&b"o-1"[..]));
    assert_eq!(delivery.message().header("type"), Some(&b"order"[..]));
    assert_eq!(delivery.attempt(), 1);
    delivery.ack_with_outcome(b"paid").unwrap();
    drop((store, orders, payments)); // crash: no close
    let store = open(dir.path(), QueueOptions::default());
    let orders = store.queue("orders").unwrap();
    assert_eq!(
        orders.status(id, "payments").unwrap(),
        Status::Acked {
            outcome: Some(b"paid".to_vec())
        }
    );
    let payments = orders.consumer("payments").unwrap();
    let next = payments.receive(SECOND).unwrap().unwrap();
    assert_eq!(next.id(), second, "the acked order is not delivered again");
    next.ack().unwrap();
    assert!(payments.try_receive().unwrap().is_none());
    // A second group sees everything.
    let inventory = orders.consumer("inventory").unwrap();
    assert_eq!(inventory.receive(SECOND).unwrap().unwrap().id(), id);
}

#[test]
fn idempotent_sends_append_once_even_across_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), QueueOptions::default());
    let orders = store.queue("orders").unwrap();
    let first = orders
        .send(Message::new(b"order 1001".to_vec()).dedup_id("o-1001"))
        .unwrap();
    let retry = orders
        .send(Message::new(b"order 1001 (retry)".to_vec()).dedup_id("o-1001"))
        .unwrap();
    assert_eq!(first, retry);
    assert_eq!(orders.id_range().1, MessageId(1));
    drop((store, orders));
    let store = open(dir.path(), QueueOptions::default());
    let orders = store.queue("orders").unwrap();
    assert_eq!(
        orders
            .send(Message::new(b"again".to_vec()).dedup_id("o-1001"))
            .unwrap(),
        first
    );
    // A batch: known ids keep theirs, repeats inside the batch point at the first.
    let ids = orders
        .send_batch(&[
            Message::new(b"a".to_vec()).dedup_id("o-1001"),
            Message::new(b"b".to_vec()).dedup_id("o-1002"),
            Message::new(b"c".to_vec()).dedup_id("o-1002"),
            Message::new(b"d".to_vec()),
        ])
        .unwrap();
    assert_eq!(ids, vec![first, MessageId(1), MessageId(1), MessageId(2)]);
    assert_eq!(orders.id_range().1, MessageId(3));
    store.close().unwrap();
    let store = open(dir.path(), QueueOptions::default());
    let orders = store.queue("orders").unwrap();
    assert_eq!(
        orders
            .send(Message::new(b"x".to_vec()).dedup_id("o-1002"))
            .unwrap(),
        MessageId(1)
    );
    assert_eq!(
        orders.peek(MessageId(1)).unwrap().dedup_id(),
        Some("o-1002")
    );
}

#[test]
fn concurrent_sends_of_one_dedup_id_append_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), QueueOptions::default());
    let orders = store.queue("orders").unwrap();
    let ids: Vec<MessageId> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let orders = orders.clone();
                scope.spawn(move || {
                    orders
                        .send(Message::new(b"same order".to_vec()).dedup_id("o-7"))
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(ids.iter().all(|id| *id == ids[0]));
    assert_eq!(orders.id_range().1, MessageId(1));
}

#[test]
fn dropped_delivery_is_redelivered_at_once_and_expired_lease_later() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(
        dir.path(),
        QueueOptions::default().lease(Duration::from_millis(150)),
    );
    let orders = store.queue("orders").unwrap();
    let workers = orders.consumer("workers").unwrap();
    orders.send(Message::new(b"job".to_vec())).unwrap();
    drop(workers.receive(SECOND).unwrap().unwrap());
    let again = workers.receive(SECOND).unwrap().unwrap();
    assert_eq!(again.attempt(), 2);
    std::mem::forget(again); // the consumer dies without a decision
    let started = std::time::Instant::now();
    let third = workers.receive(5 * SECOND).unwrap().unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "redelivered only after the lease"
    );
    assert_eq!(third.attempt(), 3);
    third.ack().unwrap();
}

#[test]
fn nack_delays_redelivery_and_extend_keeps_the_lease() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(
        dir.path(),
        QueueOptions::default().lease(Duration::from_millis(300)),
    );
    let orders = store.queue("orders").unwrap();
    let workers = orders.consumer("workers").unwrap();
    orders.send(Message::new(b"retry me".to_vec())).unwrap();
    workers
        .receive(SECOND)
        .unwrap()
        .unwrap()
        .nack(Duration::from_millis(200))
        .unwrap();
    assert!(matches!(
        orders.status(MessageId(0), "workers").unwrap(),
        Status::Delayed { attempts: 1, .. }
    ));
    assert!(
        workers.try_receive().unwrap().is_none(),
        "not before the delay"
    );
    let mut delivery = workers.receive(2 * SECOND).unwrap().unwrap();
    assert_eq!(delivery.attempt(), 2);
    let before = delivery.deadline_ms();
    delivery.extend(Duration::from_secs(10)).unwrap();
    assert!(delivery.deadline_ms() >= before + 10_000);
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        workers.try_receive().unwrap().is_none(),
        "the extended lease holds"
    );
    delivery.ack().unwrap();
}

#[test]
fn receive_blocks_until_a_send_and_producers_wait_for_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), QueueOptions::default());
    let orders = store.queue("orders").unwrap();
    let payments = orders.consumer("payments").unwrap();
    let worker = std::thread::spawn(move || {
        let delivery = payments
            .receive(10 * SECOND)
            .unwrap()
            .expect("a message arrives");
        let outcome = format!("paid:{}", String::from_utf8_lossy(delivery.payload()));
        delivery.ack_with_outcome(outcome.as_bytes()).unwrap();
    });
    std::thread::sleep(Duration::from_millis(100));
    let id = orders.send(Message::new(b"42".to_vec())).unwrap();
    let status = orders.wait_outcome(id, "payments", 10 * SECOND).unwrap();
    assert_eq!(
        status,
        Status::Acked {
            outcome: Some(b"paid:42".to_vec())
        }
    );
    worker.join().unwrap();
    assert!(matches!(
        orders.wait_outcome(id, "nobody", SECOND),
        Err(Error::Groups { .. })
    ));
    let other = orders.send(Message::new(b"43".to_vec())).unwrap();
    orders.consumer("late").unwrap();
    assert!(matches!(
        orders.wait_outcome(other, "late", Duration::from_millis(50)),
        Err(Error::Timeout)
    ));
}

#[test]
fn poison_messages_move_to_the_dead_letter_queue_once_and_can_be_requeued() {
    let dir = tempfile::tempdir().unwrap();
    let queue_options = QueueOptions::default().max_deliveries(2);
    let store = open(dir.path(), queue_options.clone());
    let orders = store.queue("orders").unwrap();
    let payments = orders.consumer("payments").unwrap();
    let id = orders
        .send(Message::new(b"poison".to_vec()).header("type", "order"))
        .unwrap();
    for attempt in 1..=2 {
        let delivery = payments.receive(SECOND).unwrap().unwrap();
        assert_eq!(delivery.attempt(), attempt);
        drop(delivery);
    }
    // Simulate a crash after the copy reached the dead-letter queue but before the move
    // was recorded: the copy is already there with the move's dedup id.
    let dlq = store.queue("orders.dlq").unwrap();
    dlq.send(Message::new(b"poison".to_vec()).dedup_id(format!("dlq:orders:payments:{}", id.0)))
        .unwrap();
    assert!(payments.try_receive().unwrap().is_none());
    assert!(matches!(
        orders.status(id, "payments").unwrap(),
        Status::DeadLettered { .. }
    ));
    assert_eq!(dlq.id_range().1, MessageId(1), "one copy, not two");
    drop((store, orders, payments, dlq));
    let store = open(dir.path(), queue_options);
    let orders = store.queue("orders").unwrap();
    assert!(matches!(
        orders.status(id, "payments").unwrap(),
        Status::DeadLettered { .. }
    ));
    // A real move carries its origin in headers.
    let second = orders.send(Message::new(b"poison 2".to_vec())).unwrap();
    let payments = orders.consumer("payments").unwrap();
    for _ in 0..2 {
        drop(payments.receive(SECOND).unwrap().unwrap());
    }
    assert!(payments.try_receive().unwrap().is_none());
    let dlq = store.queue("orders.dlq").unwrap();
    let copy = dlq.peek(MessageId(1)).unwrap();
    assert_eq!(copy.payload, b"poison 2");
    assert_eq!(
        copy.header(logq::reserved::ORIGINAL_ID),
        Some(second.0.to_string().as_bytes())
    );
    assert_eq!(
        copy.header(logq::reserved::ORIGINAL_QUEUE),
        Some(&b"orders"[..])
    );
    assert_eq!(copy.header(logq::reserved::ATTEMPTS), Some(&b"2"[..]));
    assert!(copy.header(logq::reserved::REASON).is_some());
    // Requeue: both dead letters come back as new messages, once.
    assert_eq!(orders.requeue_dead_letters().unwrap(), 2);
    assert_eq!(orders.requeue_dead_letters().unwrap(), 0);
    let requeued = payments.receive(SECOND).unwrap().unwrap();
    assert_eq!(requeued.payload(), b"poison");
    requeued.ack().unwrap();
}

#[test]
fn retention_deletes_only_what_every_group_acknowledged_unless_capped() {
    let dir = tempfile::tempdir().unwrap();
    let queue_options = QueueOptions::default().segment_bytes_max(2048);
    let store = open(dir.path(), queue_options.clone());
    let orders = store.queue("orders").unwrap();
    let fast = orders.consumer("fast").unwrap();
    let slow = orders.consumer("slow").unwrap();
    for i in 0..100u32 {
        orders
            .send(Message::new(
                format!("order {i:04} {}", "x".repeat(40)).into_bytes(),
            ))
            .unwrap();
    }
    while let Some(d) = fast.try_receive().unwrap() {
        d.ack().unwrap();
    }
    orders.enforce_retention().unwrap();
    assert_eq!(
        orders.id_range().0,
        MessageId(0),
        "slow has acknowledged nothing"
    );
    for _ in 0..60 {
        slow.receive(SECOND).unwrap().unwrap().ack().unwrap();
    }
    orders.enforce_retention().unwrap();
    let first = orders.id_range().0;
    assert!(first.0 > 0 && first.0 <= 60, "first {first}");
    assert_eq!(orders.stats().unwrap().dropped_by_retention, 0);
    drop((store, orders, fast, slow));
    // A byte cap drops unprocessed messages, and counts them.
    let capped = queue_options.retention(RetentionOptions {
        max_age: None,
        max_bytes: Some(3000),
    });
    let store = open(dir.path(), capped);
    let orders = store.queue("orders").unwrap();
    orders.enforce_retention().unwrap();
    let stats = orders.stats().unwrap();
    assert!(stats.disk_bytes <= 3000 + 2048, "{}", stats.disk_bytes);
    assert!(stats.dropped_by_retention > 0);
    let slow = orders.consumer("slow").unwrap();
    let next = slow.receive(SECOND).unwrap().unwrap();
    assert!(next.id() >= orders.id_range().0);
}

#[test]
fn typed_queues_dead_letter_payloads_that_do_not_decode() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Order {
        number: u64,
        customer: String,
        amount_cents: u64,
    }
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), QueueOptions::default());
    let orders = store.typed_queue::<Order>("orders").unwrap();
    let order = Order {
        number: 1001,
        customer: "ada".into(),
        amount_cents: 2599,
    };
    orders.send(&order).unwrap();
    orders
        .queue()
        .send(Message::new(vec![0xFF, 0xFF, 0xFF]))
        .unwrap();
    let payments = orders.consumer("payments").unwrap();
    let delivery = payments.receive(SECOND).unwrap().unwrap();
    assert_eq!(delivery.value, order);
    delivery.ack().unwrap();
    match payments.receive(SECOND) {
        Err(Error::Decode { id, .. }) => assert_eq!(id, MessageId(1)),
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert!(matches!(
        orders.queue().status(MessageId(1), "payments").unwrap(),
        Status::DeadLettered { .. }
    ));
    assert!(payments
        .receive(Duration::from_millis(10))
        .unwrap()
        .is_none());
}

#[test]
fn stats_count_depth_in_flight_and_latency() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), QueueOptions::default());
    let orders = store.queue("orders").unwrap();
    let payments = orders.consumer("payments").unwrap();
    for i in 0..10u8 {
        orders.send(Message::new(vec![i])).unwrap();
    }
    let held = payments.receive(SECOND).unwrap().unwrap();
    for _ in 0..4 {
        payments.receive(SECOND).unwrap().unwrap().ack().unwrap();
    }
    let stats = orders.stats().unwrap();
    assert_eq!(
        (stats.first_id, stats.next_id, stats.sent_total),
        (0, 10, 10)
    );
    let group = &stats.groups[0];
    assert_eq!(group.group, "payments");
    assert_eq!(group.depth, 6);
    assert_eq!(group.in_flight, 1);
    assert_eq!(group.ready, 5);
    assert_eq!(group.acked_total, 4);
    assert_eq!(group.latency.unwrap().count, 4);
    assert!(group.oldest_unacked_age_ms.is_some());
    let json = serde_json_like(&stats);
    assert!(json.contains("payments"));
    drop(held);
}

fn serde_json_like(stats: &logq::QueueStats) -> String {
    // Stats are serde-serialisable: round-trip them through postcard.
    let bytes = postcard::to_stdvec(stats).unwrap();
    let back: logq::QueueStats = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(&back, stats);
    format!("{back:?}")
}

#[test]
fn invalid_names_headers_and_a_second_process_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), QueueOptions::default());
    assert!(matches!(
        store.queue("../etc"),
        Err(Error::InvalidName { .. })
    ));
    assert!(matches!(store.queue(""), Err(Error::InvalidName { .. })));
    let orders = store.queue("orders").unwrap();
    assert!(matches!(
        orders.send(Message::new(b"x".to_vec()).header("logq-original-id", "1")),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        Store::open(dir.path(), Options::default()),
        Err(Error::Locked { .. })
    ));
    assert!(matches!(
        orders.peek(MessageId(5)),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn buffered_durability_still_survives_a_process_crash() {
    let dir = tempfile::tempdir().unwrap();
    let queue_options = QueueOptions::default().durability(Durability::Never);
    let store = open(dir.path(), queue_options.clone());
    let orders = store.queue("orders").unwrap();
    let payments = orders.consumer("payments").unwrap();
    for i in 0..50u8 {
        orders.send(Message::new(vec![i])).unwrap();
    }
    payments.receive(SECOND).unwrap().unwrap().ack().unwrap();
    drop((store, orders, payments));
    let store = open(dir.path(), queue_options);
    let orders = store.queue("orders").unwrap();
    assert_eq!(orders.id_range().1, MessageId(50));
    assert!(matches!(
        orders.status(MessageId(0), "payments").unwrap(),
        Status::Acked { .. }
    ));
}

#[test]
fn a_write_buffer_delivers_its_sends_at_once_and_writes_them_when_the_store_goes() {
    let dir = tempfile::tempdir().unwrap();
    let queue_options = QueueOptions::default()
        .durability(Durability::Never)
        .write_buffer_bytes(64 * 1024);
    let store = open(dir.path(), queue_options.clone());
    let orders = store.queue("orders").unwrap();
    let payments = orders.consumer("payments").unwrap();
    for i in 0..100u8 {
        orders.send(Message::new(vec![i])).unwrap();
    }
    // Far less than 64 KiB: all still in the buffer, yet a receiver gets them in order.
    for i in 0..10u8 {
        let delivery = payments.receive(SECOND).unwrap().unwrap();
        assert_eq!(delivery.payload(), [i]);
        delivery.ack().unwrap();
    }
    drop((store, orders, payments));
    let store = open(dir.path(), queue_options);
    let orders = store.queue("orders").unwrap();
    assert_eq!(
        orders.id_range().1,
        MessageId(100),
        "dropping the store wrote the buffer"
    );
    assert_eq!(orders.peek(MessageId(99)).unwrap().payload, [99]);
}

#[test]
fn leases_of_a_dead_process_are_released_when_the_store_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(
        dir.path(),
        QueueOptions::default().lease(Duration::from_secs(3600)),
    );
    let orders = store.queue("orders").unwrap();
    let payments = orders.consumer("payments").unwrap();
    orders.send(Message::new(b"o-1".to_vec())).unwrap();
    payments.receive(SECOND).unwrap().unwrap().abandon(); // the consumer's process dies
    assert!(
        payments.try_receive().unwrap().is_none(),
        "leased for an hour"
    );
    drop((store, orders, payments));
    let store = open(
        dir.path(),
        QueueOptions::default().lease(Duration::from_secs(3600)),
    );
    let orders = store.queue("orders").unwrap();
    let again = orders
        .consumer("payments")
        .unwrap()
        .try_receive()
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.id(), again.attempt()),
        (MessageId(0), 2),
        "redelivered at once, attempt kept"
    );
}

#[test]
fn batch_acks_stick_across_a_crash_and_refuse_foreign_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), QueueOptions::default());
    let orders = store.queue("orders").unwrap();
    let payments = orders.consumer("payments").unwrap();
    let inventory = orders.consumer("inventory").unwrap();
    for i in 0..10u8 {
        orders.send(Message::new(vec![i])).unwrap();
    }
    let batch: Vec<_> = (0..6)
        .map(|_| payments.try_receive().unwrap().unwrap())
        .collect();
    let foreign = inventory.try_receive().unwrap().unwrap();
    assert!(matches!(
        payments.ack_all(vec![foreign]),
        Err(Error::InvalidArgument(_))
    ));
    payments.ack_all(batch).unwrap();
    drop((store, orders, payments, inventory));
    let store = open(dir.path(), QueueOptions::default());
    let orders = store.queue("orders").unwrap();
    for i in 0..6 {
        assert!(matches!(
            orders.status(MessageId(i), "payments").unwrap(),
            Status::Acked { .. }
        ));
    }
    let next = orders
        .consumer("payments")
        .unwrap()
        .try_receive()
        .unwrap()
        .unwrap();
    assert_eq!(next.id(), MessageId(6));
}

#[test]
fn async_sends_are_durable_ordered_per_task_and_deduplicated() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), QueueOptions::default());
    let orders = store.queue("orders").unwrap();
    let tasks = 16u64;
    let per_task = 20u64;
    let sent: Vec<Vec<(MessageId, Vec<u8>)>> =
        futures::executor::block_on(futures::future::join_all((0..tasks).map(|task| {
            let orders = orders.clone();
            async move {
                let mut sent = Vec::new();
                for i in 0..per_task {
                    let payload = format!("task {task} order {i}").into_bytes();
                    let id = orders
                        .send_async(Message::new(payload.clone()))
                        .await
                        .unwrap();
                    sent.push((id, payload));
                }
                // Every task retries one shared order: it is appended once.
                let retried = orders
                    .send_async(Message::new(b"shared".to_vec()).dedup_id("o-shared"))
                    .await
                    .unwrap();
                sent.push((retried, b"shared".to_vec()));
                sent
            }
        })));
    for task in &sent {
        let ids: Vec<MessageId> = task.iter().map(|(id, _)| *id).collect();
        let mut ordered = ids[..ids.len() - 1].to_vec();
        ordered.sort();
        assert_eq!(
            ordered,
            ids[..ids.len() - 1],
            "a task's sends keep their order"
        );
    }
    let shared: Vec<MessageId> = sent.iter().map(|task| task.last().unwrap().0).collect();
    assert!(
        shared.iter().all(|id| *id == shared[0]),
        "one dedup id, one message"
    );
    assert_eq!(orders.id_range().1, MessageId(tasks * per_task + 1));
    drop((store, orders)); // crash: no close
    let store = open(dir.path(), QueueOptions::default());
    let orders = store.queue("orders").unwrap();
    for (id, payload) in sent.into_iter().flatten() {
        assert_eq!(orders.peek(id).unwrap().payload, payload);
    }
    // Invalid input is refused by the future, not by a panic.
    let refused =
        futures::executor::block_on(orders.send_async(Message::new(b"x".to_vec()).dedup_id("")));
    assert!(
        matches!(refused, Err(Error::InvalidArgument(_))),
        "{refused:?}"
    );
}

#[test]
fn pipelined_async_acks_settle_at_once_and_stick_across_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), QueueOptions::default());
    let orders = store.queue("orders").unwrap();
    let count = 200u64;
    let batch: Vec<Message> = (0..count)
        .map(|i| Message::new(i.to_le_bytes().to_vec()))
        .collect();
    orders.send_batch(&batch).unwrap();
    let payments = orders.consumer("payments").unwrap();
    // One consumer thread: receive, start the ack, go on; at most 32 acks pending.
    let mut pending = std::collections::VecDeque::new();
    let mut seen = Vec::new();
    while let Some(delivery) = payments.try_receive().unwrap() {
        let id = delivery.id();
        assert!(
            !seen.contains(&id),
            "{id} delivered again while its ack was pending"
        );
        seen.push(id);
        let acked: std::pin::Pin<Box<dyn std::future::Future<Output = logq::Result<()>> + Send>> =
            if id.0 % 3 == 0 {
                Box::pin(delivery.ack_with_outcome_async(format!("paid {}", id.0).as_bytes()))
            } else {
                Box::pin(delivery.ack_async())
            };
        pending.push_back(acked);
        if pending.len() == 32 {
            futures::executor::block_on(pending.pop_front().unwrap()).unwrap();
        }
    }
    futures::executor::block_on(futures::future::try_join_all(pending)).unwrap();
    assert_eq!(seen.len(), usize::try_from(count).unwrap());
    drop((store, orders, payments)); // crash: no close
    let store = open(dir.path(), QueueOptions::default());
    let orders = store.queue("orders").unwrap();
    for i in 0..count {
        let expected = (i % 3 == 0).then(|| format!("paid {i}").into_bytes());
        assert_eq!(
            orders.status(MessageId(i), "payments").unwrap(),
            Status::Acked { outcome: expected }
        );
    }
    assert!(orders
        .consumer("payments")
        .unwrap()
        .try_receive()
        .unwrap()
        .is_none());
}

#[test]
fn async_acks_under_never_resolve_and_a_second_ack_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let queue_options = QueueOptions::default()
        .durability(Durability::Never)
        .lease(Duration::from_millis(100));
    let store = open(dir.path(), queue_options);
    let orders = store.queue("orders").unwrap();
    let id = orders.send(Message::new(b"o-1".to_vec())).unwrap();
    let payments = orders.consumer("payments").unwrap();
    // The first lease runs out; the second delivery is acked first, the first one after.
    let first = payments.receive(SECOND).unwrap().unwrap();
    let again = payments.receive(5 * SECOND).unwrap().unwrap();
    assert_eq!((again.id(), again.attempt()), (id, 2));
    futures::executor::block_on(again.ack_with_outcome_async(b"paid")).unwrap();
    futures::executor::block_on(first.ack_async()).unwrap();
    assert_eq!(
        orders.status(id, "payments").unwrap(),
        Status::Acked {
            outcome: Some(b"paid".to_vec())
        },
        "the late second ack keeps the first outcome"
    );
    store.close().unwrap();
}
