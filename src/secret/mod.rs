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

/// The fewest characters a token may have: shorter is a slip of the keyboard, not a token.
pub const TOKEN_MIN_CHARS: usize = 8;
/// The most characters a token may have (GitLab's are under 100; Zendesk's under 100).
pub const TOKEN_MAX_CHARS: usize = 4096;
/// How much of stdin `--token-stdin` reads at most: a token line and a little slack.
const STDIN_LIMIT: u64 = 16 * 1024;

/// Why a token could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum TokenLineError {
    /// The input could not be read.
    #[error("cannot be read: {0}")]
    Io(#[from] std::io::Error),
    /// More input than any token line.
    #[error("holds more than {} KiB; a token is one short line", STDIN_LIMIT / 1024)]
    TooMuch,
    /// Not UTF-8 text.
    #[error("is not text (not UTF-8)")]
    NotText,
    /// The first line is empty.
    #[error("has no token (an empty first line)")]
    Empty,
    /// A second line that is not empty: which of the two was meant is not known.
    #[error("has a second non-empty line; give the token alone, on one line")]
    SecondLine,
    /// The token has spaces inside.
    #[error("has spaces inside the token; a token is one word")]
    Spaces,
    /// A control, format or byte-order-mark character, invisible when pasted.
    #[error(
        "holds an invisible character ({0}) inside the token; copy the token again, without it"
    )]
    Invisible(&'static str),
    /// Too short or too long.
    #[error("holds a token of {0} characters; a token has {TOKEN_MIN_CHARS} to {TOKEN_MAX_CHARS}")]
    Length(usize),
}

/// Reads a token from `input` (`--token-stdin`), at most 16 KiB of it, straight into a secret:
/// one line, then nothing but blank lines.
pub fn read_token_line(input: impl std::io::Read) -> Result<SecretString, TokenLineError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    let read = input.take(STDIN_LIMIT + 1).read_to_end(&mut bytes);
    let text = match (read, bytes.len() as u64 > STDIN_LIMIT) {
        (Err(e), _) => Err(TokenLineError::Io(e)),
        (Ok(_), true) => Err(TokenLineError::TooMuch),
        (Ok(_), false) => std::str::from_utf8(&bytes)
            .map_err(|_| TokenLineError::NotText)
            .map(parse_token_text),
    };
    zeroize::Zeroize::zeroize(&mut bytes);
    text?
}

/// The token of a `--token-stdin` text: its first line, checked.
fn parse_token_text(text: &str) -> Result<SecretString, TokenLineError> {
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or_default();
    if lines.any(|l| !l.trim().is_empty()) {
        return Err(TokenLineError::SecondLine);
    }
    let token = SecretString::from(first.trim_matches([' ', '\t', '\r']).to_owned());
    check_token(&token)?;
    Ok(token)
}

/// Checks a token before it goes anywhere (stdin or a hidden paste): 8 to 4,096 characters, no
/// space, and no control, format or byte-order-mark character (which a paste can carry unseen).
pub fn check_token(token: &SecretString) -> Result<(), TokenLineError> {
    let value = token.expose_secret();
    if value.is_empty() {
        return Err(TokenLineError::Empty);
    }
    if let Some(what) = value.chars().find_map(invisible) {
        return Err(TokenLineError::Invisible(what));
    }
    if value.chars().any(char::is_whitespace) {
        return Err(TokenLineError::Spaces);
    }
    let n = value.chars().count();
    if !(TOKEN_MIN_CHARS..=TOKEN_MAX_CHARS).contains(&n) {
        return Err(TokenLineError::Length(n));
    }
    Ok(())
}

/// What kind of invisible character `c` is, if it is one: Unicode's control (Cc) and format
/// (Cf) characters, the byte-order mark among them.
fn invisible(c: char) -> Option<&'static str> {
    if c == '\u{feff}' {
        return Some("a byte-order mark");
    }
    if c.is_control() {
        return Some("a control character");
    }
    let format = matches!(c as u32,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x890..=0x891 | 0x8E2 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F);
    format.then_some("a format character")
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

/// The prefixes of the vendors' tokens: a value that starts with one is a token, not an id.
const TOKEN_PREFIXES: &[&str] = &[
    "glpat-", "glptt-", "gloas-", "glrt-", "gldt-", "glsoat-", "glcbt-", "glffct-", "glimt-",
    "glagent-", "glft-", "glrtr-",
];

/// Whether a text holds something that looks like a secret, anywhere in it: a vendor token
/// prefix, or a run of 32 or more letters and digits (Zendesk's tokens: 40 alphanumerics, 64 hex
/// digits).
pub fn looks_like_a_token(text: &str) -> bool {
    TOKEN_PREFIXES.iter().any(|p| text.contains(p))
        || text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|run| run.len() >= 32)
}

/// Whether a token is one of GitLab's (its documented prefix): where it may be sent is
/// GitLab's origin, and nowhere else.
pub fn is_gitlab_token(token: &SecretString) -> bool {
    TOKEN_PREFIXES
        .iter()
        .any(|p| token.expose_secret().starts_with(p))
}

/// Whether a token has at least `min` characters and no white space: a value cut short (a
/// list's first characters given where the whole token was expected) is not a token.
pub fn whole_token(token: &SecretString, min: usize) -> bool {
    let t = token.expose_secret();
    t.chars().count() >= min && !t.chars().any(char::is_whitespace)
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
            read_token_line(&b"glpat-abcdefgh\r\n\n"[..])
                .unwrap()
                .expose_secret(),
            "glpat-abcdefgh"
        );
        let refused = |input: &[u8]| read_token_line(input).unwrap_err();
        assert!(matches!(refused(b"\n"), TokenLineError::Empty));
        assert!(matches!(refused(b""), TokenLineError::Empty));
        assert!(matches!(refused(b"two words\n"), TokenLineError::Spaces));
        assert!(matches!(refused(b"abc\n"), TokenLineError::Length(3)));
        assert!(matches!(
            refused(b"glpat-abcdefgh\nglpat-other123\n"),
            TokenLineError::SecondLine
        ));
        for bad in [
            "glpat-abc\u{0}defgh",
            "\u{feff}glpat-abcdefgh",
            "glpat-abc\u{200b}defgh",
            "glpat-\u{1b}[31mabcdefgh",
        ] {
            assert!(
                matches!(refused(bad.as_bytes()), TokenLineError::Invisible(_)),
                "{bad:?}"
            );
        }
        assert!(matches!(
            refused(&[0xff, 0xfe, 0x41]),
            TokenLineError::NotText
        ));
        let huge = vec![b'a'; 20_000];
        assert!(matches!(refused(&huge), TokenLineError::TooMuch));
        let long = vec![b'a'; 4097];
        assert!(matches!(refused(&long), TokenLineError::Length(4097)));
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
