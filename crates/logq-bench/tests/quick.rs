//! The quick (CI) mode's logic end to end: logq alone, about a second per scenario, no
//! peers, no network, no root. Checks the table's shape, not the timings.

use logq_bench::config::BenchConfig;
use logq_bench::report;
use logq_bench::runner::{self, Outcome};
use logq_bench::scenarios::Scenario;
use std::path::PathBuf;

#[test]
fn quick_mode_produces_a_well_formed_table_with_logq_rows() {
    let work = tempfile::tempdir().expect("tempdir");
    let mut config = BenchConfig::quick(work.path().join("data"));
    config.self_exe = Some(PathBuf::from(env!("CARGO_BIN_EXE_logq-bench")));
    config.docs_dir = Some(work.path().join("docs"));
    let results = runner::run(&config).expect("quick run");

    for scenario in Scenario::ALL {
        let logq: Vec<_> = results
            .rows
            .iter()
            .filter(|r| r.scenario == scenario && report::is_logq(r))
            .collect();
        assert!(!logq.is_empty(), "no logq row for {scenario:?}");
        for row in logq {
            match &row.outcome {
                Outcome::Measured { summary, .. } => {
                    assert!(summary.median > 0.0, "{scenario:?} {}: zero", row.metric);
                    assert!(summary.min <= summary.median && summary.median <= summary.max);
                }
                Outcome::NotRun(why) => panic!("logq {scenario:?} not run: {why}"),
            }
        }
    }

    let tables = report::tables(&results);
    for scenario in Scenario::ALL {
        assert!(
            tables.contains(&scenario.title(&config)),
            "missing {scenario:?}"
        );
    }
    let header = "| target | metric | median | min | max |";
    assert_eq!(tables.matches(header).count(), Scenario::ALL.len());
    for line in tables.lines().filter(|l| l.starts_with('|')) {
        assert_eq!(line.matches('|').count(), 8, "malformed row: {line}");
    }
    assert!(tables.contains("| logq | msgs/s"), "logq rows: {tables}");

    // The report and plots render from the same results.
    let md = report::markdown(&results, &[], "");
    assert!(md.contains("## Machine") && md.contains(&tables));
    let docs = work.path().join("docs");
    std::fs::create_dir_all(&docs).expect("docs dir");
    logq_bench::plot::throughput(&results, &docs.join("t.svg")).expect("throughput plot");
    logq_bench::plot::latency(&results, &docs.join("l.svg")).expect("latency plot");
}
