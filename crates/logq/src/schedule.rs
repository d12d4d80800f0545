//! Delayed delivery: a message sent with a delivery time is durable at once in the internal
//! queue `<queue>.delayed`, and moved into `<queue>` when it is due.
//!
//! Invariants:
//! - A delayed message is durable when `send_delayed` returns (same log, same group commit).
//! - The schedule is one ordered set of `(deliver_at_ms, id)` in memory — no timer per
//!   message, no scan per receive: receivers look at its first entry only, and sleep until
//!   it is due. It is rebuilt on open from the delayed queue's unacknowledged messages, so a
//!   restart keeps every schedule.
//! - A move is: send to `<queue>` with dedup id `delayed:<queue>:<id>`, then acknowledge in
//!   the delayed queue's internal group. A crash in between leaves the message scheduled;
//!   the repeated send finds the first copy through the dedup index and appends nothing.

use crate::error::{Error, Result};
use crate::message::{reserved, Message, MessageId};
use crate::queue::{Queue, QueueInner};
use logq_offsets::{MessageStatus, StartPosition};
use std::collections::BTreeSet;

/// The consumer group of a delayed queue that moves due messages.
pub(crate) const SCHEDULER_GROUP: &str = "logq-scheduler";

/// Where a delayed message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheduled {
    /// Waiting; deliverable from `deliver_at_ms` (ms since the Unix epoch).
    Waiting {
        /// When it becomes deliverable.
        deliver_at_ms: u64,
    },
    /// Moved into the queue under this id.
    Moved(MessageId),
}

/// The id of a delayed message in its queue's `.delayed` queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScheduledId(pub u64);

/// The schedule of one queue.
pub(crate) struct Schedule {
    delayed: Queue,
    due: BTreeSet<(u64, u64)>,
}

impl Schedule {
    /// Messages waiting.
    pub fn len(&self) -> usize {
        self.due.len()
    }

    /// When the first waiting message is due.
    pub fn next_due_ms(&self) -> Option<u64> {
        self.due.first().map(|(at, _)| *at)
    }
}

fn delayed_name(queue: &QueueInner) -> String {
    format!("{}.delayed", queue.name)
}

fn dedup_id(queue: &QueueInner, id: u64) -> String {
    format!("delayed:{}:{id}", queue.name)
}

/// The deliver-at time in a delayed message's headers.
fn deliver_at_of(headers: &[(String, Vec<u8>)]) -> Option<u64> {
    let (_, value) = headers.iter().find(|(n, _)| n == reserved::DELIVER_AT)?;
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// Loads the schedule (creating the delayed queue when `create`); None when there is none.
fn load(queue: &QueueInner, create: bool) -> Result<Option<Schedule>> {
    let name = delayed_name(queue);
    let store = queue.store()?;
    let exists =
        store.queue_names().contains(&name) || store.dir().join("queues").join(&name).is_dir();
    if !exists && !create {
        return Ok(None);
    }
    let delayed = store.queue_with(&name, queue.options.clone())?;
    delayed.consumer_from(SCHEDULER_GROUP, StartPosition::Earliest)?;
    let inner = &delayed.inner;
    let floor = inner
        .groups
        .min_unacked_offset()
        .unwrap_or(0)
        .max(inner.log.first_offset());
    let mut due = BTreeSet::new();
    for batch in inner.log.batches_from(floor) {
        let batch = batch.map_err(|e| inner.log_error(e))?;
        for record in batch.records() {
            let status = inner
                .groups
                .status(SCHEDULER_GROUP, record.offset)
                .map_err(|e| inner.groups_error(e))?;
            if matches!(
                status,
                MessageStatus::Acked { .. } | MessageStatus::DeadLettered { .. }
            ) {
                continue;
            }
            let at = record
                .headers()
                .find(|(n, _)| *n == reserved::DELIVER_AT)
                .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse().ok())
                .unwrap_or(0);
            due.insert((at, record.offset));
        }
    }
    Ok(Some(Schedule { delayed, due }))
}

/// The schedule slot of a queue: not looked for yet, known absent, or loaded.
#[derive(Default)]
pub(crate) enum Slot {
    /// Not looked for yet.
    #[default]
    Unknown,
    /// The queue has no delayed queue (until a delayed send creates one).
    Absent,
    /// Loaded.
    Present(Box<Schedule>),
}

/// Runs `f` on the schedule, loading it first (creating it when `create`).
fn with_schedule<T>(
    queue: &QueueInner,
    create: bool,
    f: impl FnOnce(&mut Schedule) -> Result<T>,
) -> Result<Option<T>> {
    let mut slot = queue.schedule.lock();
    let load_now = match *slot {
        Slot::Unknown => true,
        Slot::Absent => create,
        Slot::Present(_) => false,
    };
    if load_now {
        *slot = match load(queue, create)? {
            Some(schedule) => Slot::Present(Box::new(schedule)),
            None => Slot::Absent,
        };
    }
    match &mut *slot {
        Slot::Present(schedule) => f(schedule).map(Some),
        _ => Ok(None),
    }
}

/// Sends `message` for delivery at `deliver_at_ms`.
pub(crate) fn send_delayed(
    queue: &QueueInner,
    mut message: Message,
    deliver_at_ms: u64,
) -> Result<ScheduledId> {
    let at = deliver_at_ms.to_string();
    message
        .headers
        .retain(|(n, _)| !n.starts_with(reserved::PREFIX));
    let id = with_schedule(queue, true, |schedule| {
        let ids = schedule.delayed.inner.send_records(
            std::slice::from_ref(&message),
            &[(reserved::DELIVER_AT, at.as_bytes())],
        )?;
        let id = ids.first().map_or(0, |id| id.0);
        schedule.due.insert((deliver_at_ms, id));
        Ok(ScheduledId(id))
    })?
    .ok_or_else(|| Error::InvalidArgument("no schedule".into()))?;
    queue.notify.notify();
    Ok(id)
}

/// Moves every due message into the queue; returns when the next one is due.
pub(crate) fn move_due(queue: &QueueInner, now_ms: u64) -> Result<Option<u64>> {
    if queue.name.ends_with(".delayed") {
        return Ok(None);
    }
    let next = with_schedule(queue, false, |schedule| {
        while let Some(&(at, id)) = schedule.due.first() {
            if at > now_ms {
                break;
            }
            let delayed = &schedule.delayed.inner;
            match delayed.read(MessageId(id)) {
                Ok(original) => {
                    let mut copy = Message::new(original.payload).dedup_id(dedup_id(queue, id));
                    copy.key = original.key;
                    copy.headers = original
                        .headers
                        .into_iter()
                        .filter(|(n, _)| !n.starts_with(reserved::PREFIX))
                        .collect();
                    queue.send_records(std::slice::from_ref(&copy), &[])?;
                }
                Err(Error::NotFound { .. }) => {}
                Err(error) => return Err(error),
            }
            delayed
                .groups
                .ack(SCHEDULER_GROUP, id)
                .map_err(|e| delayed.groups_error(e))?;
            schedule.due.pop_first();
        }
        Ok(schedule.next_due_ms())
    })?;
    Ok(next.flatten())
}

/// Where delayed message `id` is now.
pub(crate) fn status(queue: &QueueInner, id: ScheduledId) -> Result<Scheduled> {
    let found = with_schedule(queue, false, |schedule| {
        if let Some(&(at, _)) = schedule.due.iter().find(|(_, i)| *i == id.0) {
            return Ok(Scheduled::Waiting { deliver_at_ms: at });
        }
        let original = schedule.delayed.inner.read(MessageId(id.0))?;
        let at = deliver_at_of(&original.headers).unwrap_or(0);
        // Moved: the dedup index of the queue knows where to.
        let moved = queue.send_state.lock().dedup_lookup(&dedup_id(queue, id.0));
        Ok(moved.map_or(Scheduled::Waiting { deliver_at_ms: at }, |m| {
            Scheduled::Moved(MessageId(m))
        }))
    })?;
    found.ok_or(Error::NotFound {
        queue: delayed_name(queue),
        id: MessageId(id.0),
    })
}

/// Messages waiting and when the next is due.
pub(crate) fn summary(queue: &QueueInner) -> Result<(u64, Option<u64>)> {
    if queue.name.ends_with(".delayed") {
        return Ok((0, None));
    }
    let summary = with_schedule(queue, false, |schedule| {
        Ok((
            u64::try_from(schedule.len()).unwrap_or(u64::MAX),
            schedule.next_due_ms(),
        ))
    })?;
    Ok(summary.unwrap_or((0, None)))
}
