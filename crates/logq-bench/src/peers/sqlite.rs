//! SQLite (bundled, via rusqlite): a queue table in WAL mode with `synchronous=FULL`;
//! consumers `DELETE … RETURNING` the oldest rows, which is the durable ack.

use crate::target::Target;
use crate::Result;
use std::path::PathBuf;

/// Starts the SQLite peer in `dir`.
#[cfg(feature = "sqlite")]
pub fn start(dir: PathBuf) -> Result<Vec<Box<dyn Target>>> {
    Ok(vec![Box::new(imp::SqliteTarget::new(dir))])
}

/// Starts the SQLite peer in `dir`.
#[cfg(not(feature = "sqlite"))]
pub fn start(dir: PathBuf) -> Result<Vec<Box<dyn Target>>> {
    let _ = dir;
    Err(crate::peers::not_built("sqlite"))
}

#[cfg(feature = "sqlite")]
mod imp {
    use crate::target::{Consumer, Mode, Producer, Target};
    use crate::Result;
    use rusqlite::{params, Connection};
    use std::path::PathBuf;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    /// SQLite under test.
    pub struct SqliteTarget {
        path: PathBuf,
        mode: Mutex<Mode>,
    }

    impl SqliteTarget {
        pub fn new(dir: PathBuf) -> SqliteTarget {
            SqliteTarget {
                path: dir.join("queue.db"),
                mode: Mutex::new(Mode::Durable),
            }
        }

        fn connect(&self) -> Result<Connection> {
            let mode = *self.mode.lock().map_err(|_| "poisoned")?;
            let conn = Connection::open(&self.path)?;
            conn.busy_timeout(Duration::from_secs(60))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            let sync = match mode {
                Mode::Durable => "FULL",
                Mode::Buffered => "OFF",
            };
            conn.pragma_update(None, "synchronous", sync)?;
            Ok(conn)
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
                let mut p = self.path.clone().into_os_string();
                p.push(suffix);
                let p = PathBuf::from(p);
                if p.exists() {
                    std::fs::remove_file(p)?;
                }
            }
            let conn = self.connect()?;
            conn.execute_batch(
                "CREATE TABLE queue (id INTEGER PRIMARY KEY AUTOINCREMENT, payload BLOB NOT NULL);",
            )?;
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
                .prepare_cached("INSERT INTO queue (payload) VALUES (?1)")?
                .execute(params![payload])?;
            Ok(())
        }

        fn send_batch(&mut self, payloads: &[Vec<u8>]) -> Result<()> {
            let tx = self.conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached("INSERT INTO queue (payload) VALUES (?1)")?;
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
                let mut stmt = self.conn.prepare_cached(
                    "DELETE FROM queue WHERE id IN (SELECT id FROM queue ORDER BY id LIMIT ?1) RETURNING id, payload",
                )?;
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
