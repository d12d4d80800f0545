//! NATS JetStream with file storage, through a minimal client of the NATS text protocol
//! (std TCP only; the `nats` crate no longer builds on this toolchain: its `nuid` dependency
//! fails against rand 0.10). Publishes wait for the JetStream ack; a pull consumer with
//! `ack_policy: all` acks each group with one synchronous `+ACK`.
//!
//! Durability: nats-server 2.9.10 (Debian 12) has no `sync_interval` setting (the server
//! rejects it as an unknown field): JetStream acks a publish once written to the OS and
//! fsyncs every 2 minutes. Its figures are therefore NOT durable per message.

use crate::peers::process::{self, Server};
use crate::target::{Consumer, Mode, Producer, Target};
use crate::Result;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const STREAM: &str = "Q";
const SUBJECT: &str = "q";
const DURABLE: &str = "C";

/// Starts a private nats-server with JetStream (file storage in `dir`) on 127.0.0.1.
pub fn start(dir: PathBuf) -> Result<Vec<Box<dyn Target>>> {
    Ok(vec![Box::new(NatsTarget::start(dir)?)])
}

/// A private nats-server.
pub struct NatsTarget {
    dir: PathBuf,
    binary: PathBuf,
    port: u16,
    version: String,
    server: Mutex<Server>,
}

fn spawn(binary: &Path, dir: &Path, port: u16) -> Result<Server> {
    let conf = dir.join("nats.conf");
    std::fs::write(
        &conf,
        format!(
            "listen: 127.0.0.1:{port}\njetstream {{\n  store_dir: \"{}\"\n}}\n",
            dir.join("js").display()
        ),
    )?;
    let mut cmd = Command::new(binary);
    cmd.arg("-c").arg(&conf);
    Server::spawn("nats-server", cmd, &dir.join("nats.log"))
}

impl NatsTarget {
    fn start(dir: PathBuf) -> Result<NatsTarget> {
        let binary = process::find_binary("nats-server")
            .ok_or("nats-server not installed (scripts/install-peers.sh)")?;
        let version = process::run(Command::new(&binary).arg("--version"))?
            .trim()
            .trim_start_matches("nats-server: ")
            .to_owned();
        let port = process::free_port()?;
        let mut server = spawn(&binary, &dir, port)?;
        wait_ready(&mut server, port, Duration::from_secs(30), false)?;
        Ok(NatsTarget {
            dir,
            binary,
            port,
            version,
            server: Mutex::new(server),
        })
    }
}

/// Waits until the server accepts a connection (and, with `stream`, reports the stream).
fn wait_ready(server: &mut Server, port: u16, timeout: Duration, stream: bool) -> Result<Duration> {
    let mut exited = false;
    let waited = process::wait_until(timeout, || {
        if server.exited() {
            exited = true;
            return true;
        }
        let Ok(mut c) = Conn::connect(port) else {
            return false;
        };
        !stream
            || c.request(&format!("$JS.API.STREAM.INFO.{STREAM}"), b"")
                .is_ok_and(|r| !r.windows(7).any(|w| w == b"\"error\""))
    })?;
    if exited {
        return Err("nats-server exited during startup".into());
    }
    Ok(waited)
}

/// One connection speaking the NATS text protocol, subscribed to its own inbox.
struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    inbox: String,
    next_reply: u64,
}

/// A message received on the inbox: its reply subject, headers (status) and payload.
struct Msg {
    reply: Option<String>,
    status: Option<String>,
    payload: Vec<u8>,
}

impl Conn {
    fn connect(port: u16) -> Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let writer = stream.try_clone()?;
        let mut conn = Conn {
            reader: BufReader::new(stream),
            writer,
            inbox: format!("_INBOX.{}.{}", std::process::id(), process::free_port()?),
            next_reply: 0,
        };
        let mut info = String::new();
        conn.reader.read_line(&mut info)?;
        if !info.starts_with("INFO") {
            return Err(format!("nats: unexpected greeting {info:?}").into());
        }
        let connect = format!(
            "CONNECT {{\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true}}\r\nSUB {}.* 1\r\nPING\r\n",
            conn.inbox
        );
        conn.writer.write_all(connect.as_bytes())?;
        loop {
            let mut line = String::new();
            conn.reader.read_line(&mut line)?;
            if line.starts_with("PONG") {
                return Ok(conn);
            }
            if line.starts_with("-ERR") || line.is_empty() {
                return Err(format!("nats: {}", line.trim()).into());
            }
        }
    }

    fn reply_subject(&mut self) -> String {
        self.next_reply += 1;
        format!("{}.{}", self.inbox, self.next_reply)
    }

    fn publish(&mut self, subject: &str, reply: &str, payload: &[u8]) -> Result<()> {
        let mut frame = format!("PUB {subject} {reply} {}\r\n", payload.len()).into_bytes();
        frame.extend_from_slice(payload);
        frame.extend_from_slice(b"\r\n");
        self.writer.write_all(&frame)?;
        Ok(())
    }

    /// Reads the next message, answering PINGs; `None` on read timeout.
    fn next_msg(&mut self) -> Result<Option<Msg>> {
        loop {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) => return Err("nats: connection closed".into()),
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(e.into()),
            }
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.first().copied() {
                Some("PING") => self.writer.write_all(b"PONG\r\n")?,
                Some("MSG") => {
                    let (reply, len) = match parts.as_slice() {
                        [_, _, _, reply, len] => (Some((*reply).to_owned()), len),
                        [_, _, _, len] => (None, len),
                        _ => return Err(format!("nats: bad MSG line {line:?}").into()),
                    };
                    let payload = self.read_body(len.parse()?)?;
                    return Ok(Some(Msg {
                        reply,
                        status: None,
                        payload,
                    }));
                }
                Some("HMSG") => {
                    let (reply, hlen, len) = match parts.as_slice() {
                        [_, _, _, reply, h, t] => (Some((*reply).to_owned()), h, t),
                        [_, _, _, h, t] => (None, h, t),
                        _ => return Err(format!("nats: bad HMSG line {line:?}").into()),
                    };
                    let hlen: usize = hlen.parse()?;
                    let body = self.read_body(len.parse()?)?;
                    let headers = String::from_utf8_lossy(body.get(..hlen).unwrap_or(&[]));
                    let status = headers
                        .lines()
                        .next()
                        .and_then(|l| l.split_whitespace().nth(1))
                        .map(str::to_owned);
                    return Ok(Some(Msg {
                        reply,
                        status,
                        payload: body.get(hlen..).unwrap_or(&[]).to_vec(),
                    }));
                }
                Some("-ERR") => return Err(format!("nats: {}", line.trim()).into()),
                _ => {}
            }
        }
    }

    fn read_body(&mut self, len: usize) -> Result<Vec<u8>> {
        let mut body = vec![0u8; len + 2];
        self.reader.read_exact(&mut body)?;
        body.truncate(len);
        Ok(body)
    }

    /// Publishes and waits for one reply (JetStream API or publish ack).
    fn request(&mut self, subject: &str, payload: &[u8]) -> Result<Vec<u8>> {
        let reply = self.reply_subject();
        self.publish(subject, &reply, payload)?;
        match self.next_msg()? {
            Some(m) if m.status.as_deref() == Some("503") => {
                Err(format!("nats: no responders for {subject}").into())
            }
            Some(m) => Ok(m.payload),
            None => Err("nats: request timed out".into()),
        }
    }
}

fn check_api(reply: &[u8]) -> Result<()> {
    if reply.windows(7).any(|w| w == b"\"error\"") {
        return Err(format!("nats: {}", String::from_utf8_lossy(reply)).into());
    }
    Ok(())
}

impl Target for NatsTarget {
    fn name(&self) -> String {
        format!("nats {} jetstream (not fsynced)", self.version)
    }

    fn durability(&self) -> String {
        format!(
            "nats-server {}: JetStream file storage, publish acks awaited, explicit acks (`ack_policy: all`, `+ACK` awaited). NOT durable per message: this version has no `sync_interval` (rejected as unknown field; added in later releases with `sync_interval: always`), so it fsyncs every 2 minutes",
            self.version
        )
    }

    fn buffered_mode(&self) -> Option<String> {
        None
    }

    fn reset(&self, _mode: Mode) -> Result<()> {
        let mut c = Conn::connect(self.port)?;
        let _ = c.request(&format!("$JS.API.STREAM.DELETE.{STREAM}"), b"")?;
        let config = format!(
            "{{\"name\":\"{STREAM}\",\"subjects\":[\"{SUBJECT}\"],\"storage\":\"file\",\"num_replicas\":1}}"
        );
        check_api(&c.request(
            &format!("$JS.API.STREAM.CREATE.{STREAM}"),
            config.as_bytes(),
        )?)?;
        let consumer = format!(
            "{{\"stream_name\":\"{STREAM}\",\"config\":{{\"durable_name\":\"{DURABLE}\",\"ack_policy\":\"all\",\"deliver_policy\":\"all\",\"max_ack_pending\":100000,\"ack_wait\":30000000000}}}}"
        );
        check_api(&c.request(
            &format!("$JS.API.CONSUMER.DURABLE.CREATE.{STREAM}.{DURABLE}"),
            consumer.as_bytes(),
        )?)?;
        Ok(())
    }

    fn producer(&self) -> Result<Box<dyn Producer>> {
        Ok(Box::new(NatsProducer(Conn::connect(self.port)?)))
    }

    fn consumer(&self) -> Result<Box<dyn Consumer>> {
        Ok(Box::new(NatsConsumer {
            conn: Conn::connect(self.port)?,
            pending: std::collections::VecDeque::new(),
        }))
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
        let mut producer = NatsProducer(Conn::connect(self.port)?);
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
        wait_ready(&mut server, self.port, Duration::from_secs(600), true)?;
        Ok(vec![start.elapsed().into()])
    }

    fn client(&self) -> String {
        crate::peers::PeerKind::Nats.client().into()
    }
}

struct NatsProducer(Conn);

impl Producer for NatsProducer {
    fn send(&mut self, payload: &[u8]) -> Result<()> {
        check_api(&self.0.request(SUBJECT, payload)?)
    }

    fn send_batch(&mut self, payloads: &[Vec<u8>]) -> Result<()> {
        for p in payloads {
            let reply = self.0.reply_subject();
            self.0.publish(SUBJECT, &reply, p)?;
        }
        for _ in payloads {
            let m = self.0.next_msg()?.ok_or("nats: publish ack timed out")?;
            check_api(&m.payload)?;
        }
        Ok(())
    }
}

struct NatsConsumer {
    conn: Conn,
    /// Deliveries that arrived while waiting for an ack's reply.
    pending: std::collections::VecDeque<Msg>,
}

impl Consumer for NatsConsumer {
    fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        let mut last_ack = None;
        while out.len() < max {
            let Some(m) = self.pending.pop_front() else {
                break;
            };
            last_ack = m.reply;
            out.push(m.payload);
        }
        if out.len() < max {
            let want = max - out.len();
            let expires = timeout.as_nanos();
            let request = format!("{{\"batch\":{want},\"expires\":{expires}}}");
            let reply = self.conn.reply_subject();
            self.conn.publish(
                &format!("$JS.API.CONSUMER.MSG.NEXT.{STREAM}.{DURABLE}"),
                &reply,
                request.as_bytes(),
            )?;
            let deadline = Instant::now() + timeout + Duration::from_millis(50);
            while out.len() < max {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                self.conn.reader.get_ref().set_read_timeout(Some(left))?;
                let Some(m) = self.conn.next_msg()? else {
                    break;
                };
                if m.status.is_some() {
                    break; // 404 / 408: this pull request is over
                }
                last_ack = m.reply;
                out.push(m.payload);
            }
            self.conn
                .reader
                .get_ref()
                .set_read_timeout(Some(Duration::from_secs(10)))?;
        }
        if let Some(ack) = last_ack {
            // ack_policy all: one synchronous +ACK covers the group.
            let reply = self.conn.reply_subject();
            self.conn.publish(&ack, &reply, b"+ACK")?;
            loop {
                let m = self.conn.next_msg()?.ok_or("nats: ack timed out")?;
                if m.status.is_some() {
                    continue; // a pull request's trailing status
                }
                if m.reply.is_some() {
                    self.pending.push_back(m); // a late delivery: next poll's
                    continue;
                }
                break;
            }
        }
        Ok(out)
    }
}
