//! Repeated restarts after `kill -9`, interleaved over backlog sizes: a closer look at
//! scenario (6) than its one restart per run.
//!
//! ```text
//! cargo build --release -p logq-bench --examples --bins
//! ./target/release/examples/restart_trials ./target/release/logq-bench /var/tmp/logq-trials 1,10 10
//! ```
//!
//! Fills one logq store per size (in GB, as `fill_backlog` does for the scenario), then runs
//! `trials` rounds; each round kills a writing child and times a fresh one on every size in
//! turn (see `logq_bench::restart_child::kill_and_reopen`). Prints each time, then the median,
//! minimum and maximum per size. The stores are removed at the end.

use logq_bench::restart_child::{kill_and_reopen, ChildTarget};
use std::path::PathBuf;

fn main() -> logq_bench::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, exe, root, sizes, trials] = args.as_slice() else {
        return Err(
            "usage: restart_trials <logq-bench binary> <work dir> <GB,GB,…> <trials>".into(),
        );
    };
    let exe = PathBuf::from(exe);
    let root = PathBuf::from(root);
    let trials: usize = trials.parse()?;
    let mut stores = Vec::new();
    for gb in sizes.split(',') {
        let gb: f64 = gb.parse()?;
        // Benchmark sizes: GB → bytes, rounded, far below 2^53.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let bytes = (gb * 1e9).round() as u64;
        let dir = root.join(format!("{gb}GB"));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        logq_bench::restart_child::logged_fill("logq", bytes, || {
            logq_bench::logq_target::fill_backlog(&dir, bytes)
        })?;
        stores.push((gb, dir, Vec::new()));
    }
    for trial in 0..trials {
        for (gb, dir, times) in &mut stores {
            let restarted = kill_and_reopen(&exe, ChildTarget::Logq, dir)?;
            let ms = restarted.elapsed.as_secs_f64() * 1e3;
            println!("trial {trial}: {gb} GB: {ms:.2} ms");
            times.push(ms);
        }
    }
    for (gb, dir, times) in stores {
        let summary = logq_bench::stats::summarize(&times).ok_or("no restart timed")?;
        println!(
            "{gb} GB: median {:.2} ms, min {:.2}, max {:.2} ({} trials)",
            summary.median, summary.min, summary.max, summary.runs
        );
        std::fs::remove_dir_all(dir)?;
    }
    Ok(())
}
