//! (3) Consume and durably ack a backlog: one consumer, one durable ack per message.

use crate::scenarios::Measure;
use crate::target::Target;
use crate::Result;
use std::time::{Duration, Instant};

/// Fills a backlog of `count` messages (batched, untimed), then drains it with one consumer
/// acking each message durably; stops after `limit` and reports the rate so far.
pub fn run(target: &dyn Target, count: u64, limit: Duration) -> Result<Vec<Measure>> {
    let mut producer = target.producer()?;
    let batch: u64 = 1_000;
    let mut next = 0u64;
    while next < count {
        let end = (next + batch).min(count);
        let payloads: Vec<Vec<u8>> = (next..end).map(crate::payload).collect();
        producer.send_batch(&payloads)?;
        next = end;
    }
    drop(producer);
    let mut consumer = target.consumer()?;
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
    let mut measure = Measure::new("msgs/s", crate::stats::rate(received, start.elapsed()));
    measure.note = note;
    Ok(vec![measure])
}
