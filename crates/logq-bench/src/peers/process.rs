//! Server processes: find the binary, start it in its own process group, wait until it
//! answers, kill it (-9) or stop it, and free ports on 127.0.0.1.

use crate::Result;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Finds `name` on PATH, in /usr/sbin, /usr/lib/rabbitmq/bin or /usr/lib/postgresql/*/bin.
pub fn find_binary(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/bin", "/usr/lib/rabbitmq/bin"].map(PathBuf::from));
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = entries.flatten().map(|e| e.path().join("bin")).collect();
        versions.sort();
        dirs.extend(versions.into_iter().rev());
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// A free TCP port on 127.0.0.1 (bound, then released).
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Runs `command` to completion; its stdout, or an error with its stderr.
pub fn run(command: &mut Command) -> Result<String> {
    let out = command.output()?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{command:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into())
    }
}

/// Polls `ready` until it returns `Ok(true)` or `timeout` passes.
pub fn wait_until(timeout: Duration, mut ready: impl FnMut() -> bool) -> Result<Duration> {
    let start = Instant::now();
    loop {
        if ready() {
            return Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            return Err(format!("not ready after {} s", timeout.as_secs()).into());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A server running as a child in its own process group; stopped (TERM, then KILL) on drop.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    name: String,
}

impl Server {
    /// Starts `command` in a new process group, its output to `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> Result<Server> {
        let out = std::fs::File::create(log)?;
        let err = out.try_clone()?;
        let child = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        Ok(Server {
            child: Some(child),
            name: name.to_owned(),
        })
    }

    /// The pids of the server and all its descendants (PostgreSQL's children leave the
    /// process group with setsid, so a group signal misses them), from /proc.
    fn pids(&self) -> Vec<u32> {
        let Some(child) = &self.child else {
            return Vec::new();
        };
        let mut parents: Vec<(u32, u32)> = Vec::new();
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                    continue;
                };
                let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                    continue;
                };
                // Fields after the ")" that closes the command name: state, ppid, ...
                let ppid = stat
                    .rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                    .and_then(|p| p.parse::<u32>().ok());
                if let Some(ppid) = ppid {
                    parents.push((pid, ppid));
                }
            }
        }
        let mut found = vec![child.id()];
        let mut i = 0;
        while i < found.len() {
            let parent = found[i];
            for &(pid, ppid) in &parents {
                if ppid == parent && !found.contains(&pid) {
                    found.push(pid);
                }
            }
            i += 1;
        }
        found
    }

    fn signal_group(&self, signal: &str) {
        let pids = self.pids();
        if pids.len() > 1 {
            let _ = Command::new("kill")
                .arg(format!("-{signal}"))
                .args(pids.iter().map(u32::to_string))
                .stderr(Stdio::null())
                .status();
        }
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .arg(format!("-{signal}"))
                .arg("--")
                .arg(format!("-{}", child.id()))
                .stderr(Stdio::null())
                .status();
        }
    }

    /// Whether the process has exited (an early crash during startup).
    pub fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| c.try_wait().ok().flatten().is_some())
    }

    /// SIGKILL to the server and every descendant at once (and its process group), then
    /// reaps the child.
    pub fn kill_hard(&mut self) -> Result<()> {
        let pids = self.pids();
        self.signal_group("KILL");
        if let Some(mut child) = self.child.take() {
            child.wait()?;
        }
        // Wait until every killed process is gone (or a zombie): a restarted PostgreSQL
        // refuses to start while its old postmaster's pid is alive.
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            let alive = pids.iter().any(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                    stat.rsplit_once(')')
                        .and_then(|(_, rest)| rest.split_whitespace().next())
                        .is_some_and(|state| state != "Z" && state != "X")
                })
            });
            if !alive {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Err(format!("{}: killed processes still alive after 30 s", self.name).into())
    }

    /// SIGTERM to the group, SIGKILL after 20 s.
    pub fn stop(&mut self) {
        self.signal_group("TERM");
        if let Some(mut child) = self.child.take() {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                if child.try_wait().ok().flatten().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            eprintln!("logq-bench: {} did not stop; killing it", self.name);
            self.child = Some(child);
            let _ = self.kill_hard();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
