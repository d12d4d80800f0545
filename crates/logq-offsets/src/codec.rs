//! Little-endian primitives shared by the event and checkpoint codecs.
//!
//! The [`Reader`] bounds every length by the bytes left *before* allocating, reports the
//! byte position of every failure, and never panics on any input.

use crate::{DecodeError, EncodeError};

/// Appends fixed-width little-endian fields and length-prefixed byte strings.
pub(crate) struct Writer<'a> {
    pub(crate) out: &'a mut Vec<u8>,
}

impl Writer<'_> {
    pub(crate) fn u8(&mut self, value: u8) {
        self.out.push(value);
    }

    pub(crate) fn u32(&mut self, value: u32) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, value: u64) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    /// A `u32` count of entries, checked against `max`.
    pub(crate) fn count(
        &mut self,
        field: &'static str,
        len: usize,
        max: u32,
    ) -> Result<(), EncodeError> {
        let too_long = || EncodeError::TooLong {
            field,
            len: u64::try_from(len).unwrap_or(u64::MAX),
            max: u64::from(max),
        };
        let len = u32::try_from(len).map_err(|_| too_long())?;
        if len > max {
            return Err(too_long());
        }
        self.u32(len);
        Ok(())
    }

    /// A `u32` length then the bytes, checked against `max`.
    pub(crate) fn bytes(
        &mut self,
        field: &'static str,
        bytes: &[u8],
        max: u32,
    ) -> Result<(), EncodeError> {
        self.count(field, bytes.len(), max)?;
        self.out.extend_from_slice(bytes);
        Ok(())
    }
}

/// Reads fields from one record, tracking the byte position.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    pub(crate) fn position(&self) -> usize {
        self.at
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, needed: usize, expected: &'static str) -> Result<&'a [u8], DecodeError> {
        let remaining = self.remaining();
        if needed > remaining {
            return Err(DecodeError::Truncated {
                at: self.at,
                expected,
                needed: u64::try_from(needed).unwrap_or(u64::MAX),
                remaining,
            });
        }
        let slice = &self.bytes[self.at..self.at + needed];
        self.at += needed;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, expected: &'static str) -> Result<[u8; N], DecodeError> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N, expected)?);
        Ok(array)
    }

    pub(crate) fn u8(&mut self, expected: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(expected)?[0])
    }

    pub(crate) fn u32(&mut self, expected: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array(expected)?))
    }

    pub(crate) fn u64(&mut self, expected: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array(expected)?))
    }

    /// A 0/1 flag.
    pub(crate) fn flag(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        let at = self.at;
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::Invalid {
                at,
                field,
                reason: "flag is neither 0 nor 1",
            }),
        }
    }

    /// A `u32` count of entries of at least `entry_bytes_min` bytes each, bounded by `max`
    /// and by the bytes left, so a caller may allocate `count` entries.
    pub(crate) fn count(
        &mut self,
        field: &'static str,
        max: u32,
        entry_bytes_min: usize,
    ) -> Result<usize, DecodeError> {
        let at = self.at;
        let count = self.u32(field)?;
        if count > max {
            return Err(DecodeError::TooLong {
                at,
                field,
                len: u64::from(count),
                max: u64::from(max),
            });
        }
        let count = usize::try_from(count).map_err(|_| DecodeError::Invalid {
            at,
            field,
            reason: "count does not fit in memory",
        })?;
        let needed = count.saturating_mul(entry_bytes_min);
        if needed > self.remaining() {
            return Err(DecodeError::Truncated {
                at: self.at,
                expected: field,
                needed: u64::try_from(needed).unwrap_or(u64::MAX),
                remaining: self.remaining(),
            });
        }
        Ok(count)
    }

    /// A `u32` length then that many bytes, bounded by `max` and by the bytes left.
    pub(crate) fn bytes(&mut self, field: &'static str, max: u32) -> Result<&'a [u8], DecodeError> {
        let len = self.count(field, max, 1)?;
        self.take(len, field)
    }

    /// Like [`bytes`](Self::bytes), and the bytes must be UTF-8.
    pub(crate) fn string(&mut self, field: &'static str, max: u32) -> Result<String, DecodeError> {
        let at = self.at;
        let bytes = self.bytes(field, max)?;
        let text = std::str::from_utf8(bytes).map_err(|_| DecodeError::Invalid {
            at,
            field,
            reason: "not UTF-8",
        })?;
        Ok(text.to_owned())
    }

    /// Fails unless every byte was read.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            remaining => Err(DecodeError::TrailingBytes {
                at: self.at,
                remaining,
            }),
        }
    }
}
