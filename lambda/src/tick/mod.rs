//! One tick of the bot: reconcile, decide, act.
//!
//! ```text
//! load record (consistent read)            → (record, version)
//! look up a pending intent by its clOrdID  → placed (its fills count) | working | unknown
//! fetch completed candles after the last   → page through a backlog; warm up from history in one go
//! feed them to the core                    → the target; a re-warming strategy holds the position
//! read the position (when there is a decision to make)
//! plan (pure, plan.rs)                     → nothing | wait | order | close | record (dry run) | stop
//! conditional save: state + new intent     → the race winner alone goes on
//! POST the order with the intent's id      → conditional save counts its fills, clears the intent
//! housekeeping after an order              → cancel the bot's own stray open orders, nothing else
//! ```
//!
//! A tick may run twice for the same minute, concurrently, or die at any line. An intent is saved
//! before its order is sent and is never sent again: whoever loads it asks the exchange for its
//! clOrdID, counts it when the exchange knows it, and plans afresh from the current position when
//! the exchange does not (after [`plan::SETTLE_MS`], in case it is merely late). Every save is
//! conditional on the version read, so a tick that lost a race stops without acting. Correctness
//! does not rest on the exchange refusing a reused clOrdID: ids are random and never reused.

mod act;
mod bots;
mod ids;
pub(crate) mod plan;
mod report;

pub(crate) use act::{flatten_now, sweep_strays};
pub use bots::{AllBots, BotOutcome, InstrumentCache, ScheduledTick, TickSummary, run_all};
pub use ids::{cl_ord_id, own_prefix};
pub use report::{Failpoint, Failpoints, NoFailpoints, Outcome, SentOrder, TickError, TickReport};

use crate::bot_id::BotId;
use crate::exchange::{Exchange, Instrument};
use crate::params::{BotParams, LiveStrategy};
use crate::store::{BotRecord, CoreState, StateStore};
use act::{Desk, Run};
use maestro_core::{CandleError, Step};
use std::time::{Duration, Instant};

/// Candles asked for in one request (BitMEX serves at most 1000; the bot stays at 500).
pub const PAGE: usize = 500;

/// A quiet tick (nothing to record) writes nothing, unless the record was last written this long
/// ago: then it saves its time alone, so `/status` shows the bot still runs (a heartbeat), at one
/// write a quarter hour.
pub const HEARTBEAT_MS: i64 = 15 * 60_000;

/// Time a step needs at least; with less left the tick saves what it has and stops.
const MIN_STEP: Duration = Duration::from_millis(1500);

/// One tick's surroundings: the ports, the instrument, the time and the budget.
pub struct Tick<'a, E, S> {
    /// The exchange.
    pub exchange: &'a E,
    /// The state store.
    pub store: &'a S,
    /// The traded instrument (tick size, lot size), read once per process.
    pub instrument: &'a Instrument,
    /// Wall-clock time of the tick (ms since the UNIX epoch).
    pub now_ms: i64,
    /// When the tick must be done (the Lambda's remaining time minus a margin).
    pub deadline: Instant,
    /// Test hooks that stop the tick at a given line; [`NoFailpoints`] in production.
    pub failpoints: &'a dyn Failpoints,
}

impl<E: Exchange, S: StateStore> Tick<'_, E, S> {
    /// Runs one tick for one bot and logs its one structured line. `initial` is used only when the
    /// bot has no record yet; afterwards the stored parameters (changed through the routes) rule.
    pub async fn run(&self, bot_id: &BotId, initial: &BotParams) -> Result<TickReport, TickError> {
        let started = Instant::now();
        let result = self.run_inner(bot_id, initial).await;
        report::log(bot_id, started, result)
    }

    fn desk(&self) -> Desk<'_, E, S> {
        Desk {
            exchange: self.exchange,
            store: self.store,
            now_ms: self.now_ms,
            failpoints: self.failpoints,
            deadline: Some(self.deadline),
        }
    }

    async fn run_inner(
        &self,
        bot_id: &BotId,
        initial: &BotParams,
    ) -> Result<TickReport, TickError> {
        let desk = self.desk();
        let mut run = desk.load(bot_id, initial).await?;
        let found = desk.look_up_pending(&run).await?;

        let mut strategy = self.restore_strategy(&run.record)?;
        let out_of_time = self.consume_candles(&mut run, &mut strategy).await?;
        self.describe(&mut run.report, &strategy);
        if run.report.candles > 0 {
            let mut core =
                CoreState::of(&strategy).map_err(|e| TickError::Snapshot(e.to_string()))?;
            core.tick_size = Some(self.instrument.tick_size);
            run.record.core = Some(core);
            run.record.last_close_ms = strategy.last_close_ms();
        }
        if out_of_time {
            run.outcome(Outcome::OutOfTime, "time budget ran out while catching up");
            return desk.finish(run).await;
        }
        // Something to decide: an intent to settle, a flatten to finish, or a running bot with a
        // new candle or without a baseline position (first tick, just resumed, dry run switched).
        // A quiet minute asks the exchange for candles only, and writes nothing.
        let decide = run.record.pending.is_some()
            || run.record.flatten
            || (!run.record.paused
                && strategy.is_ready()
                && (run.report.candles > 0 || run.record.expected_position.is_none()));
        if !decide {
            let (outcome, note) = if run.record.paused {
                (Outcome::Paused, "paused: no orders")
            } else if !strategy.is_ready() {
                (Outcome::WarmingUp, "not enough candles for both SMAs yet")
            } else if run.report.candles > 0 {
                (Outcome::Advanced, "new candles recorded")
            } else {
                (Outcome::Quiet, "no new candle")
            };
            run.outcome(outcome, note);
            return desk.finish(run).await;
        }
        desk.decide_and_act(run, found, Some(&strategy)).await
    }

    /// The bot's strategy as stored, or a fresh one (first run, parameters changed, or reset).
    fn restore_strategy(&self, record: &BotRecord) -> Result<LiveStrategy, TickError> {
        let lot_size = self.instrument.lot_size;
        let stored = match &record.core {
            // Built on another tick size: its sums are other prices. Warm up again.
            Some(core)
                if core
                    .tick_size
                    .is_some_and(|t| t != self.instrument.tick_size) =>
            {
                None
            }
            Some(core) => core
                .restore(&record.params, lot_size)
                .map_err(|e| TickError::Snapshot(e.to_string()))?,
            None => None,
        };
        match stored {
            Some(strategy) => Ok(strategy),
            None => LiveStrategy::new(record.params.core_params(lot_size))
                .map_err(|e| TickError::Params(e.to_string())),
        }
    }

    /// Feeds every completed candle after the last one seen to the strategy, paging through a
    /// backlog. Returns `true` when the budget ran out before the backlog did.
    async fn consume_candles(
        &self,
        run: &mut Run,
        strategy: &mut LiveStrategy,
    ) -> Result<bool, TickError> {
        let params = &run.record.params;
        let bin_ms = params.bin.millis();
        let mut after = match strategy.last_close_ms() {
            Some(last) => last,
            None => {
                // Warm up on just enough history for both windows and the confirmation guard.
                let bars =
                    i64::from(params.long_window) + i64::from(params.guards.confirm_bars) + 1;
                self.now_ms - bars.saturating_mul(bin_ms)
            }
        };
        loop {
            if self.time_left() < MIN_STEP {
                return Ok(true);
            }
            let page = self
                .exchange
                .candles_after(
                    &params.symbol,
                    params.bin,
                    self.instrument.tick_size,
                    after,
                    PAGE,
                )
                .await?;
            for candle in &page {
                match strategy.on_candle(candle) {
                    Ok(Step::Duplicate) => {}
                    Ok(_) => run.report.candles += 1,
                    Err(CandleError::Older { .. }) => {}
                    Err(CandleError::Gap { missing, .. }) => {
                        // Buckets the exchange never had: the averages over them are unknowable,
                        // so the strategy warms up again from this candle and holds off until ready.
                        let mut restarted = LiveStrategy::new(*strategy.params())
                            .map_err(|e| TickError::Params(e.to_string()))?;
                        restarted.on_candle(candle).map_err(TickError::Candle)?;
                        *strategy = restarted;
                        run.report.candles += 1;
                        run.report.note = format!("{missing} missing candles: warming up again");
                    }
                    Err(other) => return Err(TickError::Candle(other)),
                }
                after = after.max(candle.close_time_ms);
            }
            if page.len() < PAGE {
                return Ok(false);
            }
        }
    }

    fn describe(&self, report: &mut TickReport, strategy: &LiveStrategy) {
        let tick = self.instrument.tick_size;
        report.short_sma = strategy.short_sma().map(|m| m.to_f64(tick));
        report.long_sma = strategy.long_sma().map(|m| m.to_f64(tick));
        report.regime = strategy.regime();
        report.target = strategy.target_position();
    }
}

impl<E, S> Tick<'_, E, S> {
    fn time_left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

/// Whether BitMEX will not fill any more of an order in this status.
pub(crate) fn is_terminal(status: &str) -> bool {
    matches!(
        status,
        "Filled" | "Canceled" | "Rejected" | "Expired" | "Stopped" | "DoneForDay"
    )
}
