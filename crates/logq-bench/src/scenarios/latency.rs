//! (4) End-to-end latency at a fixed open-loop rate, corrected for coordinated omission.
//!
//! Message `i` is due at `start + i / rate`. A pool of producer threads takes the next
//! index, sleeps until it is due, and sends it durably; a consumer receives and acks. The
//! latency of a message is measured from its *intended* send time to the moment the
//! consumer's `poll` returned it — received and acknowledged (durably, for every target whose
//! ack has a reply) — so a stalled producer (or queue) cannot hide the messages it failed to
//! send on time. Targets with a [`Target::pipelined_ack_consumer`] run once more with it:
//! there `poll` returns as soon as the acks are started, and they become durable while the
//! next messages arrive (every one is awaited before the run ends, outside the figures).

use crate::scenarios::Measure;
use crate::target::Target;
use crate::Result;
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The suffix of the metrics of the pipelined-ack variant.
pub const PIPELINED_SUFFIX: &str = ", acks pipelined";

/// Runs at `rate` messages/s for `duration` with `producers` sender threads; returns
/// p50, p99 and p99.9 in microseconds. With `pipelined`, the consumer is the target's
/// [`Target::pipelined_ack_consumer`] (none: no measures).
pub fn run(
    target: &dyn Target,
    rate: u64,
    producers: usize,
    duration: Duration,
    pipelined: bool,
) -> Result<Vec<Measure>> {
    let total = rate.saturating_mul(u64::try_from(duration.as_millis())?) / 1000;
    let period_ns = 1_000_000_000u64 / rate.max(1);
    let mut senders = Vec::with_capacity(producers);
    for _ in 0..producers {
        senders.push(target.producer()?);
    }
    let (mut consumer, suffix) = match pipelined {
        false => (target.consumer()?, ""),
        true => match target.pipelined_ack_consumer() {
            Some(consumer) => (consumer?, PIPELINED_SUFFIX),
            None => return Ok(Vec::new()),
        },
    };
    let next = AtomicU64::new(0);
    let start = Instant::now() + Duration::from_millis(20);
    let due = move |i: u64| start + Duration::from_nanos(i.saturating_mul(period_ns));
    let (histogram, results) = std::thread::scope(|scope| {
        let next = &next;
        let workers: Vec<_> = senders
            .into_iter()
            .map(|mut producer| {
                scope.spawn(move || -> Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            return Ok(());
                        }
                        let at = due(i);
                        let now = Instant::now();
                        if at > now {
                            std::thread::sleep(at - now);
                        }
                        producer.send(&crate::payload(i))?;
                    }
                })
            })
            .collect();
        let reader = scope.spawn(move || -> Result<Histogram<u64>> {
            let mut histogram = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
            let mut received = 0u64;
            let mut idle_since = Instant::now();
            while received < total {
                let got = consumer.poll(256, Duration::from_millis(20))?;
                let now = Instant::now();
                if got.is_empty() {
                    if now.duration_since(idle_since) > Duration::from_secs(30) {
                        return Err(format!("latency: stalled at {received} of {total}").into());
                    }
                    continue;
                }
                idle_since = now;
                for p in &got {
                    let i = crate::sequence_of(p).ok_or("short payload")?;
                    let micros = now.saturating_duration_since(due(i)).as_micros();
                    histogram.saturating_record(u64::try_from(micros).unwrap_or(u64::MAX).max(1));
                }
                received += u64::try_from(got.len())?;
            }
            consumer.finish()?;
            Ok(histogram)
        });
        let results: Vec<Result<()>> = workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err("producer panicked".into())))
            .collect();
        let histogram = reader
            .join()
            .unwrap_or_else(|_| Err("consumer panicked".into()));
        (histogram, results)
    });
    for r in results {
        r?;
    }
    let histogram = histogram?;
    // Statistics: u64 microseconds -> f64 is exact in range.
    #[allow(clippy::cast_precision_loss)]
    let q = |quantile: f64| histogram.value_at_quantile(quantile) as f64;
    Ok(vec![
        Measure::new(format!("p50 µs @ {rate}/s{suffix}"), q(0.5)),
        Measure::new(format!("p99 µs @ {rate}/s{suffix}"), q(0.99)),
        Measure::new(format!("p99.9 µs @ {rate}/s{suffix}"), q(0.999)),
    ])
}
