//! Atomic file writes: readers see the old file or the new one, never a torn
//! one, and a crash mid-write leaves the old file in place.
//!
//! The bytes go to a temporary file beside the destination, which is synced
//! and renamed over it. The temporary file is created with mode `0666`
//! before the umask, as an ordinary new file would be (`tempfile` alone
//! makes it private to its owner), so models, samples and reports are as
//! readable as anything else the user writes.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::IoError;

/// Writes `bytes` to `path` atomically.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)
        .map_err(IoError::at(file.temp_path()))?;
    file.commit()
}

/// A file being written: a temporary file beside its destination until
/// [`AtomicFile::commit`] renames it into place. Dropped without a commit,
/// the temporary file is removed and the destination is untouched.
#[derive(Debug)]
pub struct AtomicFile {
    temp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl AtomicFile {
    /// Starts writing `path`; its folder must exist.
    pub fn create(path: impl Into<PathBuf>) -> Result<Self, IoError> {
        let path = path.into();
        let dir = parent(&path);
        let temp = builder(".recalign.tmp", 0o666)
            .tempfile_in(dir)
            .map_err(IoError::at(dir))?;
        Ok(Self { temp, path })
    }

    /// The destination.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temporary file the bytes go to until the commit.
    pub fn temp_path(&self) -> &Path {
        self.temp.path()
    }

    /// Flushes, syncs and renames the file over its destination.
    pub fn commit(mut self) -> Result<(), IoError> {
        self.temp.flush().map_err(IoError::at(self.temp.path()))?;
        self.temp
            .as_file()
            .sync_all()
            .map_err(IoError::at(self.temp.path()))?;
        let Self { temp, path } = self;
        temp.persist(&path)
            .map_err(|e| IoError::new(&path, e.error))?;
        sync_dir(parent(&path));
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.temp.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.temp.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temp.flush()
    }
}

/// A temporary folder in `dir` to be filled and then renamed into place
/// (a checkpoint), with the permissions an ordinary new folder gets.
/// Dropped before [`tempfile::TempDir::keep`], it is removed.
pub fn staging_dir(dir: &Path) -> Result<tempfile::TempDir, IoError> {
    builder(".recalign.saving-", 0o777)
        .tempdir_in(dir)
        .map_err(IoError::at(dir))
}

/// Temporary files or folders named `prefix…`, created with `mode` before
/// the umask (where the platform has modes), as ordinary ones would be.
fn builder(prefix: &str, mode: u32) -> tempfile::Builder<'_, 'static> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    builder
}

/// The folder `path` is in (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Makes the rename durable where the platform allows it; best effort, as
/// the file itself is already complete and synced.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder holding `name` with `old` in it.
    fn folder_with(name: &str, old: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, old).unwrap();
        (dir, path)
    }

    fn entries(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().count()
    }

    #[test]
    fn replaces_the_file_whole_and_leaves_no_temporary_file() {
        let (dir, path) = folder_with("report.json", "old");
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(entries(dir.path()), 1);
    }

    #[test]
    fn an_uncommitted_file_leaves_the_old_one() {
        let (dir, path) = folder_with("samples.jsonl", "old");
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"half of the new").unwrap();
        drop(file);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(entries(dir.path()), 1);
    }

    #[test]
    fn a_missing_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent/model.safetensors");
        let error = write_atomically(&path, b"x").unwrap_err();
        assert!(error.to_string().contains("absent"), "{error}");
    }

    /// Files and staged folders get the permissions of ordinary new ones
    /// (under umask 022: readable by group and others).
    #[cfg(unix)]
    #[test]
    fn files_and_folders_follow_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let (dir, plain) = folder_with("plain.json", "{}");
        let atomic = dir.path().join("config.json");
        write_atomically(&atomic, b"{}").unwrap();
        assert_eq!(mode(&atomic), mode(&plain));

        let staged = staging_dir(dir.path()).unwrap();
        let plain = dir.path().join("plain");
        std::fs::create_dir(&plain).unwrap();
        assert_eq!(mode(staged.path()), mode(&plain));
    }
}
