//! BitMEX's rate-limit headers, remembered from the last answer, and the pause they call for.

use reqwest::header::HeaderMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The rate-limit state BitMEX reported on its most recent answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// `x-ratelimit-limit`: requests allowed per window.
    pub limit: Option<u32>,
    /// `x-ratelimit-remaining`: requests left before BitMEX answers 429.
    pub remaining: u32,
    /// `x-ratelimit-reset`: UNIX seconds when the bucket is full again.
    pub reset_unix_s: u64,
}

impl RateLimit {
    /// Reads the headers; `None` when `remaining` or `reset` is missing or not a number.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let num =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        Some(RateLimit {
            limit: num("x-ratelimit-limit").and_then(|v| u32::try_from(v).ok()),
            remaining: u32::try_from(num("x-ratelimit-remaining")?).ok()?,
            reset_unix_s: num("x-ratelimit-reset")?,
        })
    }

    /// How long to pause before the next request so that the bot does not drain the bucket.
    ///
    /// BitMEX's limit is a token bucket: `reset` is when it is full again, so the time one token
    /// takes to come back is `(reset - now) / (limit - remaining)`. Above `floor` remaining there is
    /// no pause; at or below it, the client waits one token's time before each request, i.e. it
    /// spends no faster than the bucket refills. Without a known limit the wait spreads the time to
    /// the reset over the remaining requests. Never more than `cap`.
    pub fn pause(&self, floor: u32, now: SystemTime, cap: Duration) -> Duration {
        if self.remaining > floor {
            return Duration::ZERO;
        }
        let now_s = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let until_reset = (self.reset_unix_s as f64 - now_s).max(0.0);
        let missing = match self.limit {
            Some(limit) if limit > self.remaining => limit - self.remaining,
            _ => self.remaining + 1,
        };
        let per_token = until_reset / f64::from(missing);
        Duration::from_secs_f64(per_token.min(cap.as_secs_f64()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            if let Ok(value) = HeaderValue::from_str(v) {
                map.insert(*k, value);
            }
        }
        map
    }

    #[test]
    fn headers_parse_and_junk_is_ignored() {
        let rl = RateLimit::from_headers(&headers(&[
            ("x-ratelimit-limit", "120"),
            ("x-ratelimit-remaining", "7"),
            ("x-ratelimit-reset", "1700000000"),
        ]));
        assert_eq!(
            rl,
            Some(RateLimit {
                limit: Some(120),
                remaining: 7,
                reset_unix_s: 1_700_000_000
            })
        );
        assert_eq!(
            RateLimit::from_headers(&headers(&[("x-ratelimit-remaining", "-1")])),
            None
        );
        assert_eq!(RateLimit::from_headers(&HeaderMap::new()), None);
    }

    #[test]
    fn pause_is_one_token_s_refill_time_near_the_limit() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let cap = Duration::from_secs(60);
        let rl = |limit, remaining| RateLimit {
            limit,
            remaining,
            reset_unix_s: 1_060,
        };
        // 120/min bucket: 60 s until full with 120 missing = 0.5 s a token.
        assert_eq!(rl(Some(120), 50).pause(5, now, cap), Duration::ZERO);
        assert_eq!(
            rl(Some(120), 0).pause(5, now, cap),
            Duration::from_millis(500)
        );
        assert_eq!(rl(Some(64), 4).pause(5, now, cap), Duration::from_secs(1));
        // Unknown limit: spread the time to the reset over what is left.
        assert_eq!(rl(None, 2).pause(5, now, cap), Duration::from_secs(20));
        assert_eq!(
            rl(None, 0).pause(5, now, Duration::from_secs(3)),
            Duration::from_secs(3)
        );
        let past = UNIX_EPOCH + Duration::from_secs(2_000);
        assert_eq!(rl(Some(120), 0).pause(5, past, cap), Duration::ZERO);
    }
}
