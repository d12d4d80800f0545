//! [`Delivery`]: a leased message and the decision about it.

use crate::clock::{millis, now_ms};
use crate::consumer::Consumer;
use crate::error::Result;
use crate::message::{MessageId, ReceivedMessage};
use logq_offsets::Lease;
use std::time::Duration;

/// A message leased to a consumer. Decide with [`ack`](Self::ack),
/// [`ack_with_outcome`](Self::ack_with_outcome), [`nack`](Self::nack) or
/// [`dead_letter`](Self::dead_letter); a delivery dropped without a decision is released for
/// redelivery at once, and one whose consumer died is redelivered when its lease expires.
#[derive(Debug)]
#[must_use = "a delivery dropped without a decision is redelivered"]
pub struct Delivery {
    consumer: Consumer,
    message: ReceivedMessage,
    lease: Lease,
    settled: bool,
}

impl Delivery {
    pub(crate) fn new(consumer: Consumer, message: ReceivedMessage, lease: Lease) -> Self {
        Delivery {
            consumer,
            message,
            lease,
            settled: false,
        }
    }

    /// The message id.
    pub fn id(&self) -> MessageId {
        self.message.id
    }

    /// The message.
    pub fn message(&self) -> &ReceivedMessage {
        &self.message
    }

    /// The payload.
    pub fn payload(&self) -> &[u8] {
        &self.message.payload
    }

    /// Which delivery of this message this is (1 for the first).
    pub fn attempt(&self) -> u32 {
        self.lease.attempt
    }

    /// When the lease ends, ms since the Unix epoch.
    pub fn deadline_ms(&self) -> u64 {
        self.lease.deadline_ms
    }

    /// Acknowledges the message: it is never delivered to this group again. Durable when
    /// it returns (under `Always`).
    pub fn ack(mut self) -> Result<()> {
        self.settled = true;
        let queue = &self.consumer.queue;
        queue
            .groups
            .ack(&self.consumer.group, self.message.id.0)
            .map_err(|e| queue.groups_error(e))?;
        self.after_ack();
        Ok(())
    }

    /// Acknowledges the message and stores `outcome` with the ack (one durable record), for
    /// the producer to read with [`crate::Queue::status`] or [`crate::Queue::wait_outcome`].
    pub fn ack_with_outcome(mut self, outcome: &[u8]) -> Result<()> {
        self.settled = true;
        let queue = &self.consumer.queue;
        queue
            .groups
            .ack_with_outcome(&self.consumer.group, self.message.id.0, outcome)
            .map_err(|e| queue.groups_error(e))?;
        self.after_ack();
        Ok(())
    }

    /// [`ack`](Self::ack) without blocking a thread: the message is settled for this group
    /// now (this process does not deliver it again), and the returned future resolves once
    /// the ack is durable (under `Always`). Many pending acks share each fdatasync, so a
    /// consumer that goes on to its next message while its acks become durable is not bound
    /// by one fdatasync per message. An ack whose future has not resolved `Ok` may be lost to
    /// a crash; its message is then delivered again (at least once). Any executor will do.
    ///
    /// ```
    /// use std::time::Duration;
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = logq::Store::open(dir.path(), logq::Options::default()).unwrap();
    /// let orders = store.queue("orders").unwrap();
    /// orders.send(logq::Message::new(b"o-1".to_vec())).unwrap();
    /// orders.send(logq::Message::new(b"o-2".to_vec())).unwrap();
    /// let payments = orders.consumer("payments").unwrap();
    /// let first = payments.receive(Duration::from_secs(1)).unwrap().unwrap();
    /// let acked = first.ack_async();
    /// let second = payments.receive(Duration::from_secs(1)).unwrap().unwrap(); // meanwhile
    /// futures::executor::block_on(async { acked.await?; second.ack_async().await }).unwrap();
    /// ```
    pub fn ack_async(self) -> impl std::future::Future<Output = Result<()>> + Send + 'static {
        self.decide_async(None)
    }

    /// [`ack_with_outcome`](Self::ack_with_outcome) without blocking a thread, as
    /// [`ack_async`](Self::ack_async): the outcome is stored with the ack, in one record.
    /// [`crate::Queue::wait_outcome`] sees the outcome only once it is durable.
    ///
    /// ```
    /// use std::time::Duration;
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = logq::Store::open(dir.path(), logq::Options::default()).unwrap();
    /// let orders = store.queue("orders").unwrap();
    /// let id = orders.send(logq::Message::new(b"o-1".to_vec())).unwrap();
    /// let payments = orders.consumer("payments").unwrap();
    /// let delivery = payments.receive(Duration::from_secs(1)).unwrap().unwrap();
    /// futures::executor::block_on(delivery.ack_with_outcome_async(b"paid")).unwrap();
    /// let status = orders.wait_outcome(id, "payments", Duration::from_secs(1)).unwrap();
    /// assert_eq!(status, logq::Status::Acked { outcome: Some(b"paid".to_vec()) });
    /// ```
    pub fn ack_with_outcome_async(
        self,
        outcome: &[u8],
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'static {
        self.decide_async(Some(outcome))
    }

    /// The shared part of the async acks: staged now, awaited in the future.
    fn decide_async(
        mut self,
        outcome: Option<&[u8]>,
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'static {
        self.settled = true;
        let queue = std::sync::Arc::clone(&self.consumer.queue);
        let acked = queue
            .groups
            .ack_async(&self.consumer.group, self.message.id.0, outcome);
        queue.notify.notify();
        async move {
            acked
                .await
                .map_err(|e| self.consumer.queue.groups_error(e))?;
            self.after_ack();
            Ok(())
        }
    }

    /// Gives the message back: redelivered (to any consumer of the group) after `delay`.
    pub fn nack(mut self, delay: Duration) -> Result<()> {
        self.settled = true;
        let queue = &self.consumer.queue;
        queue
            .groups
            .nack(
                &self.consumer.group,
                self.message.id.0,
                millis(delay),
                now_ms(),
            )
            .map_err(|e| queue.groups_error(e))?;
        queue.notify.notify();
        Ok(())
    }

    /// Extends the lease by `extra` while work goes on.
    pub fn extend(&mut self, extra: Duration) -> Result<()> {
        let queue = &self.consumer.queue;
        self.lease = queue
            .groups
            .extend(
                &self.consumer.group,
                self.message.id.0,
                self.consumer.consumer_id,
                millis(extra),
                now_ms(),
            )
            .map_err(|e| queue.groups_error(e))?;
        Ok(())
    }

    /// Moves the message to the dead-letter queue now, with `reason`.
    pub fn dead_letter(mut self, reason: &str) -> Result<()> {
        self.settled = true;
        let queue = &self.consumer.queue;
        crate::dead_letter::move_one(
            queue,
            &self.consumer.group,
            self.message.id.0,
            self.lease.attempt,
            reason,
        )
    }

    /// Lets go of the message without a decision and without releasing it: it is
    /// redelivered only when its lease expires, as if this consumer had died.
    pub fn abandon(mut self) {
        self.settled = true;
    }

    /// True when this delivery came from `consumer`'s queue and group.
    pub(crate) fn belongs_to(&self, consumer: &Consumer) -> bool {
        std::sync::Arc::ptr_eq(&self.consumer.queue, &consumer.queue)
            && self.consumer.group == consumer.group
    }

    /// Marks this delivery decided (for a batch ack); returns its offset and send time.
    pub(crate) fn settle(mut self) -> (u64, u64) {
        self.settled = true;
        (self.message.id.0, self.message.timestamp_ms)
    }

    fn after_ack(&self) {
        let queue = &self.consumer.queue;
        queue
            .recorder
            .record_ack(&self.consumer.group, now_ms(), self.message.timestamp_ms);
        queue.notify.notify();
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let queue = &self.consumer.queue;
        if let Err(error) = queue
            .groups
            .release(&self.consumer.group, self.message.id.0)
        {
            tracing::debug!(queue = %queue.name, id = self.message.id.0, %error, "release of a dropped delivery failed; its lease will expire");
        }
        queue.notify.notify();
    }
}
