//! What the demo prints: the progress line (about once a second), the summary table and
//! the list of checks.

use crate::error::{output, Result};
use crate::figures::thousands;
use logq::{GroupStatsView, QueueStats};
use std::io::Write;

/// Microseconds as milliseconds: two decimals below 1 ms, one below 100 ms, none above.
///
/// ```
/// use logq_cli::demo::report::ms;
/// assert_eq!(ms(420), "0.42");
/// assert_eq!(ms(3_000), "3.0");
/// assert_eq!(ms(12_345), "12.3");
/// assert_eq!(ms(1_520_000), "1520");
/// ```
pub fn ms(us: u64) -> String {
    match us {
        0..=999 => format!("0.{:02}", us / 10),
        1_000..=99_999 => format!("{}.{}", us / 1000, us % 1000 / 100),
        _ => format!("{}", us / 1000),
    }
}

/// The value at quantile `q` (0..=1) of sorted `values` (0 when empty).
///
/// ```
/// use logq_cli::demo::report::quantile;
/// let v: Vec<u64> = (1..=100).collect();
/// assert_eq!(quantile(&v, 0.5), 50);
/// assert_eq!(quantile(&v, 0.99), 99);
/// assert_eq!(quantile(&[], 0.5), 0);
/// ```
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    // Rank of the quantile, rounded up (nearest-rank method).
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Events per second, as an integer with separators.
pub fn rate(count: u64, seconds: f64) -> String {
    if seconds <= 0.0 {
        return "-".into();
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let per_s = (count as f64 / seconds).round() as u64;
    thousands(per_s)
}

/// The group `name` in `stats`.
pub fn group<'a>(stats: &'a QueueStats, name: &str) -> Option<&'a GroupStatsView> {
    stats.groups.iter().find(|g| g.group == name)
}

/// Column header of the progress lines.
pub fn progress_header(out: &mut dyn Write) -> Result<()> {
    output(writeln!(
        out,
        "{:>6}  {:>8}  {:>7}  {:>8}  {:>9}  {:>7}  {:>15}  {:>18}",
        "time",
        "sent",
        "send/s",
        "paid",
        "reserved",
        "ack/s",
        "depth pay/inv",
        "pay ack p50/p99 ms"
    ))
}

/// One progress line.
#[derive(Clone, Debug, Default)]
pub struct ProgressLine {
    /// Seconds since the start.
    pub elapsed_s: f64,
    /// Orders sent (send returned).
    pub sent: u64,
    /// Sends per second over the last interval.
    pub send_rate: String,
    /// Acks per group (payments, inventory).
    pub acked: [u64; 2],
    /// Acks per second (both groups) over the last interval.
    pub ack_rate: String,
    /// Depth per group.
    pub depth: [u64; 2],
    /// Ack latency p50 and p99, µs (from `Queue::stats`, payments group).
    pub latency_us: Option<(u64, u64)>,
}

/// Writes `line`.
pub fn progress(out: &mut dyn Write, line: &ProgressLine) -> Result<()> {
    let latency = line.latency_us.map_or_else(
        || "-".into(),
        |(p50, p99)| format!("{}/{}", ms(p50), ms(p99)),
    );
    output(writeln!(
        out,
        "{:>5.1}s  {:>8}  {:>7}  {:>8}  {:>9}  {:>7}  {:>15}  {:>18}",
        line.elapsed_s,
        thousands(line.sent),
        line.send_rate,
        thousands(line.acked[0]),
        thousands(line.acked[1]),
        line.ack_rate,
        format!("{}/{}", thousands(line.depth[0]), thousands(line.depth[1])),
        latency
    ))?;
    out.flush().map_err(crate::error::CliError::Output)
}

/// One verified claim of the summary, or a figure reported without a verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// Whether it held (`None` for a figure).
    pub ok: Option<bool>,
    /// What was checked and what was found.
    pub text: String,
}

impl Check {
    /// A check that held when `ok`.
    pub fn new(ok: bool, text: impl Into<String>) -> Self {
        Check {
            ok: Some(ok),
            text: text.into(),
        }
    }

    /// A figure that is reported, not judged.
    pub fn info(text: impl Into<String>) -> Self {
        Check {
            ok: None,
            text: text.into(),
        }
    }

    /// True unless the check failed.
    pub fn passed(&self) -> bool {
        self.ok != Some(false)
    }
}

/// Writes the checks, `ok` or `FAILED` (or `-` for a figure) in front of each.
pub fn checks(out: &mut dyn Write, checks: &[Check]) -> Result<()> {
    for check in checks {
        let mark = match check.ok {
            Some(true) => "ok    ",
            Some(false) => "FAILED",
            None => "-     ",
        };
        output(writeln!(out, "  {mark}  {}", check.text))?;
    }
    Ok(())
}
