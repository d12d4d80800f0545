//! Fuzz target `batch_decoder`: see `logq_sim::fuzz::batch_decoder` (never panics, hangs or over-allocates).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    logq_sim::fuzz::run_target("batch_decoder", data).unwrap_or_else(|e| panic!("{e}"));
});
