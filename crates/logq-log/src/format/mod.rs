//! The bytes logq-log writes: segment headers, batches, records and index files.
//!
//! `docs/FORMAT.md` is the byte-level specification of everything here; it changes in the
//! same commit as this module. All integers are little-endian. Every length read from disk is
//! bounded by the bytes that remain and by a configured maximum before anything is allocated.

pub mod batch;
pub mod index_file;
pub mod names;
pub mod record;
pub mod segment_header;

/// The newest format version this build writes and reads (segment and index files).
pub const FORMAT_VERSION: u16 = 1;

/// Reads a little-endian `u16` at `at`; the caller checked the bounds.
pub fn le_u16(bytes: &[u8], at: usize) -> u16 {
    let mut raw = [0u8; 2];
    raw.copy_from_slice(&bytes[at..at + 2]);
    u16::from_le_bytes(raw)
}

/// Reads a little-endian `u32` at `at`; the caller checked the bounds.
///
/// ```
/// assert_eq!(logq_log::format::le_u32(&[0, 1, 0, 0, 0], 1), 1);
/// ```
pub fn le_u32(bytes: &[u8], at: usize) -> u32 {
    let mut raw = [0u8; 4];
    raw.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(raw)
}

/// Reads a little-endian `u64` at `at`; the caller checked the bounds.
pub fn le_u64(bytes: &[u8], at: usize) -> u64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(raw)
}

/// Converts a `u64` file position to `usize`, failing on 32-bit overflow.
/// Whether every byte of `bytes` is zero (a preallocated, never-written region). Checks 64
/// bytes at a time so the compiler vectorises it: recovery runs it over up to the 1 MiB of
/// preallocated zeros after a tail segment's data, where a byte-at-a-time loop was most of
/// the CPU of reopening a queue.
///
/// ```
/// assert!(logq_log::format::all_zero(&[0u8; 100]));
/// assert!(!logq_log::format::all_zero(&[0, 0, 1]));
/// ```
pub fn all_zero(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(64);
    chunks
        .by_ref()
        .all(|chunk| chunk.iter().fold(0u8, |acc, b| acc | b) == 0)
        && chunks.remainder().iter().all(|b| *b == 0)
}

pub(crate) fn to_usize(value: u64) -> Option<usize> {
    usize::try_from(value).ok()
}

/// Converts a `usize` length to `u64` (lossless on every supported platform).
pub(crate) fn to_u64(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}
