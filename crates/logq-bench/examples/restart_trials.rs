//! Repeated restarts after `kill -9`, interleaved over backlog sizes: a closer look at
//! scenario (6) than its one restart per run.
//!
//! ```text
//! cargo build --release -p logq-bench --examples --bins
//! ./target/release/examples/restart_trials ./target/release/logq-bench /var/tmp/logq-trials 1,10 10
//! ```
//!
//! With `--keep` last, stores already in the work dir are reused and none is removed.
//!
//! Several comma-separated binaries (say, two builds to compare) take turns on each store.
//!
//! Fills one logq store per size (in GB, as `fill_backlog` does for the scenario), then runs
//! `trials` rounds; each round kills a writing child and times a fresh one on every size in
//! turn (see `logq_bench::restart_child::kill_and_reopen`). Prints each time (with how much
//! the machine's major page faults, pages read in and page reclaim grew during it, from
//! `/proc/vmstat`), then the median, minimum and maximum per size. The stores are removed at the end.
//!
//! After each restart the store is opened and closed once, as a clean shutdown would: the
//! close checkpoints the group journal and snapshots the dedup window, so every trial replays
//! only its own 300 ms of traffic, as the scenario's freshly filled store does (without it
//! each trial would also replay every earlier trial's); see `settle`.

use logq_bench::restart_child::{kill_and_reopen, ChildTarget};
use std::path::PathBuf;

fn main() -> logq_bench::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (args, keep) = match args.split_last() {
        Some((last, rest)) if last == "--keep" => (rest, true),
        _ => (args.as_slice(), false),
    };
    let [_, exe, root, sizes, trials] = args else {
        return Err(
            "usage: restart_trials <logq-bench binary[,binary…]> <work dir> <GB,GB,…> <trials>"
                .into(),
        );
    };
    let exes: Vec<PathBuf> = exe.split(',').map(PathBuf::from).collect();
    let root = PathBuf::from(root);
    let trials: usize = trials.parse()?;
    let mut stores = Vec::new();
    for gb in sizes.split(',') {
        let gb: f64 = gb.parse()?;
        // Benchmark sizes: GB → bytes, rounded, far below 2^53.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let bytes = (gb * 1e9).round() as u64;
        let dir = root.join(format!("{gb}GB"));
        if keep && dir.exists() {
            println!("reusing the store in {}", dir.display());
        } else {
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
            logq_bench::restart_child::logged_fill("logq", bytes, || {
                logq_bench::logq_target::fill_backlog(&dir, bytes)
            })?;
        }
        stores.push((gb, dir, vec![Vec::new(); exes.len()]));
    }
    for trial in 0..trials {
        for (gb, dir, times) in &mut stores {
            for (exe, times) in exes.iter().zip(times.iter_mut()) {
                let before = vmstat();
                let restarted = kill_and_reopen(exe, ChildTarget::Logq, dir)?;
                let after = vmstat();
                settle(dir)?;
                let ms = restarted.elapsed.as_secs_f64() * 1e3;
                println!(
                    "trial {trial}: {gb} GB: {}: {ms:.2} ms ({}; {})",
                    exe.display(),
                    vmstat_delta(&before, &after),
                    restarted.note.as_deref().unwrap_or("")
                );
                times.push(ms);
            }
        }
    }
    for (gb, dir, times) in stores {
        for (exe, times) in exes.iter().zip(&times) {
            let summary = logq_bench::stats::summarize(times).ok_or("no restart timed")?;
            println!(
                "{gb} GB: {}: median {:.2} ms, min {:.2}, max {:.2} ({} trials)",
                exe.display(),
                summary.median,
                summary.min,
                summary.max,
                summary.runs
            );
        }
        if !keep {
            std::fs::remove_dir_all(dir)?;
        }
    }
    Ok(())
}

/// The machine-wide counters of `/proc/vmstat` (empty where there is none).
fn vmstat() -> Vec<(String, u64)> {
    std::fs::read_to_string("/proc/vmstat")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The counters that tell whether a restart waited for the disk or for memory: major page
/// faults, pages read in, and page reclaim, as they grew between `before` and `after`.
fn vmstat_delta(before: &[(String, u64)], after: &[(String, u64)]) -> String {
    const WATCHED: [&str; 4] = ["pgmajfault", "pgpgin", "pgscan_kswapd", "pgscan_direct"];
    WATCHED
        .iter()
        .filter_map(|name| {
            let value = |counters: &[(String, u64)]| {
                counters.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
            };
            let grown = value(after)?.saturating_sub(value(before)?);
            Some(format!("{name} +{grown}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Opens the store at `dir`, acknowledges the message the restart child received and
/// abandoned (so that no message is abandoned trial after trial until it is dead-lettered,
/// which would add a dead-letter queue to the next opens), and closes the store cleanly
/// (checkpoint and dedup snapshot).
fn settle(dir: &std::path::Path) -> logq_bench::Result<()> {
    let store = logq::Store::open(dir, logq::Options::default())?;
    let consumer = store.queue("bench")?.consumer("bench")?;
    if let Some(delivery) = consumer.try_receive()? {
        delivery.ack()?;
    }
    store.close()?;
    Ok(())
}
