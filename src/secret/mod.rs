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

/// How many characters a secret has (for "captured (N characters)"), without showing it.
pub fn char_count(secret: &SecretString) -> usize {
    secret.expose_secret().chars().count()
}

/// Why a token line could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TokenLineError {
    /// The input could not be read.
    #[error("cannot be read: {0}")]
    Io(#[from] std::io::Error),
    /// The first line is empty.
    #[error("has no token (an empty first line)")]
    Empty,
    /// The first line has spaces inside.
    #[error("has spaces inside its first line; a token is one word")]
    Spaces,
}

/// Reads a token from the first line of `input` (`--token-stdin`), straight into a secret.
pub fn read_token_line(mut input: impl std::io::BufRead) -> Result<SecretString, TokenLineError> {
    let mut line = String::new();
    input.read_line(&mut line)?;
    let token = SecretString::from(line.trim().to_owned());
    zeroize::Zeroize::zeroize(&mut line);
    if token.expose_secret().is_empty() {
        return Err(TokenLineError::Empty);
    }
    if token.expose_secret().chars().any(char::is_whitespace) {
        return Err(TokenLineError::Spaces);
    }
    Ok(token)
}

/// Whether two secrets are equal, compared without printing either.
pub fn same(a: &SecretString, b: &SecretString) -> bool {
    use subtle::ConstantTimeEq;
    // In constant time: how much of a token matched must not show in how long it took.
    a.expose_secret()
        .as_bytes()
        .ct_eq(b.expose_secret().as_bytes())
        .into()
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
    fn a_token_line_is_one_word() {
        assert_eq!(
            read_token_line(&b"glpat-abc\r\n"[..])
                .unwrap()
                .expose_secret(),
            "glpat-abc"
        );
        assert!(matches!(
            read_token_line(&b"\n"[..]),
            Err(TokenLineError::Empty)
        ));
        assert!(matches!(
            read_token_line(&b""[..]),
            Err(TokenLineError::Empty)
        ));
        assert!(matches!(
            read_token_line(&b"two words\n"[..]),
            Err(TokenLineError::Spaces)
        ));
        assert_eq!(char_count(&SecretString::from("éa")), 2);
    }

    #[test]
    fn clones_share_the_registry() {
        let r = Redactor::default();
        let c = r.clone();
        c.register(&SecretString::from("canary-123"));
        assert_eq!(r.redact("x canary-123"), "x [redacted]");
    }
}
