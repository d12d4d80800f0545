//! (6) Restart time after kill -9 with a backlog.

use crate::scenarios::Measure;
use crate::target::Target;
use crate::Result;

/// The metric name for a backlog of `bytes`.
pub fn metric(bytes: u64) -> String {
    // Statistics/labels: u64 -> f64 is exact for these sizes.
    #[allow(clippy::cast_precision_loss)]
    let gb = bytes as f64 / 1e9;
    format!("ms @ {gb} GB")
}

/// Measures the restart time for each backlog size, in milliseconds.
pub fn run(target: &dyn Target, sizes: &[u64]) -> Result<Vec<Measure>> {
    let mut out = Vec::new();
    for &bytes in sizes {
        let restarted = target.restart_after_kill(bytes)?;
        let mut measure = Measure::new(metric(bytes), restarted.elapsed.as_secs_f64() * 1e3);
        measure.note = restarted.note;
        out.push(measure);
    }
    Ok(out)
}
