//! Fuzz target `journal_event`: see `logq_sim::fuzz::journal_event` (never panics, hangs or over-allocates).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    logq_sim::fuzz::run_target("journal_event", data).unwrap_or_else(|e| panic!("{e}"));
});
