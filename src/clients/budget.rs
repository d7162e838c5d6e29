//! One rate budget per host, shared by every request of the process to it: read from the
//! vendor's headers (GitLab `RateLimit-Remaining` and `RateLimit-Reset`, a Unix time; Zendesk
//! `ratelimit-remaining` and `ratelimit-reset`, seconds, or `X-Rate-Limit-Remaining` for its
//! per-minute limit), so that a large run reaches the vendor's limit and waits for the window to
//! reset instead of being answered 429. Without headers, nothing is held back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

/// A reset further away than this is not believed (a clock far off, a hostile header): GitLab's
/// and Zendesk's windows are a minute at most.
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// The window assumed when a vendor says how many calls are left but not when they come back
/// (Zendesk's `X-Rate-Limit-Remaining` counts per minute).
const UNSAID_WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct Window {
    /// Calls left before the reset, as last said, less those sent since.
    left: Option<u64>,
    /// When the window resets.
    reset: Option<Instant>,
}

/// The budget of one host.
#[derive(Debug, Default)]
pub struct Budget {
    window: Mutex<Window>,
}

impl Budget {
    fn window(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes one call from the budget: at once while calls are left (or nothing is known),
    /// else after the window resets.
    pub async fn take(&self) {
        loop {
            let wait = {
                let mut w = self.window();
                let now = Instant::now();
                if w.reset.is_some_and(|r| r <= now) {
                    // The window has reset: unknown again until an answer says.
                    *w = Window::default();
                }
                match (w.left, w.reset) {
                    (Some(0), Some(reset)) => reset - now,
                    (Some(n), _) => {
                        w.left = Some(n - 1);
                        return;
                    }
                    (None, _) => return,
                }
            };
            if wait >= Duration::from_secs(2) {
                tracing::warn!(
                    "the host's rate limit is spent: waiting {:.0} s for it to reset",
                    wait.as_secs_f64()
                );
            } else {
                tracing::debug!(
                    wait_ms = wait.as_millis() as u64,
                    "rate budget spent: waiting"
                );
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Reads what an answer says of the budget.
    pub fn observe(&self, headers: &HeaderMap) {
        let Some((left, reset)) = read(headers, SystemTime::now()) else {
            return;
        };
        let mut w = self.window();
        let reset = Instant::now() + reset.min(LONGEST_WAIT);
        // Answers to calls sent earlier may arrive late: the lower count is the one to trust,
        // within one window.
        let same_window = w
            .reset
            .is_some_and(|r| r + Duration::from_millis(500) >= reset);
        w.left = Some(match (w.left, same_window) {
            (Some(mine), true) => mine.min(left),
            _ => left,
        });
        w.reset = Some(reset);
    }
}

/// Calls left and the time until the window resets, as the headers say.
pub fn read(headers: &HeaderMap, now: SystemTime) -> Option<(u64, Duration)> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let left = get("ratelimit-remaining").or_else(|| get("x-rate-limit-remaining"))?;
    let reset = match get("ratelimit-reset") {
        // GitLab: a Unix time; Zendesk: seconds from now.
        Some(t) if t > 1_000_000_000 => {
            let now = now.duration_since(UNIX_EPOCH).unwrap_or_default();
            Duration::from_secs(t)
                .saturating_sub(now)
                .max(Duration::from_millis(10))
        }
        Some(secs) => Duration::from_secs(secs.max(1)),
        None => UNSAID_WINDOW,
    };
    Some((left, reset))
}

/// The budget of a host (its origin), one per process.
pub fn of(origin: &str) -> Arc<Budget> {
    static BUDGETS: OnceLock<Mutex<HashMap<String, Arc<Budget>>>> = OnceLock::new();
    BUDGETS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(origin.to_owned())
        .or_default()
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

    #[test]
    fn both_vendors_headers_are_read() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let gitlab = headers(&[
            ("RateLimit-Remaining", "7"),
            ("RateLimit-Reset", "1800000003"),
        ]);
        assert_eq!(read(&gitlab, now), Some((7, Duration::from_secs(3))));
        let zendesk = headers(&[("ratelimit-remaining", "99"), ("ratelimit-reset", "12")]);
        assert_eq!(read(&zendesk, now), Some((99, Duration::from_secs(12))));
        let per_minute = headers(&[("X-Rate-Limit-Remaining", "0")]);
        assert_eq!(read(&per_minute, now), Some((0, UNSAID_WINDOW)));
        assert_eq!(read(&HeaderMap::new(), now), None);
    }

    #[tokio::test]
    async fn a_spent_budget_waits_for_its_reset_and_a_fresh_one_does_not() {
        let b = Budget::default();
        let start = Instant::now();
        b.take().await;
        b.observe(&headers(&[
            ("ratelimit-remaining", "1"),
            ("ratelimit-reset", "1"),
        ]));
        b.take().await;
        assert!(start.elapsed() < Duration::from_millis(500));
        b.take().await;
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(900), "{waited:?}");
    }
}
