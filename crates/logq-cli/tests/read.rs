//! `logq segments` and `logq dump` on logs made by `logq_log::Log`.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn segments_table_and_json_match_the_log() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 200);
    let path = dir.path().to_str().unwrap();

    let (code, table, stderr) = run_read_only(dir.path(), &["segments", path]);
    assert_eq!(code, 0, "{stderr}");
    let header = table.lines().next().unwrap();
    for column in [
        "FILE",
        "BASE",
        "LAST",
        "RECORDS",
        "BYTES",
        "FIRST TIMESTAMP",
        "INDEX",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert!(table.contains("00000000000000000000.log"));
    assert!(table.contains("2026-01-01T00:00:00.000Z"), "{table}");

    let (code, stdout, _) = run_read_only(dir.path(), &["segments", path, "--json"]);
    assert_eq!(code, 0);
    let rows = json_lines(&stdout);
    assert_eq!(rows.len(), segment_files(dir.path()).len());
    let mut expected_base = 0;
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["type"], "segment");
        assert_eq!(row["base_offset"], expected_base);
        expected_base = row["end_offset"].as_u64().unwrap();
        assert_eq!(row["data"], "ok");
        let tail = i + 1 == rows.len();
        assert_eq!(row["index"], if tail { "open" } else { "ok" }, "{row}");
    }
    assert_eq!(expected_base, 200);
    let records: u64 = rows.iter().map(|r| r["records"].as_u64().unwrap()).sum();
    assert_eq!(records, 200);
    assert_eq!(rows[0]["first_timestamp_ms"], timestamp(0));
    assert_eq!(rows.last().unwrap()["last_offset"], 199);
}

#[test]
fn dump_json_has_every_record_with_its_payload_key_and_headers() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 120);
    let (code, stdout, _) = run_read_only(
        dir.path(),
        &["dump", dir.path().to_str().unwrap(), "--json"],
    );
    assert_eq!(code, 0);
    let lines = json_lines(&stdout);
    let records: Vec<&Value> = lines.iter().filter(|v| v["type"] == "record").collect();
    assert_eq!(records.len(), 120);
    for (i, record) in (0u64..).zip(&records) {
        assert_eq!(record["offset"], i);
        assert_eq!(decode_bytes(&record["payload"]), payload(i));
        assert_eq!(decode_bytes(&record["key"]), key(i));
        assert_eq!(record["timestamp_ms"], timestamp(i));
        assert_eq!(record["headers"][0]["name"], "type");
        assert_eq!(decode_bytes(&record["headers"][0]["value"]), b"order");
    }
    // Non-UTF-8 payloads come as base64 bytes.
    assert!(records[3]["payload"].get("bytes").is_some());
    let batch_lines: Vec<&Value> = lines.iter().filter(|v| v["type"] == "batch").collect();
    assert_eq!(batch_lines.len(), 60);
    assert!(batch_lines.iter().all(|b| b["crc_ok"] == true));
    assert_eq!(batch_lines[1]["base_offset"], 2);
}

#[test]
fn dump_from_and_count_select_records() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 120);
    let path = dir.path().to_str().unwrap();
    let (code, stdout, _) = run_read_only(
        dir.path(),
        &["dump", path, "--json", "--from", "51", "--count", "5"],
    );
    assert_eq!(code, 0);
    let offsets: Vec<u64> = json_lines(&stdout)
        .iter()
        .filter(|v| v["type"] == "record")
        .map(|v| v["offset"].as_u64().unwrap())
        .collect();
    assert_eq!(offsets, vec![51, 52, 53, 54, 55]);
}

#[test]
fn dump_of_one_segment_file_in_hex_and_utf8() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 60);
    let first = segment_files(dir.path()).remove(0);
    let file = first.to_str().unwrap();
    let (code, stdout, _) = run_read_only(dir.path(), &["dump", file, "--payload", "hex"]);
    assert_eq!(code, 0);
    let hex: String = payload(0).iter().map(|b| format!("{b:02x}")).collect();
    assert!(stdout.contains(&format!("payload={hex}")), "{stdout}");
    assert!(
        stdout.contains("batch position=32 base_offset=0"),
        "{stdout}"
    );
    let (_, text, _) = run_read_only(dir.path(), &["dump", file, "--count", "1"]);
    assert!(text.contains("payload=\"order-00000-\""), "{text}");
    assert!(text.contains("key=\"k0\""), "{text}");
    let (_, none, _) = run_read_only(dir.path(), &["dump", file, "--payload", "none", "--json"]);
    assert!(json_lines(&none)
        .iter()
        .filter(|v| v["type"] == "record")
        .all(|v| v.get("payload").is_none() && v["payload_len"].as_u64().is_some()));
}

#[test]
fn dump_shows_damage_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    make_log(dir.path(), 60);
    let batches = batches(dir.path());
    let (file, position, ..) = batches[3].clone();
    flip(&dir.path().join(&file), position + 20);
    let (code, stdout, _) = run_read_only(
        dir.path(),
        &["dump", dir.path().to_str().unwrap(), "--json"],
    );
    assert_eq!(code, 1);
    let damage: Vec<Value> = json_lines(&stdout)
        .into_iter()
        .filter(|v| v["type"] == "damage")
        .collect();
    assert_eq!(damage.len(), 1);
    assert_eq!(damage[0]["position"], position);
    assert!(damage[0]["reason"].as_str().unwrap().contains("CRC"));
}
