//! The runbooks tokrot knows: those embedded in the binary, so that a fresh install has
//! them all, plus those of `--runbooks DIR`, which override an embedded one with the same id.

use std::path::{Path, PathBuf};

use super::validate::{RunbookError, parse_runbook};
use super::{Origin, Runbook};

macro_rules! embedded {
    ($($id:literal),* $(,)?) => {
        &[$(($id, include_str!(concat!("../../runbooks/", $id, ".toml")))),*]
    };
}

/// The embedded runbooks, in the order of PROCEDURES.md.
pub const EMBEDDED: &[(&str, &str)] = embedded![
    "zendesk-api",
    "zendesk-oauth",
    "zendesk-webhook-secret",
    "gitlab-pat",
    "gitlab-project-token",
    "gitlab-group-token",
    "gitlab-trigger",
    "gitlab-trigger-bot",
    "zendesk-app",
    "zendesk-webhook",
    "gitlab-ci-var",
    "gitlab-webhook",
    "gitlab-instance-var",
    "zendesk-oauth-integration",
];

/// Why the catalogue could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// A runbook is broken.
    #[error(transparent)]
    Runbook(#[from] RunbookError),
    /// The runbooks directory cannot be listed.
    #[error("cannot read the runbooks directory {path}: {source}")]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A runbook file cannot be read.
    #[error("cannot read runbook {path}: {source}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The set of runbooks for this run.
#[derive(Debug, Clone)]
pub struct Catalogue {
    runbooks: Vec<Runbook>,
}

impl Catalogue {
    /// The embedded runbooks only.
    pub fn embedded() -> Result<Self, CatalogueError> {
        let runbooks = EMBEDDED
            .iter()
            .map(|(id, src)| parse_runbook(&format!("runbooks/{id}.toml"), src, Origin::Embedded))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { runbooks })
    }

    /// The embedded runbooks with those of `dir` added or overriding by id. Every `*.toml` file
    /// of `dir` must be a valid runbook: a broken one stops everything, never silently skipped.
    pub fn load(dir: Option<&Path>) -> Result<Self, CatalogueError> {
        let mut catalogue = Self::embedded()?;
        let Some(dir) = dir else { return Ok(catalogue) };
        let entries = std::fs::read_dir(dir).map_err(|source| CatalogueError::ReadDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut files: Vec<PathBuf> = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| CatalogueError::ReadDir {
                path: dir.to_path_buf(),
                source,
            })?;
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        for path in files {
            let src =
                std::fs::read_to_string(&path).map_err(|source| CatalogueError::ReadFile {
                    path: path.clone(),
                    source,
                })?;
            let runbook = parse_runbook(
                &path.display().to_string(),
                &src,
                Origin::File(path.clone()),
            )?;
            match catalogue.runbooks.iter_mut().find(|r| r.id == runbook.id) {
                Some(slot) => *slot = runbook,
                None => catalogue.runbooks.push(runbook),
            }
        }
        Ok(catalogue)
    }

    /// Looks up a runbook by id.
    pub fn get(&self, id: &str) -> Option<&Runbook> {
        self.runbooks.iter().find(|r| r.id == id)
    }

    /// All runbooks: the embedded ones in the handbook's order, then added ones.
    pub fn iter(&self) -> impl Iterator<Item = &Runbook> {
        self.runbooks.iter()
    }

    /// All ids, for error messages.
    pub fn ids(&self) -> Vec<&str> {
        self.runbooks.iter().map(|r| r.id.as_str()).collect()
    }
}
