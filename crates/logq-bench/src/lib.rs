//! # logq-bench: logq side by side with the queues users would pick instead
//!
//! One run installs (optionally) and starts the peers on 127.0.0.1 with their strongest
//! durability, runs every scenario against logq and each peer in turn, stops them, and
//! writes `docs/BENCHMARKS.md` with the tables, the ratios and SVG plots.
//!
//! The pieces, one concept per module:
//! - [`target`]: what a queue under test offers the scenarios ([`target::Target`],
//!   [`target::Producer`], [`target::Consumer`]);
//! - [`logq_target`]: logq through the queue API users embed (`logq::Store`);
//! - [`peers`]: the peers (servers started as child processes, embedded crates in process);
//! - [`scenarios`]: the six scenarios;
//! - [`restart_child`]: the child processes killed and restarted in scenario (6) for the
//!   in-process targets (logq, SQLite, yaque, queue-file);
//! - [`stats`], [`report`], [`plot`]: medians, the Markdown table, the SVG charts;
//! - [`runner`]: the loop over targets, scenarios and runs.
#![forbid(unsafe_code)]

pub mod config;
pub mod logq_target;
pub mod machine;
pub mod peers;
pub mod plot;
pub mod report;
pub mod restart_child;
pub mod runner;
pub mod scenarios;
pub mod stats;
pub mod target;

/// The error type of the harness: anything printable, sendable across threads.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The result type of the harness.
pub type Result<T> = std::result::Result<T, BoxError>;

/// The payload size of every scenario, in bytes.
pub const PAYLOAD_BYTES: usize = 256;

/// A payload of [`PAYLOAD_BYTES`] whose first 8 bytes are `sequence` (little-endian), so a
/// consumer can tell which message it received.
pub fn payload(sequence: u64) -> Vec<u8> {
    let mut bytes = vec![0x5a_u8; PAYLOAD_BYTES];
    bytes[..8].copy_from_slice(&sequence.to_le_bytes());
    bytes
}

/// The sequence number written by [`payload`], if the payload is long enough.
pub fn sequence_of(payload: &[u8]) -> Option<u64> {
    payload
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
}

/// Runs everything `config` asks for, writes the report and plots into `config.docs_dir`
/// (if set), and returns the tables as printed to stdout.
pub fn run_and_report(config: &config::BenchConfig) -> Result<String> {
    let results = runner::run(config)?;
    if let Some(docs) = &config.docs_dir {
        std::fs::create_dir_all(docs)?;
        let mut plots = Vec::new();
        for (file, draw) in [
            (
                "benchmarks-throughput.svg",
                plot::throughput as fn(&runner::Results, &std::path::Path) -> Result<()>,
            ),
            ("benchmarks-latency.svg", plot::latency),
        ] {
            match draw(&results, &docs.join(file)) {
                Ok(()) => plots.push(file.to_owned()),
                Err(e) => eprintln!("logq-bench: plot {file}: {e}"),
            }
        }
        let path = docs.join("BENCHMARKS.md");
        let kept = std::fs::read_to_string(&path)
            .map(|s| report::kept_analysis(&s))
            .unwrap_or_default();
        std::fs::write(&path, report::markdown(&results, &plots, &kept))?;
    }
    Ok(report::tables(&results))
}
