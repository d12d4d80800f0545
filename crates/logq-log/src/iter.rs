//! Zero-copy reading: [`Batch`] borrows a memory-mapped segment, [`BatchIter`] walks them.

use crate::error::{Error, Result};
use crate::format::batch::{records_of, BatchHeader};
use crate::format::record::RecordView;
use crate::format::{to_u64, to_usize};
use crate::fs::MappedBytes;
use crate::log::Inner;
use crate::segment::{FoundBatch, Segment};
use std::sync::Arc;

/// A valid batch read from the log; its records borrow the mapped segment.
///
/// ```
/// use logq_log::{Log, LogOptions, Record};
/// let dir = tempfile::tempdir().unwrap();
/// let log = Log::open(dir.path(), LogOptions::default()).unwrap();
/// log.append(&[Record::new(b"a"), Record::new(b"b"), Record::new(b"c")]).unwrap();
/// let batch = log.batches_from(1).next().unwrap().unwrap();
/// let payloads: Vec<&[u8]> = batch.records().map(|r| r.payload).collect();
/// assert_eq!(payloads, [&b"b"[..], &b"c"[..]]);
/// ```
#[derive(Clone)]
pub struct Batch {
    map: Arc<dyn MappedBytes>,
    position: usize,
    header: BatchHeader,
    from: u64,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("header", &self.header)
            .field("from", &self.from)
            .finish()
    }
}

impl Batch {
    pub(crate) fn new(found: FoundBatch, from: u64) -> Self {
        Batch {
            map: found.map,
            position: found.position,
            header: found.header,
            from,
        }
    }

    /// The batch header (offsets, count, timestamps, CRC).
    pub fn header(&self) -> &BatchHeader {
        &self.header
    }

    /// The byte position of the batch in its segment file.
    pub fn position(&self) -> u64 {
        to_u64(self.position)
    }

    /// The encoded bytes of the whole batch.
    pub fn bytes(&self) -> &[u8] {
        let len = to_usize(self.header.len_u64()).unwrap_or(0);
        self.map
            .bytes()
            .get(self.position..self.position + len)
            .unwrap_or(&[])
    }

    /// The records at or after the offset this batch was asked for, without copying.
    pub fn records(&self) -> impl Iterator<Item = RecordView<'_>> + '_ {
        let from = self.from;
        records_of(&self.header, self.bytes()).filter(move |r| r.offset >= from)
    }
}

/// Iterates over batches from an offset; see [`crate::Log::batches_from`].
pub struct BatchIter {
    inner: Arc<Inner>,
    next: u64,
    /// The segment of the last batch, the map it was read from, and the position after it.
    cursor: Option<(Arc<Segment>, Arc<dyn MappedBytes>, usize)>,
    failed: bool,
}

impl BatchIter {
    pub(crate) fn new(inner: Arc<Inner>, from: u64) -> Self {
        BatchIter {
            inner,
            next: from,
            cursor: None,
            failed: false,
        }
    }

    /// The offset the next batch will start at (or hold).
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    /// The next batch in the segment the cursor is in, if there is one.
    fn next_in_segment(&mut self) -> Result<Option<FoundBatch>> {
        let Some((segment, map, position)) = self.cursor.take() else {
            return Ok(None);
        };
        if to_u64(position) >= segment.written_len() {
            return Ok(None);
        }
        // The map of the previous batch usually covers this one too (a segment has one map
        // until the tail grows past it): reuse it without taking the segment's lock.
        let map = if map.bytes().len() > position {
            map
        } else {
            segment.map_covering(to_u64(position) + 1)?
        };
        let header = segment.check_at(map.as_ref(), position)?;
        if header.base_offset != self.next {
            return Err(Error::corrupt(
                &segment.path,
                to_u64(position),
                format!(
                    "batch starts at offset {} but {} was expected",
                    header.base_offset, self.next
                ),
            ));
        }
        self.cursor = Some((segment, Arc::clone(&map), position));
        Ok(Some(FoundBatch {
            map,
            position,
            header,
        }))
    }

    fn advance(&mut self) -> Result<Option<Batch>> {
        if self.next >= self.inner.visible_offset() {
            return Ok(None);
        }
        self.inner.write_buffered(self.next)?;
        let found = match self.next_in_segment()? {
            Some(found) => found,
            None => {
                let (segment, found) = self.inner.find(self.next)?;
                self.cursor = Some((segment, Arc::clone(&found.map), found.position));
                found
            }
        };
        let batch = Batch::new(found, self.next);
        if let Some((_, _, position)) = self.cursor.as_mut() {
            *position += to_usize(batch.header.len_u64()).unwrap_or(usize::MAX);
        }
        self.next = batch.header.next_offset();
        Ok(Some(batch))
    }
}

impl Iterator for BatchIter {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.advance() {
            Ok(batch) => batch.map(Ok),
            Err(error) => {
                self.failed = true;
                Some(Err(error))
            }
        }
    }
}
