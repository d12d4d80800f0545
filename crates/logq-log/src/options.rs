//! Options of a log: durability policy, segment size, index density, limits, recovery mode.

use crate::fs::{FileSystem, RealFs};
use std::sync::Arc;
use std::time::Duration;

/// When an append is durable.
///
/// ```
/// use logq_log::Durability;
/// assert_eq!(Durability::default(), Durability::Always);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `append` returns only after its bytes are on disk (fdatasync). Concurrent appenders
    /// share one fdatasync (group commit). Readers see a record only once it is durable.
    #[default]
    Always,
    /// A background thread makes appends durable at least this often; a power cut may lose
    /// the appends of the last interval. Readers see records as soon as they are written.
    Interval(Duration),
    /// Nothing is fsynced except on segment roll, [`crate::Log::sync`] and
    /// [`crate::Log::close`]. A process crash loses nothing (the page cache survives it); a
    /// power cut may lose everything since the last sync.
    Never,
}

/// What open does with damage in the tail segment that is not a torn write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecoveryMode {
    /// Refuse to open with [`crate::Error::Corrupt`] naming the file and byte offset.
    #[default]
    Strict,
    /// Copy the damaged bytes and everything after them in the tail segment to a
    /// `.quarantine` file (fsynced), then cut the segment there and open.
    Quarantine,
}

/// Options of [`crate::Log::open`].
///
/// ```
/// use logq_log::{Durability, LogOptions};
/// let options = LogOptions::default()
///     .durability(Durability::Never)
///     .segment_bytes_max(1 << 20);
/// assert_eq!(options.segment_bytes_max, 1 << 20);
/// ```
#[derive(Clone, Debug)]
pub struct LogOptions {
    /// When appends are durable (default [`Durability::Always`]).
    pub durability: Durability,
    /// A segment rolls before a batch would take it past this size (default 128 MiB; at
    /// most 4 GiB minus the largest batch, since positions are u32).
    pub segment_bytes_max: u64,
    /// One sparse-index entry every this many bytes (default 4 KiB).
    pub index_interval_bytes: u32,
    /// The largest batch accepted, on append and on read (default 16 MiB).
    pub batch_bytes_max: u32,
    /// What open does with damage in the tail segment.
    pub recovery_mode: RecoveryMode,
    /// Under `Interval` and `Never` only: appends are gathered in the process up to this many
    /// bytes and written with one `write` (default 0: every append is written at once).
    /// Readers, `flush`, `sync`, rolls and close write the buffer first. A process crash can
    /// lose up to this many bytes of appends that returned (a power cut can lose more under
    /// these policies anyway). Ignored under `Always`.
    pub write_buffer_bytes: u32,
    /// Under `Always` only: the active segment is extended with zeros this many bytes ahead
    /// of its data (default 1 MiB; 0 turns it off), so that most fdatasyncs flush data only,
    /// not the file size. Ignored under `Interval` and `Never`, where the few fdatasyncs do
    /// not pay for writing every byte twice.
    pub preallocate_bytes: u64,
    /// The file system (the operating system's, or a simulated one in tests).
    pub file_system: Arc<dyn FileSystem>,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            durability: Durability::Always,
            segment_bytes_max: 128 * 1024 * 1024,
            index_interval_bytes: 4096,
            batch_bytes_max: 16 * 1024 * 1024,
            recovery_mode: RecoveryMode::Strict,
            preallocate_bytes: 1024 * 1024,
            write_buffer_bytes: 0,
            file_system: Arc::new(RealFs),
        }
    }
}

impl LogOptions {
    /// Sets the durability policy.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Sets the segment size at which the log rolls.
    pub fn segment_bytes_max(mut self, bytes: u64) -> Self {
        self.segment_bytes_max = bytes;
        self
    }

    /// Sets the sparse-index density.
    pub fn index_interval_bytes(mut self, bytes: u32) -> Self {
        self.index_interval_bytes = bytes;
        self
    }

    /// Sets the largest batch.
    pub fn batch_bytes_max(mut self, bytes: u32) -> Self {
        self.batch_bytes_max = bytes;
        self
    }

    /// Sets the recovery mode.
    pub fn recovery_mode(mut self, mode: RecoveryMode) -> Self {
        self.recovery_mode = mode;
        self
    }

    /// Sets how far ahead of its data the active segment is extended with zeros.
    pub fn preallocate_bytes(mut self, bytes: u64) -> Self {
        self.preallocate_bytes = bytes;
        self
    }

    /// Sets the in-process write buffer of `Interval` and `Never` logs.
    pub fn write_buffer_bytes(mut self, bytes: u32) -> Self {
        self.write_buffer_bytes = bytes;
        self
    }

    /// Sets the file system.
    pub fn file_system(mut self, file_system: Arc<dyn FileSystem>) -> Self {
        self.file_system = file_system;
        self
    }

    /// Checks the options; called by open.
    pub(crate) fn validate(&self) -> crate::Result<()> {
        let header = crate::format::to_u64(crate::format::segment_header::SEGMENT_HEADER_LEN);
        let limit = u64::from(u32::MAX) - u64::from(crate::format::batch::BATCH_BYTES_LIMIT);
        if self.segment_bytes_max <= header || self.segment_bytes_max > limit {
            return Err(crate::Error::InvalidArgument(format!(
                "segment_bytes_max {} must be in ({header}, {limit}]",
                self.segment_bytes_max
            )));
        }
        if self.index_interval_bytes == 0 {
            return Err(crate::Error::InvalidArgument(
                "index_interval_bytes must be positive".into(),
            ));
        }
        let min_batch = u32::try_from(crate::format::batch::BATCH_HEADER_LEN).unwrap_or(0);
        if self.batch_bytes_max <= min_batch
            || self.batch_bytes_max > crate::format::batch::BATCH_BYTES_LIMIT
        {
            return Err(crate::Error::InvalidArgument(format!(
                "batch_bytes_max {} is out of range",
                self.batch_bytes_max
            )));
        }
        if let Durability::Interval(interval) = self.durability {
            if interval.is_zero() {
                return Err(crate::Error::InvalidArgument(
                    "a zero durability interval; use Always".into(),
                ));
            }
        }
        Ok(())
    }
}
