//! A fake BitMEX: a real HTTP server on `127.0.0.1:<ephemeral>` that behaves like BitMEX's REST API
//! in every way the bot depends on, with a control API for tests.
//!
//! # Starting it
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use maestro_tests::fake_bitmex::{FakeBitmex, synthetic, TEST_API_KEY, TEST_API_SECRET};
//! use maestro_lambda::exchange::BinSize;
//! let fake = FakeBitmex::start().await?;            // LTCUSDT listed, key TEST_API_KEY known
//! let bars = synthetic(1_600_000_060_000, BinSize::M1, 100, |i| 50.0 + i as f64 * 0.01);
//! fake.set_series("LTCUSDT", BinSize::M1, bars, 60); // 60 completed buckets, the 61st in progress
//! let base = fake.base_url();                        // "http://127.0.0.1:PORT/api/v1"
//! // point a BitmexClient at `base` with TEST_API_KEY / TEST_API_SECRET ...
//! fake.advance("LTCUSDT", 1);                        // the next bucket completes
//! # Ok(()) }
//! ```
//! The server stops when the [`FakeBitmex`] is dropped.
//!
//! # What it does like BitMEX
//! - Auth: `api-key`, `api-expires` (UNIX s, must not be in the past) and `api-signature` =
//!   `hex(HMAC-SHA256(secret, VERB + path?query + expires + body))` over the bytes received. Private
//!   routes (`/position`, `/order*`) need it; public ones check it when an `api-key` is sent. Failure:
//!   401 `{"error":{"message","name"}}`.
//! - Parameters: any query or body parameter the swagger spec does not define for that route is
//!   refused with 400 ([`params::ALLOWED_PARAMS`], checked against the spec by a test).
//! - `GET /trade/bucketed`: from the series the test set ([`set_series`](FakeBitmex::set_series)),
//!   END-of-bucket timestamps, `open` = previous close; honours `binSize`, `partial` (adds the
//!   bucket in progress), `startTime`/`endTime` (on the timestamp, inclusive), `count` (1..=1000,
//!   default 100), `start`, `reverse`.
//! - `GET /instrument`, `GET /position` (`filter={"symbol":..}`; no row until the symbol was traded
//!   or set by hand), `GET /order` (`symbol`, `filter` on any order field's exact value and
//!   `{"open": true}`, `startTime`/`endTime` on `timestamp`, `count`, `start`, `reverse`).
//! - `POST /order`: `ordType=Market` only (BitMEX's default `Limit` is refused, so a client that
//!   forgets `ordType` fails loudly); fills at once at the close of the latest completed bucket;
//!   `orderQty` must be a positive multiple of `lotSize`; reused `clOrdID` → 400 `Duplicate
//!   clOrdID`; `execInst=ReduceOnly` never increases the position (cancelled, or capped at it);
//!   `execInst=Close` without `orderQty` closes the whole position.
//! - `DELETE /order` (by `orderID`/`clOrdID`, one or a JSON array; 404 when none is known; an
//!   order no longer open is listed unchanged with BitMEX's per-order `error`), `DELETE /order/all` (`symbol`),
//!   `POST /order/cancelAllAfter` (`timeout` ms, 0 disarms; fires lazily on the next request or
//!   inspection after the time passed).
//! - Rate limit: a 120-request bucket refilled at 2/s; every answer carries `x-ratelimit-limit`,
//!   `x-ratelimit-remaining`, `x-ratelimit-reset`; an empty bucket answers 429 with `Retry-After`.
//!
//! # Control API (all on [`FakeBitmex`], callable while the client runs)
//! | call | effect |
//! |---|---|
//! | `base_url()`, `client()`, `public_client()`, `client_config()` | API root; ready clients with short test timeouts |
//! | `set_series(sym, bin, bars, completed)`, `advance(sym, n)`, `completed(sym)`, `last_close(sym)` | the market and its clock |
//! | `add_instrument(spec)`, `add_key(key, secret)` | listings and API keys |
//! | `set_position(sym, qty)` | the position changes outside the bot (journaled as a hand trade) |
//! | `hand_trade(sym, side, qty)` | a filled market order without clOrdID, as from the website |
//! | `liquidate(sym)` | the liquidation engine takes the position: it becomes 0 |
//! | `executions(sym)`, `executed_position(sym)` | the journal of every fill ([`Execution`]) and its sum |
//!
//! Switches for what BitMEX does not document (each stays until changed or used up):
//!
//! | call | effect |
//! |---|---|
//! | `set_id_reuse(IdReuse::Forever / WhileOpen)` | whether a finished order's clOrdID can be used again |
//! | `execute_late(n, lookups)` | the next `n` orders answer 503 yet execute after `lookups` `GET /order` answers; `release_late()` forces them |
//! | `reject_margin(MarginRejection::Refused / RejectedOrder, n)` | the next `n` orders that could add to the position are rejected for margin |
//! | `fill_partially(max_qty, Remainder::Canceled / Resting, n)` | the next `n` orders fill at most `max_qty`; `fill_resting(sym)` completes the resting ones |
//! | `set_cancel_all_or_nothing(bool)` | `DELETE /order` with any unknown id: 404 for all, nothing cancelled |
//! | `position(sym)`, `orders(sym)`, `orders_with_cl_ord_id(id)`, `open_orders(sym)` | inspection |
//! | `add_resting_order(sym, side, qty, price)` | an open limit order for cancel tests |
//! | `dead_mans_switch()`, `dead_mans_fired()` | the dead-man's switch |
//! | `inject(FaultRule::new(fault).times(n).on("POST", "/order"))`, `clear_faults()` | faults ([`Fault`]) |
//! | `requests()`, `requests_to(method, route)`, `clear_requests()` | every request seen ([`RecordedRequest`]) |
//! | `set_rate_tokens(n)`, `report_rate_limit(Some((limit, remaining, reset_in_s)))` | the rate limit |

mod book;
mod control;
mod engine;
mod faults;
mod market;
pub mod params;
mod routes;
mod series;
mod server;
mod switches;

pub use book::{DeadMansSwitch, FakeOrder, InstrumentSpec};
pub use faults::{Fault, FaultRule, RecordedRequest};
pub use series::{Bar, SeriesFormat, iso, load_bars, parse_time, synthetic};
pub use server::API_ROOT;
pub use switches::{
    ExecKind, Execution, INSUFFICIENT_BALANCE, IdReuse, MarginRejection, Remainder,
};

use maestro_lambda::bitmex::{ApiSecret, BitmexClient, BitmexConfig, Credentials};
use maestro_lambda::exchange::ExchangeResult;
use market::Market;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The API key id the fake knows from the start.
pub const TEST_API_KEY: &str = "maestro-test-key";
/// Its secret.
pub const TEST_API_SECRET: &str = "maestro-test-secret-0123456789abcdef";

/// Requests per minute (the bucket's size, refilled evenly over a minute), as BitMEX for a key.
const RATE_LIMIT: f64 = 120.0;

pub(crate) struct State {
    market: Market,
    faults: Vec<FaultRule>,
    requests: Vec<RecordedRequest>,
    keys: BTreeMap<String, String>,
    tokens: f64,
    /// The bucket's size, in requests per minute.
    rate_limit: f64,
    /// How long every answer takes, as the network and the exchange would.
    latency: Duration,
    refilled_at: Instant,
    rate_report: Option<(u32, u32, u64)>,
}

impl State {
    fn refill(&mut self) {
        let now = Instant::now();
        let gained = now.duration_since(self.refilled_at).as_secs_f64() * self.refill_per_s();
        self.tokens = (self.tokens + gained).min(self.rate_limit);
        self.refilled_at = now;
    }

    fn refill_per_s(&self) -> f64 {
        self.rate_limit / 60.0
    }

    pub(crate) fn rate_headers(&mut self) -> Vec<(&'static str, String)> {
        self.refill();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let (limit, remaining, reset) = match self.rate_report {
            Some((limit, remaining, reset_in)) => (limit, remaining, now + reset_in),
            None => (
                self.rate_limit as u32,
                self.tokens.floor() as u32,
                now + ((self.rate_limit - self.tokens) / self.refill_per_s()).ceil() as u64,
            ),
        };
        vec![
            ("x-ratelimit-limit", limit.to_string()),
            ("x-ratelimit-remaining", remaining.to_string()),
            ("x-ratelimit-reset", reset.to_string()),
        ]
    }
}

pub(crate) struct Shared {
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock must not hide the real failure behind a
        // poison error in every later request.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes one request from the bucket, or says how many seconds until one is available.
    pub(crate) fn take_token(&self) -> Result<(), u64> {
        let mut st = self.lock();
        st.refill();
        if st.tokens < 1.0 {
            return Err(((1.0 - st.tokens) / st.refill_per_s()).ceil().max(1.0) as u64);
        }
        st.tokens -= 1.0;
        Ok(())
    }
}

/// A running fake BitMEX and its control API. See the [module documentation](self).
pub struct FakeBitmex {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeBitmex {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeBitmex {
    /// Starts the server on a thread and runtime of its own, as a remote exchange answers from
    /// elsewhere: for benches that run their own runtime and want the fake's work apart from
    /// theirs. Returns the fake and the kernel id of its thread (empty when `/proc` does not say),
    /// whose CPU time a bench can then leave out. The thread lives as long as the process.
    ///
    /// # Panics
    /// When the runtime or the server cannot start.
    pub fn start_on_own_thread() -> (Arc<FakeBitmex>, String) {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the fake BitMEX");
            rt.block_on(async {
                let fake = FakeBitmex::start().await.expect("fake BitMEX");
                // This thread's kernel id: `/proc/thread-self` links to `PID/task/TID`.
                let tid = std::fs::read_link("/proc/thread-self")
                    .ok()
                    .and_then(|l| l.file_name()?.to_str().map(str::to_owned))
                    .unwrap_or_default();
                let _ = tx.send((Arc::new(fake), tid));
                std::future::pending::<()>().await;
            });
        });
        rx.recv().expect("the fake BitMEX started")
    }

    /// Starts the server on `127.0.0.1` with an ephemeral port, LTCUSDT listed and
    /// [`TEST_API_KEY`] known. Must be called inside a tokio runtime.
    pub async fn start() -> std::io::Result<Self> {
        let mut market = Market::default();
        let spec = InstrumentSpec::ltcusdt();
        market.instruments.insert(spec.symbol.clone(), spec);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                market,
                faults: Vec::new(),
                requests: Vec::new(),
                keys: BTreeMap::from([(TEST_API_KEY.to_owned(), TEST_API_SECRET.to_owned())]),
                tokens: RATE_LIMIT,
                rate_limit: RATE_LIMIT,
                latency: Duration::ZERO,
                refilled_at: Instant::now(),
                rate_report: None,
            }),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new()
            .fallback(server::handle)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("fake BitMEX stopped: {e}");
            }
        });
        Ok(FakeBitmex { shared, addr, task })
    }

    /// The API root for the client: `http://127.0.0.1:PORT/api/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}{API_ROOT}", self.addr)
    }

    /// A client configuration for tests: this server, short timeouts and backoffs so that fault
    /// tests take about a second, production retry rules otherwise.
    pub fn client_config(&self) -> BitmexConfig {
        BitmexConfig {
            base_url: self.base_url(),
            connect_timeout: Duration::from_millis(500),
            request_timeout: Duration::from_millis(300),
            default_budget: Duration::from_secs(5),
            max_attempts: 5,
            backoff_base: Duration::from_millis(20),
            backoff_cap: Duration::from_millis(200),
            expires_after: Duration::from_secs(10),
            rate_limit_floor: 5,
        }
    }

    /// A [`BitmexClient`] with [`TEST_API_KEY`] and [`client_config`](Self::client_config).
    pub fn client(&self) -> ExchangeResult<BitmexClient> {
        BitmexClient::new(
            self.client_config(),
            Credentials::new(TEST_API_KEY, ApiSecret::new(TEST_API_SECRET)),
        )
    }

    /// A public-only client (no credentials) with [`client_config`](Self::client_config).
    pub fn public_client(&self) -> ExchangeResult<BitmexClient> {
        BitmexClient::public(self.client_config())
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}
