//! The settings of one comparison run.

use crate::peers::PeerKind;
use std::path::PathBuf;
use std::time::Duration;

/// Everything a run needs to know; built by `main` from the command line, or by tests.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    /// CI mode: logq alone, about a second per scenario, small backlogs, no install.
    pub quick: bool,
    /// Runs per figure (the median, min and max are reported).
    pub runs: usize,
    /// How long each timed scenario runs (but the latency scenario).
    pub duration: Duration,
    /// How long each run of the latency scenario (4) lasts: its p99.9 is the
    /// `rate × seconds / 1000`-th slowest message, so tails need longer runs than rates.
    pub latency_duration: Duration,
    /// Messages in the backlog of the consume-and-ack scenario.
    pub backlog: u64,
    /// The longest the consume-and-ack scenario drains before it reports a partial rate.
    pub drain_limit: Duration,
    /// Producers of the concurrent scenario.
    pub producers: usize,
    /// Open-loop rates of the latency scenario, messages per second.
    pub rates: Vec<u64>,
    /// Backlog sizes of the restart scenario, in bytes.
    pub restart_bytes: Vec<u64>,
    /// The largest restart backlog filled for a server peer (in-process targets get every
    /// size): filling 10 GB into a server takes from minutes to most of an hour, and Redis
    /// holds it all in memory.
    pub peer_restart_bytes_max: u64,
    /// Restarts timed on each fill of the restart scenario by in-process targets (the
    /// median is the run's figure); servers restart once per fill.
    pub restarts_per_fill: usize,
    /// The peers to compare with (empty in quick mode).
    pub peers: Vec<PeerKind>,
    /// Whether to run `scripts/install-peers.sh` for missing peers.
    pub install: bool,
    /// Where queues keep their data (a temporary directory under it per target).
    pub work_dir: PathBuf,
    /// This harness's own binary, run as the child process killed in the restart scenario.
    pub self_exe: Option<PathBuf>,
    /// Where the report and the plots go (`None`: print only).
    pub docs_dir: Option<PathBuf>,
}

impl BenchConfig {
    /// The quick (CI) settings: logq only, about a second per scenario.
    pub fn quick(work_dir: PathBuf) -> BenchConfig {
        BenchConfig {
            quick: true,
            runs: 1,
            duration: Duration::from_secs(1),
            latency_duration: Duration::from_secs(1),
            backlog: 5_000,
            drain_limit: Duration::from_secs(5),
            producers: 16,
            rates: vec![1_000, 10_000],
            restart_bytes: vec![4 << 20],
            peer_restart_bytes_max: 4 << 20,
            // Two: the second restart on one fill is a path of its own (the child's close).
            restarts_per_fill: 2,
            peers: Vec::new(),
            install: false,
            work_dir,
            self_exe: None,
            docs_dir: None,
        }
    }
}
