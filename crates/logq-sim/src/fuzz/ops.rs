//! The "random API operations with crashes" target (after redb's `fuzz_redb`): the input
//! decides a log workload (appends, syncs, retention, reopens), one injected fault, a crash
//! point and a power cut; the recovered log is checked against the model of what was
//! acknowledged. A broken invariant is returned as `Err` (the fuzz target panics on it).

use crate::explore::{check_log, run, Model, Step, Workload};
use crate::fault::{FaultError, FaultPlan, OpKind};
use crate::SimFs;
use arbitrary::Unstructured;
use logq_log::Log;
use parking_lot::Mutex;

/// Steps at most per input.
const STEPS_MAX: usize = 48;

fn step(u: &mut Unstructured<'_>) -> arbitrary::Result<Step> {
    Ok(match u.int_in_range(0u8..=9)? {
        0..=5 => {
            let records = u.int_in_range(1usize..=4)?;
            let mut sizes = Vec::with_capacity(records);
            for _ in 0..records {
                sizes.push(u.int_in_range(1usize..=900)?);
            }
            Step::Append { sizes }
        }
        6 => Step::Sync,
        7 | 8 => Step::Retain {
            keep: u.int_in_range(0u64..=30)?,
        },
        _ => Step::Reopen,
    })
}

fn workload(u: &mut Unstructured<'_>) -> arbitrary::Result<Workload> {
    let seed = u.arbitrary::<u64>()?;
    let segment_bytes_max = [512, 700, 1024, 4096][u.choose_index(4)?];
    let index_interval_bytes = [64, 200, 1000][u.choose_index(3)?];
    let preallocate_bytes = [0, 300, 4096][u.choose_index(3)?];
    let count = u.int_in_range(1..=STEPS_MAX)?;
    let mut steps = Vec::with_capacity(count);
    for _ in 0..count {
        steps.push(step(u)?);
    }
    Ok(Workload {
        seed,
        segment_bytes_max,
        index_interval_bytes,
        preallocate_bytes,
        threads: 1,
        durability: logq_log::Durability::Always,
        write_buffer_bytes: 0,
        steps,
    })
}

/// Runs the input's workload, fault, crash point and power cut; `Err` on a broken invariant.
pub fn api_ops(data: &[u8]) -> Result<(), String> {
    let mut u = Unstructured::new(data);
    let Ok(workload) = workload(&mut u) else {
        return Ok(());
    };
    let fault = u.arbitrary::<u8>().unwrap_or(0);
    let fault_nth = u.int_in_range(1u64..=64).unwrap_or(1);
    let crash_after = u.arbitrary::<u16>().unwrap_or(0);
    let crash_seed = u.arbitrary::<u64>().unwrap_or(0);
    let fs = SimFs::new(workload.seed);
    if fault % 2 == 1 {
        let kind = OpKind::ALL[usize::from(fault / 2) % OpKind::ALL.len()];
        let error = FaultError::ALL[usize::from(fault / 16) % FaultError::ALL.len()];
        fs.set_fault_plan(FaultPlan::new().fail_nth(kind, fault_nth, error));
    }
    if crash_after > 0 {
        fs.crash_after_ops(u64::from(crash_after));
    }
    let model = Mutex::new(Model::new(true));
    let describe = |what: String| {
        format!("{what} (workload {workload:?}, fault byte {fault}, nth {fault_nth}, crash after {crash_after}, crash seed {crash_seed:#x})")
    };
    run(&fs, &workload, &model).map_err(|v| describe(format!("while running: {v}")))?;
    fs.crash(crash_seed);
    let log = Log::open(workload.dir(), workload.options(&fs))
        .map_err(|e| describe(format!("recovery failed: {e}")))?;
    check_log(&log, &model.lock()).map_err(|v| describe(format!("after recovery: {v}")))?;
    Ok(())
}
