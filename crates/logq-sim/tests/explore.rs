//! The crash explorer run against the real `logq_log::Log` on `SimFs`.
//!
//! - `exhaustive_*`: the machine goes down after operation 1, 2, 3, … of a workload until
//!   the workload completes; every crash point gets several power cuts (crash seeds), and one
//!   of them also a crash at every operation of the following recovery.
//! - `every_single_fault_*`: every mutating operation of a workload fails once (EIO, ENOSPC,
//!   EROFS), then the end state is power-cut and recovered.
//! - `random_runs`: seeded random runs (1–3 threads, random faults, random crash point).
//!   A failure prints its seed; `LOGQ_SIM_SEED=<seed> cargo test -p logq-sim --test explore
//!   random_runs` replays exactly that run (multi-threaded runs replay the same workload,
//!   faults and crash point; the thread interleaving may differ). `LOGQ_SIM_SOAK=<n>`
//!   multiplies the number of random runs.
//!
//! Every test prints how many crash points (crash point × crash seed, plus crashes during
//! recovery) it explored. Known, unfixed logq-log bugs are counted, not failed on (see
//! `src/explore/known_bugs.rs` and `tests/known_bugs.rs`).

use logq_sim::explore::{
    check_log, explore_exhaustive, explore_faults, random_run, run, ExploreConfig, Model, Stats,
    Step, Violation, Workload, LOG_DIR,
};
use logq_sim::{FaultError, SimFs};
use parking_lot::Mutex;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

static TOTAL_POINTS: AtomicU64 = AtomicU64::new(0);

fn report(test: &str, stats: &Stats, started: Instant) {
    let total =
        TOTAL_POINTS.fetch_add(stats.total_points(), Ordering::AcqRel) + stats.total_points();
    eprintln!(
        "{test}: explored {} crash points ({} after runs, {} during recovery) in {} runs, \
         {} faults fired, {} known-bug hits, in {:.1?} (this binary so far: {total})",
        stats.total_points(),
        stats.crash_points,
        stats.recovery_crash_points,
        stats.runs,
        stats.faults_fired,
        stats.known_bug_hits,
        started.elapsed(),
    );
}

fn unwrap_or_panic(result: Result<Stats, Box<logq_sim::explore::Failure>>) -> Stats {
    result.unwrap_or_else(|failure| panic!("invariant broken: {failure}"))
}

/// Multi-record batches, records larger than a sector, rolls, retention and restarts.
fn handmade_workload() -> Workload {
    let append = |sizes: &[usize]| Step::Append {
        sizes: sizes.to_vec(),
    };
    Workload {
        seed: 0xC0FFEE,
        segment_bytes_max: 1024,
        index_interval_bytes: 100,
        preallocate_bytes: 1 << 20,
        threads: 1,
        durability: logq_log::Durability::Always,
        write_buffer_bytes: 0,
        steps: vec![
            append(&[10]),
            append(&[700]),
            append(&[5, 6, 7]),
            Step::Sync,
            append(&[600, 300]),
            append(&[40]),
            Step::Reopen,
            append(&[1]),
            append(&[200, 200, 200]),
            Step::Retain { keep: 3 },
            append(&[900]),
            append(&[33, 44]),
            Step::Reopen,
            Step::Retain { keep: 0 },
            append(&[80]),
        ],
    }
}

#[test]
fn exhaustive_handmade_workload() {
    let started = Instant::now();
    let stats = unwrap_or_panic(explore_exhaustive(
        &handmade_workload(),
        ExploreConfig::default(),
    ));
    assert!(
        stats.crash_points >= 4 * 60,
        "too few crash points: {stats:?}"
    );
    report("exhaustive_handmade_workload", &stats, started);
}

/// Explores every crash point of the given workloads; asserts at least `points_min` points.
fn exhaustive(test: &str, workloads: impl IntoIterator<Item = Workload>, points_min: u64) {
    let started = Instant::now();
    let mut stats = Stats::default();
    for workload in workloads {
        stats.add(unwrap_or_panic(explore_exhaustive(
            &workload,
            ExploreConfig::default(),
        )));
    }
    assert!(
        stats.crash_points >= points_min,
        "too few crash points: {stats:?}"
    );
    report(test, &stats, started);
}

#[test]
fn exhaustive_sequential_random_workloads() {
    exhaustive(
        "exhaustive_sequential_random_workloads",
        (0..4).map(|seed| Workload::random(seed, 1, 40, 40)),
        2_000,
    );
}

#[test]
fn exhaustive_sequential_more_workloads() {
    exhaustive(
        "exhaustive_sequential_more_workloads",
        (100..104).map(|seed| Workload::random(seed, 1, 40, 40)),
        2_000,
    );
}

#[test]
fn exhaustive_threaded_workloads() {
    exhaustive(
        "exhaustive_threaded_workloads",
        [(7, 2), (8, 3)].map(|(seed, threads)| Workload::random(seed, threads, 30, 30)),
        500,
    );
}

/// `Interval` and `Never`, with and without the write buffer: appends promise nothing, a
/// `sync` that returned makes everything appended before it durable, and every recovered
/// log is still a dense prefix of whole batches at the offsets their appends returned.
#[test]
fn exhaustive_buffered_durability_workloads() {
    let started = Instant::now();
    let mut stats = Stats::default();
    let mut seen = std::collections::HashSet::new();
    for seed in 200..206 {
        let workload = Workload::random_buffered(seed, 1, 40, 40);
        seen.insert((
            matches!(workload.durability, logq_log::Durability::Never),
            workload.write_buffer_bytes > 0,
        ));
        stats.add(unwrap_or_panic(explore_exhaustive(
            &workload,
            ExploreConfig::default(),
        )));
    }
    for (seed, error) in [(210, FaultError::Eio), (211, FaultError::Enospc)] {
        let workload = Workload::random_buffered(seed, 1, 30, 30);
        let config = ExploreConfig {
            crash_seeds: 3,
            recovery_crash_seeds: 0,
            ..ExploreConfig::default()
        };
        stats.add(unwrap_or_panic(explore_faults(&workload, error, config)));
    }
    assert!(seen.len() >= 3, "policies covered: {seen:?}");
    assert!(
        stats.crash_points >= 1_000,
        "too few crash points: {stats:?}"
    );
    report("exhaustive_buffered_durability_workloads", &stats, started);
}

fn single_faults(test: &str, error: FaultError) {
    let started = Instant::now();
    let config = ExploreConfig {
        crash_seeds: 3,
        recovery_crash_seeds: 0,
        ..ExploreConfig::default()
    };
    let mut stats = Stats::default();
    for seed in [1, 2] {
        let workload = Workload::random(seed, 1, 30, 30);
        stats.add(unwrap_or_panic(explore_faults(&workload, error, config)));
    }
    assert!(stats.faults_fired >= 100, "too few faults fired: {stats:?}");
    report(test, &stats, started);
}

#[test]
fn every_single_fault_eio() {
    single_faults("every_single_fault_eio", FaultError::Eio);
}

#[test]
fn every_single_fault_enospc() {
    single_faults("every_single_fault_enospc", FaultError::Enospc);
}

#[test]
fn every_single_fault_erofs() {
    single_faults("every_single_fault_erofs", FaultError::Erofs);
}

fn parse_seed(text: &str) -> u64 {
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed
        .unwrap_or_else(|_| panic!("LOGQ_SIM_SEED must be a u64 (decimal or 0x hex), got {text:?}"))
}

#[test]
fn random_runs() {
    let started = Instant::now();
    let config = ExploreConfig::default();
    if let Ok(seed) = std::env::var("LOGQ_SIM_SEED") {
        let seed = parse_seed(&seed);
        let stats = unwrap_or_panic(random_run(seed, config));
        report(
            &format!("random_runs (replay of seed {seed:#x})"),
            &stats,
            started,
        );
        return;
    }
    let soak: u64 = std::env::var("LOGQ_SIM_SOAK")
        .ok()
        .map(|n| {
            n.trim()
                .parse()
                .expect("LOGQ_SIM_SOAK must be a positive integer")
        })
        .unwrap_or(1);
    let runs = 300 * soak.max(1);
    // Threaded runs with faults are timing-dependent: only in soak runs.
    let config = ExploreConfig {
        threaded_faults: soak > 1,
        ..config
    };
    let mut stats = Stats::default();
    for index in 0..runs {
        let seed = logq_sim::rng::derive_seed(0x5EED, &[index]);
        stats.add(unwrap_or_panic(random_run(seed, config)));
    }
    assert!(
        stats.faults_fired > 0 && stats.crash_points >= runs,
        "{stats:?}"
    );
    report(&format!("random_runs ({runs} runs)"), &stats, started);
}

// The checks themselves must be able to fail: plant the damage they look for.

fn completed_run(workload: &Workload) -> (SimFs, Model) {
    let fs = SimFs::new(workload.seed);
    let model = Mutex::new(Model::new(true));
    let end = run(&fs, workload, &model).unwrap();
    assert_eq!(end, logq_sim::explore::RunEnd::Completed);
    (fs, model.into_inner())
}

#[test]
fn the_checker_reports_lost_acknowledged_records() {
    let workload = handmade_workload();
    let (fs, model) = completed_run(&workload);
    assert!(model.acked_count() > 5);
    fs.crash(1);
    // Throw away the tail segment's batches, as a buggy recovery would.
    let tail = fs
        .durable_names(Path::new(LOG_DIR))
        .into_iter()
        .filter(|n| n.ends_with(".log"))
        .max()
        .unwrap();
    let path = Path::new(LOG_DIR).join(&tail);
    let bytes = fs.durable_bytes(&path).unwrap();
    fs.replace_durable(&path, bytes[..32].to_vec()).unwrap();
    let log = logq_log::Log::open(workload.dir(), workload.options(&fs)).unwrap();
    let violation = check_log(&log, &model).unwrap_err();
    assert!(
        matches!(violation, Violation::AckedLost { .. }),
        "{violation}"
    );
}

#[test]
fn the_checker_reports_records_that_were_never_sent() {
    let workload = handmade_workload();
    let (fs, _) = completed_run(&workload);
    fs.crash(2);
    let log = logq_log::Log::open(workload.dir(), workload.options(&fs)).unwrap();
    let empty = Model::new(true);
    let violation = check_log(&log, &empty).unwrap_err();
    assert!(
        matches!(violation, Violation::Phantom { .. }),
        "{violation}"
    );
}

#[test]
fn the_checker_reports_a_batch_at_the_wrong_offset() {
    let workload = handmade_workload();
    let (fs, model) = completed_run(&workload);
    fs.crash(3);
    let log = logq_log::Log::open(workload.dir(), workload.options(&fs)).unwrap();
    let mut shifted = Model::new(true);
    for batch in model.batches() {
        let sizes: Vec<usize> = batch.payloads.iter().map(Vec::len).collect();
        let (id, _) = shifted.send(&sizes);
        if let Some(acked) = &batch.acked {
            shifted.ack(id, acked.start + 1..acked.end + 1);
        }
    }
    let violation = check_log(&log, &shifted).unwrap_err();
    assert!(
        matches!(violation, Violation::WrongOffset { .. }),
        "{violation}"
    );
}
