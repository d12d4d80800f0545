//! logq end-to-end benchmarks: durable send + receive + durable ack with 1 and 16
//! producers, and the cost of a dedup id per send.
//!
//! Run: `cargo bench -p logq-benches --bench queue`.
#![allow(missing_docs)] // criterion_group! generates undocumented functions.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use logq::{Message, Options, Store};
use std::time::{Duration, Instant};

const PAYLOAD_BYTES: usize = 256;

/// `iterations` messages sent by `producers` threads, received and acked by 4 consumers.
fn end_to_end(producers: u64, iterations: u64) -> Duration {
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
    });
    start.elapsed()
}

fn end_to_end_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("send_receive_ack_256B_always");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(1));
    for producers in [1u64, 16] {
        group.bench_with_input(
            BenchmarkId::new("producers", producers),
            &producers,
            |b, &p| {
                b.iter_custom(|iterations| end_to_end(p, iterations.max(16)));
            },
        );
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
