//! One rate budget per host, shared by every request of the process to it, so that a large run
//! reaches a vendor's limit without being answered 429 and a wait the vendor asks for is
//! honoured once for the whole host.
//!
//! Every vendor's rate headers are read here, one way ([`read`]): GitLab's `RateLimit-*`
//! (`Reset` a Unix time at the end of a window aligned to the clock, `Limit` normalised per
//! minute, `Observed` the calls counted), Zendesk's `ratelimit-*` (`reset` in seconds) and
//! `X-Rate-Limit*` (per minute), and `Retry-After` in seconds or as an HTTP date. A Unix time
//! is read against the answer's `Date` when this machine's clock is more than a second away
//! from the server's.
//!
//! The budget holds nothing in reserve and trusts nothing it has not been told:
//! - calls still in flight, sent after the one an answer belongs to, are counted against what
//!   the answer says is left;
//! - a new window starts from what the last window allowed, not from "unknown";
//! - calls are also paced ahead of time, evenly, from the host's limit per minute (the config's
//!   `requests_per_minute`, else the limit the vendor announced, else gitlab.com's published
//!   one), so a host that sends no headers on unthrottled answers (gitlab.com's default) is
//!   never met with a first 429; even pacing keeps within a fixed window of any length;
//! - a wait the vendor asks for (`Retry-After`, a spent window) holds every call to the host,
//!   is said once, and is honoured up to the run's `--max-wait`; a longer one fails the call
//!   before it is sent, never as a hang.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

/// The window assumed when a vendor says how many calls are left but not when they come back
/// (Zendesk's `X-Rate-Limit-Remaining` counts per minute).
const UNSAID_WINDOW: Duration = Duration::from_secs(60);

/// The longest wait read from a header (GitLab documents `Retry-After` of up to a day); any
/// longer value is read as this, which is past every `--max-wait` a run would take.
const LONGEST_SAID: Duration = Duration::from_secs(86_400);

/// The share of the limit per minute that pacing uses: the rest absorbs the jitter between
/// when a call is sent and when the vendor counts it.
const PACE_SHARE: f64 = 0.98;

/// A wait this long or longer is said on stderr; a shorter one only with `-v`.
const SAID_WAIT: Duration = Duration::from_secs(2);

/// What one answer says of the host's rate limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Said {
    /// Calls left in the current window.
    pub remaining: Option<u64>,
    /// Calls a window allows in all (GitLab: observed and remaining; Zendesk: its limit).
    pub capacity: Option<u64>,
    /// The limit per minute the vendor announces (GitLab's `RateLimit-Limit` is normalised per
    /// minute; Zendesk's `X-Rate-Limit` counts per minute).
    pub per_minute: Option<u64>,
    /// Time until the current window ends, when the vendor says it (Zendesk's per-minute
    /// `X-Rate-Limit-Remaining` does not).
    pub reset: Option<Duration>,
    /// The window's end as a Unix time, when the vendor names one (GitLab): which window the
    /// answer speaks of.
    pub reset_unix: Option<u64>,
    /// The wait the vendor asks for before the next call.
    pub retry_after: Option<Duration>,
}

/// Reads every rate header of an answer received at `now` (this machine's clock).
pub fn read(headers: &HeaderMap, now: SystemTime) -> Said {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let number = |name: &str| text(name).and_then(|v| v.parse::<u64>().ok());
    // A limit of 0 says nothing usable (and would switch pacing off): it is not read.
    let limit = |name: &str| number(name).filter(|n| *n > 0);
    let now = server_now(text("date"), now);
    let until = |t: SystemTime| t.duration_since(now).unwrap_or_default().min(LONGEST_SAID);

    let mut said = Said::default();
    // GitLab and Zendesk share the `ratelimit-*` names; a reset past 1e9 is a Unix time
    // (GitLab), a smaller one seconds from now (Zendesk). A time past any clock's reach is
    // read as the longest wait.
    let reset = number("ratelimit-reset").map(|t| match t > 1_000_000_000 {
        true => match UNIX_EPOCH.checked_add(Duration::from_secs(t)) {
            Some(at) => (until(at), Some(t)),
            None => (LONGEST_SAID, None),
        },
        false => (Duration::from_secs(t).min(LONGEST_SAID), None),
    });
    let reset = reset.or_else(|| {
        let at = text("ratelimit-resettime").and_then(http_date)?;
        Some((until(at), None))
    });
    let standard = number("ratelimit-remaining").map(|left| {
        // A window's capacity is what was counted and what is left, while some is left: past
        // the limit (a 429) GitLab counts the refused calls too.
        // GitLab's `Limit` is normalised per minute, not a window's capacity; Zendesk's, which
        // comes without `Observed`, is.
        let (capacity, zendesk) = match number("ratelimit-observed") {
            Some(o) => ((left > 0).then(|| o.saturating_add(left)), None),
            None => (None, limit("ratelimit-limit")),
        };
        (left, capacity.or(zendesk), reset)
    });
    let per_minute_left =
        number("x-rate-limit-remaining").map(|left| (left, limit("x-rate-limit"), None));
    // Where both are given, the count with fewer calls left is the one that binds.
    let binding = match (standard, per_minute_left) {
        (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
        (a, b) => a.or(b),
    };
    if let Some((left, capacity, reset)) = binding {
        said.remaining = Some(left);
        said.capacity = capacity.filter(|c| *c > 0);
        said.reset = reset.map(|r| r.0);
        said.reset_unix = reset.and_then(|r| r.1);
    } else if let Some((after, unix)) = reset {
        // A reset alone (a 429 that names only the window's end).
        said.reset = Some(after);
        said.reset_unix = unix;
    }
    // GitLab's `RateLimit-Limit` is per minute; Zendesk's `ratelimit-limit` is per window, a
    // minute on the endpoints that send it.
    said.per_minute = limit("x-rate-limit").or_else(|| limit("ratelimit-limit"));
    said.retry_after = text("retry-after").and_then(|v| match v.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs).min(LONGEST_SAID)),
        Err(_) => http_date(v).map(until),
    });
    said
}

/// The time to read the server's Unix times against: this machine's, unless the answer's
/// `Date` (whole seconds, and some latency old) says the two clocks are more than 2 s apart.
fn server_now(date: Option<&str>, now: SystemTime) -> SystemTime {
    let Some(server) = date.and_then(http_date) else {
        return now;
    };
    let whole = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mine = UNIX_EPOCH + Duration::from_secs(whole);
    let apart = match server.duration_since(mine) {
        Ok(ahead) => ahead,
        Err(behind) => behind.duration(),
    };
    if apart > Duration::from_secs(2) {
        server
    } else {
        now
    }
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date(text: &str) -> Option<SystemTime> {
    let ts = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(text)
        .ok()?;
    SystemTime::try_from(ts).ok()
}

/// The state of one host's budget.
#[derive(Debug, Default)]
struct State {
    /// Calls left before the window ends, as last said, less those sent since.
    left: Option<u64>,
    /// When the window ends.
    reset: Option<Instant>,
    /// The window's end as the vendor names it (a Unix time), when it does.
    reset_unix: Option<u64>,
    /// What a window allows, as the last one announced.
    capacity: Option<u64>,
    /// The limit per minute the vendor announced.
    per_minute: Option<u64>,
    /// No call before this: the vendor asked for a wait.
    held_until: Option<Instant>,
    /// Pacing: the earliest time of the next call.
    next_slot: Option<Instant>,
    /// Whether an answer has said how many calls this window has left: then they are counted
    /// exactly and need no pacing.
    confirmed: bool,
    /// Calls sent and not yet answered, by their order of sending.
    in_flight: BTreeSet<u64>,
    /// The order number of the last call sent.
    sent: u64,
    /// The end of the last wait that was said, so that it is said once.
    said_until: Option<Instant>,
}

impl State {
    /// The length of a window, when what the vendor said allows it to be known: a window's
    /// capacity over the limit per minute.
    fn period(&self) -> Option<Duration> {
        let (capacity, per_minute) = (self.capacity?, self.per_minute?);
        (per_minute > 0).then(|| {
            let secs = (capacity as f64 * 60.0 / per_minute as f64).clamp(1.0, 3600.0);
            Duration::from_secs_f64(secs)
        })
    }

    /// A window that has ended gives way to the next, which allows what the last one did.
    fn roll(&mut self, now: Instant) {
        let Some(reset) = self.reset.filter(|r| *r <= now) else {
            return;
        };
        // Calls still in flight may be counted in the new window.
        self.left = self
            .capacity
            .map(|c| c.saturating_sub(self.in_flight.len() as u64));
        self.confirmed = false;
        let period = self.period();
        let mut windows = 0;
        self.reset = period.map(|p| {
            let mut next = reset + p;
            windows = 1;
            while next <= now {
                next += p;
                windows += 1;
            }
            next
        });
        // The next window's end as the vendor will name it, so that a late answer about the
        // window that ended is known as such.
        self.reset_unix = match (self.reset_unix, period) {
            (Some(unix), Some(p)) if p.subsec_nanos() == 0 => Some(unix + p.as_secs() * windows),
            _ => None,
        };
    }
}

/// How fast calls are sent to one host when nothing else holds them back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pace {
    /// The operator's limit per minute (config): never exceeded, whatever the vendor announces.
    pub configured: Option<u64>,
    /// The limit per minute assumed until the vendor announces one (gitlab.com's published
    /// per-user limit).
    pub assumed: Option<u64>,
}

/// The budget of one host.
#[derive(Debug)]
pub struct Budget {
    host: String,
    pace: Pace,
    state: Mutex<State>,
}

/// A call taken from the budget, counted in flight until its answer is read (or it is
/// dropped: no answer).
pub struct Ticket<'a> {
    budget: &'a Budget,
    order: u64,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.budget.state().in_flight.remove(&self.order);
    }
}

/// A wait longer than the run accepts: the call was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong {
    /// The wait the budget would need.
    pub wait: Duration,
}

impl Budget {
    /// A budget for `host` (an origin, as said in messages), paced as `pace` says.
    pub fn new(host: impl Into<String>, pace: Pace) -> Self {
        Self {
            host: host.into(),
            pace,
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The time between two calls: the operator's limit, else the vendor's, else the assumed
    /// one; none without any.
    fn interval(&self, announced: Option<u64>) -> Option<Duration> {
        let per_minute = match (self.pace.configured, announced) {
            (Some(c), Some(a)) => c.min(a),
            (Some(c), None) => c,
            (None, Some(a)) => a,
            (None, None) => self.pace.assumed?,
        };
        (per_minute > 0).then(|| Duration::from_secs_f64(60.0 / (per_minute as f64 * PACE_SHARE)))
    }

    /// Takes one call from the budget, waiting as long as the vendor's limit needs, or fails
    /// at once when that is longer than `max_wait`.
    pub async fn take(&self, max_wait: Duration) -> Result<Ticket<'_>, TooLong> {
        // --max-wait is the most this call waits for the vendor in all, however often a new
        // refusal or window extends the wait. Pacing is tokrot's own, and not counted.
        let deadline = Instant::now() + max_wait;
        loop {
            let wait = {
                let mut s = self.state();
                let now = Instant::now();
                s.roll(now);
                let held = s.held_until.map(|t| t.saturating_duration_since(now));
                let spent = match (s.left, s.reset) {
                    (Some(0), Some(reset)) => Some(reset.saturating_duration_since(now)),
                    // Spent, with no end known yet: the answers in flight will say it.
                    (Some(0), None) if !s.in_flight.is_empty() => Some(Duration::from_millis(20)),
                    _ => None,
                };
                let vendor = held.max(spent).filter(|w| !w.is_zero());
                let paced = match s.confirmed {
                    true => None,
                    false => s.next_slot.map(|t| t.saturating_duration_since(now)),
                }
                .filter(|w| !w.is_zero());
                if vendor.is_none() && paced.is_none() {
                    if let Some(left) = &mut s.left {
                        *left = left.saturating_sub(1);
                    }
                    if let Some(step) = self.interval(s.per_minute) {
                        s.next_slot = Some(s.next_slot.map_or(now, |t| t.max(now)) + step);
                    }
                    s.sent += 1;
                    let order = s.sent;
                    s.in_flight.insert(order);
                    return Ok(Ticket {
                        budget: self,
                        order,
                    });
                }
                if let Some(wait) = vendor {
                    if wait > deadline.saturating_duration_since(now) {
                        return Err(TooLong { wait });
                    }
                    let until = now + wait;
                    let new = s
                        .said_until
                        .is_none_or(|t| until > t + Duration::from_secs(1));
                    if wait >= SAID_WAIT && new {
                        s.said_until = Some(until);
                        tracing::warn!(
                            "{}: the rate limit asks for a wait of {:.0} s; waiting",
                            self.host,
                            wait.as_secs_f64().ceil(),
                        );
                    }
                }
                let wait = vendor.max(paced).unwrap_or_default();
                tracing::debug!(wait_ms = wait.as_millis() as u64, "rate budget: waiting");
                wait
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Holds every call to the host for `wait`: the vendor refused one for its rate limit.
    pub fn hold(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut s = self.state();
        s.held_until = Some(s.held_until.map_or(until, |t| t.max(until)));
    }

    /// Reads what the answer to `ticket`'s call says of the budget.
    pub fn observe(&self, ticket: Ticket<'_>, said: &Said) {
        let order = ticket.order;
        let mut s = self.state();
        let now = Instant::now();
        if said.per_minute.is_some() {
            s.per_minute = said.per_minute;
        }
        if said.capacity.is_some() {
            s.capacity = said.capacity;
        }
        if let Some(left) = said.remaining {
            // Calls sent after this one and still in flight are not in the vendor's count.
            let later = s.in_flight.range(order + 1..).count() as u64;
            let left = left.saturating_sub(later);
            // A window the vendor names by its end (a Unix time) is known exactly; one given in
            // whole seconds is the same window within a second (a quarter of a short one); one
            // with no end said (a per-minute count) is the current window while that lasts.
            let tolerance = s.period().map_or(Duration::from_secs(1), |p| {
                (p / 4).min(Duration::from_secs(1))
            });
            let reset = now + said.reset.unwrap_or(UNSAID_WINDOW);
            let same = match (s.reset_unix, said.reset_unix, said.reset) {
                (Some(mine), Some(theirs), _) => Some(mine.cmp(&theirs)),
                (_, _, None) => s
                    .reset
                    .filter(|mine| *mine > now)
                    .map(|_| std::cmp::Ordering::Equal),
                _ => s.reset.map(|mine| match mine.max(reset) - mine.min(reset) {
                    d if d <= tolerance => std::cmp::Ordering::Equal,
                    _ => mine.cmp(&reset),
                }),
            };
            match same {
                // An answer about a window already past, arriving late.
                Some(std::cmp::Ordering::Greater) => {}
                Some(std::cmp::Ordering::Equal) => {
                    s.left = Some(s.left.map_or(left, |mine| mine.min(left)));
                    s.confirmed = true;
                }
                _ => {
                    s.left = Some(left);
                    s.reset = Some(reset);
                    s.reset_unix = said.reset_unix;
                    s.confirmed = true;
                }
            }
        }
        // The ticket leaves the calls in flight as it drops, after the state is released.
        drop(s);
        drop(ticket);
    }
}

/// The pacing of each host, set once from the config before any client is made.
fn paces() -> &'static Mutex<HashMap<String, Pace>> {
    static PACES: OnceLock<Mutex<HashMap<String, Pace>>> = OnceLock::new();
    PACES.get_or_init(Mutex::default)
}

/// Sets how calls to `origin` are paced (from the config); a budget already made keeps its own.
pub fn set_pace(origin: &str, pace: Pace) {
    paces()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(origin.to_owned(), pace);
}

/// The budget of a host (its origin), one per process.
pub fn of(origin: &str) -> Arc<Budget> {
    static BUDGETS: OnceLock<Mutex<HashMap<String, Arc<Budget>>>> = OnceLock::new();
    let pace = paces()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(origin)
        .copied()
        .unwrap_or_default();
    BUDGETS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(origin.to_owned())
        .or_insert_with(|| Arc::new(Budget::new(origin, pace)))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

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

    const NOW: u64 = 1_800_000_000;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn gitlab_headers_are_read_as_gitlab_sends_them() {
        // A throttle of 100 a second: Limit normalised per minute, Reset the window's end.
        let gitlab = headers(&[
            ("RateLimit-Limit", "6000"),
            ("RateLimit-Observed", "93"),
            ("RateLimit-Remaining", "7"),
            ("RateLimit-Reset", "1800000001"),
        ]);
        let said = read(&gitlab, at(NOW));
        assert_eq!(said.remaining, Some(7));
        assert_eq!(said.capacity, Some(100));
        assert_eq!(said.per_minute, Some(6000));
        assert_eq!(said.reset, Some(Duration::from_secs(1)));
        assert_eq!(said.reset_unix, Some(NOW + 1));
        assert_eq!(said.retry_after, None);
    }

    #[test]
    fn zendesk_headers_are_read_as_zendesk_sends_them() {
        let seconds = headers(&[
            ("ratelimit-limit", "100"),
            ("ratelimit-remaining", "99"),
            ("ratelimit-reset", "41"),
        ]);
        let said = read(&seconds, at(NOW));
        assert_eq!(
            (said.remaining, said.capacity, said.reset, said.reset_unix),
            (Some(99), Some(100), Some(Duration::from_secs(41)), None)
        );
        let per_minute = headers(&[("X-Rate-Limit", "700"), ("X-Rate-Limit-Remaining", "0")]);
        let said = read(&per_minute, at(NOW));
        assert_eq!(
            (said.remaining, said.capacity, said.per_minute, said.reset),
            (Some(0), Some(700), Some(700), None)
        );
        // Both counts: the one with fewer calls left binds.
        let both = headers(&[
            ("X-Rate-Limit", "700"),
            ("X-Rate-Limit-Remaining", "3"),
            ("ratelimit-remaining", "50"),
            ("ratelimit-reset", "10"),
        ]);
        assert_eq!(read(&both, at(NOW)).remaining, Some(3));
        assert_eq!(read(&HeaderMap::new(), at(NOW)), Said::default());
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_as_an_http_date() {
        let secs = headers(&[("Retry-After", "120")]);
        assert_eq!(
            read(&secs, at(NOW)).retry_after,
            Some(Duration::from_secs(120))
        );
        // 1800000000 is Fri, 15 Jan 2027 08:00:00 GMT.
        let date = headers(&[("Retry-After", "Fri, 15 Jan 2027 08:00:30 GMT")]);
        assert_eq!(
            read(&date, at(NOW)).retry_after,
            Some(Duration::from_secs(30))
        );
        let hostile = headers(&[("Retry-After", "99999999999")]);
        assert_eq!(read(&hostile, at(NOW)).retry_after, Some(LONGEST_SAID));
    }

    #[test]
    fn a_unix_reset_is_read_against_the_servers_clock_when_ours_is_off() {
        let h = headers(&[
            ("Date", "Fri, 15 Jan 2027 08:00:00 GMT"),
            ("RateLimit-Remaining", "0"),
            ("RateLimit-Reset", "1800000060"),
        ]);
        // This machine's clock 30 s behind the server's: the window still ends in 60 s.
        assert_eq!(read(&h, at(NOW - 30)).reset, Some(Duration::from_secs(60)));
        // Within a second: this machine's clock, which is finer.
        let fine = UNIX_EPOCH + Duration::from_millis(NOW * 1000 + 400);
        assert_eq!(read(&h, fine).reset, Some(Duration::from_millis(59_600)));
    }

    #[tokio::test]
    async fn calls_in_flight_count_against_what_is_left() {
        let b = Budget::new("h", Pace::default());
        let first = b.take(Duration::from_secs(5)).await.unwrap();
        let mut later = Vec::new();
        for _ in 0..3 {
            later.push(b.take(Duration::from_secs(5)).await.unwrap());
        }
        // The first call's answer: 4 left, but 3 more calls are already on their way.
        let said = Said {
            remaining: Some(4),
            reset: Some(Duration::from_secs(30)),
            ..Said::default()
        };
        b.observe(first, &said);
        assert_eq!(b.state().left, Some(1));
        let _one = b.take(Duration::from_secs(5)).await.unwrap();
        // Spent for 30 s: longer than the run accepts, so refused at once.
        let refused = b.take(Duration::from_secs(5)).await.err().unwrap();
        assert!(refused.wait > Duration::from_secs(29), "{refused:?}");
    }

    #[tokio::test]
    async fn a_new_window_starts_from_what_the_last_one_allowed() {
        let b = Budget::new("h", Pace::default());
        let t = b.take(Duration::from_secs(5)).await.unwrap();
        b.observe(
            t,
            &Said {
                remaining: Some(0),
                capacity: Some(2),
                reset: Some(Duration::from_millis(300)),
                ..Said::default()
            },
        );
        let start = Instant::now();
        let _a = b.take(Duration::from_secs(5)).await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(250));
        assert_eq!(b.state().left, Some(1), "the new window allows 2");
        let _b = b.take(Duration::from_secs(5)).await.unwrap();
        assert_eq!(b.state().left, Some(0));
    }

    #[tokio::test]
    async fn calls_are_paced_from_the_limit_per_minute() {
        // 600 a minute: one call every 102 ms at 98 % of the limit.
        let b = Budget::new(
            "h",
            Pace {
                configured: None,
                assumed: Some(600),
            },
        );
        let start = Instant::now();
        for _ in 0..4 {
            drop(b.take(Duration::from_secs(5)).await.unwrap());
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(300), "{took:?}");
        // The vendor announces its limit: without the operator's, it is the one paced by.
        let t = b.take(Duration::from_secs(5)).await.unwrap();
        b.observe(
            t,
            &Said {
                per_minute: Some(60_000),
                ..Said::default()
            },
        );
        assert_eq!(b.interval(b.state().per_minute), b.interval(Some(60_000)));
        let capped = Budget::new(
            "h",
            Pace {
                configured: Some(600),
                assumed: None,
            },
        );
        assert_eq!(
            capped.interval(Some(60_000)),
            capped.interval(Some(600)),
            "the config binds"
        );
    }

    #[tokio::test]
    async fn a_wait_the_vendor_asks_for_holds_every_call_or_fails_past_max_wait() {
        let b = Budget::new("h", Pace::default());
        b.hold(Duration::from_secs(3600));
        let refused = b.take(Duration::from_secs(900)).await.err().unwrap();
        assert!(refused.wait > Duration::from_secs(3500));
        let b = Budget::new("h", Pace::default());
        b.hold(Duration::from_millis(300));
        let start = Instant::now();
        drop(b.take(Duration::from_secs(5)).await.unwrap());
        assert!(start.elapsed() >= Duration::from_millis(250));
    }

    #[tokio::test]
    async fn max_wait_counts_every_wait_of_one_call() {
        // Each refusal asks for less than --max-wait; one after another, they ask for more.
        let b = Arc::new(Budget::new("h", Pace::default()));
        b.hold(Duration::from_millis(400));
        let again = b.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            again.hold(Duration::from_millis(400));
        });
        let refused = b.take(Duration::from_millis(500)).await.err();
        assert!(refused.is_some(), "700 ms in all is past a max of 500 ms");
    }

    #[test]
    fn hostile_headers_are_read_without_a_panic_and_bound_the_wait() {
        let h = headers(&[
            ("RateLimit-Remaining", "1"),
            ("RateLimit-Observed", "18446744073709551615"),
            ("RateLimit-Reset", "18446744073709551615"),
            ("Retry-After", "18446744073709551615"),
            ("RateLimit-Limit", "1"),
        ]);
        let said = read(&h, at(NOW));
        assert_eq!(said.reset, Some(LONGEST_SAID));
        assert_eq!(said.retry_after, Some(LONGEST_SAID));
        assert_eq!(said.capacity, Some(u64::MAX));
        let mut s = State {
            capacity: said.capacity,
            per_minute: said.per_minute,
            ..State::default()
        };
        assert_eq!(s.period(), Some(Duration::from_secs(3600)));
        s.reset = Some(Instant::now());
        s.roll(Instant::now() + Duration::from_secs(1));
    }

    #[test]
    fn a_refusal_does_not_inflate_the_window_and_a_limit_of_zero_is_not_read() {
        // GitLab past its limit of 100: 104 counted, none left.
        let refused = headers(&[
            ("RateLimit-Limit", "6000"),
            ("RateLimit-Observed", "104"),
            ("RateLimit-Remaining", "0"),
            ("RateLimit-Reset", "1800000001"),
        ]);
        assert_eq!(read(&refused, at(NOW)).capacity, None);
        let zero = headers(&[("X-Rate-Limit", "0"), ("X-Rate-Limit-Remaining", "5")]);
        let said = read(&zero, at(NOW));
        assert_eq!((said.per_minute, said.capacity), (None, None));
    }

    #[tokio::test]
    async fn a_late_answer_about_a_past_window_changes_nothing() {
        let b = Budget::new("h", Pace::default());
        let old = b.take(Duration::from_secs(5)).await.unwrap();
        let new = b.take(Duration::from_secs(5)).await.unwrap();
        let said = |left, reset_unix| Said {
            remaining: Some(left),
            reset: Some(Duration::from_secs(10)),
            reset_unix: Some(reset_unix),
            ..Said::default()
        };
        b.observe(new, &said(50, NOW + 2));
        b.observe(old, &said(0, NOW + 1));
        assert_eq!(b.state().left, Some(50));
    }
}
