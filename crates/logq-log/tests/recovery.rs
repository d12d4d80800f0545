//! Recovery from torn, zero-filled, garbage and damaged files, on the real file system.

use logq_log::format::names::{index_file_name, segment_file_name};
use logq_log::{Durability, Error, Log, LogOptions, Record, RecoveryMode};
use std::fs;
use std::path::{Path, PathBuf};

fn payload(i: u64) -> Vec<u8> {
    format!(
        "payload-{i:04}-{}",
        "y".repeat(usize::try_from(i % 17).unwrap())
    )
    .into_bytes()
}

/// Writes `batches` single-record batches and returns the byte position of each batch in
/// the first segment plus the segment's final length.
fn build(dir: &Path, batches: u64, options: LogOptions) -> (Vec<u64>, u64) {
    let log = Log::open(dir, options.preallocate_bytes(0)).unwrap();
    let seg = dir.join(segment_file_name(0));
    let mut positions = Vec::new();
    for i in 0..batches {
        positions.push(fs::metadata(&seg).unwrap().len());
        log.append(&[Record::new(&payload(i))]).unwrap();
    }
    log.close().unwrap();
    (positions, fs::metadata(&seg).unwrap().len())
}

fn copy_dir(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.path().join(entry.file_name())).unwrap();
    }
    to
}

fn seg0(dir: &Path) -> PathBuf {
    dir.join(segment_file_name(0))
}

fn assert_prefix(log: &Log, count: u64) {
    assert_eq!(log.next_offset(), count);
    for i in 0..count {
        assert_eq!(log.read(i).unwrap().payload, payload(i), "offset {i}");
    }
}

#[test]
fn last_batch_torn_at_every_byte_is_cut() {
    let original = tempfile::tempdir().unwrap();
    let (positions, len) = build(original.path(), 5, LogOptions::default());
    let last = *positions.last().unwrap();
    for cut in last..len {
        let dir = copy_dir(original.path());
        let file = fs::OpenOptions::new()
            .write(true)
            .open(seg0(dir.path()))
            .unwrap();
        file.set_len(cut).unwrap();
        let log = Log::open(dir.path(), LogOptions::default()).unwrap();
        assert_prefix(&log, 4);
        if cut > last {
            assert_eq!(log.recovery_report().truncated.len(), 1, "cut at {cut}");
            assert_eq!(log.recovery_report().truncated[0].position, last);
        }
        assert_eq!(fs::metadata(seg0(dir.path())).unwrap().len(), last);
        // The log goes on from the cut.
        assert_eq!(log.append(&[Record::new(b"next")]).unwrap(), 4..5);
        drop(log);
        let log = Log::open(dir.path(), LogOptions::default()).unwrap();
        assert_eq!(log.read(4).unwrap().payload, b"next");
    }
}

#[test]
fn zero_filled_and_garbage_tails_are_cut() {
    let original = tempfile::tempdir().unwrap();
    let (_, len) = build(original.path(), 6, LogOptions::default());
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let garbage: Vec<u8> = (0..5000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    for tail in [
        vec![0u8; 8192],
        garbage,
        0xFFFF_FFFFu32.to_le_bytes().repeat(3),
    ] {
        let dir = copy_dir(original.path());
        let mut bytes = fs::read(seg0(dir.path())).unwrap();
        bytes.extend_from_slice(&tail);
        fs::write(seg0(dir.path()), &bytes).unwrap();
        let log = Log::open(dir.path(), LogOptions::default()).unwrap();
        assert_prefix(&log, 6);
        let after = fs::metadata(seg0(dir.path())).unwrap().len();
        if tail.iter().all(|b| *b == 0) {
            // Zeros after the last batch read as preallocated space: kept, nothing reported.
            assert!(log.recovery_report().is_clean());
            assert_eq!(after, len + 8192);
        } else {
            assert_eq!(after, len);
            assert_eq!(log.recovery_report().truncated.len(), 1);
        }
        assert_eq!(log.append(&[Record::new(b"next")]).unwrap(), 6..7);
        drop(log);
        let log = Log::open(dir.path(), LogOptions::default()).unwrap();
        assert_eq!(log.read(6).unwrap().payload, b"next");
    }
}

#[test]
fn damage_before_durable_batches_in_the_tail_is_corruption() {
    let original = tempfile::tempdir().unwrap();
    let (positions, len) = build(original.path(), 8, LogOptions::default());
    let damaged_at = positions[3];
    let dir = copy_dir(original.path());
    let mut bytes = fs::read(seg0(dir.path())).unwrap();
    bytes[usize::try_from(damaged_at).unwrap() + 60] ^= 0x10;
    fs::write(seg0(dir.path()), &bytes).unwrap();
    match Log::open(dir.path(), LogOptions::default()) {
        Err(Error::Corrupt {
            file,
            offset,
            reason,
        }) => {
            assert_eq!(file, seg0(dir.path()));
            assert_eq!(offset, damaged_at);
            assert!(reason.contains("CRC"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert_eq!(
        fs::read(seg0(dir.path())).unwrap(),
        bytes,
        "strict open changed nothing"
    );
    // Quarantine mode moves the damaged bytes aside and opens.
    let log = Log::open(
        dir.path(),
        LogOptions::default().recovery_mode(RecoveryMode::Quarantine),
    )
    .unwrap();
    assert_prefix(&log, 3);
    let quarantined = &log.recovery_report().quarantined;
    assert_eq!(quarantined.len(), 1);
    assert_eq!(quarantined[0].position, damaged_at);
    assert_eq!(quarantined[0].bytes, len - damaged_at);
    let saved = fs::read(&quarantined[0].quarantine_file).unwrap();
    assert_eq!(saved, bytes[usize::try_from(damaged_at).unwrap()..]);
}

#[test]
fn damage_followed_only_by_never_synced_batches_is_a_torn_region() {
    let original = tempfile::tempdir().unwrap();
    let options = LogOptions::default()
        .durability(Durability::Never)
        .preallocate_bytes(0);
    let log = Log::open(original.path(), options.clone()).unwrap();
    let seg = seg0(original.path());
    let mut positions = Vec::new();
    for i in 0..6u64 {
        positions.push(fs::metadata(&seg).unwrap().len());
        log.append(&[Record::new(&payload(i))]).unwrap();
    }
    drop(log); // no sync: no batch claims the bytes before it were durable
    let mut bytes = fs::read(&seg).unwrap();
    let at = usize::try_from(positions[2]).unwrap();
    bytes[at..at + 100].fill(0);
    fs::write(&seg, &bytes).unwrap();
    let log = Log::open(original.path(), options).unwrap();
    assert_prefix(&log, 2);
    let truncated = &log.recovery_report().truncated;
    assert_eq!(truncated.len(), 1);
    assert!(
        truncated[0].reason.contains("never durable"),
        "{}",
        truncated[0].reason
    );
}

#[test]
fn flipped_bit_in_a_sealed_segment_is_corrupt_on_read_never_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions::default()
        .segment_bytes_max(2048)
        .index_interval_bytes(128);
    let log = Log::open(dir.path(), options.clone()).unwrap();
    for i in 0..200u64 {
        log.append(&[Record::new(&payload(i))]).unwrap();
    }
    log.close().unwrap();
    let seg = seg0(dir.path());
    let mut bytes = fs::read(&seg).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs::write(&seg, &bytes).unwrap();
    let log = Log::open(dir.path(), options).unwrap();
    assert!(log.recovery_report().is_clean());
    let errors: Vec<Error> = (0..200u64).filter_map(|i| log.read(i).err()).collect();
    assert!(!errors.is_empty());
    for error in &errors {
        match error {
            Error::Corrupt { file, offset, .. } => {
                assert_eq!(file, &seg);
                assert!(*offset <= u64::try_from(middle).unwrap());
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }
    let iterated: Vec<_> = log.batches_from(0).collect();
    assert!(iterated
        .iter()
        .any(|b| matches!(b, Err(Error::Corrupt { .. }))));
    assert_eq!(fs::read(&seg).unwrap(), bytes, "nothing was cut");
    assert!(log.read(199).is_ok(), "other segments still read");
}

#[test]
fn missing_stale_and_damaged_indexes_are_rebuilt() {
    let original = tempfile::tempdir().unwrap();
    let options = LogOptions::default()
        .segment_bytes_max(4096)
        .index_interval_bytes(100);
    let log = Log::open(original.path(), options.clone()).unwrap();
    for i in 0..300u64 {
        log.append(&[Record::new(&payload(i))]).unwrap();
    }
    log.close().unwrap();
    let indexes: Vec<PathBuf> = fs::read_dir(original.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "idx"))
        .collect();
    assert!(indexes.len() > 3);
    type Mutation = fn(&Path, &[u8]);
    let mutations: [(&str, Mutation); 4] = [
        ("missing", |p, _| fs::remove_file(p).unwrap()),
        ("zeroed", |p, b| fs::write(p, vec![0u8; b.len()]).unwrap()),
        ("garbage entries", |p, b| {
            let mut b = b.to_vec();
            for byte in b.iter_mut().skip(40) {
                *byte = byte.wrapping_mul(31).wrapping_add(7);
            }
            fs::write(p, b).unwrap();
        }),
        ("stale (from another segment)", |p, _| {
            let other = p.with_file_name(index_file_name(0));
            if other != p {
                fs::copy(other, p).unwrap();
            } else {
                fs::write(p, b"LOGQIDX\0short").unwrap();
            }
        }),
    ];
    for (name, mutate) in mutations {
        let dir = copy_dir(original.path());
        for index in &indexes {
            let path = dir.path().join(index.file_name().unwrap());
            let bytes = fs::read(&path).unwrap();
            mutate(&path, &bytes);
        }
        let log = Log::open(dir.path(), options.clone()).unwrap();
        assert_prefix(&log, 300);
        let mut count = 0;
        for batch in log.batches_from(0) {
            count += batch.unwrap().records().count();
        }
        assert_eq!(count, 300, "{name}");
    }
}

fn write_header(path: &Path, magic: &[u8; 8], version: u16) {
    let mut header = [0u8; 32];
    header[..8].copy_from_slice(magic);
    header[8..10].copy_from_slice(&version.to_le_bytes());
    header[10..12].copy_from_slice(&32u16.to_le_bytes());
    let crc = crc32fast_hash(&header[..28]);
    header[28..].copy_from_slice(&crc.to_le_bytes());
    fs::write(path, header).unwrap();
}

fn crc32fast_hash(bytes: &[u8]) -> u32 {
    // CRC-32/IEEE, bitwise: independent of the engine's implementation.
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn foreign_and_future_files_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    write_header(&seg0(dir.path()), b"NOTLOGQ!", 1);
    let mut foreign = fs::read(seg0(dir.path())).unwrap();
    foreign.extend_from_slice(b"some other program's data\n");
    fs::write(seg0(dir.path()), &foreign).unwrap();
    let refused = Log::open(dir.path(), LogOptions::default());
    assert!(matches!(refused, Err(Error::Foreign { ref file, .. }) if *file == seg0(dir.path())));
    assert_eq!(
        fs::read(seg0(dir.path())).unwrap(),
        foreign,
        "refused, not touched"
    );
    // A lone garbage header is a creation cut short by a power cut: moved aside, kept.
    write_header(&seg0(dir.path()), b"NOTLOGQ!", 1);
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert_eq!(
        log.recovery_report().removed_unfinished_segments,
        vec![seg0(dir.path())]
    );
    assert!(dir
        .path()
        .join("00000000000000000000.log.quarantine")
        .exists());
    drop(log);
    fs::remove_dir_all(dir.path()).unwrap();
    fs::create_dir_all(dir.path()).unwrap();
    write_header(&seg0(dir.path()), b"LOGQSEG\0", 7);
    match Log::open_read_only(dir.path(), LogOptions::default()) {
        Err(Error::UnsupportedVersion {
            found: 7,
            supported: 1,
            file,
        }) => assert_eq!(file, seg0(dir.path())),
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
    let message = Log::open(dir.path(), LogOptions::default())
        .unwrap_err()
        .to_string();
    assert!(message.contains("format version 7"), "{message}");
}

#[test]
fn empty_and_header_only_segments() {
    // An empty tail file after a roll (crash before the header was written) is removed.
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 3, LogOptions::default());
    fs::write(dir.path().join(segment_file_name(3)), b"").unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert_prefix(&log, 3);
    assert_eq!(log.recovery_report().removed_unfinished_segments.len(), 1);
    assert!(!dir.path().join(segment_file_name(3)).exists());
    drop(log);
    // A header-only tail (a roll that completed, then nothing) is a valid empty segment.
    let header_only = dir.path().join(segment_file_name(3));
    fs::write(&header_only, logq_log::format::segment_header::encode(3)).unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert!(log.recovery_report().is_clean());
    assert_eq!(log.segment_count(), 2);
    assert_prefix(&log, 3);
    assert_eq!(
        log.append(&[Record::new(b"into the new segment")]).unwrap(),
        3..4
    );
    drop(log);
    assert!(fs::metadata(&header_only).unwrap().len() > 32);
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert_eq!(log.read(3).unwrap().payload, b"into the new segment");
    assert_eq!(log.read(2).unwrap().payload, payload(2));
    drop(log);
    // An empty file as the only segment is an unfinished first segment.
    let dir = tempfile::tempdir().unwrap();
    fs::write(seg0(dir.path()), b"").unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert_eq!(log.next_offset(), 0);
    assert_eq!(log.append(&[Record::new(b"first")]).unwrap(), 0..1);
}

#[test]
fn empty_sealed_segment_is_corrupt() {
    // Sealed segments are checked on first read: the empty one fails its reads, named.
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 3, LogOptions::default());
    let empty = dir.path().join(segment_file_name(3));
    fs::write(&empty, b"").unwrap();
    fs::write(
        dir.path().join(segment_file_name(9)),
        logq_log::format::segment_header::encode(9),
    )
    .unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert_eq!(log.read(2).unwrap().payload, payload(2));
    assert!(matches!(log.read(3), Err(Error::Corrupt { ref file, .. }) if *file == empty));
    drop(log);
    // A header-only sealed segment (a roll that left no batch before the next one) too.
    fs::write(&empty, logq_log::format::segment_header::encode(3)).unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    match log.read(5) {
        Err(Error::Corrupt { file, reason, .. }) => {
            assert_eq!(file, empty);
            assert!(reason.contains("holds no batch"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn absurd_length_in_a_sealed_segment_is_corrupt_without_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions::default().segment_bytes_max(1024);
    let log = Log::open(dir.path(), options.clone()).unwrap();
    for i in 0..40u64 {
        log.append(&[Record::new(&payload(i))]).unwrap();
    }
    drop(log);
    let seg = seg0(dir.path());
    let mut bytes = fs::read(&seg).unwrap();
    bytes[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
    fs::write(&seg, &bytes).unwrap();
    let log = Log::open(dir.path(), options).unwrap();
    match log.read(0) {
        Err(Error::Corrupt { offset, reason, .. }) => {
            assert_eq!(offset, 32);
            assert!(reason.contains("4294967295"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn segment_with_a_wrong_base_offset_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 2, LogOptions::default());
    fs::rename(seg0(dir.path()), dir.path().join(segment_file_name(5))).unwrap();
    assert!(matches!(
        Log::open(dir.path(), LogOptions::default()),
        Err(Error::Corrupt { offset: 16, .. })
    ));
}

#[test]
fn missing_middle_segment_is_detected_on_read() {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions::default().segment_bytes_max(512);
    let log = Log::open(dir.path(), options.clone()).unwrap();
    for i in 0..60u64 {
        log.append(&[Record::new(&payload(i))]).unwrap();
    }
    drop(log);
    let mut segments: Vec<PathBuf> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    segments.sort();
    assert!(segments.len() >= 4);
    fs::remove_file(&segments[1]).unwrap();
    let log = Log::open(dir.path(), options).unwrap();
    let result: Result<Vec<_>, _> = log.batches_from(0).collect();
    assert!(matches!(result, Err(Error::Corrupt { .. })), "{result:?}");
}

#[test]
fn preallocated_zeros_after_the_last_batch_are_not_damage() {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions::default().preallocate_bytes(64 * 1024);
    let log = Log::open(dir.path(), options.clone()).unwrap();
    for i in 0..10u64 {
        log.append(&[Record::new(&payload(i))]).unwrap();
    }
    drop(log); // a crash: the preallocated zeros stay
    let len = fs::metadata(seg0(dir.path())).unwrap().len();
    assert!(len >= 32 * 1024, "preallocated: {len}");
    let log = Log::open(dir.path(), options.clone()).unwrap();
    assert!(
        log.recovery_report().is_clean(),
        "{:?}",
        log.recovery_report()
    );
    assert_prefix(&log, 10);
    let reader = Log::open_read_only(dir.path(), options.clone()).unwrap();
    assert_eq!(reader.recovery_report().unreadable_tail_from, None);
    log.append(&[Record::new(&payload(10))]).unwrap();
    drop(log);
    let log = Log::open(dir.path(), options).unwrap();
    assert_prefix(&log, 11);
}

#[test]
fn sealed_segments_are_cut_to_their_batches() {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions::default()
        .segment_bytes_max(8 * 1024)
        .preallocate_bytes(4096);
    let log = Log::open(dir.path(), options.clone()).unwrap();
    for i in 0..200u64 {
        log.append(&[Record::new(&payload(i))]).unwrap();
    }
    assert!(log.segment_count() > 2);
    drop(log);
    let log = Log::open(dir.path(), options).unwrap();
    assert_prefix(&log, 200);
    assert!(log.recovery_report().is_clean());
}

#[test]
fn read_only_open_changes_no_byte_even_when_it_rebuilds_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions::default()
        .segment_bytes_max(1024)
        .index_interval_bytes(128);
    let log = Log::open(dir.path(), options.clone()).unwrap();
    for i in 0..60u64 {
        log.append(&[Record::new(&payload(i))]).unwrap();
    }
    drop(log);
    let index = dir.path().join(index_file_name(0));
    fs::remove_file(&index).unwrap();
    let before: Vec<(PathBuf, Vec<u8>)> = {
        let mut files: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| (p.clone(), fs::read(&p).unwrap()))
            .collect();
        files.sort();
        files
    };
    let reader = Log::open_read_only(dir.path(), options).unwrap();
    assert_prefix(&reader, 60);
    let mut after: Vec<(PathBuf, Vec<u8>)> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.clone(), fs::read(&p).unwrap()))
        .collect();
    after.sort();
    assert!(before == after, "a read-only open changed files");
    assert!(!index.exists());
}

#[test]
fn an_index_without_its_segment_is_removed_by_a_writer_and_left_by_a_reader() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), 5, LogOptions::default());
    // Retention removes a segment, then its index; a crash in between leaves the index.
    let stray = dir.path().join(index_file_name(1_000));
    fs::write(&stray, b"an index whose segment is gone").unwrap();
    let kept = dir.path().join(index_file_name(0));
    assert!(kept.exists());

    let reader = Log::open_read_only(dir.path(), LogOptions::default()).unwrap();
    assert_prefix(&reader, 5);
    drop(reader);
    assert!(stray.exists(), "a read-only open changes nothing");

    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert_prefix(&log, 5);
    assert!(!stray.exists(), "the stray index is removed");
    assert!(kept.exists(), "the index of a listed segment stays");
    log.close().unwrap();
}

#[test]
fn sealed_segments_open_on_first_read_and_their_damage_is_named_then() {
    // Open does not open sealed segments (its time does not grow with them): each is opened
    // and its header checked when first read. A damaged header in a middle segment lets the
    // log open, and reading that segment is an error naming the file; every other segment
    // reads back and appends go on. `segments()` opens all of them, so it reports the damage.
    let dir = tempfile::tempdir().unwrap();
    let options = LogOptions::default()
        .segment_bytes_max(256)
        .preallocate_bytes(0);
    let log = Log::open(dir.path(), options.clone()).unwrap();
    let mut bases = Vec::new();
    for i in 0..200u64 {
        log.append(&[Record::new(&payload(i))]).unwrap();
        let base = log.segments().unwrap().last().unwrap().base_offset;
        if bases.last() != Some(&base) {
            bases.push(base);
        }
    }
    drop(log);
    assert!(bases.len() > 40, "{} segments", bases.len());
    let log = Log::open(dir.path(), options.clone()).unwrap();
    assert!(log.recovery_report().is_clean());
    assert_eq!(log.segment_count(), bases.len());
    assert_prefix(&log, 200);
    assert_eq!(log.append(&[Record::new(&payload(200))]).unwrap(), 200..201);
    drop(log);

    let damaged_at = bases.len() / 2;
    let (first, end) = (bases[damaged_at], bases[damaged_at + 1]);
    let middle = dir.path().join(segment_file_name(first));
    let mut bytes = fs::read(&middle).unwrap();
    bytes[20] ^= 0x40; // inside the header, under its CRC
    fs::write(&middle, &bytes).unwrap();
    let is_damage_of_middle = |error: Error| match error {
        Error::Corrupt { file, offset, .. } => file == middle && offset == 0,
        _ => false,
    };
    for writable in [true, false] {
        let log = if writable {
            Log::open(dir.path(), options.clone()).unwrap()
        } else {
            Log::open_read_only(dir.path(), options.clone()).unwrap()
        };
        for offset in (0..201).filter(|o| !(first..end).contains(o)) {
            assert_eq!(log.read(offset).unwrap().payload, payload(offset));
        }
        for offset in first..end {
            // Every read of the segment fails the same way; nothing is cached as opened.
            let error = log.read(offset).unwrap_err();
            assert!(is_damage_of_middle(error), "offset {offset}");
        }
        let mut batches = log.batches_from(0);
        let error = batches.find_map(std::result::Result::err).unwrap();
        assert!(is_damage_of_middle(error), "iteration");
        assert!(
            is_damage_of_middle(log.segments().unwrap_err()),
            "segments()"
        );
        if writable {
            assert_eq!(log.append(&[Record::new(&payload(201))]).unwrap(), 201..202);
            assert_eq!(log.read(201).unwrap().payload, payload(201));
        }
    }
    // Reported, never repaired: the damaged file is unchanged.
    assert_eq!(fs::read(&middle).unwrap(), bytes);
}

#[test]
fn a_tail_index_mixing_valid_and_stale_entries_never_hides_a_record() {
    // An index written without fsync can come back after a crash as a valid prefix followed
    // by entries of an older version of the file or filler bytes; whatever mix the file
    // holds, every entry is checked against its batch and the log reopens whole.
    let original = tempfile::tempdir().unwrap();
    let options = LogOptions::default().index_interval_bytes(64);
    build(original.path(), 40, options.clone());
    let index_bytes = fs::read(original.path().join(index_file_name(0))).unwrap();
    let entry_count = (index_bytes.len() - 32) / 8;
    for keep_entries in 0..entry_count {
        for tail in [0u8, 0xFF] {
            let dir = copy_dir(original.path());
            let mut torn = index_bytes.clone();
            // Entries after `keep_entries` replaced by shifted (stale) ones or 0xFF filler.
            for (i, byte) in torn.iter_mut().enumerate().skip(32 + keep_entries * 8) {
                *byte = if tail == 0 {
                    index_bytes[32 + ((i - 32 + 8) % (index_bytes.len() - 32))]
                } else {
                    tail
                };
            }
            fs::write(dir.path().join(index_file_name(0)), torn).unwrap();
            let log = Log::open(dir.path(), options.clone()).unwrap();
            assert_prefix(&log, 40);
        }
    }
}
