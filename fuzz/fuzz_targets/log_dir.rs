//! Fuzz target `log_dir`: see `logq_sim::fuzz::log_dir` (never panics, hangs or over-allocates).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    logq_sim::fuzz::run_target("log_dir", data).unwrap_or_else(|e| panic!("{e}"));
});
