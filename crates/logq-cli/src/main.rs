//! The `logq` binary: argument parsing only; the commands live in the `logq_cli` library.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand, ValueEnum};
use logq_cli::analysis::AnalyzeOptions;
use logq_cli::output::PayloadFormat;
use logq_cli::{dump, inspect, repair, verify, CliError, Outcome, EXIT_ERROR};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Inspect, dump, verify and repair logq data directories.
///
/// Exit codes: 0 clean, 1 damage found, 2 usage or I/O error.
#[derive(Debug, Parser)]
#[command(name = "logq", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Largest batch to accept when reading, in bytes (the log's batch_bytes_max).
    #[arg(long, global = true, default_value_t = AnalyzeOptions::default().batch_bytes_max)]
    batch_bytes_max: u32,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One row per segment file: offsets, records, bytes, timestamps, index and data state.
    Segments {
        /// A log directory, or a directory with logs below it.
        dir: PathBuf,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// The batches and records of a segment file or a log directory.
    Dump {
        /// A segment file or a log directory.
        path: PathBuf,
        /// Show records from this offset on.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Show at most this many records.
        #[arg(long)]
        count: Option<u64>,
        /// How to show payloads.
        #[arg(long, value_enum, default_value_t = Payload::Utf8)]
        payload: Payload,
        /// One JSON object per line (payloads as {"text"} or {"bytes": base64}).
        #[arg(long)]
        json: bool,
    },
    /// Check every header, batch CRC, offset and index; print each problem, then a count.
    Verify {
        /// A log directory, or a directory with logs below it.
        dir: PathBuf,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Write a repaired copy of DIR into a new directory (DIR is never modified).
    Repair {
        /// The damaged directory.
        dir: PathBuf,
        /// Where to write the copy (must not exist, or be empty).
        #[arg(long, short)]
        output: PathBuf,
        /// One index entry per this many bytes in the rebuilt indexes.
        #[arg(long, default_value_t = 4096)]
        index_interval_bytes: u32,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Payload {
    Hex,
    Utf8,
    None,
}

fn run(cli: &Cli, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let options = AnalyzeOptions {
        batch_bytes_max: cli.batch_bytes_max,
    };
    match &cli.command {
        Command::Segments { dir, json } => inspect::segments(
            &inspect::SegmentsArgs {
                dir,
                json: *json,
                options,
            },
            out,
            &mut std::io::stderr(),
        ),
        Command::Dump {
            path,
            from,
            count,
            payload,
            json,
        } => dump::dump(
            &dump::DumpArgs {
                path,
                from: *from,
                count: *count,
                payload: match payload {
                    Payload::Hex => PayloadFormat::Hex,
                    Payload::Utf8 => PayloadFormat::Utf8,
                    Payload::None => PayloadFormat::None,
                },
                json: *json,
                batch_bytes_max: options.batch_bytes_max,
            },
            out,
        ),
        Command::Verify { dir, json } => verify::verify(
            &verify::VerifyArgs {
                dir,
                json: *json,
                options,
            },
            out,
        ),
        Command::Repair {
            dir,
            output,
            index_interval_bytes,
        } => repair::repair(
            &repair::RepairArgs {
                dir,
                output,
                options,
                index_interval_bytes: (*index_interval_bytes).max(1),
            },
            out,
        ),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _printed = error.print();
            let code = if error.use_stderr() { EXIT_ERROR } else { 0 };
            return ExitCode::from(code);
        }
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = run(&cli, &mut out).and_then(|outcome| {
        out.flush().map_err(CliError::Output)?;
        Ok(outcome)
    });
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(error) if error.is_broken_pipe() => ExitCode::from(0),
        Err(error) => {
            let _flushed = out.flush();
            eprintln!("logq: {error}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
