//! The AMQP side: connections (one per producer or consumer), the producer (persistent
//! publishes on a confirm-mode channel) and the consumer (manual acks, `multiple` on the last
//! delivery of a group). lapin is async: every call is driven to completion with
//! `futures::executor::block_on` on the calling thread, while lapin's own I/O loop and the
//! `async-global-executor` runtime run the connection.

use crate::target::{Consumer, Mode, Producer};
use crate::Result;
use futures::executor::block_on;
use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};
use std::collections::VecDeque;
use std::sync::mpsc;
use std::time::Duration;

/// Unconfirmed publishes a buffered producer lets through before it waits for the oldest.
pub const BUFFERED_WINDOW: usize = 1_024;

/// Deliveries the server may push ahead of the consumer's acks (`basic.qos`).
pub const PREFETCH: u16 = 1_000;

/// The queue types compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A classic queue (3.10's default, version 1 index and message store).
    Classic,
    /// A quorum queue (Raft; a single replica on this one node).
    Quorum,
}

impl Kind {
    /// The row label suffix.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Classic => "classic",
            Kind::Quorum => "quorum",
        }
    }

    /// The queue's name on the node.
    pub fn queue(self) -> ShortString {
        match self {
            Kind::Classic => "logq-bench-classic".into(),
            Kind::Quorum => "logq-bench-quorum".into(),
        }
    }

    /// The `queue.declare` arguments.
    pub fn arguments(self) -> FieldTable {
        let mut args = FieldTable::default();
        let kind = match self {
            Kind::Classic => "classic",
            Kind::Quorum => "quorum",
        };
        args.insert("x-queue-type".into(), AMQPValue::LongString(kind.into()));
        args
    }
}

/// Declares `kind`'s queue: durable, not exclusive, not auto-deleted.
pub fn declare(channel: &Channel, kind: Kind) -> Result<lapin::Queue> {
    Ok(block_on(channel.queue_declare(
        kind.queue(),
        QueueDeclareOptions::durable(),
        kind.arguments(),
    ))?)
}

/// Runs `work` on its own thread and waits at most `timeout` for it. A run of the
/// comparison once hung for ten minutes inside the AMQP client (no connection was ever
/// opened); with this the harness reports an error and goes on (the stuck thread is left
/// behind).
fn within<T: Send + 'static>(
    what: &str,
    timeout: std::time::Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(format!("amqp {what}"))
        .spawn(move || {
            let _receiver_gone = done.send(work());
        })?;
    outcome
        .recv_timeout(timeout)
        .map_err(|_| format!("AMQP {what} did not finish within {} s", timeout.as_secs()).into())
}

/// Opens a connection to `uri` (at most 60 s).
pub fn connect(uri: &str) -> Result<Connection> {
    let uri = uri.to_owned();
    let connected = within("connect", std::time::Duration::from_secs(60), move || {
        block_on(Connection::connect(&uri, ConnectionProperties::default()))
    })?;
    Ok(connected?)
}

/// Closes `conn`, ignoring errors (the node may be gone) and giving up after 10 s.
pub fn close(conn: &Connection) {
    let (expire, expired) = futures::channel::oneshot::channel::<()>();
    let _timer = std::thread::Builder::new()
        .name("amqp close timer".into())
        .spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(10));
            let _closed_already = expire.send(());
        });
    let closing = conn.close(200, "bye".into());
    let _ = block_on(futures::future::select(Box::pin(closing), expired));
}

/// Persistent (`delivery_mode` 2).
fn persistent() -> BasicProperties {
    BasicProperties::default().with_delivery_mode(2)
}

fn check(confirmation: &Confirmation) -> Result<()> {
    match confirmation {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(_)) => Err("rabbitmq: message returned (unroutable)".into()),
        Confirmation::Nack(_) => Err("rabbitmq: publish nacked by the broker".into()),
        Confirmation::NotRequested => Err("rabbitmq: channel not in confirm mode".into()),
    }
}

/// Publishes persistent messages on its own connection, in confirm mode.
pub struct RabbitProducer {
    conn: Connection,
    channel: Channel,
    queue: ShortString,
    mode: Mode,
    /// Buffered mode: confirms not waited for yet, oldest first.
    pending: VecDeque<lapin::PublisherConfirm>,
}

impl RabbitProducer {
    /// A producer on a new connection to `uri`, publishing to `kind`'s queue.
    pub fn new(uri: &str, kind: Kind, mode: Mode) -> Result<RabbitProducer> {
        let conn = connect(uri)?;
        let channel = block_on(conn.create_channel())?;
        block_on(channel.confirm_select(ConfirmSelectOptions::default()))?;
        Ok(RabbitProducer {
            conn,
            channel,
            queue: kind.queue(),
            mode,
            pending: VecDeque::new(),
        })
    }

    fn publish(&self, payload: &[u8]) -> Result<lapin::PublisherConfirm> {
        Ok(block_on(self.channel.basic_publish(
            "".into(),
            self.queue.clone(),
            BasicPublishOptions::default(),
            payload,
            persistent(),
        ))?)
    }

    /// Waits for every confirm still pending.
    fn drain(&mut self) -> Result<()> {
        while let Some(confirm) = self.pending.pop_front() {
            check(&block_on(confirm)?)?;
        }
        Ok(())
    }
}

impl Producer for RabbitProducer {
    fn send(&mut self, payload: &[u8]) -> Result<()> {
        let confirm = self.publish(payload)?;
        match self.mode {
            Mode::Durable => check(&block_on(confirm)?),
            Mode::Buffered => {
                self.pending.push_back(confirm);
                while self.pending.len() > BUFFERED_WINDOW {
                    if let Some(oldest) = self.pending.pop_front() {
                        check(&block_on(oldest)?)?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Publishes all of `payloads` pipelined (not each waiting for its socket write), then
    /// waits for all their confirms.
    fn send_batch(&mut self, payloads: &[Vec<u8>]) -> Result<()> {
        let publishes = payloads.iter().map(|p| {
            self.channel.basic_publish(
                "".into(),
                self.queue.clone(),
                BasicPublishOptions::default(),
                p,
                persistent(),
            )
        });
        for confirm in block_on(futures::future::join_all(publishes)) {
            self.pending.push_back(confirm?);
        }
        self.drain()
    }
}

impl Drop for RabbitProducer {
    fn drop(&mut self) {
        if let Err(e) = self.drain() {
            eprintln!("logq-bench: rabbitmq producer: {e}");
        }
        close(&self.conn);
    }
}

/// Consumes with manual acks on its own connection.
pub struct RabbitConsumer {
    conn: Connection,
    channel: Channel,
    deliveries: mpsc::Receiver<lapin::Result<Delivery>>,
}

impl RabbitConsumer {
    /// A consumer of `kind`'s queue on a new connection to `uri`.
    pub fn new(uri: &str, kind: Kind) -> Result<RabbitConsumer> {
        let conn = connect(uri)?;
        let channel = block_on(conn.create_channel())?;
        block_on(channel.basic_qos(PREFETCH, BasicQosOptions::default()))?;
        let consumer = block_on(channel.basic_consume(
            kind.queue(),
            "logq-bench".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        ))?;
        // lapin spawns a delegate per delivery on a multi-threaded executor, which may
        // reorder them (and break `multiple` acks): forward the ordered stream from a thread
        // of its own instead. It ends when the connection closes.
        let (tx, rx) = mpsc::channel();
        let mut stream = consumer;
        std::thread::Builder::new()
            .name("rabbitmq-consumer".into())
            .spawn(move || {
                while let Some(delivery) = block_on(stream.next()) {
                    if tx.send(delivery).is_err() {
                        break;
                    }
                }
            })?;
        Ok(RabbitConsumer {
            conn,
            channel,
            deliveries: rx,
        })
    }
}

impl Consumer for RabbitConsumer {
    fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Vec<u8>>> {
        let first = match self.deliveries.recv_timeout(timeout) {
            Ok(d) => d?,
            Err(mpsc::RecvTimeoutError::Timeout) => return Ok(Vec::new()),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err("rabbitmq: consumer closed".into())
            }
        };
        let mut last = first.delivery_tag;
        let mut out = vec![first.data];
        while out.len() < max {
            match self.deliveries.try_recv() {
                Ok(d) => {
                    let d = d?;
                    last = d.delivery_tag;
                    out.push(d.data);
                }
                Err(_) => break,
            }
        }
        // One ack for the group. basic.ack has no reply in AMQP 0-9-1: this returns once
        // the frame is written, not when the broker has applied (or persisted) it.
        block_on(
            self.channel
                .basic_ack(last, BasicAckOptions { multiple: true }),
        )?;
        Ok(out)
    }
}

impl Drop for RabbitConsumer {
    fn drop(&mut self) {
        close(&self.conn);
    }
}
