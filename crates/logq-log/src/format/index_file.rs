//! Sparse index files: derived data, validated before use and rebuilt when wrong.
//!
//! ```text
//! header (32 bytes)
//! 0   [u8; 8]  magic "LOGQIDX\0"
//! 8   u16      format version (1)
//! 10  u16      header length (32)
//! 12  u32      flags: bit 0 = sealed (a trailer follows the entries); other bits 0
//! 16  u64      base offset of the segment
//! 24  u32      reserved (0)
//! 28  u32      CRC-32 of bytes [0, 28)
//! entries (8 bytes each, offsets and positions strictly increasing)
//! 0   u32      record offset minus the base offset
//! 4   u32      byte position of the batch that starts at that offset
//! trailer of a sealed index (24 bytes)
//! 0   u64      end offset: the offset after the segment's last record
//! 8   u32      entry count
//! 12  u32      byte position of the segment's last batch
//! 16  u32      segment length in bytes
//! 20  u32      CRC-32 of every byte of the file before this field
//! ```
//! An open (tail) index is the header plus entries appended as batches are written, never
//! fsynced: after a crash it may miss entries or end in garbage, so each entry is checked
//! against the batch it points to before it is used.

use super::segment_header::SEGMENT_HEADER_LEN;
use super::{le_u16, le_u32, le_u64, FORMAT_VERSION};

/// Magic bytes of an index file.
pub const INDEX_MAGIC: [u8; 8] = *b"LOGQIDX\0";
/// Bytes in the index header.
pub const INDEX_HEADER_LEN: usize = 32;
/// Bytes per entry.
pub const INDEX_ENTRY_LEN: usize = 8;
/// Bytes in the trailer of a sealed index.
pub const INDEX_TRAILER_LEN: usize = 24;
const SEALED_FLAG: u32 = 1;

/// One index entry: the batch starting at `offset` is at byte `position`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    /// Absolute offset of the batch's first record.
    pub offset: u64,
    /// Byte position of the batch in the segment file.
    pub position: u32,
}

/// What a sealed index says about its whole segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealedTrailer {
    /// The offset after the last record.
    pub end_offset: u64,
    /// Byte position of the last batch.
    pub last_batch_position: u32,
    /// Segment length in bytes.
    pub segment_len: u32,
}

/// A decoded index file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedIndex {
    /// Entries in increasing order.
    pub entries: Vec<IndexEntry>,
    /// Present when the index was sealed and its CRC matched.
    pub sealed: Option<SealedTrailer>,
}

/// Encodes the header of an index for the segment at `base_offset`.
pub fn encode_header(base_offset: u64, sealed: bool) -> [u8; INDEX_HEADER_LEN] {
    let mut out = [0u8; INDEX_HEADER_LEN];
    out[0..8].copy_from_slice(&INDEX_MAGIC);
    out[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    out[10..12].copy_from_slice(&u16::try_from(INDEX_HEADER_LEN).unwrap_or(0).to_le_bytes());
    let flags = if sealed { SEALED_FLAG } else { 0 };
    out[12..16].copy_from_slice(&flags.to_le_bytes());
    out[16..24].copy_from_slice(&base_offset.to_le_bytes());
    let crc = crc32fast::hash(&out[..28]);
    out[28..32].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Encodes one entry relative to `base_offset`; `None` if it does not fit.
pub fn encode_entry(base_offset: u64, entry: IndexEntry) -> Option<[u8; INDEX_ENTRY_LEN]> {
    let relative = u32::try_from(entry.offset.checked_sub(base_offset)?).ok()?;
    let mut out = [0u8; INDEX_ENTRY_LEN];
    out[0..4].copy_from_slice(&relative.to_le_bytes());
    out[4..8].copy_from_slice(&entry.position.to_le_bytes());
    Some(out)
}

/// Encodes a complete sealed index.
///
/// ```
/// use logq_log::format::index_file::*;
/// let entries = [IndexEntry { offset: 10, position: 32 }];
/// let trailer = SealedTrailer { end_offset: 12, last_batch_position: 32, segment_len: 200 };
/// let bytes = encode_sealed(10, &entries, trailer);
/// let decoded = decode(&bytes, 10).unwrap();
/// assert_eq!(decoded.sealed, Some(trailer));
/// assert_eq!(decoded.entries, entries);
/// ```
pub fn encode_sealed(base_offset: u64, entries: &[IndexEntry], trailer: SealedTrailer) -> Vec<u8> {
    let mut out =
        Vec::with_capacity(INDEX_HEADER_LEN + entries.len() * INDEX_ENTRY_LEN + INDEX_TRAILER_LEN);
    out.extend_from_slice(&encode_header(base_offset, true));
    let mut count = 0u32;
    for entry in entries {
        if let Some(raw) = encode_entry(base_offset, *entry) {
            out.extend_from_slice(&raw);
            count += 1;
        }
    }
    out.extend_from_slice(&trailer.end_offset.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&trailer.last_batch_position.to_le_bytes());
    out.extend_from_slice(&trailer.segment_len.to_le_bytes());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Decodes an index file for the segment at `base_offset`.
///
/// A damaged header or sealed trailer is an error (the caller rebuilds the index); an open
/// index keeps the longest prefix of well-formed, increasing entries.
pub fn decode(bytes: &[u8], base_offset: u64) -> Result<DecodedIndex, String> {
    if bytes.len() < INDEX_HEADER_LEN {
        return Err(format!("index file of {} bytes has no header", bytes.len()));
    }
    if bytes[0..8] != INDEX_MAGIC {
        return Err("wrong index magic".into());
    }
    if le_u32(bytes, 28) != crc32fast::hash(&bytes[..28]) {
        return Err("index header CRC mismatch".into());
    }
    let version = le_u16(bytes, 8);
    if version != FORMAT_VERSION || usize::from(le_u16(bytes, 10)) != INDEX_HEADER_LEN {
        return Err(format!("unsupported index version {version}"));
    }
    if le_u64(bytes, 16) != base_offset {
        return Err(format!(
            "index is for base offset {}, not {base_offset}",
            le_u64(bytes, 16)
        ));
    }
    let flags = le_u32(bytes, 12);
    let body = &bytes[INDEX_HEADER_LEN..];
    if flags == SEALED_FLAG {
        decode_sealed(bytes, body, base_offset)
    } else if flags == 0 {
        Ok(DecodedIndex {
            entries: decode_entries(body, base_offset, true),
            sealed: None,
        })
    } else {
        Err(format!("unknown index flags {flags:#x}"))
    }
}

fn decode_sealed(whole: &[u8], body: &[u8], base_offset: u64) -> Result<DecodedIndex, String> {
    if body.len() < INDEX_TRAILER_LEN
        || !(body.len() - INDEX_TRAILER_LEN).is_multiple_of(INDEX_ENTRY_LEN)
    {
        return Err(format!(
            "sealed index body of {} bytes is malformed",
            body.len()
        ));
    }
    let crc_at = whole.len() - 4;
    if le_u32(whole, crc_at) != crc32fast::hash(&whole[..crc_at]) {
        return Err("sealed index CRC mismatch".into());
    }
    let entry_bytes = &body[..body.len() - INDEX_TRAILER_LEN];
    let trailer = &body[body.len() - INDEX_TRAILER_LEN..];
    let entries = decode_entries(entry_bytes, base_offset, false);
    let count = le_u32(trailer, 8);
    if usize::try_from(count).ok() != Some(entries.len())
        || entries.len() * INDEX_ENTRY_LEN != entry_bytes.len()
    {
        return Err("sealed index entries are not increasing".into());
    }
    Ok(DecodedIndex {
        entries,
        sealed: Some(SealedTrailer {
            end_offset: le_u64(trailer, 0),
            last_batch_position: le_u32(trailer, 12),
            segment_len: le_u32(trailer, 16),
        }),
    })
}

fn decode_entries(bytes: &[u8], base_offset: u64, stop_at_bad: bool) -> Vec<IndexEntry> {
    let mut entries: Vec<IndexEntry> = Vec::with_capacity(bytes.len() / INDEX_ENTRY_LEN);
    for raw in bytes.chunks_exact(INDEX_ENTRY_LEN) {
        let entry = IndexEntry {
            offset: base_offset.saturating_add(u64::from(le_u32(raw, 0))),
            position: le_u32(raw, 4),
        };
        let increasing = entries
            .last()
            .is_none_or(|last| entry.offset > last.offset && entry.position > last.position);
        let plausible = usize::try_from(entry.position).is_ok_and(|p| p >= SEGMENT_HEADER_LEN);
        if !(increasing && plausible) {
            if stop_at_bad {
                break;
            }
            return Vec::new();
        }
        entries.push(entry);
    }
    entries
}
