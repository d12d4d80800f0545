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

/// Measures the restart time for each backlog size, in milliseconds: the median of the
/// `restarts` restarts on one fill (of one, for servers; see
/// [`Target::restart_after_kill`]), with every distinct note of them.
pub fn run(target: &dyn Target, sizes: &[u64], restarts: usize) -> Result<Vec<Measure>> {
    let mut out = Vec::new();
    for &bytes in sizes {
        let restarted = target.restart_after_kill(bytes, restarts)?;
        let ms: Vec<f64> = restarted
            .iter()
            .map(|r| r.elapsed.as_secs_f64() * 1e3)
            .collect();
        let summary = crate::stats::summarize(&ms).ok_or("the target timed no restart")?;
        let mut measure = Measure::new(metric(bytes), summary.median);
        let mut notes: Vec<String> = Vec::new();
        for note in restarted.into_iter().filter_map(|r| r.note) {
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
        if !notes.is_empty() {
            measure.note = Some(notes.join("; "));
        }
        out.push(measure);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{Consumer, Mode, Producer, Restarted};
    use std::time::Duration;

    /// Restarts in the times and notes it is given.
    struct Scripted(Vec<(u64, Option<&'static str>)>);

    impl Target for Scripted {
        fn name(&self) -> String {
            "scripted".into()
        }
        fn durability(&self) -> String {
            String::new()
        }
        fn buffered_mode(&self) -> Option<String> {
            None
        }
        fn reset(&self, _: Mode) -> Result<()> {
            Ok(())
        }
        fn producer(&self) -> Result<Box<dyn Producer>> {
            Err("none".into())
        }
        fn consumer(&self) -> Result<Box<dyn Consumer>> {
            Err("none".into())
        }
        fn client(&self) -> String {
            String::new()
        }
        fn restart_after_kill(&self, _: u64, restarts: usize) -> Result<Vec<Restarted>> {
            assert_eq!(restarts, self.0.len());
            Ok(self
                .0
                .iter()
                .map(|(ms, note)| Restarted {
                    elapsed: Duration::from_millis(*ms),
                    note: note.map(str::to_owned),
                })
                .collect())
        }
    }

    #[test]
    fn a_fill_counts_the_median_of_its_restarts_with_each_note_once() {
        let target = Scripted(vec![(9, Some("slow")), (3, None), (4, Some("slow"))]);
        let measures = run(&target, &[1_000_000_000], 3).expect("run");
        assert_eq!(measures.len(), 1);
        assert_eq!(measures[0].metric, "ms @ 1 GB");
        assert!(
            (measures[0].value - 4.0).abs() < 1e-9,
            "{}",
            measures[0].value
        );
        assert_eq!(measures[0].note.as_deref(), Some("slow"));
    }

    #[test]
    fn a_server_restarting_once_counts_that_restart() {
        let target = Scripted(vec![(250, None)]);
        let measures = run(&target, &[100_000_000], 1).expect("run");
        assert!((measures[0].value - 250.0).abs() < 1e-9);
        assert_eq!(measures[0].note, None);
    }
}
