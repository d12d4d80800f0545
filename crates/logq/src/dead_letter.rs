//! Dead letters: moving a message that used its deliveries to the dead-letter queue, and
//! requeueing dead letters.
//!
//! The move is crash-safe without a transaction: the copy is sent to the dead-letter queue
//! with dedup id `dlq:<queue>:<group>:<id>` and only then recorded as dead-lettered in the
//! group. A crash in between leaves the message a dead-letter candidate; the next move sends
//! it again, and the dedup index returns the existing copy instead of appending a second.

use crate::error::{Error, Result};
use crate::message::{reserved, Message, MessageId};
use crate::queue::{Queue, QueueInner};
use std::sync::Arc;

/// The name of `queue`'s dead-letter queue, or None for a dead-letter queue itself.
pub(crate) fn dead_letter_queue_name(queue: &QueueInner) -> Option<String> {
    match &queue.options.dead_letter_queue {
        Some(name) => Some(name.clone()),
        None if queue.name.ends_with(".dlq") => None,
        None => Some(format!("{}.dlq", queue.name)),
    }
}

/// Moves every dead-letter candidate of `group`.
pub(crate) fn move_candidates(queue: &Arc<QueueInner>, group: &str, now_ms: u64) -> Result<()> {
    let candidates = queue
        .groups
        .dead_letter_candidates(group, now_ms)
        .map_err(|e| queue.groups_error(e))?;
    for offset in candidates {
        let attempts = queue.options.max_deliveries;
        let reason = format!("not acknowledged after {attempts} deliveries");
        move_one(queue, group, offset, attempts, &reason)?;
    }
    Ok(())
}

/// Copies message `offset` to the dead-letter queue, then records it dead-lettered.
pub(crate) fn move_one(
    queue: &QueueInner,
    group: &str,
    offset: u64,
    attempts: u32,
    reason: &str,
) -> Result<()> {
    if let Some(dlq_name) = dead_letter_queue_name(queue) {
        match queue.read(MessageId(offset)) {
            Ok(message) => {
                let mut copy = Message::new(message.payload.clone())
                    .dedup_id(format!("dlq:{}:{group}:{offset}", queue.name));
                copy.key = message.key.clone();
                copy.headers = message
                    .headers
                    .iter()
                    .filter(|(name, _)| !name.starts_with(reserved::PREFIX))
                    .cloned()
                    .collect();
                let dlq = queue.store()?.queue(&dlq_name)?;
                let origin = [
                    (reserved::ORIGINAL_ID, offset.to_string()),
                    (reserved::ORIGINAL_QUEUE, queue.name.clone()),
                    (reserved::ORIGINAL_GROUP, group.to_owned()),
                    (reserved::ATTEMPTS, attempts.to_string()),
                    (reserved::REASON, reason.to_owned()),
                ];
                let origin: Vec<(&str, &[u8])> =
                    origin.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
                dlq.inner
                    .send_records(std::slice::from_ref(&copy), &origin)?;
            }
            Err(Error::NotFound { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    queue
        .groups
        .dead_letter(group, offset, reason)
        .map_err(|e| queue.groups_error(e))?;
    tracing::warn!(queue = %queue.name, group, offset, reason, "dead-lettered");
    queue.notify.notify();
    Ok(())
}

/// Requeues every message in `queue`'s dead-letter queue to its original queue.
pub(crate) fn requeue_all(queue: &Queue) -> Result<usize> {
    let Some(dlq_name) = dead_letter_queue_name(&queue.inner) else {
        return Ok(0);
    };
    let store = queue.inner.store()?;
    let dlq = store.queue(&dlq_name)?;
    let consumer = dlq.consumer("logq-requeue")?;
    let mut requeued = 0;
    while let Some(delivery) = consumer.try_receive()? {
        let message = delivery.message();
        let original = message
            .header(reserved::ORIGINAL_QUEUE)
            .and_then(|v| std::str::from_utf8(v).ok())
            .unwrap_or(queue.name())
            .to_owned();
        let mut copy = Message::new(message.payload.clone())
            .dedup_id(format!("requeue:{dlq_name}:{}", message.id.0));
        copy.key = message.key.clone();
        copy.headers = message
            .headers
            .iter()
            .filter(|(n, _)| !n.starts_with(reserved::PREFIX))
            .cloned()
            .collect();
        store.queue(&original)?.send(copy)?;
        delivery.ack()?;
        requeued += 1;
    }
    Ok(requeued)
}
