//! [`RealFs`]: the operating system's file system.

use super::{DirLock, FileSystem, FsFile, MappedBytes, OpenMode};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

/// The real file system of the operating system (`pwrite`, `fdatasync`, `mmap`, `flock`).
#[derive(Clone, Copy, Debug, Default)]
pub struct RealFs;

#[derive(Debug)]
struct RealFile {
    file: File,
}

#[derive(Debug)]
struct RealLock {
    _file: File,
}

impl DirLock for RealLock {}

impl FsFile for RealFile {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }

    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.file.write_all_at(buf, offset)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }

    /// The size, from `lseek(SEEK_END)` rather than `fstat`: every access is positional, so
    /// the file position is never used. Since Linux 6.13 (multigrain timestamps) a `stat`
    /// marks the inode's times as queried, so the next write stamps a fresh fine-grained
    /// mtime instead of reusing the clock tick's; with a reader checking the active segment
    /// after each append that happened on every write, and each fdatasync then also had to
    /// commit the inode (on ext4 a fast-commit block written before the cache flush, about
    /// 40–50 µs more per fdatasync on the benchmark machine; see docs/BENCHMARKS.md).
    fn len(&self) -> io::Result<u64> {
        (&self.file).seek(SeekFrom::End(0))
    }

    fn map(&self, len: u64) -> io::Result<Arc<dyn MappedBytes>> {
        let file_len = self.len()?;
        if len > file_len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cannot map {len} bytes of a {file_len}-byte file"),
            ));
        }
        let len = usize::try_from(len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "mapping too large"))?;
        Ok(Arc::new(crate::mmap::ReadOnlyMap::new(&self.file, len)?))
    }
}

impl FileSystem for RealFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                if let Ok(name) = entry.file_name().into_string() {
                    names.push(name);
                }
            }
        }
        names.sort();
        Ok(names)
    }

    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn FsFile>> {
        let file = match mode {
            OpenMode::Read => File::open(path)?,
            OpenMode::ReadWrite => OpenOptions::new().read(true).write(true).open(path)?,
            OpenMode::CreateNew => OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(path)?,
        };
        Ok(Arc::new(RealFile { file }))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn try_lock_dir(&self, dir: &Path) -> io::Result<Option<Box<dyn DirLock>>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(super::lock_file_path(dir))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Box::new(RealLock { _file: file }))),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(err)) => Err(err),
        }
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn len_follows_writes_and_cuts_whatever_the_file_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let file = RealFs.open(&path, OpenMode::CreateNew).unwrap();
        assert_eq!(file.len().unwrap(), 0);
        file.write_all_at(&[1; 100], 0).unwrap();
        assert_eq!(file.len().unwrap(), 100);
        // A write past the end leaves a hole and grows the file to its end.
        file.write_all_at(&[2; 10], 290).unwrap();
        assert_eq!(file.len().unwrap(), 300);
        file.set_len(50).unwrap();
        assert_eq!(file.len().unwrap(), 50);
        // `len` moved the file position to the end; positional reads and writes ignore it.
        let mut head = [0u8; 50];
        file.read_exact_at(&mut head, 0).unwrap();
        assert_eq!(head, [1; 50]);
        file.write_all_at(&[3; 5], 0).unwrap();
        assert_eq!(file.len().unwrap(), 50);
        file.read_exact_at(&mut head[..5], 0).unwrap();
        assert_eq!(head[..5], [3; 5]);
        // Another handle (a reader's) sees the same size.
        let reader = RealFs.open(&path, OpenMode::Read).unwrap();
        assert_eq!(reader.len().unwrap(), 50);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 50);
    }

    #[test]
    fn a_map_is_refused_past_the_end_and_covers_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let file = RealFs
            .open(&dir.path().join("f"), OpenMode::CreateNew)
            .unwrap();
        file.write_all_at(b"logq", 0).unwrap();
        assert_eq!(
            file.map(5).err().map(|e| e.kind()),
            Some(io::ErrorKind::InvalidInput)
        );
        assert_eq!(file.map(4).unwrap().bytes(), b"logq");
    }
}
