//! The protocol's vocabulary (runbook kinds, phases, verification), below everything that uses
//! it: the journal stores these values
//! as they are (their serde names are the strings older journals hold, so those still read),
//! the engine and the actions compare them, and nothing compares their names as strings.

use serde::{Deserialize, Serialize};

/// What a runbook does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunbookKind {
    /// Makes a new token (`tokrot rotate`).
    Rotate,
    /// Puts a token into one place (`tokrot apply`, or a `--apply-to` target).
    Apply,
    /// A procedure the operator carries out, walked step by step (`tokrot run`).
    Checklist,
}

impl RunbookKind {
    /// The word used in runbooks, `list` and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RunbookKind::Rotate => "rotate",
            RunbookKind::Apply => "apply",
            RunbookKind::Checklist => "checklist",
        }
    }
}

/// The phase of the rotation protocol an action belongs to (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Read-only checks before anything changes.
    Preflight,
    /// The one non-idempotent call that makes the new token.
    Rotate,
    /// Keeping the new token safe in the OS keyring.
    Stash,
    /// Writing the new token into a target.
    Apply,
    /// Checking that the new token and the targets work.
    Verify,
    /// Revoking or deleting the old token.
    Finish,
}

impl Phase {
    /// Lower-case name used in the checklist and the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Preflight => "preflight",
            Phase::Rotate => "rotate",
            Phase::Stash => "stash",
            Phase::Apply => "apply",
            Phase::Verify => "verify",
            Phase::Finish => "finish",
        }
    }
}

/// Whether a target holds the new value, as far as its API lets tokrot read it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verified {
    /// Read back and equal.
    Yes,
    /// Read back and different.
    No,
    /// The API never returns this value.
    NotReadable,
}

impl Verified {
    /// As a report counts it: "2 verified", "1 not readable back".
    pub fn counted(self) -> &'static str {
        match self {
            Verified::Yes => "verified",
            Verified::No => "not matching when read back",
            Verified::NotReadable => "not readable back",
        }
    }

    /// As in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Verified::Yes => "yes",
            Verified::No => "no",
            Verified::NotReadable => "not-readable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_serde_names_are_the_strings_journals_hold() {
        for p in [
            Phase::Preflight,
            Phase::Rotate,
            Phase::Stash,
            Phase::Apply,
            Phase::Verify,
            Phase::Finish,
        ] {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
            let back: Phase = serde_json::from_value(p.as_str().into()).unwrap();
            assert_eq!(back, p);
        }
        for k in [
            RunbookKind::Rotate,
            RunbookKind::Apply,
            RunbookKind::Checklist,
        ] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for v in [Verified::Yes, Verified::No, Verified::NotReadable] {
            assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
            let back: Verified = serde_json::from_value(v.as_str().into()).unwrap();
            assert_eq!(back, v);
        }
    }
}
