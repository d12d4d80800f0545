//! SQLite (bundled, via rusqlite): a queue table in WAL mode with `synchronous=FULL`;
//! consumers `DELETE … RETURNING` the oldest rows, which is the durable ack.
//!
//! Restart scenario: the harness fills the table (transactions of 1,000 inserts under
//! `synchronous=OFF`, then a checkpoint with fsync and close), runs a child process (see
//! [`crate::restart_child`]) that inserts and deletes (alternately, on one connection) with
//! the durable settings, kills it, and times a fresh child until it has opened the database
//! (WAL recovery) and read the oldest row with a `SELECT` (a peek: nothing is deleted). The
//! fill ran at 108-149 MB/s here (0.05 GB, 2 cores), about 10 s per GB, so it has no
//! `restart_bytes_max`.

use crate::target::Target;
use crate::Result;
use std::path::PathBuf;

/// Starts the SQLite peer in `dir`; `self_exe` (the harness binary) runs as its restart child.
#[cfg(feature = "sqlite")]
pub fn start(dir: PathBuf, self_exe: Option<PathBuf>) -> Result<Vec<Box<dyn Target>>> {
    Ok(vec![Box::new(imp::SqliteTarget::new(dir, self_exe))])
}

/// Starts the SQLite peer in `dir`; `self_exe` (the harness binary) runs as its restart child.
#[cfg(not(feature = "sqlite"))]
pub fn start(dir: PathBuf, self_exe: Option<PathBuf>) -> Result<Vec<Box<dyn Target>>> {
    let _ = (dir, self_exe);
    Err(crate::peers::not_built("sqlite"))
}

/// SQLite's restart child on the database in `dir`. [`Phase::Write`](crate::restart_child::Phase::Write): insert a row and
/// delete the oldest, one durable commit each, until killed. [`Phase::Open`](crate::restart_child::Phase::Open): open,
/// `SELECT` the oldest row, check its size, print `ready id <id>`.
#[cfg(feature = "sqlite")]
pub fn restart_child(dir: &std::path::Path, phase: crate::restart_child::Phase) -> Result<()> {
    imp::restart_child(dir, phase)
}

#[cfg(feature = "sqlite")]
mod imp {
    use crate::restart_child::{ChildTarget, Phase, NO_EXE};
    use crate::target::{Consumer, Mode, Producer, Target};
    use crate::Result;
    use rusqlite::{params, Connection, OptionalExtension};
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    /// The database file in the peer's directory.
    const DB_FILE: &str = "queue.db";
    const CREATE: &str =
        "CREATE TABLE queue (id INTEGER PRIMARY KEY AUTOINCREMENT, payload BLOB NOT NULL);";
    const INSERT: &str = "INSERT INTO queue (payload) VALUES (?1)";
    const DELETE_OLDEST: &str =
        "DELETE FROM queue WHERE id IN (SELECT id FROM queue ORDER BY id LIMIT ?1) RETURNING id, payload";

    /// SQLite under test.
    pub struct SqliteTarget {
        dir: PathBuf,
        self_exe: Option<PathBuf>,
        mode: Mutex<Mode>,
    }

    impl SqliteTarget {
        /// The peer in `dir`; `self_exe` runs as its restart child.
        pub fn new(dir: PathBuf, self_exe: Option<PathBuf>) -> SqliteTarget {
            SqliteTarget {
                dir,
                self_exe,
                mode: Mutex::new(Mode::Durable),
            }
        }

        fn connect(&self) -> Result<Connection> {
            let mode = *self.mode.lock().map_err(|_| "poisoned")?;
            open(&self.dir, mode)
        }
    }

    /// Opens the database in `dir`: WAL, `synchronous=FULL` ([`Mode::Durable`]) or `OFF`.
    fn open(dir: &Path, mode: Mode) -> Result<Connection> {
        let conn = Connection::open(dir.join(DB_FILE))?;
        conn.busy_timeout(Duration::from_secs(60))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let sync = match mode {
            Mode::Durable => "FULL",
            Mode::Buffered => "OFF",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        Ok(conn)
    }

    /// Fills a new table in `dir` with about `bytes` of 256 B rows: transactions of 1,000
    /// inserts under `synchronous=OFF`, then a checkpoint (with fsync) into the database
    /// file, and close.
    fn fill(dir: &Path, bytes: u64) -> Result<()> {
        let mut conn = open(dir, Mode::Buffered)?;
        conn.execute_batch(CREATE)?;
        let batch: Vec<Vec<u8>> = (0..1_000).map(crate::payload).collect();
        let per_batch = u64::try_from(batch.len() * crate::PAYLOAD_BYTES)?;
        for _ in 0..bytes.div_ceil(per_batch).max(1) {
            let tx = conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(INSERT)?;
                for p in &batch {
                    stmt.execute(params![p])?;
                }
            }
            tx.commit()?;
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy != 0 {
            return Err("sqlite: the checkpoint after the fill did not complete".into());
        }
        conn.close().map_err(|(_, e)| e)?;
        Ok(())
    }

    /// See [`super::restart_child`].
    pub fn restart_child(dir: &Path, phase: Phase) -> Result<()> {
        let conn = open(dir, Mode::Durable)?;
        match phase {
            Phase::Write => {
                crate::restart_child::ready(None)?;
                // SQLite has one writer at a time, and a second connection inserting starves
                // behind a deleting one (its busy handler sleeps), so one connection alternates:
                // an INSERT, then the oldest row read and deleted, each a durable commit.
                let payload = crate::payload(0);
                let mut insert = conn.prepare_cached(INSERT)?;
                let mut delete = conn.prepare_cached(DELETE_OLDEST)?;
                loop {
                    insert.execute(params![payload])?;
                    let rows: Vec<Vec<u8>> = delete
                        .query_map(params![1], |r| r.get(1))?
                        .collect::<std::result::Result<_, _>>()?;
                    if rows.is_empty() {
                        return Err("sqlite: the queue emptied while writing".into());
                    }
                }
            }
            Phase::Open => {
                // A peek: the oldest row is read with a SELECT; nothing is deleted.
                let (id, payload): (i64, Vec<u8>) = conn
                    .query_row(
                        "SELECT id, payload FROM queue ORDER BY id LIMIT 1",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?
                    .ok_or("sqlite: no row after the restart")?;
                if payload.len() != crate::PAYLOAD_BYTES {
                    return Err("sqlite: backlog row read back with the wrong size".into());
                }
                crate::restart_child::ready(Some(&format!("id {id}")))
            }
        }
    }

    impl Target for SqliteTarget {
        fn name(&self) -> String {
            format!("sqlite {}", rusqlite::version())
        }

        fn durability(&self) -> String {
            "WAL, `synchronous=FULL` (fsync of the WAL on every commit); one autocommit INSERT per send; ack = `DELETE … RETURNING` committed".into()
        }

        fn buffered_mode(&self) -> Option<String> {
            Some("`synchronous=OFF`".into())
        }

        fn reset(&self, mode: Mode) -> Result<()> {
            *self.mode.lock().map_err(|_| "poisoned")? = mode;
            for suffix in ["", "-wal", "-shm"] {
                let mut p = self.dir.join(DB_FILE).into_os_string();
                p.push(suffix);
                let p = PathBuf::from(p);
                if p.exists() {
                    std::fs::remove_file(p)?;
                }
            }
            let conn = self.connect()?;
            conn.execute_batch(CREATE)?;
            Ok(())
        }

        fn producer(&self) -> Result<Box<dyn Producer>> {
            Ok(Box::new(SqliteProducer {
                conn: self.connect()?,
            }))
        }

        fn consumer(&self) -> Result<Box<dyn Consumer>> {
            Ok(Box::new(SqliteConsumer {
                conn: self.connect()?,
            }))
        }

        fn restart_unsupported(&self) -> Option<String> {
            self.self_exe.is_none().then(|| NO_EXE.to_owned())
        }

        fn restart_after_kill(
            &self,
            backlog_bytes: u64,
            restarts: usize,
        ) -> Result<Vec<crate::target::Restarted>> {
            crate::restart_child::fill_kill_and_reopen(
                self.self_exe.as_deref(),
                &self.name(),
                ChildTarget::Sqlite,
                &self.dir,
                backlog_bytes,
                restarts,
                || fill(&self.dir, backlog_bytes),
            )
        }

        fn in_process(&self) -> bool {
            true
        }

        fn client(&self) -> String {
            crate::peers::PeerKind::Sqlite.client().into()
        }
    }

    struct SqliteProducer {
        conn: Connection,
    }

    impl Producer for SqliteProducer {
        fn send(&mut self, payload: &[u8]) -> Result<()> {
            self.conn
                .prepare_cached(INSERT)?
                .execute(params![payload])?;
            Ok(())
        }

        fn send_batch(&mut self, payloads: &[Vec<u8>]) -> Result<()> {
            let tx = self.conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(INSERT)?;
                for p in payloads {
                    stmt.execute(params![p])?;
                }
            }
            tx.commit()?;
            Ok(())
        }
    }

    struct SqliteConsumer {
        conn: Connection,
    }

    impl Consumer for SqliteConsumer {
        fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Vec<u8>>> {
            let deadline = Instant::now() + timeout;
            let limit = i64::try_from(max)?;
            loop {
                let mut stmt = self.conn.prepare_cached(DELETE_OLDEST)?;
                let mut rows: Vec<(i64, Vec<u8>)> = stmt
                    .query_map(params![limit], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<std::result::Result<_, _>>()?;
                if !rows.is_empty() || Instant::now() >= deadline {
                    rows.sort_by_key(|r| r.0);
                    return Ok(rows.into_iter().map(|r| r.1).collect());
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }
}
