//! The 32-byte header at the start of every segment file.
//!
//! ```text
//! 0   [u8; 8]  magic "LOGQSEG\0"
//! 8   u16      format version (1)
//! 10  u16      header length (32)
//! 12  u32      flags (0; every bit reserved)
//! 16  u64      base offset: the offset of the first record in the segment
//! 24  u32      reserved (0)
//! 28  u32      CRC-32 of bytes [0, 28)
//! ```

use super::{le_u16, le_u32, le_u64, FORMAT_VERSION};

/// Magic bytes at the start of a segment file.
pub const SEGMENT_MAGIC: [u8; 8] = *b"LOGQSEG\0";
/// Bytes in a segment header.
pub const SEGMENT_HEADER_LEN: usize = 32;
const CRC_AT: usize = 28;
const _: () = assert!(CRC_AT + 4 == SEGMENT_HEADER_LEN);

/// Why a segment header was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderProblem {
    /// Fewer than 32 bytes.
    Short(usize),
    /// All 32 bytes are zero (a created but never written file).
    Zeroed,
    /// Not the logq magic.
    WrongMagic,
    /// A version newer than [`FORMAT_VERSION`].
    FutureVersion(u16),
    /// The CRC does not match, or a reserved field is not zero.
    Damaged(String),
    /// The base offset differs from the file name.
    WrongBaseOffset {
        /// In the header.
        found: u64,
        /// From the file name.
        expected: u64,
    },
}

/// Encodes the header of a segment starting at `base_offset`.
///
/// ```
/// use logq_log::format::segment_header::{decode, encode};
/// assert_eq!(decode(&encode(7), 7), Ok(()));
/// ```
pub fn encode(base_offset: u64) -> [u8; SEGMENT_HEADER_LEN] {
    let mut out = [0u8; SEGMENT_HEADER_LEN];
    out[0..8].copy_from_slice(&SEGMENT_MAGIC);
    out[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    out[10..12].copy_from_slice(&u16::try_from(SEGMENT_HEADER_LEN).unwrap_or(0).to_le_bytes());
    out[16..24].copy_from_slice(&base_offset.to_le_bytes());
    let crc = crc32fast::hash(&out[..CRC_AT]);
    out[CRC_AT..].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Checks a segment header against the base offset its file name gives.
pub fn decode(bytes: &[u8], expected_base_offset: u64) -> Result<(), HeaderProblem> {
    if bytes.len() < SEGMENT_HEADER_LEN {
        return Err(HeaderProblem::Short(bytes.len()));
    }
    let header = &bytes[..SEGMENT_HEADER_LEN];
    if header.iter().all(|b| *b == 0) {
        return Err(HeaderProblem::Zeroed);
    }
    if header[0..8] != SEGMENT_MAGIC {
        return Err(HeaderProblem::WrongMagic);
    }
    let crc = le_u32(header, CRC_AT);
    if crc != crc32fast::hash(&header[..CRC_AT]) {
        return Err(HeaderProblem::Damaged("header CRC mismatch".into()));
    }
    let version = le_u16(header, 8);
    if version > FORMAT_VERSION {
        return Err(HeaderProblem::FutureVersion(version));
    }
    if version == 0 || usize::from(le_u16(header, 10)) != SEGMENT_HEADER_LEN {
        return Err(HeaderProblem::Damaged(format!(
            "version {version} with header length {}",
            le_u16(header, 10)
        )));
    }
    if le_u32(header, 12) != 0 || le_u32(header, 24) != 0 {
        return Err(HeaderProblem::Damaged("reserved header bits set".into()));
    }
    let found = le_u64(header, 16);
    if found != expected_base_offset {
        return Err(HeaderProblem::WrongBaseOffset {
            found,
            expected: expected_base_offset,
        });
    }
    Ok(())
}
