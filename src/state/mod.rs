//! What tokrot keeps on disk, under the state dir: one journal per rotation (what was done, so
//! that `resume` can finish and `history` can tell), and the audit log (one line per outcome).
//! Neither holds a secret nor a hash of one. Files are 0600 in a 0700 directory, and every write
//! is atomic (write, fsync, rename), so a crash leaves the old file or the new one, never half.
//!
//! What is found there is not trusted: a state dir that another user owns or that others can
//! write to is refused (someone else could plant or swap a journal), files are opened without
//! following a symbolic link (a link could send an append anywhere), and a file found with a
//! looser mode is set back to 0600.

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
    /// A state dir or file that is not safe to use.
    #[error(
        "{path}: {why}; tokrot keeps its journal and audit log only where no one else can change them"
    )]
    Unsafe {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StateError + '_ {
    move |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `dir` (and its parents) with mode 0700, or checks the one there: owned by this user
/// and writable by no one else (else refused, never chmodded: it may be shared, like /tmp); a
/// mode that lets others read it is set back to 0700.
pub fn ensure_dir(dir: &Path) -> Result<(), StateError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_err(dir))?;
    }
    #[cfg(not(unix))]
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    check_dir(dir)
}

/// Checks a directory of the state dir before anything in it is read or written: owned by this
/// user and writable by no one else; one that others can read is set to 0700.
pub fn check_dir(dir: &Path) -> Result<(), StateError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = fs::symlink_metadata(dir).map_err(io_err(dir))?;
        let unsafe_dir = |why: String| StateError::Unsafe {
            path: dir.to_path_buf(),
            why,
        };
        if meta.file_type().is_symlink() {
            return Err(unsafe_dir(
                "a symbolic link; give the directory it points to, if it is yours".into(),
            ));
        }
        // A parent that others can write to without the sticky bit lets them swap this
        // directory for their own.
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty())
            && let Ok(up) = fs::metadata(parent)
            && up.mode() & 0o002 != 0
            && up.mode() & 0o1000 == 0
        {
            return Err(unsafe_dir(format!(
                "its parent {} can be written to by anyone (mode {:o}), who could replace it",
                parent.display(),
                up.mode() & 0o7777
            )));
        }
        let me = uzers::get_effective_uid();
        if meta.uid() != me {
            return Err(unsafe_dir(format!(
                "the directory belongs to another user (uid {}, not {me})",
                meta.uid()
            )));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(unsafe_dir(format!(
                "others can write to the directory (mode {:o})",
                meta.mode() & 0o7777
            )));
        }
        if meta.mode() & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(dir))?;
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Options that open a file of the state dir: 0600 when created, and never through a symbolic
/// link (the open fails instead).
pub(crate) fn private_options() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Opens a file of the state dir with `options` (from `private_options`): a symbolic link is
/// refused by name, anything but a plain file is refused, and a looser mode is set to 0600.
pub(crate) fn open_private(path: &Path, options: &fs::OpenOptions) -> Result<fs::File, StateError> {
    let file = options.open(path).map_err(|e| {
        let link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        if link {
            StateError::Unsafe {
                path: path.to_path_buf(),
                why: "a symbolic link, which tokrot does not follow in its state dir".into(),
            }
        } else {
            io_err(path)(e)
        }
    })?;
    let meta = file.metadata().map_err(io_err(path))?;
    if !meta.is_file() {
        return Err(StateError::Unsafe {
            path: path.to_path_buf(),
            why: "not a plain file".into(),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            file.set_permissions(fs::Permissions::from_mode(0o600))
                .map_err(io_err(path))?;
        }
    }
    Ok(file)
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
    let mut options = private_options();
    options.append(true).create(true);
    let mut f = open_private(path, &options)?;
    f.write_all(format!("{line}\n").as_bytes())
        .map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))
}
