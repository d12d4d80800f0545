//! `logq consume DIR QUEUE --group G [--ack] [-n N] [--timeout-ms T]`: receives up to `N`
//! messages as a member of group `G`, prints them, then acknowledges them (`--ack`) or
//! drops the deliveries, which releases them for redelivery at once.
//!
//! A message is acknowledged only after it was printed and the output flushed, so a
//! consumer killed in between sees it again (at least once).

use crate::error::{output, CliError, Result};
use crate::messages::{message_headers, message_json, message_row};
use crate::output::{json_line, PayloadFormat, Table};
use crate::writable::open_existing_queue;
use crate::Outcome;
use logq::Delivery;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Arguments of `logq consume`.
#[derive(Clone, Debug)]
pub struct ConsumeArgs<'a> {
    /// The store directory (must exist).
    pub dir: &'a Path,
    /// The queue (must exist).
    pub queue: &'a str,
    /// The consumer group (created at the earliest retained message on first use).
    pub group: &'a str,
    /// Acknowledge what was received.
    pub ack: bool,
    /// Receive at most this many messages.
    pub count: usize,
    /// Wait at most this long in total for messages.
    pub timeout: Duration,
    /// How payloads are shown.
    pub payload: PayloadFormat,
    /// JSON lines instead of a table.
    pub json: bool,
}

/// Receives, prints, then acks or releases.
pub fn consume(
    args: &ConsumeArgs<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Outcome> {
    let (store, queue) = open_existing_queue(args.dir, args.queue)?;
    let consumer = queue.consumer(args.group)?;
    let mut deliveries: Vec<Delivery> = Vec::new();
    let deadline = Instant::now() + args.timeout;
    while deliveries.len() < args.count {
        // Wait for the first message up to the timeout; after one came, only take what is
        // ready within what is left of it.
        let left = deadline.saturating_duration_since(Instant::now());
        match consumer.receive(left)? {
            Some(delivery) => deliveries.push(delivery),
            None => break,
        }
    }
    let mut table = Table::new(&message_headers(true));
    for delivery in &deliveries {
        if args.json {
            let mut value = message_json(
                args.queue,
                delivery.message(),
                Some(delivery.attempt()),
                args.payload,
            );
            if let Some(map) = value.as_object_mut() {
                map.insert("group".into(), args.group.into());
                map.insert("acked".into(), args.ack.into());
            }
            json_line(out, &value)?;
        } else {
            table.row(message_row(
                delivery.message(),
                Some(delivery.attempt()),
                args.payload,
            ));
        }
    }
    if !args.json {
        if deliveries.is_empty() {
            output(writeln!(
                out,
                "no message for group {:?} within {} ms",
                args.group,
                args.timeout.as_millis()
            ))?;
        } else {
            table.write(out)?;
        }
    }
    out.flush().map_err(CliError::Output)?;
    let received = deliveries.len();
    if args.ack {
        for delivery in deliveries {
            delivery.ack()?;
        }
    } else {
        drop(deliveries);
    }
    store.close()?;
    if !args.json && received > 0 {
        let what = if args.ack {
            "acknowledged"
        } else {
            "released (not acknowledged; pass --ack to acknowledge)"
        };
        output(writeln!(err, "logq: {received} messages {what}"))?;
    }
    Ok(Outcome::Clean)
}
