//! `logq stats DIR`: per queue and group, from disk — depth, ready, in flight, delayed,
//! dead-lettered, oldest unacknowledged age, disk bytes.
//!
//! Send and ack rates and latency percentiles are measured by the process that has the
//! store open (`logq::Queue::stats`) and are not stored: offline they show as `-` (JSON
//! `null`), and a note says so.

use crate::error::{output, Result};
use crate::figures::{group_figures, human_age, human_size};
use crate::output::{json_line, Table};
use crate::store_view::{now_ms, StoreView};
use crate::Outcome;
use serde_json::json;
use std::io::Write;
use std::path::Path;

/// Arguments of `logq stats`.
#[derive(Clone, Debug)]
pub struct StatsArgs<'a> {
    /// The store directory.
    pub dir: &'a Path,
    /// JSON lines instead of a table.
    pub json: bool,
}

/// The note printed under the table.
pub const OFFLINE_NOTE: &str = "rates and latency percentiles are measured in-process (logq::Queue::stats) and not stored: not available offline (-)";

/// Prints one row per group (and one per queue without groups).
pub fn stats(args: &StatsArgs<'_>, out: &mut dyn Write) -> Result<Outcome> {
    let store = StoreView::open(args.dir)?;
    let now = now_ms();
    let mut table = Table::new(&[
        "QUEUE",
        "GROUP",
        ">MESSAGES",
        ">DEPTH",
        ">READY",
        ">IN FLIGHT",
        ">DELAYED",
        ">DEAD",
        ">OLDEST UNACKED",
        ">DISK",
        ">SEND/S",
        ">ACK/S",
        ">P50",
        ">P99",
    ]);
    for name in store.queue_names() {
        let queue = store.open_queue(name)?;
        let messages = queue.next_id() - queue.first_id().min(queue.next_id());
        let disk = queue.disk_bytes();
        let groups = queue.group_names();
        if groups.is_empty() {
            if args.json {
                json_line(
                    out,
                    &json!({
                        "type": "queue",
                        "queue": name,
                        "group": null,
                        "first_id": queue.first_id(),
                        "next_id": queue.next_id(),
                        "messages": messages,
                        "log_bytes": queue.log_bytes()?,
                        "disk_bytes": disk,
                        "send_rate_per_s": null,
                    }),
                )?;
            } else {
                table.row(vec![
                    name.clone(),
                    "-".into(),
                    messages.to_string(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    human_size(disk),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]);
            }
            continue;
        }
        for group in &groups {
            let f = group_figures(&queue, group, now)?;
            if args.json {
                json_line(
                    out,
                    &json!({
                        "type": "group",
                        "queue": name,
                        "group": group,
                        "first_id": queue.first_id(),
                        "next_id": queue.next_id(),
                        "messages": messages,
                        "depth": f.depth,
                        "ready": f.ready,
                        "in_flight": f.in_flight,
                        "expired_leases": f.expired_leases,
                        "delayed": f.delayed,
                        "dead_lettered": f.dead_lettered,
                        "oldest_unacked_age_ms": f.oldest_unacked_age_ms,
                        "log_bytes": queue.log_bytes()?,
                        "disk_bytes": disk,
                        "send_rate_per_s": null,
                        "ack_rate_per_s": null,
                        "latency": null,
                    }),
                )?;
            } else {
                table.row(vec![
                    name.clone(),
                    group.clone(),
                    messages.to_string(),
                    f.depth.to_string(),
                    f.ready.to_string(),
                    f.in_flight.to_string(),
                    f.delayed.to_string(),
                    f.dead_lettered.to_string(),
                    f.oldest_unacked_age_ms
                        .map_or_else(|| "-".into(), human_age),
                    human_size(disk),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]);
            }
        }
    }
    if !args.json {
        table.write(out)?;
        output(writeln!(out, "note: {OFFLINE_NOTE}"))?;
    }
    Ok(Outcome::Clean)
}
