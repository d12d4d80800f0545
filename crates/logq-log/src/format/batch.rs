//! Batches: the unit of writing, of atomicity and of the CRC.
//!
//! ```text
//! 0   u32      batch length: all bytes of the batch, this field included (>= 48)
//! 4   u32      CRC-32 (IEEE) of bytes [8, batch length)
//! 8   u64      base offset: the offset of the first record
//! 16  u64      durable watermark: every offset below it was durable when this batch was written
//! 24  u32      record count (>= 1)
//! 28  u16      attributes (0; every bit reserved)
//! 30  u16      reserved (0)
//! 32  u64      first timestamp, ms since the Unix epoch
//! 40  u64      max timestamp, ms since the Unix epoch
//! 48  records  exactly `record count` records filling the batch (see `record`)
//! ```
//! A batch is accepted only when every one of these checks passes; a batch that fails one is
//! never partly used.

use super::record::{parse_record, Record, RecordView};
use super::{le_u16, le_u32, le_u64, to_u64};
use crate::error::{Error, Result};

/// Bytes in a batch header.
pub const BATCH_HEADER_LEN: usize = 48;
/// The largest batch any configuration may allow (the length field is a u32; positions in a
/// segment are u32 too).
pub const BATCH_BYTES_LIMIT: u32 = 256 * 1024 * 1024;
const CRC_FROM: usize = 8;
const BODY_FROM: usize = 24;
/// Batches at least this long get their body CRC computed at encoding, outside the writer
/// lock, and combined with the header's at sealing. `crc32fast`'s combine costs about as much
/// as hashing a few KiB, so smaller batches are hashed whole at sealing instead.
const PRECOMPUTE_BODY_CRC_FROM: usize = 16 * 1024;

/// A batch checked and measured, not yet encoded: what [`BatchPlan::write_into`] will write.
#[derive(Clone, Copy, Debug)]
pub struct BatchPlan {
    total: usize,
    record_count: u32,
    first_ms: u64,
    max_ms: u64,
    now_ms: u64,
}

impl BatchPlan {
    /// Checks `records` as one batch stamped at `now_ms` (records with timestamp 0 get it).
    ///
    /// Fails with [`Error::InvalidArgument`] for an empty batch, a field too long for its
    /// length field, timestamps spanning more than 49 days, or a batch larger than
    /// `max_batch_bytes`.
    ///
    /// ```
    /// use logq_log::{format::batch::BatchPlan, Record};
    /// let plan = BatchPlan::new(&[Record::new(b"a")], 1, 1 << 20).unwrap();
    /// assert_eq!(plan.len(), 48 + 19);
    /// ```
    pub fn new(records: &[Record<'_>], now_ms: u64, max_batch_bytes: u32) -> Result<Self> {
        if records.is_empty() {
            return Err(Error::InvalidArgument(
                "a batch needs at least one record".into(),
            ));
        }
        let record_count = u32::try_from(records.len())
            .map_err(|_| Error::InvalidArgument("too many records in one batch".into()))?;
        let mut total = BATCH_HEADER_LEN;
        let mut first_ms = u64::MAX;
        let mut max_ms = 0;
        for (index, record) in records.iter().enumerate() {
            let len = record.encoded_len().ok_or_else(|| {
                Error::InvalidArgument(format!("record {index} has a field too long to encode"))
            })?;
            total = total.saturating_add(len);
            let stamp = stamp(record, now_ms);
            first_ms = first_ms.min(stamp);
            max_ms = max_ms.max(stamp);
        }
        if u32::try_from(max_ms - first_ms).is_err() {
            return Err(Error::InvalidArgument(
                "timestamps in one batch span more than 49 days".into(),
            ));
        }
        let limit = max_batch_bytes.min(BATCH_BYTES_LIMIT);
        if u32::try_from(total).ok().is_none_or(|t| t > limit) {
            return Err(Error::InvalidArgument(format!(
                "batch of {total} bytes exceeds the limit of {limit}"
            )));
        }
        Ok(BatchPlan {
            total,
            record_count,
            first_ms,
            max_ms,
            now_ms,
        })
    }

    /// Encoded length in bytes.
    pub fn len(&self) -> usize {
        self.total
    }

    /// Always false: a batch has at least one record.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Number of records.
    pub fn record_count(&self) -> u32 {
        self.record_count
    }

    /// Appends the unsealed batch (CRC, base offset and watermark zero) to `out`; `records`
    /// must be the ones the plan was made from.
    pub fn write_into(&self, records: &[Record<'_>], out: &mut Vec<u8>) {
        let start = out.len();
        out.reserve(self.total);
        // Checked by `new`: the total fits a u32.
        out.extend_from_slice(&u32::try_from(self.total).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&[0u8; 20]); // CRC, base offset, watermark: filled by `seal`.
        out.extend_from_slice(&self.record_count.to_le_bytes());
        out.extend_from_slice(&[0u8; 4]); // attributes, reserved.
        out.extend_from_slice(&self.first_ms.to_le_bytes());
        out.extend_from_slice(&self.max_ms.to_le_bytes());
        for record in records {
            // Checked by `new`: every delta fits a u32 and every length is encodable.
            let delta = u32::try_from(stamp(record, self.now_ms) - self.first_ms).unwrap_or(0);
            let len = record.encoded_len().unwrap_or(0);
            record.encode_into(out, delta, len);
        }
        debug_assert_eq!(out.len() - start, self.total);
    }
}

fn stamp(record: &Record<'_>, now_ms: u64) -> u64 {
    if record.timestamp_ms == 0 {
        now_ms
    } else {
        record.timestamp_ms
    }
}

/// Fills in the base offset, the durable watermark and the CRC of an encoded batch.
/// `body_crc`, when given, is the CRC of bytes `[24, len)` computed earlier.
pub fn seal_in_place(
    bytes: &mut [u8],
    base_offset: u64,
    durable_watermark: u64,
    body_crc: Option<&crc32fast::Hasher>,
) {
    bytes[8..16].copy_from_slice(&base_offset.to_le_bytes());
    bytes[16..24].copy_from_slice(&durable_watermark.to_le_bytes());
    let mut crc = crc32fast::Hasher::new();
    match body_crc {
        Some(body_crc) => {
            crc.update(&bytes[CRC_FROM..BODY_FROM]);
            crc.combine(body_crc);
        }
        None => crc.update(&bytes[CRC_FROM..]),
    }
    bytes[4..8].copy_from_slice(&crc.finalize().to_le_bytes());
}

/// A batch encoded and waiting for its base offset.
#[derive(Debug)]
pub struct EncodedBatch {
    bytes: Vec<u8>,
    record_count: u32,
    /// CRC of bytes `[24, len)`, for batches of `PRECOMPUTE_BODY_CRC_FROM` bytes or more.
    body_crc: Option<crc32fast::Hasher>,
}

impl EncodedBatch {
    /// Encodes `records`, stamping records with timestamp 0 with `now_ms`.
    ///
    /// Fails with [`Error::InvalidArgument`] for an empty batch, a field too long for its
    /// length field, or a batch larger than `max_batch_bytes`.
    ///
    /// ```
    /// use logq_log::{format::batch::EncodedBatch, Record};
    /// let batch = EncodedBatch::encode(&[Record::new(b"a"), Record::new(b"bc")], 1, 1 << 20).unwrap();
    /// assert_eq!(batch.record_count(), 2);
    /// ```
    pub fn encode(records: &[Record<'_>], now_ms: u64, max_batch_bytes: u32) -> Result<Self> {
        let plan = BatchPlan::new(records, now_ms, max_batch_bytes)?;
        Ok(Self::from_plan(&plan, records))
    }

    /// Encodes `records` as `plan` (made from them) says.
    pub fn from_plan(plan: &BatchPlan, records: &[Record<'_>]) -> Self {
        let mut bytes = Vec::with_capacity(plan.len());
        plan.write_into(records, &mut bytes);
        let body_crc = Self::precomputes_body_crc(plan.len()).then(|| {
            let mut body_crc = crc32fast::Hasher::new();
            body_crc.update(&bytes[BODY_FROM..]);
            body_crc
        });
        EncodedBatch {
            bytes,
            record_count: plan.record_count(),
            body_crc,
        }
    }

    /// Whether a batch of `len` bytes is worth encoding outside the writer lock with its body
    /// CRC precomputed; smaller ones are encoded and hashed once, in place, under the lock.
    pub fn precomputes_body_crc(len: usize) -> bool {
        len >= PRECOMPUTE_BODY_CRC_FROM
    }

    /// Encoded length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always false: a batch has at least one record.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Number of records.
    pub fn record_count(&self) -> u32 {
        self.record_count
    }

    /// Fills in the base offset, the durable watermark and the CRC; returns the final bytes.
    pub fn seal(&mut self, base_offset: u64, durable_watermark: u64) -> &[u8] {
        seal_in_place(
            &mut self.bytes,
            base_offset,
            durable_watermark,
            self.body_crc.as_ref(),
        );
        &self.bytes
    }
}

/// The decoded header of a valid batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    /// Bytes in the batch.
    pub len: u32,
    /// Stored CRC.
    pub crc: u32,
    /// Offset of the first record.
    pub base_offset: u64,
    /// Every offset below it was durable when the batch was written.
    pub durable_watermark: u64,
    /// Number of records.
    pub record_count: u32,
    /// Earliest record timestamp.
    pub first_timestamp_ms: u64,
    /// Latest record timestamp.
    pub max_timestamp_ms: u64,
}

impl BatchHeader {
    /// The offset after the last record.
    pub fn next_offset(&self) -> u64 {
        self.base_offset + u64::from(self.record_count)
    }

    /// Length as `u64`.
    pub fn len_u64(&self) -> u64 {
        u64::from(self.len)
    }
}

/// Why bytes are not a valid batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameProblem {
    /// The length field is zero (a zero-filled tail).
    ZeroLength,
    /// Fewer bytes remain than the batch needs.
    Truncated {
        /// Bytes the batch claims or needs.
        need: u64,
        /// Bytes that remain.
        have: u64,
    },
    /// The length is below the header size or above the maximum.
    LengthOutOfBounds(u32),
    /// The CRC does not match.
    CrcMismatch {
        /// In the batch.
        stored: u32,
        /// Over the bytes.
        computed: u32,
    },
    /// A field has a value logq never writes.
    BadField(String),
}

impl std::fmt::Display for FrameProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameProblem::ZeroLength => write!(f, "zero batch length (zero-filled space)"),
            FrameProblem::Truncated { need, have } => {
                write!(f, "batch needs {need} bytes but only {have} remain")
            }
            FrameProblem::LengthOutOfBounds(len) => write!(
                f,
                "batch length {len} is outside [{BATCH_HEADER_LEN}, configured maximum]"
            ),
            FrameProblem::CrcMismatch { stored, computed } => write!(
                f,
                "batch CRC mismatch: stored {stored:#010x}, computed {computed:#010x}"
            ),
            FrameProblem::BadField(what) => write!(f, "{what}"),
        }
    }
}

/// Validates the batch at the start of `bytes` (which may continue past it).
///
/// Checks, in order: the length against the bytes left and `max_batch_bytes`, the CRC, the
/// reserved fields, and that exactly `record count` well-formed records fill the batch. Never
/// allocates.
#[inline]
pub fn check_batch(bytes: &[u8], max_batch_bytes: u32) -> Result<BatchHeader, FrameProblem> {
    let have = to_u64(bytes.len());
    if bytes.len() < 4 {
        return Err(FrameProblem::Truncated { need: 4, have });
    }
    let len = le_u32(bytes, 0);
    if len == 0 {
        return Err(FrameProblem::ZeroLength);
    }
    if usize::try_from(len).map_or(true, |l| l < BATCH_HEADER_LEN)
        || len > max_batch_bytes.min(BATCH_BYTES_LIMIT)
    {
        return Err(FrameProblem::LengthOutOfBounds(len));
    }
    if u64::from(len) > have {
        return Err(FrameProblem::Truncated {
            need: u64::from(len),
            have,
        });
    }
    let batch = &bytes[..usize::try_from(len).unwrap_or(0)];
    let stored = le_u32(batch, 4);
    let computed = crc32fast::hash(&batch[CRC_FROM..]);
    if stored != computed {
        return Err(FrameProblem::CrcMismatch { stored, computed });
    }
    let header = BatchHeader {
        len,
        crc: stored,
        base_offset: le_u64(batch, 8),
        durable_watermark: le_u64(batch, 16),
        record_count: le_u32(batch, 24),
        first_timestamp_ms: le_u64(batch, 32),
        max_timestamp_ms: le_u64(batch, 40),
    };
    if header.record_count == 0 {
        return Err(FrameProblem::BadField("record count is zero".into()));
    }
    if le_u16(batch, 28) != 0 || le_u16(batch, 30) != 0 {
        return Err(FrameProblem::BadField(
            "reserved batch attributes set".into(),
        ));
    }
    if header
        .base_offset
        .checked_add(u64::from(header.record_count))
        .is_none()
    {
        return Err(FrameProblem::BadField("offsets overflow u64".into()));
    }
    let mut rest = &batch[BATCH_HEADER_LEN..];
    for index in 0..header.record_count {
        let offset = header.base_offset + u64::from(index);
        rest = parse_record(rest, offset, header.first_timestamp_ms)
            .map_err(|why| FrameProblem::BadField(format!("record {index}: {why}")))?
            .1;
    }
    if !rest.is_empty() {
        return Err(FrameProblem::BadField(format!(
            "{} bytes after the last record",
            rest.len()
        )));
    }
    Ok(header)
}

/// The records of a batch that passed [`check_batch`], borrowed from `bytes`.
pub(crate) fn records_of<'a>(
    header: &BatchHeader,
    bytes: &'a [u8],
) -> impl Iterator<Item = RecordView<'a>> + 'a {
    let first_ms = header.first_timestamp_ms;
    let base = header.base_offset;
    let mut rest = bytes.get(BATCH_HEADER_LEN..usize::try_from(header.len).unwrap_or(0));
    (0..header.record_count).map_while(move |index| {
        // `check_batch` parsed these exact bytes already, so this cannot fail.
        let (view, after) = parse_record(rest?, base + u64::from(index), first_ms).ok()?;
        rest = Some(after);
        Some(view)
    })
}
