//! `logq produce DIR QUEUE [--file F] [--key K] [--dedup-from-line]`: one message per line of
//! stdin (or of a file), sent durably in batches; prints each message's id.

use crate::error::{output, CliError, Result};
use crate::output::json_line;
use crate::writable::open_store;
use crate::Outcome;
use logq::{Message, MessageId, Options};
use serde_json::json;
use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::Path;

/// Lines sent per batch (one durable write each) when reading a file or a pipe; lines typed
/// at a terminal are sent one by one.
pub const LINES_PER_BATCH: usize = 1000;

/// Arguments of `logq produce`.
#[derive(Clone, Debug)]
pub struct ProduceArgs<'a> {
    /// The store directory (created if missing).
    pub dir: &'a Path,
    /// The queue (created if missing).
    pub queue: &'a str,
    /// Read lines from this file instead of stdin.
    pub file: Option<&'a Path>,
    /// The key of every message.
    pub key: Option<&'a str>,
    /// Use each line as its message's dedup id: a line sent before (within the dedup
    /// horizon) is not appended again, and its first id is printed.
    pub dedup_from_line: bool,
    /// JSON lines (`{"type":"sent","line","id","duplicate"}`) instead of bare ids.
    pub json: bool,
    /// Lines per batch (at least 1; [`LINES_PER_BATCH`] unless the input is a terminal).
    pub lines_per_batch: usize,
}

/// Sends every line of `input` (a line without its `\n`/`\r\n` is the payload).
pub fn produce(
    args: &ProduceArgs<'_>,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<Outcome> {
    let store = open_store(args.dir, true, Options::default())?;
    let queue = store.queue(args.queue)?;
    let mut batch: Vec<Message> = Vec::with_capacity(LINES_PER_BATCH);
    let mut line_no = 0u64;
    let mut first_line_of_batch = 1u64;
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let read = input
            .read_until(b'\n', &mut buffer)
            .map_err(|e| CliError::Invalid(format!("reading input line {}: {e}", line_no + 1)))?;
        if read == 0 {
            break;
        }
        line_no += 1;
        if buffer.last() == Some(&b'\n') {
            buffer.pop();
            if buffer.last() == Some(&b'\r') {
                buffer.pop();
            }
        }
        let mut message = Message::new(buffer.clone());
        if let Some(key) = args.key {
            message = message.key(key.as_bytes().to_vec());
        }
        if args.dedup_from_line {
            let id = std::str::from_utf8(&buffer).map_err(|_| {
                CliError::Invalid(format!(
                    "input line {line_no}: --dedup-from-line needs UTF-8 lines"
                ))
            })?;
            message = message.dedup_id(id);
        }
        batch.push(message);
        if batch.len() >= args.lines_per_batch.max(1) {
            send(args, &queue, &batch, first_line_of_batch, out)?;
            batch.clear();
            first_line_of_batch = line_no + 1;
        }
    }
    if !batch.is_empty() {
        send(args, &queue, &batch, first_line_of_batch, out)?;
    }
    store.close()?;
    Ok(Outcome::Clean)
}

fn send(
    args: &ProduceArgs<'_>,
    queue: &logq::Queue,
    batch: &[Message],
    first_line: u64,
    out: &mut dyn Write,
) -> Result<()> {
    let before = queue.id_range().1;
    let ids = queue.send_batch(batch).map_err(|e| {
        CliError::Invalid(format!(
            "input lines {first_line}..={}: {e}",
            first_line + u64::try_from(batch.len()).unwrap_or(u64::MAX) - 1
        ))
    })?;
    let mut seen: HashSet<MessageId> = HashSet::with_capacity(ids.len());
    for (line, id) in (first_line..).zip(&ids) {
        let duplicate = *id < before || !seen.insert(*id);
        if args.json {
            json_line(
                out,
                &json!({ "type": "sent", "line": line, "id": id.0, "duplicate": duplicate }),
            )?;
        } else {
            output(writeln!(out, "{}", id.0))?;
        }
    }
    out.flush().map_err(CliError::Output)
}
