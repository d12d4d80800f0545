//! (5) Buffered throughput: one producer in the target's non-durable mode.

use crate::scenarios::Measure;
use crate::target::Target;
use crate::Result;
use std::time::Duration;

/// Sends from one producer for `duration` (the target was reset to its buffered mode).
pub fn run(target: &dyn Target, duration: Duration) -> Result<Vec<Measure>> {
    crate::scenarios::single::run(target, duration)
}
