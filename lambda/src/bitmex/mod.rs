//! The production [`Exchange`] adapter: BitMEX's REST API over reqwest + rustls.
//!
//! ```text
//! BitmexClient ──(with_deadline: the caller's time budget)──► http::send
//!     sign (api-key, api-expires, api-signature) → one attempt (connect + total timeout)
//!     → rate-limit headers remembered → retry on 5xx / 503 (≥ 500 ms) / 429 (Retry-After) /
//!       transport failures while the budget lasts; 401 and other 4xx never retry
//! candles.rs   GET /trade/bucketed → core candles (END-of-bucket stamps = close_time_ms)
//! account.rs   GET /instrument, GET /position
//! orders.rs    POST /order (retried with the same clOrdID; "Duplicate clOrdID" = look it up),
//!              GET /order (one clOrdID, or the bot's prefix over a window, paged),
//!              DELETE /order (by clOrdID; 404 = gone), DELETE /order/all, POST /order/cancelAllAfter
//! ```
//!
//! The client sends its signed headers only where [`check_base_url`] allows (https, or http to this
//! machine) and follows no redirect: a 3xx would carry them to whatever address it names, so it is
//! a permanent error ([`ExchangeError::Rejected`] with the 3xx status) instead.
//!
//! A client is cheap to clone: clones share one connection pool and the rate-limit state. The
//! tick gives each call a deadline with [`BitmexClient::with_deadline`] (the Lambda's remaining
//! time); without one, each call gets [`BitmexConfig::default_budget`].
//!
//! What the caller gets back from an order:
//! - placed, or already placed under the same clOrdID (a `Duplicate clOrdID` refusal, or a 200
//!   whose body cannot be read, is resolved by `GET /order?filter={"clOrdID":..}`): `Ok(order)`;
//! - [`ExchangeError::Retryable`] / [`ExchangeError::BudgetExhausted`]: the order may or may not
//!   exist; keep the intent and send the same clOrdID again later;
//! - [`ExchangeError::Rejected`] with BitMEX's status and message (status 0, name `InvalidOrder`:
//!   refused before sending, e.g. an empty or over-long clOrdID or a zero quantity);
//! - [`ExchangeError::Unauthorized`]: bad key or signature, never retried.

mod account;
mod base_url;
mod candles;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzz_api;
mod http;
mod orders;
mod rate;
mod sign;

pub use base_url::{BaseUrlError, check_base_url, may_be_mainnet};
pub use candles::MAX_CANDLES_PER_REQUEST;
pub use orders::ORDERS_PAGE;
pub use rate::RateLimit;
pub use sign::{ApiSecret, Credentials, signature};

use crate::exchange::{
    BinSize, Exchange, ExchangeError, ExchangeResult, Instrument, OrderRequest, PlacedOrder,
};
use maestro_core::{Candle, TickSize};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// BitMEX testnet, the default: real money needs an explicit opt-in.
pub const TESTNET_URL: &str = "https://testnet.bitmex.com/api/v1";
/// BitMEX mainnet.
pub const MAINNET_URL: &str = "https://www.bitmex.com/api/v1";

/// How the client talks to BitMEX. [`Default`] is testnet with production timeouts.
#[derive(Clone, Debug, PartialEq)]
pub struct BitmexConfig {
    /// API root including `/api/v1` (no trailing slash needed).
    pub base_url: String,
    /// Longest wait for a TCP + TLS connection.
    pub connect_timeout: Duration,
    /// Longest wait for one whole request (connect, send, read the body).
    pub request_timeout: Duration,
    /// Time budget of a call when the client has no deadline.
    pub default_budget: Duration,
    /// Most attempts per call, first one included (an IP making many failing requests gets banned).
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt, with jitter.
    pub backoff_base: Duration,
    /// Largest retry delay from backoff alone (a 429's Retry-After may ask for more).
    pub backoff_cap: Duration,
    /// `api-expires` is now plus this.
    pub expires_after: Duration,
    /// When `x-ratelimit-remaining` falls to this or below, requests are spaced out until the reset.
    pub rate_limit_floor: u32,
}

impl Default for BitmexConfig {
    fn default() -> Self {
        BitmexConfig {
            base_url: TESTNET_URL.to_owned(),
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
            default_budget: Duration::from_secs(30),
            max_attempts: 5,
            backoff_base: Duration::from_millis(250),
            backoff_cap: Duration::from_secs(4),
            expires_after: Duration::from_secs(10),
            rate_limit_floor: 10,
        }
    }
}

/// The BitMEX REST client. See the [module documentation](self).
#[derive(Clone)]
pub struct BitmexClient {
    inner: Arc<Inner>,
    deadline: Option<Instant>,
}

struct Inner {
    http: reqwest::Client,
    config: BitmexConfig,
    base: String,
    credentials: Option<Credentials>,
    rate: Mutex<Option<RateLimit>>,
    rng: Mutex<SmallRng>,
}

impl BitmexClient {
    /// An authenticated client (trading, position, orders, and public data).
    pub fn new(config: BitmexConfig, credentials: Credentials) -> ExchangeResult<Self> {
        if credentials.key().is_empty() {
            return Err(ExchangeError::Unauthorized(
                "the API key id is empty".into(),
            ));
        }
        Self::build(config, Some(credentials))
    }

    /// A client without credentials: public market data only (candles, instrument), e.g. to
    /// download history. Private calls fail with [`ExchangeError::Unauthorized`] without a request.
    pub fn public(config: BitmexConfig) -> ExchangeResult<Self> {
        Self::build(config, None)
    }

    fn build(config: BitmexConfig, credentials: Option<Credentials>) -> ExchangeResult<Self> {
        let base = check_base_url(&config.base_url)
            .map_err(|e| ExchangeError::Malformed(format!("base URL: {e}")))?;
        let http = reqwest::Client::builder()
            // A redirect would take api-key and api-signature along, to another host or to http.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("cryptomaestro/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ExchangeError::Malformed(format!("HTTP client set-up: {e}")))?;
        Ok(BitmexClient {
            inner: Arc::new(Inner {
                http,
                config,
                base,
                credentials,
                rate: Mutex::new(None),
                rng: Mutex::new(SmallRng::from_os_rng()),
            }),
            deadline: None,
        })
    }

    /// A clone whose calls (retries and waits included) all end by `deadline`. Cheap: the
    /// connection pool and the rate-limit state are shared.
    pub fn with_deadline(&self, deadline: Instant) -> Self {
        BitmexClient {
            inner: Arc::clone(&self.inner),
            deadline: Some(deadline),
        }
    }

    /// The deadline set by [`with_deadline`](Self::with_deadline), if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The rate-limit state of BitMEX's most recent answer (`None` before the first one).
    pub fn rate_limit(&self) -> Option<RateLimit> {
        match self.inner.rate.lock() {
            Ok(guard) => *guard,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BitmexConfig {
        &self.inner.config
    }

    /// Whether the client carries credentials.
    #[cfg(test)]
    fn is_authenticated(&self) -> bool {
        self.inner.credentials.is_some()
    }
}

impl fmt::Debug for BitmexClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BitmexClient")
            .field("base_url", &self.inner.base)
            .field("credentials", &self.inner.credentials)
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl Exchange for BitmexClient {
    async fn instrument(&self, symbol: &str) -> ExchangeResult<Instrument> {
        self.fetch_instrument(symbol).await
    }

    async fn candles_after(
        &self,
        symbol: &str,
        bin: BinSize,
        tick: TickSize,
        after_close_ms: i64,
        max: usize,
    ) -> ExchangeResult<Vec<Candle>> {
        self.candles_page(symbol, bin, tick, after_close_ms, None, max)
            .await
    }

    async fn position(&self, symbol: &str) -> ExchangeResult<i64> {
        self.fetch_position(symbol).await
    }

    async fn place_order(&self, order: &OrderRequest) -> ExchangeResult<PlacedOrder> {
        self.post_order(order).await
    }

    async fn order_by_cl_ord_id(
        &self,
        symbol: &str,
        cl_ord_id: &str,
    ) -> ExchangeResult<Option<PlacedOrder>> {
        self.find_order(symbol, cl_ord_id).await
    }

    async fn orders_since(
        &self,
        symbol: &str,
        cl_ord_id_prefix: &str,
        since_ms: i64,
        max: usize,
    ) -> ExchangeResult<Vec<PlacedOrder>> {
        self.list_orders_since(symbol, cl_ord_id_prefix, since_ms, max)
            .await
    }

    async fn cancel_orders(
        &self,
        symbol: &str,
        cl_ord_ids: &[String],
    ) -> ExchangeResult<Vec<PlacedOrder>> {
        self.cancel_by_cl_ord_ids(symbol, cl_ord_ids).await
    }
}

impl crate::exchange::Deadlined for BitmexClient {
    fn until(&self, deadline: Instant) -> Self {
        self.with_deadline(deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn testnet_is_the_default_and_base_urls_are_checked() {
        assert_eq!(BitmexConfig::default().base_url, TESTNET_URL);
        let client = BitmexClient::public(BitmexConfig::default());
        assert!(client.is_ok_and(|c| !c.is_authenticated()));
        for bad in [
            "not a url",
            "ftp://example.com/api/v1",
            "https://x.test/api/v1?a=b",
        ] {
            let config = BitmexConfig {
                base_url: bad.into(),
                ..BitmexConfig::default()
            };
            assert!(
                matches!(
                    BitmexClient::public(config),
                    Err(ExchangeError::Malformed(_))
                ),
                "{bad} must be refused"
            );
        }
        let no_key = BitmexClient::new(
            BitmexConfig::default(),
            Credentials::new("", ApiSecret::new("s")),
        );
        assert!(matches!(no_key, Err(ExchangeError::Unauthorized(_))));
    }

    /// The credentials ride on every request: plain http is allowed only to this machine (the
    /// tests' fake BitMEX), whatever the host.
    #[test]
    fn base_urls_are_https_except_to_this_machine() {
        let client = |url: &str| {
            BitmexClient::public(BitmexConfig {
                base_url: url.into(),
                ..BitmexConfig::default()
            })
        };
        for bad in [
            "http://www.bitmex.com/api/v1",
            "http://testnet.bitmex.com/api/v1",
            "http://10.1.2.3:8080/api/v1",
            "http://127.0.0.1.example.com/api/v1",
            "http://user:pass@127.0.0.1/api/v1",
        ] {
            match client(bad) {
                Err(ExchangeError::Malformed(m)) => {
                    assert!(m.contains("https") || m.contains("password"), "{bad}: {m}");
                }
                other => panic!("{bad} must be refused, got {other:?}"),
            }
        }
        for good in [
            TESTNET_URL,
            MAINNET_URL,
            "http://127.0.0.1:4567/api/v1",
            "http://localhost:4567/api/v1/",
            "http://[::1]:4567/api/v1",
        ] {
            assert!(client(good).is_ok(), "{good} must be accepted");
        }
    }
}
