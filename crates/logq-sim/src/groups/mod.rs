//! Crash exploration of the durable consumer-group store, [`logq_offsets::OffsetStore`],
//! on [`crate::SimFs`] under `Durability::Always`.
//!
//! A [`GroupWorkload`] scripts deliveries, acks (with and without outcomes), nacks with
//! delays, releases, lease extensions, lease expiry (a scripted clock), dead letters (small
//! `max_deliveries`), checkpoints (small `checkpoint_interval_records`, so journal segments
//! are also removed), clean reopens and process kills. [`GroupScenario`] plugs it into the
//! crash-point driver of [`crate::scenario`]; every recovery is checked by [`check_statuses`]
//! and [`drain`] (invariants 2, 3, 5, 6, 7, 8 and dead letters), every kill in a run by
//! [`check_attempts`] too.

mod check;
mod model;
mod runner;
mod workload;

pub use check::{check_attempts, check_statuses, drain, snapshot, GroupSnapshot};
pub use model::{GroupModel, GroupTrack};
pub(crate) use runner::data_faults;
pub use runner::run_groups;
pub use workload::{GroupStep, GroupWorkload, GROUPS_DIR, GROUP_NAMES};

use crate::explore::RunEnd;
use crate::scenario::{Breach, Invariant, Scenario};
use crate::SimFs;
use logq_offsets::OffsetStore;

/// A [`GroupWorkload`] as a [`Scenario`].
#[derive(Clone, Debug)]
pub struct GroupScenario {
    /// The workload.
    pub workload: GroupWorkload,
}

impl Scenario for GroupScenario {
    type Model = GroupModel;
    type Snapshot = GroupSnapshot;

    fn describe(&self) -> String {
        format!(
            "group workload seed {:#x} ({} steps)",
            self.workload.seed,
            self.workload.steps.len()
        )
    }

    fn fs_seed(&self) -> u64 {
        self.workload.seed
    }

    fn new_model(&self) -> GroupModel {
        GroupModel::default()
    }

    fn run(&self, fs: &SimFs, model: &mut GroupModel) -> Result<RunEnd, Breach> {
        run_groups(fs, &self.workload, model)
    }

    fn recover(&self, fs: &SimFs) -> Result<(), String> {
        OffsetStore::open(self.workload.dir(), self.workload.options(fs))
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn check(&self, fs: &SimFs, model: &GroupModel) -> Result<GroupSnapshot, Breach> {
        let store = OffsetStore::open(self.workload.dir(), self.workload.options(fs))
            .map_err(|e| Breach::new(Invariant::RecoveryFailed, e.to_string()))?;
        let snapshot = check_statuses(&store, model)?;
        drain(&store, model, &snapshot)?;
        Ok(snapshot)
    }
}
