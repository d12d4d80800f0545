//! `logq groups DIR QUEUE`: each consumer group's positions — floor (lowest unacknowledged
//! id), next id to deliver, in flight, delayed, dead-lettered, gaps — read from disk.

use crate::error::Result;
use crate::figures::group_figures;
use crate::output::{json_line, Table};
use crate::store_view::{now_ms, StoreView};
use crate::Outcome;
use serde_json::json;
use std::io::Write;
use std::path::Path;

/// Arguments of `logq groups`.
#[derive(Clone, Debug)]
pub struct GroupsArgs<'a> {
    /// The store directory.
    pub dir: &'a Path,
    /// The queue.
    pub queue: &'a str,
    /// JSON lines instead of a table.
    pub json: bool,
}

/// Prints one row per group of the queue.
pub fn groups(args: &GroupsArgs<'_>, out: &mut dyn Write) -> Result<Outcome> {
    let store = StoreView::open(args.dir)?;
    let queue = store.open_queue(args.queue)?;
    let now = now_ms();
    let mut table = Table::new(&[
        "GROUP",
        ">FLOOR",
        ">NEXT",
        ">END",
        ">DEPTH",
        ">IN FLIGHT",
        ">EXPIRED",
        ">DELAYED",
        ">DEAD",
        ">SETTLED ABOVE FLOOR",
        ">GAPS",
        ">OUTCOMES",
    ]);
    for group in queue.group_names() {
        let f = group_figures(&queue, &group, now)?;
        if args.json {
            json_line(
                out,
                &json!({
                    "type": "group",
                    "queue": args.queue,
                    "group": f.group,
                    "floor": f.floor,
                    "next_to_deliver": f.next_to_deliver,
                    "next_id": queue.next_id(),
                    "depth": f.depth,
                    "ready": f.ready,
                    "in_flight": f.in_flight,
                    "expired_leases": f.expired_leases,
                    "delayed": f.delayed,
                    "dead_lettered": f.dead_lettered,
                    "dead_letter_candidates": f.dead_letter_candidates,
                    "settled_above_floor": f.settled_above_floor,
                    "gaps": f.gaps,
                    "outcomes": f.outcomes,
                }),
            )?;
        } else {
            table.row(vec![
                f.group.clone(),
                f.floor.to_string(),
                f.next_to_deliver.to_string(),
                queue.next_id().to_string(),
                f.depth.to_string(),
                f.in_flight.to_string(),
                f.expired_leases.to_string(),
                f.delayed.to_string(),
                f.dead_lettered.to_string(),
                f.settled_above_floor.to_string(),
                f.gaps.to_string(),
                f.outcomes.to_string(),
            ]);
        }
    }
    if !args.json {
        table.write(out)?;
    }
    Ok(Outcome::Clean)
}
