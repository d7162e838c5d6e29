//! The policy every vendor call shares: a checked base URL, `User-Agent: tokrot/<version>`,
//! explicit timeouts, redirects followed only within the same origin (reqwest keeps custom
//! headers such as `PRIVATE-TOKEN` across hosts, so a cross-origin redirect is never followed),
//! credentials as sensitive headers, retries only for idempotent calls, and errors that carry the
//! vendor's message with every secret of the run redacted.

use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use url::Url;

use crate::config::display_url;
use crate::secret::Redactor;

/// `tokrot/<version>`, sent with every request.
pub const USER_AGENT: &str = concat!("tokrot/", env!("CARGO_PKG_VERSION"));

/// How a call authenticates.
pub enum Credential {
    /// A header holding the token as is (GitLab's `PRIVATE-TOKEN`).
    Header(HeaderName, SecretString),
    /// `Authorization: Bearer <token>`.
    Bearer(SecretString),
    /// `Authorization: Basic base64(user:secret)` (Zendesk's `{email}/token:{token}`).
    Basic(String, SecretString),
}

impl Credential {
    /// Puts the credential on a request, in a header marked sensitive (reqwest's
    /// `bearer_auth` and `basic_auth` mark theirs). A value that cannot go in a header is
    /// refused here, before anything is sent.
    fn apply(&self, req: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, ApiError> {
        let bad =
            || ApiError::Client("a credential holds characters that cannot go in a header".into());
        Ok(match self {
            Credential::Header(name, secret) => {
                let mut value = HeaderValue::from_str(secret.expose_secret()).map_err(|_| bad())?;
                value.set_sensitive(true);
                req.header(name.clone(), value)
            }
            Credential::Bearer(secret) => {
                HeaderValue::from_str(secret.expose_secret()).map_err(|_| bad())?;
                req.bearer_auth(secret.expose_secret())
            }
            Credential::Basic(user, secret) => req.basic_auth(user, Some(secret.expose_secret())),
        })
    }
}

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

/// The largest answer tokrot reads: vendors' answers are a few KiB; a list page of 100 items,
/// some hundreds.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// The most pages a list is followed for (100 items a page: 20,000 items).
pub const MAX_PAGES: usize = 200;

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

/// When and how often a call is tried again.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Time in all, from the first attempt, after which no retry starts on a backoff of
    /// tokrot's own (a server that names no wait).
    pub max_total: Duration,
    /// The first backoff, doubled at each retry when the server names no wait.
    pub base: Duration,
    /// The longest backoff of tokrot's own.
    pub max_backoff: Duration,
    /// The longest wait a vendor may ask for (`--max-wait`): a wait it names, or the end of a
    /// spent rate-limit window, is honoured up to this, in all for one call; past it the call
    /// fails.
    pub max_wait: Duration,
    /// How long one request may take before it counts as lost.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            max_total: Duration::from_secs(120),
            base: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            max_wait: Duration::from_secs(900),
            timeout: Duration::from_secs(30),
        }
    }
}

/// What went wrong with one attempt, as the retry policy sees it.
#[derive(Debug, Clone, Copy)]
pub enum Failure<'a> {
    /// An answer with this status and headers.
    Status(StatusCode, &'a HeaderMap),
    /// No answer (connection reset, timeout): the request may have gone out.
    Transport,
    /// The host cannot be reached at all (connection refused, no such host, a TLS failure):
    /// trying again in a second changes nothing, and a run that retries it says nothing for
    /// minutes.
    Unreachable,
}

/// Why no further attempt is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// The call may not be sent twice, or the failure is not one to retry, or the attempts or
    /// the time are spent.
    Done,
    /// The vendor asks for a wait longer than `--max-wait` allows.
    WaitTooLong(Duration),
}

impl RetryPolicy {
    /// Whether a method may be sent twice: GET, PUT, PATCH, DELETE. A POST (rotate, create)
    /// is never retried: GitLab's rotate revokes the token family when it is repeated.
    pub fn idempotent(method: &Method) -> bool {
        matches!(
            *method,
            Method::GET | Method::HEAD | Method::PUT | Method::PATCH | Method::DELETE
        )
    }

    /// The wait before the next attempt. `attempts` is how many were made, `elapsed` the time
    /// since the first, `now` this machine's clock (for a reset given as a time).
    pub fn delay(
        &self,
        method: &Method,
        attempts: u32,
        failure: Failure<'_>,
        elapsed: Duration,
        now: SystemTime,
    ) -> Result<Duration, GiveUp> {
        if !Self::idempotent(method) || attempts >= self.max_attempts {
            return Err(GiveUp::Done);
        }
        let named = match failure {
            Failure::Unreachable => return Err(GiveUp::Done),
            Failure::Transport => None,
            Failure::Status(status, headers) => {
                let retryable = matches!(status.as_u16(), 429 | 502 | 503 | 504);
                if !retryable {
                    return Err(GiveUp::Done);
                }
                server_wait(status, headers, now)
            }
        };
        match named {
            // A wait the vendor names is honoured as named, within --max-wait for the call.
            Some(wait) if elapsed + wait <= self.max_wait => Ok(wait),
            Some(wait) => Err(GiveUp::WaitTooLong(wait)),
            None => {
                let backoff = self.base.saturating_mul(1 << (attempts - 1).min(16));
                let wait = backoff.min(self.max_backoff);
                match elapsed + wait <= self.max_total {
                    true => Ok(wait),
                    false => Err(GiveUp::Done),
                }
            }
        }
    }
}

/// The wait a server asks for: `Retry-After` (seconds or a date), else, for a 429 or a spent
/// window, the end of the rate-limit window, all read by the rate budget's one reader.
pub fn server_wait(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let said = super::budget::read(headers, now);
    let spent = status == StatusCode::TOO_MANY_REQUESTS || said.remaining == Some(0);
    said.retry_after.or(said.reset.filter(|_| spent))
}

/// The `rel="next"` URL of a `Link` header.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(reqwest::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"" || p.trim() == "rel=next");
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

/// The most characters of a vendor's message that an error shows.
const MESSAGE_CHARS: usize = 300;

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
fn status_line(status: &StatusCode, message: &str) -> String {
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
fn cut(text: &str) -> String {
    match text.char_indices().nth(MESSAGE_CHARS) {
        None => text.to_owned(),
        Some((at, _)) => format!("{}… (cut)", &text[..at]),
    }
}

fn flatten(v: &serde_json::Value) -> String {
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

/// One request.
pub struct Call<'a> {
    /// Method.
    pub method: Method,
    /// Path below the base URL, already percent-encoded, starting with `/`.
    pub path: String,
    /// Query parameters.
    pub query: Vec<(&'a str, String)>,
    /// JSON body.
    pub body: Option<serde_json::Value>,
    /// The credential, if any.
    pub credential: Option<&'a Credential>,
}

impl<'a> Call<'a> {
    /// A call without query or body.
    pub fn new(
        method: Method,
        path: impl Into<String>,
        credential: Option<&'a Credential>,
    ) -> Self {
        Self {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            credential,
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &'a str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    /// Sets the JSON body.
    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }
}

/// A successful answer.
pub struct Answer {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Vec<u8>,
}

/// What one attempt came to, when it is not an error to report.
enum Next {
    /// A 2xx answer.
    Done(Answer),
    /// Try again after this wait; `true` when this attempt may have been carried out.
    Retry(Duration, bool),
}

/// Where one attempt stands in the retry budget.
struct Attempt {
    /// How many attempts were made, this one included.
    attempts: u32,
    /// When the first attempt started.
    started: Instant,
}

impl Attempt {
    /// The wait before the next attempt after `failure`, or why there is none.
    fn delay(
        &self,
        policy: &RetryPolicy,
        method: &Method,
        failure: Failure<'_>,
    ) -> Result<Duration, GiveUp> {
        policy.delay(
            method,
            self.attempts,
            failure,
            self.started.elapsed(),
            SystemTime::now(),
        )
    }
}

/// A reqwest client with tokrot's user agent, timeouts and redirect policy.
fn client(
    policy: &RetryPolicy,
    redirect: reqwest::redirect::Policy,
) -> Result<reqwest::Client, ApiError> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .timeout(policy.timeout)
        .redirect(redirect)
        .build()
        .map_err(|e| ApiError::Client(format!("cannot build the HTTP client: {e}")))
}

/// A client for one vendor base URL.
#[derive(Clone)]
pub struct Http {
    /// For reads: redirects followed within the origin.
    reads: reqwest::Client,
    /// For calls that change something: no redirect is ever followed, since following one
    /// sends the call again (a rotate call twice revokes the whole token family). Made on the
    /// first such call: a client loads the system's root certificates, which takes time.
    writes: std::sync::Arc<std::sync::OnceLock<reqwest::Client>>,
    base: Url,
    redactor: Redactor,
    policy: RetryPolicy,
    /// The rate budget of the host, shared with every client of it in the process.
    budget: std::sync::Arc<super::budget::Budget>,
}

impl Http {
    /// A client for `base`, which must already have passed the URL rule.
    pub fn new(base: Url, redactor: Redactor, policy: RetryPolicy) -> Result<Self, ApiError> {
        let origin = base.origin();
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.stop()
            } else if attempt.url().origin() == origin {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        Ok(Self {
            reads: client(&policy, redirect)?,
            writes: std::sync::Arc::default(),
            budget: super::budget::of(&base.origin().ascii_serialization()),
            base,
            redactor,
            policy,
        })
    }

    /// The client for calls that change something, made on first use.
    fn writes_client(&self) -> Result<&reqwest::Client, ApiError> {
        if let Some(c) = self.writes.get() {
            return Ok(c);
        }
        let made = client(&self.policy, reqwest::redirect::Policy::none())?;
        Ok(self.writes.get_or_init(|| made))
    }

    /// The run's redactor: a secret an answer brings is registered with it.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// The base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The call's URL. A path that the URL parser would resolve elsewhere (a `.` or `..`
    /// segment, even percent-encoded) is refused: `/projects/../hooks/9` is GitLab's admin
    /// `/hooks/9`. Values are checked long before this; this is the last line.
    fn url(&self, call: &Call<'_>) -> Result<Url, ApiError> {
        let joined = format!("{}{}", display_url(&self.base), call.path);
        let mut url = Url::parse(&joined)
            .map_err(|e| ApiError::Client(format!("bad request path {}: {e}", call.path)))?;
        let expected = format!("{}{}", self.base.path().trim_end_matches('/'), call.path);
        if url.path() != expected {
            return Err(ApiError::Client(format!(
                "the request path {} does not stay where it points (a `.` or `..` segment); nothing was sent",
                self.redactor.redact(&call.path)
            )));
        }
        if !call.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &call.query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    fn shown(&self, url: &Url) -> String {
        self.redactor.redact(url.as_str())
    }

    /// Sends a call with the retry policy; any non-2xx answer is an error.
    pub async fn send(&self, call: Call<'_>) -> Result<Answer, ApiError> {
        let url = self.url(&call)?;
        self.send_to(&call, url).await
    }

    async fn send_to(&self, call: &Call<'_>, url: Url) -> Result<Answer, ApiError> {
        let started = Instant::now();
        let mut attempts: u32 = 0;
        let mut uncertain = false;
        loop {
            attempts += 1;
            match self.attempt(call, &url, attempts, started).await {
                Ok(Next::Done(answer)) => return Ok(answer),
                Ok(Next::Retry(wait, maybe_done)) => {
                    uncertain |= maybe_done;
                    tokio::time::sleep(wait).await;
                }
                Err(mut e) => {
                    // Refused for the rate limit now, but an earlier attempt may have been
                    // carried out: the error says so.
                    if let ApiError::RateLimited { earlier, .. } = &mut e {
                        *earlier = uncertain;
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Sends the call once: its answer, the wait before trying again, or the error to report.
    async fn attempt(
        &self,
        call: &Call<'_>,
        url: &Url,
        attempts: u32,
        started: Instant,
    ) -> Result<Next, ApiError> {
        let req = self.request(call, url)?;
        tracing::debug!(method = %call.method, url = %self.shown(url), attempt = attempts, "request");
        let attempt = Attempt { attempts, started };
        // The rate budget's waits and the vendor's count within one call's --max-wait.
        let left = self.policy.max_wait.saturating_sub(started.elapsed());
        let ticket = self
            .budget
            .take(left)
            .await
            .map_err(|too_long| ApiError::RateLimited {
                method: call.method.clone(),
                url: self.shown(url),
                wait: too_long.wait,
                max_wait: self.policy.max_wait,
                answered: false,
                earlier: false,
            })?;
        match req.send().await {
            Err(e) => self.no_answer(call, url, &e, &attempt),
            Ok(resp) => {
                let said = super::budget::read(resp.headers(), SystemTime::now());
                self.budget.observe(ticket, &said);
                self.read_answer(call, url, resp, &attempt).await
            }
        }
    }

    /// One attempt's request. A read goes through the client that follows same-origin
    /// redirects; anything else through the one that follows none.
    fn request(&self, call: &Call<'_>, url: &Url) -> Result<reqwest::RequestBuilder, ApiError> {
        let client = if matches!(call.method, Method::GET | Method::HEAD) {
            &self.reads
        } else {
            self.writes_client()?
        };
        let mut req = client
            .request(call.method.clone(), url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(c) = call.credential {
            req = c.apply(req)?;
        }
        if let Some(body) = &call.body {
            req = req.json(body);
        }
        Ok(req)
    }

    /// A request that got no answer: the wait before trying again, or the transport error.
    fn no_answer(
        &self,
        call: &Call<'_>,
        url: &Url,
        e: &reqwest::Error,
        attempt: &Attempt,
    ) -> Result<Next, ApiError> {
        let maybe_sent = !(e.is_connect() || e.is_builder());
        let err = ApiError::Transport {
            method: call.method.clone(),
            url: self.shown(url),
            message: self.redactor.redact(&describe_transport(e)),
            maybe_sent,
        };
        // A certificate refused now is refused on the next try too; so is a host that refuses
        // connections or has no address.
        let failure = match find_tls(e).is_some() || unreachable(e) {
            true => Failure::Unreachable,
            false => Failure::Transport,
        };
        match attempt.delay(&self.policy, &call.method, failure) {
            Ok(wait) => {
                // A wait the operator would notice is said; a short one only with -v.
                if wait >= Duration::from_secs(2) {
                    tracing::warn!("{err}; trying again in {:.1} s", wait.as_secs_f64());
                } else {
                    tracing::info!("{err}; trying again in {:.1} s", wait.as_secs_f64());
                }
                Ok(Next::Retry(wait, maybe_sent))
            }
            Err(_) => Err(err),
        }
    }

    /// Reads an answer: a success, the wait before trying again after a retryable status, or
    /// the error (redirects are never followed here, and never sent on for a non-read).
    async fn read_answer(
        &self,
        call: &Call<'_>,
        url: &Url,
        resp: reqwest::Response,
        attempt: &Attempt,
    ) -> Result<Next, ApiError> {
        let status = resp.status();
        let headers = resp.headers().clone();
        tracing::debug!(method = %call.method, url = %self.shown(url), status = status.as_u16(), "answer");
        if status.is_redirection() {
            return Err(self.redirect_error(call, url, status, &headers));
        }
        let body = self.read_body(call, url, resp).await?;
        if status.is_success() {
            return Ok(Next::Done(Answer {
                status,
                headers,
                body,
            }));
        }
        let failure = Failure::Status(status, &headers);
        let limited = status == StatusCode::TOO_MANY_REQUESTS;
        if limited && let Some(wait) = server_wait(status, &headers, SystemTime::now()) {
            // The vendor's limit holds every call to the host, whatever becomes of this one
            // (a one-shot call is not tried again).
            self.budget.hold(wait);
        }
        match attempt.delay(&self.policy, &call.method, failure) {
            Ok(wait) => {
                let line = format!(
                    "{} {}: {}; trying again in {:.1} s",
                    call.method,
                    self.shown(url),
                    status,
                    wait.as_secs_f64()
                );
                if limited {
                    // The vendor's limit holds every call to the host, not this one alone; the
                    // budget says a long wait once.
                    self.budget.hold(wait);
                    tracing::info!("{line}");
                    return Ok(Next::Retry(Duration::ZERO, false));
                }
                // A wait the operator would notice is said; a short one only with -v.
                if wait >= Duration::from_secs(2) {
                    tracing::warn!("{line}");
                } else {
                    tracing::info!("{line}");
                }
                return Ok(Next::Retry(wait, status.is_server_error()));
            }
            Err(GiveUp::WaitTooLong(wait)) if limited => {
                return Err(ApiError::RateLimited {
                    method: call.method.clone(),
                    url: self.shown(url),
                    wait,
                    max_wait: self.policy.max_wait,
                    answered: true,
                    earlier: false,
                });
            }
            Err(_) => {}
        }
        Err(ApiError::Status {
            method: call.method.clone(),
            url: self.shown(url),
            status,
            message: vendor_message(&body, &self.redactor),
            retry_after: server_wait(status, &headers, SystemTime::now()),
        })
    }

    /// Reads a body of at most `MAX_BODY` bytes: a larger one (announced or streamed) is an
    /// error, never cut silently and never held whole in memory.
    async fn read_body(
        &self,
        call: &Call<'_>,
        url: &Url,
        mut resp: reqwest::Response,
    ) -> Result<Vec<u8>, ApiError> {
        let too_large = || ApiError::TooLarge {
            method: call.method.clone(),
            url: self.shown(url),
        };
        if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        loop {
            let chunk = resp.chunk().await.map_err(|e| ApiError::Transport {
                method: call.method.clone(),
                url: self.shown(url),
                message: self.redactor.redact(&describe_transport(&e)),
                maybe_sent: true,
            })?;
            let Some(chunk) = chunk else {
                return Ok(body);
            };
            if body.len() + chunk.len() > MAX_BODY {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
    }

    /// The error for a 3xx that was not followed: a call that changes something is never sent
    /// again, and a read got here only because the redirect left the origin.
    fn redirect_error(
        &self,
        call: &Call<'_>,
        url: &Url,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> ApiError {
        let location = headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("?")
            .to_owned();
        if !matches!(call.method, Method::GET | Method::HEAD) {
            return ApiError::Redirected {
                method: call.method.clone(),
                url: self.shown(url),
                status,
                location: self.redactor.redact(&location),
            };
        }
        ApiError::CrossOriginRedirect {
            method: call.method.clone(),
            url: self.shown(url),
            location: self.redactor.redact(&location),
        }
    }

    /// Sends a call and decodes its JSON answer.
    pub async fn json<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, ApiError> {
        let method = call.method.clone();
        let url = self.url(&call)?;
        let answer = self.send_to(&call, url.clone()).await?;
        decode(&answer.body).map_err(|message| ApiError::Decode {
            method,
            url: self.shown(&url),
            message: self.redactor.redact(&message),
        })
    }

    /// Sends a GET with cursor pagination (Zendesk: `page[size]`, `meta.has_more`, `links.next`)
    /// and gathers the `key` array of every page.
    pub async fn cursor_paged<T: DeserializeOwned>(
        &self,
        call: Call<'_>,
        key: &str,
    ) -> Result<Vec<T>, ApiError> {
        self.pages(call, |answer| {
            let page: serde_json::Value = decode(&answer.body)?;
            let items = page
                .get(key)
                .cloned()
                .ok_or_else(|| format!("no `{key}` list in the answer"))?;
            let items: Vec<T> =
                serde_json::from_value(items).map_err(|e| format!("`{key}`: {e}"))?;
            let has_more = page
                .pointer("/meta/has_more")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false);
            let offset_next = page.get("next_page").and_then(serde_json::Value::as_str);
            let cursor_next = page
                .pointer("/links/next")
                .and_then(serde_json::Value::as_str)
                .filter(|_| has_more);
            if has_more && cursor_next.is_none() && offset_next.is_none() {
                return Err("`meta.has_more` is true but the answer has no next-page link".into());
            }
            Ok((items, cursor_next.or(offset_next).map(str::to_owned)))
        })
        .await
    }

    /// Sends a GET and follows `Link: rel="next"` to the last page.
    pub async fn paged<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<Vec<T>, ApiError> {
        self.pages(call, |answer| {
            Ok((decode(&answer.body)?, next_link(&answer.headers)))
        })
        .await
    }

    /// Follows next-page links, read from each answer by `read`, to the last page, at most
    /// `MAX_PAGES` of them; a link back to a page already read is an error, never a silent end.
    /// A link to another origin (Zendesk may name the account's canonical host) is followed on
    /// this client's own origin, same path and cursor: the credential never goes elsewhere.
    async fn pages<T>(
        &self,
        call: Call<'_>,
        read: impl Fn(&Answer) -> Result<(Vec<T>, Option<String>), String>,
    ) -> Result<Vec<T>, ApiError> {
        let mut url = self.url(&call)?;
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let answer = self.send_to(&call, url.clone()).await?;
            let decode_err = |message: String| ApiError::Decode {
                method: call.method.clone(),
                url: self.shown(&url),
                message: self.redactor.redact(&without_values(&message)),
            };
            let (items, next) = read(&answer).map_err(decode_err)?;
            out.extend(items);
            let Some(next) = next else {
                return Ok(out);
            };
            let next =
                Url::parse(&next).map_err(|e| decode_err(format!("bad next-page link: {e}")))?;
            let next = self.on_own_origin(&call, &url, next)?;
            seen.insert(url.clone());
            if seen.contains(&next) {
                return Err(ApiError::Endless {
                    method: call.method.clone(),
                    url: self.shown(&url),
                    message: "the next-page link points back to a page already read".into(),
                });
            }
            url = next;
        }
        Err(ApiError::Endless {
            method: call.method.clone(),
            url: self.shown(&url),
            message: format!("the list goes on past {MAX_PAGES} pages"),
        })
    }

    /// A next-page link on this client's origin: as given when it is already there; else the
    /// same path and query here, when the path lies below this client's base path.
    fn on_own_origin(&self, call: &Call<'_>, from: &Url, next: Url) -> Result<Url, ApiError> {
        if next.origin() == self.base.origin() {
            return Ok(next);
        }
        let base_path = self.base.path().trim_end_matches('/');
        if !next.path().starts_with(&format!("{base_path}/")) {
            return Err(ApiError::CrossOriginRedirect {
                method: call.method.clone(),
                url: self.shown(from),
                location: self.shown(&next),
            });
        }
        let mut here = self.base.clone();
        here.set_path(next.path());
        here.set_query(next.query());
        tracing::debug!(link = %self.shown(&next), "next-page link on another host: read on this one");
        Ok(here)
    }
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    if body.is_empty() {
        return Err("an empty body".into());
    }
    serde_json::from_slice(body).map_err(|e| {
        let text = String::from_utf8_lossy(body).to_ascii_lowercase();
        if text.trim_start().starts_with("<!doctype") || text.trim_start().starts_with("<html") {
            "an HTML page instead of JSON".to_owned()
        } else {
            format!("not the JSON expected ({})", without_values(&e.to_string()))
        }
    })
}

/// What failed in a TLS handshake, when that is why there was no answer: the certificate (and
/// what is wrong with it) or the handshake itself. rustls's error sits somewhere down the chain,
/// sometimes inside an `io::Error` (whose `source` skips it).
fn tls_failure(e: &reqwest::Error) -> Option<String> {
    find_tls(e).map(describe_tls)
}

/// Whether a connection failed in a way a second try a moment later does not mend: refused, or
/// a host name with no address. A connect timeout or an unreachable network may be a moment's
/// hiccup, and is retried like one.
fn unreachable(e: &reqwest::Error) -> bool {
    e.is_connect() && {
        let cause = connect_cause(e);
        cause == "connection refused" || cause.contains("(DNS)")
    }
}

/// Why a connection could not be made, in words: the I/O error's kind, or the resolver's.
fn connect_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => return "connection refused".into(),
                K::TimedOut => return "no answer to the connection in 10 s".into(),
                K::HostUnreachable | K::NetworkUnreachable => {
                    return "host or network unreachable".into();
                }
                _ => {}
            }
        }
        let text = s.to_string();
        if text.contains("dns error") || text.contains("failed to lookup address") {
            return "the host name has no address (DNS)".into();
        }
        source = s.source();
    }
    "no connection".into()
}

/// rustls's error in a chain of errors, looking inside each `io::Error` too.
fn find_tls<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let wrapped = err
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
        .and_then(|inner| find_tls(inner));
    wrapped.or_else(|| err.source().and_then(find_tls))
}

/// A rustls error in words an operator can act on.
fn describe_tls(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::Expired | C::ExpiredContext { .. } => {
                "TLS: the server's certificate has expired".into()
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "TLS: the server's certificate is not valid yet (or this machine's clock is wrong)"
                    .into()
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "TLS: the server's certificate is not valid for this host name".into()
            }
            C::UnknownIssuer => "TLS: the server's certificate is not signed by an authority this machine trusts (self-signed, or a private CA missing from the system's trust store)".into(),
            C::Revoked => "TLS: the server's certificate has been revoked".into(),
            other => format!("TLS: the server's certificate was refused ({other})"),
        },
        other => format!("TLS: the handshake failed ({other})"),
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

fn describe_transport(e: &reqwest::Error) -> String {
    if let Some(tls) = tls_failure(e) {
        tls
    } else if e.is_timeout() {
        "no answer in time (timeout)".into()
    } else if e.is_connect() {
        format!("cannot connect ({})", connect_cause(e))
    } else {
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            msg = format!("{msg}: {s}");
            source = s.source();
        }
        msg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn at(secs: u64) -> SystemTime {
        std::time::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn posts_are_never_retried() {
        let p = RetryPolicy::default();
        let h = headers(&[("retry-after", "1")]);
        for status in [429, 500, 502, 503] {
            let s = StatusCode::from_u16(status).unwrap();
            assert_eq!(
                p.delay(
                    &Method::POST,
                    1,
                    Failure::Status(s, &h),
                    Duration::ZERO,
                    at(0)
                ),
                Err(GiveUp::Done)
            );
        }
        assert_eq!(
            p.delay(&Method::POST, 1, Failure::Transport, Duration::ZERO, at(0)),
            Err(GiveUp::Done)
        );
    }

    #[test]
    fn idempotent_calls_retry_on_429_and_gateway_errors_only() {
        let p = RetryPolicy::default();
        let h = HeaderMap::new();
        for (status, retried) in [
            (429, true),
            (502, true),
            (503, true),
            (504, true),
            (500, false),
            (404, false),
            (401, false),
        ] {
            let s = StatusCode::from_u16(status).unwrap();
            assert_eq!(
                p.delay(
                    &Method::PUT,
                    1,
                    Failure::Status(s, &h),
                    Duration::ZERO,
                    at(0)
                )
                .is_ok(),
                retried,
                "{status}"
            );
        }
        assert!(
            p.delay(&Method::GET, 1, Failure::Transport, Duration::ZERO, at(0))
                .is_ok()
        );
        // A host that cannot be reached is said at once, for every method.
        for m in [Method::GET, Method::PUT, Method::DELETE, Method::POST] {
            assert_eq!(
                p.delay(&m, 1, Failure::Unreachable, Duration::ZERO, at(0)),
                Err(GiveUp::Done)
            );
        }
    }

    #[test]
    fn the_server_named_wait_is_honoured_up_to_max_wait() {
        let p = RetryPolicy::default();
        let s = StatusCode::TOO_MANY_REQUESTS;
        let get = |h: &HeaderMap, elapsed: u64, now: u64| {
            p.delay(
                &Method::GET,
                1,
                Failure::Status(s, h),
                Duration::from_secs(elapsed),
                at(now),
            )
        };
        let h = headers(&[("retry-after", "7")]);
        assert_eq!(get(&h, 0, 0), Ok(Duration::from_secs(7)));
        // GitLab's reset is a Unix time; Zendesk's, seconds.
        let h = headers(&[("ratelimit-reset", "1800000012")]);
        assert_eq!(get(&h, 0, 1_800_000_000), Ok(Duration::from_secs(12)));
        let h = headers(&[("ratelimit-reset", "41")]);
        assert_eq!(get(&h, 0, 1_800_000_000), Ok(Duration::from_secs(41)));
        // gitlab.com may ask for up to a day: honoured up to --max-wait (15 min), not cut.
        let h = headers(&[("retry-after", "600")]);
        assert_eq!(get(&h, 0, 0), Ok(Duration::from_secs(600)));
        let h = headers(&[("retry-after", "3600")]);
        assert_eq!(
            get(&h, 0, 0),
            Err(GiveUp::WaitTooLong(Duration::from_secs(3600)))
        );
        // --max-wait counts every wait of the call.
        let h = headers(&[("retry-after", "600")]);
        assert_eq!(
            get(&h, 400, 0),
            Err(GiveUp::WaitTooLong(Duration::from_secs(600)))
        );
    }

    #[test]
    fn retries_are_bounded_in_count_and_time() {
        let p = RetryPolicy::default();
        let s = StatusCode::SERVICE_UNAVAILABLE;
        let h = HeaderMap::new();
        let get = |attempts, elapsed| {
            p.delay(
                &Method::GET,
                attempts,
                Failure::Status(s, &h),
                Duration::from_secs(elapsed),
                at(0),
            )
        };
        assert_eq!(get(1, 0), Ok(Duration::from_millis(500)));
        assert_eq!(get(3, 0), Ok(Duration::from_secs(2)));
        assert_eq!(get(p.max_attempts, 0), Err(GiveUp::Done));
        assert_eq!(get(5, 119), Err(GiveUp::Done), "past max_total");
    }

    #[test]
    fn link_headers_give_the_next_page() {
        let h = headers(&[(
            "link",
            r#"<https://gitlab.example.com/api/v4/projects/1/triggers?page=2&per_page=100>; rel="next", <https://gitlab.example.com/api/v4/projects/1/triggers?page=1&per_page=100>; rel="first""#,
        )]);
        assert_eq!(
            next_link(&h).unwrap(),
            "https://gitlab.example.com/api/v4/projects/1/triggers?page=2&per_page=100"
        );
        let last = headers(&[(
            "link",
            r#"<https://x/a?page=1>; rel="first", <https://x/a?page=3>; rel="last""#,
        )]);
        assert_eq!(next_link(&last), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn a_message_is_redacted_before_it_is_cut() {
        let r = Redactor::default();
        let secret = "glpat-CUTCANARY-0123456789a";
        r.register(&SecretString::from(secret));
        for body in [
            format!("{}{secret}", "x".repeat(295)),
            format!(r#"{{"message":"{}{secret}"}}"#, "y".repeat(295)),
        ] {
            let message = vendor_message(body.as_bytes(), &r);
            for piece in secret.as_bytes().windows(8) {
                let piece = std::str::from_utf8(piece).unwrap();
                assert!(!message.contains(piece), "{message}");
            }
            assert!(message.ends_with("… (cut)"), "{message}");
        }
    }

    #[test]
    fn tls_failures_say_what_failed() {
        use rustls::CertificateError as C;
        let said = |c: C| describe_tls(&rustls::Error::InvalidCertificate(c));
        assert!(said(C::Expired).contains("has expired"));
        assert!(said(C::NotValidForName).contains("not valid for this host name"));
        assert!(said(C::UnknownIssuer).contains("not signed by an authority"));
        assert!(said(C::NotValidYet).contains("not valid yet"));
    }

    #[test]
    fn a_decode_error_shows_no_value() {
        let err = serde_json::from_str::<u64>(r#""glpat-VALUE-0123""#).unwrap_err();
        let shown = without_values(&err.to_string());
        assert!(!shown.contains("VALUE"), "{shown}");
        assert!(shown.starts_with("invalid type: string"), "{shown}");
        for message in [
            r#"invalid type: string "x\"glpat-LEAKED-0123", expected u64 at line 1 column 9"#,
            "unknown variant `glpat-LEAKED-0123`, expected `a` or `b` at line 1 column 4",
        ] {
            let shown = without_values(message);
            assert!(!shown.contains("LEAKED"), "{shown}");
            assert!(
                shown.ends_with(" at line 1 column 9") || shown.ends_with(" at line 1 column 4"),
                "{shown}"
            );
        }
        assert_eq!(
            without_values("missing field `token`"),
            "missing field `token`"
        );
    }

    #[test]
    fn a_path_that_resolves_elsewhere_is_never_sent() {
        let base = Url::parse("https://gitlab.example.com/api/v4").unwrap();
        let http = Http::new(base, Redactor::default(), RetryPolicy::default()).unwrap();
        for bad in [
            "/projects/../hooks/9",
            "/projects/%2e%2e/hooks/9",
            "/projects/./x",
        ] {
            let call = Call::new(Method::GET, bad, None);
            assert!(matches!(http.url(&call), Err(ApiError::Client(_))), "{bad}");
        }
        let ok = Call::new(Method::GET, "/projects/grp%2Fproj/hooks/9", None);
        assert_eq!(
            http.url(&ok).unwrap().as_str(),
            "https://gitlab.example.com/api/v4/projects/grp%2Fproj/hooks/9"
        );
    }

    #[test]
    fn a_status_is_said_once() {
        let said =
            |code: u16, message: &str| status_line(&StatusCode::from_u16(code).unwrap(), message);
        assert_eq!(said(404, "404 Project Not Found"), "404 Project Not Found");
        assert_eq!(said(401, "401 Unauthorized"), "401 Unauthorized");
        assert_eq!(said(404, "404 Not Found"), "404 Not Found");
        assert_eq!(
            said(404, "RecordNotFound: Not found"),
            "404 Not Found RecordNotFound"
        );
        assert_eq!(
            said(
                403,
                "insufficient_scope: The request requires higher privileges"
            ),
            "403 Forbidden insufficient_scope: The request requires higher privileges"
        );
        assert_eq!(said(502, "(empty body)"), "502 Bad Gateway (empty body)");
    }

    #[test]
    fn vendor_messages_in_every_shape() {
        let r = Redactor::default();
        assert_eq!(
            vendor_message(br#"{"message":"401 Unauthorized"}"#, &r),
            "401 Unauthorized"
        );
        assert_eq!(
            vendor_message(
                br#"{"message":{"value":["is invalid"],"key":["is too long","has spaces"]}}"#,
                &r
            ),
            "key is too long, has spaces; value is invalid"
        );
        assert_eq!(
            vendor_message(br#"{"error":"insufficient_scope","error_description":"The request requires higher privileges"}"#, &r),
            "insufficient_scope: The request requires higher privileges"
        );
        assert_eq!(
            vendor_message(br#"{"error":"RecordInvalid","description":"Record validation errors","details":{"name":[{"description":"Name: cannot be blank","error":"BlankValue"}]}}"#, &r),
            "RecordInvalid: Record validation errors: name description: Name: cannot be blank; error: BlankValue"
        );
        assert_eq!(vendor_message(b"Retry later\n", &r), "Retry later");
        assert_eq!(vendor_message(b"", &r), "(empty body)");
        assert_eq!(
            vendor_message(b"<!DOCTYPE html><html>502</html>", &r),
            "(an HTML page instead of an API answer)"
        );
    }
}
