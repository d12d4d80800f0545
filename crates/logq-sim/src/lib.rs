//! # logq-sim: crash and fault simulation for logq
//!
//! [`SimFs`] is an in-memory [`logq_log::fs::FileSystem`] that remembers, for every file,
//! which bytes are durable and which are only in the page cache, and for every directory which
//! creations, renames and removals are not yet durable. [`SimFs::crash`] turns that into the
//! state a power cut could leave (writes kept, dropped, torn at 512-byte sectors or turned to
//! garbage, zero-filled tails, any subset of directory operations); [`SimFs::kill`] is a
//! process crash; a [`FaultPlan`] fails chosen operations with `EIO`, `ENOSPC` or `EROFS`;
//! [`SimFs::crash_after_ops`] stops the machine after a chosen operation.
//!
//! [`explore`] drives the real [`logq_log::Log`] over it: it runs workloads, crashes them at
//! every operation (and at random ones, with random faults), recovers, and checks the
//! invariants of ENGINEERING.md §2 against a model of what was acknowledged. [`groups`] and
//! [`queue`] do the same for the consumer-group store (`logq_offsets::OffsetStore`) and the
//! queue API (`logq::Store`) through the crash-point driver of [`scenario`]; [`fuzz`] holds
//! the bodies of the cargo-fuzz targets in `fuzz/`, so `cargo test` replays their corpus.
//!
//! Invariants of the simulation:
//! 1. Everything is a pure function of the seeds given (a multi-threaded workload adds only
//!    the thread interleaving).
//! 2. A byte is durable only after a successful `sync_data` of its file, a name only after a
//!    successful `sync_dir` of its directory; a failed `sync_data` loses the file's pending
//!    bytes for good, and the next `sync_data` still succeeds (as on Linux).
//! 3. Garbage and tears never reach outside the bytes of the pending write they hit: bytes that
//!    were durable stay durable (powersafe overwrite).
#![forbid(unsafe_code)]

pub mod error;
pub mod explore;
pub mod fault;
mod file;
mod fs;
pub mod fuzz;
pub mod groups;
mod image;
mod namespace;
pub mod queue;
mod random_point;
pub mod rng;
pub mod scenario;
mod state;

pub use error::SimError;
pub use fault::{FaultError, FaultPlan, FaultRule, OpKind};
pub use file::{SimFile, SimLock, SimMap};
pub use fs::SimFs;
pub use image::SECTOR_BYTES;
pub use rng::SimRng;
