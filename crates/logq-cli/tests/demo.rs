//! `logq demo`: a short run, a second run that continues it, and a run killed mid-way
//! followed by a normal run that finds nothing lost and nothing acknowledged processed again.

mod common;

use common::*;
use std::path::Path;

fn demo(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["demo", dir.to_str().unwrap(), "--lease-ms", "500"];
    all.extend_from_slice(args);
    let output = logq().args(&all).output().unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn assert_all_checks_pass(stdout: &str) {
    assert!(!stdout.contains("FAILED"), "{stdout}");
    assert!(stdout.contains("checks:"), "{stdout}");
}

#[test]
fn demo_runs_prints_its_summary_and_a_second_run_continues() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = demo(dir.path(), &["--orders", "300"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("summary of run 1: 300 orders"), "{stdout}");
    assert!(stdout.contains("send (durable, 1 thread)"), "{stdout}");
    assert!(stdout.contains("payments ack"), "{stdout}");
    assert!(stdout.contains("pay ack p50/p99 ms"), "{stdout}");
    assert!(
        stdout.contains("payments 300/300, inventory 300/300"),
        "{stdout}"
    );
    assert!(stdout.contains("queue depth at the end: payments 0, inventory 0"));
    assert!(stdout.contains("100 got their first id back, 0 messages appended"));
    assert_all_checks_pass(&stdout);

    let (code, stdout, stderr) = demo(dir.path(), &["--orders", "200"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("run 2"), "{stdout}");
    assert!(
        stdout.contains("earlier runs: 300 orders in the queue (ids 0..300)"),
        "{stdout}"
    );
    assert!(stdout.contains("previous run 1: finished"), "{stdout}");
    assert!(stdout.contains("queue `orders`: ids 0..500"), "{stdout}");
    assert_all_checks_pass(&stdout);

    // The store the demo leaves is clean and readable offline.
    let (code, stdout, _) = run_read_only(dir.path(), &["verify", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn a_killed_demo_loses_nothing_promised_and_reprocesses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = demo(dir.path(), &["--orders", "50000", "--kill-after-ms", "700"]);
    assert_ne!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("aborting the process now"), "{stderr}");
    assert!(!stdout.contains("summary"), "{stdout}");

    let (code, stdout, stderr) = demo(dir.path(), &["--orders", "200"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("previous run 1: did not finish"),
        "{stdout}"
    );
    // The side-file checks of run 1 and the no-reprocessing check all passed.
    let run1: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("run 1: ") && l.contains("recorded after"))
        .collect();
    assert_eq!(run1.len(), 3, "{stdout}");
    assert!(
        run1.iter().all(|l| l.trim_start().starts_with("ok")),
        "{stdout}"
    );
    assert!(
        stdout.contains("no message acknowledged before this run was delivered again"),
        "{stdout}"
    );
    assert!(stdout.contains("): 0 deliveries"), "{stdout}");
    assert_all_checks_pass(&stdout);
    // Something was sent before the kill (the check is not vacuous).
    let sent_line = run1[0];
    assert!(!sent_line.contains(" 0 orders recorded"), "{sent_line}");
}
