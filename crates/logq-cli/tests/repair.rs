//! `logq repair`: the copy opens cleanly with `Log::open`, holds exactly the valid prefix at
//! the same offsets, and the source is never modified.

mod common;

use common::*;
use std::fs;
use std::path::Path;

/// Runs repair and checks the source is byte-identical afterwards.
fn repair(dir: &Path, out: &Path) -> (i32, String, String) {
    run_read_only(
        dir,
        &[
            "repair",
            dir.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ],
    )
}

fn assert_records(dir: &Path, offsets: std::ops::Range<u64>) {
    let records = read_all_records(dir);
    let got: Vec<u64> = records.iter().map(|r| r.0).collect();
    assert_eq!(got, offsets.collect::<Vec<_>>());
    for (offset, bytes) in records {
        assert_eq!(bytes, payload(offset));
    }
}

#[test]
fn clean_log_is_copied_exactly_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 150);
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("copy");
    let (code, stdout, stderr) = repair(dir.path(), &target);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("exact copy, nothing lost"), "{stdout}");
    assert!(target.join("repair-report.txt").exists());
    let (code, verified, _) = run_read_only(&target, &["verify", target.to_str().unwrap()]);
    assert_eq!(code, 0, "{verified}");
    assert_records(&target, 0..150);
}

#[test]
fn flipped_bit_in_a_sealed_segment_keeps_the_prefix_and_quarantines_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 150);
    let second = segment_files(dir.path())[1]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let (file, position, _, base, _) = batches(dir.path())
        .into_iter()
        .filter(|b| b.0 == second)
        .nth(2)
        .unwrap();
    flip(&dir.path().join(&file), position + 40);
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("copy");
    let (code, stdout, _) = repair(dir.path(), &target);
    assert_eq!(code, 1, "{stdout}");
    let stem = file.trim_end_matches(".log");
    assert!(
        target
            .join(format!("{stem}-{position}.quarantine"))
            .exists(),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("offsets from {base} were not kept")),
        "{stdout}"
    );
    let report = fs::read_to_string(target.join("repair-report.txt")).unwrap();
    assert_eq!(report, stdout);
    assert_records(&target, 0..base);
    // The repaired log accepts appends at the next offset.
    let log = logq_log::Log::open(&target, options()).unwrap();
    assert_eq!(log.next_offset(), base);
    assert_eq!(
        log.append(&[logq_log::Record::new(b"after repair")])
            .unwrap(),
        base..base + 1
    );
}

#[test]
fn torn_tail_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 150);
    let (file, position, length, base, _) = batches(dir.path()).last().unwrap().clone();
    let f = fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join(&file))
        .unwrap();
    f.set_len(position + length / 2).unwrap();
    drop(f);
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("copy");
    let (code, stdout, _) = repair(dir.path(), &target);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("cut a torn tail"), "{stdout}");
    assert_records(&target, 0..base);
    let (code, verified, _) = run_read_only(&target, &["verify", target.to_str().unwrap()]);
    assert_eq!(code, 0, "{verified}");
}

#[test]
fn damaged_first_header_keeps_the_base_offset() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 80);
    flip(&segment_files(dir.path())[0], 3);
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("copy");
    let (code, stdout, _) = repair(dir.path(), &target);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("nothing could be kept") || stdout.contains("offsets 0..0"),
        "{stdout}"
    );
    assert_records(&target, 0..0);
}

#[test]
fn refuses_a_non_empty_output_and_one_inside_the_source() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 40);
    let out = tempfile::tempdir().unwrap();
    fs::write(out.path().join("keep.txt"), b"mine").unwrap();
    let (code, _, stderr) = repair(dir.path(), out.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("not empty"), "{stderr}");
    assert_eq!(fs::read(out.path().join("keep.txt")).unwrap(), b"mine");
    let inside = dir.path().join("fixed");
    let (code, _, stderr) = repair(dir.path(), &inside);
    assert_eq!(code, 2);
    assert!(stderr.contains("must be outside"), "{stderr}");
    // An empty existing directory is fine.
    let empty = tempfile::tempdir().unwrap();
    let (code, _, _) = repair(dir.path(), empty.path());
    assert_eq!(code, 0);
}
