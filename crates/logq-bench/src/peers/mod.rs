//! The peers: servers started as private child processes on 127.0.0.1, and embedded crates
//! run in process. Each is configured for the strongest durability it offers. For the restart
//! scenario the servers are killed and restarted; the embedded crates run in a child process
//! of the harness binary (see [`crate::restart_child`]) that is killed and started again.

pub mod nats;
pub mod postgres;
pub mod process;
pub mod queue_file;
pub mod rabbitmq;
pub mod redis;
pub mod sqlite;
pub mod yaque;

use crate::config::BenchConfig;
use crate::target::Target;
use crate::Result;

/// A peer the harness knows how to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeerKind {
    /// Redis Streams (XADD, XREADGROUP, XACK), `appendfsync always`.
    Redis,
    /// PostgreSQL, a queue table consumed with `FOR UPDATE SKIP LOCKED`.
    Postgres,
    /// RabbitMQ, classic and quorum queues, publisher confirms, manual acks.
    RabbitMq,
    /// NATS JetStream, file storage.
    Nats,
    /// SQLite, WAL, `synchronous=FULL`.
    Sqlite,
    /// The `yaque` crate.
    Yaque,
    /// The `queue-file` crate.
    QueueFile,
}

impl PeerKind {
    /// Every peer, in report order.
    pub const ALL: [PeerKind; 7] = [
        PeerKind::Redis,
        PeerKind::Postgres,
        PeerKind::RabbitMq,
        PeerKind::Nats,
        PeerKind::Sqlite,
        PeerKind::Yaque,
        PeerKind::QueueFile,
    ];

    /// Parses a name of `--peers`.
    pub fn parse(name: &str) -> Option<PeerKind> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "redis" => PeerKind::Redis,
            "postgres" | "postgresql" | "pg" => PeerKind::Postgres,
            "rabbitmq" | "rabbit" => PeerKind::RabbitMq,
            "nats" | "jetstream" => PeerKind::Nats,
            "sqlite" => PeerKind::Sqlite,
            "yaque" => PeerKind::Yaque,
            "queue-file" | "queue_file" | "queuefile" => PeerKind::QueueFile,
            _ => return None,
        })
    }

    /// Its label in the tables when it could not start.
    pub fn label(self) -> &'static str {
        match self {
            PeerKind::Redis => "redis streams",
            PeerKind::Postgres => "postgresql",
            PeerKind::RabbitMq => "rabbitmq",
            PeerKind::Nats => "nats jetstream",
            PeerKind::Sqlite => "sqlite",
            PeerKind::Yaque => "yaque",
            PeerKind::QueueFile => "queue-file",
        }
    }

    /// The client crate used.
    pub fn client(self) -> &'static str {
        match self {
            PeerKind::Redis => "`redis` crate, sync API",
            PeerKind::Postgres => "`postgres` crate (sync)",
            PeerKind::RabbitMq => "`lapin` 4 (async, `async-global-executor` runtime, driven with `futures::executor::block_on`)",
            PeerKind::Nats => "minimal NATS protocol client over std TCP (in this crate)",
            PeerKind::Sqlite => "`rusqlite` (bundled SQLite)",
            PeerKind::Yaque => "`yaque` crate",
            PeerKind::QueueFile => "`queue-file` crate",
        }
    }
}

/// Runs `scripts/install-peers.sh` (Debian packages of the server peers, when missing).
pub fn install() -> Result<()> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/install-peers.sh");
    let status = std::process::Command::new("sh").arg(script).status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{script} exited with {status}").into())
    }
}

/// Where `kind` keeps its data during a run (removed after it).
pub fn data_dir(kind: PeerKind, config: &BenchConfig) -> std::path::PathBuf {
    config.work_dir.join(kind.label().replace(' ', "-"))
}

/// Starts `kind` (a server, or an embedded queue in a temporary directory) and returns its
/// targets (RabbitMQ has two: classic and quorum). Servers stop when the targets drop. The
/// embedded queues get `config.self_exe`, run as their child process in the restart scenario.
pub fn start(kind: PeerKind, config: &BenchConfig) -> Result<Vec<Box<dyn Target>>> {
    let dir = data_dir(kind, config);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    match kind {
        PeerKind::Redis => redis::start(dir),
        PeerKind::Postgres => postgres::start(dir),
        PeerKind::RabbitMq => rabbitmq::start(dir),
        PeerKind::Nats => nats::start(dir),
        PeerKind::Sqlite => sqlite::start(dir, config.self_exe.clone()),
        PeerKind::Yaque => yaque::start(dir, config.self_exe.clone()),
        PeerKind::QueueFile => queue_file::start(dir, config.self_exe.clone()),
    }
}

/// The error of a peer left out of this build by a cargo feature.
pub fn not_built(feature: &str) -> crate::BoxError {
    format!("built without the `{feature}` feature").into()
}
