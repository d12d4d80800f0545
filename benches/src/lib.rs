//! Shared helpers of logq's criterion benchmarks.
#![forbid(unsafe_code)]
