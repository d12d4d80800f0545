//! The idempotent-send index: dedup id → id of the message first sent with it, within a
//! horizon of age and count, and its snapshot file.
//!
//! The dedup id travels in the message itself (header `logq-dedup-id`), so the log is the
//! source of truth: on open the newest snapshot is loaded and the log is scanned only from the
//! snapshot's offset on, which bounds open time. A snapshot is written only after the log is
//! durable through its offset, so it never names a message a power cut could take back.
//!
//! Snapshot file `dedup-NNNNNNNNNNNNNNNNNNNN.snap` (N = the log offset the scan starts at):
//! ```text
//! 0   [u8; 8]  magic "LOGQDDUP"
//! 8   u16      format version (1)
//! 10  u16      header length (32)
//! 12  u32      entry count
//! 16  u64      scan offset: entries cover every message below it
//! 24  u32      reserved (0)
//! 28  u32      CRC-32 of bytes [0, 28)
//! entries, oldest first: u64 message offset, u64 timestamp ms, u16 id length, id (UTF-8)
//! last 4 bytes: CRC-32 of every byte before them
//! ```

use crate::options::DedupOptions;
use logq_log::format::{le_u32, le_u64};
use std::collections::{HashMap, VecDeque};

/// Magic bytes of a dedup snapshot.
pub const DEDUP_MAGIC: [u8; 8] = *b"LOGQDDUP";
const HEADER_LEN: usize = 32;
/// The longest dedup id accepted.
pub const DEDUP_ID_BYTES_MAX: usize = 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    offset: u64,
    timestamp_ms: u64,
}

/// The in-memory index.
#[derive(Debug)]
pub(crate) struct DedupIndex {
    by_id: HashMap<String, Entry>,
    order: VecDeque<(u64, String)>,
    max_age_ms: u64,
    max_entries: usize,
}

impl DedupIndex {
    pub fn new(options: &DedupOptions) -> Self {
        DedupIndex {
            by_id: HashMap::new(),
            order: VecDeque::new(),
            max_age_ms: u64::try_from(options.max_age.as_millis()).unwrap_or(u64::MAX),
            max_entries: options.max_entries,
        }
    }

    /// Number of remembered ids.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Forgets ids older than the horizon or beyond the count.
    pub fn expire(&mut self, now_ms: u64) {
        while let Some((timestamp_ms, _)) = self.order.front() {
            let too_old = now_ms.saturating_sub(*timestamp_ms) > self.max_age_ms;
            if !too_old && self.order.len() <= self.max_entries {
                break;
            }
            if let Some((_, id)) = self.order.pop_front() {
                self.by_id.remove(&id);
            }
        }
    }

    /// The message first sent with `id`, if within the horizon.
    pub fn lookup(&mut self, id: &str, now_ms: u64) -> Option<u64> {
        self.expire(now_ms);
        self.by_id.get(id).map(|e| e.offset)
    }

    /// Remembers `id` for the message at `offset`. Keeps the first sender on a repeat.
    pub fn insert(&mut self, id: &str, offset: u64, timestamp_ms: u64) {
        if self.by_id.contains_key(id) {
            return;
        }
        self.by_id.insert(
            id.to_owned(),
            Entry {
                offset,
                timestamp_ms,
            },
        );
        self.order.push_back((timestamp_ms, id.to_owned()));
    }

    /// Drops ids whose messages are at or after `next_offset` (never durable after a crash).
    pub fn retain_below(&mut self, next_offset: u64) {
        self.by_id.retain(|_, e| e.offset < next_offset);
        let by_id = &self.by_id;
        self.order.retain(|(_, id)| by_id.contains_key(id));
    }

    /// Encodes a snapshot covering every message below `scan_offset`.
    pub fn encode(&self, scan_offset: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.order.len() * 32 + 4);
        out.extend_from_slice(&DEDUP_MAGIC);
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&u16::try_from(HEADER_LEN).unwrap_or(0).to_le_bytes());
        out.extend_from_slice(
            &u32::try_from(self.order.len())
                .unwrap_or(u32::MAX)
                .to_le_bytes(),
        );
        out.extend_from_slice(&scan_offset.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        let crc = crc32fast::hash(&out[..28]);
        out.extend_from_slice(&crc.to_le_bytes());
        for (_, id) in &self.order {
            let Some(entry) = self.by_id.get(id) else {
                continue;
            };
            out.extend_from_slice(&entry.offset.to_le_bytes());
            out.extend_from_slice(&entry.timestamp_ms.to_le_bytes());
            out.extend_from_slice(&u16::try_from(id.len()).unwrap_or(0).to_le_bytes());
            out.extend_from_slice(id.as_bytes());
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes a snapshot; returns the index and its scan offset, or `(byte, reason)`.
    pub fn decode(bytes: &[u8], options: &DedupOptions) -> Result<(Self, u64), (u64, String)> {
        let at = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        if bytes.len() < HEADER_LEN + 4 {
            return Err((0, "shorter than a dedup snapshot".into()));
        }
        if bytes[..8] != DEDUP_MAGIC {
            return Err((0, "not a dedup snapshot (wrong magic)".into()));
        }
        if le_u32(bytes, 28) != crc32fast::hash(&bytes[..28]) {
            return Err((28, "header CRC mismatch".into()));
        }
        if u16::from_le_bytes([bytes[8], bytes[9]]) != 1 {
            return Err((8, "unsupported dedup snapshot version".into()));
        }
        let crc_at = bytes.len() - 4;
        if le_u32(bytes, crc_at) != crc32fast::hash(&bytes[..crc_at]) {
            return Err((at(crc_at), "CRC mismatch".into()));
        }
        let count = le_u32(bytes, 12);
        let scan_offset = le_u64(bytes, 16);
        let body = &bytes[HEADER_LEN..crc_at];
        if u64::from(count) * 18 > at(body.len()) {
            return Err((12, format!("entry count {count} does not fit")));
        }
        let mut index = DedupIndex::new(options);
        let mut position = 0usize;
        for n in 0..count {
            let entry_at = HEADER_LEN + position;
            let rest = &body[position..];
            if rest.len() < 18 {
                return Err((at(entry_at), format!("entry {n} truncated")));
            }
            let offset = le_u64(rest, 0);
            let timestamp_ms = le_u64(rest, 8);
            let len = usize::from(u16::from_le_bytes([rest[16], rest[17]]));
            if len > DEDUP_ID_BYTES_MAX || rest.len() < 18 + len {
                return Err((
                    at(entry_at),
                    format!("entry {n} id length {len} out of bounds"),
                ));
            }
            let id = std::str::from_utf8(&rest[18..18 + len])
                .map_err(|_| (at(entry_at), format!("entry {n} id is not UTF-8")))?;
            if offset >= scan_offset {
                return Err((
                    at(entry_at),
                    format!("entry {n} names offset {offset} beyond the snapshot"),
                ));
            }
            index.insert(id, offset, timestamp_ms);
            position += 18 + len;
        }
        if position != body.len() {
            return Err((
                at(HEADER_LEN + position),
                "bytes after the last entry".into(),
            ));
        }
        Ok((index, scan_offset))
    }
}

/// The file name of the snapshot at `scan_offset`.
pub(crate) fn file_name(scan_offset: u64) -> String {
    format!("dedup-{scan_offset:020}.snap")
}

/// The scan offset in a snapshot file name.
pub(crate) fn parse_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("dedup-")?.strip_suffix(".snap")?;
    (digits.len() == 20).then(|| digits.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn options(max_entries: usize) -> DedupOptions {
        DedupOptions {
            max_age: Duration::from_secs(10),
            max_entries,
            snapshot_interval_sends: 10,
        }
    }

    #[test]
    fn horizon_by_age_and_count() {
        let mut index = DedupIndex::new(&options(2));
        index.insert("a", 0, 1_000);
        index.insert("b", 1, 2_000);
        index.insert("a", 9, 2_500);
        assert_eq!(index.lookup("a", 3_000), Some(0), "the first sender wins");
        index.insert("c", 2, 3_000);
        assert_eq!(
            index.lookup("a", 3_000),
            None,
            "count cap forgets the oldest"
        );
        assert_eq!(index.lookup("b", 11_999), Some(1));
        assert_eq!(index.lookup("b", 12_001), None, "age cap");
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn snapshot_round_trip_and_damage() {
        let mut index = DedupIndex::new(&options(10));
        index.insert("o-1001", 4, 100);
        index.insert("o-1002", 7, 200);
        let bytes = index.encode(8);
        let (mut back, scan) = DedupIndex::decode(&bytes, &options(10)).unwrap();
        assert_eq!(scan, 8);
        assert_eq!(back.lookup("o-1002", 300), Some(7));
        for cut in 0..bytes.len() {
            assert!(DedupIndex::decode(&bytes[..cut], &options(10)).is_err());
        }
        let mut flipped = bytes.clone();
        flipped[40] ^= 1;
        assert!(DedupIndex::decode(&flipped, &options(10)).is_err());
        assert!(
            DedupIndex::decode(&index.encode(5), &options(10)).is_err(),
            "entry beyond scan offset"
        );
    }
}
