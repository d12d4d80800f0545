//! SVG plots of the results: throughput per scenario, latency percentiles per rate.

use crate::runner::{Outcome, Results, Row};
use crate::scenarios::Scenario;
use crate::Result;
use plotters::prelude::*;
use std::path::Path;

const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn medians<'a>(rows: impl Iterator<Item = &'a Row>) -> Vec<(String, f64)> {
    rows.filter_map(|r| match &r.outcome {
        Outcome::Measured { summary, .. } if summary.median > 0.0 => {
            Some((r.target.clone(), summary.median))
        }
        _ => None,
    })
    .collect()
}

fn index_f64(i: usize) -> f64 {
    // Plot coordinates: small indices, exact in f64.
    #[allow(clippy::cast_precision_loss)]
    let x = i as f64;
    x
}

/// Draws one bar chart per throughput scenario into `path` (SVG, log scale).
pub fn throughput(results: &Results, path: &Path) -> Result<()> {
    let scenarios = [
        Scenario::SingleProducer,
        Scenario::ConcurrentProducers,
        Scenario::ConsumeBacklog,
        Scenario::Buffered,
    ];
    let root = SVGBackend::new(path, (1000, 420 * 4)).into_drawing_area();
    root.fill(&WHITE)?;
    let areas = root.split_evenly((scenarios.len(), 1));
    for (scenario, area) in scenarios.iter().zip(areas.iter()) {
        let bars = medians(
            results
                .rows
                .iter()
                .filter(|r| r.scenario == *scenario && r.metric == "msgs/s"),
        );
        let top = bars.iter().map(|b| b.1).fold(10.0_f64, f64::max) * 3.0;
        let n = bars.len().max(1);
        let mut chart = ChartBuilder::on(area)
            .caption(scenario.title(&results.config), ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(110)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..index_f64(n), (1.0..top).log_scale())?;
        let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_desc("messages/s (log)")
            .x_labels(n * 2 + 1)
            .x_label_formatter(&|x| {
                let centre = x - 0.5;
                if centre < 0.0 || (centre - centre.round()).abs() > 0.01 {
                    return String::new();
                }
                // Bar centres sit at i + 0.5; the index is small and non-negative.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let i = centre.round() as usize;
                labels.get(i).cloned().unwrap_or_default()
            })
            .x_label_style(
                ("sans-serif", 11)
                    .into_font()
                    .transform(FontTransform::Rotate90),
            )
            .draw()?;
        chart.draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
            let x = index_f64(i);
            Rectangle::new(
                [(x + 0.15, 1.0), (x + 0.85, *v)],
                COLORS[i % COLORS.len()].filled(),
            )
        }))?;
        chart.draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
            Text::new(
                crate::report::format_value(*v),
                (index_f64(i) + 0.2, *v * 1.15),
                ("sans-serif", 12),
            )
        }))?;
    }
    root.present()?;
    Ok(())
}

/// Draws the latency percentiles (p50, p99, p99.9) per target, one chart per rate, into
/// `path` (SVG, log scale).
pub fn latency(results: &Results, path: &Path) -> Result<()> {
    let rates = &results.config.rates;
    let height = 450 * u32::try_from(rates.len().max(1))?;
    let root = SVGBackend::new(path, (1000, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let areas = root.split_evenly((rates.len().max(1), 1));
    let percentiles = ["p50", "p99", "p99.9"];
    for (rate, area) in rates.iter().zip(areas.iter()) {
        let mut targets: Vec<String> = Vec::new();
        for r in results
            .rows
            .iter()
            .filter(|r| r.scenario == Scenario::Latency)
        {
            if r.metric.ends_with(&format!("@ {rate}/s")) && !targets.contains(&r.target) {
                targets.push(r.target.clone());
            }
        }
        let series: Vec<(String, Vec<(f64, f64)>)> = targets
            .iter()
            .map(|t| {
                let points = percentiles
                    .iter()
                    .enumerate()
                    .filter_map(|(i, p)| {
                        let metric = format!("{p} µs @ {rate}/s");
                        medians(
                            results
                                .rows
                                .iter()
                                .filter(|r| &r.target == t && r.metric == metric),
                        )
                        .first()
                        .map(|(_, v)| (index_f64(i), *v))
                    })
                    .collect();
                (t.clone(), points)
            })
            .collect();
        let top = series
            .iter()
            .flat_map(|s| s.1.iter().map(|p| p.1))
            .fold(100.0_f64, f64::max)
            * 3.0;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("(4) end-to-end latency at {rate} msgs/s (open loop, durable)"),
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.2..2.6, (1.0..top).log_scale())?;
        chart
            .configure_mesh()
            .y_desc("µs (log)")
            .x_labels(3)
            .x_label_formatter(&|x: &f64| {
                let x = *x;
                let i = x.round();
                if (x - i).abs() > 0.01 || i < 0.0 {
                    return String::new();
                }
                // A small non-negative index, rounded.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let i = i as usize;
                percentiles
                    .get(i)
                    .map_or_else(String::new, |s| (*s).to_owned())
            })
            .draw()?;
        for (k, (name, points)) in series.iter().enumerate() {
            let color = COLORS[k % COLORS.len()];
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
                .label(name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
