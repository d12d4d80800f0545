//! Fuzz target `api_ops`: a log workload, a fault, a crash point and a power cut decided by
//! the input, checked against the model of what was acknowledged (see
//! `logq_sim::fuzz::api_ops`); a broken invariant panics with its description.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(broken) = logq_sim::fuzz::api_ops(data) {
        panic!("invariant broken: {broken}");
    }
});
