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
//! Interruptions: the download may be dropped at any `.await` (Ctrl-C) or fail at any request;
//! every page on disk stays, at worst a half-written last line is cut off by the next run, which
//! asks only for what follows the file's last row. A file that is not such a download (another
//! header, symbol or bucket size, a garbled complete line) is refused and left untouched.
//!
//! ```no_run
//! # async fn demo() -> Result<(), maestro_cli::fetch::FetchError> {
//! use maestro_lambda::exchange::BinSize;
//! use maestro_cli::fetch::{BarProgress, FetchOptions, fetch_history, parse_time};
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
mod options;
mod output;
mod progress;
mod rows;
mod times;

pub use error::FetchError;
pub use options::{FetchOptions, RequestRate};
pub use progress::{BarProgress, NoProgress, Position, Progress};
pub use rows::HEADER;
pub use times::{iso, parse_time};

use maestro_lambda::bitmex::BitmexClient;
use maestro_lambda::exchange::{Exchange, ExchangeError};
use output::Output;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

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
            "{} rows in {} {} to {}",
            self.rows_written,
            self.pages,
            if self.pages == 1 { "page" } else { "pages" },
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
