//! Fuzz target bodies, as library functions taking `&[u8]`, so that the cargo-fuzz crate in
//! `fuzz/` and the default `cargo test` (which replays `fuzz/corpus/`) run the same code.
//!
//! Contract of every target: for any input it returns (the decoders and the engine answer
//! `Ok` or a typed error); it never panics, never hangs and never allocates more than the
//! input justifies. [`api_ops`] also returns `Err` when a crash broke an invariant of
//! ENGINEERING.md §2 — the fuzz target turns that into a crash report.

mod log_dir;
mod ops;
mod seeds;

pub use log_dir::{open_log_dir, pack_log_dir, LOG_DIR_FILE_NAMES};
pub use ops::api_ops;
pub use seeds::seed_corpus;

use logq_log::format::batch::check_batch;
use logq_offsets::{Checkpoint, CheckpointFile, GroupEvent};

/// The fuzz targets, by the name of their directory under `fuzz/corpus/`.
pub const TARGETS: [&str; 5] = [
    "batch_decoder",
    "log_dir",
    "journal_event",
    "checkpoint",
    "api_ops",
];

/// The largest batch the decoder target accepts (small, so oversized lengths are refused).
pub const FUZZ_BATCH_BYTES_MAX: u32 = 1 << 20;

/// The batch decoder: `check_batch` answers a header that fits the input, or a problem.
pub fn batch_decoder(data: &[u8]) {
    if let Ok(header) = check_batch(data, FUZZ_BATCH_BYTES_MAX) {
        let len = usize::try_from(header.len).unwrap_or(usize::MAX);
        assert!(
            len <= data.len(),
            "a valid batch of {len} bytes in {} bytes of input",
            data.len()
        );
    }
}

/// The journal event decoder: a decoded event encodes back to an event that decodes equal.
pub fn journal_event(data: &[u8]) {
    if let Ok(event) = GroupEvent::decode(data) {
        if let Ok(bytes) = event.to_bytes() {
            let again = GroupEvent::decode(&bytes);
            assert!(
                again.as_ref() == Ok(&event),
                "re-encoded event decodes as {again:?}, not {event:?}"
            );
        }
    }
}

/// The checkpoint decoders (one group's [`Checkpoint`] and a whole [`CheckpointFile`]): a
/// decoded value encodes back to one that decodes equal.
pub fn checkpoint(data: &[u8]) {
    if let Ok(decoded) = Checkpoint::decode(data) {
        if let Ok(bytes) = decoded.to_bytes() {
            let again = Checkpoint::decode(&bytes);
            assert!(
                again.as_ref() == Ok(&decoded),
                "re-encoded checkpoint decodes differently"
            );
        }
    }
    if let Ok(file) = CheckpointFile::decode(data) {
        if let Ok(bytes) = file.encode() {
            let again = CheckpointFile::decode(&bytes);
            assert!(
                again.as_ref() == Ok(&file),
                "re-encoded checkpoint file decodes differently"
            );
        }
    }
}

/// Runs the target named `target` (one of [`TARGETS`]) on `data`.
pub fn run_target(target: &str, data: &[u8]) -> Result<(), String> {
    match target {
        "batch_decoder" => batch_decoder(data),
        "log_dir" => open_log_dir(data),
        "journal_event" => journal_event(data),
        "checkpoint" => checkpoint(data),
        "api_ops" => return api_ops(data),
        other => return Err(format!("unknown fuzz target {other:?}")),
    }
    Ok(())
}
