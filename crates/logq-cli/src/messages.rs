//! Showing queue messages (for `peek` and `consume`): a table row for people, a JSON object
//! for programs.

use crate::output::{human_bytes, json_bytes, PayloadFormat};
use crate::timefmt::format_ms;
use logq::ReceivedMessage;
use serde_json::{json, Map, Value};

/// Column headers matching [`message_row`] (with `ATTEMPT` when `attempts` is true).
pub fn message_headers(attempts: bool) -> Vec<&'static str> {
    let mut headers = vec![">ID", "TIME", "KEY"];
    if attempts {
        headers.push(">ATTEMPT");
    }
    headers.extend(["HEADERS", "PAYLOAD"]);
    headers
}

/// One table row: id, time, key, (attempt), headers as `name=value`, payload.
pub fn message_row(
    message: &ReceivedMessage,
    attempt: Option<u32>,
    payload: PayloadFormat,
) -> Vec<String> {
    let headers: Vec<String> = message
        .headers
        .iter()
        .map(|(n, v)| format!("{n}={}", human_bytes(v, PayloadFormat::Utf8)))
        .collect();
    let mut row = vec![
        message.id.0.to_string(),
        format_ms(message.timestamp_ms),
        message
            .key
            .as_deref()
            .map_or_else(|| "-".into(), |k| human_bytes(k, PayloadFormat::Utf8)),
    ];
    if let Some(attempt) = attempt {
        row.push(attempt.to_string());
    }
    row.push(if headers.is_empty() {
        "-".into()
    } else {
        headers.join(" ")
    });
    row.push(human_bytes(&message.payload, payload));
    row
}

/// One JSON object: `{"type":"message","queue","id","timestamp_ms","key","headers":[{name,
/// value}],"payload"}`; with [`PayloadFormat::None`] the payload is left out and
/// `payload_len` given.
pub fn message_json(
    queue: &str,
    message: &ReceivedMessage,
    attempt: Option<u32>,
    payload: PayloadFormat,
) -> Value {
    let mut map = Map::new();
    map.insert("type".into(), json!("message"));
    map.insert("queue".into(), json!(queue));
    map.insert("id".into(), json!(message.id.0));
    map.insert("timestamp_ms".into(), json!(message.timestamp_ms));
    if let Some(attempt) = attempt {
        map.insert("attempt".into(), json!(attempt));
    }
    map.insert(
        "key".into(),
        message.key.as_deref().map_or(Value::Null, json_bytes),
    );
    map.insert(
        "headers".into(),
        Value::Array(
            message
                .headers
                .iter()
                .map(|(n, v)| json!({ "name": n, "value": json_bytes(v) }))
                .collect(),
        ),
    );
    map.insert("payload_len".into(), json!(message.payload.len()));
    if payload != PayloadFormat::None {
        map.insert("payload".into(), json_bytes(&message.payload));
    }
    Value::Object(map)
}
