//! `logq dump PATH`: the batches and records of a segment file or a log directory, with their
//! headers and CRC state, and the damaged ranges between them (as Kafka's `kafka-dump-log`).

use crate::discover::{single_log, SegmentFile};
use crate::error::{output, CliError, Result};
use crate::files::{list_dir, read_all};
use crate::output::{human_bytes, json_bytes, json_line, PayloadFormat};
use crate::records::{records, ParsedRecord};
use crate::scan::{check_header, to_usize, HeaderState, Piece, Walker, SUPPORTED_VERSION};
use crate::timefmt::format_ms;
use crate::Outcome;
use logq_log::format::batch::BatchHeader;
use logq_log::format::names;
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

/// Arguments of `logq dump`.
#[derive(Clone, Debug)]
pub struct DumpArgs<'a> {
    /// A segment file or a log directory.
    pub path: &'a Path,
    /// Show records from this offset on.
    pub from: u64,
    /// Show at most this many records.
    pub count: Option<u64>,
    /// How payloads are shown in human output (`None` also omits them from JSON).
    pub payload: PayloadFormat,
    /// JSON lines instead of text.
    pub json: bool,
    /// The largest batch accepted.
    pub batch_bytes_max: u32,
}

/// What to dump: segment files in order, with the display name and whether each is the tail.
struct Target {
    file: SegmentFile,
    display: String,
    next_base: Option<u64>,
}

fn targets(path: &Path) -> Result<Vec<Target>> {
    let meta = std::fs::metadata(path).map_err(|e| CliError::io(path, "stat", e))?;
    if meta.is_dir() {
        let log = single_log(path)?;
        let bases: Vec<u64> = log.segments.iter().map(|s| s.base_offset).collect();
        return Ok(log
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| Target {
                display: log.show(&s.name),
                file: s.clone(),
                next_base: bases.get(i + 1).copied(),
            })
            .collect());
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    let named_base = names::parse_numbered(&name, names::SEGMENT_EXTENSION);
    let base = match named_base {
        Some(base) => base,
        None => header_base(path)?,
    };
    let mut next_base = None;
    if let (Some(_), Some(dir)) = (named_base, parent) {
        next_base = list_dir(dir)?
            .iter()
            .filter_map(|e| names::parse_numbered(&e.name, names::SEGMENT_EXTENSION))
            .filter(|b| *b > base)
            .min();
    }
    Ok(vec![Target {
        file: SegmentFile {
            base_offset: base,
            name: name.clone(),
            path: path.to_path_buf(),
            index_path: path.with_extension(names::INDEX_EXTENSION),
        },
        display: path.display().to_string(),
        next_base,
    }])
}

/// The base offset stored in the header of a file whose name is not a segment name.
fn header_base(path: &Path) -> Result<u64> {
    let bytes = read_all(path)?;
    let raw: [u8; 8] = bytes
        .get(16..24)
        .and_then(|b| b.try_into().ok())
        .unwrap_or([0; 8]);
    Ok(u64::from_le_bytes(raw))
}

/// Dumps `PATH`; [`Outcome::Damaged`] when a damaged range or header was shown.
pub fn dump(args: &DumpArgs<'_>, out: &mut dyn Write) -> Result<Outcome> {
    let mut state = DumpState {
        args,
        left: args.count,
        damaged: false,
    };
    for target in targets(args.path)? {
        if target.next_base.is_some_and(|next| next <= args.from) {
            continue;
        }
        if state.left == Some(0) {
            break;
        }
        state.segment(&target, out)?;
    }
    Ok(if state.damaged {
        Outcome::Damaged
    } else {
        Outcome::Clean
    })
}

struct DumpState<'a> {
    args: &'a DumpArgs<'a>,
    left: Option<u64>,
    damaged: bool,
}

impl DumpState<'_> {
    fn segment(&mut self, target: &Target, out: &mut dyn Write) -> Result<()> {
        let bytes = read_all(&target.file.path)?;
        let base = target.file.base_offset;
        let header = check_header(&bytes, base);
        let file = target.display.as_str();
        if self.args.json {
            json_line(
                out,
                &json!({"type": "segment", "file": file, "base_offset": base, "bytes": bytes.len()}),
            )?;
        } else {
            output(writeln!(
                out,
                "segment {file} base_offset={base} bytes={}",
                bytes.len()
            ))?;
        }
        match header {
            HeaderState::Ok => {}
            HeaderState::FutureVersion(found) => {
                return Err(CliError::UnsupportedVersion {
                    file: target.file.path.clone(),
                    found,
                    supported: SUPPORTED_VERSION,
                })
            }
            HeaderState::Foreign | HeaderState::Damaged(_) => {
                let reason = match header {
                    HeaderState::Damaged(why) => why,
                    _ => "not a logq segment: the first 8 bytes are not the segment magic".into(),
                };
                self.damaged = true;
                return self.damage(out, file, 0, bytes.len(), base, &reason);
            }
        }
        let is_tail = target.next_base.is_none();
        for piece in Walker::new(&bytes, base, self.args.batch_bytes_max) {
            if self.left == Some(0) {
                break;
            }
            match piece {
                Piece::Batch { position, header } => {
                    if header.next_offset() <= self.args.from {
                        continue;
                    }
                    let at = to_usize(position);
                    let batch = &bytes[at..at.saturating_add(to_usize(header.len_u64()))];
                    self.batch(out, file, position, &header, batch)?;
                }
                Piece::Damage {
                    position,
                    len,
                    expected_offset,
                    reason,
                } => {
                    self.damaged = true;
                    self.damage(out, file, position, to_usize(len), expected_offset, &reason)?;
                }
                Piece::ZeroTail { position, len } => {
                    self.damaged |= !is_tail;
                    if self.args.json {
                        json_line(
                            out,
                            &json!({"type": "zeros", "file": file, "position": position, "length": len, "preallocated": is_tail}),
                        )?;
                    } else {
                        let what = if is_tail {
                            "preallocated space"
                        } else {
                            "damage: zeros in a sealed segment"
                        };
                        output(writeln!(
                            out,
                            "zeros position={position} length={len} ({what})"
                        ))?;
                    }
                }
            }
        }
        Ok(())
    }

    fn damage(
        &self,
        out: &mut dyn Write,
        file: &str,
        position: u64,
        len: usize,
        expected: u64,
        reason: &str,
    ) -> Result<()> {
        if self.args.json {
            return json_line(
                out,
                &json!({"type": "damage", "file": file, "position": position, "length": len,
                        "expected_offset": expected, "reason": reason}),
            );
        }
        output(writeln!(
            out,
            "damage position={position} length={len} expected_offset={expected}: {reason}"
        ))
    }

    fn batch(
        &mut self,
        out: &mut dyn Write,
        file: &str,
        position: u64,
        header: &BatchHeader,
        bytes: &[u8],
    ) -> Result<()> {
        let last = header.next_offset() - 1;
        if self.args.json {
            json_line(
                out,
                &json!({
                    "type": "batch", "file": file, "position": position,
                    "base_offset": header.base_offset, "last_offset": last,
                    "record_count": header.record_count, "length": header.len,
                    "crc": format!("{:#010x}", header.crc), "crc_ok": true,
                    "first_timestamp_ms": header.first_timestamp_ms,
                    "max_timestamp_ms": header.max_timestamp_ms,
                    "durable_watermark": header.durable_watermark,
                }),
            )?;
        } else {
            output(writeln!(
                out,
                "batch position={position} base_offset={} last_offset={last} count={} length={} crc={:#010x} (ok) first_ts={} max_ts={} watermark={}",
                header.base_offset,
                header.record_count,
                header.len,
                header.crc,
                format_ms(header.first_timestamp_ms),
                format_ms(header.max_timestamp_ms),
                header.durable_watermark
            ))?;
        }
        for record in records(header, bytes) {
            if record.offset < self.args.from {
                continue;
            }
            if self.left == Some(0) {
                break;
            }
            self.record(out, file, &record)?;
            self.left = self.left.map(|n| n - 1);
        }
        Ok(())
    }

    fn record(&self, out: &mut dyn Write, file: &str, r: &ParsedRecord<'_>) -> Result<()> {
        let format = self.args.payload;
        if self.args.json {
            let headers: Vec<Value> = r
                .headers
                .iter()
                .map(|(name, value)| json!({"name": name, "value": json_bytes(value)}))
                .collect();
            let mut value = json!({
                "type": "record", "file": file, "offset": r.offset,
                "timestamp_ms": r.timestamp_ms,
                "key": r.key.map(json_bytes),
                "headers": headers,
                "payload_len": r.payload.len(),
            });
            if format != PayloadFormat::None {
                value["payload"] = json_bytes(r.payload);
            }
            return json_line(out, &value);
        }
        let key = r
            .key
            .map_or_else(|| "-".to_string(), |k| human_bytes(k, PayloadFormat::Utf8));
        let headers: Vec<String> = r
            .headers
            .iter()
            .map(|(name, value)| format!("{name}={}", human_bytes(value, PayloadFormat::Utf8)))
            .collect();
        output(writeln!(
            out,
            "  offset={} ts={} key={key} headers=[{}] payload={}",
            r.offset,
            format_ms(r.timestamp_ms),
            headers.join(", "),
            human_bytes(r.payload, format)
        ))
    }
}
