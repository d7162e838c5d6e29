//! Secrets: every value that must never be shown is a `SecretString` from the moment it enters,
//! and is registered with the `Redactor` that all output passes through, as a second line of
//! defence should a secret ever reach a message.

pub mod stash;

use std::sync::{Arc, Mutex};

use secrecy::{ExposeSecret, SecretString};

/// What a secret is replaced with in any output.
pub const REDACTED: &str = "[redacted]";

/// Secrets too short to search for without mangling ordinary text are not registered.
const MIN_LEN: usize = 4;

/// Replaces every registered secret in text. Cloning shares the registry.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<Mutex<Vec<SecretString>>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor { .. }")
    }
}

impl Redactor {
    /// Registers a secret so that no later output shows it.
    pub fn register(&self, secret: &SecretString) {
        if secret.expose_secret().len() < MIN_LEN {
            return;
        }
        let mut secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        if !secrets
            .iter()
            .any(|s| s.expose_secret() == secret.expose_secret())
        {
            secrets.push(secret.clone());
            // Longest first, so that a secret containing another is replaced whole.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.expose_secret().len()));
        }
    }

    /// The text with every registered secret replaced by `[redacted]`.
    pub fn redact(&self, text: &str) -> String {
        let secrets = self.secrets.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = text.to_owned();
        for s in secrets.iter() {
            if out.contains(s.expose_secret()) {
                out = out.replace(s.expose_secret(), REDACTED);
            }
        }
        out
    }
}

/// Whether two secrets are equal, compared without printing either.
pub fn same(a: &SecretString, b: &SecretString) -> bool {
    let (a, b) = (a.expose_secret().as_bytes(), b.expose_secret().as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_replaced_longest_first() {
        let r = Redactor::default();
        r.register(&SecretString::from("glpat-abcdef"));
        r.register(&SecretString::from("glpat-abcdef-long"));
        r.register(&SecretString::from("ab"));
        assert_eq!(
            r.redact("a glpat-abcdef-long and glpat-abcdef, ab"),
            "a [redacted] and [redacted], ab"
        );
    }

    #[test]
    fn clones_share_the_registry() {
        let r = Redactor::default();
        let c = r.clone();
        c.register(&SecretString::from("canary-123"));
        assert_eq!(r.redact("x canary-123"), "x [redacted]");
    }
}
