//! logq end-to-end benchmarks: durable send + receive + durable ack with 1 and 16
//! producers (threads, and 16 async tasks on one thread), and the cost of a dedup id per send.
//!
//! Run: `cargo bench -p logq-benches --bench queue`.
#![allow(missing_docs)] // criterion_group! generates undocumented functions.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use logq::{Message, Options, Store};
use std::time::{Duration, Instant};

const PAYLOAD_BYTES: usize = 256;

/// How the producers wait for their sends to be durable.
#[derive(Clone, Copy)]
enum Producers {
    /// One thread per producer, `Queue::send`.
    Threads,
    /// One async task per producer on a single thread, `Queue::send_async`.
    TasksOnOneThread,
}

/// `iterations` messages sent by `producers` producers, received and acked by 4 consumers.
fn end_to_end(producers: u64, how: Producers, iterations: u64) -> Duration {
    let dir = logq_benches::bench_dir();
    let store = Store::open(dir.path(), Options::default()).expect("open");
    let queue = store.queue("orders").expect("queue");
    let per_producer = iterations.div_ceil(producers);
    let total = per_producer * producers;
    let acked = std::sync::atomic::AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let consumer = queue.consumer("payments").expect("consumer");
            let acked = &acked;
            scope.spawn(move || {
                while acked.load(std::sync::atomic::Ordering::Relaxed) < total {
                    if let Some(delivery) = consumer
                        .receive(Duration::from_millis(20))
                        .expect("receive")
                    {
                        delivery.ack().expect("ack");
                        acked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
        match how {
            Producers::Threads => {
                for _ in 0..producers {
                    let queue = queue.clone();
                    scope.spawn(move || {
                        for _ in 0..per_producer {
                            queue
                                .send(Message::new(vec![7u8; PAYLOAD_BYTES]))
                                .expect("send");
                        }
                    });
                }
            }
            Producers::TasksOnOneThread => {
                let queue = &queue;
                scope.spawn(move || {
                    futures::executor::block_on(futures::future::join_all((0..producers).map(
                        |_| async move {
                            for _ in 0..per_producer {
                                queue
                                    .send_async(Message::new(vec![7u8; PAYLOAD_BYTES]))
                                    .await
                                    .expect("send");
                            }
                        },
                    )));
                });
            }
        }
    });
    start.elapsed()
}

fn end_to_end_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("send_receive_ack_256B_always");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(1));
    for (name, how, producers) in [
        ("producers", Producers::Threads, 1u64),
        ("producers", Producers::Threads, 16),
        (
            "async_producers_on_1_thread",
            Producers::TasksOnOneThread,
            16,
        ),
    ] {
        group.bench_with_input(BenchmarkId::new(name, producers), &producers, |b, &p| {
            b.iter_custom(|iterations| end_to_end(p, how, iterations.max(16)));
        });
    }
    group.finish();
}

fn dedup_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("send_256B_never");
    group.sample_size(20);
    group.throughput(Throughput::Elements(1));
    for with_dedup in [false, true] {
        let name = if with_dedup {
            "with_dedup_id"
        } else {
            "without_dedup_id"
        };
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                let dir = logq_benches::bench_dir();
                let options = Options {
                    queue: logq::QueueOptions::default().durability(logq::Durability::Never),
                };
                let store = Store::open(dir.path(), options).expect("open");
                let queue = store.queue("orders").expect("queue");
                let start = Instant::now();
                for i in 0..iterations {
                    let mut message = Message::new(vec![7u8; PAYLOAD_BYTES]);
                    if with_dedup {
                        message = message.dedup_id(format!("order-{i}"));
                    }
                    queue.send(message).expect("send");
                }
                start.elapsed()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, end_to_end_benches, dedup_cost);
criterion_main!(benches);
