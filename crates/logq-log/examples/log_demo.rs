//! A runnable tour of the log: durable appends from several threads (group commit),
//! a reopen, and a zero-copy read-back. Data goes to `./logq-data/log-demo` (or argv[1]).

use logq_log::{Log, LogOptions, Record};
use std::time::Instant;

fn main() -> Result<(), logq_log::Error> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "logq-data/log-demo".into());
    let log = Log::open(&dir, LogOptions::default())?;
    println!(
        "opened {dir}: offsets {}..{}",
        log.first_offset(),
        log.next_offset()
    );
    for threads in [1usize, 16] {
        let per_thread = 2000 / threads;
        let start = Instant::now();
        std::thread::scope(|scope| {
            for t in 0..threads {
                let log = log.clone();
                scope.spawn(move || {
                    for i in 0..per_thread {
                        let order =
                            format!("{{\"order\":\"o-{t}-{i}\",\"amount_cents\":{}}}", i * 7);
                        log.append(&[Record::new(order.as_bytes())])
                            .expect("durable append");
                    }
                });
            }
        });
        let seconds = start.elapsed().as_secs_f64();
        let total = (per_thread * threads) as f64;
        println!(
            "{threads:>2} producer(s): {total} durable appends in {seconds:.2}s = {:.0}/s",
            total / seconds
        );
    }
    let end = log.next_offset();
    log.close()?;
    let log = Log::open(&dir, LogOptions::default())?;
    let mut bytes = 0usize;
    let mut records = 0u64;
    let start = Instant::now();
    for batch in log.batches_from(log.first_offset()) {
        for record in batch?.records() {
            bytes += record.payload.len();
            records += 1;
        }
    }
    println!(
        "reopened: next offset {} (was {end}); read {records} records, {bytes} bytes in {:?}",
        log.next_offset(),
        start.elapsed()
    );
    log.close()
}
