//! PostgreSQL: a private cluster (initdb in a temporary directory) on 127.0.0.1 with
//! `fsync=on`, `synchronous_commit=on`; a queue table, one autocommit INSERT per send,
//! consumers `DELETE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING` (the ack).

use crate::target::Target;
use crate::Result;
use std::path::PathBuf;

/// Creates and starts a private PostgreSQL cluster in `dir`.
#[cfg(feature = "postgres")]
pub fn start(dir: PathBuf) -> Result<Vec<Box<dyn Target>>> {
    Ok(vec![Box::new(imp::PgTarget::start(dir)?)])
}

/// Creates and starts a private PostgreSQL cluster in `dir`.
#[cfg(not(feature = "postgres"))]
pub fn start(dir: PathBuf) -> Result<Vec<Box<dyn Target>>> {
    let _ = dir;
    Err(crate::peers::not_built("postgres"))
}

#[cfg(feature = "postgres")]
mod imp {
    use crate::peers::process::{self, Server};
    use crate::target::{Consumer, Mode, Producer, Target};
    use crate::Result;
    use postgres::{Client, NoTls};
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    /// A private PostgreSQL cluster.
    pub struct PgTarget {
        dir: PathBuf,
        bin: PathBuf,
        port: u16,
        version: String,
        mode: Mutex<Mode>,
        server: Mutex<Server>,
    }

    fn is_root() -> bool {
        process::run(Command::new("id").arg("-u")).is_ok_and(|s| s.trim() == "0")
    }

    /// A command run as the `postgres` user when we are root (PostgreSQL refuses root).
    fn as_postgres(program: &Path) -> Command {
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    fn spawn(bin: &Path, dir: &Path, port: u16) -> Result<Server> {
        let mut cmd = as_postgres(&bin.join("postgres"));
        cmd.arg("-D").arg(dir.join("data")).args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            &format!("port={port}"),
            "-c",
            "unix_socket_directories=",
            "-c",
            "fsync=on",
            "-c",
            "synchronous_commit=on",
            "-c",
            "full_page_writes=on",
            "-c",
            "shared_buffers=256MB",
            "-c",
            "max_connections=100",
        ]);
        Server::spawn("postgres", cmd, &dir.join("postgres.log"))
    }

    impl PgTarget {
        pub fn start(dir: PathBuf) -> Result<PgTarget> {
            let postgres = process::find_binary("postgres")
                .ok_or("postgres not installed (scripts/install-peers.sh)")?;
            let postgres = std::fs::canonicalize(postgres)?;
            let bin = postgres.parent().ok_or("no bin dir")?.to_path_buf();
            let version = process::run(Command::new(&postgres).arg("--version"))?
                .trim()
                .to_owned();
            if is_root() {
                process::run(
                    Command::new("chown")
                        .args(["-R", "postgres:postgres"])
                        .arg(&dir),
                )?;
            }
            process::run(
                as_postgres(&bin.join("initdb"))
                    .arg("-D")
                    .arg(dir.join("data"))
                    .args(["--auth=trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]),
            )?;
            let port = process::free_port()?;
            let server = spawn(&bin, &dir, port)?;
            let target = PgTarget {
                dir,
                bin,
                port,
                version,
                mode: Mutex::new(Mode::Durable),
                server: Mutex::new(server),
            };
            {
                let mut server = target.server.lock().map_err(|_| "poisoned")?;
                target.wait_ready(&mut server, Duration::from_secs(60), "SELECT 1")?;
            }
            Ok(target)
        }

        fn connect(&self) -> Result<Client> {
            let mut c = Client::connect(
                &format!(
                    "host=127.0.0.1 port={} user=postgres dbname=postgres",
                    self.port
                ),
                NoTls,
            )?;
            let mode = *self.mode.lock().map_err(|_| "poisoned")?;
            let sync = match mode {
                Mode::Durable => "on",
                Mode::Buffered => "off",
            };
            c.batch_execute(&format!("SET synchronous_commit = {sync}"))?;
            Ok(c)
        }

        fn wait_ready(
            &self,
            server: &mut Server,
            timeout: Duration,
            query: &str,
        ) -> Result<Duration> {
            let mut exited = false;
            let waited = process::wait_until(timeout, || {
                if server.exited() {
                    exited = true;
                    return true;
                }
                self.connect()
                    .and_then(|mut c| Ok(c.simple_query(query)?))
                    .is_ok()
            })?;
            if exited {
                return Err(format!(
                    "postgres exited; see {}",
                    self.dir.join("postgres.log").display()
                )
                .into());
            }
            Ok(waited)
        }
    }

    /// Removes `postmaster.pid` when the postmaster it names is dead. PID 1 of this machine
    /// does not reap orphans, so the killed postmaster lingers as a zombie, which PostgreSQL
    /// (`kill(pid, 0)` succeeds) takes for a running server; a real init would have reaped it.
    fn remove_stale_lock(data: &Path) -> Result<()> {
        let lock = data.join("postmaster.pid");
        let Ok(text) = std::fs::read_to_string(&lock) else {
            return Ok(());
        };
        let pid = text.lines().next().unwrap_or("").trim();
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
        let dead = state.as_deref().is_none_or(|stat| {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|st| st == "Z" || st == "X")
        });
        if dead {
            std::fs::remove_file(&lock)?;
        }
        Ok(())
    }

    impl Target for PgTarget {
        fn name(&self) -> String {
            let v = self
                .version
                .split_whitespace()
                .nth(2)
                .unwrap_or("?")
                .to_owned();
            format!("postgresql {v}")
        }

        fn durability(&self) -> String {
            format!(
                "{}: `fsync=on`, `synchronous_commit=on`, `full_page_writes=on`; autocommit INSERT per send; ack = `DELETE … FOR UPDATE SKIP LOCKED … RETURNING` committed",
                self.version
            )
        }

        fn buffered_mode(&self) -> Option<String> {
            Some("`synchronous_commit=off`".into())
        }

        fn reset(&self, mode: Mode) -> Result<()> {
            *self.mode.lock().map_err(|_| "poisoned")? = mode;
            let mut c = self.connect()?;
            c.batch_execute(
                "DROP TABLE IF EXISTS queue; \
                 CREATE TABLE queue (id bigserial PRIMARY KEY, payload bytea NOT NULL);",
            )?;
            Ok(())
        }

        fn producer(&self) -> Result<Box<dyn Producer>> {
            Ok(Box::new(PgProducer(self.connect()?)))
        }

        fn consumer(&self) -> Result<Box<dyn Consumer>> {
            Ok(Box::new(PgConsumer(self.connect()?)))
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
            let mut c = self.connect()?;
            let rows = backlog_bytes / u64::try_from(crate::PAYLOAD_BYTES)?;
            let chunk: u64 = 100_000;
            let payload = crate::payload(0);
            let mut done = 0u64;
            while done < rows.max(1) {
                let n = i64::try_from(chunk.min(rows.max(1) - done))?;
                c.execute(
                    "INSERT INTO queue (payload) SELECT $1::bytea FROM generate_series(1, $2::bigint)",
                    &[&payload, &n],
                )?;
                done += u64::try_from(n)?;
            }
            drop(c);
            let mut server = self.server.lock().map_err(|_| "poisoned")?;
            server.kill_hard()?;
            remove_stale_lock(&self.dir.join("data"))?;
            let start = Instant::now();
            *server = spawn(&self.bin, &self.dir, self.port)?;
            self.wait_ready(
                &mut server,
                Duration::from_secs(600),
                "SELECT payload FROM queue ORDER BY id LIMIT 1",
            )?;
            Ok(vec![start.elapsed().into()])
        }

        fn client(&self) -> String {
            crate::peers::PeerKind::Postgres.client().into()
        }
    }

    struct PgProducer(Client);

    impl Producer for PgProducer {
        fn send(&mut self, payload: &[u8]) -> Result<()> {
            self.0
                .execute("INSERT INTO queue (payload) VALUES ($1)", &[&payload])?;
            Ok(())
        }

        fn send_batch(&mut self, payloads: &[Vec<u8>]) -> Result<()> {
            let mut tx = self.0.transaction()?;
            let stmt = tx.prepare("INSERT INTO queue (payload) SELECT unnest($1::bytea[])")?;
            tx.execute(&stmt, &[&payloads])?;
            tx.commit()?;
            Ok(())
        }
    }

    struct PgConsumer(Client);

    impl Consumer for PgConsumer {
        fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Vec<u8>>> {
            let deadline = Instant::now() + timeout;
            let limit = i64::try_from(max)?;
            let stmt = self.0.prepare(
                "DELETE FROM queue WHERE id IN \
                 (SELECT id FROM queue ORDER BY id FOR UPDATE SKIP LOCKED LIMIT $1) \
                 RETURNING id, payload",
            )?;
            loop {
                let rows = self.0.query(&stmt, &[&limit])?;
                if !rows.is_empty() || Instant::now() >= deadline {
                    let mut got: Vec<(i64, Vec<u8>)> =
                        rows.iter().map(|r| (r.get(0), r.get(1))).collect();
                    got.sort_by_key(|r| r.0);
                    return Ok(got.into_iter().map(|r| r.1).collect());
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }
}
