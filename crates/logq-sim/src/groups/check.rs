//! Checking a recovered [`OffsetStore`] against a [`GroupModel`].
//!
//! - [`check_statuses`]: every created group exists; every `Ok` ack is `Acked` with its
//!   outcome (invariant 5), every `Ok` dead letter is `DeadLettered`; nothing is acked or
//!   dead-lettered that was never tried, and a stored outcome is one that was sent
//!   (invariants 2 and 3).
//! - [`check_attempts`]: after a process kill, no offset shows fewer delivery attempts than
//!   were handed out (deliveries reach the OS before they are handed out).
//! - [`drain`]: with the clock past every lease and delay, delivers and acks until nothing is
//!   deliverable: no `Ok`-acked or dead-lettered offset comes back (invariant 5), and every
//!   offset not durably settled is delivered or is a dead-letter candidate (invariant 6).

use super::model::GroupModel;
use super::workload::GROUP_NAMES;
use crate::scenario::{check_decisions, ensure, Breach, Decisions, Invariant};
use logq_offsets::{MessageStatus, OffsetStore};
use std::collections::BTreeSet;

/// Statuses of every offset below `log_end`, per group name (sorted), probes excluded.
pub type GroupSnapshot = Vec<(String, Vec<MessageStatus>)>;

fn statuses(store: &OffsetStore, group: &str, log_end: u64) -> Result<Vec<MessageStatus>, Breach> {
    (0..log_end)
        .map(|offset| {
            store.status(group, offset).map_err(|e| {
                Breach::new(
                    Invariant::RecoveryFailed,
                    format!("status({group}, {offset}) failed after recovery: {e}"),
                )
            })
        })
        .collect()
}

/// The statuses of every known group.
pub fn snapshot(store: &OffsetStore, model: &GroupModel) -> Result<GroupSnapshot, Breach> {
    let names = store.group_names();
    let mut snapshot = Vec::new();
    for name in GROUP_NAMES {
        if names.iter().any(|n| n == name) {
            snapshot.push((name.to_owned(), statuses(store, name, model.log_end)?));
        }
    }
    Ok(snapshot)
}

/// Checks acks, dead letters and phantoms (see the module docs).
pub fn check_statuses(store: &OffsetStore, model: &GroupModel) -> Result<GroupSnapshot, Breach> {
    let snapshot = snapshot(store, model)?;
    for (index, track) in model.groups.iter().enumerate() {
        let name = GROUP_NAMES[index];
        let found = snapshot.iter().find(|(n, _)| n == name);
        let Some((_, found)) = found else {
            ensure(!track.created, Invariant::AcksStick, || {
                format!("group {name} was created durably and is gone")
            })?;
            continue;
        };
        for (offset, status) in (0u64..).zip(found) {
            let decisions = Decisions {
                acked_ok: &track.acked_ok,
                acked_tried: &track.acked_tried,
                dead_ok: &track.dead_ok,
            };
            check_decisions(name, offset, status, decisions)?;
            if let MessageStatus::DeadLettered { .. } = status {
                ensure(
                    track.dead_tried.contains(&offset),
                    Invariant::Phantom,
                    || format!("group {name}: offset {offset} is dead-lettered but none was tried"),
                )?;
            }
        }
    }
    Ok(snapshot)
}

/// After a process kill: delivery attempts are never fewer than were handed out.
pub fn check_attempts(store: &OffsetStore, model: &GroupModel) -> Result<(), Breach> {
    for (index, track) in model.groups.iter().enumerate() {
        let name = GROUP_NAMES[index];
        if !store.group_names().iter().any(|n| n == name) {
            continue;
        }
        for (&offset, &handed_out) in &track.attempts {
            if track.acked_tried.contains_key(&offset) || track.dead_tried.contains(&offset) {
                continue;
            }
            let status = store.status(name, offset).map_err(|e| {
                Breach::new(Invariant::RecoveryFailed, format!("status after kill: {e}"))
            })?;
            let attempts = match status {
                MessageStatus::Pending { attempts } | MessageStatus::Delayed { attempts, .. } => {
                    attempts
                }
                MessageStatus::InFlight { attempt, .. } => attempt,
                _ => u32::MAX,
            };
            ensure(attempts >= handed_out, Invariant::AttemptsKept, || {
                format!("group {name}: offset {offset} handed out at attempt {handed_out}, after a kill {status:?}")
            })?;
        }
    }
    Ok(())
}

/// Delivers and acks everything deliverable with the clock past every lease and delay.
pub fn drain(
    store: &OffsetStore,
    model: &GroupModel,
    before: &GroupSnapshot,
) -> Result<(), Breach> {
    let far_ms = model.now_ms + 1_000_000_000;
    for (index, track) in model.groups.iter().enumerate() {
        let name = GROUP_NAMES[index];
        let Some((_, statuses)) = before.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let mut delivered = BTreeSet::new();
        let limit = model.log_end + 2;
        for _ in 0..limit {
            let next = store
                .deliver_next(name, 99, far_ms, model.log_end)
                .map_err(|e| Breach::new(Invariant::UnexpectedError, format!("drain: {e}")))?;
            let Some(delivery) = next else { break };
            let offset = delivery.offset;
            ensure(
                !track.acked_ok.contains_key(&offset),
                Invariant::AcksStick,
                || {
                    format!("group {name}: offset {offset} delivered again after recovery though its ack returned Ok")
                },
            )?;
            ensure(
                !track.dead_ok.contains(&offset),
                Invariant::DeadLetter,
                || {
                    format!(
                        "group {name}: offset {offset} delivered again after it was dead-lettered"
                    )
                },
            )?;
            ensure(delivered.insert(offset), Invariant::AtLeastOnce, || {
                format!("group {name}: offset {offset} delivered twice while acked in between")
            })?;
            store
                .ack(name, offset)
                .map_err(|e| Breach::new(Invariant::UnexpectedError, format!("drain ack: {e}")))?;
        }
        let candidates: BTreeSet<u64> = store
            .dead_letter_candidates(name, far_ms)
            .map_err(|e| Breach::new(Invariant::UnexpectedError, format!("candidates: {e}")))?
            .into_iter()
            .collect();
        for (offset, status) in (0u64..).zip(statuses) {
            let settled = matches!(
                status,
                MessageStatus::Acked { .. } | MessageStatus::DeadLettered { .. }
            );
            ensure(
                settled || delivered.contains(&offset) || candidates.contains(&offset),
                Invariant::AtLeastOnce,
                || {
                    format!("group {name}: offset {offset} ({status:?} after recovery) was neither delivered again nor a dead-letter candidate")
                },
            )?;
        }
    }
    Ok(())
}
