//! The sales-system pipeline on logq: an order service sends orders (dedup id = order
//! number) to `orders`; a `payments` and an `inventory` group process them on their own
//! threads and acknowledge with outcomes; the order service looks the outcomes up.
//!
//! Run: `cargo run --release -p logq --example orders -- [DIR] [ORDERS]`
//! (default `logq-data/orders-example`, 5000 orders). Run it again on the same directory,
//! or kill it mid-way and run it again: orders already acknowledged are not processed again,
//! orders already sent are not sent twice (their dedup ids are remembered).

use logq::{Message, Options, Status, Store};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn main() -> Result<(), logq::Error> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .unwrap_or_else(|| "logq-data/orders-example".into());
    let orders_total: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(5000);
    let store = Store::open(&dir, Options::default())?;
    let orders = store.queue("orders")?;
    let (first, next) = orders.id_range();
    println!(
        "opened {dir}: queue orders holds ids {}..{}",
        first.0, next.0
    );
    let stop = AtomicBool::new(false);
    let processed = [AtomicU64::new(0), AtomicU64::new(0)];
    let redeliveries = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| -> Result<(), logq::Error> {
        for (index, group) in ["payments", "inventory"].into_iter().enumerate() {
            let consumer = orders.consumer(group)?;
            let (stop, processed, redeliveries) = (&stop, &processed[index], &redeliveries);
            scope.spawn(move || -> Result<(), logq::Error> {
                loop {
                    let Some(delivery) = consumer.receive(Duration::from_millis(100))? else {
                        if stop.load(Ordering::Acquire) {
                            return Ok(());
                        }
                        continue;
                    };
                    if delivery.attempt() > 1 {
                        redeliveries.fetch_add(1, Ordering::Relaxed);
                    }
                    let order = String::from_utf8_lossy(delivery.payload()).into_owned();
                    let outcome = if group == "payments" {
                        format!("paid {order}")
                    } else {
                        format!("reserved {order}")
                    };
                    delivery.ack_with_outcome(outcome.as_bytes())?;
                    processed.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        let mut last_report = Instant::now();
        let mut ids = Vec::new();
        for number in 0..orders_total {
            let order = format!(
                "{{\"order\":\"o-{number}\",\"amount_cents\":{}}}",
                1000 + number % 5000
            );
            let message = Message::new(order.into_bytes())
                .key(format!("o-{number}"))
                .dedup_id(format!("o-{number}"))
                .header("type", "order");
            ids.push(orders.send(message)?);
            if last_report.elapsed() >= Duration::from_secs(1) {
                last_report = Instant::now();
                report(&orders, started)?;
            }
        }
        // The order service looks up what happened to its orders.
        for id in &ids {
            for group in ["payments", "inventory"] {
                match orders.wait_outcome(*id, group, Duration::from_secs(30))? {
                    Status::Acked { outcome: Some(_) } => {}
                    other => println!("order {id} in {group}: {other:?}"),
                }
            }
        }
        stop.store(true, Ordering::Release);
        Ok(())
    })?;
    report(&orders, started)?;
    println!(
        "done: {} orders; processed now: payments {}, inventory {}; redelivered after a crash: {}",
        orders_total,
        processed[0].load(Ordering::Relaxed),
        processed[1].load(Ordering::Relaxed),
        redeliveries.load(Ordering::Relaxed)
    );
    store.close()
}

fn report(orders: &logq::Queue, started: Instant) -> Result<(), logq::Error> {
    let stats = orders.stats()?;
    let mut line = format!(
        "{:>6.1}s sent {} ({:.0}/s)",
        started.elapsed().as_secs_f64(),
        stats.sent_total,
        stats.send_rate_per_s
    );
    for group in &stats.groups {
        let (p50, p99) = group
            .latency
            .map_or((0, 0), |l| (l.p50_us / 1000, l.p99_us / 1000));
        line.push_str(&format!(
            " | {} acked {} ({:.0}/s) depth {} p50 {p50} ms p99 {p99} ms",
            group.group, group.acked_total, group.ack_rate_per_s, group.depth
        ));
    }
    println!("{line}");
    Ok(())
}
