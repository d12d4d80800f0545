//! Typed queues: values of any `Serialize + DeserializeOwned` type, encoded with postcard.

use crate::consumer::Consumer;
use crate::delivery::Delivery;
use crate::error::{Error, Result};
use crate::message::{Message, MessageId};
use crate::queue::Queue;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::marker::PhantomData;
use std::time::Duration;

/// A queue of `T` values.
///
/// ```
/// use std::time::Duration;
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// struct Order { id: u64, amount_cents: u64 }
/// let dir = tempfile::tempdir().unwrap();
/// let store = logq::Store::open(dir.path(), logq::Options::default()).unwrap();
/// let orders = store.typed_queue::<Order>("orders").unwrap();
/// orders.send(&Order { id: 1001, amount_cents: 2599 }).unwrap();
/// let delivery = orders.consumer("payments").unwrap().receive(Duration::from_secs(1)).unwrap().unwrap();
/// assert_eq!(delivery.value, Order { id: 1001, amount_cents: 2599 });
/// delivery.ack().unwrap();
/// ```
pub struct TypedQueue<T> {
    queue: Queue,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for TypedQueue<T> {
    fn clone(&self) -> Self {
        TypedQueue {
            queue: self.queue.clone(),
            _type: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned> TypedQueue<T> {
    pub(crate) fn new(queue: Queue) -> Self {
        TypedQueue {
            queue,
            _type: PhantomData,
        }
    }

    /// The untyped queue.
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    fn encode(&self, value: &T) -> Result<Vec<u8>> {
        postcard::to_stdvec(value).map_err(|e| Error::Encode {
            queue: self.queue.name().to_owned(),
            reason: e.to_string(),
        })
    }

    /// Sends `value`.
    pub fn send(&self, value: &T) -> Result<MessageId> {
        self.queue.send(Message::new(self.encode(value)?))
    }

    /// Sends `value` with a dedup id (idempotent send).
    pub fn send_idempotent(&self, value: &T, dedup_id: &str) -> Result<MessageId> {
        self.queue
            .send(Message::new(self.encode(value)?).dedup_id(dedup_id))
    }

    /// A consumer in `group`.
    pub fn consumer(&self, group: &str) -> Result<TypedConsumer<T>> {
        Ok(TypedConsumer {
            consumer: self.queue.consumer(group)?,
            _type: PhantomData,
        })
    }
}

/// A consumer of a [`TypedQueue`].
pub struct TypedConsumer<T> {
    consumer: Consumer,
    _type: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> TypedConsumer<T> {
    /// Receives and decodes the next value. A payload that does not decode as `T` is moved
    /// to the dead-letter queue at once and reported as [`Error::Decode`] with its id.
    pub fn receive(&self, timeout: Duration) -> Result<Option<TypedDelivery<T>>> {
        let Some(delivery) = self.consumer.receive(timeout)? else {
            return Ok(None);
        };
        match postcard::from_bytes::<T>(delivery.payload()) {
            Ok(value) => Ok(Some(TypedDelivery { value, delivery })),
            Err(error) => {
                let id = delivery.id();
                let reason = format!(
                    "payload does not decode as {}: {error}",
                    std::any::type_name::<T>()
                );
                delivery.dead_letter(&reason)?;
                Err(Error::Decode {
                    queue: self.consumer.queue.name.clone(),
                    id,
                    reason,
                })
            }
        }
    }
}

/// A decoded value and its delivery.
#[derive(Debug)]
pub struct TypedDelivery<T> {
    /// The decoded value.
    pub value: T,
    /// The delivery (ack, nack, extend, dead-letter).
    pub delivery: Delivery,
}

impl<T> TypedDelivery<T> {
    /// Acknowledges.
    pub fn ack(self) -> Result<()> {
        self.delivery.ack()
    }

    /// Acknowledges with an outcome.
    pub fn ack_with_outcome(self, outcome: &[u8]) -> Result<()> {
        self.delivery.ack_with_outcome(outcome)
    }

    /// Gives the message back for redelivery after `delay`.
    pub fn nack(self, delay: Duration) -> Result<()> {
        self.delivery.nack(delay)
    }

    /// The message id.
    pub fn id(&self) -> MessageId {
        self.delivery.id()
    }
}
