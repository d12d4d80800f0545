//! RabbitMQ, two rows: a classic queue and a quorum queue, on one private node, through the
//! `lapin` crate (async, its `async-global-executor` runtime, driven with
//! `futures::executor::block_on`).
//!
//! # The node
//!
//! `/usr/lib/rabbitmq/bin/rabbitmq-server` (not the Debian wrapper in /usr/sbin, which
//! switches to the `rabbitmq` user) runs as a child in its own process group, with every
//! path under the harness's directory: `RABBITMQ_MNESIA_BASE`, `RABBITMQ_LOG_BASE`,
//! `RABBITMQ_CONFIG_FILE`, an empty `RABBITMQ_ENABLED_PLUGINS_FILE`, and `HOME` (so the Erlang
//! cookie is private). The node is `logqbench<port>@localhost` on 127.0.0.1, with free AMQP
//! and distribution ports and its own `epmd` on a free port (`ERL_EPMD_PORT`), also a child.
//! `guest` may log in from localhost only, which is where the harness connects from. On drop
//! the node gets SIGTERM, and the harness waits until no `beam.smp` of it is left.
//!
//! # Durability
//!
//! Queues are durable, messages persistent (`delivery_mode` 2), the publishing channel is in
//! confirm mode and a durable send returns when the broker's `basic.ack` for that message
//! arrives. RabbitMQ documents that for a persistent message routed to a durable queue the
//! confirm is sent only after the message is persisted to disk, and that it persists in
//! batches (after an interval of a few hundred ms, or when the queue goes idle) to save
//! fsyncs. In a classic queue (3.10 default: version 1), messages under 4 KiB, such as the
//! 256 B payloads here, are embedded in the queue index, whose journal is fsynced before the
//! confirms; a message consumed and acked before that sync may be confirmed without ever
//! being written. A quorum queue confirms once the Raft entry is committed, i.e. fsynced to
//! the write-ahead log of a majority of replicas: here one replica on this one node.
//!
//! Consumers use manual acks: each `poll` receives up to `max` deliveries (`basic.qos`
//! prefetch 1,000) and acks them with one `basic.ack` (`multiple`, on the last
//! delivery tag). AMQP 0-9-1 has no reply to `basic.ack`: the ack is sent, not confirmed;
//! the client never learns whether the broker applied or persisted it, so after a crash a
//! message that was acked may be delivered again (at-least-once).
//!
//! Buffered mode: the same persistent publishes on the same confirm-mode channel, but a send
//! returns once the message is written to the socket; the producer only waits for the
//! oldest confirm when more than 1,024 are outstanding, and for all of
//! them when it is dropped (or at the end of a `send_batch`), so every message is known to
//! be accepted (and, being persistent, fsynced) at the end.
//!
//! Queues are declared with `x-queue-type` `classic` or `quorum`; `reset` deletes and
//! redeclares them. The version in the row names is the `version` server property of the
//! node's `connection.start`.

use crate::target::Target;
use crate::Result;
use std::path::PathBuf;

#[cfg(feature = "rabbitmq")]
mod client;
#[cfg(feature = "rabbitmq")]
mod node;

/// Starts a private RabbitMQ node in `dir`; returns its classic-queue and quorum-queue
/// targets (the node stops when both have dropped).
#[cfg(feature = "rabbitmq")]
pub fn start(dir: PathBuf) -> Result<Vec<Box<dyn Target>>> {
    use client::Kind;
    let node = std::sync::Arc::new(node::Node::start(dir)?);
    Ok(vec![
        Box::new(imp::RabbitTarget::new(node.clone(), Kind::Classic)),
        Box::new(imp::RabbitTarget::new(node, Kind::Quorum)),
    ])
}

/// Starts a private RabbitMQ node in `dir`; returns its classic-queue and quorum-queue
/// targets.
#[cfg(not(feature = "rabbitmq"))]
pub fn start(dir: PathBuf) -> Result<Vec<Box<dyn Target>>> {
    let _ = dir;
    Err(crate::peers::not_built("rabbitmq"))
}

#[cfg(feature = "rabbitmq")]
mod imp {
    use super::client::{self, Kind, RabbitConsumer, RabbitProducer};
    use super::node::Node;
    use crate::target::{Consumer, Mode, Producer, Target};
    use crate::Result;
    use futures::executor::block_on;
    use lapin::options::{BasicGetOptions, QueueDeclareOptions, QueueDeleteOptions};
    use lapin::types::FieldTable;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    /// Messages per confirmed batch when filling the restart backlog.
    const FILL_BATCH: usize = 10_000;

    /// One queue (classic or quorum) on the shared node.
    pub struct RabbitTarget {
        node: Arc<Node>,
        kind: Kind,
        mode: Mutex<Mode>,
    }

    impl RabbitTarget {
        pub fn new(node: Arc<Node>, kind: Kind) -> RabbitTarget {
            RabbitTarget {
                node,
                kind,
                mode: Mutex::new(Mode::Durable),
            }
        }

        fn mode(&self) -> Result<Mode> {
            Ok(*self.mode.lock().map_err(|_| "poisoned")?)
        }

        /// Fills the queue with `count` persistent messages from parallel producers, each
        /// waiting for the confirms at the end of every batch.
        fn fill(&self, count: u64) -> Result<()> {
            let threads = 4u64;
            let batch = u64::try_from(FILL_BATCH)?;
            let uri = self.node.uri();
            let results: Vec<Result<()>> = std::thread::scope(|scope| {
                let workers: Vec<_> = (0..threads)
                    .map(|t| {
                        let uri = &uri;
                        scope.spawn(move || -> Result<()> {
                            let mut producer = RabbitProducer::new(uri, self.kind, Mode::Durable)?;
                            let mine = count / threads + u64::from(t < count % threads);
                            let mut sent = 0u64;
                            while sent < mine {
                                let n = batch.min(mine - sent);
                                let payloads: Vec<Vec<u8>> =
                                    (sent..sent + n).map(crate::payload).collect();
                                producer.send_batch(&payloads)?;
                                sent += n;
                            }
                            Ok(())
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .map(|w| w.join().unwrap_or_else(|_| Err("fill panicked".into())))
                    .collect()
            });
            for r in results {
                r?;
            }
            Ok(())
        }
    }

    impl Target for RabbitTarget {
        fn name(&self) -> String {
            format!("rabbitmq {} {}", self.node.version, self.kind.label())
        }

        fn durability(&self) -> String {
            let queue = match self.kind {
                Kind::Classic => "durable classic queue (3.10 default, v1 index + message store; confirms after its batched fsync)",
                Kind::Quorum => "durable quorum queue, 1 replica (confirms after the Raft WAL fsync)",
            };
            format!(
                "{queue}; persistent messages (delivery_mode 2), publisher confirms (each send waits for its confirm); manual acks, one basic.ack (multiple) per poll, NOT confirmed durable (AMQP has no ack reply; at-least-once)"
            )
        }

        fn buffered_mode(&self) -> Option<String> {
            Some(format!(
                "same persistent messages, confirms not awaited per send: up to {} outstanding, the oldest awaited beyond that, all awaited when the producer drops",
                client::BUFFERED_WINDOW
            ))
        }

        fn reset(&self, mode: Mode) -> Result<()> {
            let conn = client::connect(&self.node.uri())?;
            let result = (|| -> Result<()> {
                let channel = block_on(conn.create_channel())?;
                block_on(channel.queue_delete(self.kind.queue(), QueueDeleteOptions::default()))?;
                client::declare(&channel, self.kind)?;
                Ok(())
            })();
            client::close(&conn);
            result?;
            *self.mode.lock().map_err(|_| "poisoned")? = mode;
            Ok(())
        }

        fn producer(&self) -> Result<Box<dyn Producer>> {
            Ok(Box::new(RabbitProducer::new(
                &self.node.uri(),
                self.kind,
                self.mode()?,
            )?))
        }

        fn consumer(&self) -> Result<Box<dyn Consumer>> {
            Ok(Box::new(RabbitConsumer::new(&self.node.uri(), self.kind)?))
        }

        fn restart_unsupported(&self) -> Option<String> {
            None
        }

        fn restart_bytes_max(&self) -> Option<u64> {
            // Filling runs at 17-39k persistent messages/s here (1 GB: 112 s quorum, 232 s
            // classic, per run); 0.1 GB keeps three runs of both within minutes.
            Some(100_000_000)
        }

        fn restart_after_kill(
            &self,
            backlog_bytes: u64,
            _restarts: usize,
        ) -> Result<Vec<crate::target::Restarted>> {
            self.reset(Mode::Durable)?;
            let count = backlog_bytes
                .div_ceil(u64::try_from(crate::PAYLOAD_BYTES)?)
                .max(1);
            let filling = Instant::now();
            self.fill(count)?;
            let fill = filling.elapsed();
            eprintln!(
                "logq-bench: {}: filled {count} messages ({backlog_bytes} B) in {:.1} s ({:.0} msgs/s)",
                self.name(),
                fill.as_secs_f64(),
                crate::stats::rate(count, fill)
            );
            let queue = self.kind.queue();
            // Usable again: a passive declare finds the queue and a first message can be
            // fetched (then requeued as the channel closes).
            let mut seen = 0u64;
            let (connected, elapsed) =
                self.node
                    .kill_and_restart(Duration::from_secs(900), |conn| {
                        let mut probe = || -> Result<bool> {
                            let channel = block_on(conn.create_channel())?;
                            let q = block_on(channel.queue_declare(
                                queue.clone(),
                                QueueDeclareOptions {
                                    passive: true,
                                    ..QueueDeclareOptions::durable()
                                },
                                FieldTable::default(),
                            ))?;
                            let got = block_on(
                                channel.basic_get(queue.clone(), BasicGetOptions { no_ack: false }),
                            )?;
                            seen = u64::from(q.message_count());
                            Ok(got.is_some())
                        };
                        probe().unwrap_or(false)
                    })?;
            // The count may lag while a queue recovers: ask again now that it answered.
            let conn = client::connect(&self.node.uri())?;
            let recount = (|| -> Result<u64> {
                let channel = block_on(conn.create_channel())?;
                let q = client::declare(&channel, self.kind)?;
                Ok(u64::from(q.message_count()))
            })();
            client::close(&conn);
            let recovered = recount?.max(seen);
            eprintln!(
                "logq-bench: {}: after kill -9, AMQP connection accepted after {:.1} s, queue usable after {:.1} s, {recovered} messages",
                self.name(),
                connected.as_secs_f64(),
                elapsed.as_secs_f64()
            );
            if recovered < count {
                return Err(format!(
                    "rabbitmq {}: {recovered} of {count} confirmed messages after kill -9",
                    self.kind.label()
                )
                .into());
            }
            Ok(vec![elapsed.into()])
        }

        fn client(&self) -> String {
            crate::peers::PeerKind::RabbitMq.client().into()
        }
    }
}
