//! # logq-cli: the `logq` command-line tool
//!
//! How operators see inside a logq data directory. The binary (`src/main.rs`) only parses
//! arguments; every command lives here so it is tested and reusable:
//!
//! | command | module |
//! |---|---|
//! | `logq segments DIR [QUEUE]` | [`inspect`] |
//! | `logq dump PATH` | [`dump`] |
//! | `logq verify DIR` | [`verify`] (+ [`journal_check`] in a store) |
//! | `logq repair DIR --output NEW_DIR` | [`repair`] |
//! | `logq stats DIR` | [`stats`] |
//! | `logq groups DIR QUEUE` | [`groups`] |
//! | `logq status DIR QUEUE ID` | [`status`] |
//! | `logq peek DIR QUEUE` | [`peek`] |
//! | `logq produce DIR QUEUE` | [`produce`] |
//! | `logq consume DIR QUEUE --group G` | [`consume`] |
//! | `logq demo [DIR]` | [`demo`] |
//!
//! Conventions: read commands never take the writer lock and never write a byte (they read
//! files with plain reads through [`files`], or open a store's logs and group stores
//! read-only through [`store_view`]; only [`write`] writes, and only into `repair`'s output
//! directory). Writing commands (`produce`, `consume`, `demo`) open the store with
//! `logq::Store::open` ([`writable`]), which takes its lock. Exit codes: 0 clean, 1 damage
//! found ([`Outcome::Damaged`]), 2 for usage and I/O errors ([`error::CliError`]), one line on
//! stderr, never a panic.
#![forbid(unsafe_code)]

pub mod analysis;
pub mod consume;
pub mod demo;
pub mod discover;
pub mod dump;
pub mod error;
pub mod figures;
pub mod files;
pub mod findings;
pub mod groups;
pub mod index_check;
pub mod inspect;
pub mod journal_check;
pub mod messages;
pub mod output;
pub mod peek;
pub mod problem;
pub mod produce;
pub mod progress;
pub mod records;
pub mod repair;
pub mod scan;
pub mod stats;
pub mod status;
pub mod store_view;
pub mod timefmt;
pub mod verify;
pub mod writable;
pub mod write;

pub use error::{CliError, Result};

/// How a command that ran to the end went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing wrong was found (exit code 0).
    Clean,
    /// Damage was found and reported (exit code 1).
    Damaged,
}

/// Exit code of a command that ran to the end.
pub const EXIT_CLEAN: u8 = 0;
/// Exit code when damage was found.
pub const EXIT_DAMAGED: u8 = 1;
/// Exit code for usage and I/O errors.
pub const EXIT_ERROR: u8 = 2;

impl Outcome {
    /// The process exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean => EXIT_CLEAN,
            Outcome::Damaged => EXIT_DAMAGED,
        }
    }
}
