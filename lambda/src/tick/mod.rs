//! One tick of the bot: the exactly-once trading loop.
//!
//! ```text
//! load record (consistent read)          → (record, version)
//! finish a pending intent                → re-POST the same clOrdID ("Duplicate" = placed), record it
//! fetch completed candles after the last → page through a backlog; warm up when there is no state
//! feed them to the core                  → target position
//! read the exchange position             → the order that moves it to the target (lot-rounded)
//! conditional save: state + intent       → the race winner alone goes on
//! POST the order with the intent's id    → conditional save clears the intent, order recorded
//! housekeeping                           → cancel strays, re-arm the dead-man's switch
//! ```
//!
//! A tick may run twice for the same minute, concurrently, or die at any line: the intent is saved
//! before the order is sent and carries a clOrdID derived from the decision, so whoever finishes it
//! sends the same id and the exchange refuses a copy; every save is conditional on the version read,
//! so a tick that lost a race stops without acting.

mod bots;
mod ids;
pub mod plan;
mod report;

pub use bots::{AllBots, BotOutcome, InstrumentCache, ScheduledTick, TickSummary, run_all};
pub use ids::cl_ord_id;
pub use report::{Failpoint, Failpoints, NoFailpoints, Outcome, SentOrder, TickError, TickReport};

use crate::exchange::{
    Exchange, ExchangeError, Instrument, MAX_CL_ORD_ID_LEN, OrderRequest, PlacedOrder,
};
use crate::params::{BotParams, LiveStrategy};
use crate::store::{BotRecord, CoreState, OrderIntent, OrderLog, StateStore, StoreError};
use maestro_core::{CandleError, Side, Step};
use std::time::{Duration, Instant};

/// Candles asked for in one request (BitMEX serves at most 1000; the bot stays at 500).
pub const PAGE: usize = 500;

/// The dead-man's switch timeout re-armed after each order: open orders die if the bot stops.
pub(crate) const DEAD_MAN_MS: u64 = 180_000;

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

/// Mutable state of one bot's tick.
struct Run {
    record: BotRecord,
    version: Option<u64>,
    report: TickReport,
}

impl<E: Exchange, S: StateStore> Tick<'_, E, S> {
    /// Runs one tick for one bot and logs its one structured line. `initial` is used only when the
    /// bot has no record yet; afterwards the stored parameters (changed through the routes) rule.
    pub async fn run(&self, bot_id: &str, initial: &BotParams) -> Result<TickReport, TickError> {
        let started = Instant::now();
        let result = self.run_inner(bot_id, initial).await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &result {
            Ok(report) => {
                let order = report.order.as_ref();
                tracing::info!(
                    bot = %report.bot_id,
                    outcome = ?report.outcome,
                    candles = report.candles,
                    short_sma = report.short_sma,
                    long_sma = report.long_sma,
                    regime = ?report.regime,
                    target = report.target,
                    position = report.position,
                    cl_ord_id = order.map(|o| o.cl_ord_id.as_str()),
                    side = order.map(|o| o.side.as_str()),
                    qty = order.map(|o| o.qty),
                    order_status = order.map(|o| o.status.as_str()),
                    note = %report.note,
                    version = report.version,
                    duration_ms,
                    "tick"
                );
            }
            Err(error) => tracing::warn!(
                bot = %bot_id,
                outcome = "error",
                retryable = error.is_retryable(),
                error = %error,
                duration_ms,
                "tick"
            ),
        }
        result.map(|mut report| {
            report.duration_ms = duration_ms;
            report
        })
    }

    async fn run_inner(&self, bot_id: &str, initial: &BotParams) -> Result<TickReport, TickError> {
        let (record, version) = match self.store.load(bot_id).await? {
            Some(stored) => (stored.value, Some(stored.version)),
            None => (BotRecord::new(bot_id, initial.clone()), None),
        };
        let mut run = Run {
            report: TickReport {
                bot_id: bot_id.to_owned(),
                outcome: Outcome::Quiet,
                candles: 0,
                short_sma: None,
                long_sma: None,
                regime: None,
                target: 0,
                position: None,
                order: None,
                note: String::new(),
                version,
                duration_ms: 0,
            },
            record,
            version,
        };

        if run.record.pending.is_some() && !self.finish_pending(&mut run).await? {
            return Ok(run.report);
        }

        let mut strategy = self.restore_strategy(&run.record)?;
        let out_of_time = self.consume_candles(&mut run, &mut strategy).await?;
        self.describe(&mut run.report, &strategy);
        let dirty = run.report.candles > 0;
        if dirty {
            run.record.core =
                Some(CoreState::of(&strategy).map_err(|e| TickError::Snapshot(e.to_string()))?);
            run.record.last_close_ms = strategy.last_close_ms();
        }

        let skip = if out_of_time {
            Some((Outcome::OutOfTime, "time budget ran out while catching up"))
        } else if !strategy.is_ready() {
            Some((Outcome::WarmingUp, "not enough candles for both SMAs yet"))
        } else if run.record.paused {
            Some((Outcome::Paused, "paused: no orders"))
        } else {
            None
        };
        if let Some((outcome, note)) = skip {
            return self.finish_without_order(run, dirty, outcome, note).await;
        }

        if let Some(open) = run.record.open_order.clone() {
            let symbol = run.record.params.symbol.clone();
            match self.exchange.order_by_cl_ord_id(&symbol, &open).await? {
                Some(order) if !is_terminal(&order.status) => {
                    let note = "last order still open on the exchange";
                    return self
                        .finish_without_order(run, dirty, Outcome::Waiting, note)
                        .await;
                }
                _ => run.record.open_order = None,
            }
        }

        let position = if run.record.params.dry_run {
            run.record.dry_position
        } else {
            self.exchange.position(&run.record.params.symbol).await?
        };
        run.report.position = Some(position);
        run.record.last_position = Some(position);

        match strategy.plan_order(position) {
            None => {
                let note = "position matches the target";
                self.finish_without_order(run, dirty, Outcome::Advanced, note)
                    .await
            }
            Some(order) => {
                run.record.order_seq += 1;
                let decided_at_ms = run.record.last_close_ms.unwrap_or(self.now_ms);
                let intent = OrderIntent {
                    cl_ord_id: cl_ord_id(
                        bot_id,
                        decided_at_ms,
                        strategy.target_position(),
                        run.record.order_seq,
                    ),
                    side: order.side,
                    qty: order.qty,
                    reduce_only: order.reduce_only,
                    close: false,
                    target: strategy.target_position(),
                    decided_at_ms,
                };
                if run.record.params.dry_run {
                    self.dry_run(run, intent, position).await
                } else {
                    self.place(run, intent).await
                }
            }
        }
    }

    /// Finishes an order decided by an earlier tick. Returns `false` when this tick must stop.
    async fn finish_pending(&self, run: &mut Run) -> Result<bool, TickError> {
        let Some(intent) = run.record.pending.clone() else {
            return Ok(true);
        };
        let symbol = run.record.params.symbol.clone();
        let placed = if run.record.paused {
            // Paused after deciding: send nothing, but learn whether the order went out before.
            self.exchange
                .order_by_cl_ord_id(&symbol, &intent.cl_ord_id)
                .await?
                .map(Ok)
        } else {
            match self.exchange.place_order(&request(&symbol, &intent)).await {
                Ok(placed) => Some(Ok(placed)),
                Err(ExchangeError::Rejected { message, .. }) => Some(Err(message)),
                Err(other) => return Err(other.into()),
            }
        };
        self.fail(Failpoint::AfterOrderAccepted)?;
        let status = match &placed {
            Some(Ok(order)) => order.status.clone(),
            Some(Err(message)) => format!("rejected: {message}"),
            None => "not sent (paused)".to_owned(),
        };
        if let Some(result) = &placed {
            let log = order_log(&intent, result.as_ref().ok(), &status, self.now_ms);
            self.store.record_order(&run.record.bot_id, &log).await?;
            self.fail(Failpoint::AfterOrderRecorded)?;
        }
        if let Some(Ok(order)) = &placed {
            if !is_terminal(&order.status) {
                run.record.open_order = Some(order.cl_ord_id.clone());
            }
        }
        run.report.order = Some(SentOrder {
            cl_ord_id: intent.cl_ord_id.clone(),
            side: intent.side,
            qty: intent.qty,
            status,
        });
        run.record.pending = None;
        match self.save(run).await {
            Ok(()) => {
                run.report.outcome = Outcome::Ordered;
                run.report.note = "finished the pending order of an earlier tick".to_owned();
                Ok(true)
            }
            Err(TickError::Store(StoreError::Conflict { .. })) => {
                run.report.outcome = Outcome::Conflict;
                run.report.note = "another tick finished the pending order".to_owned();
                Ok(false)
            }
            Err(other) => Err(other),
        }
    }

    /// The bot's strategy as stored, or a fresh one (first run, parameters changed, or reset).
    fn restore_strategy(&self, record: &BotRecord) -> Result<LiveStrategy, TickError> {
        let lot_size = self.instrument.lot_size;
        let stored = match &record.core {
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

    /// Saves new candles (if any) and reports why no order was sent.
    async fn finish_without_order(
        &self,
        mut run: Run,
        dirty: bool,
        outcome: Outcome,
        note: &str,
    ) -> Result<TickReport, TickError> {
        if run.report.note.is_empty() {
            run.report.note = note.to_owned();
        } else {
            run.report.note = format!("{}; {note}", run.report.note);
        }
        run.report.outcome =
            if outcome == Outcome::Advanced && run.report.outcome == Outcome::Ordered {
                // Nothing more to do after finishing an earlier tick's order: that stays the outcome.
                Outcome::Ordered
            } else if dirty || outcome != Outcome::Advanced {
                outcome
            } else {
                Outcome::Quiet
            };
        if !dirty {
            return Ok(run.report);
        }
        run.record.last_outcome = Some(run.report.note.clone());
        match self.save(&mut run).await {
            Ok(()) => {
                self.fail(Failpoint::AfterCandlesSaved)?;
                Ok(run.report)
            }
            Err(TickError::Store(StoreError::Conflict { .. })) => Ok(conflict(run.report)),
            Err(other) => Err(other),
        }
    }

    /// Dry run: records the order the bot would send and the position it would then hold.
    async fn dry_run(
        &self,
        mut run: Run,
        intent: OrderIntent,
        position: i64,
    ) -> Result<TickReport, TickError> {
        let signed = i64::try_from(intent.qty).unwrap_or(i64::MAX);
        run.record.dry_position = match intent.side {
            Side::Buy => position.saturating_add(signed),
            Side::Sell => position.saturating_sub(signed),
        };
        let log = order_log(&intent, None, "dry_run", self.now_ms);
        run.record.last_outcome = Some(format!(
            "dry run: would {} {}",
            intent.side.as_str(),
            intent.qty
        ));
        match self.save(&mut run).await {
            Ok(()) => {}
            Err(TickError::Store(StoreError::Conflict { .. })) => return Ok(conflict(run.report)),
            Err(other) => return Err(other),
        }
        // Only the race winner logs the simulated order.
        self.store.record_order(&run.record.bot_id, &log).await?;
        run.report.outcome = Outcome::DryRun;
        run.report.note = "dry run: order recorded, not sent".to_owned();
        run.report.order = Some(SentOrder {
            cl_ord_id: intent.cl_ord_id,
            side: intent.side,
            qty: intent.qty,
            status: "dry_run".to_owned(),
        });
        Ok(run.report)
    }

    /// Saves the intent (the race winner alone goes on), sends the order, saves its result.
    async fn place(&self, mut run: Run, intent: OrderIntent) -> Result<TickReport, TickError> {
        let symbol = run.record.params.symbol.clone();
        run.record.pending = Some(intent.clone());
        run.record.last_outcome = Some(format!(
            "deciding {} {} ({})",
            intent.side.as_str(),
            intent.qty,
            intent.cl_ord_id
        ));
        match self.save(&mut run).await {
            Ok(()) => {}
            Err(TickError::Store(StoreError::Conflict { .. })) => return Ok(conflict(run.report)),
            Err(other) => return Err(other),
        }
        self.fail(Failpoint::AfterIntentSaved)?;

        // Stray orders (a resting order left by hand or by a dead process) would fight the target.
        if let Err(error) = self.exchange.cancel_all(&symbol).await {
            tracing::warn!(bot = %run.record.bot_id, error = %error, "cancelling stray orders failed");
        }
        let placed = match self.exchange.place_order(&request(&symbol, &intent)).await {
            Ok(placed) => Ok(placed),
            Err(ExchangeError::Rejected { message, .. }) => Err(message),
            // Unknown fate: the intent stays, and the next tick finishes it with the same id.
            Err(other) => return Err(other.into()),
        };
        self.fail(Failpoint::AfterOrderAccepted)?;
        let status = match &placed {
            Ok(order) => order.status.clone(),
            Err(message) => format!("rejected: {message}"),
        };
        let log = order_log(&intent, placed.as_ref().ok(), &status, self.now_ms);
        self.store.record_order(&run.record.bot_id, &log).await?;
        self.fail(Failpoint::AfterOrderRecorded)?;
        if let Ok(order) = &placed {
            if !is_terminal(&order.status) {
                run.record.open_order = Some(order.cl_ord_id.clone());
            }
            // What the exchange holds now, for /status, without another request.
            if let Some(before) = run.record.last_position {
                let filled = i64::try_from(order.filled_qty).unwrap_or(i64::MAX);
                run.record.last_position = Some(match order.side {
                    Side::Buy => before.saturating_add(filled),
                    Side::Sell => before.saturating_sub(filled),
                });
            }
        }
        run.record.pending = None;
        run.record.last_outcome = Some(format!(
            "{} {} {}: {status}",
            intent.side.as_str(),
            intent.qty,
            intent.cl_ord_id
        ));
        run.report.outcome = Outcome::Ordered;
        run.report.order = Some(SentOrder {
            cl_ord_id: intent.cl_ord_id.clone(),
            side: intent.side,
            qty: intent.qty,
            status,
        });
        match self.save(&mut run).await {
            Ok(()) => {}
            // Someone loaded our intent and finished it first: the order is placed either way.
            Err(TickError::Store(StoreError::Conflict { .. })) => {
                run.report.note = "order placed; another tick cleared the intent".to_owned();
                if placed.is_ok() {
                    self.undo_if_flattened(&mut run, &intent).await?;
                }
            }
            Err(other) => return Err(other),
        }
        if let Err(error) = self.exchange.cancel_all_after(DEAD_MAN_MS).await {
            tracing::warn!(bot = %run.record.bot_id, error = %error, "re-arming the dead-man's switch failed");
        }
        Ok(run.report)
    }

    /// A flatten that ran while this tick's order was in flight (it paused the bot and dropped the
    /// intent this tick had already saved) must still leave the account flat: if the order landed
    /// after the flatten's close, close again.
    async fn undo_if_flattened(
        &self,
        run: &mut Run,
        intent: &OrderIntent,
    ) -> Result<(), TickError> {
        let Some(stored) = self.store.load(&run.record.bot_id).await? else {
            return Ok(());
        };
        if !stored.value.paused || stored.value.pending.is_some() {
            return Ok(());
        }
        let symbol = &stored.value.params.symbol;
        let position = self.exchange.position(symbol).await?;
        if position == 0 {
            return Ok(());
        }
        // Derived from the intent, so a retry of this undo can never close twice.
        let mut cl_ord_id = intent.cl_ord_id.clone();
        cl_ord_id.truncate(MAX_CL_ORD_ID_LEN - 1);
        cl_ord_id.push('u');
        let close = OrderRequest {
            symbol: symbol.clone(),
            side: if position > 0 { Side::Sell } else { Side::Buy },
            qty: 0,
            cl_ord_id,
            reduce_only: false,
            close: true,
        };
        let placed = self.exchange.place_order(&close).await?;
        run.report.note = format!(
            "order placed while the bot was flattened: closed again ({}, {})",
            placed.cl_ord_id, placed.status
        );
        Ok(())
    }

    async fn save(&self, run: &mut Run) -> Result<(), TickError> {
        run.record.last_tick_ms = Some(self.now_ms);
        let version = self.store.save(&run.record, run.version).await?;
        run.version = Some(version);
        run.report.version = Some(version);
        Ok(())
    }

    fn fail(&self, point: Failpoint) -> Result<(), TickError> {
        if self.failpoints.fire(point) {
            Err(TickError::Injected(point))
        } else {
            Ok(())
        }
    }

    fn time_left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

fn conflict(mut report: TickReport) -> TickReport {
    report.outcome = Outcome::Conflict;
    report.note = "another tick saved first; this one stopped without acting".to_owned();
    report
}

fn request(symbol: &str, intent: &OrderIntent) -> OrderRequest {
    OrderRequest {
        symbol: symbol.to_owned(),
        side: intent.side,
        qty: intent.qty,
        cl_ord_id: intent.cl_ord_id.clone(),
        reduce_only: intent.reduce_only,
        close: intent.close,
    }
}

fn order_log(
    intent: &OrderIntent,
    placed: Option<&PlacedOrder>,
    status: &str,
    now_ms: i64,
) -> OrderLog {
    OrderLog {
        decided_at_ms: intent.decided_at_ms,
        recorded_at_ms: now_ms,
        cl_ord_id: intent.cl_ord_id.clone(),
        side: intent.side,
        qty: intent.qty,
        order_id: placed.map(|p| p.order_id.clone()),
        status: status.to_owned(),
        avg_price: placed.and_then(|p| p.avg_price),
    }
}

/// Whether BitMEX will not fill any more of an order in this status.
pub(crate) fn is_terminal(status: &str) -> bool {
    matches!(
        status,
        "Filled" | "Canceled" | "Rejected" | "Expired" | "Stopped" | "DoneForDay"
    )
}
