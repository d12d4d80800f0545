//! (1) One producer, each send durable before the next.

use crate::scenarios::Measure;
use crate::target::Target;
use crate::Result;
use std::time::{Duration, Instant};

/// Sends from one producer for `duration`; returns `msgs/s`.
pub fn run(target: &dyn Target, duration: Duration) -> Result<Vec<Measure>> {
    let mut producer = target.producer()?;
    let start = Instant::now();
    let mut sent = 0u64;
    while start.elapsed() < duration {
        producer.send(&crate::payload(sent))?;
        sent += 1;
    }
    Ok(vec![Measure::new(
        "msgs/s",
        crate::stats::rate(sent, start.elapsed()),
    )])
}

/// The physical limit of scenario (1): 256 B `write` + `fdatasync` in a loop, into a growing
/// file (`preallocated == false`) or over a preallocated one. Returns writes per second.
pub fn raw_fdatasync(dir: &std::path::Path, preallocated: bool, duration: Duration) -> Result<f64> {
    use std::io::{Seek, SeekFrom, Write};
    std::fs::create_dir_all(dir)?;
    let path = dir.join(if preallocated {
        "raw-prealloc"
    } else {
        "raw-append"
    });
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)?;
    if preallocated {
        file.write_all(&vec![0u8; 64 << 20])?;
        file.sync_all()?;
        file.seek(SeekFrom::Start(0))?;
    }
    let payload = crate::payload(0);
    let start = Instant::now();
    let mut writes = 0u64;
    while start.elapsed() < duration {
        file.write_all(&payload)?;
        file.sync_data()?;
        writes += 1;
    }
    let elapsed = start.elapsed();
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(crate::stats::rate(writes, elapsed))
}
