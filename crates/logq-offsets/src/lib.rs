//! Consumer-group state for logq: which offsets each group acknowledged, which are leased
//! to consumers and until when, how often each was delivered, which are delayed or
//! dead-lettered — and the journal events and checkpoints that make it durable.
//!
//! The group state is pure and deterministic: no I/O, no clock. Time is always an argument
//! (`now_ms`), so the same calls give the same state. The persistence layer journals one
//! [`GroupEvent`] per change (see the table on [`GroupEvent`]), replays them
//! with [`GroupState::apply`] / [`Groups::apply`], and writes [`Checkpoint`]s.
//!
//! Modules, one concept each: [`RangeSet`] (settled offsets as a floor plus gaps),
//! [`GroupState`] (one group), [`Groups`] (all groups of a queue), [`GroupEvent`] and
//! [`Checkpoint`] (the binary encodings, specified in `docs/FORMAT.md` §5), and
//! [`OffsetStore`], the durable store: a journal on logq-log plus checkpoint files.

#![forbid(unsafe_code)]

mod apply;
mod checkpoint;
mod codec;
mod delivery;
mod due;
mod error;
mod event;
mod group_state;
mod groups;
mod invariants;
mod lease;
mod range_set;
mod replay;
mod status;
mod store;

pub use checkpoint::{Checkpoint, CHECKPOINT_VERSION};
pub use error::{DecodeError, EncodeError, GroupError, GroupsError};
pub use event::{GroupEvent, GROUP_NAME_BYTES_MAX, OUTCOME_BYTES_MAX};
pub use group_state::{GroupState, REASON_BYTES_MAX};
pub use groups::{Groups, StartPosition};
pub use lease::{GroupConfig, GroupId, Lease, OutcomeRef};
pub use range_set::RangeSet;
pub use replay::Replay;
pub use status::{GroupStats, Status};
pub use store::{
    CheckpointFile, Delivery, MessageStatus, OffsetOptions, OffsetStore, StoreError, StoreResult,
    CHECKPOINT_MAGIC,
};

/// Whether a length in bytes exceeds a `u32` maximum.
pub(crate) fn exceeds(len: usize, max: u32) -> bool {
    u32::try_from(len).map_or(true, |len| len > max)
}
