//! What a failed call says: the error type, and the vendor's message as the operator reads it,
//! every secret of the run replaced before anything is cut.

use super::*;

/// A call that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The vendor answered with an error status.
    #[error("{method} {url}: {}", status_line(.status, .message))]
    Status {
        /// Method.
        method: Method,
        /// URL (secrets redacted).
        url: String,
        /// Status.
        status: StatusCode,
        /// The vendor's message (secrets redacted).
        message: String,
        /// `Retry-After`, for a 429.
        retry_after: Option<Duration>,
    },
    /// No answer: connection refused or reset, timeout.
    #[error("{method} {url}: {message}")]
    Transport {
        /// Method.
        method: Method,
        /// URL.
        url: String,
        /// What happened.
        message: String,
        /// Whether the request may have reached the server (not a refused connection).
        maybe_sent: bool,
    },
    /// An answer that is not what the vendor documents.
    #[error("{method} {url}: unexpected answer: {message}")]
    Decode {
        /// Method.
        method: Method,
        /// URL.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// A redirect to another origin, not followed so that no credential leaves for it.
    #[error(
        "{method} {url}: redirected to another origin ({location}); not followed, so no credential was sent there"
    )]
    CrossOriginRedirect {
        /// Method.
        method: Method,
        /// URL.
        url: String,
        /// Where it pointed.
        location: String,
    },
    /// A redirect answering a call that changes something: never followed, because following
    /// it sends the call a second time, and the server may have carried out the first.
    #[error(
        "{method} {url}: answered with a redirect ({status}, to {location}); not followed, so the call was sent once and its outcome is not known"
    )]
    Redirected {
        /// Method.
        method: Method,
        /// URL.
        url: String,
        /// The 3xx status.
        status: StatusCode,
        /// Where it pointed.
        location: String,
    },
    /// An answer larger than any the vendor sends: not read further.
    #[error(
        "{method} {url}: the answer is larger than {} MiB, more than any the vendor sends; not read further",
        MAX_BODY / (1024 * 1024)
    )]
    TooLarge {
        /// Method.
        method: Method,
        /// URL.
        url: String,
    },
    /// A list longer than any tokrot reads, or next-page links that go round in a circle.
    #[error(
        "{method} {url}: {message}; the list was not read to its end, so nothing was decided on a part of it"
    )]
    Endless {
        /// Method.
        method: Method,
        /// URL.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// The vendor's rate limit asks for a longer wait than the run accepts (`--max-wait`): the
    /// call was refused by the vendor (a 429) or never sent.
    #[error(
        "{method} {url}: {}the rate limit asks for a wait of {} s, longer than --max-wait ({} s); {}{}",
        if *.answered { "429 Too Many Requests: " } else { "" },
        .wait.as_secs_f64().ceil(),
        .max_wait.as_secs(),
        if *.answered { "the vendor did not carry the call out" } else { "the call was not sent" },
        if *.earlier { " (an earlier attempt, which got no clear answer, may have been)" } else { "" }
    )]
    RateLimited {
        /// Method.
        method: Method,
        /// URL.
        url: String,
        /// The wait asked for.
        wait: Duration,
        /// The run's --max-wait.
        max_wait: Duration,
        /// Whether the vendor answered (429) or the call was held back before it was sent.
        answered: bool,
        /// Whether an earlier attempt of the call got no clear answer (it may have been
        /// carried out).
        earlier: bool,
    },
    /// The request could not be built.
    #[error("{0}")]
    Client(String),
}

impl ApiError {
    /// The HTTP status, when the vendor answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            ApiError::RateLimited { answered: true, .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            _ => None,
        }
    }

    /// Whether the server may have carried out a non-idempotent call despite the error: no
    /// answer after the request left, or a 5xx.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            ApiError::Transport { maybe_sent, .. } => *maybe_sent,
            ApiError::Status { status, .. } => status.is_server_error(),
            ApiError::Decode { .. } | ApiError::Redirected { .. } | ApiError::TooLarge { .. } => {
                true
            }
            ApiError::RateLimited { earlier, .. } => *earlier,
            _ => false,
        }
    }
}

/// The most characters of a vendor's message that an error shows.
pub(super) const MESSAGE_CHARS: usize = 300;

/// The vendor's message from an error body, in any of the documented shapes. Every secret of
/// the run is replaced before anything is cut, so a cut never leaves part of one.
pub fn vendor_message(body: &[u8], redactor: &Redactor) -> String {
    let text = redactor.redact(&String::from_utf8_lossy(body));
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".into();
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        let mut parts = Vec::new();
        for key in [
            "message",
            "error",
            "title",
            "error_description",
            "description",
            "details",
            "errors",
        ] {
            if let Some(value) = v.get(key) {
                let flat = flatten(value);
                if !flat.is_empty() && !parts.contains(&flat) {
                    parts.push(flat);
                }
            }
        }
        if !parts.is_empty() {
            // JSON escapes (`\/`, `\u0041`) hid nothing from the first pass, but the decoded
            // text is checked again.
            return cut(&redactor.redact(&parts.join(": ")));
        }
    }
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("<!doctype") || lower.starts_with("<html") {
        return "(an HTML page instead of an API answer)".into();
    }
    cut(text)
}

/// The status and the vendor's message, each thing said once: GitLab's body repeats the
/// status (`404 Project Not Found`, `401 Unauthorized`), Zendesk's its reason
/// (`RecordNotFound: Not found`). A part of the message that is only the status or its reason
/// is left out; a message that starts with the status code stands alone.
pub(super) fn status_line(status: &StatusCode, message: &str) -> String {
    let reason = status.canonical_reason().unwrap_or_default();
    let full = status.to_string();
    let parts: Vec<&str> = message
        .split(": ")
        .filter(|p| {
            let p = p.trim();
            !p.is_empty() && !p.eq_ignore_ascii_case(reason) && !p.eq_ignore_ascii_case(&full)
        })
        .collect();
    let message = parts.join(": ");
    let code = status.as_str();
    if message.is_empty() {
        full
    } else if message
        .strip_prefix(code)
        .is_some_and(|rest| rest.starts_with(' '))
    {
        message
    } else {
        format!("{full} {message}")
    }
}

/// At most `MESSAGE_CHARS` characters of an already redacted text, saying when it was cut.
pub(super) fn cut(text: &str) -> String {
    match text.char_indices().nth(MESSAGE_CHARS) {
        None => text.to_owned(),
        Some((at, _)) => format!("{}… (cut)", &text[..at]),
    }
}

pub(super) fn flatten(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(flatten)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                    format!("{k} {}", flatten(v))
                }
                _ => format!("{k}: {}", flatten(v)),
            })
            .collect::<Vec<_>>()
            .join("; "),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A decoder's message without the values it quotes (`invalid type: string "…"`): a field of
/// an unexpected shape may hold a token that was never registered as a secret.
pub(crate) fn without_values(message: &str) -> String {
    // serde's position (" at line 1 column 10") is kept; it is numbers only.
    let (body, at) = message
        .rfind(" at line ")
        .map_or((message, ""), |i| message.split_at(i));
    // From the first double quote on, anything may be a value, escaped quotes included.
    let body = match body.find('"') {
        Some(i) => format!("{}\"…\"", &body[..i]),
        None => body.to_owned(),
    };
    // Backticks name a field ("missing field `token`") or quote a value ("unknown variant
    // `…`"): only what reads as a field name stays.
    let mut out = String::new();
    for (k, part) in body.split('`').enumerate() {
        let field = part.len() <= 32
            && !part.is_empty()
            && part.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        match (k % 2, field) {
            (0, _) => out.push_str(part),
            (_, true) => out.push_str(&format!("`{part}`")),
            (_, false) => out.push_str("`…`"),
        }
    }
    out.push_str(at);
    out
}
