//! One signed request, and the retry loop around it inside the caller's time budget.

use super::BitmexClient;
use super::error::{Failure, from_status, from_transport};
use super::rate::RateLimit;
use crate::exchange::{ExchangeError, ExchangeResult};
use rand::Rng;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Below this much time left, an attempt is not worth starting.
const MIN_ATTEMPT_TIME: Duration = Duration::from_millis(20);

/// One API call: route, parameters, and whether it may be sent again after a failure.
pub(crate) struct Call {
    /// HTTP verb.
    pub method: Method,
    /// Route below the API root, e.g. `/trade/bucketed`.
    pub path: &'static str,
    /// Query parameters, encoded in this order.
    pub query: Vec<(&'static str, String)>,
    /// JSON body (POST/DELETE parameters).
    pub body: Option<serde_json::Value>,
    /// Needs credentials (private route).
    pub private: bool,
    /// Safe to send again: idempotent, or a POST /order carrying its clOrdID.
    pub retry: bool,
}

impl Call {
    /// A call without parameters.
    pub fn new(method: Method, path: &'static str) -> Self {
        let retry = matches!(method, Method::GET | Method::DELETE);
        Call {
            method,
            path,
            query: Vec::new(),
            body: None,
            private: true,
            retry,
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    /// Sets the JSON body.
    pub fn body(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Marks the route as public market data (signed anyway when credentials exist: BitMEX then
    /// counts the request against the key's larger limit).
    pub fn public(mut self) -> Self {
        self.private = false;
        self
    }

    /// Allows resending (the caller vouches that a repeat cannot do anything twice).
    pub fn retryable(mut self) -> Self {
        self.retry = true;
        self
    }

    fn route(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

impl BitmexClient {
    /// Sends `call`, retrying what may be retried until it succeeds, fails for good, or the time
    /// budget runs out. Returns the body of the successful answer.
    pub(crate) async fn send(&self, call: &Call) -> ExchangeResult<String> {
        let config = &self.inner.config;
        let deadline = self
            .deadline
            .unwrap_or_else(|| Instant::now() + config.default_budget);
        let route = call.route();
        if call.private && self.inner.credentials.is_none() {
            return Err(ExchangeError::Unauthorized(format!(
                "{route} needs API credentials; this client is public-only"
            )));
        }
        let mut attempt: u32 = 0;
        let mut just_waited = false;
        let mut last_error: Option<ExchangeError> = None;
        loop {
            attempt += 1;
            // A retry has just waited out a backoff or a Retry-After: that wait already paced it.
            if !just_waited {
                self.pace(deadline, &route).await?;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left < MIN_ATTEMPT_TIME {
                return Err(ExchangeError::BudgetExhausted(match last_error {
                    Some(e) => format!("{e}; no time left for attempt {attempt}"),
                    None => format!("{route}: no time left for a request"),
                }));
            }
            let timeout = left.min(config.request_timeout);
            let failure = match self.attempt(call, &route, timeout).await {
                Ok(body) => return Ok(body),
                Err(failure) => failure,
            };
            let Some(least_wait) = failure.retry_after else {
                return Err(failure.error);
            };
            if !call.retry || attempt >= config.max_attempts {
                return Err(failure.error);
            }
            let wait = self.backoff(attempt).max(least_wait);
            let left = deadline.saturating_duration_since(Instant::now());
            if wait + MIN_ATTEMPT_TIME > left {
                return Err(ExchangeError::BudgetExhausted(format!(
                    "{}; retry needs a {} ms wait but only {} ms are left",
                    failure.error,
                    wait.as_millis(),
                    left.as_millis()
                )));
            }
            tracing::warn!(
                route = %route,
                attempt,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                error = %failure.error,
                "BitMEX request failed; retrying"
            );
            tokio::time::sleep(wait).await;
            just_waited = true;
            last_error = Some(failure.error);
        }
    }

    /// Spaces requests out when BitMEX says few remain before its limit.
    async fn pace(&self, deadline: Instant, route: &str) -> ExchangeResult<()> {
        let Some(rate) = self.rate_limit() else {
            return Ok(());
        };
        let left = deadline.saturating_duration_since(Instant::now());
        let floor = self.inner.config.rate_limit_floor;
        let pause = rate.pause(floor, SystemTime::now(), left);
        if pause.is_zero() {
            return Ok(());
        }
        if pause + MIN_ATTEMPT_TIME > left {
            return Err(ExchangeError::BudgetExhausted(format!(
                "{route}: rate limit nearly spent ({} left until {}), no time to wait for it",
                rate.remaining, rate.reset_unix_s
            )));
        }
        tracing::info!(
            route,
            remaining = rate.remaining,
            pause_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
            "slowing down: BitMEX rate limit nearly spent"
        );
        tokio::time::sleep(pause).await;
        Ok(())
    }

    /// Exponential backoff with "equal jitter": half fixed, half random, so that many clients
    /// failing together do not retry in lock-step.
    fn backoff(&self, attempt: u32) -> Duration {
        let config = &self.inner.config;
        let exp = config
            .backoff_base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(config.backoff_cap);
        let half = exp / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        let extra = match self.inner.rng.lock() {
            Ok(mut rng) => rng.random_range(0..=jitter_ms),
            Err(_) => jitter_ms,
        };
        half + Duration::from_millis(extra)
    }

    /// One signed attempt with its own total timeout.
    async fn attempt(
        &self,
        call: &Call,
        route: &str,
        timeout: Duration,
    ) -> Result<String, Failure> {
        let inner = &self.inner;
        let mut url = format!("{}{}", inner.base, call.path);
        if !call.query.is_empty() {
            let mut qs = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in &call.query {
                qs.append_pair(name, value);
            }
            url.push('?');
            url.push_str(&qs.finish());
        }
        let url = url::Url::parse(&url).map_err(|e| Failure {
            error: ExchangeError::Malformed(format!("{route}: bad URL: {e}")),
            retry_after: None,
        })?;
        // Sign what goes on the wire: the parsed URL's path and query, the exact body bytes.
        let wire_path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let body = call
            .body
            .as_ref()
            .map(serde_json::Value::to_string)
            .unwrap_or_default();
        let mut request = inner
            .http
            .request(call.method.clone(), url)
            .timeout(timeout);
        if call.body.is_some() {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        if let Some(credentials) = &inner.credentials {
            let expires = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .saturating_add(inner.config.expires_after)
                .as_secs();
            let signature = credentials.sign(call.method.as_str(), &wire_path, expires, &body);
            request = request
                .header("api-key", credentials.key())
                .header("api-expires", expires.to_string())
                .header("api-signature", signature);
        }
        let response = request
            .send()
            .await
            .map_err(|e| from_transport(&e, route))?;
        self.remember_rate_limit(response.headers());
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let text = response
            .text()
            .await
            .map_err(|e| from_transport(&e, route))?;
        if status.is_success() {
            Ok(text)
        } else {
            Err(from_status(status.as_u16(), &text, retry_after, route))
        }
    }

    fn remember_rate_limit(&self, headers: &HeaderMap) {
        if let Some(rate) = RateLimit::from_headers(headers) {
            match self.inner.rate.lock() {
                Ok(mut guard) => *guard = Some(rate),
                Err(poisoned) => *poisoned.into_inner() = Some(rate),
            }
        }
    }
}

/// `Retry-After` in seconds (BitMEX sends whole seconds).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: f64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (0.0..86_400.0)
        .contains(&secs)
        .then(|| Duration::from_secs_f64(secs))
}

/// Parses a JSON answer, mapping a mismatch to [`ExchangeError::Malformed`].
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    route: &str,
    body: &str,
) -> ExchangeResult<T> {
    serde_json::from_str(body).map_err(|e| {
        let excerpt: String = body.chars().take(120).collect();
        ExchangeError::Malformed(format!("{route}: {e} in {excerpt:?}"))
    })
}
