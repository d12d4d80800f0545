//! `logq-bench`: logq side by side with Redis, PostgreSQL, RabbitMQ, NATS, SQLite, yaque and
//! queue-file. See the crate documentation and `docs/BENCHMARKS.md`.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use logq_bench::config::BenchConfig;
use logq_bench::peers::PeerKind;
use logq_bench::restart_child::{run_restart_child, ChildTarget, Phase};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Compare logq with the queues users would pick instead, on this machine.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// CI mode: logq alone, about a second per scenario, no peers, no install, no report file.
    #[arg(long)]
    quick: bool,
    /// Peers to compare with (comma-separated): redis,postgres,rabbitmq,nats,sqlite,yaque,queue-file, or all.
    #[arg(long, value_delimiter = ',', default_value = "all")]
    peers: Vec<String>,
    /// Runs per figure (median, min and max are reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Seconds per timed scenario.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Seconds per run of the latency scenario (4), if not --seconds: its p99.9 is the
    /// (rate × seconds / 1000)-th slowest message.
    #[arg(long)]
    latency_seconds: Option<f64>,
    /// Messages in the backlog of the consume-and-ack scenario.
    #[arg(long, default_value_t = 100_000)]
    backlog: u64,
    /// Longest drain of the backlog, in seconds, before a partial rate is reported.
    #[arg(long, default_value_t = 30)]
    drain_limit_s: u64,
    /// Backlog sizes of the restart scenario, in GB (10^9 bytes), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,10")]
    restart_gb: Vec<f64>,
    /// The largest restart backlog filled for a server peer (Redis, PostgreSQL, RabbitMQ,
    /// NATS), in GB; in-process targets (logq, SQLite, yaque, queue-file) run every size.
    #[arg(long, default_value_t = 1.0)]
    peer_restart_gb_max: f64,
    /// Restarts timed per fill in the restart scenario by in-process targets (logq, SQLite,
    /// yaque, queue-file): a run's figure is their median. Servers restart once per fill.
    #[arg(long, default_value_t = 3)]
    restarts_per_fill: usize,
    /// Do not run scripts/install-peers.sh for missing peers.
    #[arg(long)]
    no_install: bool,
    /// Where the queues keep their data (a directory on the disk under test).
    #[arg(long, default_value = "/var/tmp/logq-bench")]
    work_dir: PathBuf,
    /// Where BENCHMARKS.md and the plots go (not written in --quick mode unless given).
    #[arg(long)]
    docs_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Internal>,
}

#[derive(Subcommand, Debug)]
enum Internal {
    /// Internal: a child process of the restart scenario (see `logq_bench::restart_child`).
    #[command(hide = true)]
    RestartChild {
        /// The queue: logq, sqlite, yaque or queue-file.
        #[arg(long, default_value = "logq")]
        target: String,
        /// Its data directory (filled by the parent).
        #[arg(long)]
        dir: PathBuf,
        /// `write` (send and consume until killed) or `open` (recover, read one, exit).
        #[arg(long)]
        phase: String,
    },
}

/// Bytes in `gb` GB (10^9 bytes).
fn gb_to_bytes(gb: f64) -> u64 {
    // Sizes in GB from the command line; rounding to whole bytes is intended.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let bytes = (gb * 1e9).round() as u64;
    bytes
}

fn config(cli: &Cli) -> Result<BenchConfig, String> {
    let self_exe = std::env::current_exe().ok();
    if cli.quick {
        let mut c = BenchConfig::quick(cli.work_dir.clone());
        c.self_exe = self_exe;
        c.docs_dir.clone_from(&cli.docs_dir);
        return Ok(c);
    }
    let mut peers = Vec::new();
    for name in &cli.peers {
        if name == "all" {
            peers.extend(PeerKind::ALL);
        } else if name != "none" {
            peers.push(PeerKind::parse(name).ok_or_else(|| format!("unknown peer {name:?}"))?);
        }
    }
    let restart_bytes = cli.restart_gb.iter().map(|gb| gb_to_bytes(*gb)).collect();
    Ok(BenchConfig {
        quick: false,
        runs: cli.runs.max(1),
        duration: Duration::from_secs_f64(cli.seconds),
        latency_duration: Duration::from_secs_f64(cli.latency_seconds.unwrap_or(cli.seconds)),
        backlog: cli.backlog,
        drain_limit: Duration::from_secs(cli.drain_limit_s),
        producers: 16,
        rates: vec![1_000, 10_000],
        restart_bytes,
        peer_restart_bytes_max: gb_to_bytes(cli.peer_restart_gb_max),
        restarts_per_fill: cli.restarts_per_fill.max(1),
        peers,
        install: !cli.no_install,
        work_dir: cli.work_dir.clone(),
        self_exe,
        docs_dir: Some(
            cli.docs_dir.clone().unwrap_or_else(|| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs"))
            }),
        ),
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Internal::RestartChild { target, dir, phase }) = &cli.command {
        let run = ChildTarget::parse(target)
            .and_then(|t| Ok((t, Phase::parse(phase)?)))
            .and_then(|(t, p)| run_restart_child(t, dir, p));
        return match run {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("restart-child: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("logq-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match logq_bench::run_and_report(&config) {
        Ok(tables) => {
            println!("{tables}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("logq-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
