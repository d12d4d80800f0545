//! One writer per directory across processes: the test re-runs its own binary as a child.

use logq_log::{Error, Log, LogOptions, Record};
use std::process::Command;

const CHILD_DIR: &str = "LOGQ_LOCK_TEST_DIR";

/// In the child: try to open the directory for writing and report through the exit code.
#[test]
fn child_tries_to_open() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return; // Only meaningful when run by `second_process_gets_locked`.
    };
    match Log::open(&dir, LogOptions::default()) {
        Err(Error::Locked { .. }) => std::process::exit(17),
        Ok(log) => {
            log.append(&[Record::new(b"from the child")]).unwrap();
            log.close().unwrap();
            std::process::exit(0)
        }
        Err(other) => {
            eprintln!("unexpected: {other}");
            std::process::exit(1)
        }
    }
}

fn run_child(dir: &std::path::Path) -> i32 {
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_tries_to_open",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .status()
        .unwrap();
    status.code().unwrap_or(-1)
}

#[test]
fn second_process_gets_locked() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    log.append(&[Record::new(b"from the parent")]).unwrap();
    assert_eq!(run_child(dir.path()), 17, "the child must see Locked");
    drop(log);
    assert_eq!(run_child(dir.path()), 0, "the lock dies with its holder");
    let log = Log::open(dir.path(), LogOptions::default()).unwrap();
    assert_eq!(log.read(1).unwrap().payload, b"from the child");
}
