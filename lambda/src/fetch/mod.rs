//! `maestro fetch`: BitMEX public candle history (`trade/bucketed`) into a CSV file, paged, paced
//! under the unauthenticated rate limit, and resumable.
//!
//! ```text
//! FetchOptions ─► open the CSV (create + header │ check header, cut a half-written last line,
//!                 │                               read the last close time to resume after it)
//!                 ├► GET /instrument?symbol=…      (an unknown symbol is a clear error)
//!                 └► loop: wait for the pacer ─► GET /trade/bucketed (partial=false, ≤ 500 rows,
//!                          startTime = last close + 1 ms, endTime = to) ─► check the rows ─►
//!                          append them as CSV lines, flush to disk ─► progress
//! ```
//!
//! The file has BitMEX's columns (`timestamp,symbol,open,...,foreignNotional`, [`HEADER`]) and its
//! END-of-bucket timestamps, ISO-8601 (`2020-05-29T00:01:00.000Z`); numbers are the exact text
//! BitMEX sent. The range is the buckets whose close time lies in `(from, to]`: exactly those that
//! cover trades in `[from, to)`.
//!
//! Pacing: every request (retries included) starts at least [`RequestRate::interval`] after the
//! previous answer arrived; on top of that the client slows down when BitMEX's `x-ratelimit-*`
//! headers say the bucket is nearly empty, and waits out a 429's `Retry-After`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), maestro_lambda::fetch::FetchError> {
//! use maestro_lambda::exchange::BinSize;
//! use maestro_lambda::fetch::{BarProgress, FetchOptions, fetch_history, parse_time};
//! let opts = FetchOptions::new(
//!     "XBTUSD",
//!     BinSize::M1,
//!     parse_time("2020-05-29")?,
//!     parse_time("2020-06-01")?,
//!     "xbtusd-1m.csv",
//! );
//! let summary = fetch_history(&opts, &BarProgress::new()).await?;
//! println!("{summary}");
//! # Ok(()) }
//! ```

mod error;
mod output;
mod progress;
mod rows;
mod times;

pub use error::FetchError;
pub use progress::{BarProgress, NoProgress, Position, Progress};
pub use rows::HEADER;
pub use times::{iso, parse_time};

use crate::bitmex::{BitmexClient, BitmexConfig, MAX_CANDLES_PER_REQUEST, TESTNET_URL};
use crate::exchange::{BinSize, Exchange, ExchangeError};
use output::Output;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

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

    fn validate(&self) -> Result<(), FetchError> {
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
    fn client_config(&self) -> BitmexConfig {
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

    fn position(&self, last_close_ms: Option<i64>) -> Position {
        Position {
            total_buckets: self.buckets_until(self.to_ms),
            done_buckets: last_close_ms.map_or(0, |t| self.buckets_until(t)),
            last_close_ms,
        }
    }
}

/// What a download did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchSummary {
    /// The CSV file.
    pub path: PathBuf,
    /// Rows appended by this run.
    pub rows_written: u64,
    /// Pages of candles requested by this run.
    pub pages: u64,
    /// The close time the file ended at before this run, when it was continued.
    pub resumed_after_ms: Option<i64>,
    /// Bytes of a half-written last line cut off before continuing.
    pub repaired_bytes: u64,
    /// The close time of the file's last row now.
    pub last_close_ms: Option<i64>,
    /// Whether the range is done (`false`: stopped by [`FetchOptions::max_pages`]).
    pub complete: bool,
}

impl fmt::Display for FetchSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} rows in {} pages to {}",
            self.rows_written,
            self.pages,
            self.path.display()
        )?;
        if let Some(t) = self.resumed_after_ms {
            write!(f, ", continued after {}", iso(t))?;
        }
        if self.repaired_bytes > 0 {
            write!(
                f,
                ", cut off a half-written line ({} bytes)",
                self.repaired_bytes
            )?;
        }
        match (self.complete, self.last_close_ms) {
            (true, Some(t)) => write!(f, "; complete up to {}", iso(t)),
            (true, None) => write!(f, "; complete (BitMEX has no buckets in the range)"),
            (false, _) => write!(f, "; stopped early, run again to continue"),
        }
    }
}

/// Keeps requests at least one interval apart, counted from the previous answer so that the
/// server sees the spacing whatever the network's delays.
struct Pacer {
    interval: Duration,
    last_answer: Option<Instant>,
}

impl Pacer {
    async fn wait(&self) {
        if let Some(at) = self.last_answer {
            let ready = at + self.interval;
            let now = Instant::now();
            if ready > now {
                tokio::time::sleep(ready - now).await;
            }
        }
    }

    fn answered(&mut self) {
        self.last_answer = Some(Instant::now());
    }
}

/// Downloads `opts.symbol`'s completed `opts.bin` buckets closing in `(from, to]` into
/// `opts.output`, continuing a file left by an earlier, interrupted run. See the
/// [module documentation](self).
pub async fn fetch_history(
    opts: &FetchOptions,
    progress: &dyn Progress,
) -> Result<FetchSummary, FetchError> {
    opts.validate()?;
    let client = BitmexClient::public(opts.client_config())
        .map_err(|e| FetchError::InvalidOption(format!("base URL {:?}: {e}", opts.base_url)))?;
    // The file first: a path that cannot be written fails before any request.
    let mut out = Output::open(&opts.output, &opts.symbol, opts.bin).await?;
    let resumed_after_ms = out.last_close_ms;
    let mut summary = FetchSummary {
        path: opts.output.clone(),
        rows_written: 0,
        pages: 0,
        resumed_after_ms,
        repaired_bytes: out.repaired_bytes,
        last_close_ms: resumed_after_ms,
        complete: false,
    };
    let mut after = resumed_after_ms.map_or(opts.from_ms, |t| t.max(opts.from_ms));
    progress.begin(&opts.position(summary.last_close_ms));
    if after >= opts.to_ms {
        summary.complete = true;
        progress.finish(&summary);
        return Ok(summary);
    }

    let mut pacer = Pacer {
        interval: opts.rate.interval(),
        last_answer: None,
    };
    let listed = client.instrument(&opts.symbol).await;
    pacer.answered();
    match listed {
        Ok(_) => {}
        Err(ExchangeError::Rejected { status: 404, .. }) => {
            if out.created {
                // Leave no empty file behind for a symbol that does not exist.
                drop(out);
                let _ = tokio::fs::remove_file(&opts.output).await;
            }
            return Err(FetchError::UnknownSymbol(opts.symbol.clone()));
        }
        Err(e) => return Err(e.into()),
    }

    loop {
        if opts.max_pages.is_some_and(|max| summary.pages >= max) {
            break;
        }
        pacer.wait().await;
        let body = client
            .bucketed_page_json(&opts.symbol, opts.bin, after, opts.to_ms, opts.page_size)
            .await;
        pacer.answered();
        summary.pages += 1;
        let page = rows::page_to_csv(&body?, &opts.symbol, opts.bin, after, opts.to_ms)?;
        let Some(last) = page.last_close_ms else {
            summary.complete = true;
            break;
        };
        out.append(&page.text).await?;
        after = last;
        summary.rows_written += page.rows as u64;
        summary.last_close_ms = Some(last);
        progress.page(&opts.position(Some(last)), page.rows);
        // A short page means BitMEX has nothing more up to `to` (yet).
        if page.rows < opts.page_size || last >= opts.to_ms {
            summary.complete = true;
            break;
        }
    }
    progress.finish(&summary);
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

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
