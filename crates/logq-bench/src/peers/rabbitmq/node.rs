//! A private RabbitMQ node: its own epmd on a free port, `rabbitmq-server` on free AMQP and
//! distribution ports, node name, data, logs, config, plugins file and Erlang cookie (HOME)
//! all under the harness's directory.

use crate::peers::process::{self, Server};
use crate::Result;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The node, stopped (and checked gone) on drop.
pub struct Node {
    dir: PathBuf,
    binary: PathBuf,
    epmd_port: u16,
    dist_port: u16,
    /// The AMQP port on 127.0.0.1.
    pub port: u16,
    /// The server's version, from its `connection.start` (e.g. `3.10.8`).
    pub version: String,
    server: Mutex<Option<Server>>,
    // Declared last: dropped after the node it serves.
    _epmd: Server,
}

impl Node {
    /// Starts epmd and the node in `dir`, waits until AMQP connections succeed.
    pub fn start(dir: PathBuf) -> Result<Node> {
        // /usr/sbin/rabbitmq-server (Debian) re-runs itself as the `rabbitmq` user under
        // /var/lib/rabbitmq: use the real script, which runs as the caller.
        let binary = ["/usr/lib/rabbitmq/bin/rabbitmq-server"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .or_else(|| process::find_binary("rabbitmq-server"))
            .ok_or("rabbitmq-server not installed (scripts/install-peers.sh)")?;
        let epmd_bin = process::find_binary("epmd")
            .ok_or("epmd (Erlang) not installed (scripts/install-peers.sh)")?;
        let epmd_port = process::free_port()?;
        let mut epmd_cmd = Command::new(epmd_bin);
        epmd_cmd.arg("-port").arg(epmd_port.to_string());
        let epmd = Server::spawn("epmd", epmd_cmd, &dir.join("epmd.log"))?;
        let port = process::free_port()?;
        let dist_port = process::free_port()?;
        std::fs::write(dir.join("enabled_plugins"), "[].\n")?;
        std::fs::write(
            dir.join("rabbitmq.conf"),
            "loopback_users.guest = true\n\
             log.file.level = info\n\
             log.console = false\n",
        )?;
        let mut node = Node {
            dir,
            binary,
            epmd_port,
            dist_port,
            port,
            version: String::new(),
            server: Mutex::new(None),
            _epmd: epmd,
        };
        let server = node.spawn()?;
        *node.server.lock().map_err(|_| "poisoned")? = Some(server);
        node.wait_ready(Instant::now(), Duration::from_secs(90), |_| true)?;
        node.version = server_version(port).unwrap_or_else(|_| "?".into());
        Ok(node)
    }

    fn node_name(&self) -> String {
        format!("logqbench{}@localhost", self.port)
    }

    fn spawn(&self) -> Result<Server> {
        let dir = &self.dir;
        let mut cmd = Command::new(&self.binary);
        cmd.current_dir(dir)
            .env("HOME", dir)
            .env("RABBITMQ_NODENAME", self.node_name())
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("ERL_EPMD_PORT", self.epmd_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", dir.join("log"))
            .env("RABBITMQ_CONFIG_FILE", dir.join("rabbitmq.conf"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("enabled_plugins"))
            .env("RABBITMQ_PLUGINS_EXPAND_DIR", dir.join("plugins-expand"))
            // Keep /etc/rabbitmq/rabbitmq-env.conf and advanced.config out of the way.
            .env("RABBITMQ_CONF_ENV_FILE", dir.join("rabbitmq-env.conf"))
            .env("RABBITMQ_ADVANCED_CONFIG_FILE", dir.join("advanced.config"));
        Server::spawn("rabbitmq-server", cmd, &dir.join("rabbitmq-server.log"))
    }

    /// The AMQP URI of the node (guest may log in from localhost only: we use 127.0.0.1).
    pub fn uri(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// Polls until the server accepts an AMQP connection and `check` passes on it; fails
    /// early if the server process exits. Returns the times, from `start`, of the first AMQP
    /// connection and of the first passed check.
    fn wait_ready(
        &self,
        start: Instant,
        timeout: Duration,
        mut check: impl FnMut(&lapin::Connection) -> bool,
    ) -> Result<(Duration, Duration)> {
        let mut exited = false;
        let mut connected = None;
        process::wait_until(timeout, || {
            if let Ok(mut server) = self.server.lock() {
                if server.as_mut().is_none_or(Server::exited) {
                    exited = true;
                    return true;
                }
            }
            // Connection refused until the node has booted: avoid spinning on connect.
            if TcpStream::connect(("127.0.0.1", self.port)).is_err() {
                std::thread::sleep(Duration::from_millis(20));
                return false;
            }
            match super::client::connect(&self.uri()) {
                Ok(conn) => {
                    connected.get_or_insert_with(|| start.elapsed());
                    let ok = check(&conn);
                    super::client::close(&conn);
                    if !ok {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    ok
                }
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(20));
                    false
                }
            }
        })?;
        if exited {
            return Err(format!(
                "rabbitmq-server exited; see {} and {}",
                self.dir.join("rabbitmq-server.log").display(),
                self.dir.join("log").display()
            )
            .into());
        }
        let ready = start.elapsed();
        Ok((connected.unwrap_or(ready), ready))
    }

    /// `kill -9` to the node (the script, beam.smp and its children), then starts it again on
    /// the same data; returns the times until it accepted an AMQP connection and until
    /// `check` passed on one.
    pub fn kill_and_restart(
        &self,
        timeout: Duration,
        check: impl FnMut(&lapin::Connection) -> bool,
    ) -> Result<(Duration, Duration)> {
        {
            let mut server = self.server.lock().map_err(|_| "poisoned")?;
            if let Some(mut old) = server.take() {
                old.kill_hard()?;
            }
            self.wait_beam_gone(Duration::from_secs(30))?;
        }
        let start = Instant::now();
        let fresh = self.spawn()?;
        *self.server.lock().map_err(|_| "poisoned")? = Some(fresh);
        self.wait_ready(start, timeout, check)
    }

    /// The pids of this node's beam.smp processes (found by its `-home` argument, the dir).
    fn beam_pids(&self) -> Vec<u32> {
        let home = self.dir.as_os_str().as_encoded_bytes();
        let mut pids = Vec::new();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return pids;
        };
        for entry in entries.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
            let is_beam = args
                .first()
                .is_some_and(|a| a.ends_with(b"beam.smp") || a.ends_with(b"beam"));
            let ours = args.windows(2).any(|w| w[0] == b"-home" && w[1] == home);
            if is_beam && ours {
                pids.push(pid);
            }
        }
        pids
    }

    /// Waits until no beam.smp of this node is left (killing stragglers at the end).
    fn wait_beam_gone(&self, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            let pids = self.beam_pids();
            if pids.is_empty() {
                return Ok(());
            }
            if start.elapsed() > timeout {
                let _ = Command::new("kill")
                    .arg("-KILL")
                    .args(pids.iter().map(u32::to_string))
                    .status();
                std::thread::sleep(Duration::from_millis(200));
                return if self.beam_pids().is_empty() {
                    Ok(())
                } else {
                    Err(format!("rabbitmq: beam.smp {pids:?} still alive").into())
                };
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(mut server) = self.server.lock() {
            if let Some(mut s) = server.take() {
                s.stop();
            }
        }
        if let Err(e) = self.wait_beam_gone(Duration::from_secs(20)) {
            eprintln!("logq-bench: {e}");
        }
        // epmd stops as `_epmd` drops.
    }
}

/// Reads the server's `version` property from its `connection.start` (raw AMQP handshake;
/// the client crate does not expose the server properties).
fn server_version(port: u16) -> Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"AMQP\x00\x00\x09\x01")?;
    let mut header = [0u8; 7];
    stream.read_exact(&mut header)?;
    let size = u32::from_be_bytes(<[u8; 4]>::try_from(&header[3..7])?);
    let mut frame = vec![0u8; usize::try_from(size)?];
    stream.read_exact(&mut frame)?;
    // server-properties entry: short string "version", type 'S', u32 length, bytes.
    let key = b"\x07versionS";
    let at = frame
        .windows(key.len())
        .position(|w| w == key)
        .ok_or("no version in connection.start")?
        + key.len();
    let len_bytes = frame.get(at..at + 4).ok_or("short connection.start")?;
    let len = u32::from_be_bytes(<[u8; 4]>::try_from(len_bytes)?);
    let value = frame
        .get(at + 4..at + 4 + usize::try_from(len)?)
        .ok_or("short connection.start")?;
    Ok(String::from_utf8_lossy(value).into_owned())
}
