//! N producer threads, each sending 256 B messages durably (`Durability::Always`) to one
//! queue for S seconds; prints the rate. Usage: `producers <dir> <threads> <seconds>`. A
//! profiling aid for scenario (2) (run it under `perf stat` or `perf record`).
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn main() -> logq_bench::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, threads, seconds] = args.as_slice() else {
        return Err("usage: producers <dir> <threads> <seconds>".into());
    };
    let (threads, seconds): (usize, f64) = (threads.parse()?, seconds.parse()?);
    logq_bench::restart_child::fresh_dir(std::path::Path::new(dir))?;
    let store = logq::Store::open(dir, logq::Options::default())?;
    let queue = store.queue("bench")?;
    let (stop, sent) = (AtomicBool::new(false), AtomicU64::new(0));
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (queue, stop, sent) = (queue.clone(), &stop, &sent);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let n = sent.fetch_add(1, Ordering::Relaxed);
                    queue
                        .send(logq::Message::new(logq_bench::payload(n)))
                        .expect("send");
                }
            });
        }
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::Relaxed);
    });
    let rate = logq_bench::stats::rate(sent.load(Ordering::Relaxed), start.elapsed());
    println!("{threads} producers: {rate:.0} msgs/s");
    store.close()?;
    Ok(())
}
