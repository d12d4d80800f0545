//! The records of a batch that passed `check_batch`, parsed from its bytes (FORMAT.md §2.3).
//!
//! logq-log parses records only behind `Log::batches_from`, whose batches cannot be made from
//! raw bytes; this module reads the same layout for batches the CLI found by scanning files.
//! Every length is bounded by the bytes left, so a batch that somehow does not parse ends the
//! iteration early instead of panicking.

use logq_log::format::batch::{BatchHeader, BATCH_HEADER_LEN};
use logq_log::format::record::NO_KEY;

/// One record of a batch, borrowing the batch's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedRecord<'a> {
    /// Its offset.
    pub offset: u64,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// The key, if any.
    pub key: Option<&'a [u8]>,
    /// Header names and values, in order.
    pub headers: Vec<(&'a str, &'a [u8])>,
    /// The payload.
    pub payload: &'a [u8],
}

/// Iterates over the records of `batch` (the batch's bytes, header included).
pub fn records<'a>(
    header: &BatchHeader,
    batch: &'a [u8],
) -> impl Iterator<Item = ParsedRecord<'a>> + 'a {
    let base = header.base_offset;
    let first_ms = header.first_timestamp_ms;
    let mut rest = batch.get(BATCH_HEADER_LEN..).unwrap_or(&[]);
    (0..header.record_count).map_while(move |i| {
        let (record, after) = parse(rest, base + u64::from(i), first_ms)?;
        rest = after;
        Some(record)
    })
}

fn take(bytes: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    (bytes.len() >= n).then(|| bytes.split_at(n))
}

fn take_u16(bytes: &[u8]) -> Option<(u16, &[u8])> {
    let (raw, rest) = take(bytes, 2)?;
    Some((u16::from_le_bytes([raw[0], raw[1]]), rest))
}

fn take_u32(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let (raw, rest) = take(bytes, 4)?;
    Some((u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]), rest))
}

fn take_sized(bytes: &[u8], len: u32) -> Option<(&[u8], &[u8])> {
    take(bytes, usize::try_from(len).ok()?)
}

fn parse(bytes: &[u8], offset: u64, first_ms: u64) -> Option<(ParsedRecord<'_>, &[u8])> {
    let (body_len, rest) = take_u32(bytes)?;
    let (body, after) = take_sized(rest, body_len)?;
    let (delta, body) = take_u32(body)?;
    let (key_len, mut body) = take_u32(body)?;
    let key = if key_len == NO_KEY {
        None
    } else {
        let (key, rest) = take_sized(body, key_len)?;
        body = rest;
        Some(key)
    };
    let (header_count, mut body) = take_u16(body)?;
    let mut headers = Vec::with_capacity(usize::from(header_count).min(body.len() / 6));
    for _ in 0..header_count {
        let (name_len, rest) = take_u16(body)?;
        let (name, rest) = take(rest, usize::from(name_len))?;
        let (value_len, rest) = take_u32(rest)?;
        let (value, rest) = take_sized(rest, value_len)?;
        headers.push((std::str::from_utf8(name).ok()?, value));
        body = rest;
    }
    let (payload_len, body) = take_u32(body)?;
    let (payload, body) = take_sized(body, payload_len)?;
    if !body.is_empty() {
        return None;
    }
    let record = ParsedRecord {
        offset,
        timestamp_ms: first_ms.saturating_add(u64::from(delta)),
        key,
        headers,
        payload,
    };
    Some((record, after))
}
