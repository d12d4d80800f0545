//! `logq peek DIR QUEUE [--from ID] [-n N]`: messages with their headers, read from the
//! queue's log without consuming them (no group is touched, no lock taken).

use crate::error::{output, Result};
use crate::messages::{message_headers, message_json, message_row};
use crate::output::{json_line, PayloadFormat, Table};
use crate::store_view::StoreView;
use crate::Outcome;
use logq::{MessageId, ReceivedMessage};
use std::io::Write;
use std::path::Path;

/// Arguments of `logq peek`.
#[derive(Clone, Debug)]
pub struct PeekArgs<'a> {
    /// The store directory.
    pub dir: &'a Path,
    /// The queue.
    pub queue: &'a str,
    /// The first id to show (default: the first retained).
    pub from: Option<u64>,
    /// How many messages at most.
    pub count: usize,
    /// How payloads are shown.
    pub payload: PayloadFormat,
    /// JSON lines instead of a table.
    pub json: bool,
}

/// Prints up to `count` messages from `from` on.
pub fn peek(args: &PeekArgs<'_>, out: &mut dyn Write) -> Result<Outcome> {
    let store = StoreView::open(args.dir)?;
    let queue = store.open_queue(args.queue)?;
    let start = args.from.unwrap_or(0).max(queue.first_id());
    let mut table = Table::new(&message_headers(false));
    let mut shown = 0usize;
    'batches: for batch in queue.log().batches_from(start) {
        let batch = batch?;
        for record in batch.records() {
            if shown == args.count {
                break 'batches;
            }
            if record.offset < start {
                continue;
            }
            let record = record.to_owned_record();
            let message = ReceivedMessage {
                id: MessageId(record.offset),
                timestamp_ms: record.timestamp_ms,
                key: record.key,
                headers: record.headers,
                payload: record.payload,
            };
            if args.json {
                json_line(out, &message_json(args.queue, &message, None, args.payload))?;
            } else {
                table.row(message_row(&message, None, args.payload));
            }
            shown += 1;
        }
    }
    if !args.json {
        if shown == 0 {
            output(writeln!(
                out,
                "no messages from id {start} (queue {:?} holds ids {}..{})",
                args.queue,
                queue.first_id(),
                queue.next_id()
            ))?;
        } else {
            table.write(out)?;
        }
    }
    Ok(Outcome::Clean)
}
