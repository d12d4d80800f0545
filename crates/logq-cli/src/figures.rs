//! The figures of one consumer group computed from disk, the way `logq::Queue::stats`
//! computes them in-process: depth, ready, in flight, delayed, dead-lettered, oldest
//! unacknowledged age, plus the positions `logq groups` shows.

use crate::error::Result;
use crate::store_view::QueueView;
use serde::Serialize;

/// What the group's recorded state says, at one time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupFigures {
    /// The group.
    pub group: String,
    /// Lowest message id neither acknowledged nor dead-lettered (every id below is settled).
    pub floor: u64,
    /// Lowest id never delivered.
    pub next_to_deliver: u64,
    /// Messages not yet acknowledged nor dead-lettered.
    pub depth: u64,
    /// Messages deliverable now.
    pub ready: u64,
    /// Unexpired leases.
    pub in_flight: u64,
    /// Leases that expired and were not yet redelivered or settled.
    pub expired_leases: u64,
    /// Messages waiting out a nack delay.
    pub delayed: u64,
    /// Messages dead-lettered (remembered above the floor).
    pub dead_lettered: u64,
    /// Messages that used all their deliveries and wait to be dead-lettered (counted with
    /// the default `max_deliveries`: the limit a service uses is not stored on disk).
    pub dead_letter_candidates: u64,
    /// Settled ids above the floor.
    pub settled_above_floor: u64,
    /// Gaps between the settled ranges above the floor.
    pub gaps: u64,
    /// Outcomes retained.
    pub outcomes: u64,
    /// Age of the oldest unacknowledged message, ms (none when the depth is 0 or it is not
    /// retained).
    pub oldest_unacked_age_ms: Option<u64>,
}

/// Computes the figures of `group` in `queue` at `now_ms`.
pub fn group_figures(queue: &QueueView, group: &str, now_ms: u64) -> Result<GroupFigures> {
    let stats = queue.group_stats(group, now_ms)?;
    let next = queue.next_id();
    let floor = stats.min_unacked_offset.min(next);
    let depth = next
        .saturating_sub(floor)
        .saturating_sub(stats.acked_above_floor);
    let not_ready = stats.in_flight + stats.delayed + stats.dead_letter_candidates;
    let oldest_unacked_age_ms = if depth > 0 {
        queue.timestamp_ms(floor).map(|t| now_ms.saturating_sub(t))
    } else {
        None
    };
    Ok(GroupFigures {
        group: group.to_owned(),
        floor,
        next_to_deliver: stats.next_to_deliver.min(next),
        depth,
        ready: depth.saturating_sub(not_ready),
        in_flight: stats.in_flight,
        expired_leases: stats.expired_leases,
        delayed: stats.delayed,
        dead_lettered: stats.dead,
        dead_letter_candidates: stats.dead_letter_candidates,
        settled_above_floor: stats.acked_above_floor,
        gaps: stats.gaps,
        outcomes: stats.outcomes,
        oldest_unacked_age_ms,
    })
}

/// A duration in ms for people: `850ms`, `12.3s`, `4m05s`, `3h12m`, `2d04h`.
///
/// ```
/// use logq_cli::figures::human_age;
/// assert_eq!(human_age(850), "850ms");
/// assert_eq!(human_age(12_340), "12.3s");
/// assert_eq!(human_age(245_000), "4m05s");
/// assert_eq!(human_age(11_520_000), "3h12m");
/// assert_eq!(human_age(187_200_000), "2d04h");
/// ```
pub fn human_age(ms: u64) -> String {
    let s = ms / 1000;
    match ms {
        0..=999 => format!("{ms}ms"),
        1_000..=59_999 => format!("{}.{}s", s, ms % 1000 / 100),
        60_000..=3_599_999 => format!("{}m{:02}s", s / 60, s % 60),
        3_600_000..=86_399_999 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// A byte count for people: `512 B`, `4.0 KiB`, `12.5 MiB`, `1.2 GiB`.
///
/// ```
/// use logq_cli::figures::human_size;
/// assert_eq!(human_size(512), "512 B");
/// assert_eq!(human_size(4096), "4.0 KiB");
/// assert_eq!(human_size(13_107_200), "12.5 MiB");
/// ```
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut unit = 0;
    let mut scaled = bytes;
    while scaled >= 1024 * 1024 && unit + 1 < UNITS.len() {
        scaled /= 1024;
        unit += 1;
    }
    // One decimal from integer arithmetic: tenths of the unit.
    let tenths = scaled * 10 / 1024;
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

/// A count with thousands separators: `20,000`.
///
/// ```
/// assert_eq!(logq_cli::figures::thousands(1_234_567), "1,234,567");
/// assert_eq!(logq_cli::figures::thousands(12), "12");
/// ```
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
