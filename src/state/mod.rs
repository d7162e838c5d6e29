//! What tokrot keeps on disk, under the state dir: one journal per rotation (what was done, so
//! that `resume` can finish and `history` can tell), and the audit log (one line per outcome).
//! Neither holds a secret nor a hash of one. Files are 0600 in a 0700 directory, and every write
//! is atomic (write, fsync, rename), so a crash leaves the old file or the new one, never half.

pub mod audit;
pub mod journal;
pub mod lock;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why the state dir could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// No state dir could be worked out (no HOME, no XDG_STATE_HOME, no --state-dir).
    #[error("no state dir: pass --state-dir or set TOKROT_STATE_DIR (or HOME)")]
    NoDir,
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A journal that cannot be read back.
    #[error("{path}: not a tokrot journal ({message})")]
    Corrupt {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No journal with that id.
    #[error("no rotation `{0}` in the journal; `tokrot history` lists them")]
    Unknown(String),
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StateError + '_ {
    move |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `dir` (and its parents) with mode 0700.
pub fn ensure_dir(dir: &Path) -> Result<(), StateError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_err(dir))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(dir))?;
    }
    #[cfg(not(unix))]
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    Ok(())
}

/// Replaces `path` with `bytes` atomically: a temporary file beside it (tempfile makes it
/// 0600), fsync, rename over `path`, fsync of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    ensure_dir(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_err(dir))?;
    tmp.write_all(bytes).map_err(io_err(tmp.path()))?;
    tmp.as_file().sync_all().map_err(io_err(path))?;
    tmp.persist(path).map_err(|e| StateError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Appends one line to `path` (created 0600), and fsyncs it.
pub fn append_line(path: &Path, line: &str) -> Result<(), StateError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    ensure_dir(dir)?;
    let mut options = fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(io_err(path))?;
    f.write_all(format!("{line}\n").as_bytes())
        .map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))
}
