//! The `logq` binary: argument parsing only; the commands live in the `logq_cli` library.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand, ValueEnum};
use logq_cli::analysis::AnalyzeOptions;
use logq_cli::output::PayloadFormat;
use logq_cli::{
    consume, demo, dump, groups, inspect, peek, produce, repair, stats, status, store_view, verify,
    CliError, Outcome, EXIT_ERROR,
};
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Inspect, dump, verify and repair logq data directories; read and write queues; run the
/// order-pipeline demo.
///
/// Read commands (segments, dump, verify, stats, groups, status, peek) take no lock and
/// change no byte: they work while a service has the store open. Writing commands (produce,
/// consume, demo) open the store and fail if a service holds it.
///
/// Exit codes: 0 clean, 1 damage found (or a demo check failed), 2 usage or I/O error.
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
        /// A log directory, or a directory with logs below it (a store: every queue's logs).
        dir: PathBuf,
        /// In a store directory: only this queue's message log.
        queue: Option<String>,
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
    /// Per queue and group of a store: depth, ready, in flight, delayed, dead-lettered,
    /// oldest unacknowledged age, disk bytes (rates and latency exist only in-process).
    Stats {
        /// The store directory.
        dir: PathBuf,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Each consumer group of a queue: floor, next to deliver, in flight, delayed, dead, gaps.
    Groups {
        /// The store directory.
        dir: PathBuf,
        /// The queue.
        queue: String,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// What one message is in each group: pending, in flight, delayed, acked (with its
    /// outcome) or dead-lettered.
    Status {
        /// The store directory.
        dir: PathBuf,
        /// The queue.
        queue: String,
        /// The message id.
        id: u64,
        /// Only this group.
        #[arg(long)]
        group: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Messages of a queue with their headers, without consuming them.
    Peek {
        /// The store directory.
        dir: PathBuf,
        /// The queue.
        queue: String,
        /// The first id to show (default: the first retained).
        #[arg(long)]
        from: Option<u64>,
        /// How many messages at most.
        #[arg(short = 'n', long = "count", default_value_t = 10)]
        count: usize,
        /// How to show payloads.
        #[arg(long, value_enum, default_value_t = Payload::Utf8)]
        payload: Payload,
        /// One JSON object per line (payloads as {"text"} or {"bytes": base64}).
        #[arg(long)]
        json: bool,
    },
    /// Sends one message per line of stdin (or of --file) and prints their ids.
    Produce {
        /// The store directory (created if missing).
        dir: PathBuf,
        /// The queue (created if missing).
        queue: String,
        /// Read the lines from this file.
        #[arg(long)]
        file: Option<PathBuf>,
        /// The key of every message.
        #[arg(long)]
        key: Option<String>,
        /// Use each line as its dedup id: a line already sent (within the dedup horizon) is
        /// not appended again; its first id is printed.
        #[arg(long)]
        dedup_from_line: bool,
        /// One JSON object per line ({"type":"sent","line","id","duplicate"}).
        #[arg(long)]
        json: bool,
    },
    /// Receives up to N messages as a member of a group, prints them, and acks them (--ack)
    /// or releases them for redelivery.
    Consume {
        /// The store directory.
        dir: PathBuf,
        /// The queue.
        queue: String,
        /// The consumer group (created at the earliest message on first use).
        #[arg(long)]
        group: String,
        /// Acknowledge the messages after printing them.
        #[arg(long)]
        ack: bool,
        /// Receive at most this many messages.
        #[arg(short = 'n', long = "count", default_value_t = 10)]
        count: usize,
        /// Wait at most this long in total for messages.
        #[arg(long, default_value_t = 1000)]
        timeout_ms: u64,
        /// How to show payloads.
        #[arg(long, value_enum, default_value_t = Payload::Utf8)]
        payload: Payload,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// The order pipeline of a sales system on a store: an order service, payments and
    /// inventory consumer groups, throughput, latency and depth as it goes, checks at the end.
    Demo {
        /// The store directory (created if missing; runs continue each other).
        #[arg(default_value = logq_cli::demo::DEFAULT_DIR)]
        dir: PathBuf,
        /// Orders to send.
        #[arg(long, default_value_t = 20_000)]
        orders: u64,
        /// Abort the process this many ms after the start (a crash); the next run checks
        /// that nothing promised was lost or processed again.
        #[arg(long)]
        kill_after_ms: Option<u64>,
        /// Lease time of the consumers, ms (leases a killed run left end after it).
        #[arg(long, default_value_t = 2000)]
        lease_ms: u64,
        /// Consumer threads per group.
        #[arg(long, default_value_t = 2)]
        consumers: usize,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Payload {
    Hex,
    Utf8,
    None,
}

fn payload_format(payload: Payload) -> PayloadFormat {
    match payload {
        Payload::Hex => PayloadFormat::Hex,
        Payload::Utf8 => PayloadFormat::Utf8,
        Payload::None => PayloadFormat::None,
    }
}

fn run(cli: &Cli, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let options = AnalyzeOptions {
        batch_bytes_max: cli.batch_bytes_max,
    };
    match &cli.command {
        Command::Segments { dir, queue, json } => {
            let dir = match queue {
                Some(queue) => store_view::queue_log_dir(dir, queue)?,
                None => dir.clone(),
            };
            inspect::segments(
                &inspect::SegmentsArgs {
                    dir: &dir,
                    json: *json,
                    options,
                },
                out,
                &mut std::io::stderr(),
            )
        }
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
                payload: payload_format(*payload),
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
        Command::Stats { dir, json } => stats::stats(&stats::StatsArgs { dir, json: *json }, out),
        Command::Groups { dir, queue, json } => groups::groups(
            &groups::GroupsArgs {
                dir,
                queue,
                json: *json,
            },
            out,
        ),
        Command::Status {
            dir,
            queue,
            id,
            group,
            json,
        } => status::status(
            &status::StatusArgs {
                dir,
                queue,
                id: *id,
                group: group.as_deref(),
                json: *json,
            },
            out,
        ),
        Command::Peek {
            dir,
            queue,
            from,
            count,
            payload,
            json,
        } => peek::peek(
            &peek::PeekArgs {
                dir,
                queue,
                from: *from,
                count: *count,
                payload: payload_format(*payload),
                json: *json,
            },
            out,
        ),
        Command::Produce {
            dir,
            queue,
            file,
            key,
            dedup_from_line,
            json,
        } => {
            let args = produce::ProduceArgs {
                dir,
                queue,
                file: file.as_deref(),
                key: key.as_deref(),
                dedup_from_line: *dedup_from_line,
                json: *json,
                lines_per_batch: if file.is_none() && std::io::stdin().is_terminal() {
                    1
                } else {
                    produce::LINES_PER_BATCH
                },
            };
            let mut input: Box<dyn BufRead> = match file {
                Some(path) => Box::new(BufReader::new(open_input(path)?)),
                None => Box::new(std::io::stdin().lock()),
            };
            produce::produce(&args, &mut input, out)
        }
        Command::Consume {
            dir,
            queue,
            group,
            ack,
            count,
            timeout_ms,
            payload,
            json,
        } => consume::consume(
            &consume::ConsumeArgs {
                dir,
                queue,
                group,
                ack: *ack,
                count: *count,
                timeout: Duration::from_millis(*timeout_ms),
                payload: payload_format(*payload),
                json: *json,
            },
            out,
            &mut std::io::stderr(),
        ),
        Command::Demo {
            dir,
            orders,
            kill_after_ms,
            lease_ms,
            consumers,
        } => demo::demo(
            &demo::DemoArgs {
                dir,
                orders: *orders,
                kill_after: kill_after_ms.map(Duration::from_millis),
                lease: Duration::from_millis(*lease_ms),
                consumers: *consumers,
            },
            out,
        ),
    }
}

fn open_input(path: &Path) -> Result<std::fs::File, CliError> {
    std::fs::File::open(path).map_err(|e| CliError::io(path, "open", e))
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
            // One line, whatever the error's text holds.
            let text = error.to_string().replace('\n', " ");
            eprintln!("logq: {text}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
