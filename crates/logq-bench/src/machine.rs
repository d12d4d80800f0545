//! What machine the figures come from.

use std::path::Path;
use std::process::Command;

/// The machine and date of a run, as shown at the top of the report.
#[derive(Clone, Debug)]
pub struct Machine {
    /// Logical CPUs.
    pub cpus: usize,
    /// The CPU model, from /proc/cpuinfo.
    pub cpu_model: String,
    /// Total memory, from /proc/meminfo.
    pub memory: String,
    /// The file system holding the data, from df.
    pub disk: String,
    /// The kernel release.
    pub kernel: String,
    /// The UTC date and time of the run.
    pub date: String,
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl Machine {
    /// Describes this machine, with the disk under `data_dir`.
    pub fn describe(data_dir: &Path) -> Machine {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map_or_else(|| "unknown".to_owned(), |s| s.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or_else(
                || "unknown".to_owned(),
                |kb| format!("{} GiB", kb / (1024 * 1024)),
            );
        let dir = data_dir.to_string_lossy();
        let disk = command_output("df", &["-hT", &dir])
            .and_then(|s| s.lines().nth(1).map(str::to_owned))
            .map_or_else(
                || "unknown".to_owned(),
                |line| {
                    let f: Vec<&str> = line.split_whitespace().collect();
                    match f.as_slice() {
                        [dev, fs, size, _used, avail, ..] => {
                            format!("{dev} ({fs}, {size}, {avail} free)")
                        }
                        _ => line,
                    }
                },
            );
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |s| s.trim().to_owned());
        let date = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
            .unwrap_or_else(|| "unknown".to_owned());
        Machine {
            cpus,
            cpu_model,
            memory,
            disk,
            kernel,
            date,
        }
    }
}
