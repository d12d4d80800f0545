//! `logq produce` and `logq consume`, and what they do on a store a service holds.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

fn produce(dir: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut all = vec!["produce", dir.to_str().unwrap(), "orders"];
    all.extend_from_slice(args);
    let output = logq().args(&all).write_stdin(stdin).output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn consume(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec![
        "consume",
        dir.to_str().unwrap(),
        "orders",
        "--group",
        "billing",
        "--timeout-ms",
        "300",
    ];
    all.extend_from_slice(args);
    let output = logq().args(&all).output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn ids(rows: &[Value]) -> Vec<u64> {
    rows.iter().map(|r| r["id"].as_u64().unwrap()).collect()
}

#[test]
fn produce_then_consume_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = produce(dir.path(), &["--key", "k"], "first\nsecond\r\nthird\n");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "0\n1\n2\n");

    // Dedup ids from the lines: a line sent again gets its first id back, nothing appended.
    let (code, stdout, _) = produce(dir.path(), &["--dedup-from-line", "--json"], "a\nb\na\n");
    assert_eq!(code, 0);
    let rows = json_lines(&stdout);
    assert_eq!(ids(&rows), vec![3, 4, 3]);
    assert_eq!(rows[2]["duplicate"], true);
    assert_eq!(rows[0]["duplicate"], false);
    let (_, stdout, _) = produce(dir.path(), &["--dedup-from-line"], "b\nc\n");
    assert_eq!(stdout, "4\n5\n");

    // From a file.
    let file = dir.path().join("lines.txt");
    std::fs::write(&file, "from file\n").unwrap();
    let (code, stdout, _) = produce(dir.path(), &["--file", file.to_str().unwrap()], "");
    assert_eq!(code, 0);
    assert_eq!(stdout, "6\n");

    // Without --ack the deliveries are released: the next consume gets them again.
    let (code, stdout, stderr) = consume(dir.path(), &["-n", "3", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let rows = json_lines(&stdout);
    assert_eq!(ids(&rows), vec![0, 1, 2]);
    assert_eq!(rows[1]["payload"]["text"], "second");
    assert_eq!(rows[0]["key"]["text"], "k");
    assert_eq!(rows[0]["attempt"], 1);
    assert_eq!(rows[0]["group"], "billing");
    let (_, stdout, _) = consume(dir.path(), &["-n", "2", "--json", "--ack"]);
    let rows = json_lines(&stdout);
    assert_eq!(ids(&rows), vec![0, 1]);
    assert_eq!(rows[0]["attempt"], 2);
    let (_, stdout, _) = consume(dir.path(), &["-n", "100", "--ack"]);
    assert!(stdout.contains("\"third\""), "{stdout}");
    assert!(stdout.contains("\"from file\""), "{stdout}");
    assert_eq!(stdout.lines().count(), 1 + 5, "{stdout}"); // header + ids 2..=6
    let (code, stdout, _) = consume(dir.path(), &["--ack"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("no message for group \"billing\""),
        "{stdout}"
    );

    // The read commands agree.
    let (code, stdout, _) = run_read_only(
        dir.path(),
        &["groups", dir.path().to_str().unwrap(), "orders", "--json"],
    );
    assert_eq!(code, 0);
    let group = &json_lines(&stdout)[0];
    assert_eq!(group["floor"], 7);
    assert_eq!(group["depth"], 0);
}

#[test]
fn writing_commands_fail_with_one_line_when_a_service_holds_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = logq::Store::open(dir.path(), logq::Options::default()).unwrap();
    let orders = store.queue("orders").unwrap();
    orders.send(logq::Message::new(b"x".to_vec())).unwrap();

    let (code, stdout, stderr) = consume(dir.path(), &["--ack"]);
    assert_eq!(code, 2, "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("logq: "), "{stderr}");
    assert!(stderr.contains("locked by another process"), "{stderr}");
    assert!(stdout.is_empty());

    let (code, _, stderr) = produce(dir.path(), &[], "y\n");
    assert_eq!(code, 2);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("locked"), "{stderr}");

    // Nothing was appended or consumed.
    assert_eq!(orders.id_range().1 .0, 1);
    store.close().unwrap();
}

#[test]
fn consume_needs_an_existing_queue() {
    let dir = tempfile::tempdir().unwrap();
    produce(dir.path(), &[], "x\n");
    let output = logq()
        .args([
            "consume",
            dir.path().to_str().unwrap(),
            "payments",
            "--group",
            "g",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("no queue \"payments\" (queues: orders)"),
        "{stderr}"
    );
}
