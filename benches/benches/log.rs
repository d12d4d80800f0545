//! logq-log micro-benchmarks: buffered and durable appends (1/4/16/64 appenders), the raw
#![allow(missing_docs)] // criterion_group! generates undocumented functions.
//! `write` + `fdatasync` reference measured in the same run, sequential reads, and the
//! recovery open after a torn write.
//!
//! Run: `cargo bench -p logq-benches --bench log`. Data goes to `LOGQ_BENCH_DIR`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use logq_log::{Durability, Log, LogOptions, Record};
use std::time::{Duration, Instant};

const RECORD_BYTES: usize = 256;
/// Record sizes of the append benchmarks.
const RECORD_SIZES: [usize; 2] = [256, 1024];

/// Runs `iterations` appends of one `record_bytes` record spread over `appenders` threads.
fn appends(log: &Log, record_bytes: usize, appenders: u64, iterations: u64) -> Duration {
    let per_thread = iterations.div_ceil(appenders);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..appenders {
            scope.spawn(|| {
                let payload = vec![7u8; record_bytes];
                for _ in 0..per_thread {
                    log.append(&[Record::new(&payload)]).expect("append");
                }
            });
        }
    });
    start.elapsed()
}

/// Runs `iterations` appends of one `record_bytes` record spread over `appenders` async
/// tasks on this one thread; each task appends, then awaits its own durability.
fn async_appends(log: &Log, record_bytes: usize, appenders: u64, iterations: u64) -> Duration {
    let per_task = iterations.div_ceil(appenders);
    let payload = vec![7u8; record_bytes];
    let start = Instant::now();
    futures::executor::block_on(futures::future::join_all((0..appenders).map(|_| async {
        for _ in 0..per_task {
            let offsets = log
                .append_deferred(&[Record::new(&payload)])
                .expect("append");
            log.wait_durable_async(offsets.end).await.expect("durable");
        }
    })));
    start.elapsed()
}

fn durable_appends(c: &mut Criterion) {
    for record_bytes in RECORD_SIZES {
        let mut group = c.benchmark_group(format!("append_{record_bytes}B_always"));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(4));
        group.throughput(Throughput::Elements(1));
        group.bench_function("raw_write_fdatasync", |b| {
            b.iter_custom(|iterations| {
                let dir = logq_benches::bench_dir();
                logq_benches::raw_write_fdatasync(dir.path(), record_bytes, iterations)
            });
        });
        /// How the appenders wait: blocking threads, or async tasks on this thread.
        type Runner = fn(&Log, usize, u64, u64) -> Duration;
        let runners: [(&str, Runner); 2] = [
            ("appenders", appends),
            ("async_appenders_on_1_thread", async_appends),
        ];
        for (name, runner) in runners {
            for appenders in [1u64, 4, 16, 64] {
                group.bench_with_input(BenchmarkId::new(name, appenders), &appenders, |b, &n| {
                    b.iter_custom(|iterations| {
                        let dir = logq_benches::bench_dir();
                        let log = Log::open(dir.path(), LogOptions::default()).expect("open");
                        runner(&log, record_bytes, n, iterations)
                    });
                });
            }
        }
        group.finish();
    }
}

fn buffered_appends(c: &mut Criterion) {
    for record_bytes in RECORD_SIZES {
        let mut group = c.benchmark_group(format!("append_{record_bytes}B_never"));
        group.sample_size(20);
        group.throughput(Throughput::Elements(1));
        for (name, appenders, write_buffer_bytes) in [
            ("1_appender", 1, 0),
            ("1_appender_write_buffer_64KiB", 1, 64 * 1024),
            ("4_appenders_write_buffer_64KiB", 4, 64 * 1024),
            ("16_appenders_write_buffer_64KiB", 16, 64 * 1024),
            ("64_appenders_write_buffer_64KiB", 64, 64 * 1024),
        ] {
            group.bench_function(name, |b| {
                b.iter_custom(|iterations| {
                    let dir = logq_benches::bench_dir();
                    let options = LogOptions::default()
                        .durability(Durability::Never)
                        .write_buffer_bytes(write_buffer_bytes);
                    let log = Log::open(dir.path(), options).expect("open");
                    appends(&log, record_bytes, appenders, iterations)
                });
            });
        }
        group.bench_function("1_appender_batches_of_100", |b| {
            b.iter_custom(|iterations| {
                let dir = logq_benches::bench_dir();
                let options = LogOptions::default().durability(Durability::Never);
                let log = Log::open(dir.path(), options).expect("open");
                let payload = vec![7u8; record_bytes];
                let batch = vec![Record::new(&payload); 100];
                let start = Instant::now();
                for _ in 0..iterations.div_ceil(100) {
                    log.append(&batch).expect("append");
                }
                start.elapsed()
            });
        });
        group.finish();
    }
}

fn sequential_read(c: &mut Criterion) {
    let dir = logq_benches::bench_dir();
    let options = LogOptions::default().durability(Durability::Never);
    let log = Log::open(dir.path(), options).expect("open");
    let payload = [7u8; RECORD_BYTES];
    let batch = vec![Record::new(&payload); 256];
    let mut total_bytes = 0u64;
    while total_bytes < 256 * 1024 * 1024 {
        log.append(&batch).expect("append");
        total_bytes += 256 * u64::try_from(RECORD_BYTES + 18).expect("fits");
    }
    log.sync().expect("sync");
    let mut group = c.benchmark_group("read");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(total_bytes));
    group.bench_function("sequential_256MiB_from_page_cache", |b| {
        b.iter(|| {
            let mut sum = 0usize;
            for batch in log.batches_from(0) {
                for record in batch.expect("batch").records() {
                    sum += record.payload.len();
                }
            }
            sum
        });
    });
    group.finish();
}

/// Segment size of the recovery benchmark: small, so that many sealed segments fit on a
/// benchmark disk (open time depends on the number of segments, not their bytes).
const RECOVERY_SEGMENT_BYTES: u64 = 1024 * 1024;

/// How many segment files the log in `dir` has.
fn segment_files(dir: &std::path::Path) -> u64 {
    let files = std::fs::read_dir(dir)
        .expect("list")
        .filter(|entry| {
            entry
                .as_ref()
                .is_ok_and(|entry| entry.path().extension().is_some_and(|ext| ext == "log"))
        })
        .count();
    u64::try_from(files).expect("fits")
}

/// The active (last) segment file of the log in `dir`.
fn tail_segment(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .expect("list")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
        .max()
        .expect("a segment")
}

/// Appends one batch of 100 records under `Never` and closes the log, then tears that batch:
/// the tail file loses its last 7 bytes, as if a crash interrupted the write.
fn append_and_tear(dir: &std::path::Path) {
    let options = LogOptions::default()
        .durability(Durability::Never)
        .segment_bytes_max(RECOVERY_SEGMENT_BYTES);
    let log = Log::open(dir, options).expect("open");
    let payload = [7u8; RECORD_BYTES];
    log.append(&vec![Record::new(&payload); 100])
        .expect("append");
    log.close().expect("close");
    let tail = tail_segment(dir);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&tail)
        .expect("open tail");
    let len = file.metadata().expect("stat").len();
    file.set_len(len - 7).expect("tear");
}

/// `Log::open` after a crash tore the last batch: the segments listed, the tail scanned from
/// its last index entry, the torn batch cut, the tail and directory synced (sealed segments
/// are opened on first read, not here). 8 and 80 sealed segments (of 1 MiB; the default is
/// 128 MiB): the difference is what open time still grows with per sealed segment.
fn recovery_open(c: &mut Criterion) {
    let mut group = c.benchmark_group("recovery_open_torn_tail");
    group.sample_size(20);
    for segments in [8u64, 80] {
        let dir = logq_benches::bench_dir();
        let options = LogOptions::default()
            .durability(Durability::Never)
            .segment_bytes_max(RECOVERY_SEGMENT_BYTES);
        let log = Log::open(dir.path(), options).expect("open");
        let payload = [7u8; RECORD_BYTES];
        let batch = vec![Record::new(&payload); 100];
        // Until `segments` are sealed and the active one has begun.
        while segment_files(dir.path()) <= segments {
            log.append(&batch).expect("append");
        }
        log.close().expect("close");
        drop(log);
        group.bench_with_input(
            BenchmarkId::new("sealed_segments", segments),
            &segments,
            |b, _| {
                b.iter_custom(|iterations| {
                    let mut opening = Duration::ZERO;
                    for _ in 0..iterations {
                        append_and_tear(dir.path());
                        let start = Instant::now();
                        let log = Log::open(
                            dir.path(),
                            LogOptions::default().segment_bytes_max(RECOVERY_SEGMENT_BYTES),
                        )
                        .expect("recover");
                        opening += start.elapsed();
                        log.close().expect("close");
                    }
                    opening
                });
            },
        );
    }
    group.finish();
}

criterion_group!(
    benches,
    durable_appends,
    buffered_appends,
    sequential_read,
    recovery_open
);
criterion_main!(benches);
