//! Queue statistics: depth, ready, in flight, delayed, dead-lettered, oldest unacknowledged
//! age, send and ack rates, and enqueue-to-ack latency percentiles (HdrHistogram).

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};

/// Statistics of one queue; `serde`-serialisable for dashboards and the CLI.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QueueStats {
    /// The queue.
    pub queue: String,
    /// The first retained message id.
    pub first_id: u64,
    /// The id the next message will get.
    pub next_id: u64,
    /// Bytes of the message log on disk.
    pub disk_bytes: u64,
    /// Messages sent since the store opened.
    pub sent_total: u64,
    /// Sends per second over the last 10 seconds.
    pub send_rate_per_s: f64,
    /// Messages deleted by a retention cap before every group acknowledged them.
    pub dropped_by_retention: u64,
    /// Dedup ids remembered.
    pub dedup_entries: u64,
    /// Delayed messages waiting for their time.
    pub delayed_waiting: u64,
    /// When the next delayed message is due, ms since the Unix epoch.
    pub next_due_ms: Option<u64>,
    /// Per consumer group.
    pub groups: Vec<GroupStatsView>,
}

/// Statistics of one consumer group.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GroupStatsView {
    /// The group.
    pub group: String,
    /// Messages not yet acknowledged (nor dead-lettered).
    pub depth: u64,
    /// Messages deliverable now.
    pub ready: u64,
    /// Messages leased to consumers.
    pub in_flight: u64,
    /// Messages waiting out a nack delay.
    pub delayed: u64,
    /// Messages moved to the dead-letter queue.
    pub dead_lettered: u64,
    /// Age of the oldest unacknowledged message, ms.
    pub oldest_unacked_age_ms: Option<u64>,
    /// Acks since the store opened.
    pub acked_total: u64,
    /// Acks per second over the last 10 seconds.
    pub ack_rate_per_s: f64,
    /// Enqueue-to-ack latency, when recorded.
    pub latency: Option<LatencyPercentiles>,
}

/// Latency percentiles in microseconds (message timestamps have ms resolution).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LatencyPercentiles {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// 99.9th percentile.
    pub p999_us: u64,
    /// Maximum.
    pub max_us: u64,
}

/// Events per second over a sliding window of one-second buckets.
#[derive(Default)]
pub(crate) struct RateMeter {
    buckets: VecDeque<(u64, u64)>,
    total: u64,
}

const WINDOW_S: u64 = 10;

impl RateMeter {
    pub fn record(&mut self, now_ms: u64, count: u64) {
        let second = now_ms / 1000;
        match self.buckets.back_mut() {
            Some((s, c)) if *s == second => *c += count,
            _ => self.buckets.push_back((second, count)),
        }
        while self
            .buckets
            .front()
            .is_some_and(|(s, _)| *s + WINDOW_S + 1 < second)
        {
            self.buckets.pop_front();
        }
        self.total += count;
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// Rate over the last `WINDOW_S` complete seconds (fewer while the meter is younger).
    pub fn rate_per_s(&self, now_ms: u64) -> f64 {
        let second = now_ms / 1000;
        let sum: u64 = self
            .buckets
            .iter()
            .filter(|(s, _)| *s < second && *s + WINDOW_S >= second)
            .map(|(_, c)| c)
            .sum();
        let first = self.buckets.front().map_or(second, |(s, _)| *s);
        let seconds = second.saturating_sub(first).clamp(1, WINDOW_S);
        // Precision loss is irrelevant for a rate shown to people.
        #[allow(clippy::cast_precision_loss)]
        let rate = sum as f64 / seconds as f64;
        rate
    }
}

/// Ack rate and latency histogram of one group (the histogram is created on first use).
pub(crate) type GroupRecorder = (RateMeter, Option<Histogram<u64>>);

/// What a queue records as it runs.
#[derive(Default)]
pub(crate) struct Recorder {
    pub sends: Mutex<RateMeter>,
    pub acks: Mutex<HashMap<String, GroupRecorder>>,
    pub dropped_by_retention: Mutex<u64>,
}

impl Recorder {
    pub fn record_ack(&self, group: &str, now_ms: u64, sent_ms: u64) {
        let mut acks = self.acks.lock();
        let (meter, histogram) = acks.entry(group.to_owned()).or_default();
        meter.record(now_ms, 1);
        if histogram.is_none() {
            *histogram = Histogram::new_with_bounds(1, 3_600_000_000, 3).ok();
        }
        if let Some(histogram) = histogram.as_mut() {
            let latency_us = now_ms.saturating_sub(sent_ms).saturating_mul(1000).max(1);
            histogram.saturating_record(latency_us);
        }
    }

    pub fn group_view(&self, group: &str, now_ms: u64) -> (u64, f64, Option<LatencyPercentiles>) {
        let acks = self.acks.lock();
        let Some((meter, histogram)) = acks.get(group) else {
            return (0, 0.0, None);
        };
        let latency = histogram
            .as_ref()
            .filter(|h| !h.is_empty())
            .map(|h| LatencyPercentiles {
                count: h.len(),
                p50_us: h.value_at_quantile(0.5),
                p99_us: h.value_at_quantile(0.99),
                p999_us: h.value_at_quantile(0.999),
                max_us: h.max(),
            });
        (meter.total(), meter.rate_per_s(now_ms), latency)
    }
}
