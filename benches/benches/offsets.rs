//! logq-offsets micro-benchmarks: durable and buffered acks from 1 and 16 threads, and
//! durable async acks pipelined from one thread.
//!
//! Run: `cargo bench -p logq-benches --bench offsets`.
#![allow(missing_docs)] // criterion_group! generates undocumented functions.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use logq_log::Durability;
use logq_offsets::{GroupConfig, OffsetOptions, OffsetStore, StartPosition};
use std::time::{Duration, Instant};

fn store(dir: &std::path::Path, durability: Durability, messages: u64) -> OffsetStore {
    let options = OffsetOptions::default()
        .durability(durability)
        .group_config(GroupConfig {
            lease_ms: 600_000,
            max_deliveries: 5,
            max_in_flight: u32::MAX,
        });
    let store = OffsetStore::open(dir, options).expect("open");
    store
        .ensure_group("g", StartPosition::Earliest, 0, messages)
        .expect("group");
    store
}

/// Delivers `iterations` messages, then acks them from `threads` threads; times the acks.
fn acks(durability: Durability, threads: u64, iterations: u64) -> Duration {
    let dir = logq_benches::bench_dir();
    let store = store(dir.path(), durability, iterations);
    for _ in 0..iterations {
        store.deliver_next("g", 1, 0, iterations).expect("deliver");
    }
    let per_thread = iterations.div_ceil(threads);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let store = store.clone();
            scope.spawn(move || {
                let from = t * per_thread;
                for offset in from..(from + per_thread).min(iterations) {
                    store.ack("g", offset).expect("ack");
                }
            });
        }
    });
    start.elapsed()
}

/// Delivers `iterations` messages, then acks them from one thread with `ack_async`, at most
/// `pending_max` acks pending (each awaited durable); times the acks.
fn pipelined_acks(pending_max: usize, iterations: u64) -> Duration {
    use futures::StreamExt;
    let dir = logq_benches::bench_dir();
    let store = store(dir.path(), Durability::Always, iterations);
    for _ in 0..iterations {
        store.deliver_next("g", 1, 0, iterations).expect("deliver");
    }
    let start = Instant::now();
    futures::executor::block_on(async {
        let mut pending = futures::stream::FuturesUnordered::new();
        for offset in 0..iterations {
            pending.push(store.ack_async("g", offset, None));
            if pending.len() >= pending_max {
                pending.next().await.expect("pending").expect("ack");
            }
        }
        while let Some(acked) = pending.next().await {
            acked.expect("ack");
        }
    });
    start.elapsed()
}

fn ack_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("ack");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(1));
    for (name, durability) in [("always", Durability::Always), ("never", Durability::Never)] {
        for threads in [1u64, 16] {
            group.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &threads| {
                b.iter_custom(|iterations| acks(durability, threads, iterations));
            });
        }
    }
    for pending_max in [64usize, 1024] {
        group.bench_with_input(
            BenchmarkId::new("always_async_pipelined", pending_max),
            &pending_max,
            |b, &pending_max| b.iter_custom(|iterations| pipelined_acks(pending_max, iterations)),
        );
    }
    group.finish();
}

criterion_group!(benches, ack_benches);
criterion_main!(benches);
