//! One-shot figures that are not throughput: open and replay times, memory of a group.
//!
//! Run: `cargo run --release -p logq-benches --bin logq-figures -- [journal|memory|store|all]`.
//! Sizes are arguments: `journal N` (records since the last checkpoint, default 1,000,000),
//! `memory N` (acked offsets in random order, default 1,000,000), `store MB` (per queue
//! across 10 queues, default 100 = 1 GB), `delayed N` (delayed messages, default 1,000,000).

use logq::{Message, Options, QueueOptions, Store};
use logq_log::Durability;
use logq_offsets::{GroupConfig, OffsetOptions, OffsetStore, StartPosition};
use std::time::Instant;

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn journal(records: u64) {
    let dir = logq_benches::bench_dir();
    let options = OffsetOptions::default()
        .durability(Durability::Never)
        .checkpoint_interval_records(u64::MAX)
        .group_config(GroupConfig {
            lease_ms: 600_000,
            max_deliveries: 5,
            max_in_flight: u32::MAX,
        });
    {
        let store = OffsetStore::open(dir.path(), options.clone()).expect("open");
        store
            .ensure_group("g", StartPosition::Earliest, 0, records)
            .expect("group");
        for _ in 0..records / 2 {
            let d = store
                .deliver_next("g", 1, 0, records)
                .expect("deliver")
                .expect("deliverable");
            store.ack("g", d.offset).expect("ack");
        }
        store.sync().expect("sync");
    }
    let start = Instant::now();
    let store = OffsetStore::open(dir.path(), options).expect("reopen");
    let elapsed = start.elapsed();
    println!(
        "journal: open with {} journal records since the last checkpoint: {:.0} ms (min unacked {:?})",
        store.journal().next_offset(),
        elapsed.as_secs_f64() * 1000.0,
        store.min_unacked_offset()
    );
}

fn memory(acks: u64) {
    let config = GroupConfig {
        lease_ms: 1,
        max_deliveries: 5,
        max_in_flight: u32::MAX,
    };
    // A random permutation of 0..acks (Fisher-Yates with a fixed-seed xorshift).
    let mut order: Vec<u64> = (0..acks).collect();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for i in (1..order.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = usize::try_from(state % u64::try_from(i + 1).unwrap_or(1)).unwrap_or(0);
        order.swap(i, j);
    }
    let before = resident_bytes();
    let mut group = logq_offsets::GroupState::new(config, 0).expect("group");
    let half = order.len() / 2;
    for offset in &order[..half] {
        let _ = group.ack(*offset);
    }
    let middle = resident_bytes();
    let middle_gaps = group.stats(0).gaps;
    for offset in &order[half..] {
        let _ = group.ack(*offset);
    }
    let after = resident_bytes();
    let mib = |bytes: u64| bytes as f64 / 1_048_576.0;
    println!(
        "memory: {acks} offsets acked in random order: half way {middle_gaps} gaps, resident +{:.1} MiB; all acked: {} gaps, floor {}, resident +{:.1} MiB (freed memory may stay resident)",
        mib(middle.saturating_sub(before)),
        group.stats(0).gaps,
        group.min_unacked_offset(),
        mib(after.saturating_sub(before))
    );
}

fn store(mb_per_queue: u64) {
    let dir = logq_benches::bench_dir();
    let payload = vec![0x5au8; 4096];
    {
        let options = Options {
            queue: QueueOptions::default().durability(Durability::Never),
        };
        let store = Store::open(dir.path(), options).expect("open");
        for q in 0..10 {
            let queue = store.queue(&format!("queue-{q}")).expect("queue");
            let batch: Vec<Message> = (0..64).map(|_| Message::new(payload.clone())).collect();
            let mut written = 0u64;
            while written < mb_per_queue * 1_048_576 {
                queue.send_batch(&batch).expect("send");
                written += 64 * 4096;
            }
            queue.consumer("payments").expect("group");
        }
        store.close().expect("close");
    }
    let start = Instant::now();
    let store = Store::open(dir.path(), Options::default()).expect("reopen");
    let elapsed = start.elapsed();
    println!(
        "store: open of {} queues with {} MB each ({} MB total): {:.0} ms",
        store.queue_names().len(),
        mb_per_queue,
        mb_per_queue * 10,
        elapsed.as_secs_f64() * 1000.0
    );
}

fn delayed(count: u64) {
    let dir = logq_benches::bench_dir();
    let options = || Options {
        queue: QueueOptions::default().durability(Durability::Never),
    };
    let far = 4_000_000_000_000u64; // year 2096: never due during the run
    let start = Instant::now();
    {
        let store = Store::open(dir.path(), options()).expect("open");
        let orders = store.queue("orders").expect("queue");
        for i in 0..count {
            orders
                .send_at(
                    Message::new(format!("cancel order {i}").into_bytes()),
                    far + i,
                )
                .expect("send_at");
        }
        store.close().expect("close");
    }
    let send_s = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let store = Store::open(dir.path(), options()).expect("reopen");
    let orders = store.queue("orders").expect("queue");
    let waiting = orders.stats().expect("stats").delayed_waiting;
    let open_ms = start.elapsed().as_secs_f64() * 1000.0;
    let consumer = orders.consumer("jobs").expect("consumer");
    let rounds = 10_000u32;
    let start = Instant::now();
    for _ in 0..rounds {
        assert!(consumer.try_receive().expect("receive").is_none());
    }
    let receive_us = start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    println!(
        "delayed: {count} delayed messages: sent in {send_s:.1} s; open + schedule load {open_ms:.0} ms ({waiting} waiting); receive with nothing due {receive_us:.1} us"
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "all".into());
    let size: Option<u64> = args.next().and_then(|n| n.parse().ok());
    match which.as_str() {
        "journal" => journal(size.unwrap_or(1_000_000)),
        "memory" => memory(size.unwrap_or(1_000_000)),
        "store" => store(size.unwrap_or(100)),
        "delayed" => delayed(size.unwrap_or(1_000_000)),
        _ => {
            journal(1_000_000);
            memory(1_000_000);
            store(100);
        }
    }
}
