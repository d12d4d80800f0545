//! `logq verify` on clean and damaged copies: exit codes, file and byte of each problem.

mod common;

use common::*;
use logq_log::format::segment_header;
use std::fs;
use std::path::Path;

fn verify(dir: &Path) -> (i32, String, String) {
    run_read_only(dir, &["verify", dir.to_str().unwrap()])
}

#[test]
fn clean_log_verifies_with_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 150);
    let (code, stdout, stderr) = verify(dir.path());
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.ends_with("0 problems found\n"), "{stdout}");
    assert!(stdout.contains("150 records"), "{stdout}");
}

#[test]
fn flipped_bit_in_a_sealed_segment_names_file_and_batch_position() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 150);
    let second = segment_files(dir.path())[1]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let (file, position, ..) = batches(dir.path())
        .into_iter()
        .filter(|b| b.0 == second)
        .nth(1)
        .unwrap();
    flip(&dir.path().join(&file), position + 30);
    let (code, stdout, _) = verify(dir.path());
    assert_eq!(code, 1, "{stdout}");
    let line = stdout.lines().next().unwrap();
    assert!(
        line.starts_with(&format!("{file}: byte {position}: batch CRC mismatch")),
        "{line}"
    );
    assert!(line.contains("a sealed segment"), "{line}");
    assert!(stdout.ends_with("1 problems found\n"), "{stdout}");

    let (_, json, _) = run_read_only(
        dir.path(),
        &["verify", dir.path().to_str().unwrap(), "--json"],
    );
    let lines = json_lines(&json);
    assert_eq!(lines[0]["type"], "problem");
    assert_eq!(lines[0]["kind"], "corrupt");
    assert_eq!(lines[0]["byte"], position);
    assert_eq!(lines.last().unwrap()["problems"], 1);
}

#[test]
fn torn_tail_is_reported_where_open_would_cut_it() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 150);
    let all = batches(dir.path());
    let (file, position, length, ..) = all.last().unwrap().clone();
    let path = dir.path().join(&file);
    let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(position + length - 7).unwrap();
    drop(f);
    let (code, stdout, _) = verify(dir.path());
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(&format!(
            "{file}: byte {position}: torn tail at byte {position} (would be cut on open)"
        )),
        "{stdout}"
    );
    // The log's own recovery agrees on the position.
    let copy = tempfile::tempdir().unwrap();
    for (from, bytes) in snapshot(dir.path()) {
        fs::write(copy.path().join(from.file_name().unwrap()), bytes).unwrap();
    }
    let log = logq_log::Log::open(copy.path(), options()).unwrap();
    assert_eq!(log.recovery_report().truncated[0].position, position);
}

#[test]
fn flipped_bit_in_the_tail_before_a_durable_batch_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    make_log_with_durable_tail(dir.path(), 100, 4);
    let all = batches(dir.path());
    let (file, position, ..) = all[all.len() - 2].clone();
    flip(&dir.path().join(&file), position + 50);
    let (code, stdout, _) = verify(dir.path());
    assert_eq!(code, 1, "{stdout}");
    let line = stdout.lines().next().unwrap();
    assert!(
        line.starts_with(&format!("{file}: byte {position}: ")),
        "{line}"
    );
    assert!(line.contains("open refuses it"), "{line}");
    // And the last batch flipped alone is a torn tail.
    let dir2 = tempfile::tempdir().unwrap();
    make_log_with_durable_tail(dir2.path(), 100, 4);
    let (file2, last, ..) = batches(dir2.path()).last().unwrap().clone();
    flip(&dir2.path().join(&file2), last + 50);
    let (code, stdout, _) = verify(dir2.path());
    assert_eq!(code, 1);
    assert!(
        stdout.contains(&format!("torn tail at byte {last}")),
        "{stdout}"
    );
}

#[test]
fn foreign_file_named_like_a_segment() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 60);
    let name = "00000000000000009999.log";
    fs::write(
        dir.path().join(name),
        b"this is not a logq segment at all, just text\n",
    )
    .unwrap();
    let (code, stdout, _) = verify(dir.path());
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(&format!("{name}: byte 0: not a logq segment")),
        "{stdout}"
    );
    let (code, table, _) = run_read_only(dir.path(), &["segments", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(table.contains("foreign file"), "{table}");
}

#[test]
fn future_format_version_is_an_error_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 60);
    let first = segment_files(dir.path()).remove(0);
    let mut bytes = fs::read(&first).unwrap();
    let mut header = segment_header::encode(0);
    header[8..10].copy_from_slice(&7u16.to_le_bytes());
    let crc = crc32fast::hash(&header[..28]);
    header[28..32].copy_from_slice(&crc.to_le_bytes());
    bytes[..32].copy_from_slice(&header);
    fs::write(&first, bytes).unwrap();
    for command in ["verify", "segments", "dump"] {
        let (code, stdout, stderr) =
            run_read_only(dir.path(), &[command, dir.path().to_str().unwrap()]);
        assert_eq!(code, 2, "{command}: {stdout}");
        assert!(
            stderr.contains("format version 7 is newer than this logq supports"),
            "{command}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(!stderr.contains("panicked"));
    }
}

#[test]
fn empty_missing_and_bad_usage_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = verify(dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("not a logq directory"), "{stderr}");
    let missing = dir.path().join("nope");
    let output = logq()
        .args(["verify", missing.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no such file or directory"));
    let output = logq().args(["verify"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = logq().args(["frobnicate"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn damaged_index_is_reported_against_the_index_file() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 100);
    let idx = dir.path().join("00000000000000000000.idx");
    flip(&idx, 40);
    let (code, stdout, _) = verify(dir.path());
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.starts_with("00000000000000000000.idx: index damaged: sealed index CRC mismatch"),
        "{stdout}"
    );
    fs::remove_file(&idx).unwrap();
    let (code, stdout, _) = verify(dir.path());
    assert_eq!(code, 1);
    assert!(stdout.contains("index missing"), "{stdout}");
}

#[test]
fn leftovers_are_notes_and_do_not_fail() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 60);
    fs::write(dir.path().join("00000000000000000000.idx.tmp"), b"x").unwrap();
    fs::write(
        dir.path().join("00000000000000000000-100.quarantine"),
        b"yy",
    )
    .unwrap();
    let (code, stdout, _) = verify(dir.path());
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("00000000000000000000.idx.tmp: note: leftover temporary file"));
    assert!(stdout.contains("00000000000000000000-100.quarantine: note: quarantine file"));
    assert!(stdout.ends_with("0 problems found (2 notes)\n"), "{stdout}");
}

#[test]
fn a_poison_mark_is_a_note_and_does_not_fail() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 60);
    fs::write(dir.path().join("POISONED"), b"").unwrap();
    let (code, stdout, _) = verify(dir.path());
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("POISONED: note: a write or fdatasync of this log failed"),
        "{stdout}"
    );
    assert!(stdout.ends_with("0 problems found (1 note)\n"), "{stdout}");
}

#[test]
fn verify_recurses_into_a_store_and_prefixes_paths() {
    let store = tempfile::tempdir().unwrap();
    for queue in ["orders", "payments", "journal"] {
        make_log(&store.path().join(queue), 60);
    }
    let (code, stdout, _) = verify(store.path());
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("checked 3 logs"), "{stdout}");
    let sub = store.path().join("payments");
    let (file, position, ..) = batches(&sub)[2].clone();
    flip(&sub.join(&file), position + 9);
    let (code, stdout, _) = verify(store.path());
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with(&format!("payments/{file}: byte {position}: ")),
        "{stdout}"
    );
}
