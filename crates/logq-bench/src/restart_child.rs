//! The child processes of the restart scenario (6), shared by the in-process targets (logq,
//! SQLite, yaque, queue-file).
//!
//! The harness runs its own binary as
//! `logq-bench restart-child --target <T> --dir <D> --phase <P>`:
//! - [`Phase::Write`]: open the queue in `D` in the target's durable configuration, print
//!   `ready`, then send and consume/ack in a loop (a live service) until the parent kills it;
//! - [`Phase::Open`]: open the queue again (the target's recovery after the kill), read the
//!   oldest message, check it has [`crate::PAYLOAD_BYTES`] bytes, print `ready <detail>` and
//!   exit.
//!
//! Each target fills its backlog itself (fast, then synced), then calls [`kill_and_reopen`],
//! which runs both phases and times the second from spawn to its `ready` line.

use crate::Result;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the writing child runs before it is killed.
pub const WRITE_FOR: Duration = Duration::from_millis(300);

/// The reason every in-process target gives when the harness binary is unknown.
pub const NO_EXE: &str = "no harness binary to run as the killed child";

/// A queue with a restart child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildTarget {
    /// logq (`logq::Store`).
    Logq,
    /// SQLite (rusqlite).
    Sqlite,
    /// The `yaque` crate.
    Yaque,
    /// The `queue-file` crate.
    QueueFile,
}

impl ChildTarget {
    /// Every target with a restart child.
    pub const ALL: [ChildTarget; 4] = [
        ChildTarget::Logq,
        ChildTarget::Sqlite,
        ChildTarget::Yaque,
        ChildTarget::QueueFile,
    ];

    /// Its name on the command line (`--target`).
    pub fn as_str(self) -> &'static str {
        match self {
            ChildTarget::Logq => "logq",
            ChildTarget::Sqlite => "sqlite",
            ChildTarget::Yaque => "yaque",
            ChildTarget::QueueFile => "queue-file",
        }
    }

    /// Parses a name of `--target`.
    pub fn parse(name: &str) -> Result<ChildTarget> {
        ChildTarget::ALL
            .into_iter()
            .find(|t| t.as_str() == name)
            .ok_or_else(|| format!("unknown restart-child target {name:?}").into())
    }
}

/// What a restart child does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Open the backlog, print `ready`, send and consume until killed.
    Write,
    /// Open (recover) the backlog, read the oldest message, print `ready <detail>`, exit.
    Open,
}

impl Phase {
    /// Its name on the command line (`--phase`).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Write => "write",
            Phase::Open => "open",
        }
    }

    /// Parses a name of `--phase`.
    pub fn parse(name: &str) -> Result<Phase> {
        [Phase::Write, Phase::Open]
            .into_iter()
            .find(|p| p.as_str() == name)
            .ok_or_else(|| format!("unknown restart-child phase {name:?}").into())
    }
}

/// The body of `logq-bench restart-child`: runs `phase` of `target` on the data in `dir`.
pub fn run_restart_child(target: ChildTarget, dir: &Path, phase: Phase) -> Result<()> {
    match target {
        ChildTarget::Logq => crate::logq_target::restart_child(dir, phase),
        #[cfg(feature = "sqlite")]
        ChildTarget::Sqlite => crate::peers::sqlite::restart_child(dir, phase),
        #[cfg(feature = "yaque")]
        ChildTarget::Yaque => crate::peers::yaque::restart_child(dir, phase),
        #[cfg(feature = "queue-file")]
        ChildTarget::QueueFile => crate::peers::queue_file::restart_child(dir, phase),
        #[allow(unreachable_patterns)] // every feature on: no target is left out
        other => Err(crate::peers::not_built(other.as_str())),
    }
}

/// Prints the line the parent waits for (`ready`, or `ready <detail>`) and flushes it.
pub fn ready(detail: Option<&str>) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match detail {
        Some(d) => writeln!(out, "ready {d}")?,
        None => writeln!(out, "ready")?,
    }
    out.flush()?;
    Ok(())
}

/// Empties `dir` (removing it with its contents, then creating it again).
pub fn fresh_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    Ok(())
}

/// Runs `fill` (`target`'s backlog fill of about `bytes`) and reports its rate on stderr, as
/// the basis of the targets' [`crate::target::Target::restart_bytes_max`].
pub fn logged_fill(target: &str, bytes: u64, fill: impl FnOnce() -> Result<()>) -> Result<()> {
    let start = Instant::now();
    fill()?;
    let elapsed = start.elapsed();
    eprintln!(
        "logq-bench: {target}: filled {bytes} B in {:.1} s ({:.1} MB/s)",
        elapsed.as_secs_f64(),
        crate::stats::rate(bytes, elapsed) / 1e6
    );
    Ok(())
}

/// Runs a [`Phase::Write`] child of `target` on the backlog in `dir` for [`WRITE_FOR`],
/// SIGKILLs it, and returns how long a fresh [`Phase::Open`] child took from spawn to
/// `ready` (opened, recovered, oldest message read).
pub fn kill_and_reopen(
    exe: &Path,
    target: ChildTarget,
    dir: &Path,
) -> Result<crate::target::Restarted> {
    let (mut writer, _) = spawn(exe, target, dir, Phase::Write)?;
    std::thread::sleep(WRITE_FOR);
    if let Some(status) = writer.try_wait()? {
        return Err(format!("restart child (write) exited before the kill: {status}").into());
    }
    writer.kill()?; // SIGKILL on Unix
    writer.wait()?;
    let start = Instant::now();
    let (mut reader, line) = spawn(exe, target, dir, Phase::Open)?;
    let elapsed = start.elapsed();
    let status = reader.wait()?;
    if !status.success() {
        return Err(format!("restart child (open) failed after ready: {status}").into());
    }
    Ok(crate::target::Restarted {
        elapsed,
        note: line
            .split_once(NOTE_MARK)
            .map(|(_, note)| note.trim().to_owned()),
    })
}

/// The whole restart of an in-process peer kept in `dir`: empties it, fills it with `fill`
/// (about `backlog_bytes`, logged as `name`), `restarts` times kills a writing child and
/// times a fresh one (see [`kill_and_reopen`]), and empties `dir` again.
pub fn fill_kill_and_reopen(
    exe: Option<&Path>,
    name: &str,
    target: ChildTarget,
    dir: &Path,
    backlog_bytes: u64,
    restarts: usize,
    fill: impl FnOnce() -> Result<()>,
) -> Result<Vec<crate::target::Restarted>> {
    let exe = exe.ok_or(NO_EXE)?;
    fresh_dir(dir)?;
    logged_fill(name, backlog_bytes, fill)?;
    let restarted = (0..restarts.max(1))
        .map(|_| kill_and_reopen(exe, target, dir))
        .collect::<Result<Vec<_>>>()?;
    fresh_dir(dir)?;
    Ok(restarted)
}

/// What separates a note for the report from the rest of a child's `ready` line.
pub const NOTE_MARK: &str = " note: ";

/// Spawns `exe restart-child …` and returns it, with its `ready` line, once it printed that line.
fn spawn(
    exe: &Path,
    target: ChildTarget,
    dir: &Path,
    phase: Phase,
) -> Result<(std::process::Child, String)> {
    let mut child = Command::new(exe)
        .arg("restart-child")
        .arg("--target")
        .arg(target.as_str())
        .arg("--dir")
        .arg(dir)
        .arg("--phase")
        .arg(phase.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("child without stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    if !line.starts_with("ready") {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!(
            "restart child ({} {}) failed before ready: {line:?}",
            target.as_str(),
            phase.as_str()
        )
        .into());
    }
    Ok((child, line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in ChildTarget::ALL {
            assert_eq!(ChildTarget::parse(t.as_str()).ok(), Some(t));
        }
        for p in [Phase::Write, Phase::Open] {
            assert_eq!(Phase::parse(p.as_str()).ok(), Some(p));
        }
        assert!(ChildTarget::parse("redis").is_err());
        assert!(Phase::parse("read").is_err());
    }
}
