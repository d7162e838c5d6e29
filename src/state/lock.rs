//! One run at a time per source token and per rotation: an OS file lock under
//! `<state dir>/locks/`, taken before anything is sent and released by the OS when the process
//! ends, however it ends (a crash or SIGKILL leaves no stale lock). The file holds the id of the
//! run that holds it, so that the run refused can name it. std's `File::try_lock` (flock on
//! Unix, LockFileEx on Windows) does the locking: no crate is needed for it.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{StateError, ensure_dir, io_err, open_private, private_options};

/// Locks held by this run; dropping them releases them.
#[derive(Debug, Default)]
pub struct Locks {
    held: Vec<(String, File)>,
}

/// Another run holds a lock.
#[derive(Debug, thiserror::Error)]
#[error("another tokrot run holds the lock on {what}: run {holder}")]
pub struct Busy {
    /// What is locked (a source token or a rotation).
    pub what: String,
    /// The run that holds it, as it wrote itself into the lock file.
    pub holder: String,
}

/// Why a lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another run holds it.
    #[error(transparent)]
    Busy(#[from] Busy),
    /// The lock file could not be used.
    #[error(transparent)]
    State(#[from] StateError),
}

/// The lock directory.
pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("locks")
}

/// The file of a key: its readable part, plus a hash of the whole key so that two keys that
/// read alike never share a file.
fn file_name(key: &str) -> String {
    let readable: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    // FNV-1a: stable across versions and platforms, unlike std's hasher.
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{readable}-{hash:016x}.lock")
}

impl Locks {
    /// No lock yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the lock on `key` for the run `holder`, without waiting. `what` names the key for
    /// the operator. A key this run already holds is not taken twice.
    pub fn take(
        &mut self,
        state_dir: &Path,
        key: &str,
        what: &str,
        holder: &str,
    ) -> Result<(), LockError> {
        if self.held.iter().any(|(k, _)| k == key) {
            return Ok(());
        }
        // The state dir itself first: a link there would take `locks/` elsewhere.
        ensure_dir(state_dir)?;
        let d = dir(state_dir);
        ensure_dir(&d)?;
        let path = d.join(file_name(key));
        let mut options = private_options();
        options.read(true).write(true).create(true).truncate(false);
        let mut file = open_private(&path, &options)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.lines().next().unwrap_or("").trim().to_owned();
                return Err(Busy {
                    what: what.to_owned(),
                    holder: if holder.is_empty() {
                        "(starting)".into()
                    } else {
                        holder
                    },
                }
                .into());
            }
            Err(TryLockError::Error(e)) => return Err(io_err(&path)(e).into()),
        }
        let write = |f: &mut File| -> std::io::Result<()> {
            f.set_len(0)?;
            f.seek(SeekFrom::Start(0))?;
            writeln!(f, "{holder}")?;
            writeln!(f, "pid {}", std::process::id())?;
            f.flush()
        };
        write(&mut file).map_err(io_err(&path))?;
        self.held.push((key.to_owned(), file));
        Ok(())
    }
}

/// Waits for the lock on `key` and holds it while the returned file is alive: for a short
/// read-modify-write that several runs of one `rotate --due` may want at once (the inventory).
pub fn wait_for(state_dir: &Path, key: &str) -> Result<File, StateError> {
    ensure_dir(state_dir)?;
    let d = dir(state_dir);
    ensure_dir(&d)?;
    let path = d.join(file_name(key));
    let mut options = private_options();
    options.read(true).write(true).create(true).truncate(false);
    let file = open_private(&path, &options)?;
    file.lock().map_err(io_err(&path))?;
    Ok(file)
}

/// Whether some process holds the lock on `key` now (a run that is still going).
pub fn is_held(state_dir: &Path, key: &str) -> bool {
    let path = dir(state_dir).join(file_name(key));
    let mut options = private_options();
    options.read(true);
    match open_private(&path, &options) {
        Ok(f) => matches!(f.try_lock_shared(), Err(TryLockError::WouldBlock)),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_named_until_the_first_lets_go() {
        let d = tempfile::tempdir().unwrap();
        let mut first = Locks::new();
        first
            .take(d.path(), "gitlab:pat:42", "token 42", "run-a")
            .unwrap();
        first
            .take(d.path(), "gitlab:pat:42", "token 42", "run-a")
            .unwrap();
        let mut second = Locks::new();
        let err = second
            .take(d.path(), "gitlab:pat:42", "token 42", "run-b")
            .unwrap_err();
        assert!(
            matches!(&err, LockError::Busy(b) if b.holder == "run-a"),
            "{err}"
        );
        second
            .take(d.path(), "gitlab:pat:43", "token 43", "run-b")
            .unwrap();
        drop(first);
        second
            .take(d.path(), "gitlab:pat:42", "token 42", "run-b")
            .unwrap();
    }

    #[test]
    fn keys_that_read_alike_get_their_own_files() {
        assert_ne!(file_name("a/b"), file_name("a_b"));
        assert!(file_name("x").ends_with(".lock"));
    }
}
