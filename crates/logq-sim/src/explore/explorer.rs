//! Crash exploration: run a workload with the machine going down at operation `k`, power-cut
//! the result with several crash seeds, recover, check; also crash *during* that recovery at
//! each of its operations and check the second recovery finds the same log (invariant 7).
//!
//! - [`explore_exhaustive`]: `k = 1, 2, 3, …` until the workload completes before its crash
//!   point.
//! - [`explore_faults`]: for every mutating operation kind and number `n` the workload
//!   performs, a run where operation `n` of that kind fails (EIO, ENOSPC or EROFS), then
//!   power cuts of the end state.
//! - [`random_run`]: one run fully determined by a seed: a random workload (1–3 threads),
//!   random faults, a random crash point. `LOGQ_SIM_SEED=<seed>` replays it.

use super::check::{check_log, LogState};
use super::known_bugs::{known_bug, known_violation};
use super::model::Model;
use super::runner::{run, RunEnd};
use super::violation::Violation;
use super::workload::Workload;
use crate::fault::{FaultError, FaultPlan, OpKind};
use crate::random_point::{draw_crash_point, draw_fault_plan};
use crate::rng::{derive_seed, SimRng};
use crate::SimFs;
use logq_log::Log;
use parking_lot::Mutex;
use std::fmt;

/// How much to explore per crash point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExploreConfig {
    /// Power cuts (crash seeds) checked per crash point.
    pub crash_seeds: u64,
    /// Of those, how many also get a crash at every operation of the recovery.
    pub recovery_crash_seeds: u64,
    /// Count recoveries that fail on a [`crate::explore::KnownBug`] instead of failing the exploration.
    pub tolerate_known_bugs: bool,
    /// Random runs with injected I/O faults may use several threads (timing-dependent, so
    /// not exactly replayable; on in soak runs, off in the default suite).
    pub threaded_faults: bool,
    /// The strict sector model ([`SimFs::set_garbage_on_rewrite`]).
    pub garbage_on_rewrite: bool,
}

impl Default for ExploreConfig {
    fn default() -> Self {
        ExploreConfig {
            crash_seeds: 4,
            recovery_crash_seeds: 1,
            tolerate_known_bugs: false,
            threaded_faults: false,
            garbage_on_rewrite: false,
        }
    }
}

/// What an exploration covered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Workload runs.
    pub runs: u64,
    /// (crash point × crash seed) combinations recovered and checked.
    pub crash_points: u64,
    /// Crashes during recovery, each followed by a second recovery and a check.
    pub recovery_crash_points: u64,
    /// Injected faults that fired.
    pub faults_fired: u64,
    /// Largest number of operations a run performed.
    pub ops_max: u64,
    /// Recoveries that failed on a [`crate::explore::KnownBug`] (tolerated).
    pub known_bug_hits: u64,
}

impl Stats {
    /// Adds `other` to `self`.
    pub fn add(&mut self, other: Stats) {
        self.runs += other.runs;
        self.crash_points += other.crash_points;
        self.recovery_crash_points += other.recovery_crash_points;
        self.faults_fired += other.faults_fired;
        self.ops_max = self.ops_max.max(other.ops_max);
        self.known_bug_hits += other.known_bug_hits;
    }

    /// Everything that counts as a crash point explored.
    pub fn total_points(&self) -> u64 {
        self.crash_points + self.recovery_crash_points
    }
}

/// A broken invariant and how to get there again.
#[derive(Clone, Debug)]
pub struct Failure {
    /// Seed of the random run, for [`random_run`] failures.
    pub run_seed: Option<u64>,
    /// Seed of the workload.
    pub workload_seed: u64,
    /// Threads of the workload.
    pub threads: usize,
    /// The machine went down after this many operations (None: it did not).
    pub crash_after_ops: Option<u64>,
    /// The fault plan of the run.
    pub faults: FaultPlan,
    /// The power cut (None: the violation happened while running).
    pub crash_seed: Option<u64>,
    /// The crash during recovery: after how many operations of it, and its seed.
    pub recovery_crash: Option<(u64, u64)>,
    /// What broke.
    pub violation: Violation,
    /// The log directory where it broke: `(name, live length)` per file, before recovery
    /// touched it when the violation came from a recovery.
    pub files: Vec<(String, u64)>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (workload seed {:#x}, {} thread(s), crash after op {:?}, faults: {}, crash seed {:?}, crash during recovery {:?})",
            self.violation,
            self.workload_seed,
            self.threads,
            self.crash_after_ops,
            self.faults,
            self.crash_seed.map(|s| format!("{s:#x}")),
            self.recovery_crash.map(|(m, s)| format!("after op {m}, seed {s:#x}")),
        )?;
        write!(f, "; files: {:?}", self.files)?;
        if let Some(seed) = self.run_seed {
            write!(
                f,
                "; replay: LOGQ_SIM_SEED={seed:#x} cargo test -p logq-sim --test explore random_runs"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// The crash-point coordinates of one run, for building a [`Failure`].
struct Point<'a> {
    run_seed: Option<u64>,
    workload: &'a Workload,
    crash_after_ops: Option<u64>,
    faults: &'a FaultPlan,
}

impl Point<'_> {
    fn fail(
        &self,
        fs: &SimFs,
        crash_seed: Option<u64>,
        recovery_crash: Option<(u64, u64)>,
        violation: Violation,
    ) -> Box<Failure> {
        let dir = self.workload.dir();
        let files = fs
            .live_names(&dir)
            .into_iter()
            .map(|name| {
                let len = fs.live_bytes(&dir.join(&name)).map_or(0, |b| b.len());
                (name, u64::try_from(len).unwrap_or(u64::MAX))
            })
            .collect();
        Box::new(Failure {
            files,
            run_seed: self.run_seed,
            workload_seed: self.workload.seed,
            threads: self.workload.threads,
            crash_after_ops: self.crash_after_ops,
            faults: self.faults.clone(),
            crash_seed,
            recovery_crash,
            violation,
        })
    }
}

/// What recovering a crashed file system gave.
enum Recovery {
    Checked(LogState),
    Known,
}

/// Opens the log on a crashed `fs` (no faults, no crash point) and checks it.
fn recover_and_check(
    fs: &SimFs,
    workload: &Workload,
    model: &Model,
    faults: &FaultPlan,
    config: ExploreConfig,
) -> Result<Recovery, Violation> {
    match Log::open(workload.dir(), workload.options(fs)) {
        Ok(log) => match check_log(&log, model) {
            Ok(state) => Ok(Recovery::Checked(state)),
            Err(violation) => {
                let known =
                    known_violation(fs, &workload.dir(), workload.threads, faults, &violation)
                        .filter(|_| config.tolerate_known_bugs);
                known.map(|_| Recovery::Known).ok_or(violation)
            }
        },
        Err(error) => {
            let known =
                known_bug(fs, &workload.dir(), &error).filter(|_| config.tolerate_known_bugs);
            match known {
                Some(_) => Ok(Recovery::Known),
                None => Err(Violation::RecoveryFailed {
                    error: error.to_string(),
                }),
            }
        }
    }
}

/// Power-cuts `fs` with `crash_seed`, recovers and checks; with `recovery_crash`, also crashes
/// the recovery after each of its operations and checks the next recovery agrees. Returns the
/// points explored.
fn crash_and_check(
    fs: &SimFs,
    workload: &Workload,
    model: &Model,
    crash_seed: u64,
    recovery_crash: bool,
    point: &Point<'_>,
    config: ExploreConfig,
) -> Result<Stats, Box<Failure>> {
    let crashed = fs.fork();
    crashed.set_garbage_on_rewrite(config.garbage_on_rewrite);
    crashed.crash(crash_seed);
    let mut stats = Stats {
        crash_points: 1,
        ..Stats::default()
    };
    let reference = match recover_and_check(&crashed.fork(), workload, model, point.faults, config)
        .map_err(|v| point.fail(&crashed, Some(crash_seed), None, v))?
    {
        Recovery::Checked(state) => state,
        Recovery::Known => {
            stats.known_bug_hits += 1;
            return Ok(stats);
        }
    };
    if !recovery_crash {
        return Ok(stats);
    }
    for ops in 1.. {
        let interrupted = crashed.fork();
        interrupted.crash_after_ops(ops);
        let opened = Log::open(workload.dir(), workload.options(&interrupted));
        if !interrupted.is_halted() {
            // Recovery finished before its `ops`-th operation.
            if let Err(error) = opened {
                let violation = Violation::RecoveryFailed {
                    error: error.to_string(),
                };
                return Err(point.fail(&crashed, Some(crash_seed), None, violation));
            }
            break;
        }
        drop(opened);
        let second_seed = derive_seed(crash_seed, &[ops]);
        interrupted.crash(second_seed);
        let before_recovery = interrupted.fork();
        let coordinates = Some((ops, second_seed));
        let state = match recover_and_check(&interrupted, workload, model, point.faults, config)
            .map_err(|v| point.fail(&before_recovery, Some(crash_seed), coordinates, v))?
        {
            Recovery::Checked(state) => state,
            Recovery::Known => {
                stats.known_bug_hits += 1;
                continue;
            }
        };
        if state != reference {
            let violation = Violation::NotIdempotent {
                expected: reference.summary(),
                found: state.summary(),
            };
            return Err(point.fail(&before_recovery, Some(crash_seed), coordinates, violation));
        }
        stats.recovery_crash_points += 1;
    }
    Ok(stats)
}

/// Runs `workload` once with the machine going down after `k` operations (None: never) and
/// the given faults, then checks `config.crash_seeds` power cuts of the end state.
fn run_point(
    workload: &Workload,
    crash_after_ops: Option<u64>,
    faults: &FaultPlan,
    config: ExploreConfig,
    run_seed: Option<u64>,
) -> Result<(RunEnd, Stats), Box<Failure>> {
    let point = Point {
        run_seed,
        workload,
        crash_after_ops,
        faults,
    };
    let fs = SimFs::new(workload.seed);
    fs.set_fault_plan(faults.clone());
    if let Some(k) = crash_after_ops {
        fs.crash_after_ops(k);
    }
    let model = Mutex::new(Model::new(workload.threads == 1));
    let end = match run(&fs, workload, &model) {
        Ok(end) => end,
        Err(violation) => {
            let known = known_violation(&fs, &workload.dir(), workload.threads, faults, &violation)
                .filter(|_| config.tolerate_known_bugs);
            if known.is_none() {
                return Err(point.fail(&fs, None, None, violation));
            }
            let stats = Stats {
                runs: 1,
                known_bug_hits: 1,
                ..Stats::default()
            };
            // A run stopped before its crash point would stop there for every later one.
            let end = if fs.is_halted() {
                RunEnd::Halted
            } else {
                RunEnd::Completed
            };
            return Ok((end, stats));
        }
    };
    let mut stats = Stats {
        runs: 1,
        faults_fired: fs.faults_fired(),
        ops_max: fs.ops(),
        ..Stats::default()
    };
    let model = model.into_inner();
    let label = crash_after_ops.unwrap_or(u64::MAX);
    for s in 0..config.crash_seeds {
        let crash_seed = derive_seed(
            workload.seed,
            &[label, s, u64::try_from(faults.rules().len()).unwrap_or(0)],
        );
        let explored = crash_and_check(
            &fs,
            workload,
            &model,
            crash_seed,
            s < config.recovery_crash_seeds,
            &point,
            config,
        )?;
        stats.add(explored);
    }
    Ok((end, stats))
}

/// Crashes `workload` after operation 1, 2, 3, … until it completes before its crash point.
pub fn explore_exhaustive(
    workload: &Workload,
    config: ExploreConfig,
) -> Result<Stats, Box<Failure>> {
    let mut stats = Stats::default();
    let no_faults = FaultPlan::new();
    for k in 1.. {
        let (end, explored) = run_point(workload, Some(k), &no_faults, config, None)?;
        stats.add(explored);
        if end == RunEnd::Completed {
            break;
        }
    }
    Ok(stats)
}

/// For every kind and number of operation the workload performs, a run where that operation
/// fails with `error`, followed by power cuts of the end state.
pub fn explore_faults(
    workload: &Workload,
    error: FaultError,
    config: ExploreConfig,
) -> Result<Stats, Box<Failure>> {
    let dry = SimFs::new(workload.seed);
    let model = Mutex::new(Model::new(workload.threads == 1));
    let point = Point {
        run_seed: None,
        workload,
        crash_after_ops: None,
        faults: &FaultPlan::new(),
    };
    run(&dry, workload, &model).map_err(|v| point.fail(&dry, None, None, v))?;
    let mut stats = Stats::default();
    for kind in OpKind::ALL {
        for nth in 1..=dry.op_count(kind) {
            let plan = FaultPlan::new().fail_nth(kind, nth, error);
            let (_, explored) = run_point(workload, None, &plan, config, None)?;
            stats.add(explored);
        }
    }
    Ok(stats)
}

/// One random run decided by `seed`: workload, thread count, faults and crash point.
pub fn random_run(seed: u64, config: ExploreConfig) -> Result<Stats, Box<Failure>> {
    let mut rng = SimRng::new(seed);
    let faulty = rng.chance(1, 2);
    let threads = if faulty && !config.threaded_faults {
        1
    } else {
        usize::try_from(rng.range_inclusive(1, 3)).unwrap_or(1)
    };
    let workload = Workload::random(derive_seed(seed, &[1]), threads, 20, 120);
    // A dry run measures the workload so faults and the crash point land inside it.
    let dry = SimFs::new(workload.seed);
    let model = Mutex::new(Model::new(threads == 1));
    let no_faults = FaultPlan::new();
    let point = Point {
        run_seed: Some(seed),
        workload: &workload,
        crash_after_ops: None,
        faults: &no_faults,
    };
    if let Err(violation) = run(&dry, &workload, &model) {
        let known = known_violation(&dry, &workload.dir(), threads, &no_faults, &violation)
            .filter(|_| config.tolerate_known_bugs);
        if known.is_none() {
            return Err(point.fail(&dry, None, None, violation));
        }
    }
    let plan = draw_fault_plan(&mut rng, &dry, faulty);
    let crash_after_ops = draw_crash_point(&mut rng, dry.ops());
    let (_, stats) = run_point(&workload, crash_after_ops, &plan, config, Some(seed))?;
    Ok(stats)
}
