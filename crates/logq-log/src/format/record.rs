//! Records inside a batch: what callers append and what readers get back.
//!
//! ```text
//! 0   u32      record length: bytes after this field
//! 4   u32      timestamp delta in ms from the batch's first timestamp
//! 8   u32      key length, or 0xFFFF_FFFF for "no key"
//! 12  [u8]     key
//! ..  u16      header count
//! ..  per header: u16 name length, name (UTF-8), u32 value length, value
//! ..  u32      payload length
//! ..  [u8]     payload
//! ```
//! The fields after the record length fill it exactly.

use super::{le_u16, le_u32};

/// Key length meaning "this record has no key".
pub const NO_KEY: u32 = u32::MAX;
/// Bytes of a record with no key, no headers and an empty payload.
pub const RECORD_OVERHEAD_BYTES: usize = 4 + 4 + 4 + 2 + 4;

/// A record to append; it borrows everything, so appending copies the bytes once.
///
/// ```
/// use logq_log::Record;
/// let headers = [("type", &b"order"[..])];
/// let record = Record::new(b"{\"id\":1001}").key(b"o-1001").headers(&headers);
/// assert_eq!(record.payload, b"{\"id\":1001}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Milliseconds since the Unix epoch; 0 means "stamp it when appended".
    pub timestamp_ms: u64,
    /// Optional key.
    pub key: Option<&'a [u8]>,
    /// Header names and values.
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The payload.
    pub payload: &'a [u8],
}

impl<'a> Record<'a> {
    /// A record with only a payload.
    pub fn new(payload: &'a [u8]) -> Self {
        Record {
            timestamp_ms: 0,
            key: None,
            headers: &[],
            payload,
        }
    }

    /// Sets the key.
    pub fn key(mut self, key: &'a [u8]) -> Self {
        self.key = Some(key);
        self
    }

    /// Sets the headers.
    pub fn headers(mut self, headers: &'a [(&'a str, &'a [u8])]) -> Self {
        self.headers = headers;
        self
    }

    /// Sets the timestamp.
    pub fn timestamp_ms(mut self, timestamp_ms: u64) -> Self {
        self.timestamp_ms = timestamp_ms;
        self
    }

    /// Encoded size of the record, length field included; `None` if a field is too long.
    pub fn encoded_len(&self) -> Option<usize> {
        let mut len = RECORD_OVERHEAD_BYTES.checked_add(self.payload.len())?;
        u32::try_from(self.payload.len()).ok()?;
        if let Some(key) = self.key {
            if u32::try_from(key.len()).ok()? == NO_KEY {
                return None;
            }
            len = len.checked_add(key.len())?;
        }
        u16::try_from(self.headers.len()).ok()?;
        for (name, value) in self.headers {
            u16::try_from(name.len()).ok()?;
            u32::try_from(value.len()).ok()?;
            len = len.checked_add(2 + name.len() + 4 + value.len())?;
        }
        u32::try_from(len - 4).ok()?;
        Some(len)
    }

    /// Appends the encoding to `out`; the caller checked [`Record::encoded_len`].
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>, timestamp_delta_ms: u32, len: usize) {
        let body = u32::try_from(len - 4).unwrap_or(u32::MAX);
        out.extend_from_slice(&body.to_le_bytes());
        out.extend_from_slice(&timestamp_delta_ms.to_le_bytes());
        match self.key {
            Some(key) => {
                out.extend_from_slice(&u32::try_from(key.len()).unwrap_or(0).to_le_bytes());
                out.extend_from_slice(key);
            }
            None => out.extend_from_slice(&NO_KEY.to_le_bytes()),
        }
        out.extend_from_slice(&u16::try_from(self.headers.len()).unwrap_or(0).to_le_bytes());
        for (name, value) in self.headers {
            out.extend_from_slice(&u16::try_from(name.len()).unwrap_or(0).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&u32::try_from(value.len()).unwrap_or(0).to_le_bytes());
            out.extend_from_slice(value);
        }
        out.extend_from_slice(&u32::try_from(self.payload.len()).unwrap_or(0).to_le_bytes());
        out.extend_from_slice(self.payload);
    }
}

/// A record read from the log, borrowing from the mapped segment (zero copy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordView<'a> {
    /// Its offset in the log.
    pub offset: u64,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// The key, if any.
    pub key: Option<&'a [u8]>,
    /// The payload.
    pub payload: &'a [u8],
    header_count: u16,
    header_bytes: &'a [u8],
}

impl<'a> RecordView<'a> {
    /// The headers as (name, value) pairs, in the order they were appended.
    pub fn headers(&self) -> HeaderIter<'a> {
        HeaderIter {
            rest: self.header_bytes,
            left: self.header_count,
        }
    }

    /// Copies the record into an owned value.
    pub fn to_owned_record(&self) -> OwnedRecord {
        OwnedRecord {
            offset: self.offset,
            timestamp_ms: self.timestamp_ms,
            key: self.key.map(<[u8]>::to_vec),
            headers: self
                .headers()
                .map(|(name, value)| (name.to_owned(), value.to_vec()))
                .collect(),
            payload: self.payload.to_vec(),
        }
    }
}

/// An owned copy of a record read from the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedRecord {
    /// Its offset in the log.
    pub offset: u64,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// The key, if any.
    pub key: Option<Vec<u8>>,
    /// Header names and values.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The payload.
    pub payload: Vec<u8>,
}

/// Iterates over the headers of a [`RecordView`].
#[derive(Clone, Debug)]
pub struct HeaderIter<'a> {
    rest: &'a [u8],
    left: u16,
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        // The bytes were checked by `parse_record` when the view was made.
        let (name, value, rest) = split_header(self.rest).ok()?;
        self.rest = rest;
        self.left -= 1;
        Some((name, value))
    }
}

/// What is wrong with a record's bytes.
pub(crate) type RecordProblem = String;

#[inline]
fn take<'a>(bytes: &'a [u8], n: usize, what: &str) -> Result<(&'a [u8], &'a [u8]), RecordProblem> {
    if bytes.len() < n {
        return Err(format!("{what} needs {n} bytes, {} left", bytes.len()));
    }
    Ok(bytes.split_at(n))
}

#[inline]
fn take_len<'a>(
    bytes: &'a [u8],
    width: usize,
    what: &str,
) -> Result<(usize, &'a [u8]), RecordProblem> {
    let (raw, rest) = take(bytes, width, what)?;
    let value = if width == 2 {
        u32::from(le_u16(raw, 0))
    } else {
        le_u32(raw, 0)
    };
    let value = usize::try_from(value).map_err(|_| format!("{what} {value} too large"))?;
    Ok((value, rest))
}

fn split_header(bytes: &[u8]) -> Result<(&str, &[u8], &[u8]), RecordProblem> {
    let (name_len, rest) = take_len(bytes, 2, "header name length")?;
    let (name, rest) = take(rest, name_len, "header name")?;
    let name = std::str::from_utf8(name).map_err(|_| "header name is not UTF-8".to_string())?;
    let (value_len, rest) = take_len(rest, 4, "header value length")?;
    let (value, rest) = take(rest, value_len, "header value")?;
    Ok((name, value, rest))
}

/// Parses one record at the start of `bytes`; returns it and the bytes after it.
#[inline]
pub(crate) fn parse_record(
    bytes: &[u8],
    offset: u64,
    first_timestamp_ms: u64,
) -> Result<(RecordView<'_>, &[u8]), RecordProblem> {
    let (body_len, rest) = take_len(bytes, 4, "record length")?;
    let (body, after) = take(rest, body_len, "record")?;
    let (delta, body) = take_len(body, 4, "timestamp delta")?;
    let (raw_key_len, mut body) = take(body, 4, "key length")?;
    let key = match le_u32(raw_key_len, 0) {
        NO_KEY => None,
        key_len => {
            let key_len = usize::try_from(key_len).map_err(|_| "key too long".to_string())?;
            let (key, rest) = take(body, key_len, "key")?;
            body = rest;
            Some(key)
        }
    };
    let (header_count, body) = take_len(body, 2, "header count")?;
    let header_start = body;
    let mut rest = body;
    for _ in 0..header_count {
        rest = split_header(rest)?.2;
    }
    let header_bytes = &header_start[..header_start.len() - rest.len()];
    let (payload_len, rest) = take_len(rest, 4, "payload length")?;
    let (payload, rest) = take(rest, payload_len, "payload")?;
    if !rest.is_empty() {
        return Err(format!("{} bytes after the payload", rest.len()));
    }
    let view = RecordView {
        offset,
        timestamp_ms: first_timestamp_ms.saturating_add(super::to_u64(delta)),
        key,
        payload,
        header_count: u16::try_from(header_count).unwrap_or(0),
        header_bytes,
    };
    Ok((view, after))
}
