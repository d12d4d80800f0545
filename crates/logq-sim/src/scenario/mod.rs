//! A crash-point driver shared by the consumer-group and queue explorers.
//!
//! A [`Scenario`] is a deterministic workload over the real engine on a [`SimFs`], a model of
//! what it was told, and a recovery check. The driver runs it with the machine going down
//! after operation `k` (every `k` until the workload completes, or a random one), optionally
//! with injected faults, then power-cuts the end state with several crash seeds, recovers and
//! checks; for some crash seeds it also crashes *during* the recovery at each of its
//! operations and checks the second recovery finds the same state (invariant 7).
//!
//! Invariants of the driver:
//! - every crash point is a pure function of (scenario, `k`, fault plan, crash seed), so a
//!   failure names everything needed to replay it;
//! - a recovery is checked against the model of the very run that produced the crash image.

mod breach;
mod decisions;
mod driver;

pub use breach::{ensure, Breach, Invariant};
pub use decisions::{check_decisions, Decisions};
pub use driver::{
    explore_exhaustive, explore_faults, random_point, Coverage, Scenario, ScenarioFailure,
};
