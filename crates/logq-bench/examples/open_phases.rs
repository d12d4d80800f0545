//! Times the phases of the restart child's open (one process, one open): store open, queue
//! handle, consumer, first receive, group stats. Usage: `open_phases <store dir>`.
//!
//! Afterwards (untimed) it acknowledges the message and closes the store cleanly, so that a
//! loop of "kill a writing child, run this" replays only the last child's traffic each time
//! and never dead-letters the first message.
use std::time::{Duration, Instant};

fn main() -> logq_bench::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: open_phases <store dir>")?;
    let t0 = Instant::now();
    let store = logq::Store::open(&dir, logq::Options::default())?;
    let t1 = Instant::now();
    let queue = store.queue("bench")?;
    let consumer = queue.consumer("bench")?;
    let t2 = Instant::now();
    let delivery = consumer
        .receive(Duration::from_secs(10))?
        .ok_or("nothing delivered")?;
    let t3 = Instant::now();
    let _ = queue.group_stats("bench")?;
    let t4 = Instant::now();
    let t5 = Instant::now();
    let us = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e6;
    println!(
        "open {:.0} consumer {:.0} receive {:.0} group stats {:.0} total {:.0} us",
        us(t0, t1),
        us(t1, t2),
        us(t2, t3),
        us(t3, t4),
        us(t0, t5)
    );
    delivery.ack()?;
    store.close()?;
    Ok(())
}
