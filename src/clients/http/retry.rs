//! When a call is tried again: only an idempotent one, only for a failure a moment may mend,
//! within the attempts and the total wait a run accepts, after the wait the server asks for.

use super::*;

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
    let said = crate::clients::budget::read(headers, now);
    let spent = status == StatusCode::TOO_MANY_REQUESTS || said.remaining == Some(0);
    said.retry_after.or(said.reset.filter(|_| spent))
}
