//! What to download, where to, and how fast: validated once, before anything is opened or sent.

use super::{FetchError, Position, iso};
use maestro_lambda::bitmex::{BitmexConfig, MAX_CANDLES_PER_REQUEST, TESTNET_URL};
use maestro_lambda::exchange::BinSize;
use std::path::PathBuf;
use std::time::Duration;

/// At most `requests` requests in any window of `per`, spread evenly (one every
/// [`interval`](Self::interval)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestRate {
    requests: u32,
    per: Duration,
}

impl RequestRate {
    /// BitMEX's limit for requests without an API key: 30 a minute.
    pub const BITMEX_PUBLIC: RequestRate = RequestRate {
        requests: 30,
        per: Duration::from_secs(60),
    };

    /// `requests` per `per`; both must be non-zero.
    pub fn new(requests: u32, per: Duration) -> Result<Self, FetchError> {
        if requests == 0 || per.is_zero() {
            return Err(FetchError::InvalidOption(format!(
                "a request rate of {requests} per {per:?} is empty; give at least 1 per second"
            )));
        }
        Ok(RequestRate { requests, per })
    }

    /// Requests per window.
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// The window.
    pub fn per(&self) -> Duration {
        self.per
    }

    /// The least time between one answer and the next request.
    pub fn interval(&self) -> Duration {
        self.per / self.requests
    }
}

impl Default for RequestRate {
    fn default() -> Self {
        Self::BITMEX_PUBLIC
    }
}

/// What to download, where to, and how fast.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchOptions {
    /// API root, `/api/v1` included; [`TESTNET_URL`] by default.
    pub base_url: String,
    /// BitMEX symbol, e.g. `XBTUSD`, `LTCUSDT`.
    pub symbol: String,
    /// Bucket size.
    pub bin: BinSize,
    /// Start: buckets closing strictly after this time (ms since the UNIX epoch).
    pub from_ms: i64,
    /// End: buckets closing at or before this time (ms); only completed buckets are ever served.
    pub to_ms: i64,
    /// The CSV file; created, or continued when it holds an earlier part of the download.
    pub output: PathBuf,
    /// Rows per request, 1..=[`MAX_CANDLES_PER_REQUEST`] (500 by default).
    pub page_size: usize,
    /// Most requests per window ([`RequestRate::BITMEX_PUBLIC`] by default).
    pub rate: RequestRate,
    /// Stop, resumable, after this many pages (`None`: download the whole range).
    pub max_pages: Option<u64>,
    /// Longest wait for one answer.
    pub request_timeout: Duration,
}

impl FetchOptions {
    /// The defaults for a download of `symbol` at `bin` over `(from_ms, to_ms]` into `output`:
    /// testnet, 500 rows a request, 30 requests a minute, the whole range.
    pub fn new(
        symbol: impl Into<String>,
        bin: BinSize,
        from_ms: i64,
        to_ms: i64,
        output: impl Into<PathBuf>,
    ) -> Self {
        FetchOptions {
            base_url: TESTNET_URL.to_owned(),
            symbol: symbol.into(),
            bin,
            from_ms,
            to_ms,
            output: output.into(),
            page_size: MAX_CANDLES_PER_REQUEST,
            rate: RequestRate::BITMEX_PUBLIC,
            max_pages: None,
            request_timeout: Duration::from_secs(10),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), FetchError> {
        let symbol_ok = !self.symbol.is_empty()
            && self.symbol.len() <= 32
            && self
                .symbol
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !symbol_ok {
            return Err(FetchError::InvalidOption(format!(
                "symbol {:?} is not a BitMEX symbol (letters, digits, '.', '_', '-'; e.g. XBTUSD)",
                self.symbol
            )));
        }
        if !(1..=MAX_CANDLES_PER_REQUEST).contains(&self.page_size) {
            return Err(FetchError::InvalidOption(format!(
                "page size {} must be between 1 and {MAX_CANDLES_PER_REQUEST}",
                self.page_size
            )));
        }
        if self.from_ms < 0 {
            return Err(FetchError::BadRange(format!(
                "start {} is before 1970",
                iso(self.from_ms)
            )));
        }
        if self.to_ms <= self.from_ms {
            return Err(FetchError::BadRange(format!(
                "the end {} is not after the start {}; give the earlier time first",
                iso(self.to_ms),
                iso(self.from_ms)
            )));
        }
        Ok(())
    }

    /// The client's settings: its own retries keep to the pacing, and a call may wait long enough
    /// for BitMEX's longest `Retry-After`.
    pub(crate) fn client_config(&self) -> BitmexConfig {
        // Equal-jitter backoff waits at least half of its base: twice the interval keeps every
        // retry at least one interval after the failed answer.
        let backoff_base = (self.rate.interval() * 2).max(Duration::from_millis(1));
        BitmexConfig {
            base_url: self.base_url.clone(),
            request_timeout: self.request_timeout,
            default_budget: Duration::from_secs(300),
            max_attempts: 6,
            backoff_base,
            backoff_cap: backoff_base.max(Duration::from_secs(60)),
            rate_limit_floor: 5,
            ..BitmexConfig::default()
        }
    }

    fn buckets_until(&self, ms: i64) -> u64 {
        u64::try_from((ms.min(self.to_ms) - self.from_ms) / self.bin.millis()).unwrap_or(0)
    }

    pub(crate) fn position(&self, last_close_ms: Option<i64>) -> Position {
        Position {
            total_buckets: self.buckets_until(self.to_ms),
            done_buckets: last_close_ms.map_or(0, |t| self.buckets_until(t)),
            last_close_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::{NoProgress, fetch_history};

    #[test]
    fn the_default_rate_is_bitmex_s_public_limit_spread_evenly() {
        let rate = RequestRate::default();
        assert_eq!((rate.requests(), rate.per()), (30, Duration::from_secs(60)));
        assert_eq!(rate.interval(), Duration::from_secs(2));
        assert!(RequestRate::new(0, Duration::from_secs(1)).is_err());
        assert!(RequestRate::new(1, Duration::ZERO).is_err());
    }

    #[test]
    fn client_retries_never_come_sooner_than_the_pacing_interval() {
        let opts = FetchOptions::new("XBTUSD", BinSize::M1, 0, 60_000, "x.csv");
        let config = opts.client_config();
        assert_eq!(
            config.base_url, TESTNET_URL,
            "testnet unless asked otherwise"
        );
        // Equal jitter waits between half and all of the backoff.
        assert!(config.backoff_base / 2 >= opts.rate.interval());
        assert!(config.backoff_cap >= config.backoff_base);
    }

    #[test]
    fn the_download_future_can_be_spawned() {
        fn assert_send<T: Send>(_: &T) {}
        let opts = FetchOptions::new("XBTUSD", BinSize::M1, 0, 60_000, "x.csv");
        let progress = NoProgress;
        let download = fetch_history(&opts, &progress);
        assert_send(&download);
    }
}
