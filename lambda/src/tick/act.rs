//! The executor: carries out what [`plan`](super::plan) decides, for the scheduled tick and for the
//! routes' flatten alike. Every change to the record is one conditional save; an order is sent only
//! after the save that holds its intent won.

use super::plan::{self, Action, Activity, Fate, Limits, Situation, Wanted};
use super::{Failpoint, Failpoints, Outcome, SentOrder, TickError, TickReport, is_terminal};
use crate::bot_id::BotId;
use crate::exchange::{Exchange, ExchangeError, OrderRequest, PlacedOrder, Side};
use crate::params::{BotParams, LiveStrategy};
use crate::store::{
    BotRecord, OrderIntent, OrderLog, SentMark, StateStore, StoreError, StoreResult,
};
use std::time::Instant;

/// One hour and one day in milliseconds, the breaker's windows.
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// How far back the housekeeping looks for the bot's own stray open orders.
const STRAY_LOOKBACK_MS: i64 = DAY_MS;

/// The most orders the housekeeping reads in one look.
const STRAY_MAX: usize = 100;

/// The ports and the time one bot's decision runs with.
pub(super) struct Desk<'a, E, S> {
    pub exchange: &'a E,
    pub store: &'a S,
    pub now_ms: i64,
    pub failpoints: &'a dyn Failpoints,
    /// When the tick must be done: a store call still waiting then fails as unavailable (the
    /// exchange client holds its own copy of the deadline). `None` for the routes.
    pub deadline: Option<Instant>,
}

/// One bot's record as loaded and as changed so far, and the report being written.
pub(super) struct Run {
    /// The record as loaded: the tick saves only when the record differs from it.
    loaded: Option<BotRecord>,
    pub record: BotRecord,
    version: Option<u64>,
    pub report: TickReport,
}

impl Run {
    /// Sets the outcome and adds the note (after any note already there).
    pub fn outcome(&mut self, outcome: Outcome, note: &str) {
        self.report.outcome = outcome;
        if self.report.note.is_empty() {
            self.report.note = note.to_owned();
        } else if !note.is_empty() {
            self.report.note = format!("{}; {note}", self.report.note);
        }
    }
}

/// Flattens a bot now, with the same planner and executor as the tick: the record (already marked
/// `flatten` and paused by the caller) is reconciled and the position closed. Whatever fails here,
/// the flatten stays in the record and every tick finishes it until the account is flat.
pub async fn flatten_now<E: Exchange, S: StateStore>(
    exchange: &E,
    store: &S,
    bot_id: &BotId,
    initial: &BotParams,
    now_ms: i64,
) -> Result<TickReport, TickError> {
    let started = Instant::now();
    let desk = Desk {
        exchange,
        store,
        now_ms,
        failpoints: &super::NoFailpoints,
        deadline: None,
    };
    let result = async {
        let run = desk.load(bot_id, initial).await?;
        let found = desk.look_up_pending(&run).await?;
        desk.decide_and_act(run, found, None).await
    }
    .await;
    super::report::log(bot_id, started, result)
}

/// Cancels the bot's own open orders other than its pending intent's (left by a process that died,
/// or by a record restored from a backup). The first invocation of a process runs it for every
/// bot, since nothing is known then about what an earlier process left working. Orders without the
/// bot's clOrdID prefix are never touched. Returns how many it asked the exchange to cancel.
pub async fn sweep_strays<E: Exchange, S: StateStore>(
    exchange: &E,
    store: &S,
    bot_id: &BotId,
    initial: &BotParams,
    now_ms: i64,
) -> Result<usize, TickError> {
    let desk = Desk {
        exchange,
        store,
        now_ms,
        failpoints: &super::NoFailpoints,
        deadline: None,
    };
    let run = desk.load(bot_id, initial).await?;
    let symbol = run.record.params.symbol.clone();
    Ok(desk.cancel_strays(&run, &symbol).await)
}

impl<E: Exchange, S: StateStore> Desk<'_, E, S> {
    /// Loads the bot's record (a fresh one when the bot never ran).
    pub async fn load(&self, bot_id: &BotId, initial: &BotParams) -> Result<Run, TickError> {
        let (record, version) = match self.bounded(self.store.load(bot_id)).await? {
            Some(stored) => (stored.value, Some(stored.version)),
            None => (BotRecord::new(bot_id.clone(), initial.clone()), None),
        };
        Ok(Run {
            loaded: version.map(|_| record.clone()),
            report: TickReport::new(bot_id, version),
            record,
            version,
        })
    }

    /// The order the exchange holds under the pending intent's clOrdID, if there is an intent.
    pub async fn look_up_pending(&self, run: &Run) -> Result<Option<PlacedOrder>, TickError> {
        let Some(intent) = &run.record.pending else {
            return Ok(None);
        };
        Ok(self
            .exchange
            .order_by_cl_ord_id(&run.record.params.symbol, &intent.cl_ord_id)
            .await?)
    }

    /// Reads the position, plans, and carries the plan out. `strategy` is `None` for a flatten
    /// from the routes (the strategy has no say in it).
    pub async fn decide_and_act(
        &self,
        mut run: Run,
        found: Option<PlacedOrder>,
        strategy: Option<&LiveStrategy>,
    ) -> Result<TickReport, TickError> {
        let symbol = run.record.params.symbol.clone();
        let dry_run = run.record.params.dry_run;
        let position = if dry_run {
            run.record.dry_position
        } else {
            self.exchange.position(&symbol).await?
        };
        run.report.position = Some(position);
        let wanted = strategy.map_or(
            Wanted {
                established: false,
                order: None,
            },
            |s| Wanted {
                established: s.regime().is_some(),
                order: s.plan_order(position),
            },
        );
        prune_sent(&mut run.record.sent, self.now_ms);
        let plan = {
            let r = &run.record;
            plan::plan(&Situation {
                now_ms: self.now_ms,
                paused: r.paused,
                flatten: r.flatten,
                dry_run,
                position,
                expected: r.expected_position,
                pending: r.pending.as_ref().map(|i| (i, found.as_ref())),
                pending_saved_ms: r.pending.as_ref().map_or(0, |i| i.saved_at_ms),
                symbol: &symbol,
                wanted,
                activity: activity(r, self.now_ms),
                limits: Limits::for_bot(r.params.qty, r.params.bin.millis()),
            })
        };

        // What became of the pending intent.
        if let Some(intent) = run.record.pending.clone() {
            let status = match (&plan.fate, &found) {
                (Fate::Placed { .. }, Some(order)) => Some(order.status.clone()),
                (Fate::Dropped, _) => Some("not placed: unknown to the exchange".to_owned()),
                _ => None,
            };
            if matches!(
                plan.fate,
                Fate::Dropped | Fate::Placed { rejected: true, .. }
            ) {
                unmark(&mut run.record.sent, &intent);
            }
            if let Some(status) = status {
                let log = order_log(&intent, found.as_ref(), &status, self.now_ms);
                self.bounded(self.store.record_order(&run.record.bot_id, &log))
                    .await?;
                run.record.pending = None;
                run.report.order = Some(sent_order(&intent, status));
            }
        }
        run.record.rejections = plan.rejections;
        if !dry_run {
            run.record.last_position = Some(position);
        }
        if !matches!(plan.action, Action::Wait(_)) {
            run.record.expected_position = Some(plan.expected);
        }

        match plan.action {
            Action::Nothing(note) => {
                if run.record.flatten && position == 0 {
                    run.record.flatten = false;
                }
                let outcome = if run.record.paused {
                    Outcome::Paused
                } else if run.report.order.is_some() {
                    Outcome::Ordered
                } else {
                    Outcome::Advanced
                };
                run.outcome(outcome, note);
                self.finish(run).await
            }
            Action::Wait(note) => {
                if let Some(order) = found.as_ref().filter(|o| o.is_open()) {
                    self.cancel_if_stale(&run, order).await;
                }
                run.outcome(Outcome::Waiting, note);
                self.finish(run).await
            }
            Action::Stop(reason) => {
                let text = reason.to_string();
                tracing::warn!(bot = %run.record.bot_id, reason = %text, "the bot stopped itself");
                run.record.paused = true;
                run.record.stopped = Some(text.clone());
                run.outcome(Outcome::Stopped, &format!("stopped: {text}"));
                self.finish(run).await
            }
            Action::Record(order) => {
                let intent = self.intent(&run, order.side, order.qty, order.reduce_only, false);
                self.dry_run(run, intent, position).await
            }
            Action::Send(order) => {
                let intent = self.intent(&run, order.side, order.qty, order.reduce_only, false);
                self.place(run, intent).await
            }
            Action::Close(side) => {
                let intent = self.intent(&run, side, position.unsigned_abs(), false, true);
                self.place(run, intent).await
            }
        }
    }

    fn intent(
        &self,
        run: &Run,
        side: Side,
        qty: u64,
        reduce_only: bool,
        close: bool,
    ) -> OrderIntent {
        let target = if close || run.record.flatten {
            0
        } else {
            run.report.target
        };
        OrderIntent {
            cl_ord_id: super::cl_ord_id(&run.record.bot_id),
            side,
            qty,
            reduce_only,
            close,
            target,
            decided_at_ms: if close {
                self.now_ms
            } else {
                run.record.last_close_ms.unwrap_or(self.now_ms)
            },
            saved_at_ms: self.now_ms,
        }
    }

    /// Saves the record if the tick changed it; a lost race ends the tick as a conflict.
    pub async fn finish(&self, mut run: Run) -> Result<TickReport, TickError> {
        if run.loaded.as_ref() == Some(&run.record) {
            // Nothing to record: a heartbeat at most, which saves the tick's time alone.
            let beat_due = run
                .record
                .last_tick_ms
                .is_none_or(|seen| self.now_ms.saturating_sub(seen) >= super::HEARTBEAT_MS);
            if !beat_due {
                return Ok(run.report);
            }
        } else {
            run.record.last_outcome = Some(run.report.note.clone());
        }
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
        run.record.dry_position = position.saturating_add(signed(intent.side, intent.qty));
        run.record.expected_position = Some(run.record.dry_position);
        if run.record.flatten && run.record.dry_position == 0 {
            run.record.flatten = false;
        }
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
        let log = order_log(&intent, None, "dry_run", self.now_ms);
        self.bounded(self.store.record_order(&run.record.bot_id, &log))
            .await?;
        run.outcome(Outcome::DryRun, "dry run: order recorded, not sent");
        run.report.order = Some(sent_order(&intent, "dry_run".to_owned()));
        Ok(run.report)
    }

    /// Saves the intent (the race winner alone goes on), sends the order once, saves its result.
    async fn place(&self, mut run: Run, intent: OrderIntent) -> Result<TickReport, TickError> {
        let symbol = run.record.params.symbol.clone();
        run.record.pending = Some(intent.clone());
        run.record.sent.push(SentMark {
            at_ms: self.now_ms,
            qty: intent.qty,
        });
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

        let placed = match self.exchange.place_order(&request(&symbol, &intent)).await {
            Ok(placed) => Ok(placed),
            Err(ExchangeError::Rejected { message, .. }) => Err(message),
            // Unknown fate: the intent stays, and the next tick looks its clOrdID up.
            Err(other) => return Err(other.into()),
        };
        self.fail(Failpoint::AfterOrderAccepted)?;
        let status = match &placed {
            Ok(order) => order.status.clone(),
            Err(message) => format!("rejected: {message}"),
        };
        let log = order_log(&intent, placed.as_ref().ok(), &status, self.now_ms);
        self.bounded(self.store.record_order(&run.record.bot_id, &log))
            .await?;
        self.fail(Failpoint::AfterOrderRecorded)?;
        match &placed {
            Ok(order) if is_terminal(&order.status) => {
                let filled = signed(order.side, order.filled_qty);
                run.record.pending = None;
                run.record.rejections = if order.status == "Rejected" {
                    unmark(&mut run.record.sent, &intent);
                    run.record.rejections.saturating_add(1)
                } else {
                    0
                };
                run.record.expected_position = run
                    .record
                    .expected_position
                    .map(|e| e.saturating_add(filled));
                run.record.last_position =
                    run.record.last_position.map(|p| p.saturating_add(filled));
                // `execInst=Close` closes the whole position, whatever it is by then.
                if intent.close && order.status == "Filled" {
                    run.record.flatten = false;
                }
            }
            // Still working: the intent stays, and the next tick waits for it (and cancels what is
            // left of it once it is settled).
            Ok(_) => {}
            // Refused: nothing was booked.
            Err(_) => {
                unmark(&mut run.record.sent, &intent);
                run.record.pending = None;
                run.record.rejections = run.record.rejections.saturating_add(1);
            }
        }
        run.record.last_outcome = Some(format!(
            "{} {} {}: {status}",
            intent.side.as_str(),
            intent.qty,
            intent.cl_ord_id
        ));
        run.outcome(Outcome::Ordered, "");
        run.report.order = Some(sent_order(&intent, status));
        match self.save(&mut run).await {
            Ok(()) => {}
            // Another tick loaded the intent and looked it up: it counts the order, not this one.
            Err(TickError::Store(StoreError::Conflict { .. })) => {
                run.report.note =
                    "order sent; another tick saved first and settles its intent".to_owned();
            }
            Err(other) => return Err(other),
        }
        self.cancel_strays(&run, &symbol).await;
        Ok(run.report)
    }

    /// Cancels what is left of the bot's own order once it is settled (a partly filled market
    /// order left working), so the bot can decide again.
    async fn cancel_if_stale(&self, run: &Run, order: &PlacedOrder) {
        let saved = run.record.pending.as_ref().map_or(0, |i| i.saved_at_ms);
        if self.now_ms.saturating_sub(saved) < plan::SETTLE_MS {
            return;
        }
        let ids = [order.cl_ord_id.clone()];
        if let Err(error) = self.exchange.cancel_orders(&order.symbol, &ids).await {
            tracing::warn!(bot = %run.record.bot_id, error = %error, "cancelling the rest of the bot's order failed");
        }
    }

    /// Housekeeping after an order: the bot's own open orders other than its pending one (left by
    /// a process that died, or restored from an old record) would fight the target. Orders without
    /// the bot's clOrdID prefix (the trader's stops and take-profits) are never touched.
    async fn cancel_strays(&self, run: &Run, symbol: &str) -> usize {
        let prefix = super::own_prefix(&run.record.bot_id);
        let since = self.now_ms.saturating_sub(STRAY_LOOKBACK_MS);
        let orders = match self
            .exchange
            .orders_since(symbol, &prefix, since, STRAY_MAX)
            .await
        {
            Ok(orders) => orders,
            Err(error) => {
                tracing::warn!(bot = %run.record.bot_id, error = %error, "listing the bot's orders failed");
                return 0;
            }
        };
        let pending = run.record.pending.as_ref().map(|i| i.cl_ord_id.as_str());
        let strays: Vec<String> = orders
            .into_iter()
            .filter(|o| o.is_open() && o.cl_ord_id.starts_with(&prefix))
            .filter(|o| Some(o.cl_ord_id.as_str()) != pending)
            .map(|o| o.cl_ord_id)
            .collect();
        if strays.is_empty() {
            return 0;
        }
        tracing::info!(bot = %run.record.bot_id, orders = ?strays, "cancelling the bot's stray orders");
        if let Err(error) = self.exchange.cancel_orders(symbol, &strays).await {
            tracing::warn!(bot = %run.record.bot_id, error = %error, "cancelling the bot's stray orders failed");
            return 0;
        }
        strays.len()
    }

    async fn save(&self, run: &mut Run) -> Result<(), TickError> {
        run.record.last_tick_ms = Some(self.now_ms);
        let version = self
            .bounded(self.store.save(&run.record, run.version))
            .await?;
        run.version = Some(version);
        run.loaded = Some(run.record.clone());
        run.report.version = Some(version);
        Ok(())
    }

    /// A store call bound to the tick's deadline: past it, the call is abandoned and reported as
    /// the store being unavailable. An abandoned save may still land; the next tick reads the
    /// record as it then stands.
    async fn bounded<T>(
        &self,
        call: impl core::future::Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        let Some(deadline) = self.deadline else {
            return call.await;
        };
        match tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), call).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Unavailable(
                "the tick's time budget ran out waiting for the store".to_owned(),
            )),
        }
    }

    fn fail(&self, point: Failpoint) -> Result<(), TickError> {
        if self.failpoints.fire(point) {
            Err(TickError::Injected(point))
        } else {
            Ok(())
        }
    }
}

/// Drops the breaker's marks older than a day.
fn prune_sent(sent: &mut Vec<SentMark>, now_ms: i64) {
    sent.retain(|m| now_ms.saturating_sub(m.at_ms) < DAY_MS);
}

/// Forgets the breaker's mark of an order that never reached the book (refused, or unknown to
/// the exchange once settled): the hourly and daily limits count what was traded.
fn unmark(sent: &mut Vec<SentMark>, intent: &OrderIntent) {
    if let Some(at) = sent
        .iter()
        .position(|m| m.at_ms == intent.saved_at_ms && m.qty == intent.qty)
    {
        sent.remove(at);
    }
}

/// The breaker's counters from the record.
fn activity(record: &BotRecord, now_ms: i64) -> Activity {
    let last_hour = record
        .sent
        .iter()
        .filter(|m| now_ms.saturating_sub(m.at_ms) < HOUR_MS);
    Activity {
        rejections: record.rejections,
        orders_last_hour: u32::try_from(last_hour.count()).unwrap_or(u32::MAX),
        volume_last_day: record
            .sent
            .iter()
            .filter(|m| now_ms.saturating_sub(m.at_ms) < DAY_MS)
            .fold(0u64, |sum, m| sum.saturating_add(m.qty)),
    }
}

/// `qty` contracts as a position change: positive for a buy.
fn signed(side: Side, qty: u64) -> i64 {
    let qty = i64::try_from(qty).unwrap_or(i64::MAX);
    match side {
        Side::Buy => qty,
        Side::Sell => -qty,
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

fn sent_order(intent: &OrderIntent, status: String) -> SentOrder {
    SentOrder {
        cl_ord_id: intent.cl_ord_id.clone(),
        side: intent.side,
        qty: intent.qty,
        status,
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
        filled_qty: placed.map(|p| p.filled_qty),
    }
}
