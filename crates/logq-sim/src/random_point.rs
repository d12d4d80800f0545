//! How a seeded random run picks its faults and its crash point, shared by the log explorer
//! and the scenario driver so both draw them the same way (and a seed replays either).

use crate::fault::{FaultError, FaultPlan, OpKind};
use crate::rng::SimRng;
use crate::SimFs;

/// One or two faults on operations the dry run `dry` performed (none unless `faulty`).
pub(crate) fn draw_fault_plan(rng: &mut SimRng, dry: &SimFs, faulty: bool) -> FaultPlan {
    let mut plan = FaultPlan::new();
    if faulty {
        for _ in 0..rng.range_inclusive(1, 2) {
            let kind = OpKind::ALL[rng.index(OpKind::ALL.len())];
            let count = dry.op_count(kind);
            if count > 0 {
                let error = FaultError::ALL[rng.index(FaultError::ALL.len())];
                plan = plan.fail_nth(kind, rng.range_inclusive(1, count), error);
            }
        }
    }
    plan
}

/// A crash after one of the `total` operations of the dry run (or a little past its end so
/// some runs complete), or no crash one time in eight.
pub(crate) fn draw_crash_point(rng: &mut SimRng, total: u64) -> Option<u64> {
    if rng.chance(1, 8) {
        None
    } else {
        Some(rng.range_inclusive(1, total + total / 8))
    }
}
