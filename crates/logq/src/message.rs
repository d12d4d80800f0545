//! Messages: what a producer sends and what a consumer receives.

use logq_log::OwnedRecord;
use std::fmt;

/// The id of a message: its offset in its queue, dense from 0.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct MessageId(pub u64);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Header names logq itself writes; user headers must not start with `logq-`.
pub mod reserved {
    /// The dedup id of an idempotent send.
    pub const DEDUP_ID: &str = "logq-dedup-id";
    /// In a dead-letter queue: the id in the original queue.
    pub const ORIGINAL_ID: &str = "logq-original-id";
    /// In a dead-letter queue: the original queue.
    pub const ORIGINAL_QUEUE: &str = "logq-original-queue";
    /// In a dead-letter queue: the consumer group that gave up.
    pub const ORIGINAL_GROUP: &str = "logq-original-group";
    /// In a dead-letter queue: deliveries made.
    pub const ATTEMPTS: &str = "logq-attempts";
    /// In a dead-letter queue: why.
    pub const REASON: &str = "logq-reason";
    /// In a `.delayed` queue: when the message becomes deliverable, ms since the Unix epoch.
    pub const DELIVER_AT: &str = "logq-deliver-at";
    /// The prefix of every reserved header.
    pub const PREFIX: &str = "logq-";
}

/// A message to send.
///
/// ```
/// let message = logq::Message::new(b"{\"order\":1001}".to_vec())
///     .key("o-1001")
///     .dedup_id("o-1001")
///     .header("type", "order");
/// assert_eq!(message.dedup_id.as_deref(), Some("o-1001"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Message {
    /// The payload.
    pub payload: Vec<u8>,
    /// Optional key.
    pub key: Option<Vec<u8>>,
    /// Optional idempotency key: a second send with the same id within the horizon returns
    /// the first message's id and appends nothing.
    pub dedup_id: Option<String>,
    /// Header names and values (names must not start with `logq-`).
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Message {
    /// A message with a payload.
    pub fn new(payload: impl Into<Vec<u8>>) -> Self {
        Message {
            payload: payload.into(),
            ..Message::default()
        }
    }

    /// Sets the key.
    pub fn key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets the dedup id.
    pub fn dedup_id(mut self, id: impl Into<String>) -> Self {
        self.dedup_id = Some(id.into());
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A message read from a queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// Its id.
    pub id: MessageId,
    /// When it was sent, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// The key, if any.
    pub key: Option<Vec<u8>>,
    /// The headers, reserved ones included.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The payload.
    pub payload: Vec<u8>,
}

impl ReceivedMessage {
    pub(crate) fn from_record(record: OwnedRecord) -> Self {
        ReceivedMessage {
            id: MessageId(record.offset),
            timestamp_ms: record.timestamp_ms,
            key: record.key,
            headers: record.headers,
            payload: record.payload,
        }
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The dedup id it was sent with.
    pub fn dedup_id(&self) -> Option<&str> {
        self.header(reserved::DEDUP_ID)
            .and_then(|v| std::str::from_utf8(v).ok())
    }
}
