//! The demo's side files in `<DIR>/demo/`: an independent record of what the queue API
//! *promised*, kept outside logq, so that the run after a crash can check the promises.
//!
//! - `state`: `run=<n> status=running|finished` — a run that finds `running` knows the
//!   previous run was killed.
//! - `sent`: one line `<order number> <id>` per order, written right after `send` returned.
//! - `acked-<group>`: one line `<id>` per message, written right after its ack returned.
//!
//! Each line is one `write` on a file opened for appending, so a process crash (what
//! `--kill-after-ms` does) keeps every line written before it; the files are also fdatasynced
//! about once a second, so at most the last second is unrecorded after a power cut. A line is
//! written only *after* the call returned, so the files are a subset of what was promised:
//! every line must hold after a restart.

use crate::error::{CliError, Result};
use parking_lot::Mutex;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The demo's directory inside the store directory.
pub const DEMO_DIR: &str = "demo";

/// What the `state` file says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunState {
    /// The run number (1 for the first run on a directory).
    pub run: u64,
    /// Whether that run reached its end.
    pub finished: bool,
}

/// The side-file directory.
#[derive(Clone, Debug)]
pub struct WitnessDir {
    dir: PathBuf,
}

fn io_error<'a>(
    path: &'a Path,
    operation: &'static str,
) -> impl FnOnce(io::Error) -> CliError + 'a {
    move |e| CliError::io(path, operation, e)
}

impl WitnessDir {
    /// Opens (creating) `<store>/demo/`.
    pub fn open(store_dir: &Path) -> Result<WitnessDir> {
        let dir = store_dir.join(DEMO_DIR);
        fs::create_dir_all(&dir).map_err(io_error(&dir, "create directory"))?;
        Ok(WitnessDir { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The state of the previous run, if there was one.
    pub fn read_state(&self) -> Result<Option<RunState>> {
        let path = self.path("state");
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CliError::io(&path, "read", e)),
        };
        let mut run = None;
        let mut finished = None;
        for word in text.split_whitespace() {
            match word.split_once('=') {
                Some(("run", n)) => run = n.parse().ok(),
                Some(("status", s)) => finished = Some(s == "finished"),
                _ => {}
            }
        }
        match (run, finished) {
            (Some(run), Some(finished)) => Ok(Some(RunState { run, finished })),
            _ => Err(CliError::Invalid(format!(
                "{}: not a demo state file (expected `run=<n> status=running|finished`)",
                path.display()
            ))),
        }
    }

    /// Replaces the state file durably (temp file, fdatasync, rename, directory fsync).
    pub fn write_state(&self, state: RunState) -> Result<()> {
        let path = self.path("state");
        let temp = self.path("state.tmp");
        let status = if state.finished {
            "finished"
        } else {
            "running"
        };
        let mut file = File::create(&temp).map_err(io_error(&temp, "create"))?;
        writeln!(file, "run={} status={status}", state.run).map_err(io_error(&temp, "write"))?;
        file.sync_data().map_err(io_error(&temp, "fdatasync"))?;
        fs::rename(&temp, &path).map_err(io_error(&path, "rename"))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io_error(&self.dir, "fsync directory"))
    }

    /// The lines of side file `name` as numbers (a torn or foreign line is skipped).
    fn read_numbers(&self, name: &str) -> Result<Vec<Vec<u64>>> {
        let path = self.path(name);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(CliError::io(&path, "read", e)),
        };
        Ok(text
            .lines()
            .filter_map(|line| {
                line.split_whitespace()
                    .map(|w| w.parse().ok())
                    .collect::<Option<Vec<u64>>>()
            })
            .collect())
    }

    /// `(order number, id)` of every order recorded as sent.
    pub fn read_sent(&self) -> Result<Vec<(u64, u64)>> {
        Ok(self
            .read_numbers("sent")?
            .into_iter()
            .filter_map(|v| match v[..] {
                [order, id] => Some((order, id)),
                _ => None,
            })
            .collect())
    }

    /// Ids recorded as acknowledged by `group`.
    pub fn read_acked(&self, group: &str) -> Result<Vec<u64>> {
        Ok(self
            .read_numbers(&format!("acked-{group}"))?
            .into_iter()
            .filter_map(|v| match v[..] {
                [id] => Some(id),
                _ => None,
            })
            .collect())
    }

    /// Empties the side files (after the previous run's were checked) and opens them for
    /// this run.
    pub fn start(&self, groups: &[&str]) -> Result<Witness> {
        let open = |name: &str| -> Result<File> {
            let path = self.path(name);
            OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .open(&path)
                .map_err(|e| CliError::io(&path, "create", e))?;
            OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(|e| CliError::io(&path, "open", e))
        };
        let sent = open("sent")?;
        let acked = groups
            .iter()
            .map(|g| open(&format!("acked-{g}")).map(Mutex::new))
            .collect::<Result<Vec<_>>>()?;
        Ok(Witness {
            sent: Mutex::new(sent),
            acked,
        })
    }
}

/// The open side files of this run.
#[derive(Debug)]
pub struct Witness {
    sent: Mutex<File>,
    acked: Vec<Mutex<File>>,
}

impl Witness {
    /// Records that the send of order `order` returned id `id`.
    pub fn sent(&self, order: u64, id: u64) -> io::Result<()> {
        let line = format!("{order} {id}\n");
        self.sent.lock().write_all(line.as_bytes())
    }

    /// Records that group number `group` (index into the groups given to `start`)
    /// acknowledged `id`.
    pub fn acked(&self, group: usize, id: u64) -> io::Result<()> {
        let line = format!("{id}\n");
        match self.acked.get(group) {
            Some(file) => file.lock().write_all(line.as_bytes()),
            None => Ok(()),
        }
    }

    /// fdatasyncs every side file.
    pub fn sync(&self) -> io::Result<()> {
        self.sent.lock().sync_data()?;
        for file in &self.acked {
            file.lock().sync_data()?;
        }
        Ok(())
    }
}
