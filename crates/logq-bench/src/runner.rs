//! The loop over targets, scenarios and runs.

use crate::config::BenchConfig;
use crate::logq_target::LogqTarget;
use crate::machine::Machine;
use crate::peers;
use crate::scenarios::{self, Measure, Scenario};
use crate::stats::{summarize, Summary};
use crate::target::Target;
use crate::Result;
use std::collections::BTreeMap;

/// The outcome of one figure.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Measured over `summary.runs` runs; `note` gathers the runs' remarks.
    Measured {
        /// Median, min and max.
        summary: Summary,
        /// Remarks of the runs (e.g. a drain stopped at its time limit).
        note: Option<String>,
    },
    /// Not measured, and why.
    NotRun(String),
}

/// One line of a scenario's table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The scenario.
    pub scenario: Scenario,
    /// The target's label.
    pub target: String,
    /// The metric (`msgs/s`, `p99 µs @ 1000/s`, …), or `-` for a target not run.
    pub metric: String,
    /// The figure.
    pub outcome: Outcome,
}

/// What the report says about one target.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetInfo {
    /// Its label.
    pub name: String,
    /// Version, durability configuration, or why it did not run.
    pub durability: String,
    /// Its buffered mode, if any.
    pub buffered: Option<String>,
    /// The client used.
    pub client: String,
}

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct Results {
    /// Where and when.
    pub machine: Machine,
    /// The settings.
    pub config: BenchConfig,
    /// Every figure.
    pub rows: Vec<Row>,
    /// Every target, including those that did not run.
    pub targets: Vec<TargetInfo>,
}

/// Runs every scenario against logq and each configured peer, `config.runs` times each.
pub fn run(config: &BenchConfig) -> Result<Results> {
    std::fs::create_dir_all(&config.work_dir)?;
    let machine = Machine::describe(&config.work_dir);
    let mut rows = Vec::new();
    let mut targets = Vec::new();

    // The physical limit, beside scenario (1).
    for (label, preallocated) in [
        ("disk: write + fdatasync, growing file", false),
        ("disk: write + fdatasync, preallocated file", true),
    ] {
        let mut values = Vec::new();
        for _ in 0..config.runs {
            values.push(scenarios::single::raw_fdatasync(
                &config.work_dir.join("raw"),
                preallocated,
                config.duration,
            )?);
        }
        rows.push(measured(
            Scenario::SingleProducer,
            label,
            "msgs/s",
            &values,
            None,
        ));
    }

    let logq = LogqTarget::new(config.work_dir.join("logq"), config.self_exe.clone());
    run_target(&logq, config, &mut rows, &mut targets);

    if config.install && !config.peers.is_empty() {
        if let Err(e) = peers::install() {
            eprintln!("logq-bench: installing peers failed: {e}");
        }
    }
    for &kind in &config.peers {
        eprintln!("logq-bench: starting {kind:?}");
        match peers::start(kind, config) {
            Ok(targets_of_peer) => {
                for target in targets_of_peer {
                    run_target(target.as_ref(), config, &mut rows, &mut targets);
                }
                // The servers stopped as their targets dropped: clean up their data.
                let _ = std::fs::remove_dir_all(peers::data_dir(kind, config));
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(peers::data_dir(kind, config));
                let name = kind.label().to_owned();
                let why = format!("not run: {e}");
                eprintln!("logq-bench: {name} {why}");
                for scenario in Scenario::ALL {
                    rows.push(Row {
                        scenario,
                        target: name.clone(),
                        metric: "-".into(),
                        outcome: Outcome::NotRun(why.clone()),
                    });
                }
                targets.push(TargetInfo {
                    name,
                    durability: why,
                    buffered: None,
                    client: kind.client().to_owned(),
                });
            }
        }
    }
    for sub in ["raw", "logq"] {
        let _ = std::fs::remove_dir_all(config.work_dir.join(sub));
    }
    Ok(Results {
        machine,
        config: config.clone(),
        rows,
        targets,
    })
}

fn measured(
    scenario: Scenario,
    target: &str,
    metric: &str,
    values: &[f64],
    note: Option<String>,
) -> Row {
    Row {
        scenario,
        target: target.to_owned(),
        metric: metric.to_owned(),
        outcome: summarize(values).map_or_else(
            || Outcome::NotRun("no value".into()),
            |summary| Outcome::Measured { summary, note },
        ),
    }
}

/// The label of `target` in `scenario`'s table.
pub fn label(target: &str, _scenario: Scenario) -> String {
    target.to_owned()
}

fn run_target(
    target: &dyn Target,
    config: &BenchConfig,
    rows: &mut Vec<Row>,
    targets: &mut Vec<TargetInfo>,
) {
    let name = target.name();
    targets.push(TargetInfo {
        name: name.clone(),
        durability: target.durability(),
        buffered: target.buffered_mode(),
        client: target.client(),
    });
    for scenario in Scenario::ALL {
        let row_label = label(&name, scenario);
        if let Some(why) = scenarios::unsupported(target, scenario) {
            rows.push(Row {
                scenario,
                target: row_label,
                metric: "-".into(),
                outcome: Outcome::NotRun(format!("not run: {why}")),
            });
            continue;
        }
        let mut per_metric: BTreeMap<String, (Vec<f64>, Vec<String>)> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut failure = None;
        for run in 0..config.runs {
            eprintln!("logq-bench: {name}: {scenario:?} run {}", run + 1);
            match scenarios::run_once(target, scenario, config) {
                Ok(measures) => {
                    for Measure {
                        metric,
                        value,
                        note,
                    } in measures
                    {
                        if !per_metric.contains_key(&metric) {
                            order.push(metric.clone());
                        }
                        let entry = per_metric.entry(metric).or_default();
                        entry.0.push(value);
                        entry.1.extend(note);
                    }
                }
                Err(e) => {
                    eprintln!("logq-bench: {name}: {scenario:?} failed: {e}");
                    failure = Some(format!("not run: failed: {e}"));
                    break;
                }
            }
        }
        if let Some(why) = failure {
            rows.push(Row {
                scenario,
                target: row_label,
                metric: "-".into(),
                outcome: Outcome::NotRun(why),
            });
            continue;
        }
        for metric in order {
            let (values, notes) = per_metric.remove(&metric).unwrap_or_default();
            let note = merge_notes(&notes, config.runs);
            rows.push(measured(scenario, &row_label, &metric, &values, note));
        }
    }
}

/// The runs' remarks as one note: each distinct remark once, in the order first seen, with
/// the number of runs that made it when that is not every run.
fn merge_notes(notes: &[String], runs: usize) -> Option<String> {
    let mut distinct: Vec<(&str, usize)> = Vec::new();
    for note in notes {
        match distinct.iter_mut().find(|(seen, _)| *seen == note.as_str()) {
            Some((_, count)) => *count += 1,
            None => distinct.push((note, 1)),
        }
    }
    let merged: Vec<String> = distinct
        .into_iter()
        .map(|(note, count)| {
            if count >= runs {
                note.to_owned()
            } else {
                format!("{count} of {runs} runs: {note}")
            }
        })
        .collect();
    (!merged.is_empty()).then(|| merged.join("; "))
}

#[cfg(test)]
mod tests {
    use super::merge_notes;

    #[test]
    fn repeated_notes_appear_once_with_their_count() {
        let notes = vec!["a".to_owned(), "b".to_owned(), "a".to_owned()];
        assert_eq!(
            merge_notes(&notes, 3).as_deref(),
            Some("2 of 3 runs: a; 1 of 3 runs: b")
        );
        let every_run = vec!["a".to_owned(); 3];
        assert_eq!(merge_notes(&every_run, 3).as_deref(), Some("a"));
        assert_eq!(merge_notes(&[], 3), None);
    }
}
