//! The durable consumer-group store of one queue: [`Groups`] kept in memory, every change
//! journalled in a logq-log log (same framing, group commit and recovery as the messages),
//! and periodic checkpoints that bound the replay on open.
//!
//! Directory layout (`dir` is usually `<queue>/groups`):
//! ```text
//! dir/journal/                               a logq-log directory of encoded GroupEvents
//! dir/checkpoint-NNNNNNNNNNNNNNNNNNNN.ckpt   the newest and the previous checkpoint
//! ```
//!
//! Invariants:
//! - A change is applied in memory and appended to the journal under one lock, so journal
//!   order is apply order and replay rebuilds exactly the live state.
//! - A decision (ack, nack, release, dead letter, ...) returns only when its record is
//!   durable under `Durability::Always`; concurrent decisions share one fdatasync.
//! - A delivery is written to the operating system (not fdatasynced) before it is handed
//!   out: its attempt count survives a process crash, so a message that kills its consumer
//!   every time is dead-lettered after `max_deliveries` instead of looping forever. A power
//!   cut may lose attempts not followed by a durable record; it never loses a durable ack.
//! - A checkpoint at journal offset C is written only after the journal is durable through C
//!   (temp file, fdatasync, rename, directory fsync). Journal segments are removed only below
//!   the *previous* checkpoint and below every retained outcome, so a damaged newest
//!   checkpoint can fall back to the previous one plus the journal, and outcome bytes (which
//!   live in their ack records) stay readable.

mod checkpoint_file;
mod error;
mod options;
mod recover;

pub use checkpoint_file::{CheckpointFile, CHECKPOINT_MAGIC};
pub use error::{StoreError, StoreResult};
pub use options::OffsetOptions;

use crate::{
    GroupError, GroupEvent, GroupId, GroupState, GroupStats, Groups, Lease, OutcomeRef,
    StartPosition, Status,
};
use logq_log::{Durability, Log, Record};
use parking_lot::{Mutex, MutexGuard};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What an offset is in one group, with the outcome bytes of an acknowledged message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageStatus {
    /// Not acknowledged and not leased; delivered `attempts` times so far.
    Pending {
        /// Deliveries so far.
        attempts: u32,
    },
    /// Leased to a consumer.
    InFlight {
        /// Which delivery this is (1 for the first).
        attempt: u32,
        /// The consumer.
        consumer_id: u64,
        /// When the lease ends, ms since the Unix epoch.
        deadline_ms: u64,
    },
    /// Negatively acknowledged; not delivered before `until_ms`.
    Delayed {
        /// Earliest redelivery, ms since the Unix epoch.
        until_ms: u64,
        /// Deliveries so far.
        attempts: u32,
    },
    /// Acknowledged, with the consumer's outcome if it gave one (and it is retained).
    Acked {
        /// The outcome bytes.
        outcome: Option<Vec<u8>>,
    },
    /// Moved to the dead-letter queue.
    DeadLettered {
        /// Why.
        reason: String,
    },
}

/// A message handed to a consumer: its offset and the lease on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// The message offset.
    pub offset: u64,
    /// The lease (consumer, deadline, attempt number).
    pub lease: Lease,
}

/// The durable consumer-group state of one queue. Cheap to clone; `Send + Sync`.
///
/// ```
/// use logq_offsets::{MessageStatus, OffsetOptions, OffsetStore, StartPosition};
/// let dir = tempfile::tempdir().unwrap();
/// let store = OffsetStore::open(dir.path(), OffsetOptions::default()).unwrap();
/// store.ensure_group("payments", StartPosition::Earliest, 0, 3).unwrap();
/// let delivery = store.deliver_next("payments", 7, 1_000, 3).unwrap().unwrap();
/// assert_eq!(delivery.offset, 0);
/// store.ack_with_outcome("payments", 0, b"paid").unwrap();
/// drop(store); // a crash: no close
/// let store = OffsetStore::open(dir.path(), OffsetOptions::default()).unwrap();
/// assert_eq!(
///     store.status("payments", 0).unwrap(),
///     MessageStatus::Acked { outcome: Some(b"paid".to_vec()) }
/// );
/// ```
#[derive(Clone)]
pub struct OffsetStore {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    options: OffsetOptions,
    journal: Log,
    writable: bool,
    state: Mutex<State>,
}

struct State {
    groups: Groups,
    records_since_checkpoint: u64,
    checkpoint_offset: Option<u64>,
    previous_checkpoint_offset: Option<u64>,
}

impl std::fmt::Debug for OffsetStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OffsetStore")
            .field("dir", &self.inner.dir)
            .finish()
    }
}

impl OffsetStore {
    /// Opens (creating if needed) the store in `dir`, recovering from any crash: the newest
    /// valid checkpoint plus the journal after it.
    pub fn open(dir: impl AsRef<Path>, options: OffsetOptions) -> StoreResult<Self> {
        Self::open_inner(dir.as_ref(), options, true)
    }

    /// Opens the store read-only (no lock, no byte changed), for inspection tools.
    pub fn open_read_only(dir: impl AsRef<Path>, options: OffsetOptions) -> StoreResult<Self> {
        Self::open_inner(dir.as_ref(), options, false)
    }

    fn open_inner(dir: &Path, options: OffsetOptions, writable: bool) -> StoreResult<Self> {
        let recovered = recover::recover(dir, &options, writable)?;
        Ok(OffsetStore {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                journal: recovered.journal,
                writable,
                state: Mutex::new(State {
                    groups: recovered.groups,
                    records_since_checkpoint: recovered.records_replayed,
                    checkpoint_offset: recovered.checkpoint_offset,
                    previous_checkpoint_offset: recovered.previous_checkpoint_offset,
                }),
                options,
            }),
        })
    }

    /// The directory of the store.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The journal log (for inspection tools).
    pub fn journal(&self) -> &Log {
        &self.inner.journal
    }

    /// Creates group `name` if it does not exist (durably); `log_start`/`log_end` are the
    /// queue's first retained offset and next offset. Returns its id.
    pub fn ensure_group(
        &self,
        name: &str,
        start: StartPosition,
        log_start: u64,
        log_end: u64,
    ) -> StoreResult<GroupId> {
        let end = {
            let mut state = self.lock_writable()?;
            if let Some(id) = state.groups.id(name) {
                return Ok(id);
            }
            let event = state.groups.create(name, start, log_start, log_end)?;
            let end = self.journal_event(&mut state, &event)?;
            (end, event.group())
        };
        self.finish_decision(end.0)?;
        Ok(end.1)
    }

    /// Names of every group.
    pub fn group_names(&self) -> Vec<String> {
        self.inner
            .state
            .lock()
            .groups
            .iter()
            .map(|(_, name, _)| name.to_owned())
            .collect()
    }

    /// Leases the lowest deliverable offset below `log_end` to `consumer_id` and returns it,
    /// or `None` when nothing is deliverable (or the in-flight cap is reached). The delivery
    /// is written to the operating system before this returns.
    pub fn deliver_next(
        &self,
        group: &str,
        consumer_id: u64,
        now_ms: u64,
        log_end: u64,
    ) -> StoreResult<Option<Delivery>> {
        let delivery = {
            let mut state = self.lock_writable()?;
            let (id, group_state) = group_mut(&mut state.groups, group)?;
            let Some(offset) = group_state.next_deliverable(now_ms, log_end) else {
                return Ok(None);
            };
            let lease = group_state
                .deliver(offset, consumer_id, now_ms)
                .map_err(|source| group_error(group, source))?;
            let event = GroupEvent::Delivered {
                group: id,
                offset,
                consumer_id,
                attempt: lease.attempt,
                deadline_ms: lease.deadline_ms,
            };
            self.journal_event(&mut state, &event)?;
            Delivery { offset, lease }
        };
        self.inner.journal.flush()?;
        self.maybe_checkpoint()?;
        Ok(Some(delivery))
    }

    /// Acknowledges `offset`; `Ok(false)` if it already was. Durable when it returns (under
    /// `Always`).
    pub fn ack(&self, group: &str, offset: u64) -> StoreResult<bool> {
        let staged = self.stage_ack(group, offset, None)?;
        if let Some(end) = staged.journal_end {
            self.finish_decision(end)?;
        }
        Ok(staged.newly)
    }

    /// [`OffsetStore::ack`] without blocking a thread: the ack is applied and journalled
    /// when this is called (the message is not delivered to `group` again by this process),
    /// and the returned future resolves once its record is durable (under `Always`; shared
    /// with every concurrent decision's fdatasync, through the journal's committer thread).
    /// A consumer can therefore go on to its next message while its acks become durable;
    /// an ack whose future has not resolved `Ok` may be lost to a crash, and its message is
    /// then delivered again (at least once). Resolves to `Ok(false)` if `offset` already was
    /// acknowledged; refused acks (unknown group, not leased) are errors of the future.
    ///
    /// ```
    /// use logq_offsets::{OffsetOptions, OffsetStore, StartPosition};
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = OffsetStore::open(dir.path(), OffsetOptions::default()).unwrap();
    /// store.ensure_group("payments", StartPosition::Earliest, 0, 2).unwrap();
    /// let first = store.deliver_next("payments", 7, 1_000, 2).unwrap().unwrap();
    /// let acked = store.ack_async("payments", first.offset, None);
    /// // ... the consumer goes on with the next message meanwhile ...
    /// let second = store.deliver_next("payments", 7, 1_000, 2).unwrap().unwrap();
    /// assert_eq!(second.offset, 1);
    /// assert!(futures::executor::block_on(acked).unwrap());
    /// ```
    pub fn ack_async(
        &self,
        group: &str,
        offset: u64,
        outcome: Option<&[u8]>,
    ) -> impl std::future::Future<Output = StoreResult<bool>> + Send + 'static {
        let staged = self.stage_ack(group, offset, outcome);
        let store = self.clone();
        async move {
            let staged = staged?;
            if let Some(end) = staged.journal_end {
                if store.inner.options.durability == Durability::Always {
                    store.inner.journal.wait_durable_async(end).await?;
                }
                store.maybe_checkpoint()?;
            }
            Ok(staged.newly)
        }
    }

    /// Acknowledges every offset in `offsets` with one durable wait (their records share one
    /// group commit); returns how many were newly acknowledged. Stops at the first offset
    /// that cannot be acknowledged, after journalling the ones before it.
    pub fn ack_many(&self, group: &str, offsets: &[u64]) -> StoreResult<usize> {
        let mut newly = 0;
        let mut end = None;
        let result = (|| {
            let mut state = self.lock_writable()?;
            for &offset in offsets {
                let (id, group_state) = group_mut(&mut state.groups, group)?;
                if group_state
                    .ack(offset)
                    .map_err(|source| group_error(group, source))?
                {
                    let event = GroupEvent::Acked {
                        group: id,
                        offset,
                        outcome: None,
                    };
                    end = Some(self.journal_event(&mut state, &event)?);
                    newly += 1;
                }
            }
            Ok::<(), StoreError>(())
        })();
        if let Some(end) = end {
            self.finish_decision(end)?;
        }
        result.map(|()| newly)
    }

    /// Acknowledges `offset` and stores `outcome` in the same durable journal record (one
    /// fdatasync for both); `Ok(false)` if it was already acknowledged (the outcome is then
    /// not stored).
    pub fn ack_with_outcome(&self, group: &str, offset: u64, outcome: &[u8]) -> StoreResult<bool> {
        let staged = self.stage_ack(group, offset, Some(outcome))?;
        if let Some(end) = staged.journal_end {
            self.finish_decision(end)?;
        }
        Ok(staged.newly)
    }

    /// Applies an ack (with its outcome, if any) in memory and appends its journal record,
    /// not yet waiting for durability.
    fn stage_ack(
        &self,
        group: &str,
        offset: u64,
        outcome: Option<&[u8]>,
    ) -> StoreResult<StagedAck> {
        let mut state = self.lock_writable()?;
        let (id, group_state) = group_mut(&mut state.groups, group)?;
        if !group_state
            .check_ack(offset)
            .map_err(|source| group_error(group, source))?
        {
            return Ok(StagedAck {
                newly: false,
                journal_end: None,
            });
        }
        let event = GroupEvent::Acked {
            group: id,
            offset,
            outcome: outcome.map(<[u8]>::to_vec),
        };
        let end = self.journal_event(&mut state, &event)?;
        let (_, group_state) = group_mut(&mut state.groups, group)?;
        match outcome {
            Some(_) => group_state.ack_with_outcome(offset, OutcomeRef(end - 1)),
            None => group_state.ack(offset),
        }
        .map_err(|source| group_error(group, source))?;
        Ok(StagedAck {
            newly: true,
            journal_end: Some(end),
        })
    }

    /// Acknowledges every offset below `next_offset` (Kafka-style commit); returns how many
    /// offsets were newly acknowledged.
    pub fn ack_through(&self, group: &str, next_offset: u64) -> StoreResult<u64> {
        self.decide(group, |id, state| {
            let newly = state.ack_through(next_offset);
            Ok((
                newly,
                (newly > 0).then_some(GroupEvent::AckedThrough {
                    group: id,
                    next_offset,
                }),
            ))
        })
    }

    /// Releases the lease on `offset` and delays its redelivery by `delay_ms`; returns the
    /// time from which it is deliverable again.
    pub fn nack(&self, group: &str, offset: u64, delay_ms: u64, now_ms: u64) -> StoreResult<u64> {
        self.decide(group, |id, state| {
            let not_before_ms = state.nack(offset, delay_ms, now_ms)?;
            Ok((
                not_before_ms,
                Some(GroupEvent::Nacked {
                    group: id,
                    offset,
                    not_before_ms,
                }),
            ))
        })
    }

    /// Releases the lease on `offset`: deliverable again at once (the attempt stays counted).
    pub fn release(&self, group: &str, offset: u64) -> StoreResult<()> {
        self.decide(group, |id, state| {
            state.release(offset)?;
            Ok(((), Some(GroupEvent::Released { group: id, offset })))
        })
    }

    /// Extends the lease of `consumer_id` on `offset` by `extra_ms`.
    pub fn extend(
        &self,
        group: &str,
        offset: u64,
        consumer_id: u64,
        extra_ms: u64,
        now_ms: u64,
    ) -> StoreResult<Lease> {
        self.decide(group, |id, state| {
            let lease = state.extend(offset, consumer_id, extra_ms, now_ms)?;
            Ok((
                lease,
                Some(GroupEvent::Extended {
                    group: id,
                    offset,
                    deadline_ms: lease.deadline_ms,
                }),
            ))
        })
    }

    /// Records that `offset` was moved to the dead-letter queue.
    pub fn dead_letter(&self, group: &str, offset: u64, reason: &str) -> StoreResult<()> {
        self.decide(group, |id, state| {
            state.dead_letter(offset, reason)?;
            Ok((
                (),
                Some(GroupEvent::DeadLettered {
                    group: id,
                    offset,
                    reason: reason.to_owned(),
                }),
            ))
        })
    }

    /// Releases every lease of every group: for a process that just opened the store, every
    /// lease it finds belongs to a consumer of a process that is gone, so its messages are
    /// redelivered now instead of after `lease_ms`. Attempt counts stay. Returns how many
    /// leases were released.
    ///
    /// The releases are journalled and written to the operating system, but not waited for:
    /// a release lost to a power cut leaves a lease that the next open finds and releases
    /// again, which is the state this call produces. So a restart pays no fdatasync here. A
    /// later durable decision makes them durable too (the journal is a prefix).
    pub fn release_all_leases(&self) -> StoreResult<usize> {
        let mut released = 0;
        {
            let mut state = self.lock_writable()?;
            let leased: Vec<(String, Vec<u64>)> = state
                .groups
                .iter()
                .map(|(_, name, group_state)| (name.to_owned(), group_state.leased_offsets()))
                .collect();
            for (name, offsets) in leased {
                for offset in offsets {
                    let (id, group_state) = group_mut(&mut state.groups, &name)?;
                    group_state
                        .release(offset)
                        .map_err(|source| group_error(&name, source))?;
                    let event = GroupEvent::Released { group: id, offset };
                    self.journal_event(&mut state, &event)?;
                    released += 1;
                }
            }
        }
        if released > 0 {
            self.inner.journal.flush()?;
            self.maybe_checkpoint()?;
        }
        Ok(released)
    }

    /// Drops the outcome locators of offsets below `next_offset` (when retention removed
    /// those messages), so their journal segments can be removed.
    pub fn forget_outcomes_below(&self, group: &str, next_offset: u64) -> StoreResult<usize> {
        self.decide(group, |id, state| {
            let dropped = state.forget_outcomes_below(next_offset);
            Ok((
                dropped,
                (dropped > 0).then_some(GroupEvent::OutcomesForgotten {
                    group: id,
                    next_offset,
                }),
            ))
        })
    }

    /// Offsets that used all their deliveries and wait to be dead-lettered.
    pub fn dead_letter_candidates(&self, group: &str, now_ms: u64) -> StoreResult<Vec<u64>> {
        let mut state = self.inner.state.lock();
        let (_, group_state) = group_mut(&mut state.groups, group)?;
        Ok(group_state.dead_letter_candidates(now_ms).collect())
    }

    /// The status of `offset` in `group`, with the outcome bytes read from the journal.
    ///
    /// Under `Durability::Always` it reports only durable decisions: it waits until every
    /// journal record applied before the read is durable (a shared group commit, no extra
    /// fdatasync when none is pending), and fails if that record can no longer become
    /// durable (after an I/O error) — a producer never sees an ack a power cut takes back.
    pub fn status(&self, group: &str, offset: u64) -> StoreResult<MessageStatus> {
        let (status, applied_end) = {
            let state = self.inner.state.lock();
            let id = state.groups.id(group).ok_or_else(|| unknown(group))?;
            let status = state
                .groups
                .get_by_id(id)
                .map(|g| g.status(offset))
                .ok_or_else(|| unknown(group))?;
            (status, self.inner.journal.appended_offset())
        };
        if self.inner.writable && self.inner.options.durability == Durability::Always {
            self.inner.journal.wait_durable(applied_end)?;
        }
        Ok(match status {
            Status::Pending { attempts } => MessageStatus::Pending { attempts },
            Status::InFlight {
                attempt,
                consumer_id,
                deadline_ms,
            } => MessageStatus::InFlight {
                attempt,
                consumer_id,
                deadline_ms,
            },
            Status::Delayed { until_ms, attempts } => MessageStatus::Delayed { until_ms, attempts },
            Status::Acked { outcome } => MessageStatus::Acked {
                outcome: match outcome {
                    Some(reference) => Some(self.read_outcome(reference)?),
                    None => None,
                },
            },
            Status::DeadLettered { reason } => MessageStatus::DeadLettered { reason },
        })
    }

    /// The outcome stored with the acknowledgement of `offset`, if any.
    pub fn outcome(&self, group: &str, offset: u64) -> StoreResult<Option<Vec<u8>>> {
        match self.status(group, offset)? {
            MessageStatus::Acked { outcome } => Ok(outcome),
            _ => Ok(None),
        }
    }

    /// Counters of `group` at `now_ms`.
    pub fn stats(&self, group: &str, now_ms: u64) -> StoreResult<GroupStats> {
        let mut state = self.inner.state.lock();
        let (_, group_state) = group_mut(&mut state.groups, group)?;
        Ok(group_state.stats(now_ms))
    }

    /// When the next lease of `group` expires or delay ends, if any.
    pub fn next_timer_ms(&self, group: &str) -> StoreResult<Option<u64>> {
        let state = self.inner.state.lock();
        let id = state.groups.id(group).ok_or_else(|| unknown(group))?;
        Ok(state
            .groups
            .get_by_id(id)
            .and_then(GroupState::next_timer_ms))
    }

    /// The lowest offset any group still needs (None without groups): retention may delete
    /// messages below it.
    pub fn min_unacked_offset(&self) -> Option<u64> {
        self.inner.state.lock().groups.min_unacked_offset()
    }

    /// Makes every change so far durable.
    pub fn sync(&self) -> StoreResult<()> {
        if self.inner.writable {
            self.inner.journal.sync()?;
        }
        Ok(())
    }

    /// Writes a checkpoint now (see the module docs for the protocol).
    pub fn checkpoint(&self) -> StoreResult<()> {
        let mut state = self.lock_writable()?;
        recover::write_checkpoint(
            &self.inner.dir,
            &self.inner.options,
            &self.inner.journal,
            &mut state_parts(&mut state),
        )
    }

    /// Checkpoints, syncs and closes the store; the journal's lock is released at once.
    pub fn close(&self) -> StoreResult<()> {
        if self.inner.writable {
            self.checkpoint()?;
            self.inner.journal.close()?;
        }
        Ok(())
    }

    fn lock_writable(&self) -> StoreResult<MutexGuard<'_, State>> {
        if !self.inner.writable {
            return Err(StoreError::ReadOnly);
        }
        Ok(self.inner.state.lock())
    }

    /// Applies a decision to one group and journals its event; durable on return.
    fn decide<T>(
        &self,
        group: &str,
        decision: impl FnOnce(GroupId, &mut GroupState) -> Result<(T, Option<GroupEvent>), GroupError>,
    ) -> StoreResult<T> {
        let (value, end) = {
            let mut state = self.lock_writable()?;
            let (id, group_state) = group_mut(&mut state.groups, group)?;
            let (value, event) =
                decision(id, group_state).map_err(|source| group_error(group, source))?;
            let end = match event {
                Some(event) => Some(self.journal_event(&mut state, &event)?),
                None => None,
            };
            (value, end)
        };
        if let Some(end) = end {
            self.finish_decision(end)?;
        }
        Ok(value)
    }

    /// Waits for durability (under `Always`) and checkpoints when one is due.
    fn finish_decision(&self, end: u64) -> StoreResult<()> {
        if self.inner.options.durability == Durability::Always {
            self.inner.journal.wait_durable(end)?;
        }
        self.maybe_checkpoint()
    }

    fn journal_event(&self, state: &mut State, event: &GroupEvent) -> StoreResult<u64> {
        let bytes = event.to_bytes()?;
        let range = self.inner.journal.append_deferred(&[Record::new(&bytes)])?;
        state.records_since_checkpoint += 1;
        Ok(range.end)
    }

    fn maybe_checkpoint(&self) -> StoreResult<()> {
        let interval = self.inner.options.checkpoint_interval_records;
        let mut state = self.inner.state.lock();
        if state.records_since_checkpoint < interval {
            return Ok(());
        }
        recover::write_checkpoint(
            &self.inner.dir,
            &self.inner.options,
            &self.inner.journal,
            &mut state_parts(&mut state),
        )
    }

    fn read_outcome(&self, reference: OutcomeRef) -> StoreResult<Vec<u8>> {
        let journal = &self.inner.journal;
        if self.inner.writable && reference.0 >= journal.next_offset() {
            journal.wait_durable(reference.0 + 1)?;
        }
        let record = journal.read(reference.0)?;
        match GroupEvent::decode(&record.payload) {
            Ok(GroupEvent::Acked {
                outcome: Some(outcome),
                ..
            }) => Ok(outcome),
            Ok(other) => Err(StoreError::Corrupt {
                file: journal.dir().to_path_buf(),
                offset: reference.0,
                reason: format!(
                    "outcome record holds {other:?}, not an acknowledgement with an outcome"
                ),
            }),
            Err(error) => Err(StoreError::Corrupt {
                file: journal.dir().to_path_buf(),
                offset: reference.0,
                reason: error.to_string(),
            }),
        }
    }
}

/// An ack applied in memory and appended to the journal, not yet waited for.
struct StagedAck {
    /// False when the offset already was acknowledged (nothing was journalled).
    newly: bool,
    /// The journal offset its record must be durable through.
    journal_end: Option<u64>,
}

/// The parts of the state a checkpoint reads and updates.
pub(crate) struct StateParts<'a> {
    pub groups: &'a Groups,
    pub records_since_checkpoint: &'a mut u64,
    pub checkpoint_offset: &'a mut Option<u64>,
    pub previous_checkpoint_offset: &'a mut Option<u64>,
}

fn state_parts(state: &mut State) -> StateParts<'_> {
    StateParts {
        groups: &state.groups,
        records_since_checkpoint: &mut state.records_since_checkpoint,
        checkpoint_offset: &mut state.checkpoint_offset,
        previous_checkpoint_offset: &mut state.previous_checkpoint_offset,
    }
}

fn unknown(group: &str) -> StoreError {
    StoreError::UnknownGroup {
        name: group.to_owned(),
    }
}

fn group_error(group: &str, source: GroupError) -> StoreError {
    StoreError::Group {
        group: group.to_owned(),
        source,
    }
}

fn group_mut<'a>(groups: &'a mut Groups, name: &str) -> StoreResult<(GroupId, &'a mut GroupState)> {
    let id = groups.id(name).ok_or_else(|| unknown(name))?;
    let state = groups.get_by_id_mut(id).ok_or_else(|| unknown(name))?;
    Ok((id, state))
}
