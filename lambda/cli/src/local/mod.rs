//! `maestro run`: the Lambda's tick pipeline on the local machine.
//!
//! The same [`Tick`] runs against the embedded defaults: a [`FileStore`] under a state directory and
//! a [`SimExchange`] replaying a market (the built-in demo market or a candle file) at an accelerated
//! pace, one tick per candle. The routes of the function URL are served on 127.0.0.1 meanwhile,
//! behind a [`guard`] that keeps web pages out.
//! Stopping (Ctrl-C) loses nothing: every tick saves its state, and every order the simulated
//! exchange filled is journaled, so a second run resumes where the first stopped.

pub mod guard;
mod journal;
pub mod live;
pub mod server;

use crate::candles_file::stamp::format_utc;
use crate::candles_file::{self, LoadOptions};
use crate::sim::account::{Account, Fill};
use crate::sim::{SimExchange, contract_tick_value, ltcusdt};
use journal::Journal;
use maestro_core::replay::DemoMarket;
use maestro_core::{Candle, Price};
use maestro_lambda::config::{BotConfig, DeployLimits};
use maestro_lambda::exchange::{BinSize, Exchange, Instrument, OrderRequest, PlacedOrder};
use maestro_lambda::store::{FileStore, StateStore};
use maestro_lambda::tick::{NoFailpoints, Outcome, Tick, TickReport};
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the candles of a local run come from.
#[derive(Clone, Debug)]
pub enum MarketSource {
    /// The built-in deterministic market (trends, chop, whipsaws, jumps).
    Demo {
        /// Generator seed: the same seed gives the same market.
        seed: u64,
        /// How many candles it has.
        candles: usize,
        /// Close time of its first candle (ms).
        start_close_ms: i64,
    },
    /// A candle file (formats of `maestro backtest`).
    File {
        /// The file.
        path: PathBuf,
        /// How to read it.
        load: LoadOptions,
    },
}

/// Everything `maestro run` needs.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Directory of the file store (records, order logs) and the simulated exchange's journal.
    pub state_dir: PathBuf,
    /// The bot.
    pub bot: BotConfig,
    /// What the routes may not take the bot past.
    pub limits: DeployLimits,
    /// The market to replay.
    pub market: MarketSource,
    /// Wall-clock pause between ticks (0 = as fast as possible).
    pub pace: Duration,
    /// Serve the routes here (loopback only), if set.
    pub listen: Option<SocketAddr>,
    /// Stop after this many ticks (the market's end stops the run anyway).
    pub max_ticks: Option<u64>,
    /// Print one line per tick.
    pub print_ticks: bool,
}

/// Why a local run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// Every candle was replayed.
    MarketEnd,
    /// The tick limit was reached.
    MaxTicks,
    /// Interrupted (Ctrl-C).
    Interrupted,
}

/// What a local run did.
#[derive(Clone, Debug)]
pub struct RunSummary {
    /// How it ended.
    pub end: RunEnd,
    /// Ticks run by this process.
    pub ticks: u64,
    /// Every fill of the simulated exchange since the state directory was new.
    pub fills: Vec<Fill>,
    /// The simulated account.
    pub account: Account,
    /// Close of the last candle replayed (mark for the equity).
    pub mark: Option<Price>,
    /// Quote-currency value of one contract moving one tick.
    pub tick_value: f64,
    /// Where the routes were served.
    pub listening: Option<SocketAddr>,
}

/// Why a local run could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// Bad options (the CLI exits with 2).
    #[error("{0}")]
    Usage(String),
    /// A failure while running.
    #[error("{0}")]
    Failed(String),
}

/// The embedded defaults shared by the tick loop and the route server.
pub struct Local {
    /// The simulated exchange.
    pub exchange: SimExchange,
    /// Every order the simulated exchange accepted, replayed on resume.
    journal: Journal,
    /// The file store.
    pub store: FileStore,
    /// The bot (a one-element list, as the routes take a deployment's bots).
    pub bots: Vec<BotConfig>,
    /// What the routes may not take the bot past.
    pub limits: DeployLimits,
    /// The instrument traded.
    pub instrument: Instrument,
}

/// Runs the bot on the simulated exchange until the market ends, `max_ticks`, or `shutdown`.
pub async fn run_simulated(
    options: &RunOptions,
    out: &mut (dyn Write + Send),
    shutdown: impl Future<Output = ()>,
) -> Result<RunSummary, LocalError> {
    let (candles, bin) = load_market(options)?;
    let mut bot = options.bot.clone();
    bot.params.bin = bin;
    let instrument = ltcusdt();
    let store = FileStore::open(&options.state_dir).map_err(|e| {
        LocalError::Failed(format!(
            "cannot use state directory {}: {e}",
            options.state_dir.display()
        ))
    })?;
    let exchange = SimExchange::new(instrument.clone(), bin.millis(), candles.clone())
        .map_err(LocalError::Failed)?;
    let journal = Journal::open(&options.state_dir, &bot.id)?;
    let local = Arc::new(Local {
        exchange,
        journal,
        store,
        bots: vec![bot.clone()],
        limits: options.limits,
        instrument,
    });

    // Resume: the simulated exchange replays its journal, the tick goes on after the stored candle.
    let resume_after = match local.store.load(&bot.id).await {
        Ok(record) => record.and_then(|r| r.value.last_close_ms),
        Err(e) => {
            return Err(LocalError::Failed(format!(
                "cannot read the bot's state: {e}"
            )));
        }
    };
    for entry in local.journal.entries()? {
        local.exchange.advance_to(entry.now_ms);
        local
            .exchange
            .place_order(&entry.order)
            .await
            .map_err(|e| LocalError::Failed(format!("cannot replay the order journal: {e}")))?;
    }
    let start = resume_after.map_or(0, |t| candles.partition_point(|c| c.close_time_ms <= t));
    if let Some(t) = resume_after {
        let _ = writeln!(
            out,
            "resuming bot {} after {} ({} of {} candles done)",
            bot.id,
            format_utc(t),
            start,
            candles.len()
        );
    }

    let listening = match options.listen {
        Some(addr) => Some(server::spawn(Arc::clone(&local), addr, None).await?),
        None => None,
    };
    if let Some(addr) = listening {
        let _ = writeln!(
            out,
            "routes on http://{addr}: GET /health, GET /status, POST /control"
        );
    }

    tokio::pin!(shutdown);
    let mut ticks = 0u64;
    let mut end = RunEnd::MarketEnd;
    for candle in &candles[start..] {
        if options.max_ticks.is_some_and(|max| ticks >= max) {
            end = RunEnd::MaxTicks;
            break;
        }
        local.exchange.advance_to(candle.close_time_ms);
        let tick = Tick {
            exchange: &*local,
            store: &local.store,
            instrument: &local.instrument,
            now_ms: candle.close_time_ms,
            deadline: Instant::now() + Duration::from_secs(30),
            failpoints: &NoFailpoints,
        };
        let result = tick.run(&bot.id, &bot.params).await;
        ticks += 1;
        if options.print_ticks {
            let _ = writeln!(out, "{}", tick_line(candle, &result, &local));
        }
        if let Err(e) = result
            && !e.is_retryable()
        {
            return Err(LocalError::Failed(format!("tick failed: {e}")));
        }
        let pause = tokio::time::sleep(options.pace);
        tokio::select! {
            () = pause => {}
            () = &mut shutdown => { end = RunEnd::Interrupted; break; }
        }
    }
    let mark = local.exchange.current_candle().map(|c| c.close);
    Ok(RunSummary {
        end,
        ticks,
        fills: local.exchange.fills(),
        account: local.exchange.account(),
        mark,
        tick_value: contract_tick_value(&local.instrument),
        listening,
    })
}

fn load_market(options: &RunOptions) -> Result<(Vec<Candle>, BinSize), LocalError> {
    match &options.market {
        MarketSource::Demo {
            seed,
            candles,
            start_close_ms,
        } => {
            let bin = options.bot.params.bin;
            let market = DemoMarket::new(*seed, *start_close_ms, bin.millis());
            Ok((market.take(*candles).collect(), bin))
        }
        MarketSource::File { path, load } => {
            let series =
                candles_file::load(path, load).map_err(|e| LocalError::Failed(e.to_string()))?;
            let bin = [BinSize::M1, BinSize::M5, BinSize::H1, BinSize::D1]
                .into_iter()
                .find(|b| b.millis() == series.bin_ms)
                .ok_or_else(|| {
                    LocalError::Usage(format!(
                        "{}: candles are {} ms apart; the bot trades 1m, 5m, 1h or 1d candles",
                        path.display(),
                        series.bin_ms
                    ))
                })?;
            Ok((series.candles, bin))
        }
    }
}

/// One line per tick: time, close, both SMAs, regime, target, position, order, equity.
fn tick_line(
    candle: &Candle,
    result: &Result<TickReport, maestro_lambda::tick::TickError>,
    local: &Local,
) -> String {
    let tick = local.instrument.tick_size;
    let time = format_utc(candle.close_time_ms);
    let close = candle.close.to_f64(tick);
    let report = match result {
        Ok(report) => report,
        Err(e) => return format!("{time}  close {close:>10.2}  error: {e}"),
    };
    let sma = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"));
    let regime = report
        .regime
        .map_or_else(|| "-".to_owned(), |r| format!("{r:?}").to_lowercase());
    let action = match (&report.order, report.outcome) {
        (Some(o), _) => format!("{} {} {}", o.side.as_str(), o.qty, o.status),
        (None, Outcome::Quiet | Outcome::Advanced) => String::new(),
        (None, other) => format!("{other:?}").to_lowercase(),
    };
    let account = local.exchange.account();
    let equity = account
        .equity(candle.close)
        .to_quote(contract_tick_value(&local.instrument));
    format!(
        "{time}  close {close:>10.2}  sma {:>10}/{:<10} {regime:<8} target {:>+6}  pos {:>+6}  equity {equity:>+10.4}  {action}",
        sma(report.short_sma),
        sma(report.long_sma),
        report.target,
        account.position,
    )
}

impl server::Host for Local {
    type Exchange = Local;

    fn exchange(&self) -> &Local {
        self
    }

    fn store(&self) -> &FileStore {
        &self.store
    }

    fn bots(&self) -> &[BotConfig] {
        &self.bots
    }

    fn limits(&self) -> DeployLimits {
        self.limits
    }

    fn now_ms(&self) -> i64 {
        self.exchange.now_ms()
    }
}

/// The simulated exchange with every accepted order journaled (whether the tick or a route placed
/// it), so a resumed run rebuilds the same account.
impl Exchange for Local {
    async fn instrument(
        &self,
        symbol: &str,
    ) -> maestro_lambda::exchange::ExchangeResult<Instrument> {
        self.exchange.instrument(symbol).await
    }

    async fn candles_after(
        &self,
        symbol: &str,
        bin: BinSize,
        tick: maestro_core::TickSize,
        after_close_ms: i64,
        max: usize,
    ) -> maestro_lambda::exchange::ExchangeResult<Vec<Candle>> {
        self.exchange
            .candles_after(symbol, bin, tick, after_close_ms, max)
            .await
    }

    async fn position(&self, symbol: &str) -> maestro_lambda::exchange::ExchangeResult<i64> {
        self.exchange.position(symbol).await
    }

    async fn place_order(
        &self,
        order: &OrderRequest,
    ) -> maestro_lambda::exchange::ExchangeResult<PlacedOrder> {
        let known = self
            .exchange
            .order_by_cl_ord_id(&order.symbol, &order.cl_ord_id)
            .await?
            .is_some();
        let placed = self.exchange.place_order(order).await?;
        if !known {
            self.journal
                .append(self.exchange.now_ms(), order)
                .map_err(|e| maestro_lambda::exchange::ExchangeError::Retryable(e.to_string()))?;
        }
        Ok(placed)
    }

    async fn order_by_cl_ord_id(
        &self,
        symbol: &str,
        cl_ord_id: &str,
    ) -> maestro_lambda::exchange::ExchangeResult<Option<PlacedOrder>> {
        self.exchange.order_by_cl_ord_id(symbol, cl_ord_id).await
    }

    async fn orders_since(
        &self,
        symbol: &str,
        cl_ord_id_prefix: &str,
        since_ms: i64,
        max: usize,
    ) -> maestro_lambda::exchange::ExchangeResult<Vec<PlacedOrder>> {
        self.exchange
            .orders_since(symbol, cl_ord_id_prefix, since_ms, max)
            .await
    }

    async fn cancel_orders(
        &self,
        symbol: &str,
        cl_ord_ids: &[String],
    ) -> maestro_lambda::exchange::ExchangeResult<Vec<PlacedOrder>> {
        // Nothing to journal: a cancel executes nothing.
        self.exchange.cancel_orders(symbol, cl_ord_ids).await
    }
}
