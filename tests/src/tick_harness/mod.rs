//! A small scenario harness for the tick, end to end with the real adapters: the fake BitMEX on
//! 127.0.0.1 and a [`BitmexClient`] signing real HTTP requests to it, and a real state store
//! (`DynamoStore` on moto, or `FileStore` in a temporary directory).
//!
//! ```text
//! Harness::dynamo / Harness::file   start the fake, load a candle series, open the store
//! harness.advance(n)                the market's clock: n more buckets complete
//! harness.tick()                    one Tick::run at "just after the last completed minute"
//! harness.record(), .orders(), ...  inspect the store and the exchange
//! ```
//!
//! A [`Bot`] is the cheap, clonable part (client, store, instrument, params) so that tests can run
//! several ticks of one minute at once on tokio tasks.

mod hooks;
pub mod oracle;

pub use hooks::{CrashOnce, Gate, Hold, HoldAfterLoad, Hooked, LoadGate, LoadHook};
pub use oracle::{Oracle, find_segment, signals};

use crate::data::data_file;
use crate::dynamo::fresh_table;
use crate::fake_bitmex::{Bar, FakeBitmex, FakeOrder, SeriesFormat, load_bars, synthetic};
use crate::market::{FIRST_CLOSE, rough_market};
use maestro_core::Mode;
use maestro_lambda::bitmex::{ApiSecret, BitmexClient, BitmexConfig, Credentials};
use maestro_lambda::bot_id::BotId;
use maestro_lambda::exchange::{BinSize, Exchange, Instrument};
use maestro_lambda::params::{BotParams, LiveStrategy};
use maestro_lambda::store::{BotRecord, DynamoStore, FileStore, StateStore, Versioned};
use maestro_lambda::tick::{Failpoints, NoFailpoints, Tick, TickError, TickReport};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// The traded symbol.
pub const SYMBOL: &str = "LTCUSDT";
/// The bot every scenario runs.
pub const BOT_ID: &str = "ltc-e2e";
/// One minute.
pub const MINUTE_MS: i64 = 60_000;
/// Real LTC 1-minute candles without gaps (44,447 of them).
pub const REAL_DATA: &str = "ltcusdt-binance-spot-1m-2021-05.json";
/// A tick's time budget in the scenarios (a Lambda's would be its timeout minus a margin).
pub const TICK_BUDGET: Duration = Duration::from_secs(10);

/// The seed of [`synthetic_bars`].
pub const MARKET_SEED: u64 = 0x005e_ed0f_c4a0;

/// 8,000 one-minute LTCUSDT bars of a seeded rough market ([`rough_market`]: trends, chop and a
/// crash), from [`FIRST_CLOSE`]. The scenarios look in it for the crossover patterns they need, so
/// they run on every clone, with or without the shared real data.
pub fn synthetic_bars() -> Vec<Bar> {
    let closes = rough_market(MARKET_SEED, 8000);
    synthetic(FIRST_CLOSE, BinSize::M1, closes.len(), |i| closes[i])
}

/// The real candles, stamped at their close time; `None` (after saying so) when the shared data is
/// absent outside CI.
///
/// # Panics
/// When the file exists but cannot be read.
pub fn real_bars(test: &str) -> Option<Vec<Bar>> {
    let path = data_file(test, REAL_DATA)?;
    match load_bars(&path, SeriesFormat::FreqtradeJson, BinSize::M1) {
        Ok(bars) => Some(bars),
        Err(e) => panic!("{test}: reading {}: {e}", path.display()),
    }
}

/// A long-short bot on 1-minute LTCUSDT candles holding one lot (1000 contracts) either way.
pub fn params(short: u32, long: u32) -> BotParams {
    BotParams {
        symbol: SYMBOL.to_owned(),
        bin: BinSize::M1,
        short_window: short,
        long_window: long,
        mode: Mode::LongShort,
        qty: 1000,
        max_position: 1000,
        ..BotParams::default()
    }
}

/// The part of a scenario a tick needs: cheap to clone, so concurrent ticks each get their own.
#[derive(Clone, Debug)]
pub struct Bot<S> {
    /// The real BitMEX client pointed at the fake.
    pub client: BitmexClient,
    /// The real store.
    pub store: S,
    /// The instrument, read from the fake once.
    pub instrument: Instrument,
    /// Bot id.
    pub id: BotId,
    /// Parameters used when the bot has no record yet.
    pub params: BotParams,
    /// `true`: every exchange call gets the client's own `default_budget` instead of the tick's
    /// deadline (the chaos run uses a short one so a 503 fails the call rather than waiting).
    pub per_call_budget: bool,
}

impl<S: StateStore> Bot<S> {
    /// One tick at `now_ms` (simulated wall time) with `failpoints`.
    pub async fn tick_at(
        &self,
        now_ms: i64,
        failpoints: &dyn Failpoints,
    ) -> Result<TickReport, TickError> {
        let deadline = Instant::now() + TICK_BUDGET;
        let exchange = if self.per_call_budget {
            self.client.clone()
        } else {
            self.client.with_deadline(deadline)
        };
        let tick = Tick {
            exchange: &exchange,
            store: &self.store,
            instrument: &self.instrument,
            now_ms,
            deadline,
            failpoints,
        };
        tick.run(&self.id, &self.params).await
    }

    /// The stored record, if any.
    ///
    /// # Panics
    /// When the store fails.
    pub async fn record(&self) -> Option<Versioned<BotRecord>> {
        match self.store.load(&self.id).await {
            Ok(r) => r,
            Err(e) => panic!("loading {}: {e}", self.id),
        }
    }

    /// Changes the stored record as the routes would (load, edit, conditional save).
    ///
    /// # Panics
    /// When there is no record or the save fails.
    pub async fn edit(&self, change: impl FnOnce(&mut BotRecord)) {
        let Some(mut stored) = self.record().await else {
            panic!("{} has no record to edit", self.id);
        };
        change(&mut stored.value);
        if let Err(e) = self.store.save(&stored.value, Some(stored.version)).await {
            panic!("saving {}: {e}", self.id);
        }
    }
}

/// A scenario: the fake exchange with its market, and one bot on a real store.
pub struct Harness<S> {
    /// The fake BitMEX (control API: faults, hand trades, inspection).
    pub fake: FakeBitmex,
    /// The bot.
    pub bot: Bot<S>,
    bars: Vec<Bar>,
    completed: usize,
    _dir: Option<tempfile::TempDir>,
}

impl Harness<DynamoStore> {
    /// The fake serving `bars` (the first `completed` of them done) and a fresh moto table.
    pub async fn dynamo(test: &str, params: BotParams, bars: Vec<Bar>, completed: usize) -> Self {
        let table = fresh_table(test).await;
        Harness::start(table.store, None, params, bars, completed).await
    }
}

impl Harness<DynamoStore> {
    /// As [`dynamo`](Self::dynamo), with the bot's store reaching moto through a
    /// [`StoreProxy`](crate::store_proxy::StoreProxy) that injects store faults on demand. The
    /// table (direct to moto) is returned with the proxy, for checks that must not meet a fault.
    pub async fn dynamo_behind_proxy(
        test: &str,
        params: BotParams,
        bars: Vec<Bar>,
        completed: usize,
    ) -> (
        Self,
        crate::store_proxy::StoreProxy,
        crate::dynamo::DynamoTable,
    ) {
        let table = crate::store_proxy::proxied_table(test).await;
        let h = Harness::start(table.store, None, params, bars, completed).await;
        (h, table.proxy, table.direct)
    }
}

impl Harness<FileStore> {
    /// The fake serving `bars` (the first `completed` of them done) and a file store in a fresh
    /// temporary directory.
    pub async fn file(params: BotParams, bars: Vec<Bar>, completed: usize) -> Self {
        Harness::file_in(std::env::temp_dir(), params, bars, completed).await
    }

    /// As [`file`](Self::file), with the directory in RAM (`/dev/shm`) where there is one: the
    /// store still writes, fsyncs and renames, but a long run does not wait on the disk for each.
    pub async fn file_in_memory(params: BotParams, bars: Vec<Bar>, completed: usize) -> Self {
        let shm = std::path::Path::new("/dev/shm");
        let parent = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        Harness::file_in(parent, params, bars, completed).await
    }

    async fn file_in(
        parent: std::path::PathBuf,
        params: BotParams,
        bars: Vec<Bar>,
        completed: usize,
    ) -> Self {
        let dir = match tempfile::tempdir_in(&parent) {
            Ok(d) => d,
            Err(e) => panic!("temp dir in {}: {e}", parent.display()),
        };
        let store = match FileStore::open(dir.path()) {
            Ok(s) => s,
            Err(e) => panic!("file store: {e}"),
        };
        Harness::start(store, Some(dir), params, bars, completed).await
    }
}

impl<S: StateStore> Harness<S> {
    async fn start(
        store: S,
        dir: Option<tempfile::TempDir>,
        params: BotParams,
        bars: Vec<Bar>,
        completed: usize,
    ) -> Self {
        let fake = match FakeBitmex::start().await {
            Ok(f) => f,
            Err(e) => panic!("fake BitMEX: {e}"),
        };
        let completed = completed.min(bars.len());
        fake.set_series(SYMBOL, params.bin, bars.clone(), completed);
        let client = build_client(fake.client_config());
        let instrument = match client.instrument(SYMBOL).await {
            Ok(i) => i,
            Err(e) => panic!("instrument from the fake: {e}"),
        };
        fake.clear_requests();
        Harness {
            fake,
            bot: Bot {
                client,
                store,
                instrument,
                id: BotId::new(BOT_ID).expect("the harness bot id follows the rule"),
                params,
                per_call_budget: false,
            },
            bars,
            completed,
            _dir: dir,
        }
    }

    /// Replaces the client's configuration (shorter timeouts, a per-call budget, ...).
    pub fn set_client_config(&mut self, change: impl FnOnce(&mut BitmexConfig)) {
        let mut config = self.fake.client_config();
        change(&mut config);
        self.bot.client = build_client(config);
    }

    /// The market's clock: `n` more buckets complete. A simulated minute refills the rate-limit
    /// bucket as BitMEX's 2 requests a second would.
    pub fn advance(&mut self, n: usize) {
        self.completed = self.fake.advance(SYMBOL, n);
        self.fake.set_rate_tokens(120);
    }

    /// How many buckets have completed.
    pub fn completed(&self) -> usize {
        self.completed
    }

    /// The series the fake serves.
    pub fn bars(&self) -> &[Bar] {
        &self.bars
    }

    /// The completed bars, oldest first.
    pub fn completed_bars(&self) -> &[Bar] {
        &self.bars[..self.completed]
    }

    /// Simulated wall time of a tick: one second after the last completed bucket closed.
    pub fn now_ms(&self) -> i64 {
        match self.completed.checked_sub(1) {
            Some(last) => self.bars[last].close_time_ms + 1000,
            None => self.bars.first().map_or(0, |b| b.close_time_ms - MINUTE_MS),
        }
    }

    /// One tick now, without failpoints.
    pub async fn tick(&self) -> Result<TickReport, TickError> {
        self.bot.tick_at(self.now_ms(), &NoFailpoints).await
    }

    /// One tick now that must succeed.
    ///
    /// # Panics
    /// When the tick fails.
    pub async fn tick_ok(&self) -> TickReport {
        match self.tick().await {
            Ok(r) => r,
            Err(e) => panic!("tick at minute {} failed: {e}", self.completed),
        }
    }

    /// One tick now with `failpoints`.
    pub async fn tick_with(&self, failpoints: &dyn Failpoints) -> Result<TickReport, TickError> {
        self.bot.tick_at(self.now_ms(), failpoints).await
    }

    /// One tick `later_ms` after the current minute's, with no new candle: past
    /// [`SETTLE_MS`](maestro_lambda::tick::plan::SETTLE_MS) an intent the exchange does not know
    /// is settled as never placed.
    pub async fn tick_later(&self, later_ms: i64) -> TickReport {
        match self
            .bot
            .tick_at(self.now_ms() + later_ms, &NoFailpoints)
            .await
        {
            Ok(r) => r,
            Err(e) => panic!(
                "tick at minute {} + {later_ms} ms failed: {e}",
                self.completed
            ),
        }
    }

    /// The stored record, if any.
    pub async fn record(&self) -> Option<Versioned<BotRecord>> {
        self.bot.record().await
    }

    /// The bot's exchange position.
    pub fn position(&self) -> i64 {
        self.fake.position(SYMBOL)
    }

    /// Every order on the fake, in arrival order.
    pub fn orders(&self) -> Vec<FakeOrder> {
        self.fake.orders(SYMBOL)
    }

    /// Checks that no clOrdID reached the engine twice.
    ///
    /// # Panics
    /// When one did.
    pub fn assert_no_duplicate_orders(&self) {
        assert_no_duplicates(&self.orders());
    }
}

/// A client for the fake with `config`.
///
/// # Panics
/// When the configuration is refused.
pub fn build_client(config: BitmexConfig) -> BitmexClient {
    let credentials = Credentials::new(
        crate::fake_bitmex::TEST_API_KEY,
        ApiSecret::new(crate::fake_bitmex::TEST_API_SECRET),
    );
    match BitmexClient::new(config, credentials) {
        Ok(c) => c,
        Err(e) => panic!("BitMEX client: {e}"),
    }
}

/// Checks that every order on the exchange carries its own clOrdID.
///
/// # Panics
/// When one clOrdID reached the engine twice.
pub fn assert_no_duplicates(orders: &[FakeOrder]) {
    let mut seen = HashSet::new();
    for o in orders {
        assert!(
            o.cl_ord_id.is_empty() || seen.insert(o.cl_ord_id.as_str()),
            "clOrdID {} was placed twice: {orders:#?}",
            o.cl_ord_id
        );
    }
}

/// The strategy stored in a record (`None` before the first candle).
///
/// # Panics
/// When the stored state cannot be restored.
pub fn stored_strategy(record: &BotRecord) -> Option<LiveStrategy> {
    let core = record.core.as_ref()?;
    match core.restore(&record.params, core.lot_size) {
        Ok(s) => s,
        Err(e) => panic!("stored state does not restore: {e}"),
    }
}
