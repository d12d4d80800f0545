//! `logq stats`, `groups`, `status`, `peek`, `segments DIR QUEUE` and `verify` on a store
//! made with `logq::Store`, closed and while it is open in this process.

mod common;

use common::*;
use logq::{Delivery, Message, Options, QueueOptions, Store};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(5);

/// What the fixture did, for the assertions.
struct Fixture {
    store: Store,
    /// Held so its lease stays on disk while the store is open.
    in_flight: Option<Delivery>,
    consumer_id: u64,
}

/// Queue `orders`, 10 messages. Group `payments`: 0 acked with outcome `paid:0`, 1 acked
/// with a non-UTF-8 outcome, 2 acked without one, 3 in flight, 4 nacked for a minute,
/// 5 dead-lettered ("bad order"), 6..9 never delivered. Group `inventory`: nothing.
fn make_store(dir: &Path) -> Fixture {
    let options = Options {
        queue: QueueOptions::default().lease(Duration::from_secs(600)),
    };
    let store = Store::open(dir, options).unwrap();
    let orders = store.queue("orders").unwrap();
    let payments = orders.consumer("payments").unwrap();
    orders.consumer("inventory").unwrap();
    for i in 0..10u64 {
        let message = Message::new(format!("order {i}").into_bytes())
            .key(format!("o-{i}"))
            .dedup_id(format!("o-{i}"))
            .header("type", "order");
        assert_eq!(orders.send(message).unwrap().0, i);
    }
    let next = || payments.receive(WAIT).unwrap().unwrap();
    next().ack_with_outcome(b"paid:0").unwrap();
    next().ack_with_outcome(&[0xff, 0x00]).unwrap();
    next().ack().unwrap();
    let in_flight = next();
    assert_eq!(in_flight.id().0, 3);
    next().nack(Duration::from_secs(60)).unwrap();
    next().dead_letter("bad order").unwrap();
    Fixture {
        consumer_id: payments.id(),
        store,
        in_flight: Some(in_flight),
    }
}

fn run_json(dir: &Path, args: &[&str]) -> Vec<Value> {
    let (code, stdout, stderr) = run_read_only(dir, args);
    assert_eq!(code, 0, "logq {args:?}: {stderr}");
    json_lines(&stdout)
}

fn by_group<'a>(rows: &'a [Value], group: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["group"] == group)
        .unwrap_or_else(|| panic!("no row for {group}: {rows:?}"))
}

fn check_everything(dir: &Path, consumer_id: u64) {
    let path = dir.to_str().unwrap();

    let stats = run_json(dir, &["stats", path, "--json"]);
    let payments = by_group(&stats, "payments");
    assert_eq!(payments["queue"], "orders");
    assert_eq!(payments["messages"], 10);
    assert_eq!(payments["depth"], 6, "{payments}");
    assert_eq!(payments["ready"], 4);
    assert_eq!(payments["in_flight"], 1);
    assert_eq!(payments["delayed"], 1);
    assert_eq!(payments["dead_lettered"], 1);
    assert!(payments["oldest_unacked_age_ms"].as_u64().is_some());
    assert!(payments["disk_bytes"].as_u64().unwrap() > 0);
    assert!(payments["ack_rate_per_s"].is_null() && payments["latency"].is_null());
    let inventory = by_group(&stats, "inventory");
    assert_eq!(inventory["depth"], 10);
    assert_eq!(inventory["ready"], 10);
    let dlq = stats.iter().find(|r| r["queue"] == "orders.dlq").unwrap();
    assert_eq!(dlq["messages"], 1);
    assert!(dlq["group"].is_null());

    let (code, table, _) = run_read_only(dir, &["stats", path]);
    assert_eq!(code, 0);
    assert!(table.contains("OLDEST UNACKED") && table.contains("not available offline"));

    let groups = run_json(dir, &["groups", path, "orders", "--json"]);
    let payments = by_group(&groups, "payments");
    assert_eq!(payments["floor"], 3);
    assert_eq!(payments["next_to_deliver"], 6);
    assert_eq!(payments["next_id"], 10);
    assert_eq!(payments["in_flight"], 1);
    assert_eq!(payments["delayed"], 1);
    assert_eq!(payments["dead_lettered"], 1);
    assert_eq!(payments["outcomes"], 2);
    let inventory = by_group(&groups, "inventory");
    assert_eq!(inventory["floor"], 0);
    assert_eq!(inventory["next_to_deliver"], 0);

    let status = |id: &str, group: &str| -> Value {
        let rows = run_json(
            dir,
            &["status", path, "orders", id, "--group", group, "--json"],
        );
        assert_eq!(rows.len(), 1);
        rows[0].clone()
    };
    let s = status("0", "payments");
    assert_eq!(s["status"], "acked");
    assert_eq!(s["outcome"]["text"], "paid:0");
    let s = status("1", "payments");
    assert_eq!(decode_bytes(&s["outcome"]), vec![0xff, 0x00]);
    assert!(s["outcome"].get("bytes").is_some());
    assert!(status("2", "payments")["outcome"].is_null());
    let s = status("3", "payments");
    assert_eq!(s["status"], "in_flight");
    assert_eq!(s["attempt"], 1);
    assert_eq!(s["consumer_id"], consumer_id);
    assert!(s["deadline_ms"].as_u64().unwrap() > 0);
    let s = status("4", "payments");
    assert_eq!(s["status"], "delayed");
    assert_eq!(s["attempts"], 1);
    let s = status("5", "payments");
    assert_eq!(s["status"], "dead_lettered");
    assert_eq!(s["reason"], "bad order");
    assert_eq!(status("7", "payments")["status"], "pending");
    let both = run_json(dir, &["status", path, "orders", "0", "--json"]);
    assert_eq!(both.len(), 2);
    assert_eq!(by_group(&both, "inventory")["status"], "pending");
    let (code, text, _) = run_read_only(dir, &["status", path, "orders", "0"]);
    assert_eq!(code, 0);
    assert!(text.contains("outcome=\"paid:0\""), "{text}");
    let (code, _, stderr) = run_read_only(dir, &["status", path, "orders", "99"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no message 99"), "{stderr}");
    let (code, _, stderr) = run_read_only(dir, &["status", path, "orders", "1", "--group", "nope"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no group \"nope\""), "{stderr}");

    let peek = run_json(
        dir,
        &["peek", path, "orders", "--from", "2", "-n", "3", "--json"],
    );
    let ids: Vec<u64> = peek.iter().map(|m| m["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, vec![2, 3, 4]);
    assert_eq!(peek[0]["payload"]["text"], "order 2");
    assert_eq!(peek[0]["key"]["text"], "o-2");
    let headers = peek[0]["headers"].as_array().unwrap();
    assert!(headers
        .iter()
        .any(|h| h["name"] == "type" && h["value"]["text"] == "order"));
    assert!(headers
        .iter()
        .any(|h| h["name"] == "logq-dedup-id" && h["value"]["text"] == "o-2"));
    let (code, hex, _) = run_read_only(
        dir,
        &["peek", path, "orders", "-n", "1", "--payload", "hex"],
    );
    assert_eq!(code, 0);
    assert!(hex.contains("6f726465722030"), "{hex}"); // "order 0"
    let none = run_json(
        dir,
        &["peek", path, "orders", "--payload", "none", "--json"],
    );
    assert_eq!(none.len(), 10);
    assert!(none
        .iter()
        .all(|m| m.get("payload").is_none() && m["payload_len"] == 7));

    let segments = run_json(dir, &["segments", path, "orders", "--json"]);
    assert_eq!(segments.len(), 1);
    assert_eq!(segments[0]["end_offset"], 10);
    let (code, _, stderr) = run_read_only(dir, &["segments", path, "nope"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no queue \"nope\""), "{stderr}");

    let (code, stdout, stderr) = run_read_only(dir, &["verify", path]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("journal events"), "{stdout}");
    assert!(stdout.contains("0 problems found"), "{stdout}");
}

#[test]
fn read_commands_on_a_closed_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut fixture = make_store(dir.path());
    // Leak the in-flight delivery so that closing keeps its lease (as a dead consumer would).
    std::mem::forget(fixture.in_flight.take());
    fixture.store.close().unwrap();
    check_everything(dir.path(), fixture.consumer_id);
}

#[test]
fn read_commands_change_no_byte_while_the_store_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = make_store(dir.path());
    // `run_read_only` compares every file before and after each command.
    check_everything(dir.path(), fixture.consumer_id);
    drop(fixture.in_flight);
    fixture.store.close().unwrap();
}

#[test]
fn read_commands_reject_what_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let (code, _, stderr) = run_read_only(dir.path(), &["stats", path]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a logq store"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1);
    let missing = dir.path().join("missing");
    let (code, _, stderr) = run_read_only(dir.path(), &["groups", missing.to_str().unwrap(), "q"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no such file or directory"), "{stderr}");
}

/// The journal of queue `orders`.
fn journal_dir(dir: &Path) -> std::path::PathBuf {
    dir.join("queues/orders/groups/journal")
}

fn closed_store(dir: &Path) {
    let mut fixture = make_store(dir);
    std::mem::forget(fixture.in_flight.take());
    fixture.store.close().unwrap();
}

fn append_to_journal(dir: &Path, payload: &[u8]) {
    let journal = logq_log::Log::open(journal_dir(dir), logq_log::LogOptions::default()).unwrap();
    journal.append(&[logq_log::Record::new(payload)]).unwrap();
    journal.close().unwrap();
}

#[test]
fn verify_reports_a_journal_record_that_does_not_decode() {
    let dir = tempfile::tempdir().unwrap();
    closed_store(dir.path());
    append_to_journal(dir.path(), b"\x63 not a group event");
    let (code, stdout, _) = run_read_only(
        dir.path(),
        &["verify", dir.path().to_str().unwrap(), "--json"],
    );
    assert_eq!(code, 1, "{stdout}");
    let problems: Vec<Value> = json_lines(&stdout)
        .into_iter()
        .filter(|v| v["type"] == "problem")
        .collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["kind"], "journal");
    assert!(problems[0]["file"]
        .as_str()
        .unwrap()
        .starts_with("queues/orders/groups/journal/"));
    assert!(problems[0]["byte"].as_u64().unwrap() >= 32);
    assert!(problems[0]["message"]
        .as_str()
        .unwrap()
        .contains("does not decode"));
}

#[test]
fn verify_reports_an_ack_of_a_message_beyond_the_log() {
    let dir = tempfile::tempdir().unwrap();
    closed_store(dir.path());
    let event = logq_offsets::GroupEvent::Acked {
        group: logq_offsets::GroupId(0),
        offset: 999,
        outcome: None,
    };
    append_to_journal(dir.path(), &event.to_bytes().unwrap());
    let (code, stdout, _) = run_read_only(dir.path(), &["verify", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("ack of message 999"), "{stdout}");
    assert!(
        stdout.contains("beyond the end of the message log (ids below 10)"),
        "{stdout}"
    );
    assert!(stdout.contains("1 problems found"), "{stdout}");
}

#[test]
fn verify_reports_a_damaged_checkpoint_with_file_and_byte() {
    let dir = tempfile::tempdir().unwrap();
    closed_store(dir.path());
    let groups = dir.path().join("queues/orders/groups");
    let checkpoint = std::fs::read_dir(&groups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "ckpt"))
        .expect("a checkpoint after close");
    flip(&checkpoint, 40);
    let (code, stdout, _) = run_read_only(dir.path(), &["verify", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    let name = checkpoint.file_name().unwrap().to_str().unwrap();
    let line = stdout
        .lines()
        .find(|l| l.contains(name))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("checkpoint does not decode"), "{line}");
    assert!(line.contains(": byte "), "{line}");
}
