//! The six scenarios, 256 B payloads each.

pub mod backlog;
pub mod buffered;
pub mod concurrent;
pub mod latency;
pub mod restart;
pub mod single;

use crate::config::BenchConfig;
use crate::target::{Mode, Target};
use crate::Result;

/// One scenario of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// (1) One producer, each send durable before the next.
    SingleProducer,
    /// (2) Concurrent producers, each waiting for its own durability.
    ConcurrentProducers,
    /// (3) Consume and durably ack a backlog, one consumer, one ack per message.
    ConsumeBacklog,
    /// (4) End-to-end latency at fixed open-loop rates.
    Latency,
    /// (5) Buffered throughput, one producer, in the target's non-durable mode.
    Buffered,
    /// (6) Restart time after kill -9 with a backlog.
    Restart,
}

impl Scenario {
    /// Every scenario, in report order.
    pub const ALL: [Scenario; 6] = [
        Scenario::SingleProducer,
        Scenario::ConcurrentProducers,
        Scenario::ConsumeBacklog,
        Scenario::Latency,
        Scenario::Buffered,
        Scenario::Restart,
    ];

    /// The heading of its table.
    pub fn title(self, config: &BenchConfig) -> String {
        match self {
            Scenario::SingleProducer => {
                "(1) One producer, each send durable before the next".into()
            }
            Scenario::ConcurrentProducers => format!(
                "({}) {} concurrent producers, each waiting for its own durability",
                2, config.producers
            ),
            Scenario::ConsumeBacklog => format!(
                "(3) Consume and durably ack a backlog of {} (one consumer, one ack per message)",
                config.backlog
            ),
            Scenario::Latency => {
                "(4) End-to-end latency at fixed rates (open loop, from the intended send time)"
                    .into()
            }
            Scenario::Buffered => "(5) Buffered throughput, one producer, non-durable mode".into(),
            Scenario::Restart => "(6) Restart time after kill -9 with a backlog".into(),
        }
    }

    /// Whether a larger figure is better (throughput) or worse (latency, time).
    pub fn higher_is_better(self) -> bool {
        !matches!(self, Scenario::Latency | Scenario::Restart)
    }
}

/// One measured value of one run: a metric name (e.g. `msgs/s`, `p99 µs @ 1000/s`) and the
/// value, with an optional note (e.g. "stopped after 30 s").
#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    /// The metric, with its unit.
    pub metric: String,
    /// The value.
    pub value: f64,
    /// A remark on this run, if any.
    pub note: Option<String>,
}

impl Measure {
    /// A measure without a note.
    pub fn new(metric: impl Into<String>, value: f64) -> Measure {
        Measure {
            metric: metric.into(),
            value,
            note: None,
        }
    }
}

/// Why `scenario` does not apply to `target`, or `None` when it does.
pub fn unsupported(target: &dyn Target, scenario: Scenario) -> Option<String> {
    match scenario {
        Scenario::Buffered => match target.buffered_mode() {
            Some(_) => None,
            None => Some("no non-durable mode".into()),
        },
        Scenario::Restart => target.restart_unsupported(),
        _ => target.durable_unsupported(),
    }
}

/// Runs `scenario` once against `target` (already started), returning its measures.
pub fn run_once(
    target: &dyn Target,
    scenario: Scenario,
    config: &BenchConfig,
) -> Result<Vec<Measure>> {
    match scenario {
        Scenario::SingleProducer => {
            target.reset(Mode::Durable)?;
            single::run(target, config.duration)
        }
        Scenario::ConcurrentProducers => {
            target.reset(Mode::Durable)?;
            concurrent::run(target, config.producers, config.duration)
        }
        Scenario::ConsumeBacklog => {
            target.reset(Mode::Durable)?;
            backlog::run(target, config.backlog, config.drain_limit)
        }
        Scenario::Latency => {
            let mut all = Vec::new();
            for pipelined in [false, true] {
                // Only a target with pipelined acks runs the second pass (for the others
                // the question creates nothing; logq's answer is a consumer, dropped unused).
                if pipelined && target.pipelined_ack_consumer().is_none() {
                    break;
                }
                for &rate in &config.rates {
                    target.reset(Mode::Durable)?;
                    all.extend(latency::run(
                        target,
                        rate,
                        config.producers,
                        config.latency_duration,
                        pipelined,
                    )?);
                }
            }
            Ok(all)
        }
        Scenario::Buffered => {
            target.reset(Mode::Buffered)?;
            buffered::run(target, config.duration)
        }
        Scenario::Restart => {
            let cap = if target.in_process() {
                target.restart_bytes_max()
            } else {
                Some(
                    target
                        .restart_bytes_max()
                        .map_or(config.peer_restart_bytes_max, |max| {
                            max.min(config.peer_restart_bytes_max)
                        }),
                )
            };
            let sizes: Vec<u64> = config
                .restart_bytes
                .iter()
                .copied()
                .filter(|bytes| cap.is_none_or(|cap| *bytes <= cap))
                .collect();
            restart::run(target, &sizes, config.restarts_per_fill)
        }
    }
}
