//! [`FileImage`]: the contents of one simulated file, as the running system sees them (the
//! live view) and as they would survive a power cut (the durable image plus what happens to
//! the pending writes).
//!
//! Invariants:
//! - `live` is what reads and maps return; every write and `set_len` changes it at once.
//! - `durable` changes only in [`FileImage::sync`] (pending changes applied in order) and in
//!   [`FileImage::settle`] (a crash).
//! - `pending` holds the changes since the last successful or failed sync, oldest first. A
//!   failed sync empties it without touching `durable` (Linux marks the pages clean): those
//!   changes stay in `live` until a crash and are then lost.

use crate::rng::SimRng;

/// Bytes in a sector: the unit in which a crash tears a write.
pub const SECTOR_BYTES: u64 = 512;

/// A change to a file made since its last sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PendingChange {
    /// `bytes` written at `offset`.
    Write { offset: u64, bytes: Vec<u8> },
    /// The file truncated or extended to `len` bytes.
    SetLen(u64),
}

/// What a crash does to one pending write (chosen independently per write).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WriteFate {
    Kept,
    Dropped,
    /// Only the first sectors of the write reach the disk.
    Torn,
    /// The sectors of the write hold random bytes.
    Garbage,
}

/// How likely each fate of a pending write is during one crash; drawn once per crash so that
/// some crashes keep almost everything and others lose almost everything.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CrashProfile {
    /// Weights of kept, dropped, torn and garbage.
    write_weights: [u64; 4],
    /// Chance in 4 that a pending `set_len` is applied.
    set_len_in_4: u64,
    /// Chance in 4 that a file whose pending writes reached past its end grows with zeros.
    zero_tail_in_4: u64,
    /// Chance in 4 that a pending directory operation is applied.
    pub dir_op_in_4: u64,
    /// Whether a sector rewritten with the bytes it already durably held can turn to garbage.
    pub garbage_on_rewrite: bool,
}

impl CrashProfile {
    /// A profile drawn from `rng`; `garbage_on_rewrite` selects the stricter sector model.
    pub fn draw(rng: &mut SimRng, garbage_on_rewrite: bool) -> Self {
        let mut write_weights = [0u64; 4];
        for weight in &mut write_weights {
            *weight = rng.below(4);
        }
        if write_weights.iter().all(|w| *w == 0) {
            write_weights[rng.index(4)] = 1;
        }
        CrashProfile {
            write_weights,
            set_len_in_4: rng.below(5),
            zero_tail_in_4: rng.below(3),
            dir_op_in_4: rng.below(5),
            garbage_on_rewrite,
        }
    }

    fn write_fate(&self, rng: &mut SimRng) -> WriteFate {
        match rng.weighted(&self.write_weights) {
            0 => WriteFate::Kept,
            1 => WriteFate::Dropped,
            2 => WriteFate::Torn,
            _ => WriteFate::Garbage,
        }
    }
}

/// The contents of one file.
#[derive(Clone, Debug, Default)]
pub(crate) struct FileImage {
    /// What the running system reads.
    pub live: Vec<u8>,
    /// What is on the platter.
    pub durable: Vec<u8>,
    /// Changes since the last sync, oldest first.
    pub pending: Vec<PendingChange>,
}

/// Converts a byte count to `usize` for indexing (simulated files live in memory, so every
/// length fits).
pub(crate) fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// `usize` to `u64` (never fails on supported platforms).
pub(crate) fn to_u64(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// Writes `bytes` at `offset` of `image`, zero-filling any gap.
fn write_into(image: &mut Vec<u8>, offset: u64, bytes: &[u8]) {
    let start = to_usize(offset);
    let end = start + bytes.len();
    if image.len() < end {
        image.resize(end, 0);
    }
    image[start..end].copy_from_slice(bytes);
}

fn apply(image: &mut Vec<u8>, change: &PendingChange) {
    match change {
        PendingChange::Write { offset, bytes } => write_into(image, *offset, bytes),
        PendingChange::SetLen(len) => image.resize(to_usize(*len), 0),
    }
}

/// Splits the write `[offset, offset + len)` at absolute sector boundaries; returns the
/// lengths of the pieces.
pub(crate) fn sector_pieces(offset: u64, len: usize) -> Vec<usize> {
    let mut pieces = Vec::new();
    let mut at = offset;
    let end = offset + to_u64(len);
    while at < end {
        let boundary = (at / SECTOR_BYTES + 1) * SECTOR_BYTES;
        let piece_end = boundary.min(end);
        pieces.push(to_usize(piece_end - at));
        at = piece_end;
    }
    pieces
}

impl FileImage {
    /// A file whose durable image and live view are both `bytes`.
    pub fn settled(bytes: Vec<u8>) -> Self {
        FileImage {
            live: bytes.clone(),
            durable: bytes,
            pending: Vec::new(),
        }
    }

    /// Writes `bytes` at `offset` (pending until a sync).
    pub fn write(&mut self, offset: u64, bytes: &[u8]) {
        write_into(&mut self.live, offset, bytes);
        self.pending.push(PendingChange::Write {
            offset,
            bytes: bytes.to_vec(),
        });
    }

    /// Truncates or extends to `len` (pending until a sync).
    pub fn set_len(&mut self, len: u64) {
        self.live.resize(to_usize(len), 0);
        self.pending.push(PendingChange::SetLen(len));
    }

    /// A successful sync: every pending change becomes durable.
    pub fn sync(&mut self) {
        for change in std::mem::take(&mut self.pending) {
            apply(&mut self.durable, &change);
        }
    }

    /// A failed sync: the pending changes will never become durable, though the live view
    /// keeps showing them until a crash.
    pub fn fail_sync(&mut self) {
        self.pending.clear();
    }

    /// The bytes found after a power cut: the durable image with each pending change kept,
    /// dropped, torn at a sector boundary or turned to garbage, and maybe a zero-filled tail.
    pub fn settle(&self, profile: &CrashProfile, rng: &mut SimRng) -> Vec<u8> {
        let mut image = self.durable.clone();
        let mut reach = 0;
        for change in &self.pending {
            match change {
                PendingChange::SetLen(_) => {
                    if rng.chance(profile.set_len_in_4, 4) {
                        apply(&mut image, change);
                    }
                }
                PendingChange::Write { offset, bytes } => {
                    reach = reach.max(offset + to_u64(bytes.len()));
                    let fate = profile.write_fate(rng);
                    settle_write(
                        &mut image,
                        *offset,
                        bytes,
                        fate,
                        profile.garbage_on_rewrite,
                        rng,
                    );
                }
            }
        }
        let len = to_u64(image.len());
        if reach > len && rng.chance(profile.zero_tail_in_4, 4) {
            let grown = rng.range_inclusive(len + 1, reach);
            image.resize(to_usize(grown), 0);
        }
        image
    }
}

fn settle_write(
    image: &mut Vec<u8>,
    offset: u64,
    bytes: &[u8],
    fate: WriteFate,
    garbage_on_rewrite: bool,
    rng: &mut SimRng,
) {
    match fate {
        WriteFate::Kept => write_into(image, offset, bytes),
        WriteFate::Dropped => {}
        WriteFate::Torn => {
            let pieces = sector_pieces(offset, bytes.len());
            let kept_pieces = rng.index(pieces.len());
            let kept: usize = pieces[..kept_pieces].iter().sum();
            if kept > 0 {
                write_into(image, offset, &bytes[..kept]);
            }
        }
        WriteFate::Garbage => {
            // Garbage stays inside the bytes of the write: sectors shared with bytes that
            // were already durable keep those bytes (powersafe overwrite, as SQLite assumes).
            // Unless `garbage_on_rewrite`, bytes the write repeats (the image already holds
            // them) stay intact and garbage lands only where new bytes were being written (a
            // sector-atomic drive: the sector holds its old bytes or its new ones, so bytes
            // that are the same in both survive).
            let mut at = 0;
            for piece in sector_pieces(offset, bytes.len()) {
                let start = to_usize(offset) + at;
                let mut noise = vec![0u8; piece];
                rng.fill(&mut noise);
                if !garbage_on_rewrite {
                    for (i, byte) in noise.iter_mut().enumerate() {
                        if image.get(start + i) == Some(&bytes[at + i]) {
                            *byte = bytes[at + i];
                        }
                    }
                }
                write_into(image, offset + to_u64(at), &noise);
                at += piece;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sector_pieces_split_at_absolute_boundaries() {
        assert_eq!(sector_pieces(500, 30), vec![12, 18]);
        assert_eq!(sector_pieces(0, 1024), vec![512, 512]);
        assert_eq!(sector_pieces(1000, 0), Vec::<usize>::new());
    }

    #[test]
    fn sync_applies_pending_in_order_and_fail_sync_loses_them() {
        let mut file = FileImage::default();
        file.write(0, b"abcdef");
        file.set_len(3);
        file.sync();
        assert_eq!(file.durable, b"abc");
        file.write(3, b"xyz");
        file.fail_sync();
        assert_eq!(file.live, b"abcxyz");
        file.write(6, b"!");
        file.sync();
        assert_eq!(file.durable, b"abc\0\0\0!");
    }

    #[test]
    fn identical_rewrite_turns_to_garbage_only_in_the_strict_model() {
        let durable = vec![9u8; 1024];
        let mut lenient = durable.clone();
        settle_write(
            &mut lenient,
            0,
            &durable,
            WriteFate::Garbage,
            false,
            &mut SimRng::new(1),
        );
        assert_eq!(lenient, durable);
        let mut strict = durable.clone();
        settle_write(
            &mut strict,
            0,
            &durable,
            WriteFate::Garbage,
            true,
            &mut SimRng::new(1),
        );
        assert_ne!(strict, durable);
        let mut fresh = vec![9u8; 512];
        settle_write(
            &mut fresh,
            0,
            &durable,
            WriteFate::Garbage,
            false,
            &mut SimRng::new(1),
        );
        assert_eq!(&fresh[..512], &durable[..512]);
        assert_ne!(&fresh[512..], &durable[512..]);
    }

    #[test]
    fn lenient_garbage_spares_repeated_bytes_of_a_partly_new_sector() {
        // A rewrite of durable bytes 0..100 together with new bytes 100..200 in one sector.
        let durable = vec![5u8; 100];
        let mut bytes = durable.clone();
        bytes.extend_from_slice(&[6u8; 100]);
        let mut image = durable.clone();
        settle_write(
            &mut image,
            0,
            &bytes,
            WriteFate::Garbage,
            false,
            &mut SimRng::new(3),
        );
        assert_eq!(&image[..100], &durable[..]);
        assert_ne!(&image[100..200], &bytes[100..200]);
        let mut strict = durable.clone();
        settle_write(
            &mut strict,
            0,
            &bytes,
            WriteFate::Garbage,
            true,
            &mut SimRng::new(3),
        );
        assert_ne!(&strict[..100], &durable[..]);
    }

    #[test]
    fn torn_write_keeps_a_sector_prefix() {
        let mut image = vec![1u8; 100];
        let bytes = vec![7u8; 1000];
        // With 3 pieces (100..512, 512..1024, 1024..1100) a torn write keeps 0, 1 or 2.
        for seed in 0..50 {
            let mut copy = image.clone();
            settle_write(
                &mut copy,
                100,
                &bytes,
                WriteFate::Torn,
                false,
                &mut SimRng::new(seed),
            );
            assert!(matches!(copy.len(), 100 | 512 | 1024), "len {}", copy.len());
            assert!(copy[100..].iter().all(|b| *b == 7));
        }
        settle_write(
            &mut image,
            100,
            &bytes,
            WriteFate::Kept,
            false,
            &mut SimRng::new(0),
        );
        assert_eq!(image.len(), 1100);
    }
}
