//! Fuzz target `checkpoint`: see `logq_sim::fuzz::checkpoint` (never panics, hangs or over-allocates).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    logq_sim::fuzz::run_target("checkpoint", data).unwrap_or_else(|e| panic!("{e}"));
});
