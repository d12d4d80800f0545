//! Real processes killed with SIGKILL: the test re-runs its own binary as a child that sends
//! (some messages with dedup ids, some resent) and consumes and acks under
//! `Durability::Always` on a real `logq::Store`, printing each id on stdout (a pipe) only
//! after the call returned:
//!
//! ```text
//! S <id> <run> <n>   send n of run returned id (the payload is a function of run and n)
//! R <id>             a receive in group "g" returned message id
//! A <id>             the ack of message id in group "g" returned Ok
//! ```
//!
//! The parent kills the child at a random moment (seeded, 5–60 ms after it starts), reopens
//! the directory and checks: every reported send is there byte for byte (invariant 1); a
//! dedup id resent returns the first id; a reported ack is `Acked` and its message is never
//! received again in that group (invariant 5). The page cache survives a process kill, so
//! this checks the engine's own bookkeeping, not the disk (the simulated power cuts of
//! `logq-sim` do that). `LOGQ_KILL9_KILLS=<n>` changes the number of kills (default 100).

use logq::{Message, MessageId, Options, Status, Store};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_DIR: &str = "LOGQ_KILL9_DIR";
const CHILD_RUN: &str = "LOGQ_KILL9_RUN";
const QUEUE: &str = "k";
const GROUP: &str = "g";

/// A SplitMix64 step: the seeded randomness of child and parent.
fn mix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The payload of send `n` of child run `run`: unique, 16 to ~500 bytes.
fn payload(run: u64, n: u64) -> Vec<u8> {
    let mut state = run.wrapping_mul(1_000_003) ^ n;
    let len = 16 + usize::try_from(mix(&mut state) % 480).unwrap_or(0);
    let mut bytes = format!("{run}:{n}:").into_bytes();
    while bytes.len() < len {
        bytes.push(b'a' + u8::try_from(mix(&mut state) % 26).unwrap_or(0));
    }
    bytes
}

fn dedup_id(run: u64, n: u64) -> String {
    format!("k{run}-{n}")
}

/// In the child: work until killed.
#[test]
fn child_process() {
    let (Ok(dir), Ok(run)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_RUN)) else {
        return; // Only meaningful when started by `sigkill_at_random_moments`.
    };
    let run: u64 = run.parse().expect("run number");
    let store = Store::open(&dir, Options::default()).expect("child open");
    let queue = store.queue(QUEUE).expect("queue");
    let consumer = queue.consumer(GROUP).expect("consumer");
    let mut out = std::io::stdout().lock();
    let mut state = run;
    let mut n = 0u64;
    let mut deduped: Vec<u64> = Vec::new();
    loop {
        match mix(&mut state) % 10 {
            0..=3 => {
                let mut message = Message::new(payload(run, n));
                if n.is_multiple_of(3) {
                    message = message.dedup_id(dedup_id(run, n));
                    deduped.push(n);
                }
                let id = queue.send(message).expect("send");
                writeln!(out, "S {} {run} {n}", id.0).expect("stdout");
                n += 1;
            }
            4 if !deduped.is_empty() => {
                // A retry of an earlier send with a dedup id: must return the first id.
                let pick = deduped[usize::try_from(mix(&mut state)).unwrap_or(0) % deduped.len()];
                let message = Message::new(payload(run, pick)).dedup_id(dedup_id(run, pick));
                let id = queue.send(message).expect("resend");
                writeln!(out, "S {} {run} {pick}", id.0).expect("stdout");
            }
            5 => {
                let batch: Vec<Message> =
                    (n..n + 3).map(|i| Message::new(payload(run, i))).collect();
                let ids = queue.send_batch(&batch).expect("send_batch");
                for (i, id) in (n..).zip(ids) {
                    writeln!(out, "S {} {run} {i}", id.0).expect("stdout");
                }
                n += 3;
            }
            _ => {
                if let Some(delivery) = consumer.try_receive().expect("receive") {
                    let id = delivery.id().0;
                    writeln!(out, "R {id}").expect("stdout");
                    if mix(&mut state).is_multiple_of(4) {
                        drop(delivery); // released: delivered again later
                    } else {
                        delivery.ack().expect("ack");
                        writeln!(out, "A {id}").expect("stdout");
                    }
                }
            }
        }
    }
}

/// What the children reported, across runs.
#[derive(Default)]
struct Reports {
    /// (run, n) → the id its send returned.
    sends: BTreeMap<(u64, u64), u64>,
    /// Ids whose ack returned Ok.
    acked: BTreeSet<u64>,
    lines: u64,
}

impl Reports {
    fn take(&mut self, line: &str) {
        let fields: Vec<&str> = line.split(' ').collect();
        let number = |i: usize| -> u64 {
            fields[i]
                .parse()
                .unwrap_or_else(|_| panic!("bad report {line:?}"))
        };
        match fields[0] {
            "S" => {
                let (id, key) = (number(1), (number(2), number(3)));
                if let Some(first) = self.sends.insert(key, id) {
                    assert_eq!(
                        first, id,
                        "send {key:?} with a dedup id returned {first}, then {id}"
                    );
                }
            }
            "R" => {
                let id = number(1);
                assert!(
                    !self.acked.contains(&id),
                    "message {id} received in group {GROUP} after its ack returned Ok"
                );
            }
            "A" => {
                assert!(
                    self.acked.insert(number(1)),
                    "message {} acked twice",
                    number(1)
                );
            }
            other => panic!("unknown report {other:?} in {line:?}"),
        }
        self.lines += 1;
    }
}

/// Reopens the store and checks every report so far.
fn check(dir: &Path, reports: &Reports) {
    let store = Store::open(dir, Options::default()).expect("reopen after SIGKILL");
    let queue = store.queue(QUEUE).expect("queue");
    for (&(run, n), &id) in &reports.sends {
        let message = queue
            .peek(MessageId(id))
            .unwrap_or_else(|e| panic!("send {run}/{n} acknowledged as id {id} is gone: {e}"));
        assert_eq!(
            message.payload,
            payload(run, n),
            "message {id} (send {run}/{n}) differs"
        );
    }
    for &id in &reports.acked {
        let status = queue.status(MessageId(id), GROUP).expect("status");
        assert!(
            matches!(status, Status::Acked { .. }),
            "message {id} acked Ok is {status:?}"
        );
    }
}

#[test]
fn sigkill_at_random_moments() {
    let kills: u64 = std::env::var("LOGQ_KILL9_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut reports = Reports::default();
    let mut state = 0x6B11_u64;
    for run in 0..kills {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_RUN, run.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = BufReader::new(stdout).read_to_end(&mut bytes);
            bytes
        });
        std::thread::sleep(Duration::from_millis(5 + mix(&mut state) % 56));
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        assert!(
            status.code().is_none(),
            "child {run} exited by itself: {status}"
        );
        // Only complete lines count: the text after the last newline may have been cut by
        // the kill. The test harness prints nothing else on stdout before the child test runs
        // except its own header lines, which do not start with a report letter and a space.
        let output = reader.join().unwrap();
        let complete = output
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |end| end + 1);
        let text = String::from_utf8_lossy(&output[..complete]);
        for line in text.lines() {
            if ["S ", "R ", "A "].iter().any(|p| line.starts_with(p)) {
                reports.take(line);
            }
        }
        check(dir.path(), &reports);
    }
    eprintln!(
        "sigkill_at_random_moments: {kills} kills, {} sends and {} acks reported ({} lines), in {:.1?}",
        reports.sends.len(),
        reports.acked.len(),
        reports.lines,
        started.elapsed()
    );
    assert!(!reports.sends.is_empty() && !reports.acked.is_empty());
}
