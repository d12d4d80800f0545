//! Crash exploration of the queue API, [`logq::Store`], on [`crate::SimFs`] under
//! `Durability::Always`.
//!
//! A [`QueueWorkload`] scripts sends (single and batches, some with dedup ids from a small
//! pool so ids are sent again), receives in two consumer groups with every decision — ack,
//! ack with outcome, nack, drop without a decision, explicit dead letter, hold — dead letters
//! by `max_deliveries`, retention (small segments), group checkpoints and dedup snapshots
//! (small intervals), clean reopens and process kills. [`QueueScenario`] plugs it into the
//! crash-point driver of [`crate::scenario`]; every recovery is checked by [`check_store`]
//! and [`drain_and_resend`].
//!
//! `Store` discovers queues with `std::fs::read_dir`, which does not see the simulated file
//! system, so both queues are opened by name.

mod check;
mod model;
mod runner;
mod workload;

pub use check::{check_store, drain_and_resend, recover_and_check, QueueSnapshot};
pub use model::{dedup_id, QueueGroupTrack, QueueModel, SentMessage};
pub use runner::{open_store, run_queue, Session};
pub use workload::{
    Decision, QueueStep, QueueWorkload, DEAD_LETTER_QUEUE, QUEUE, QUEUE_GROUPS, STORE_DIR,
};

use crate::explore::RunEnd;
use crate::scenario::{Breach, Scenario};
use crate::SimFs;

/// A [`QueueWorkload`] as a [`Scenario`].
#[derive(Clone, Debug)]
pub struct QueueScenario {
    /// The workload.
    pub workload: QueueWorkload,
}

impl Scenario for QueueScenario {
    type Model = QueueModel;
    type Snapshot = QueueSnapshot;

    fn describe(&self) -> String {
        format!(
            "queue workload seed {:#x} ({} steps)",
            self.workload.seed,
            self.workload.steps.len()
        )
    }

    fn fs_seed(&self) -> u64 {
        self.workload.seed
    }

    fn new_model(&self) -> QueueModel {
        QueueModel::default()
    }

    fn run(&self, fs: &SimFs, model: &mut QueueModel) -> Result<RunEnd, Breach> {
        run_queue(fs, &self.workload, model)
    }

    /// A queue's recovery opens two logs, two journals and their checkpoints and snapshots
    /// (dozens of operations): every 5th is crashed, starting at a point varied by seed.
    fn recovery_crash_stride(&self) -> u64 {
        5
    }

    fn recover(&self, fs: &SimFs) -> Result<(), String> {
        open_store(fs, &self.workload)
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn check(&self, fs: &SimFs, model: &QueueModel) -> Result<QueueSnapshot, Breach> {
        recover_and_check(fs, &self.workload, model)
    }
}
