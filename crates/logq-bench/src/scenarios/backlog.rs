//! (3) Consume and durably ack a backlog: one consumer, one durable ack per message.

use crate::scenarios::Measure;
use crate::target::{Consumer, Target};
use crate::Result;
use std::time::{Duration, Instant};

/// The metric of the pipelined variant of the scenario.
pub const PIPELINED_METRIC: &str = "msgs/s, acks pipelined (each awaited durable)";

/// Fills a backlog of `count` messages (batched, untimed), then drains it with one consumer
/// acking each message durably; stops after `limit` and reports the rate so far. Targets
/// with asynchronously confirmed acks then drain a second backlog with those.
pub fn run(target: &dyn Target, count: u64, limit: Duration) -> Result<Vec<Measure>> {
    fill(target, count)?;
    let mut measures = vec![drain(target.consumer()?, count, limit, "msgs/s")?];
    if let Some(consumer) = target.pipelined_ack_consumer() {
        // The same group again: the first drain acknowledged everything, the refill is new.
        let consumer = consumer?;
        fill(target, count)?;
        measures.push(drain(consumer, count, limit, PIPELINED_METRIC)?);
    }
    Ok(measures)
}

/// Sends `count` messages in batches of 1,000.
fn fill(target: &dyn Target, count: u64) -> Result<()> {
    let mut producer = target.producer()?;
    let batch: u64 = 1_000;
    let mut next = 0u64;
    while next < count {
        let end = (next + batch).min(count);
        let payloads: Vec<Vec<u8>> = (next..end).map(crate::payload).collect();
        producer.send_batch(&payloads)?;
        next = end;
    }
    Ok(())
}

/// Receives one message per poll until `count` or `limit`; the time ends once every ack
/// is durable.
fn drain(
    mut consumer: Box<dyn Consumer>,
    count: u64,
    limit: Duration,
    metric: &str,
) -> Result<Measure> {
    let start = Instant::now();
    let mut received = 0u64;
    let mut note = None;
    while received < count {
        if start.elapsed() >= limit {
            note = Some(format!(
                "stopped after {} s at {received} of {count}",
                limit.as_secs()
            ));
            break;
        }
        let got = consumer.poll(1, Duration::from_secs(5))?;
        if got.is_empty() {
            return Err(format!("backlog ran dry at {received} of {count}").into());
        }
        received += u64::try_from(got.len())?;
    }
    consumer.finish()?;
    let mut measure = Measure::new(metric, crate::stats::rate(received, start.elapsed()));
    measure.note = note;
    Ok(measure)
}
