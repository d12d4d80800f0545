//! Checking a recovered [`logq::Store`] against a [`QueueModel`].
//!
//! [`check_store`] (no change to the store):
//! - both queues read densely from `first` to `next` (invariant 4); every payload was sent
//!   and appears once (invariants 2, 3); every send that returned `Ok` is at its id, byte for
//!   byte, or was removed by retention after every group settled it (invariant 1);
//! - each dedup id appears at most once, at the id its first `Ok` send returned (dedup);
//! - per group: every `Ok` ack is `Acked` with its outcome (invariant 5), every `Ok` dead
//!   letter is `DeadLettered`; nothing is acked or dead-lettered that was not tried (or, for
//!   dead letters, that did not use its deliveries) (invariant 3);
//! - dead-letter queue: every copy names a sent message, carries its payload, and appears once
//!   per (group, id); every `DeadLettered` message has its copy (dead letters).
//!
//! [`drain_and_resend`] (changes the store): receives and acks everything deliverable in every
//! group — no `Ok`-acked message comes back, every pending one does (invariants 5 and 6) —
//! then sends every dedup id again and expects the first id back.

use super::model::QueueModel;
use super::runner::open_store;
use super::workload::{QueueWorkload, DEAD_LETTER_QUEUE, QUEUE, QUEUE_GROUPS};
use crate::scenario::{check_decisions, ensure, Breach, Decisions, Invariant};
use crate::SimFs;
use logq::{reserved, Message, MessageId, Queue, ReceivedMessage, Status, Store};
use std::collections::{BTreeMap, BTreeSet};

/// What recovery found: per queue `(first, next, payloads)`, per group the statuses of the
/// queue's messages (None: the group does not exist).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSnapshot {
    /// `(name, first, next, payloads)` of the queue and its dead-letter queue.
    pub queues: Vec<(String, u64, u64, Vec<Vec<u8>>)>,
    /// Statuses of `first..next` per group.
    pub statuses: Vec<Option<Vec<Status>>>,
}

fn unexpected(during: &str, error: impl std::fmt::Display) -> Breach {
    Breach::new(
        Invariant::UnexpectedError,
        format!("{during} after recovery: {error}"),
    )
}

/// Reads every message of `queue`, checking density.
fn read_queue(queue: &Queue) -> Result<(u64, u64, Vec<ReceivedMessage>), Breach> {
    let (first, next) = queue.id_range();
    let count = usize::try_from(next.0 - first.0).unwrap_or(usize::MAX);
    let messages = queue
        .peek_range(first, count)
        .map_err(|e| unexpected("peek_range", e))?;
    for (expected, message) in (first.0..).zip(&messages) {
        ensure(message.id.0 == expected, Invariant::Order, || {
            format!(
                "queue {}: id {} where {expected} was expected",
                queue.name(),
                message.id.0
            )
        })?;
    }
    ensure(
        u64::try_from(messages.len()).ok() == Some(next.0 - first.0),
        Invariant::Order,
        || {
            format!(
                "queue {}: {} messages read in [{}, {})",
                queue.name(),
                messages.len(),
                first.0,
                next.0
            )
        },
    )?;
    Ok((first.0, next.0, messages))
}

/// Checks the recovered store (see the module docs); returns its snapshot.
pub fn check_store(store: &Store, model: &QueueModel) -> Result<QueueSnapshot, Breach> {
    let queue = store.queue(QUEUE).map_err(|e| unexpected("queue", e))?;
    let dead_letters = store
        .queue(DEAD_LETTER_QUEUE)
        .map_err(|e| unexpected("queue", e))?;
    let (first, next, messages) = read_queue(&queue)?;
    check_messages(model, first, next, &messages)?;
    let statuses = check_groups(&queue, model, first, next)?;
    let (dfirst, dnext, copies) = read_queue(&dead_letters)?;
    check_dead_letters(model, &messages, first, &copies, &statuses)?;
    let payloads = |m: &[ReceivedMessage]| m.iter().map(|r| r.payload.clone()).collect();
    Ok(QueueSnapshot {
        queues: vec![
            (QUEUE.to_owned(), first, next, payloads(&messages)),
            (
                DEAD_LETTER_QUEUE.to_owned(),
                dfirst,
                dnext,
                payloads(&copies),
            ),
        ],
        statuses,
    })
}

fn check_messages(
    model: &QueueModel,
    first: u64,
    next: u64,
    messages: &[ReceivedMessage],
) -> Result<(), Breach> {
    let mut seen = BTreeSet::new();
    let mut dedup_at: BTreeMap<&str, u64> = BTreeMap::new();
    for message in messages {
        let id = message.id.0;
        let Some(&index) = model.by_payload.get(&message.payload) else {
            return Err(Breach::new(
                Invariant::Phantom,
                format!("message {id} was never sent"),
            ));
        };
        ensure(seen.insert(index), Invariant::Phantom, || {
            format!("message {index} found twice (again at id {id})")
        })?;
        let sent = &model.messages[index];
        ensure(sent.id.is_none_or(|s| s == id), Invariant::Order, || {
            format!("message {index} sent as id {:?} found at id {id}", sent.id)
        })?;
        ensure(
            message.dedup_id() == sent.dedup.as_deref(),
            Invariant::Corruption,
            || {
                format!(
                    "message {id}: dedup id {:?}, sent with {:?}",
                    message.dedup_id(),
                    sent.dedup
                )
            },
        )?;
        if let Some(dedup) = message.dedup_id() {
            let earlier = dedup_at.insert(dedup, id);
            ensure(earlier.is_none(), Invariant::Dedup, || {
                format!("dedup id {dedup} appended twice: ids {earlier:?} and {id}")
            })?;
        }
    }
    // Sends that returned Ok.
    for (index, sent) in model.messages.iter().enumerate() {
        let Some(id) = sent.id else { continue };
        if id < first {
            continue; // removed by retention (checked per group below)
        }
        let found = usize::try_from(id - first)
            .ok()
            .and_then(|at| messages.get(at));
        let Some(found) = found.filter(|_| id < next) else {
            return Err(Breach::new(
                Invariant::AckedSendLost,
                format!("message {index} acknowledged at id {id} is gone; the queue holds [{first}, {next})"),
            ));
        };
        let same = found.payload == sent.payload
            || (sent.dedup.is_some() && found.dedup_id() == sent.dedup.as_deref());
        ensure(same, Invariant::AckedSendLost, || {
            format!("message {index} acknowledged at id {id}: another payload is there")
        })?;
    }
    for (dedup, &id) in &model.dedup_ok {
        if id >= first {
            let at = dedup_at.get(dedup.as_str()).copied();
            ensure(at == Some(id), Invariant::Dedup, || {
                format!("dedup id {dedup} acknowledged at id {id} is found at {at:?}")
            })?;
        }
    }
    Ok(())
}

fn check_groups(
    queue: &Queue,
    model: &QueueModel,
    first: u64,
    next: u64,
) -> Result<Vec<Option<Vec<Status>>>, Breach> {
    let mut all = Vec::new();
    for (slot, track) in model.groups.iter().enumerate() {
        let name = QUEUE_GROUPS[slot];
        let mut statuses = Vec::new();
        let mut exists = true;
        for id in first..next {
            match queue.status(MessageId(id), name) {
                Ok(status) => statuses.push(status),
                Err(logq::Error::Groups {
                    source: logq_offsets::StoreError::UnknownGroup { .. },
                    ..
                }) => {
                    exists = false;
                    break;
                }
                Err(e) => return Err(unexpected("status", e)),
            }
        }
        if !exists {
            ensure(!track.created_ok, Invariant::AcksStick, || {
                format!("group {name} was created and is gone")
            })?;
            all.push(None);
            continue;
        }
        for (id, status) in (first..).zip(&statuses) {
            let decisions = Decisions {
                acked_ok: &track.acked_ok,
                acked_tried: &track.acked_tried,
                dead_ok: &track.dead_ok,
            };
            check_decisions(name, id, status, decisions)?;
            if let Status::DeadLettered { .. } = status {
                // Moved by `max_deliveries` (at least 2 in every workload), possibly
                // with attempts handed out by receives that then failed.
                let used = track.attempts.get(&id).copied().unwrap_or(0);
                let possible = used >= 2 || track.failed_receives > 0;
                ensure(
                    track.dead_tried.contains(&id) || possible,
                    Invariant::Phantom,
                    || {
                        format!("group {name}: message {id} dead-lettered after {used} deliveries and no dead letter tried")
                    },
                )?;
            }
        }
        all.push(Some(statuses));
    }
    // Retention may only have removed what every group that existed then settled.
    for (index, sent) in model.messages.iter().enumerate() {
        let Some(id) = sent.id.filter(|id| *id < first) else {
            continue;
        };
        for (slot, track) in model.groups.iter().enumerate() {
            let settled = track.acked_tried.contains_key(&id)
                || track.dead_tried.contains(&id)
                || track.attempts.contains_key(&id);
            let member = track.start_floor.is_some_and(|floor| id >= floor);
            ensure(settled || !member, Invariant::AckedSendLost, || {
                format!(
                    "message {index} (id {id}) removed by retention before group {} consumed it",
                    QUEUE_GROUPS[slot]
                )
            })?;
        }
    }
    Ok(all)
}

fn header_u64(message: &ReceivedMessage, name: &str) -> Option<u64> {
    std::str::from_utf8(message.header(name)?)
        .ok()?
        .parse()
        .ok()
}

fn check_dead_letters(
    model: &QueueModel,
    messages: &[ReceivedMessage],
    first: u64,
    copies: &[ReceivedMessage],
    statuses: &[Option<Vec<Status>>],
) -> Result<(), Breach> {
    let mut found: BTreeMap<(String, u64), u64> = BTreeMap::new();
    for copy in copies {
        let original = header_u64(copy, reserved::ORIGINAL_ID);
        let group = copy
            .header(reserved::ORIGINAL_GROUP)
            .and_then(|g| std::str::from_utf8(g).ok());
        let (Some(original), Some(group)) = (original, group) else {
            return Err(Breach::new(
                Invariant::DeadLetter,
                format!("dead letter {} lacks its origin headers", copy.id.0),
            ));
        };
        let index = model.by_payload.get(&copy.payload);
        ensure(index.is_some(), Invariant::Phantom, || {
            format!("dead letter {} carries a payload never sent", copy.id.0)
        })?;
        if let Some(message) = usize::try_from(original.wrapping_sub(first))
            .ok()
            .and_then(|at| messages.get(at))
        {
            ensure(
                message.payload == copy.payload,
                Invariant::Corruption,
                || {
                    format!(
                        "dead letter {} of message {original} carries another payload",
                        copy.id.0
                    )
                },
            )?;
        }
        let earlier = found.insert((group.to_owned(), original), copy.id.0);
        ensure(earlier.is_none(), Invariant::DeadLetter, || {
            format!("message {original} of group {group} is in the dead-letter queue twice ({earlier:?} and {})", copy.id.0)
        })?;
    }
    for (slot, statuses) in statuses.iter().enumerate() {
        let name = QUEUE_GROUPS[slot];
        for (id, status) in (first..).zip(statuses.iter().flatten()) {
            if matches!(status, Status::DeadLettered { .. }) {
                ensure(
                    found.contains_key(&(name.to_owned(), id)),
                    Invariant::DeadLetter,
                    || {
                        format!("group {name}: message {id} is dead-lettered but not in the dead-letter queue")
                    },
                )?;
            }
        }
    }
    Ok(())
}

/// Drains every group and resends every dedup id (see the module docs).
pub fn drain_and_resend(
    store: &Store,
    model: &QueueModel,
    snapshot: &QueueSnapshot,
) -> Result<(), Breach> {
    let queue = store.queue(QUEUE).map_err(|e| unexpected("queue", e))?;
    let (first, next) = (snapshot.queues[0].1, snapshot.queues[0].2);
    for (slot, statuses) in snapshot.statuses.iter().enumerate() {
        let Some(statuses) = statuses else { continue };
        let name = QUEUE_GROUPS[slot];
        let track = &model.groups[slot];
        let consumer = queue
            .consumer(name)
            .map_err(|e| unexpected("consumer", e))?;
        let mut delivered = BTreeSet::new();
        for _ in first..next + 2 {
            let Some(delivery) = consumer
                .try_receive()
                .map_err(|e| unexpected("receive", e))?
            else {
                break;
            };
            let id = delivery.id().0;
            ensure(
                !track.acked_ok.contains_key(&id),
                Invariant::AcksStick,
                || {
                    format!("group {name}: message {id} delivered after recovery though its ack returned Ok")
                },
            )?;
            let expected = usize::try_from(id.wrapping_sub(first))
                .ok()
                .and_then(|at| snapshot.queues[0].3.get(at));
            ensure(
                expected.map(Vec::as_slice) == Some(delivery.payload()),
                Invariant::Corruption,
                || {
                    format!("group {name}: message {id} delivered with another payload than the log holds")
                },
            )?;
            ensure(delivered.insert(id), Invariant::AtLeastOnce, || {
                format!("group {name}: message {id} delivered twice")
            })?;
            delivery.ack().map_err(|e| unexpected("ack", e))?;
        }
        for (id, status) in (first..).zip(statuses) {
            if !matches!(status, Status::Pending { .. } | Status::Delayed { .. })
                || delivered.contains(&id)
            {
                continue;
            }
            let now = queue
                .status(MessageId(id), name)
                .map_err(|e| unexpected("status", e))?;
            ensure(
                matches!(now, Status::DeadLettered { .. }),
                Invariant::AtLeastOnce,
                || {
                    format!("group {name}: message {id} ({status:?} after recovery) was not delivered again (now {now:?})")
                },
            )?;
        }
    }
    for (dedup, &id) in &model.dedup_ok {
        if id < first {
            continue;
        }
        let again = queue
            .send(Message::new(b"resend".to_vec()).dedup_id(dedup.clone()))
            .map_err(|e| unexpected("resend", e))?;
        ensure(again.0 == id, Invariant::Dedup, || {
            format!(
                "dedup id {dedup} acknowledged as id {id}; a resend after recovery returned {}",
                again.0
            )
        })?;
    }
    Ok(())
}

/// Opens the store on a crashed `fs`, checks it, drains it and resends every dedup id.
pub fn recover_and_check(
    fs: &SimFs,
    workload: &QueueWorkload,
    model: &QueueModel,
) -> Result<QueueSnapshot, Breach> {
    let (store, _, _) = open_store(fs, workload)
        .map_err(|e| Breach::new(Invariant::RecoveryFailed, e.to_string()))?;
    let snapshot = check_store(&store, model)?;
    drain_and_resend(&store, model, &snapshot)?;
    Ok(snapshot)
}
