//! The crash explorer: drives the real [`logq_log::Log`] over a [`crate::SimFs`] through
//! workloads, crash points, power cuts and injected faults, and checks every recovered log
//! against a [`Model`] of what was sent and acknowledged.
//!
//! ```
//! use logq_sim::explore::{explore_exhaustive, ExploreConfig, Step, Workload};
//! let workload = Workload {
//!     seed: 1,
//!     segment_bytes_max: 512,
//!     index_interval_bytes: 64,
//!     preallocate_bytes: 0,
//!     threads: 1,
//!     durability: logq_log::Durability::Always,
//!     write_buffer_bytes: 0,
//!     steps: vec![Step::Append { sizes: vec![40, 300] }, Step::Reopen, Step::Append { sizes: vec![8] }],
//! };
//! let stats = explore_exhaustive(&workload, ExploreConfig::default()).unwrap();
//! assert!(stats.crash_points >= 4);
//! ```

mod check;
mod explorer;
mod known_bugs;
mod model;
mod runner;
mod violation;
mod workload;

pub use check::{check_log, LogState};
pub use explorer::{explore_exhaustive, explore_faults, random_run, ExploreConfig, Failure, Stats};
pub use known_bugs::{known_bug, known_violation, KnownBug};
pub use model::{payload, Model, SentBatch};
pub use runner::{open_log, run, RunEnd};
pub use violation::Violation;
pub use workload::{Step, Workload, LOG_DIR};
