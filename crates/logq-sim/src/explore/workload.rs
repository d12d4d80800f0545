//! [`Workload`]: a scripted sequence of log operations with the log options it runs under,
//! generated from a seed.
//!
//! Invariant: [`Workload::random`] is a pure function of its seed.

use crate::rng::{derive_seed, SimRng};
use crate::SimFs;
use logq_log::{Durability, LogOptions};
use std::path::PathBuf;
use std::sync::Arc;

/// The directory every workload's log lives in.
pub const LOG_DIR: &str = "/sim/log";

/// One operation of a workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Appends one batch whose payloads have these sizes.
    Append {
        /// Payload sizes in bytes, one per record.
        sizes: Vec<usize>,
    },
    /// `Log::sync`.
    Sync,
    /// `Log::remove_segments_before(next_offset - keep)`.
    Retain {
        /// How many of the newest offsets retention must keep.
        keep: u64,
    },
    /// `Log::close`, then `Log::open` again (a clean restart).
    Reopen,
}

/// A workload and the options of the log it runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    /// Seed of the simulated file system (what failed writes leave).
    pub seed: u64,
    /// `LogOptions::segment_bytes_max`.
    pub segment_bytes_max: u64,
    /// `LogOptions::index_interval_bytes`.
    pub index_interval_bytes: u32,
    /// `LogOptions::preallocate_bytes` (zeros written ahead of the data).
    pub preallocate_bytes: u64,
    /// Appending threads (1: steps run in order on one thread).
    pub threads: usize,
    /// `LogOptions::durability`. Under `Interval` and `Never` an append promises nothing
    /// about durability; a `Sync` step that returns `Ok` makes every append that returned
    /// before it durable. (`Interval` runs use a period far longer than a run, so the
    /// background flusher never fires and runs stay deterministic.)
    pub durability: Durability,
    /// `LogOptions::write_buffer_bytes` (`Interval` and `Never` only).
    pub write_buffer_bytes: u32,
    /// The operations.
    pub steps: Vec<Step>,
}

impl Workload {
    /// A random workload of `steps_min..=steps_max` steps on `threads` threads.
    pub fn random(seed: u64, threads: usize, steps_min: u64, steps_max: u64) -> Workload {
        let mut rng = SimRng::new(seed);
        let segment_bytes_max = [700, 1024, 1536, 2048][rng.index(4)];
        let index_interval_bytes = [64, 200, 1000][rng.index(3)];
        let preallocate_bytes = [0, 300, 1 << 20][rng.index(3)];
        let count = rng.range_inclusive(steps_min, steps_max);
        let steps = (0..count).map(|_| random_step(&mut rng)).collect();
        Workload {
            seed,
            segment_bytes_max,
            index_interval_bytes,
            preallocate_bytes,
            threads: threads.max(1),
            durability: Durability::Always,
            write_buffer_bytes: 0,
            steps,
        }
    }

    /// A random workload under `Interval` or `Never` (drawn from the seed), with or without a
    /// write buffer, and more `Sync` steps: the durability promise is made by `sync`.
    pub fn random_buffered(seed: u64, threads: usize, steps_min: u64, steps_max: u64) -> Workload {
        let mut workload = Workload::random(seed, threads, steps_min, steps_max);
        let mut rng = SimRng::new(derive_seed(seed, &[0xB0F]));
        workload.durability = if rng.chance(1, 2) {
            Durability::Never
        } else {
            Durability::Interval(std::time::Duration::from_secs(3600))
        };
        workload.write_buffer_bytes = [0, 0, 200, 1500][rng.index(4)];
        for step in &mut workload.steps {
            if matches!(step, Step::Append { .. }) && rng.chance(1, 6) {
                *step = Step::Sync;
            }
        }
        workload
    }

    /// The directory of the log.
    pub fn dir(&self) -> PathBuf {
        PathBuf::from(LOG_DIR)
    }

    /// The options of the log on `fs`.
    pub fn options(&self, fs: &SimFs) -> LogOptions {
        LogOptions::default()
            .durability(self.durability)
            .write_buffer_bytes(self.write_buffer_bytes)
            .segment_bytes_max(self.segment_bytes_max)
            .index_interval_bytes(self.index_interval_bytes)
            .preallocate_bytes(self.preallocate_bytes)
            .file_system(Arc::new(fs.clone()))
    }

    /// Number of append steps.
    pub fn appends(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, Step::Append { .. }))
            .count()
    }
}

fn random_step(rng: &mut SimRng) -> Step {
    match rng.below(100) {
        0..=79 => {
            let records = [1, 1, 1, 2, 3, 5][rng.index(6)];
            let sizes = (0..records)
                .map(|_| {
                    if rng.chance(1, 10) {
                        usize::try_from(rng.range_inclusive(300, 900)).unwrap_or(300)
                    } else {
                        usize::try_from(rng.range_inclusive(1, 160)).unwrap_or(1)
                    }
                })
                .collect();
            Step::Append { sizes }
        }
        80..=86 => Step::Sync,
        87..=94 => Step::Retain {
            keep: rng.range_inclusive(0, 30),
        },
        _ => Step::Reopen,
    }
}
