//! The Markdown report: machine, targets, one table per scenario, ratios, notes.

use crate::logq_target::LOGQ_NAME;
use crate::runner::{Outcome, Results, Row};
use crate::scenarios::Scenario;
use std::fmt::Write as _;

/// Formats a figure for a table: thousands separators for large values.
pub fn format_value(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v.abs() >= 100.0 {
        // Rounded to an integer for display; the value is finite and far below 2^63.
        #[allow(clippy::cast_possible_truncation)]
        let n = v.round() as i64;
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if n < 0 {
            out.insert(0, '-');
        }
        out
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Whether `row` is logq's own (the baseline of the ratios).
pub fn is_logq(row: &Row) -> bool {
    row.target.starts_with(LOGQ_NAME)
}

/// The ratio logq / `row` for the same scenario and metric, if both were measured.
pub fn ratio(results: &Results, row: &Row) -> Option<f64> {
    let Outcome::Measured { summary: peer, .. } = &row.outcome else {
        return None;
    };
    if is_logq(row) || peer.median == 0.0 {
        return None;
    }
    results.rows.iter().find_map(|r| match &r.outcome {
        Outcome::Measured { summary, .. }
            if is_logq(r) && r.scenario == row.scenario && r.metric == row.metric =>
        {
            Some(summary.median / peer.median)
        }
        _ => None,
    })
}

/// The table of one scenario, in Markdown.
pub fn scenario_table(results: &Results, scenario: Scenario) -> String {
    let mut out = String::new();
    let better = if scenario.higher_is_better() {
        "logq / peer (> 1: logq ahead)"
    } else {
        "logq / peer (< 1: logq ahead)"
    };
    let _ = writeln!(out, "### {}\n", scenario.title(&results.config));
    let _ = writeln!(
        out,
        "| target | metric | median | min | max | {better} | note |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---|");
    for row in results.rows.iter().filter(|r| r.scenario == scenario) {
        match &row.outcome {
            Outcome::Measured { summary, note } => {
                let r = ratio(results, row).map_or_else(|| "-".into(), |r| format!("{r:.2}"));
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    row.target,
                    row.metric,
                    format_value(summary.median),
                    format_value(summary.min),
                    format_value(summary.max),
                    r,
                    note.as_deref().unwrap_or("")
                );
            }
            Outcome::NotRun(why) => {
                let _ = writeln!(
                    out,
                    "| {} | {} | - | - | - | - | {} |",
                    row.target,
                    row.metric,
                    why.replace('|', "/").replace('\n', " ")
                );
            }
        }
    }
    out
}

/// Every scenario's table (what is printed to stdout).
pub fn tables(results: &Results) -> String {
    Scenario::ALL
        .iter()
        .map(|&s| scenario_table(results, s))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The whole `docs/BENCHMARKS.md`: `plots` are file names relative to `docs/`, and
/// `closing` is the hand-written analysis kept from the previous report (may be empty).
pub fn markdown(results: &Results, plots: &[String], closing: &str) -> String {
    let m = &results.machine;
    let c = &results.config;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# logq benchmarks: side by side with the queues users would pick instead\n"
    );
    // Sizes for a label: u64 -> f64 is exact for these sizes.
    #[allow(clippy::cast_precision_loss)]
    let gb = |bytes: u64| format!("{}", bytes as f64 / 1e9);
    let restart_gb: Vec<String> = c.restart_bytes.iter().map(|b| gb(*b)).collect();
    let _ = writeln!(
        out,
        "Written by `logq-bench` (crates/logq-bench). Regenerate (as root, peers from Debian \
         packages): `sh crates/logq-bench/scripts/install-peers.sh && cargo run --release -p \
         logq-bench -- --runs {}{} --restart-gb {} --peer-restart-gb-max {} --restarts-per-fill {} \
         --docs-dir docs` \
         (settings below). \
         Every figure is the median of {} run(s), with min and max; 256 B payloads; every \
         target on the same disk, one at a time, on 127.0.0.1.\n",
        c.runs,
        if c.latency_duration == c.duration {
            String::new()
        } else {
            format!(" --latency-seconds {}", c.latency_duration.as_secs_f64())
        },
        restart_gb.join(","),
        gb(c.peer_restart_bytes_max),
        c.restarts_per_fill,
        c.runs
    );
    let _ = writeln!(out, "## Machine\n");
    let _ = writeln!(out, "- date: {}", m.date);
    let _ = writeln!(out, "- CPUs: {} ({})", m.cpus, m.cpu_model);
    let _ = writeln!(out, "- memory: {}", m.memory);
    let _ = writeln!(out, "- disk: {}", m.disk);
    let _ = writeln!(out, "- kernel: {}", m.kernel);
    let _ = writeln!(
        out,
        "- settings: {} s per timed scenario{}, backlog {} messages (drain limit {} s), {} producers in (2) and (4), rates {:?}/s, restart backlogs {} ({} restarts per fill for in-process targets, their median the run's figure; servers 1)\n",
        c.duration.as_secs_f64(),
        if c.latency_duration == c.duration {
            String::new()
        } else {
            format!(" ({} s per run of (4))", c.latency_duration.as_secs_f64())
        },
        c.backlog,
        c.drain_limit.as_secs(),
        c.producers,
        c.rates,
        c.restart_bytes
            .iter()
            .map(|b| crate::scenarios::restart::metric(*b).replace("ms @ ", ""))
            .collect::<Vec<_>>()
            .join(", "),
        c.restarts_per_fill
    );
    let _ = writeln!(out, "## Targets and their durability\n");
    let _ = writeln!(
        out,
        "| target | durability (strongest configured) | buffered mode (5) | client |"
    );
    let _ = writeln!(out, "|---|---|---|---|");
    for t in &results.targets {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            t.name,
            t.durability.replace('|', "/"),
            t.buffered.as_deref().unwrap_or("none"),
            t.client
        );
    }
    let _ = writeln!(out, "\n## Results\n");
    out.push_str(&tables(results));
    if !plots.is_empty() {
        let _ = writeln!(out, "\n## Plots\n");
        for p in plots {
            let _ = writeln!(out, "![{p}]({p})\n");
        }
    }
    if !closing.trim().is_empty() {
        let _ = writeln!(out, "\n{}", closing.trim());
    }
    out
}

/// The marker after which `docs/BENCHMARKS.md` holds hand-written analysis that a rerun
/// keeps.
pub const ANALYSIS_MARKER: &str = "## Analysis";

/// The hand-written analysis of an existing report (from [`ANALYSIS_MARKER`] on).
pub fn kept_analysis(existing: &str) -> String {
    existing
        .find(ANALYSIS_MARKER)
        .map_or_else(String::new, |i| existing[i..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::markdown;
    use crate::config::BenchConfig;
    use crate::machine::Machine;
    use crate::runner::Results;
    use std::time::Duration;

    fn results(latency_seconds: u64) -> Results {
        let mut config = BenchConfig::quick("/tmp/unused".into());
        config.duration = Duration::from_secs(3);
        config.latency_duration = Duration::from_secs(latency_seconds);
        Results {
            machine: Machine {
                cpus: 2,
                cpu_model: "test".into(),
                memory: "1 GiB".into(),
                disk: "test".into(),
                kernel: "test".into(),
                date: "test".into(),
            },
            config,
            rows: Vec::new(),
            targets: Vec::new(),
        }
    }

    #[test]
    fn longer_latency_runs_are_stated_in_the_settings_and_the_command() {
        let text = markdown(&results(20), &[], "");
        assert!(
            text.contains("3 s per timed scenario (20 s per run of (4))"),
            "{text}"
        );
        assert!(
            text.contains("--runs 1 --latency-seconds 20 --restart-gb"),
            "{text}"
        );
        let same = markdown(&results(3), &[], "");
        assert!(same.contains("3 s per timed scenario, backlog"), "{same}");
        assert!(!same.contains("--latency-seconds"), "{same}");
    }
}
