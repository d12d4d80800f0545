//! The crash explorer run against the real `logq_offsets::OffsetStore` on `SimFs`.
//!
//! - `exhaustive_*`: the machine goes down after operation 1, 2, 3, … of a group workload
//!   until it completes; every crash point gets several power cuts, one of them also a crash
//!   at every operation of the following recovery.
//! - `every_single_fault_*`: every (stride-th) mutating operation fails once with EIO,
//!   ENOSPC or EROFS; the run handles it, then the end state is power-cut and recovered.
//! - `random_runs`: seeded random points (random workload, faults, crash point). A failure
//!   prints its run seed; `LOGQ_SIM_GROUPS_SEED=<seed> cargo test -p logq-sim --test
//!   explore_groups random_runs` replays exactly that run; `LOGQ_SIM_SOAK=<n>` multiplies the
//!   number of runs.
//!
//! Every test prints how many crash points it explored.

use logq_sim::explore::ExploreConfig;
use logq_sim::groups::{
    check_statuses, drain, run_groups, GroupModel, GroupScenario, GroupStep, GroupWorkload,
};
use logq_sim::scenario::{
    explore_exhaustive, explore_faults, random_point, Coverage, Invariant, ScenarioFailure,
};
use logq_sim::{FaultError, SimFs};
use std::time::Instant;

fn report(test: &str, coverage: &Coverage, started: Instant) {
    eprintln!(
        "{test}: explored {} crash points ({} after runs, {} during recovery) in {} runs, \
         faults fired (EIO, ENOSPC, EROFS) {:?}, longest run {} ops, in {:.1?}",
        coverage.total_points(),
        coverage.crash_points,
        coverage.recovery_crash_points,
        coverage.runs,
        coverage.faults_fired,
        coverage.ops_max,
        started.elapsed(),
    );
}

fn unwrap_or_panic(result: Result<Coverage, Box<ScenarioFailure>>) -> Coverage {
    result.unwrap_or_else(|failure| panic!("invariant broken: {failure}"))
}

/// Every kind of step at least once: outcomes, async acks, nacks with delays, lease expiry, dead letters,
/// checkpoints (every 4 records, so journal segments roll and are removed), reopen and kill.
fn handmade() -> GroupScenario {
    use GroupStep::*;
    let steps = vec![
        Ensure { group: 0 },
        Produce { messages: 5 },
        Deliver { group: 0 },
        Deliver { group: 0 },
        AckOutcome { group: 0, pick: 0 },
        Ensure { group: 1 },
        Deliver { group: 1 },
        Nack {
            group: 0,
            pick: 0,
            delay_ms: 50,
        },
        Deliver { group: 0 },
        Release { group: 0, pick: 0 },
        Deliver { group: 0 },
        Ack { group: 0, pick: 0 },
        Deliver { group: 0 },
        AckAsync {
            group: 0,
            pick: 0,
            with_outcome: true,
        },
        Kill,
        Advance { ms: 150 },
        Deliver { group: 1 },
        Deliver { group: 1 },
        Extend { group: 1, pick: 1 },
        Ack { group: 1, pick: 0 },
        Checkpoint,
        Deliver { group: 0 },
        Release { group: 0, pick: 0 },
        Deliver { group: 0 },
        Release { group: 0, pick: 0 },
        DeadLetter { group: 0 },
        Reopen,
        Produce { messages: 2 },
        Deliver { group: 0 },
        AckOutcome { group: 0, pick: 0 },
        Deliver { group: 1 },
        AckAsync {
            group: 1,
            pick: 0,
            with_outcome: false,
        },
    ];
    GroupScenario {
        workload: GroupWorkload {
            seed: 0x6A0,
            lease_ms: 100,
            max_deliveries: 2,
            max_in_flight: 4,
            checkpoint_interval_records: 4,
            journal_segment_bytes_max: 600,
            steps,
        },
    }
}

#[test]
fn exhaustive_handmade_group_workload() {
    let started = Instant::now();
    let coverage = unwrap_or_panic(explore_exhaustive(&handmade(), ExploreConfig::default()));
    assert!(coverage.crash_points >= 400, "{coverage:?}");
    report("exhaustive_handmade_group_workload", &coverage, started);
}

#[test]
fn exhaustive_random_group_workloads() {
    let started = Instant::now();
    let config = ExploreConfig {
        crash_seeds: 3,
        ..ExploreConfig::default()
    };
    let mut coverage = Coverage::default();
    for seed in 0..3 {
        let scenario = GroupScenario {
            workload: GroupWorkload::random(seed, 40),
        };
        coverage.add(unwrap_or_panic(explore_exhaustive(&scenario, config)));
    }
    assert!(coverage.crash_points >= 500, "{coverage:?}");
    report("exhaustive_random_group_workloads", &coverage, started);
}

fn single_faults(test: &str, error: FaultError) {
    let started = Instant::now();
    let config = ExploreConfig {
        crash_seeds: 2,
        recovery_crash_seeds: 0,
        ..ExploreConfig::default()
    };
    let coverage = unwrap_or_panic(explore_faults(&handmade(), error, 1, config));
    assert!(coverage.total_faults() >= 50, "{coverage:?}");
    report(test, &coverage, started);
}

#[test]
fn every_single_fault_eio() {
    single_faults("groups every_single_fault_eio", FaultError::Eio);
}

#[test]
fn every_single_fault_enospc() {
    single_faults("groups every_single_fault_enospc", FaultError::Enospc);
}

#[test]
fn every_single_fault_erofs() {
    single_faults("groups every_single_fault_erofs", FaultError::Erofs);
}

fn parse_seed(text: &str) -> u64 {
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.unwrap_or_else(|_| panic!("seed must be a u64 (decimal or 0x hex), got {text:?}"))
}

fn random_scenario(seed: u64) -> GroupScenario {
    let steps = 20 + usize::try_from(seed % 40).unwrap_or(0);
    GroupScenario {
        workload: GroupWorkload::random(logq_sim::rng::derive_seed(seed, &[1]), steps),
    }
}

#[test]
fn random_runs() {
    let started = Instant::now();
    let config = ExploreConfig::default();
    if let Ok(seed) = std::env::var("LOGQ_SIM_GROUPS_SEED") {
        let seed = parse_seed(&seed);
        let coverage = unwrap_or_panic(random_point(&random_scenario(seed), seed, config));
        report(
            &format!("groups random_runs (replay of {seed:#x})"),
            &coverage,
            started,
        );
        return;
    }
    let soak: u64 = std::env::var("LOGQ_SIM_SOAK")
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(1);
    let runs = 150 * soak.max(1);
    let mut coverage = Coverage::default();
    for index in 0..runs {
        let seed = logq_sim::rng::derive_seed(0x6_5EED, &[index]);
        let scenario = random_scenario(seed);
        let result = random_point(&scenario, seed, config).inspect_err(|_| {
            eprintln!("replay: LOGQ_SIM_GROUPS_SEED={seed:#x} cargo test -p logq-sim --test explore_groups random_runs");
        });
        coverage.add(unwrap_or_panic(result));
    }
    assert!(
        coverage.total_faults() > 0 && coverage.crash_points >= runs,
        "{coverage:?}"
    );
    report(
        &format!("groups random_runs ({runs} runs)"),
        &coverage,
        started,
    );
}

// The checks themselves must be able to fail.

fn completed(scenario: &GroupScenario) -> (SimFs, GroupModel) {
    let fs = SimFs::new(scenario.workload.seed);
    let mut model = GroupModel::default();
    let end = run_groups(&fs, &scenario.workload, &mut model).unwrap();
    assert_eq!(end, logq_sim::explore::RunEnd::Completed);
    (fs, model)
}

#[test]
fn the_checker_reports_an_ack_that_did_not_stick() {
    let scenario = handmade();
    let (fs, mut model) = completed(&scenario);
    // Claim an ack the store never saw: offset 6 of group beta was never acked.
    model.groups[1].acked_ok.insert(6, None);
    fs.crash(1);
    let store =
        logq_offsets::OffsetStore::open(scenario.workload.dir(), scenario.workload.options(&fs))
            .unwrap();
    let breach = check_statuses(&store, &model).unwrap_err();
    assert!(matches!(breach.invariant, Invariant::AcksStick), "{breach}");
}

#[test]
fn the_checker_reports_a_phantom_ack_and_a_lost_redelivery() {
    let scenario = handmade();
    let (fs, model) = completed(&scenario);
    fs.crash(2);
    let store =
        logq_offsets::OffsetStore::open(scenario.workload.dir(), scenario.workload.options(&fs))
            .unwrap();
    let mut forgetful = model.clone();
    forgetful.groups[0].acked_tried.clear();
    forgetful.groups[0].acked_ok.clear();
    let breach = check_statuses(&store, &forgetful).unwrap_err();
    assert!(matches!(breach.invariant, Invariant::Phantom), "{breach}");
    // A snapshot claiming an unsettled offset the store will not redeliver (it is acked).
    let mut snapshot = check_statuses(&store, &model).unwrap();
    let acked = model.groups[0].acked_ok.keys().next().copied().unwrap();
    let index = usize::try_from(acked).unwrap();
    snapshot[0].1[index] = logq_offsets::MessageStatus::Pending { attempts: 0 };
    let mut lax = model.clone();
    lax.groups[0].acked_ok.clear();
    let breach = drain(&store, &lax, &snapshot).unwrap_err();
    assert!(
        matches!(breach.invariant, Invariant::AtLeastOnce),
        "{breach}"
    );
}
