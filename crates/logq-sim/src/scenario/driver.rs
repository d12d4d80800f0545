//! The crash-point loops of [`super`]: exhaustive, every single fault, and random points.

use super::breach::{Breach, Invariant};
use crate::explore::{ExploreConfig, RunEnd};
use crate::fault::{FaultError, FaultPlan, OpKind};
use crate::random_point::{draw_crash_point, draw_fault_plan};
use crate::rng::{derive_seed, SimRng};
use crate::SimFs;
use std::fmt;

/// A workload over the real engine that can be crashed and checked.
pub trait Scenario {
    /// What the workload was told (acknowledged sends, acks, ...).
    type Model;
    /// The recovered state compared across recoveries (invariant 7).
    type Snapshot: PartialEq + fmt::Debug;

    /// Names the workload in failure reports.
    fn describe(&self) -> String;
    /// The seed of the simulated file system.
    fn fs_seed(&self) -> u64;
    /// An empty model.
    fn new_model(&self) -> Self::Model;
    /// Runs the workload on `fs`, recording in `model`; stops at the crash point.
    fn run(&self, fs: &SimFs, model: &mut Self::Model) -> Result<RunEnd, Breach>;
    /// Only the recovery (open), for crashing it part-way; `Err` is the open's error.
    fn recover(&self, fs: &SimFs) -> Result<(), String>;
    /// Crash the recovery after every `stride`-th of its operations (1: every one). A
    /// recovery of many files may choose a larger stride to bound the time spent.
    fn recovery_crash_stride(&self) -> u64 {
        1
    }
    /// Recovers `fs` (a crashed machine, up again), takes the snapshot, checks every
    /// invariant against `model` (this may change the store, e.g. by draining it).
    fn check(&self, fs: &SimFs, model: &Self::Model) -> Result<Self::Snapshot, Breach>;
}

/// What an exploration covered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Workload runs.
    pub runs: u64,
    /// (crash point × crash seed) recoveries checked.
    pub crash_points: u64,
    /// Crashes during recovery, each followed by a second recovery and a check.
    pub recovery_crash_points: u64,
    /// Injected faults that fired, by error (EIO, ENOSPC, EROFS).
    pub faults_fired: [u64; 3],
    /// Largest number of operations a run performed.
    pub ops_max: u64,
}

impl Coverage {
    /// Adds `other` to `self`.
    pub fn add(&mut self, other: Coverage) {
        self.runs += other.runs;
        self.crash_points += other.crash_points;
        self.recovery_crash_points += other.recovery_crash_points;
        for (a, b) in self.faults_fired.iter_mut().zip(other.faults_fired) {
            *a += b;
        }
        self.ops_max = self.ops_max.max(other.ops_max);
    }

    /// Every crash point explored (after runs and during recoveries).
    pub fn total_points(&self) -> u64 {
        self.crash_points + self.recovery_crash_points
    }

    /// Faults fired of every kind.
    pub fn total_faults(&self) -> u64 {
        self.faults_fired.iter().sum()
    }
}

/// A broken invariant and the coordinates that reproduce it.
#[derive(Clone, Debug)]
pub struct ScenarioFailure {
    /// The workload.
    pub scenario: String,
    /// The seed of a random point (replay it with the test's env var).
    pub run_seed: Option<u64>,
    /// The machine went down after this many operations (None: it did not).
    pub crash_after_ops: Option<u64>,
    /// Injected faults.
    pub faults: FaultPlan,
    /// The power cut (None: broken while running).
    pub crash_seed: Option<u64>,
    /// A crash during recovery: after how many of its operations, with which seed.
    pub recovery_crash: Option<(u64, u64)>,
    /// What broke.
    pub breach: Breach,
}

impl fmt::Display for ScenarioFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}; crash after op {:?}; faults: {}; crash seed {:?}; crash during recovery {:?}]",
            self.breach,
            self.scenario,
            self.crash_after_ops,
            self.faults,
            self.crash_seed.map(|s| format!("{s:#x}")),
            self.recovery_crash
                .map(|(ops, seed)| format!("after op {ops}, seed {seed:#x}")),
        )?;
        if let Some(seed) = self.run_seed {
            write!(f, "; run seed {seed:#x}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioFailure {}

struct Point<'a, S: Scenario> {
    scenario: &'a S,
    run_seed: Option<u64>,
    crash_after_ops: Option<u64>,
    faults: &'a FaultPlan,
}

impl<S: Scenario> Point<'_, S> {
    fn fail(
        &self,
        crash_seed: Option<u64>,
        recovery_crash: Option<(u64, u64)>,
        breach: Breach,
    ) -> Box<ScenarioFailure> {
        Box::new(ScenarioFailure {
            scenario: self.scenario.describe(),
            run_seed: self.run_seed,
            crash_after_ops: self.crash_after_ops,
            faults: self.faults.clone(),
            crash_seed,
            recovery_crash,
            breach,
        })
    }
}

fn faults_by_error(fs_before: &SimFs, plan: &FaultPlan) -> [u64; 3] {
    let mut fired = [0u64; 3];
    for rule in plan.rules() {
        let count = fs_before.op_count(rule.kind);
        let hits = if rule.sticky {
            count.saturating_sub(rule.nth.saturating_sub(1))
        } else {
            u64::from(count >= rule.nth)
        };
        let slot = FaultError::ALL
            .iter()
            .position(|e| *e == rule.error)
            .unwrap_or(0);
        fired[slot] += hits;
    }
    fired
}

/// Power-cuts a fork of `fs` with `crash_seed`, checks the recovery, and with
/// `recovery_crash` also crashes that recovery at each of its operations.
fn crash_and_check<S: Scenario>(
    fs: &SimFs,
    model: &S::Model,
    crash_seed: u64,
    recovery_crash: bool,
    point: &Point<'_, S>,
) -> Result<Coverage, Box<ScenarioFailure>> {
    let scenario = point.scenario;
    let crashed = fs.fork();
    crashed.crash(crash_seed);
    let mut coverage = Coverage {
        crash_points: 1,
        ..Coverage::default()
    };
    let reference = scenario
        .check(&crashed.fork(), model)
        .map_err(|b| point.fail(Some(crash_seed), None, b))?;
    if !recovery_crash {
        return Ok(coverage);
    }
    let stride = scenario.recovery_crash_stride().max(1);
    // Vary the first crash point with the seed so strided recoveries cover every operation.
    let mut ops = 1 + crash_seed % stride;
    loop {
        let interrupted = crashed.fork();
        interrupted.crash_after_ops(ops);
        let opened = scenario.recover(&interrupted);
        if !interrupted.is_halted() {
            if let Err(error) = opened {
                let breach = Breach::new(Invariant::RecoveryFailed, error);
                return Err(point.fail(Some(crash_seed), None, breach));
            }
            break;
        }
        let second_seed = derive_seed(crash_seed, &[ops]);
        interrupted.crash(second_seed);
        let coordinates = Some((ops, second_seed));
        let snapshot = scenario
            .check(&interrupted, model)
            .map_err(|b| point.fail(Some(crash_seed), coordinates, b))?;
        if snapshot != reference {
            let breach = Breach::new(
                Invariant::RecoveryIdempotent,
                format!(
                    "after a crash during recovery: {snapshot:?}; uninterrupted: {reference:?}"
                ),
            );
            return Err(point.fail(Some(crash_seed), coordinates, breach));
        }
        coverage.recovery_crash_points += 1;
        ops += stride;
    }
    Ok(coverage)
}

/// Runs the scenario once (crash after `crash_after_ops`, faults `plan`), then checks
/// `config.crash_seeds` power cuts of the end state.
fn run_point<S: Scenario>(
    point: &Point<'_, S>,
    config: ExploreConfig,
) -> Result<(RunEnd, Coverage), Box<ScenarioFailure>> {
    let scenario = point.scenario;
    let fs = SimFs::new(scenario.fs_seed());
    fs.set_fault_plan(point.faults.clone());
    if let Some(k) = point.crash_after_ops {
        fs.crash_after_ops(k);
    }
    let mut model = scenario.new_model();
    let end = scenario
        .run(&fs, &mut model)
        .map_err(|b| point.fail(None, None, b))?;
    let mut coverage = Coverage {
        runs: 1,
        faults_fired: faults_by_error(&fs, point.faults),
        ops_max: fs.ops(),
        ..Coverage::default()
    };
    let label = point.crash_after_ops.unwrap_or(u64::MAX);
    let rules = u64::try_from(point.faults.rules().len()).unwrap_or(0);
    for s in 0..config.crash_seeds {
        let crash_seed = derive_seed(scenario.fs_seed(), &[label, s, rules]);
        let explored = crash_and_check(
            &fs,
            &model,
            crash_seed,
            s < config.recovery_crash_seeds,
            point,
        )?;
        coverage.add(explored);
    }
    Ok((end, coverage))
}

/// Crashes the scenario after operation 1, 2, 3, … until it completes before its crash
/// point; every point gets `config.crash_seeds` power cuts.
pub fn explore_exhaustive<S: Scenario>(
    scenario: &S,
    config: ExploreConfig,
) -> Result<Coverage, Box<ScenarioFailure>> {
    let no_faults = FaultPlan::new();
    let mut coverage = Coverage::default();
    for k in 1.. {
        let point = Point {
            scenario,
            run_seed: None,
            crash_after_ops: Some(k),
            faults: &no_faults,
        };
        let (end, explored) = run_point(&point, config)?;
        coverage.add(explored);
        if end == RunEnd::Completed {
            break;
        }
    }
    Ok(coverage)
}

/// For every kind of mutating operation and every `stride`-th number of it the scenario
/// performs, a run where that operation fails with `error`, then power cuts of the end state.
pub fn explore_faults<S: Scenario>(
    scenario: &S,
    error: FaultError,
    stride: u64,
    config: ExploreConfig,
) -> Result<Coverage, Box<ScenarioFailure>> {
    let dry = SimFs::new(scenario.fs_seed());
    let no_faults = FaultPlan::new();
    let dry_point = Point {
        scenario,
        run_seed: None,
        crash_after_ops: None,
        faults: &no_faults,
    };
    let mut model = scenario.new_model();
    scenario
        .run(&dry, &mut model)
        .map_err(|b| dry_point.fail(None, None, b))?;
    let mut coverage = Coverage::default();
    for kind in OpKind::ALL {
        let mut nth = 1;
        while nth <= dry.op_count(kind) {
            let plan = FaultPlan::new().fail_nth(kind, nth, error);
            let point = Point {
                scenario,
                run_seed: None,
                crash_after_ops: None,
                faults: &plan,
            };
            let (_, explored) = run_point(&point, config)?;
            coverage.add(explored);
            nth += stride.max(1);
        }
    }
    Ok(coverage)
}

/// One random point decided by `seed`: maybe one or two faults (any kind, any error) and a
/// crash point inside the scenario (or none).
pub fn random_point<S: Scenario>(
    scenario: &S,
    seed: u64,
    config: ExploreConfig,
) -> Result<Coverage, Box<ScenarioFailure>> {
    let mut rng = SimRng::new(seed);
    let dry = SimFs::new(scenario.fs_seed());
    let no_faults = FaultPlan::new();
    let dry_point = Point {
        scenario,
        run_seed: Some(seed),
        crash_after_ops: None,
        faults: &no_faults,
    };
    let mut model = scenario.new_model();
    scenario
        .run(&dry, &mut model)
        .map_err(|b| dry_point.fail(None, None, b))?;
    let faulty = rng.chance(1, 2);
    let plan = draw_fault_plan(&mut rng, &dry, faulty);
    let crash_after_ops = draw_crash_point(&mut rng, dry.ops());
    let point = Point {
        scenario,
        run_seed: Some(seed),
        crash_after_ops,
        faults: &plan,
    };
    let (_, coverage) = run_point(&point, config)?;
    Ok(coverage)
}
