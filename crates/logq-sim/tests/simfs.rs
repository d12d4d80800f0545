//! Tests of the simulated file system itself: live vs durable images, pending directory
//! entries, torn and garbage writes, failed fsync semantics, kills, locks, faults and crash
//! points.

use logq_log::fs::{FileSystem, FsFile, OpenMode};
use logq_sim::{FaultError, FaultPlan, OpKind, SimError, SimFs};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn dir() -> &'static Path {
    Path::new("/d")
}

fn setup(seed: u64) -> SimFs {
    let fs = SimFs::new(seed);
    logq_log::fs::create_dir_durable(&fs, dir()).unwrap();
    fs
}

fn create(fs: &SimFs, name: &str) -> (PathBuf, Arc<dyn FsFile>) {
    let path = dir().join(name);
    let file = fs.open(&path, OpenMode::CreateNew).unwrap();
    (path, file)
}

#[test]
fn writes_are_live_at_once_and_durable_only_after_sync_data() {
    let fs = setup(1);
    let (path, file) = create(&fs, "a");
    fs.sync_dir(dir()).unwrap();
    file.write_all_at(b"hello", 0).unwrap();
    assert_eq!(fs.live_bytes(&path).unwrap(), b"hello");
    assert_eq!(fs.durable_bytes(&path).unwrap(), b"");
    let mut buf = [0u8; 5];
    file.read_exact_at(&mut buf, 0).unwrap();
    assert_eq!(&buf, b"hello");
    assert_eq!(file.map(5).unwrap().bytes(), b"hello");
    file.sync_data().unwrap();
    assert_eq!(fs.durable_bytes(&path).unwrap(), b"hello");
    // Whatever the crash decides, synced bytes survive.
    for seed in 0..20 {
        let crashed = fs.fork();
        crashed.crash(seed);
        assert_eq!(
            crashed.live_bytes(&path).unwrap(),
            b"hello",
            "crash seed {seed}"
        );
    }
}

#[test]
fn a_map_is_a_snapshot_and_cannot_exceed_the_file() {
    let fs = setup(1);
    let (_, file) = create(&fs, "a");
    file.write_all_at(b"abc", 0).unwrap();
    let map = file.map(3).unwrap();
    file.write_all_at(b"xyz", 0).unwrap();
    assert_eq!(map.bytes(), b"abc");
    let error = file.map(4).err().unwrap();
    assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof);
    let mut buf = [0u8; 2];
    assert!(file.read_exact_at(&mut buf, 2).is_err());
}

#[test]
fn unsynced_writes_may_be_kept_dropped_torn_or_garbage() {
    let fs = setup(2);
    let (path, file) = create(&fs, "a");
    fs.sync_dir(dir()).unwrap();
    file.write_all_at(&[1u8; 100], 0).unwrap();
    file.sync_data().unwrap();
    let pending = vec![7u8; 1200]; // bytes 100..1300: pieces 412 + 512 + 276
    file.write_all_at(&pending, 100).unwrap();
    let (mut kept, mut dropped, mut torn, mut garbage) = (0, 0, 0, 0);
    for seed in 0..400 {
        let crashed = fs.fork();
        crashed.crash(seed);
        let bytes = crashed.live_bytes(&path).unwrap();
        assert!(bytes.len() >= 100, "durable bytes lost: seed {seed}");
        assert!(
            bytes[..100].iter().all(|b| *b == 1),
            "durable bytes changed: seed {seed}"
        );
        let tail = &bytes[100..];
        if tail.len() == 1200 && tail.iter().all(|b| *b == 7) {
            kept += 1;
        } else if tail.is_empty() || tail.iter().all(|b| *b == 0) {
            dropped += 1; // nothing, or a zero-filled tail
        } else if matches!(tail.len(), 412 | 924) && tail.iter().all(|b| *b == 7) {
            torn += 1;
        } else if tail.iter().any(|b| *b != 7 && *b != 0) {
            garbage += 1;
        } else {
            // A torn prefix followed by a zero tail.
            assert!(
                tail.iter().take(412).all(|b| *b == 7),
                "unexplained image: seed {seed}"
            );
            torn += 1;
        }
    }
    assert!(
        kept > 0 && dropped > 0 && torn > 0 && garbage > 0,
        "{kept} {dropped} {torn} {garbage}"
    );
}

#[test]
fn a_failed_sync_data_loses_the_pending_bytes_and_the_next_sync_succeeds() {
    let fs = setup(3);
    let (path, file) = create(&fs, "a");
    fs.sync_dir(dir()).unwrap();
    file.write_all_at(b"durable", 0).unwrap();
    file.sync_data().unwrap();
    fs.set_fault_plan(FaultPlan::new().fail_nth(OpKind::SyncData, 2, FaultError::Eio));
    file.write_all_at(b"-lost", 7).unwrap();
    let error = file.sync_data().unwrap_err();
    assert_eq!(error.raw_os_error(), Some(5));
    // Linux keeps the pages readable, marked clean...
    assert_eq!(fs.live_bytes(&path).unwrap(), b"durable-lost");
    // ...and the next fsync reports success without writing them.
    file.sync_data().unwrap();
    assert_eq!(fs.durable_bytes(&path).unwrap(), b"durable");
    for seed in 0..20 {
        let crashed = fs.fork();
        crashed.crash(seed);
        assert_eq!(
            crashed.live_bytes(&path).unwrap(),
            b"durable",
            "seed {seed}"
        );
    }
    // A process kill keeps the page cache: the lost bytes are still visible.
    fs.kill();
    assert_eq!(fs.live_bytes(&path).unwrap(), b"durable-lost");
}

#[test]
fn set_len_is_pending_until_sync_data() {
    let fs = setup(4);
    let (path, file) = create(&fs, "a");
    fs.sync_dir(dir()).unwrap();
    file.write_all_at(&[5u8; 600], 0).unwrap();
    file.sync_data().unwrap();
    file.set_len(100).unwrap();
    assert_eq!(file.len().unwrap(), 100);
    assert_eq!(fs.durable_bytes(&path).unwrap().len(), 600);
    let lengths: std::collections::BTreeSet<usize> = (0..100)
        .map(|seed| {
            let crashed = fs.fork();
            crashed.crash(seed);
            crashed.live_bytes(&path).unwrap().len()
        })
        .collect();
    assert_eq!(lengths, [100, 600].into_iter().collect());
    file.sync_data().unwrap();
    assert_eq!(fs.durable_bytes(&path).unwrap().len(), 100);
}

#[test]
fn new_names_are_pending_until_sync_dir() {
    let fs = setup(5);
    let (path, file) = create(&fs, "a");
    file.write_all_at(b"x", 0).unwrap();
    file.sync_data().unwrap();
    assert_eq!(fs.live_names(dir()), ["a"]);
    assert!(fs.durable_names(dir()).is_empty());
    assert_eq!(fs.pending_dir_ops(), 1);
    let (mut present, mut absent) = (0, 0);
    for seed in 0..100 {
        let crashed = fs.fork();
        crashed.crash(seed);
        if crashed.exists(&path) {
            present += 1;
            assert_eq!(crashed.live_bytes(&path).unwrap(), b"x");
        } else {
            absent += 1;
        }
    }
    assert!(present > 0 && absent > 0, "{present} {absent}");
    fs.sync_dir(dir()).unwrap();
    assert_eq!(fs.durable_names(dir()), ["a"]);
    assert_eq!(fs.pending_dir_ops(), 0);
}

#[test]
fn a_rename_survives_a_crash_atomically() {
    let fs = setup(6);
    let (old_path, file) = create(&fs, "new.tmp");
    file.write_all_at(b"v2", 0).unwrap();
    file.sync_data().unwrap();
    let (target, old) = create(&fs, "current");
    old.write_all_at(b"v1", 0).unwrap();
    old.sync_data().unwrap();
    fs.sync_dir(dir()).unwrap();
    fs.rename(&old_path, &target).unwrap();
    assert_eq!(fs.live_names(dir()), ["current"]);
    assert_eq!(fs.live_bytes(&target).unwrap(), b"v2");
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..100 {
        let crashed = fs.fork();
        crashed.crash(seed);
        let names = crashed.live_names(dir());
        let content = crashed.live_bytes(&target).unwrap();
        match names.as_slice() {
            [current] if current == "current" => assert_eq!(content, b"v2"),
            [current, tmp] if current == "current" && tmp == "new.tmp" => {
                assert_eq!(content, b"v1")
            }
            other => panic!("rename not atomic: {other:?} (seed {seed})"),
        }
        seen.insert(names.len());
    }
    assert_eq!(seen.len(), 2, "both outcomes must occur");
}

#[test]
fn removals_are_pending_and_unsynced_files_can_vanish() {
    let fs = setup(7);
    let (path, file) = create(&fs, "a");
    file.write_all_at(b"x", 0).unwrap();
    file.sync_data().unwrap();
    fs.sync_dir(dir()).unwrap();
    fs.remove(&path).unwrap();
    assert!(!fs.exists(&path));
    assert_eq!(fs.durable_names(dir()), ["a"]);
    // The open handle of an unlinked file still works until the process dies.
    assert_eq!(file.len().unwrap(), 1);
    let back = (0..50).filter(|seed| {
        let crashed = fs.fork();
        crashed.crash(*seed);
        crashed.exists(&path)
    });
    assert!(back.count() > 0);
    let missing = fs.open(&dir().join("nope"), OpenMode::Read).err().unwrap();
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    assert!(fs.remove(&dir().join("nope")).is_err());
}

#[test]
fn crash_and_kill_invalidate_handles_and_release_locks() {
    let fs = setup(8);
    let (_, file) = create(&fs, "a");
    let lock = fs.try_lock_dir(dir()).unwrap();
    assert!(lock.is_some());
    assert!(fs.try_lock_dir(dir()).unwrap().is_none());
    fs.kill();
    let error = file.len().unwrap_err();
    assert_eq!(SimError::of(&error), Some(&SimError::StaleHandle));
    let relock = fs.try_lock_dir(dir()).unwrap();
    assert!(relock.is_some());
    // Dropping the lock of a dead process must not release the new owner's lock.
    drop(lock);
    assert!(fs.try_lock_dir(dir()).unwrap().is_none());
    fs.crash(1);
    assert!(fs.try_lock_dir(dir()).unwrap().is_some());
}

#[test]
fn faults_fail_the_nth_operation_of_a_kind_with_the_os_error() {
    let fs = setup(9);
    fs.set_fault_plan(
        FaultPlan::new()
            .fail_nth(OpKind::Create, 2, FaultError::Enospc)
            .fail_nth(OpKind::Rename, 1, FaultError::Erofs)
            .fail_from(OpKind::Remove, 1, FaultError::Eio),
    );
    let (a, file) = create(&fs, "a");
    let error = fs
        .open(&dir().join("b"), OpenMode::CreateNew)
        .err()
        .unwrap();
    assert_eq!(error.kind(), std::io::ErrorKind::StorageFull);
    assert!(!fs.exists(&dir().join("b")));
    let (b, _) = create(&fs, "b"); // the third create succeeds
    let error = fs.rename(&a, &dir().join("c")).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::ReadOnlyFilesystem);
    fs.rename(&a, &dir().join("c")).unwrap();
    assert!(fs.remove(&b).is_err());
    assert!(fs.remove(&b).is_err(), "a sticky fault keeps failing");
    assert_eq!(fs.faults_fired(), 4);
    assert_eq!(fs.op_count(OpKind::Create), 3);
    drop(file);
}

#[test]
fn a_failed_write_may_leave_a_sector_prefix() {
    let mut prefixes = std::collections::BTreeSet::new();
    for seed in 0..40 {
        let fs = setup(seed);
        let (path, file) = create(&fs, "a");
        fs.set_fault_plan(FaultPlan::new().fail_nth(OpKind::Write, 1, FaultError::Eio));
        assert!(file.write_all_at(&[3u8; 1100], 0).is_err());
        let live = fs.live_bytes(&path).unwrap();
        assert!(
            matches!(live.len(), 0 | 512 | 1024 | 1100),
            "len {}",
            live.len()
        );
        prefixes.insert(live.len());
    }
    assert!(prefixes.len() > 1);
}

#[test]
fn the_machine_stops_after_the_crash_point_until_the_crash() {
    let fs = setup(10);
    let (path, file) = create(&fs, "a");
    fs.crash_after_ops(2);
    file.write_all_at(b"one", 0).unwrap(); // op 1
    file.sync_data().unwrap(); // op 2: still happens
    assert!(fs.is_halted());
    let error = file.write_all_at(b"two", 3).unwrap_err();
    assert_eq!(SimError::of(&error), Some(&SimError::MachineDown));
    assert!(fs.list(dir()).is_err());
    assert!(fs.sync_dir(dir()).is_err());
    fs.crash(3);
    assert!(!fs.is_halted());
    // The name was never made durable; it may or may not be back, with its synced bytes.
    if fs.exists(&path) {
        assert_eq!(fs.live_bytes(&path).unwrap(), b"one");
    }
    create(&fs, "b");
}

#[test]
fn a_fork_is_independent() {
    let fs = setup(11);
    let (path, file) = create(&fs, "a");
    file.write_all_at(b"x", 0).unwrap();
    let copy = fs.fork();
    file.write_all_at(b"y", 0).unwrap();
    assert_eq!(copy.live_bytes(&path).unwrap(), b"x");
    assert_eq!(fs.live_bytes(&path).unwrap(), b"y");
}

#[test]
fn the_strict_sector_model_can_garble_a_rewrite_of_durable_bytes() {
    let run = |strict: bool| {
        let fs = setup(12);
        let (path, file) = create(&fs, "a");
        fs.sync_dir(dir()).unwrap();
        file.write_all_at(&[4u8; 512], 0).unwrap();
        file.sync_data().unwrap();
        file.write_all_at(&[4u8; 512], 0).unwrap();
        fs.set_garbage_on_rewrite(strict);
        (0..100).any(|seed| {
            let crashed = fs.fork();
            crashed.crash(seed);
            crashed.live_bytes(&path).unwrap() != [4u8; 512]
        })
    };
    assert!(!run(false));
    assert!(run(true));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// After a successful sync of every file and its directory, every crash leaves exactly
    /// the live state.
    #[test]
    fn synced_state_survives_every_crash(
        writes in proptest::collection::vec((0u64..3000, proptest::collection::vec(any::<u8>(), 1..700)), 1..8),
        truncate in proptest::option::of(0u64..3000),
        seed in any::<u64>(),
    ) {
        let fs = setup(seed);
        let (path, file) = create(&fs, "a");
        for (offset, bytes) in &writes {
            file.write_all_at(bytes, *offset).unwrap();
        }
        if let Some(len) = truncate {
            file.set_len(len).unwrap();
        }
        file.sync_data().unwrap();
        fs.sync_dir(dir()).unwrap();
        let live = fs.live_bytes(&path).unwrap();
        prop_assert_eq!(fs.durable_bytes(&path).unwrap(), live.clone());
        fs.crash(seed ^ 0x5555);
        prop_assert_eq!(fs.live_bytes(&path).unwrap(), live);
    }

    /// A crash never invents bytes outside the pending writes: every byte after a crash is
    /// durable, part of a pending write, or a zero of a grown tail.
    #[test]
    fn crashes_only_touch_pending_ranges(
        durable_len in 0usize..1500,
        writes in proptest::collection::vec((0u64..2000, 1usize..900), 1..5),
        seed in any::<u64>(),
    ) {
        let fs = setup(seed);
        let (path, file) = create(&fs, "a");
        fs.sync_dir(dir()).unwrap();
        let base = vec![0xAAu8; durable_len];
        file.write_all_at(&base, 0).unwrap();
        file.sync_data().unwrap();
        let mut touched = vec![false; 4000];
        for (offset, len) in &writes {
            file.write_all_at(&vec![0xBB; *len], *offset).unwrap();
            for t in &mut touched[usize::try_from(*offset).unwrap()..usize::try_from(*offset).unwrap() + len] {
                *t = true;
            }
        }
        fs.crash(seed);
        let after = fs.live_bytes(&path).unwrap();
        prop_assert!(after.len() >= durable_len);
        for (i, byte) in after.iter().enumerate() {
            if !touched[i] {
                let expected = if i < durable_len { 0xAA } else { 0 };
                prop_assert_eq!(*byte, expected, "byte {} changed outside pending writes", i);
            }
        }
    }
}

#[test]
fn a_new_directory_is_pending_until_its_parent_is_synced() {
    let fs = setup(11);
    let sub = dir().join("sub");
    fs.create_dir_all(&sub).unwrap();
    let path = sub.join("a");
    let file = fs.open(&path, OpenMode::CreateNew).unwrap();
    file.write_all_at(b"x", 0).unwrap();
    file.sync_data().unwrap();
    fs.sync_dir(&sub).unwrap();
    // The file's entry is durable, but the directory holding it is not.
    let (mut present, mut absent) = (0, 0);
    for seed in 0..100 {
        let crashed = fs.fork();
        crashed.crash(seed);
        if crashed.exists(&sub) {
            present += 1;
            assert_eq!(crashed.live_bytes(&path).unwrap(), b"x");
        } else {
            absent += 1;
            assert!(!crashed.exists(&path), "a file outlived its directory");
        }
    }
    assert!(present > 0 && absent > 0, "{present} {absent}");
    fs.sync_dir(dir()).unwrap();
    for seed in 0..20 {
        let crashed = fs.fork();
        crashed.crash(seed);
        assert_eq!(
            crashed.live_bytes(&path).unwrap(),
            b"x",
            "crash seed {seed}"
        );
    }
}
