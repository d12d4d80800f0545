//! The crash explorer run against the real queue API (`logq::Store`) on `SimFs`.
//!
//! - `exhaustive_*`: the machine goes down after operation 1, 2, 3, … of a queue workload
//!   until it completes; every crash point gets several power cuts, one of them also a crash
//!   at every operation of the following recovery.
//! - `every_single_fault_*`: every (stride-th) mutating operation fails once with EIO,
//!   ENOSPC or EROFS; the run handles it, then the end state is power-cut and recovered.
//! - `random_runs`: seeded random points. A failure prints its run seed;
//!   `LOGQ_SIM_QUEUE_SEED=<seed> cargo test -p logq-sim --test explore_queue random_runs`
//!   replays that run (`LOGQ_SIM_TRACE=1` prints every step); `LOGQ_SIM_SOAK=<n>` multiplies
//!   the number of runs.

use logq_sim::explore::{ExploreConfig, RunEnd};
use logq_sim::queue::{
    check_store, open_store, run_queue, Decision, QueueModel, QueueScenario, QueueStep,
    QueueWorkload,
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

/// Every kind of step: dedup resends, a batch, every decision, dead letters by
/// `max_deliveries` (2) and explicit, retention over small segments, kill and reopen.
fn handmade() -> QueueScenario {
    use Decision::*;
    use QueueStep::*;
    let steps = vec![
        Send {
            size: 40,
            dedup: Some(1),
        },
        SendBatch {
            messages: vec![(30, None), (300, Some(2)), (20, None)],
        },
        Send {
            size: 50,
            dedup: Some(1),
        },
        Receive {
            group: 0,
            decision: AckOutcome,
        },
        Receive {
            group: 0,
            decision: Hold,
        },
        Receive {
            group: 1,
            decision: Ack,
        },
        Receive {
            group: 0,
            decision: Nack,
        },
        Receive {
            group: 0,
            decision: Drop,
        },
        Kill,
        Receive {
            group: 0,
            decision: Drop,
        },
        Receive {
            group: 0,
            decision: Ack,
        },
        Receive {
            group: 1,
            decision: DeadLetter,
        },
        Send {
            size: 500,
            dedup: Some(3),
        },
        SendBatch {
            messages: vec![(25, Some(3)), (26, Some(4))],
        },
        Receive {
            group: 1,
            decision: Ack,
        },
        Receive {
            group: 1,
            decision: Ack,
        },
        Receive {
            group: 0,
            decision: Ack,
        },
        Retention,
        Reopen,
        Send {
            size: 60,
            dedup: Some(2),
        },
        Receive {
            group: 0,
            decision: Ack,
        },
        Receive {
            group: 0,
            decision: Ack,
        },
        Receive {
            group: 1,
            decision: AckOutcome,
        },
        Retention,
    ];
    QueueScenario {
        workload: QueueWorkload {
            seed: 0x0E0E,
            segment_bytes_max: 700,
            max_deliveries: 2,
            checkpoint_interval_records: 5,
            snapshot_interval_sends: 3,
            steps,
        },
    }
}

#[test]
fn exhaustive_handmade_queue_workload() {
    let started = Instant::now();
    let config = ExploreConfig {
        crash_seeds: 2,
        ..ExploreConfig::default()
    };
    let coverage = unwrap_or_panic(explore_exhaustive(&handmade(), config));
    assert!(coverage.crash_points >= 400, "{coverage:?}");
    report("exhaustive_handmade_queue_workload", &coverage, started);
}

#[test]
fn exhaustive_random_queue_workloads() {
    let started = Instant::now();
    let config = ExploreConfig {
        crash_seeds: 1,
        ..ExploreConfig::default()
    };
    let mut coverage = Coverage::default();
    for seed in 0..1 {
        let scenario = QueueScenario {
            workload: QueueWorkload::random(seed, 36),
        };
        coverage.add(unwrap_or_panic(explore_exhaustive(&scenario, config)));
    }
    assert!(coverage.crash_points >= 200, "{coverage:?}");
    report("exhaustive_random_queue_workloads", &coverage, started);
}

fn single_faults(test: &str, error: FaultError) {
    let started = Instant::now();
    let config = ExploreConfig {
        crash_seeds: 1,
        recovery_crash_seeds: 0,
        ..ExploreConfig::default()
    };
    let coverage = unwrap_or_panic(explore_faults(&handmade(), error, 7, config));
    assert!(coverage.total_faults() >= 30, "{coverage:?}");
    report(test, &coverage, started);
}

#[test]
fn every_single_fault_eio() {
    single_faults("queue every_single_fault_eio", FaultError::Eio);
}

#[test]
fn every_single_fault_enospc() {
    single_faults("queue every_single_fault_enospc", FaultError::Enospc);
}

#[test]
fn every_single_fault_erofs() {
    single_faults("queue every_single_fault_erofs", FaultError::Erofs);
}

fn parse_seed(text: &str) -> u64 {
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.unwrap_or_else(|_| panic!("seed must be a u64 (decimal or 0x hex), got {text:?}"))
}

fn random_scenario(seed: u64) -> QueueScenario {
    let steps = 15 + usize::try_from(seed % 30).unwrap_or(0);
    QueueScenario {
        workload: QueueWorkload::random(logq_sim::rng::derive_seed(seed, &[2]), steps),
    }
}

#[test]
fn random_runs() {
    let started = Instant::now();
    let config = ExploreConfig::default();
    if let Ok(seed) = std::env::var("LOGQ_SIM_QUEUE_SEED") {
        let seed = parse_seed(&seed);
        let coverage = unwrap_or_panic(random_point(&random_scenario(seed), seed, config));
        report(
            &format!("queue random_runs (replay of {seed:#x})"),
            &coverage,
            started,
        );
        return;
    }
    let soak: u64 = std::env::var("LOGQ_SIM_SOAK")
        .ok()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(1);
    let runs = 50 * soak.max(1);
    let mut coverage = Coverage::default();
    for index in 0..runs {
        let seed = logq_sim::rng::derive_seed(0x0_5EED, &[index]);
        let result = random_point(&random_scenario(seed), seed, config).inspect_err(|_| {
            eprintln!("replay: LOGQ_SIM_QUEUE_SEED={seed:#x} cargo test -p logq-sim --test explore_queue random_runs");
        });
        coverage.add(unwrap_or_panic(result));
    }
    assert!(
        coverage.total_faults() > 0 && coverage.crash_points >= runs,
        "{coverage:?}"
    );
    report(
        &format!("queue random_runs ({runs} runs)"),
        &coverage,
        started,
    );
}

// The checks themselves must be able to fail.

#[test]
fn the_checker_reports_a_lost_send_and_a_lost_ack() {
    let scenario = handmade();
    let fs = SimFs::new(scenario.workload.seed);
    let mut model = QueueModel::default();
    assert_eq!(
        run_queue(&fs, &scenario.workload, &mut model).unwrap(),
        RunEnd::Completed
    );
    fs.crash(5);
    let (store, _, _) = open_store(&fs, &scenario.workload).unwrap();
    assert!(check_store(&store, &model).is_ok());
    let mut lost = model.clone();
    let indices = lost.send(&[(10, None)]);
    let (_, next) = store.queue("q").unwrap().id_range();
    lost.sent(&indices, &[next.0]);
    let breach = check_store(&store, &lost).unwrap_err();
    assert!(
        matches!(breach.invariant, Invariant::AckedSendLost),
        "{breach}"
    );
    let mut unacked = model.clone();
    let pending = (0..next.0).find(|id| {
        !model.groups[0].acked_tried.contains_key(id)
            && !model.groups[0].dead_tried.contains(id)
            && !model.groups[0].attempts.contains_key(id)
    });
    if let Some(id) = pending {
        unacked.groups[0].acked_ok.insert(id, None);
        let breach = check_store(&store, &unacked).unwrap_err();
        assert!(matches!(breach.invariant, Invariant::AcksStick), "{breach}");
    }
    let mut forgetful = model.clone();
    forgetful.groups[0].acked_tried.clear();
    forgetful.groups[0].acked_ok.clear();
    let breach = check_store(&store, &forgetful).unwrap_err();
    assert!(matches!(breach.invariant, Invariant::Phantom), "{breach}");
}
