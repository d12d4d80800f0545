//! N producers, each sending 256 B messages durably (`Durability::Always`) to one queue for S
//! seconds; prints the rate. Usage: `producers <dir> <producers> <seconds> [async]`: threads,
//! or with `async` tasks on one thread (`Queue::send_async`). A profiling aid for scenario
//! (2) (run it under `perf stat` or `perf record`).
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn main() -> logq_bench::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (dir, producers, seconds, tasks) = match args.as_slice() {
        [_, dir, producers, seconds] => (dir, producers, seconds, false),
        [_, dir, producers, seconds, mode] if mode == "async" => (dir, producers, seconds, true),
        _ => return Err("usage: producers <dir> <producers> <seconds> [async]".into()),
    };
    let (producers, seconds): (usize, f64) = (producers.parse()?, seconds.parse()?);
    logq_bench::restart_child::fresh_dir(std::path::Path::new(dir))?;
    let store = logq::Store::open(dir, logq::Options::default())?;
    let queue = store.queue("bench")?;
    let (stop, sent) = (AtomicBool::new(false), AtomicU64::new(0));
    let start = Instant::now();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_secs_f64(seconds));
            stop.store(true, Ordering::Relaxed);
        });
        if tasks {
            let each = (0..producers).map(|_| async {
                while !stop.load(Ordering::Relaxed) {
                    let n = sent.fetch_add(1, Ordering::Relaxed);
                    let message = logq::Message::new(logq_bench::payload(n));
                    queue.send_async(message).await.expect("send");
                }
            });
            futures::executor::block_on(futures::future::join_all(each));
            return;
        }
        for _ in 0..producers {
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
    });
    let rate = logq_bench::stats::rate(sent.load(Ordering::Relaxed), start.elapsed());
    let kind = if tasks { "async tasks" } else { "threads" };
    println!("{producers} {kind}: {rate:.0} msgs/s");
    store.close()?;
    Ok(())
}
