//! One bounded pool for the portal's two SQLite databases (the app database and the demo
//! ERP). rusqlite is synchronous, so every call runs on the blocking thread pool with a
//! connection from here.
//!
//! Written here rather than taken from r2d2 or deadpool: what the portal needs of it is
//! what those pools do not do — a connection that failed with an I/O, read-only or
//! cannot-open error is dropped instead of being handed to the next request (a file made
//! read-only and then writable again is written to at once, without a restart), and
//! every checkout first checks that the file is still the one that was opened (a
//! database deleted or replaced under a running portal is never written to in its
//! place).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rusqlite::Connection;
use tokio::sync::Semaphore;

/// The file's identity: device, inode and birth time where the platform has them (an
/// inode number alone is reused: a file made after the old one was deleted can get it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId(u64, u64, u128);

/// Which file is at `path` now.
pub fn file_id(path: &Path) -> std::io::Result<FileId> {
    let meta = std::fs::metadata(path)?;
    let born = meta
        .created()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok(FileId(meta.dev(), meta.ino(), born))
    }
    #[cfg(not(unix))]
    {
        Ok(FileId(0, 0, born))
    }
}

/// Why no connection could be had.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The file is gone or another file took its place.
    #[error("{0}")]
    Vanished(String),
    #[error("cannot open {path}: {error}")]
    Open { path: String, error: String },
    #[error("no connection within {0:?}")]
    Timeout(Duration),
}

/// What the pool's database is to the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The portal's own database: every checkout checks the file is the one opened, and a
    /// connection that came out read-only (SQLite opens a file it cannot write read-only
    /// without saying so) is never lent again, so writes resume once the file can be
    /// written.
    Owned,
    /// A copy read and never written (the demo ERP): neither check applies.
    ReadOnly,
}

type Opener = dyn Fn(&Path) -> rusqlite::Result<Connection> + Send + Sync;

struct Inner {
    path: PathBuf,
    /// The file opened at start-up; `None`: not checked (a read-only copy).
    identity: Option<FileId>,
    mode: Mode,
    open: Box<Opener>,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
    size: usize,
    checkout: Duration,
}

#[derive(Clone)]
pub struct SqlitePool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SqlitePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlitePool")
            .field("path", &self.inner.path)
            .field("size", &self.inner.size)
            .finish()
    }
}

/// A connection lent by the pool: given back when dropped, unless [`Lent::discard`] was
/// called.
pub struct Lent {
    conn: Option<Connection>,
    pool: Arc<Inner>,
}

impl Lent {
    /// Drops the connection instead of giving it back (after an error that may have left
    /// it unusable, such as a file that was read-only when it was opened). It closes
    /// without the checkpoint SQLite runs when the last connection closes: against files
    /// that cannot be written that checkpoint reads a shared-memory index it could not
    /// size, and the process dies of SIGBUS (seen with `chattr +i`). The log is kept and
    /// checkpointed by the next connection that can write.
    pub fn discard(mut self) {
        if let Some(conn) = self.conn.take() {
            close_quietly(conn);
        }
    }
}

impl std::ops::Deref for Lent {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("lent connection")
    }
}

impl std::ops::DerefMut for Lent {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("lent connection")
    }
}

/// Closes a connection without a checkpoint (see [`Lent::discard`]).
fn close_quietly(conn: Connection) {
    let _ = conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    );
    drop(conn);
}

impl Drop for Lent {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if self.pool.mode == Mode::Owned && conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(true) {
            tracing::warn!(path = %self.pool.path.display(), "app database: a connection opened read-only is dropped (the file could not be written when it was opened)");
            close_quietly(conn);
            return;
        }
        let mut idle = self.pool.idle.lock();
        if idle.len() < self.pool.size {
            idle.push(conn);
        }
    }
}

impl SqlitePool {
    /// A pool of at most `size` connections to `path`, each made by `open`.
    pub fn new(
        path: &Path,
        size: usize,
        checkout: Duration,
        mode: Mode,
        open: impl Fn(&Path) -> rusqlite::Result<Connection> + Send + Sync + 'static,
    ) -> std::io::Result<SqlitePool> {
        let identity = match mode {
            Mode::Owned => Some(file_id(path)?),
            Mode::ReadOnly => None,
        };
        Ok(SqlitePool {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                identity,
                mode,
                open: Box::new(open),
                idle: Mutex::new(Vec::new()),
                permits: Semaphore::new(size),
                size,
                checkout,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Whether the file at the path is still the one opened (always true unguarded).
    pub fn check_identity(&self) -> Result<(), PoolError> {
        let Some(expected) = self.inner.identity else {
            return Ok(());
        };
        let path = self.inner.path.display();
        match file_id(&self.inner.path) {
            Ok(id) if id == expected => Ok(()),
            Ok(_) => Err(PoolError::Vanished(format!(
                "{path} is not the database the portal opened (the file was replaced): nothing is written to it; restore the original and restart"
            ))),
            Err(_) => Err(PoolError::Vanished(format!(
                "{path} is gone: nothing is written until it is restored (the portal never creates an empty one in its place)"
            ))),
        }
    }

    /// Runs `f` with a connection on the blocking thread pool; `keep` says whether the
    /// connection may be lent again after the result `f` gave.
    pub async fn run<T, F>(&self, f: F, keep: fn(&T) -> bool) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> T + Send + 'static,
    {
        let permit = tokio::time::timeout(self.inner.checkout, self.inner.permits.acquire())
            .await
            .map_err(|_| PoolError::Timeout(self.inner.checkout))?
            .map_err(|_| PoolError::Timeout(self.inner.checkout))?;
        let pool = self.clone();
        let out = tokio::task::spawn_blocking(move || {
            let mut lent = pool.lend()?;
            let out = f(&mut lent);
            if !keep(&out) {
                lent.discard();
            }
            Ok(out)
        })
        .await
        .map_err(|e| PoolError::Open {
            path: self.inner.path.display().to_string(),
            error: format!("blocking task failed: {e}"),
        })?;
        drop(permit);
        out
    }

    /// A connection now (blocking): an idle one, or a new one, once the file is checked.
    fn lend(&self) -> Result<Lent, PoolError> {
        if let Err(e) = self.check_identity() {
            // Connections to the old file must not write to it any more either.
            self.inner.idle.lock().clear();
            return Err(e);
        }
        let conn = match self.inner.idle.lock().pop() {
            Some(c) => c,
            None => (self.inner.open)(&self.inner.path).map_err(|e| PoolError::Open {
                path: self.inner.path.display().to_string(),
                error: e.to_string(),
            })?,
        };
        Ok(Lent {
            conn: Some(conn),
            pool: self.inner.clone(),
        })
    }

    /// (connections lent now, most there may be).
    pub fn usage(&self) -> (usize, usize) {
        let free = self.inner.permits.available_permits().min(self.inner.size);
        (self.inner.size - free, self.inner.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(path: &Path) -> rusqlite::Result<Connection> {
        Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
    }

    #[tokio::test]
    async fn a_vanished_file_is_never_written_in_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (n INTEGER)")
            .unwrap();
        let pool = SqlitePool::new(&path, 2, Duration::from_secs(1), Mode::Owned, open).unwrap();
        let n: i64 = pool
            .run(
                |c| {
                    c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
                        .unwrap()
                },
                |_| true,
            )
            .await
            .unwrap();
        assert_eq!(n, 0);
        std::fs::remove_file(&path).unwrap();
        let err = pool.run(|_| (), |_| true).await.unwrap_err();
        assert!(matches!(err, PoolError::Vanished(_)), "{err}");
        assert!(!path.exists(), "no empty database was made in its place");
        // Another file under the same name is not the same database.
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (n INTEGER)")
            .unwrap();
        assert!(matches!(
            pool.run(|_| (), |_| true).await.unwrap_err(),
            PoolError::Vanished(_)
        ));
    }

    #[tokio::test]
    async fn a_connection_that_failed_is_not_lent_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        Connection::open(&path).unwrap();
        let pool = SqlitePool::new(&path, 2, Duration::from_secs(1), Mode::ReadOnly, open).unwrap();
        pool.run(|_| (), |_| true).await.unwrap();
        assert_eq!(
            pool.inner.idle.lock().len(),
            1,
            "a kept connection waits to be lent again"
        );
        pool.run(|_| (), |_| false).await.unwrap();
        assert_eq!(pool.inner.idle.lock().len(), 0, "a failed one is dropped");
        assert_eq!(pool.usage(), (0, 2));
    }
}
