//! # logq: durable queues to embed
//!
//! A [`Store`] is a data directory of named [`Queue`]s. Producers [`Queue::send`] messages
//! (durable before `send` returns, by default); consumer groups receive every message, each
//! message leased to one [`Consumer`] of the group at a time; a consumer acknowledges it,
//! optionally with an outcome the producer can read back ([`Queue::status`],
//! [`Queue::wait_outcome`]).
//!
//! Guarantees (each backed by crash tests; see `docs/DESIGN.md`):
//! - a message whose `send` returned `Ok` under `Durability::Always` survives any crash;
//! - a message whose ack returned `Ok` is never delivered to that group again;
//! - every other message is delivered again (at least once) — after its lease expires;
//! - a send with a dedup id seen within the horizon appends nothing (idempotent producers);
//! - a message that is never acknowledged moves to the dead-letter queue after
//!   `max_deliveries`, even if it crashes its consumer every time.
//!
//! ```
//! use std::time::Duration;
//! let dir = tempfile::tempdir().unwrap();
//! let store = logq::Store::open(dir.path(), logq::Options::default())?;
//! let orders = store.queue("orders")?;
//! let id = orders.send(logq::Message::new(b"{\"order\":1001}".to_vec()).key("o-1001").dedup_id("o-1001"))?;
//! let payments = orders.consumer("payments")?;
//! if let Some(delivery) = payments.receive(Duration::from_secs(1))? {
//!     delivery.ack_with_outcome(b"paid")?;
//! }
//! let status = orders.wait_outcome(id, "payments", Duration::from_secs(1))?;
//! assert_eq!(status, logq::Status::Acked { outcome: Some(b"paid".to_vec()) });
//! # Ok::<(), logq::Error>(())
//! ```
#![forbid(unsafe_code)]

mod clock;
mod consumer;
mod dead_letter;
mod dedup;
mod delivery;
mod error;
mod message;
mod notify;
mod open_queues;
mod options;
mod priority;
mod queue;
mod schedule;
mod stats;
mod store;
mod typed;

pub use consumer::Consumer;
pub use delivery::Delivery;
pub use error::{Error, Result};
pub use logq_log::Durability;
pub use logq_offsets::{MessageStatus as Status, StartPosition};
pub use message::{reserved, Message, MessageId, ReceivedMessage};
pub use options::{DedupOptions, Options, QueueOptions, RetentionOptions};
pub use priority::{PriorityConsumer, PriorityDelivery, PriorityId, PriorityPolicy, PriorityQueue};
pub use queue::Queue;
pub use schedule::{Scheduled, ScheduledId};
pub use stats::{GroupStatsView, LatencyPercentiles, QueueStats};
pub use store::Store;
pub use typed::{TypedConsumer, TypedDelivery, TypedQueue};
