//! (2) Concurrent producers, each waiting for its own durability.

use crate::scenarios::Measure;
use crate::target::Target;
use crate::Result;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Sends from `producers` threads (one producer each) for `duration`; returns the total
/// `msgs/s`.
pub fn run(target: &dyn Target, producers: usize, duration: Duration) -> Result<Vec<Measure>> {
    let mut handles = Vec::with_capacity(producers);
    for _ in 0..producers {
        handles.push(target.producer()?);
    }
    let stop = AtomicBool::new(false);
    let sent = AtomicU64::new(0);
    let start = Instant::now();
    let results: Vec<Result<()>> = std::thread::scope(|scope| {
        let workers: Vec<_> = handles
            .into_iter()
            .map(|mut producer| {
                let (stop, sent) = (&stop, &sent);
                scope.spawn(move || -> Result<()> {
                    while !stop.load(Ordering::Relaxed) {
                        let n = sent.fetch_add(1, Ordering::Relaxed);
                        producer.send(&crate::payload(n))?;
                    }
                    Ok(())
                })
            })
            .collect();
        std::thread::sleep(duration);
        stop.store(true, Ordering::Relaxed);
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err("producer panicked".into())))
            .collect()
    });
    let elapsed = start.elapsed();
    for r in results {
        r?;
    }
    // Each thread counted the send it was in when stop was set: it completed it.
    let mut measures = vec![Measure::new(
        "msgs/s",
        crate::stats::rate(sent.load(Ordering::Relaxed), elapsed),
    )];
    if let Some(rate) = target.async_producers(producers, duration) {
        measures.push(Measure::new(async_metric(producers), rate?));
    }
    Ok(measures)
}

/// The metric of the async variant of the scenario.
pub fn async_metric(producers: usize) -> String {
    format!("msgs/s, {producers} async tasks on 1 thread")
}
