//! Walking the bytes of a segment: its header, then valid batches and the damaged ranges
//! between them.
//!
//! Unlike the log's reader, which stops at the first bad batch, the walker resynchronises: after
//! a damaged range it searches for the next valid batch whose offsets could follow, so that a
//! tool can show (and `repair` can account for) everything that survived.

use logq_log::format::batch::{check_batch, BatchHeader, BATCH_HEADER_LEN};
use logq_log::format::segment_header::{self, HeaderProblem, SEGMENT_HEADER_LEN};
use logq_log::format::FORMAT_VERSION;

/// What the 32-byte segment header says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderState {
    /// A valid header for the base offset of the file name.
    Ok,
    /// Not a logq segment at all (wrong magic).
    Foreign,
    /// Written by a newer logq.
    FutureVersion(u16),
    /// Short, zeroed, a CRC mismatch, reserved bits, or a base offset that differs from the
    /// file name: the message says which.
    Damaged(String),
}

/// Checks the header at the start of `bytes` against the base offset of the file name.
pub fn check_header(bytes: &[u8], base_offset: u64) -> HeaderState {
    match segment_header::decode(bytes, base_offset) {
        Ok(()) => HeaderState::Ok,
        Err(HeaderProblem::WrongMagic) => HeaderState::Foreign,
        Err(HeaderProblem::FutureVersion(v)) => HeaderState::FutureVersion(v),
        Err(HeaderProblem::Short(len)) => HeaderState::Damaged(format!(
            "file of {len} bytes is shorter than the {SEGMENT_HEADER_LEN}-byte segment header"
        )),
        Err(HeaderProblem::Zeroed) => HeaderState::Damaged("segment header is all zeros".into()),
        Err(HeaderProblem::Damaged(why)) => HeaderState::Damaged(format!("segment header: {why}")),
        Err(HeaderProblem::WrongBaseOffset { found, expected }) => HeaderState::Damaged(format!(
            "header base offset {found} differs from the file name's {expected}"
        )),
    }
}

/// The newest format version this build reads.
pub const SUPPORTED_VERSION: u16 = FORMAT_VERSION;

/// One piece of a segment after its header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// A valid batch at the expected offset.
    Batch {
        /// Byte position in the file.
        position: u64,
        /// Its header.
        header: BatchHeader,
    },
    /// Bytes that are not a valid next batch, up to the next valid batch or the end.
    Damage {
        /// Byte position where the damage starts.
        position: u64,
        /// Bytes in the damaged range.
        len: u64,
        /// The offset the batch at `position` should have started with.
        expected_offset: u64,
        /// What is wrong with the bytes at `position`.
        reason: String,
    },
    /// Zeros from `position` to the end of the file (preallocated space of the active segment).
    ZeroTail {
        /// Where the zeros start.
        position: u64,
        /// How many bytes of zeros.
        len: u64,
    },
}

/// Iterates over the [`Piece`]s of a segment's bytes after its header.
#[derive(Debug)]
pub struct Walker<'a> {
    bytes: &'a [u8],
    position: usize,
    expected: u64,
    batch_bytes_max: u32,
    done: bool,
}

impl<'a> Walker<'a> {
    /// Walks `bytes` (a whole segment file) from the end of its header, expecting the first
    /// batch to start at `base_offset`.
    pub fn new(bytes: &'a [u8], base_offset: u64, batch_bytes_max: u32) -> Self {
        Walker {
            bytes,
            position: SEGMENT_HEADER_LEN,
            expected: base_offset,
            batch_bytes_max,
            done: false,
        }
    }

    /// The offset the next batch should start at.
    pub fn expected_offset(&self) -> u64 {
        self.expected
    }
}

impl Iterator for Walker<'_> {
    type Item = Piece;

    fn next(&mut self) -> Option<Piece> {
        if self.done || self.position >= self.bytes.len() {
            return None;
        }
        let at = self.position;
        let rest = &self.bytes[at..];
        let reason = match check_batch(rest, self.batch_bytes_max) {
            Ok(header) if header.base_offset == self.expected => {
                self.position = at.saturating_add(to_usize(header.len_u64()));
                self.expected = header.next_offset();
                return Some(Piece::Batch {
                    position: to_u64(at),
                    header,
                });
            }
            Ok(header) => format!(
                "batch starts at offset {} but {} was expected",
                header.base_offset, self.expected
            ),
            Err(problem) => problem.to_string(),
        };
        if logq_log::format::all_zero(rest) {
            self.done = true;
            return Some(Piece::ZeroTail {
                position: to_u64(at),
                len: to_u64(rest.len()),
            });
        }
        let expected_offset = self.expected;
        let end = match next_valid(self.bytes, at + 1, self.expected, self.batch_bytes_max) {
            Some((found, header)) => {
                self.position = found;
                self.expected = header.base_offset;
                found
            }
            None => {
                self.done = true;
                self.bytes.len()
            }
        };
        Some(Piece::Damage {
            position: to_u64(at),
            len: to_u64(end - at),
            expected_offset,
            reason,
        })
    }
}

/// The first valid batch at or after byte `from` whose offsets could follow `expected`
/// (cheap length and offset filters run before any CRC).
pub fn next_valid(
    bytes: &[u8],
    from: usize,
    expected: u64,
    batch_bytes_max: u32,
) -> Option<(usize, BatchHeader)> {
    let mut position = from;
    while position + BATCH_HEADER_LEN <= bytes.len() {
        let len = le_u32(&bytes[position..]);
        if len == 0 {
            // A batch cannot start where its 4 length bytes are zero: skip zero runs fast.
            let nonzero = bytes[position..].iter().position(|b| *b != 0)?;
            position += nonzero.saturating_sub(3).max(1);
            continue;
        }
        let remaining = bytes.len() - position;
        let plausible_len = usize::try_from(len)
            .is_ok_and(|l| (BATCH_HEADER_LEN..=remaining).contains(&l))
            && len <= batch_bytes_max;
        if plausible_len {
            let base = le_u64(&bytes[position + 8..]);
            if base >= expected && base - expected <= to_u64(bytes.len()) {
                if let Ok(header) = check_batch(&bytes[position..], batch_bytes_max) {
                    return Some((position, header));
                }
            }
        }
        position += 1;
    }
    None
}

fn le_u32(bytes: &[u8]) -> u32 {
    let mut raw = [0u8; 4];
    raw.copy_from_slice(&bytes[..4]);
    u32::from_le_bytes(raw)
}

fn le_u64(bytes: &[u8]) -> u64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(raw)
}

/// `usize` to `u64` (lossless on every supported platform).
pub fn to_u64(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// `u64` to `usize`, saturating (positions come from files we hold in memory).
pub fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}
