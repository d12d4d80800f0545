//! Rendering: aligned tables for people, JSON lines for programs, and byte strings for both.

use crate::error::{output, Result};
use base64::Engine;
use serde::Serialize;
use serde_json::{json, Value};
use std::io::Write;

/// How payloads (and keys and header values) are shown in human output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PayloadFormat {
    /// As text, quoted and escaped; bytes that are not UTF-8 as `b"\xNN"` escapes.
    #[default]
    Utf8,
    /// As lowercase hex.
    Hex,
    /// Only the length.
    None,
}

/// Renders bytes for a person in the given format.
///
/// ```
/// use logq_cli::output::{human_bytes, PayloadFormat};
/// assert_eq!(human_bytes(b"hi\n", PayloadFormat::Utf8), "\"hi\\n\"");
/// assert_eq!(human_bytes(&[0xff, 0x41], PayloadFormat::Utf8), "b\"\\xffA\"");
/// assert_eq!(human_bytes(&[0xff, 0x41], PayloadFormat::Hex), "ff41");
/// assert_eq!(human_bytes(b"abc", PayloadFormat::None), "(3 bytes)");
/// ```
pub fn human_bytes(bytes: &[u8], format: PayloadFormat) -> String {
    match format {
        PayloadFormat::Utf8 => match std::str::from_utf8(bytes) {
            Ok(text) => format!("{text:?}"),
            Err(_) => format!("b\"{}\"", bytes.escape_ascii()),
        },
        PayloadFormat::Hex => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        PayloadFormat::None => format!("({} bytes)", bytes.len()),
    }
}

/// Bytes as JSON, the way ripgrep does: `{"text": …}` when they are UTF-8, else
/// `{"bytes": <base64>}`.
///
/// ```
/// use logq_cli::output::json_bytes;
/// assert_eq!(json_bytes(b"hi").to_string(), r#"{"text":"hi"}"#);
/// assert_eq!(json_bytes(&[0xff]).to_string(), r#"{"bytes":"/w=="}"#);
/// ```
pub fn json_bytes(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(text) => json!({ "text": text }),
        Err(_) => json!({ "bytes": base64::engine::general_purpose::STANDARD.encode(bytes) }),
    }
}

/// Writes `value` as one JSON line.
pub fn json_line(out: &mut dyn Write, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string(value)
        .map_err(|e| crate::error::CliError::Invalid(format!("encoding JSON: {e}")))?;
    output(writeln!(out, "{text}"))
}

/// A table whose columns are padded to their widest cell; numeric columns align right.
#[derive(Clone, Debug, Default)]
pub struct Table {
    headers: Vec<&'static str>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers; a header starting with `>` is right-aligned (the
    /// `>` is not shown).
    pub fn new(headers: &[&'static str]) -> Self {
        Table {
            headers: headers.iter().map(|h| h.trim_start_matches('>')).collect(),
            right: headers.iter().map(|h| h.starts_with('>')).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are blank, extra cells are dropped).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Writes the table.
    pub fn write(&self, out: &mut dyn Write) -> Result<()> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let header: Vec<String> = self.headers.iter().map(|h| (*h).to_string()).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, width) in widths.iter().enumerate() {
                let cell = row.get(i).map_or("", String::as_str);
                let pad = width.saturating_sub(cell.chars().count());
                let last = i + 1 == widths.len();
                if i > 0 {
                    line.push_str("  ");
                }
                if self.right.get(i).copied().unwrap_or(false) {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    if !last {
                        line.push_str(&" ".repeat(pad));
                    }
                }
            }
            output(writeln!(out, "{}", line.trim_end()))?;
        }
        Ok(())
    }
}
