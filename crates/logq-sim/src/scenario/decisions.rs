//! The checks the group and queue explorers share on one message's recovered status: an ack
//! that returned `Ok` sticks with its outcome, a dead letter that returned `Ok` stays, and an
//! acknowledged status was asked for by some ack with exactly that outcome.

use super::{ensure, Breach, Invariant};
use logq_offsets::MessageStatus;
use std::collections::{BTreeMap, BTreeSet};

/// What a model noted about one group's decisions.
#[derive(Clone, Copy, Debug)]
pub struct Decisions<'a> {
    /// Acks that returned `Ok(true)`, with their outcome.
    pub acked_ok: &'a BTreeMap<u64, Option<Vec<u8>>>,
    /// Every ack tried (returned or not), with the outcomes tried.
    pub acked_tried: &'a BTreeMap<u64, Vec<Option<Vec<u8>>>>,
    /// Dead letters recorded with `Ok`.
    pub dead_ok: &'a BTreeSet<u64>,
}

/// Checks the recovered `status` of message `id` in `group` against `decisions`.
pub fn check_decisions(
    group: &str,
    id: u64,
    status: &MessageStatus,
    decisions: Decisions<'_>,
) -> Result<(), Breach> {
    if let Some(outcome) = decisions.acked_ok.get(&id) {
        ensure(
            matches!(status, MessageStatus::Acked { outcome: o } if o == outcome),
            Invariant::AcksStick,
            || format!("group {group}: message {id} acked Ok (outcome {outcome:?}) is {status:?}"),
        )?;
    }
    if decisions.dead_ok.contains(&id) {
        ensure(
            matches!(status, MessageStatus::DeadLettered { .. }),
            Invariant::DeadLetter,
            || format!("group {group}: message {id} dead-lettered Ok is {status:?}"),
        )?;
    }
    if let MessageStatus::Acked { outcome } = status {
        let tried = decisions.acked_tried.get(&id);
        ensure(tried.is_some(), Invariant::Phantom, || {
            format!("group {group}: message {id} is acked but no ack was tried")
        })?;
        if let (Some(stored), Some(sent)) = (outcome, tried) {
            ensure(
                sent.iter().any(|s| s.as_ref() == Some(stored)),
                Invariant::Corruption,
                || format!("group {group}: message {id} outcome {stored:?}, sent {sent:?}"),
            )?;
        }
    }
    Ok(())
}
