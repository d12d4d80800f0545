//! Where the time of scenario (4)'s plain-ack path goes: one producer thread sends 256 B
//! messages durably at a fixed rate (sleeping until each is due, as the scenario's producers
//! do) while one consumer receives each and acknowledges it durably (`ack_all`, as the
//! scenario's plain consumer does). Prints p50 / p99 / p99.9 in µs of each phase: the
//! producer's oversleep, the send, send-return to receive-return, the ack, and the whole path
//! from the due time; then, for scale, the same rate of bare `pwrite` + `fdatasync` of 322 B
//! (one batch of one message) into a zero-filled file, as logq's preallocated segment is.
//!
//! Usage: `latency_phases <dir> <rate per s> <seconds>`.
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

/// Microseconds from `from` to `to` (0 if `to` is earlier).
fn micros(from: Instant, to: Instant) -> f64 {
    to.saturating_duration_since(from).as_secs_f64() * 1e6
}

/// p50, p99 and p99.9 of `values` (sorted in place), formatted.
fn percentiles(values: &mut [f64]) -> String {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| {
        // A rank in 0..len, from a quantile in [0, 1].
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let rank = ((values.len().saturating_sub(1)) as f64 * q).round() as usize;
        values.get(rank).copied().unwrap_or(f64::NAN)
    };
    format!(
        "p50 {:7.0}  p99 {:7.0}  p99.9 {:7.0}",
        at(0.5),
        at(0.99),
        at(0.999)
    )
}

fn main() -> logq_bench::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, rate, seconds] = args.as_slice() else {
        return Err("usage: latency_phases <dir> <rate per s> <seconds>".into());
    };
    let (rate, seconds): (u64, u64) = (rate.parse()?, seconds.parse()?);
    let dir = std::path::Path::new(dir);
    logq_bench::restart_child::fresh_dir(dir)?;
    let total = usize::try_from(rate.saturating_mul(seconds))?;
    let period = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let store = logq::Store::open(dir.join("store"), logq::Options::default())?;
    let queue = store.queue("bench")?;
    let consumer = queue.consumer("bench")?;
    let start = Instant::now() + Duration::from_millis(20);
    let due = |i: usize| start + period.saturating_mul(u32::try_from(i).unwrap_or(u32::MAX));
    let (sends, receipts) = std::thread::scope(|scope| -> logq_bench::Result<_> {
        let producer = scope.spawn(|| -> logq_bench::Result<Vec<(Instant, Instant)>> {
            let mut sends = Vec::with_capacity(total);
            for i in 0..total {
                std::thread::sleep(due(i).saturating_duration_since(Instant::now()));
                let before = Instant::now();
                queue.send(logq::Message::new(logq_bench::payload(u64::try_from(i)?)))?;
                sends.push((before, Instant::now()));
            }
            Ok(sends)
        });
        let mut receipts = vec![None; total];
        for _ in 0..total {
            let delivery = loop {
                if let Some(delivery) = consumer.receive(Duration::from_secs(30))? {
                    break delivery;
                }
            };
            let received = Instant::now();
            let i = logq_bench::sequence_of(delivery.payload()).ok_or("short payload")?;
            consumer.ack_all(vec![delivery])?;
            let slot = receipts
                .get_mut(usize::try_from(i)?)
                .ok_or("a sequence number out of range")?;
            *slot = Some((received, Instant::now()));
        }
        let sends = producer.join().map_err(|_| "the producer panicked")??;
        Ok((sends, receipts))
    })?;
    store.close()?;
    let mut phases: [(&str, Vec<f64>); 5] = [
        ("oversleep", Vec::new()),
        ("send", Vec::new()),
        ("send→receive", Vec::new()),
        ("ack", Vec::new()),
        ("due→acked", Vec::new()),
    ];
    for (i, ((sent_at, sent), receipt)) in sends.iter().zip(&receipts).enumerate() {
        let (received, acked) = receipt.ok_or("a message was never received")?;
        let spans = [
            micros(due(i), *sent_at),
            micros(*sent_at, *sent),
            micros(*sent, received),
            micros(received, acked),
            micros(due(i), acked),
        ];
        for ((_, values), span) in phases.iter_mut().zip(spans) {
            values.push(span);
        }
    }
    println!("logq at {rate}/s, {total} messages (µs):");
    for (name, values) in &mut phases {
        println!("  {name:13} {}", percentiles(values));
    }
    let mut bare = bare_fdatasyncs(&dir.join("bare"), total, period)?;
    println!("bare pwrite + fdatasync at {rate}/s:");
    println!("  {:13} {}", "write+sync", percentiles(&mut bare));
    Ok(())
}

/// `count` writes of 322 B, each followed by `fdatasync`, one per `period` (sleeping between),
/// into a zero-filled file; returns each write+sync time in µs.
fn bare_fdatasyncs(
    path: &std::path::Path,
    count: usize,
    period: Duration,
) -> logq_bench::Result<Vec<f64>> {
    const RECORD_BYTES: usize = 322;
    let file = std::fs::OpenOptions::new()
        .create_new(true)
        .read(true)
        .write(true)
        .open(path)?;
    file.write_all_at(&vec![0u8; count.saturating_mul(RECORD_BYTES)], 0)?;
    file.sync_all()?;
    let record = [7u8; RECORD_BYTES];
    let mut times = Vec::with_capacity(count);
    for i in 0..count {
        std::thread::sleep(period);
        let before = Instant::now();
        file.write_all_at(&record, u64::try_from(i.saturating_mul(RECORD_BYTES))?)?;
        file.sync_data()?;
        times.push(micros(before, Instant::now()));
    }
    Ok(times)
}
