//! Redis Streams with `appendonly yes` and `appendfsync always`: XADD to send, XREADGROUP
//! and XACK to consume (each of them is a write fsynced to the AOF before Redis replies).

use crate::target::Target;
use crate::Result;
use std::path::PathBuf;

/// Starts a private redis-server on 127.0.0.1 with its data in `dir`.
#[cfg(feature = "redis")]
pub fn start(dir: PathBuf) -> Result<Vec<Box<dyn Target>>> {
    Ok(vec![Box::new(imp::RedisTarget::start(dir)?)])
}

/// Starts a private redis-server on 127.0.0.1 with its data in `dir`.
#[cfg(not(feature = "redis"))]
pub fn start(dir: PathBuf) -> Result<Vec<Box<dyn Target>>> {
    let _ = dir;
    Err(crate::peers::not_built("redis"))
}

#[cfg(feature = "redis")]
mod imp {
    use crate::peers::process::{self, Server};
    use crate::target::{Consumer, Mode, Producer, Target};
    use crate::Result;
    use redis::streams::{StreamReadOptions, StreamReadReply};
    use redis::{Commands, Connection, Value};
    use std::path::PathBuf;
    use std::process::Command;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    const STREAM: &str = "q";
    const GROUP: &str = "g";

    /// A private redis-server.
    pub struct RedisTarget {
        dir: PathBuf,
        binary: PathBuf,
        port: u16,
        version: String,
        server: Mutex<Server>,
    }

    impl RedisTarget {
        pub fn start(dir: PathBuf) -> Result<RedisTarget> {
            let binary = process::find_binary("redis-server")
                .ok_or("redis-server not installed (scripts/install-peers.sh)")?;
            let version = process::run(Command::new(&binary).arg("--version"))?
                .split_whitespace()
                .find_map(|w| w.strip_prefix("v=").map(str::to_owned))
                .unwrap_or_else(|| "?".into());
            let port = process::free_port()?;
            let server = spawn(&binary, &dir, port)?;
            let target = RedisTarget {
                dir,
                binary,
                port,
                version,
                server: Mutex::new(server),
            };
            {
                let mut server = target.server.lock().map_err(|_| "poisoned")?;
                target.wait_ready(&mut server, Duration::from_secs(30))?;
            }
            Ok(target)
        }

        fn url(&self) -> String {
            format!("redis://127.0.0.1:{}/", self.port)
        }

        fn connect(&self) -> Result<Connection> {
            Ok(redis::Client::open(self.url())?.get_connection()?)
        }

        /// Waits until the server answers a read of the stream (not LOADING).
        fn wait_ready(&self, server: &mut Server, timeout: Duration) -> Result<Duration> {
            let mut exited = false;
            let waited = process::wait_until(timeout, || {
                if server.exited() {
                    exited = true;
                    return true;
                }
                self.connect()
                    .and_then(|mut c| Ok(redis::cmd("XLEN").arg(STREAM).query::<u64>(&mut c)?))
                    .is_ok()
            })?;
            if exited {
                return Err(format!(
                    "redis-server exited; see {}",
                    self.dir.join("redis.log").display()
                )
                .into());
            }
            Ok(waited)
        }
    }

    fn spawn(binary: &PathBuf, dir: &std::path::Path, port: u16) -> Result<Server> {
        let mut cmd = Command::new(binary);
        cmd.args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .arg("--dir")
            .arg(dir)
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--daemonize",
                "no",
                "--protected-mode",
                "yes",
            ]);
        Server::spawn("redis-server", cmd, &dir.join("redis.log"))
    }

    impl Target for RedisTarget {
        fn name(&self) -> String {
            format!("redis {} streams", self.version)
        }

        fn durability(&self) -> String {
            "`appendonly yes`, `appendfsync always` (AOF fsynced before replies), no RDB snapshots; XADD / XREADGROUP + XACK".into()
        }

        fn buffered_mode(&self) -> Option<String> {
            Some("`appendfsync no` (AOF written, fsync left to the OS)".into())
        }

        fn reset(&self, mode: Mode) -> Result<()> {
            let mut c = self.connect()?;
            let fsync = match mode {
                Mode::Durable => "always",
                Mode::Buffered => "no",
            };
            redis::cmd("CONFIG")
                .arg("SET")
                .arg("appendfsync")
                .arg(fsync)
                .query::<()>(&mut c)?;
            let _: u64 = c.del(STREAM)?;
            redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(STREAM)
                .arg(GROUP)
                .arg("$")
                .arg("MKSTREAM")
                .query::<()>(&mut c)?;
            Ok(())
        }

        fn producer(&self) -> Result<Box<dyn Producer>> {
            Ok(Box::new(RedisProducer(self.connect()?)))
        }

        fn consumer(&self) -> Result<Box<dyn Consumer>> {
            Ok(Box::new(RedisConsumer(self.connect()?)))
        }

        fn restart_unsupported(&self) -> Option<String> {
            None
        }

        fn restart_after_kill(
            &self,
            backlog_bytes: u64,
            _restarts: usize,
        ) -> Result<Vec<crate::target::Restarted>> {
            self.reset(Mode::Durable)?;
            let mut producer = RedisProducer(self.connect()?);
            let batch: Vec<Vec<u8>> = (0..1_000).map(crate::payload).collect();
            let per_batch = 1_000 * u64::try_from(crate::PAYLOAD_BYTES)?;
            for _ in 0..backlog_bytes.div_ceil(per_batch).max(1) {
                producer.send_batch(&batch)?;
            }
            drop(producer);
            let mut server = self.server.lock().map_err(|_| "poisoned")?;
            server.kill_hard()?;
            let start = Instant::now();
            *server = spawn(&self.binary, &self.dir, self.port)?;
            self.wait_ready(&mut server, Duration::from_secs(600))?;
            let elapsed = start.elapsed();
            let mut c = self.connect()?;
            let first: StreamReadReply =
                c.xread_options(&[STREAM], &["0"], &StreamReadOptions::default().count(1))?;
            if first.keys.is_empty() {
                return Err("redis lost the backlog after kill -9".into());
            }
            Ok(vec![elapsed.into()])
        }

        fn client(&self) -> String {
            crate::peers::PeerKind::Redis.client().into()
        }
    }

    struct RedisProducer(Connection);

    impl Producer for RedisProducer {
        fn send(&mut self, payload: &[u8]) -> Result<()> {
            redis::cmd("XADD")
                .arg(STREAM)
                .arg("*")
                .arg("p")
                .arg(payload)
                .query::<Value>(&mut self.0)?;
            Ok(())
        }

        fn send_batch(&mut self, payloads: &[Vec<u8>]) -> Result<()> {
            let mut pipe = redis::pipe();
            for p in payloads {
                pipe.cmd("XADD")
                    .arg(STREAM)
                    .arg("*")
                    .arg("p")
                    .arg(p.as_slice());
            }
            pipe.query::<Value>(&mut self.0)?;
            Ok(())
        }
    }

    struct RedisConsumer(Connection);

    impl Consumer for RedisConsumer {
        fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Vec<u8>>> {
            let block = usize::try_from(timeout.as_millis())?.max(1);
            let reply: StreamReadReply = self.0.xread_options(
                &[STREAM],
                &[">"],
                &StreamReadOptions::default()
                    .group(GROUP, "c")
                    .count(max)
                    .block(block),
            )?;
            let mut ids = Vec::new();
            let mut out = Vec::new();
            for key in reply.keys {
                for entry in key.ids {
                    if let Some(Value::BulkString(p)) = entry.map.get("p") {
                        out.push(p.clone());
                    }
                    ids.push(entry.id);
                }
            }
            if !ids.is_empty() {
                let _: u64 = self.0.xack(STREAM, GROUP, &ids)?;
            }
            Ok(out)
        }
    }
}
