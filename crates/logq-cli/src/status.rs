//! `logq status DIR QUEUE ID [--group G]`: what message `ID` is in each group (or one) —
//! pending, in flight (attempt, consumer, lease deadline), delayed, acknowledged (with the
//! consumer's outcome) or dead-lettered (with the reason).

use crate::error::{CliError, Result};
use crate::output::{human_bytes, json_bytes, json_line, PayloadFormat, Table};
use crate::store_view::StoreView;
use crate::timefmt::format_ms;
use crate::Outcome;
use logq_offsets::MessageStatus;
use serde_json::{json, Map, Value};
use std::io::Write;
use std::path::Path;

/// Arguments of `logq status`.
#[derive(Clone, Debug)]
pub struct StatusArgs<'a> {
    /// The store directory.
    pub dir: &'a Path,
    /// The queue.
    pub queue: &'a str,
    /// The message id.
    pub id: u64,
    /// Only this group.
    pub group: Option<&'a str>,
    /// JSON lines instead of a table.
    pub json: bool,
}

/// The status's name: `pending`, `in_flight`, `delayed`, `acked`, `dead_lettered`.
pub fn status_name(status: &MessageStatus) -> &'static str {
    match status {
        MessageStatus::Pending { .. } => "pending",
        MessageStatus::InFlight { .. } => "in_flight",
        MessageStatus::Delayed { .. } => "delayed",
        MessageStatus::Acked { .. } => "acked",
        MessageStatus::DeadLettered { .. } => "dead_lettered",
        _ => "unknown",
    }
}

/// The status's details for people, e.g. `attempt=2 consumer=0x1f2a00000001 deadline=…`.
pub fn status_detail(status: &MessageStatus) -> String {
    match status {
        MessageStatus::Pending { attempts } => format!("attempts={attempts}"),
        MessageStatus::InFlight {
            attempt,
            consumer_id,
            deadline_ms,
        } => format!(
            "attempt={attempt} consumer={consumer_id:#x} deadline={}",
            format_ms(*deadline_ms)
        ),
        MessageStatus::Delayed { until_ms, attempts } => {
            format!("attempts={attempts} until={}", format_ms(*until_ms))
        }
        MessageStatus::Acked { outcome: Some(o) } => {
            format!("outcome={}", human_bytes(o, PayloadFormat::Utf8))
        }
        MessageStatus::Acked { outcome: None } => "no outcome".into(),
        MessageStatus::DeadLettered { reason } => format!("reason={reason:?}"),
        other => format!("{other:?}"),
    }
}

/// The status's fields as JSON (`status` plus the variant's fields; outcomes as
/// `{"text"}` or `{"bytes": base64}`).
pub fn status_json(status: &MessageStatus) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("status".into(), json!(status_name(status)));
    match status {
        MessageStatus::Pending { attempts } => {
            map.insert("attempts".into(), json!(attempts));
        }
        MessageStatus::InFlight {
            attempt,
            consumer_id,
            deadline_ms,
        } => {
            map.insert("attempt".into(), json!(attempt));
            map.insert("consumer_id".into(), json!(consumer_id));
            map.insert("deadline_ms".into(), json!(deadline_ms));
        }
        MessageStatus::Delayed { until_ms, attempts } => {
            map.insert("until_ms".into(), json!(until_ms));
            map.insert("attempts".into(), json!(attempts));
        }
        MessageStatus::Acked { outcome } => {
            map.insert(
                "outcome".into(),
                outcome.as_deref().map_or(Value::Null, json_bytes),
            );
        }
        MessageStatus::DeadLettered { reason } => {
            map.insert("reason".into(), json!(reason));
        }
        _ => {}
    }
    map
}

/// Prints one row per group.
pub fn status(args: &StatusArgs<'_>, out: &mut dyn Write) -> Result<Outcome> {
    let store = StoreView::open(args.dir)?;
    let queue = store.open_queue(args.queue)?;
    if args.id >= queue.next_id() {
        return Err(CliError::Invalid(format!(
            "queue {:?} has no message {} (ids {}..{})",
            args.queue,
            args.id,
            queue.first_id(),
            queue.next_id()
        )));
    }
    let groups = match args.group {
        Some(group) => {
            queue.check_group(group)?;
            vec![group.to_owned()]
        }
        None => queue.group_names(),
    };
    let retained = args.id >= queue.first_id();
    let mut table = Table::new(&["GROUP", "STATUS", "DETAIL"]);
    for group in &groups {
        let status = queue.status(group, args.id)?;
        if args.json {
            let mut map = Map::new();
            map.insert("type".into(), json!("status"));
            map.insert("queue".into(), json!(args.queue));
            map.insert("id".into(), json!(args.id));
            map.insert("group".into(), json!(group));
            map.insert("retained".into(), json!(retained));
            map.extend(status_json(&status));
            json_line(out, &Value::Object(map))?;
        } else {
            table.row(vec![
                group.clone(),
                status_name(&status).into(),
                status_detail(&status),
            ]);
        }
    }
    if !args.json {
        table.write(out)?;
        if groups.is_empty() {
            crate::error::output(writeln!(out, "queue {:?} has no groups", args.queue))?;
        }
        if !retained {
            crate::error::output(writeln!(
                out,
                "note: message {} was removed by retention (first retained id is {})",
                args.id,
                queue.first_id()
            ))?;
        }
    }
    Ok(Outcome::Clean)
}
