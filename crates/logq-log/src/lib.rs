//! # logq-log: the append-only segment log under logq
//!
//! A log is a directory of segment files holding CRC-framed batches of records at dense
//! `u64` offsets from 0. Appends are durable before they return under the default
//! [`Durability::Always`], and concurrent appenders share one fdatasync (group commit).
//! Reads borrow memory-mapped segments without copying. Opening a directory recovers from any
//! crash: a torn tail is cut, damage that a crash cannot explain is reported as
//! [`Error::Corrupt`] with the file and byte offset.
//!
//! Invariants this crate keeps (and its tests check):
//! 1. An append that returned `Ok` under `Always` is readable, byte for byte, after any crash.
//! 2. A batch is all or nothing: after a crash it is entirely in the log or not at all.
//! 3. Offsets are dense and increasing; each offset holds exactly one record.
//! 4. After a failed write or fsync no append reports success until the log is reopened.
//! 5. Nothing on disk is deleted by recovery unless it provably was never acknowledged.
//!
//! ```
//! use logq_log::{Log, LogOptions, Record};
//! let dir = tempfile::tempdir().unwrap();
//! let log = Log::open(dir.path(), LogOptions::default()).unwrap();
//! log.append(&[Record::new(b"hello").key(b"k1")]).unwrap();
//! for batch in log.batches_from(0) {
//!     for record in batch.unwrap().records() {
//!         assert_eq!(record.payload, b"hello");
//!     }
//! }
//! ```
#![deny(unsafe_code)]

mod durable_future;
pub mod error;
pub mod format;
pub mod fs;
mod iter;
mod log;
mod mmap;
mod options;
pub mod poison_mark;
mod read_cache;
mod recovery;
mod report;
mod segment;
mod sync;
mod writer;

pub use durable_future::WaitDurable;
pub use error::{Error, Result};
pub use format::batch::BatchHeader;
pub use format::record::{OwnedRecord, Record, RecordView};
pub use iter::{Batch, BatchIter};
pub use log::{Log, SegmentInfo};
pub use options::{Durability, LogOptions, RecoveryMode};
pub use report::{Quarantined, RecoveryReport, Truncation};
