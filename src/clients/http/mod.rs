//! The policy every vendor call shares: a checked base URL, `User-Agent: tokrot/<version>`,
//! explicit timeouts, redirects followed only within the same origin (reqwest keeps custom
//! headers such as `PRIVATE-TOKEN` across hosts, so a cross-origin redirect is never followed),
//! credentials as sensitive headers, retries only for idempotent calls, and errors that carry the
//! vendor's message with every secret of the run redacted. By concern: this file sends a call
//! and reads its answer; `error` is what a failed call says, `retry` when a call is tried again,
//! `paging` how a list is followed page by page, `transport` what a connection or TLS failure
//! means in words.

use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use url::Url;

use crate::config::display_url;
use crate::secret::Redactor;

mod error;
mod paging;
mod retry;
mod transport;

pub(crate) use error::without_values;
pub use error::{ApiError, vendor_message};
pub use paging::next_link;
pub use retry::{Failure, GiveUp, RetryPolicy, server_wait};
use transport::{describe_transport, find_tls, unreachable};

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

/// The largest answer tokrot reads: vendors' answers are a few KiB; a list page of 100 items,
/// some hundreds.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// The most pages a list is followed for (100 items a page: 20,000 items).
pub const MAX_PAGES: usize = 200;

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
    budget: std::sync::Arc<crate::clients::budget::Budget>,
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
            budget: crate::clients::budget::of(&base.origin().ascii_serialization()),
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
                let said = crate::clients::budget::read(resp.headers(), SystemTime::now());
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

#[cfg(test)]
mod tests;
