//! Options of a store and of each queue.

use logq_log::Durability;
use std::time::Duration;

/// Options of [`crate::Store::open`]: defaults for every queue.
///
/// ```
/// let options = logq::Options::default();
/// assert_eq!(options.queue.max_deliveries, 5);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The options each queue gets unless opened with [`crate::Store::queue_with`].
    pub queue: QueueOptions,
}

/// Options of one queue.
///
/// ```
/// use std::time::Duration;
/// let options = logq::QueueOptions::default().lease(Duration::from_secs(5)).max_deliveries(3);
/// assert_eq!(options.lease_ms, 5_000);
/// ```
#[derive(Clone, Debug)]
pub struct QueueOptions {
    /// When sends and acks are durable (default `Always`: they return only once on disk).
    pub durability: Durability,
    /// Segment size of the message log (default 128 MiB).
    pub segment_bytes_max: u64,
    /// How long a receiver holds a message before it is redelivered (default 30 s).
    pub lease_ms: u64,
    /// Deliveries before a message is dead-lettered (default 5).
    pub max_deliveries: u32,
    /// Messages in flight per group at most (default 1000).
    pub max_in_flight: u32,
    /// The dead-letter queue (default `<queue>.dlq`; dead-letter queues have none).
    pub dead_letter_queue: Option<String>,
    /// Retention caps (off by default).
    pub retention: RetentionOptions,
    /// The idempotent-send horizon.
    pub dedup: DedupOptions,
    /// Journal records between consumer-group checkpoints (default 100,000).
    pub checkpoint_interval_records: u64,
    /// Under `Interval` and `Never` only: sends are gathered in the process up to this many
    /// bytes and written to the message log with one `write` (default 0: each send is
    /// written at once). A process crash can then lose up to this many bytes of sends that
    /// returned; receivers, `close` and the durability interval write the buffer first.
    pub write_buffer_bytes: u32,
}

impl Default for QueueOptions {
    fn default() -> Self {
        QueueOptions {
            durability: Durability::Always,
            segment_bytes_max: 128 * 1024 * 1024,
            lease_ms: 30_000,
            max_deliveries: 5,
            max_in_flight: 1_000,
            dead_letter_queue: None,
            retention: RetentionOptions::default(),
            dedup: DedupOptions::default(),
            checkpoint_interval_records: 100_000,
            write_buffer_bytes: 0,
        }
    }
}

impl QueueOptions {
    /// Sets the durability policy.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Sets the in-process write buffer of `Interval` and `Never` queues.
    ///
    /// ```
    /// use logq::{Durability, QueueOptions};
    /// let fast = QueueOptions::default().durability(Durability::Never).write_buffer_bytes(64 * 1024);
    /// assert_eq!(fast.write_buffer_bytes, 65_536);
    /// ```
    pub fn write_buffer_bytes(mut self, bytes: u32) -> Self {
        self.write_buffer_bytes = bytes;
        self
    }

    /// Sets the segment size.
    pub fn segment_bytes_max(mut self, bytes: u64) -> Self {
        self.segment_bytes_max = bytes;
        self
    }

    /// Sets the lease time.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease_ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Sets the delivery limit.
    pub fn max_deliveries(mut self, deliveries: u32) -> Self {
        self.max_deliveries = deliveries;
        self
    }

    /// Sets the in-flight cap per group.
    pub fn max_in_flight(mut self, messages: u32) -> Self {
        self.max_in_flight = messages;
        self
    }

    /// Sets the dead-letter queue's name.
    pub fn dead_letter_queue(mut self, name: impl Into<String>) -> Self {
        self.dead_letter_queue = Some(name.into());
        self
    }

    /// Sets the retention caps.
    pub fn retention(mut self, retention: RetentionOptions) -> Self {
        self.retention = retention;
        self
    }

    /// Sets the dedup horizon.
    pub fn dedup(mut self, dedup: DedupOptions) -> Self {
        self.dedup = dedup;
        self
    }

    /// Sets the checkpoint interval of the consumer groups.
    pub fn checkpoint_interval_records(mut self, records: u64) -> Self {
        self.checkpoint_interval_records = records;
        self
    }
}

/// Retention caps. Without caps a segment is deleted only once every group acknowledged
/// past it; a cap deletes older segments even if unprocessed, and counts what it dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetentionOptions {
    /// Delete sealed segments whose newest message is older than this.
    pub max_age: Option<Duration>,
    /// Delete the oldest sealed segments while the queue's log is larger than this.
    pub max_bytes: Option<u64>,
}

/// The idempotent-send horizon: a dedup id is remembered for `max_age` and for at most
/// `max_entries` ids (the oldest are forgotten first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DedupOptions {
    /// How long a dedup id is remembered (default 24 hours).
    pub max_age: Duration,
    /// How many dedup ids are remembered at most (default 1,000,000).
    pub max_entries: usize,
    /// Sends between two snapshots of the dedup index (default 50,000): bounds the log scan
    /// on open.
    pub snapshot_interval_sends: u64,
}

impl Default for DedupOptions {
    fn default() -> Self {
        DedupOptions {
            max_age: Duration::from_secs(24 * 60 * 60),
            max_entries: 1_000_000,
            snapshot_interval_sends: 50_000,
        }
    }
}
