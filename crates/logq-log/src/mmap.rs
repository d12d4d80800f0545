//! The only module with `unsafe` code: read-only memory maps of segment files.
//!
//! Invariant: a map covers only bytes that exist in the file when it is made, and logq never
//! shrinks a file below a length it has mapped while the log is open (torn tails are cut during
//! recovery, before any map of that file exists; retention unlinks whole files, which keeps
//! their pages alive for existing maps).
#![allow(unsafe_code)]

use crate::fs::MappedBytes;
use memmap2::{Mmap, MmapOptions};
use std::fs::File;
use std::io;

/// A read-only memory map of the first `len` bytes of a file.
pub(crate) struct ReadOnlyMap {
    map: Mmap,
}

impl ReadOnlyMap {
    /// Maps the first `len` bytes of `file`; the caller checked `len <= file length`.
    pub(crate) fn new(file: &File, len: usize) -> io::Result<Self> {
        // SAFETY: memmap2 requires that the mapped file is not modified or truncated by anyone
        // while the map is alive, or reads through the map may see changing bytes or fault.
        // logq maps only bytes below the file's current length; the writer never rewrites or
        // truncates bytes that were already written below a mapped length while the log is
        // open (it only appends), and retention removes whole files (unlinking keeps the pages
        // of open maps valid). An outside process that truncates a live segment breaks this;
        // docs/DESIGN.md states that operators must not edit segment files in place.
        let map = unsafe { MmapOptions::new().len(len).map(file)? };
        Ok(Self { map })
    }
}

impl MappedBytes for ReadOnlyMap {
    fn bytes(&self) -> &[u8] {
        &self.map
    }
}
