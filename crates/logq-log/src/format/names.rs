//! File names inside a log directory.
//!
//! `NNNNNNNNNNNNNNNNNNNN.log` is a segment whose first offset is the 20-digit number;
//! `NNNNNNNNNNNNNNNNNNNN.idx` is its sparse index; `LOCK` is the writer lock;
//! `*.quarantine` files hold damaged bytes moved aside by recovery; `*.tmp` files are
//! unfinished atomic replacements and are removed on open; `POISONED` says that a failed
//! write or fdatasync poisoned the log and no open has repaired it yet.

/// Name of the writer-lock file.
pub const LOCK_FILE_NAME: &str = "LOCK";
/// Name of the poison mark (see `poison_mark`).
pub const POISON_MARK_FILE_NAME: &str = "POISONED";
/// Extension of segment files.
pub const SEGMENT_EXTENSION: &str = "log";
/// Extension of index files.
pub const INDEX_EXTENSION: &str = "idx";
/// Extension of quarantine files.
pub const QUARANTINE_EXTENSION: &str = "quarantine";
/// Extension of unfinished temporary files.
pub const TEMP_EXTENSION: &str = "tmp";

/// The segment file name for `base_offset`.
///
/// ```
/// assert_eq!(logq_log::format::names::segment_file_name(42), "00000000000000000042.log");
/// ```
pub fn segment_file_name(base_offset: u64) -> String {
    format!("{base_offset:020}.{SEGMENT_EXTENSION}")
}

/// The index file name for the segment starting at `base_offset`.
pub fn index_file_name(base_offset: u64) -> String {
    format!("{base_offset:020}.{INDEX_EXTENSION}")
}

/// Parses `NNNNNNNNNNNNNNNNNNNN.<extension>` into the base offset.
///
/// ```
/// use logq_log::format::names::parse_numbered;
/// assert_eq!(parse_numbered("00000000000000000042.log", "log"), Some(42));
/// assert_eq!(parse_numbered("42.log", "log"), None);
/// ```
pub fn parse_numbered(name: &str, extension: &str) -> Option<u64> {
    let stem = name.strip_suffix(extension)?.strip_suffix('.')?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}
