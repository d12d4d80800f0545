//! Shared helpers of logq's criterion benchmarks.
//!
//! Benchmarks write under `LOGQ_BENCH_DIR` (default: `target/bench-data` of the workspace),
//! which must be on the disk being measured: a tmpfs would make fdatasync free.
#![forbid(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A fresh temporary directory on the benchmark disk.
pub fn bench_dir() -> tempfile::TempDir {
    let root = std::env::var_os("LOGQ_BENCH_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&root).expect("create the benchmark directory");
    tempfile::tempdir_in(root).expect("create a temporary directory")
}

/// The physical limit: `iterations` appends of `record_bytes` with `write` + `fdatasync`
/// each, on a fresh file in `dir`. Returns the elapsed time.
///
/// ```no_run
/// let dir = logq_benches::bench_dir();
/// let elapsed = logq_benches::raw_write_fdatasync(dir.path(), 256, 10);
/// assert!(elapsed.as_nanos() > 0);
/// ```
pub fn raw_write_fdatasync(
    dir: &std::path::Path,
    record_bytes: usize,
    iterations: u64,
) -> Duration {
    let path = dir.join("raw.bin");
    let mut file: File = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .expect("open the raw file");
    let record = vec![0x5au8; record_bytes];
    let start = Instant::now();
    for _ in 0..iterations {
        file.write_all(&record).expect("write");
        file.sync_data().expect("fdatasync");
    }
    start.elapsed()
}
