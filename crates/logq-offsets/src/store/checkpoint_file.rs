//! Checkpoint files: every group's state at one journal offset, written atomically.
//!
//! ```text
//! checkpoint-NNNNNNNNNNNNNNNNNNNN.ckpt   (N = journal offset replay starts from, 20 digits)
//! 0   [u8; 8]  magic "LOGQCKPT"
//! 8   u16      format version (1)
//! 10  u16      header length (32)
//! 12  u32      group count
//! 16  u64      journal offset: replay starts here (equals the number in the file name)
//! 24  u32      next group id (ids are never reused)
//! 28  u32      CRC-32 of bytes [0, 28)
//! then, per group: u32 length L, then L bytes of an encoded `Checkpoint` (docs/FORMAT.md §5.4)
//! last 4 bytes: CRC-32 of every byte before them
//! ```
//! Written as `<name>.tmp`, fdatasynced, renamed over `<name>`, then the directory fsynced.

use crate::Checkpoint;
use logq_log::format::{le_u32, le_u64};

/// Magic bytes of a checkpoint file.
pub const CHECKPOINT_MAGIC: [u8; 8] = *b"LOGQCKPT";
/// Format version of checkpoint files.
pub const CHECKPOINT_FILE_VERSION: u16 = 1;
const HEADER_LEN: usize = 32;
/// The largest checkpoint file read (a bound before allocating).
pub const CHECKPOINT_FILE_BYTES_MAX: u64 = 4 * 1024 * 1024 * 1024;

/// The decoded content of a checkpoint file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointFile {
    /// Replay of the journal starts at this offset.
    pub journal_offset: u64,
    /// The next group id to assign.
    pub next_group_id: u32,
    /// Every group's state.
    pub groups: Vec<Checkpoint>,
}

/// The file name of the checkpoint at `journal_offset`.
pub fn file_name(journal_offset: u64) -> String {
    format!("checkpoint-{journal_offset:020}.ckpt")
}

/// The journal offset in a checkpoint file name.
pub fn parse_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("checkpoint-")?.strip_suffix(".ckpt")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

impl CheckpointFile {
    /// Encodes the file.
    pub fn encode(&self) -> Result<Vec<u8>, crate::EncodeError> {
        let too_long = |field: &'static str, len: usize| crate::EncodeError::TooLong {
            field,
            len: u64::try_from(len).unwrap_or(u64::MAX),
            max: u64::from(u32::MAX),
        };
        let count = u32::try_from(self.groups.len())
            .map_err(|_| too_long("group count", self.groups.len()))?;
        let mut out = Vec::with_capacity(HEADER_LEN + 64 * self.groups.len() + 4);
        out.extend_from_slice(&CHECKPOINT_MAGIC);
        out.extend_from_slice(&CHECKPOINT_FILE_VERSION.to_le_bytes());
        out.extend_from_slice(&u16::try_from(HEADER_LEN).unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&self.journal_offset.to_le_bytes());
        out.extend_from_slice(&self.next_group_id.to_le_bytes());
        let header_crc = crc32fast::hash(&out[..28]);
        out.extend_from_slice(&header_crc.to_le_bytes());
        let mut group_bytes = Vec::new();
        for group in &self.groups {
            group_bytes.clear();
            group.encode_into(&mut group_bytes)?;
            let len = u32::try_from(group_bytes.len())
                .map_err(|_| too_long("group checkpoint", group_bytes.len()))?;
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&group_bytes);
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        Ok(out)
    }

    /// Decodes a checkpoint file; `Err((byte offset, reason))`.
    pub fn decode(bytes: &[u8]) -> Result<Self, (u64, String)> {
        let at = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        if bytes.len() < HEADER_LEN + 4 {
            return Err((
                at(bytes.len()),
                format!("{} bytes is shorter than a checkpoint", bytes.len()),
            ));
        }
        if bytes[..8] != CHECKPOINT_MAGIC {
            return Err((0, "not a logq checkpoint (wrong magic)".into()));
        }
        if le_u32(bytes, 28) != crc32fast::hash(&bytes[..28]) {
            return Err((28, "checkpoint header CRC mismatch".into()));
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if version != CHECKPOINT_FILE_VERSION {
            return Err((8, format!("checkpoint format version {version} is not supported (this logq reads {CHECKPOINT_FILE_VERSION})")));
        }
        let crc_at = bytes.len() - 4;
        if le_u32(bytes, crc_at) != crc32fast::hash(&bytes[..crc_at]) {
            return Err((at(crc_at), "checkpoint CRC mismatch".into()));
        }
        let count = le_u32(bytes, 12);
        let journal_offset = le_u64(bytes, 16);
        let next_group_id = le_u32(bytes, 24);
        let body = &bytes[HEADER_LEN..crc_at];
        // Each group needs at least its 4-byte length: bound the count before allocating.
        if u64::from(count) * 4 > at(body.len()) {
            return Err((12, format!("group count {count} does not fit in the file")));
        }
        let mut groups = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        let mut position = 0usize;
        for index in 0..count {
            let start = HEADER_LEN + position;
            let rest = &body[position..];
            if rest.len() < 4 {
                return Err((at(start), format!("group {index}: length truncated")));
            }
            let len = usize::try_from(le_u32(rest, 0)).unwrap_or(usize::MAX);
            if len > rest.len() - 4 {
                return Err((
                    at(start),
                    format!("group {index}: length {len} beyond the file"),
                ));
            }
            let group = Checkpoint::decode(&rest[4..4 + len])
                .map_err(|e| (at(start + 4), format!("group {index}: {e}")))?;
            groups.push(group);
            position += 4 + len;
        }
        if position != body.len() {
            return Err((
                at(HEADER_LEN + position),
                "bytes after the last group".into(),
            ));
        }
        Ok(CheckpointFile {
            journal_offset,
            next_group_id,
            groups,
        })
    }
}
