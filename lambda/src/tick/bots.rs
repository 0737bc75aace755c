//! Every configured bot in one tick, concurrently: each has its own record and runs on its own, so
//! one bot's failure or slowness is reported and does not stop the others.

use super::{Failpoints, Outcome, Tick, TickError, TickReport};
use crate::config::BotConfig;
use crate::exchange::{Deadlined, Exchange, ExchangeError, Instrument};
use crate::store::StateStore;
use core::future::Future;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Instruments read once per process (tick size and lot size do not change between ticks).
#[derive(Debug, Default)]
pub struct InstrumentCache {
    known: Mutex<HashMap<String, Instrument>>,
}

impl InstrumentCache {
    /// The instrument for `symbol`, read from the exchange on first use.
    pub async fn get<E: Exchange>(
        &self,
        exchange: &E,
        symbol: &str,
    ) -> Result<Instrument, ExchangeError> {
        if let Some(found) = self.lock().get(symbol) {
            return Ok(found.clone());
        }
        let fetched = exchange.instrument(symbol).await?;
        self.lock().insert(symbol.to_owned(), fetched.clone());
        Ok(fetched)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instrument>> {
        // A panic elsewhere cannot leave the map half-written: inserts are single calls.
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Runs one tick for every bot, all at once: each bot waits only on its own requests, so a slow
/// one (a backlog to catch up, an exchange retry) cannot starve the others, and every bot stops
/// by `deadline`. Returns each bot's result in the configuration's order.
pub async fn run_all<E: Exchange, S: StateStore>(
    exchange: &E,
    store: &S,
    bots: &[BotConfig],
    instruments: &InstrumentCache,
    now_ms: i64,
    deadline: Instant,
    failpoints: &dyn Failpoints,
) -> Vec<(String, Result<TickReport, TickError>)> {
    let runs = bots.iter().map(|bot| async move {
        let result = match instruments.get(exchange, &bot.params.symbol).await {
            Ok(instrument) => {
                let tick = Tick {
                    exchange,
                    store,
                    instrument: &instrument,
                    now_ms,
                    deadline,
                    failpoints,
                };
                tick.run(&bot.id, &bot.params).await
            }
            Err(error) => {
                tracing::warn!(bot = %bot.id, error = %error, outcome = "error", "tick");
                Err(TickError::Exchange(error))
            }
        };
        (bot.id.to_string(), result)
    });
    futures_util::future::join_all(runs).await
}

/// What one bot's tick did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BotOutcome {
    /// The bot.
    pub bot: String,
    /// Whether the tick completed without error.
    pub ok: bool,
    /// What it did, in a few words (or the error).
    pub outcome: String,
    /// Orders sent to the exchange by this tick (a dry run sends none).
    pub orders: u32,
    /// How long the bot's tick took (ms); for a failed tick, the whole invocation's tick time.
    pub duration_ms: u64,
}

/// What the tick did for every bot: the scheduled invocation's result.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TickSummary {
    /// One entry per configured bot.
    pub bots: Vec<BotOutcome>,
}

impl TickSummary {
    /// The bots whose tick failed.
    pub fn failures(&self) -> impl Iterator<Item = &BotOutcome> {
        self.bots.iter().filter(|b| !b.ok)
    }
}

/// "Run the tick for every bot, starting no new work after `deadline`." [`AllBots`] is the
/// real one; the handler is generic over this trait so it can be built and tested on its own.
pub trait ScheduledTick: Send + Sync {
    /// Runs every bot's tick once. `now_ms` is the invocation's UNIX time in milliseconds;
    /// `deadline` the instant by which it must have stopped (the Lambda deadline minus a margin).
    fn run_all(
        &self,
        now_ms: i64,
        deadline: std::time::Instant,
    ) -> impl Future<Output = TickSummary> + Send;
}

impl<F, Fut> ScheduledTick for F
where
    F: Fn(i64, std::time::Instant) -> Fut + Send + Sync,
    Fut: Future<Output = TickSummary> + Send,
{
    fn run_all(
        &self,
        now_ms: i64,
        deadline: std::time::Instant,
    ) -> impl Future<Output = TickSummary> + Send {
        self(now_ms, deadline)
    }
}

/// The real tick for every configured bot, as the Lambda handler runs it on each scheduled event.
pub struct AllBots<E, S> {
    /// The exchange.
    pub exchange: E,
    /// The state store.
    pub store: S,
    /// The deployment's bots.
    pub bots: Vec<BotConfig>,
    /// Instruments, read once per cold start.
    pub instruments: InstrumentCache,
    /// Whether this process has swept the bots' stray orders yet (its first invocation does).
    swept: AtomicBool,
}

impl<E, S> AllBots<E, S> {
    /// The tick for `bots`, as a new process starts it.
    pub fn new(exchange: E, store: S, bots: Vec<BotConfig>) -> Self {
        AllBots {
            exchange,
            store,
            bots,
            instruments: InstrumentCache::default(),
            swept: AtomicBool::new(false),
        }
    }
}

impl<E: Deadlined, S: StateStore> ScheduledTick for AllBots<E, S> {
    async fn run_all(&self, now_ms: i64, deadline: Instant) -> TickSummary {
        let started = Instant::now();
        let exchange = self.exchange.until(deadline);
        let results = run_all(
            &exchange,
            &self.store,
            &self.bots,
            &self.instruments,
            now_ms,
            deadline,
            &super::NoFailpoints,
        )
        .await;
        // A new process knows nothing of what an earlier one left working: once the bots have
        // ticked (and settled their intents), cancel their own stray open orders.
        if !self.swept.swap(true, Ordering::SeqCst) {
            let sweeps = self.bots.iter().map(|bot| {
                super::sweep_strays(&exchange, &self.store, &bot.id, &bot.params, now_ms)
            });
            for (bot, swept) in self
                .bots
                .iter()
                .zip(futures_util::future::join_all(sweeps).await)
            {
                if let Err(error) = swept {
                    tracing::warn!(bot = %bot.id, error = %error, "sweeping stray orders failed");
                    self.swept.store(false, Ordering::SeqCst);
                }
            }
        }
        // A failed bot's own time is not reported back; the bots run at once, so the tick's
        // elapsed time bounds it.
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        TickSummary {
            bots: results
                .into_iter()
                .map(|(bot, result)| match result {
                    Ok(report) => BotOutcome {
                        bot,
                        ok: true,
                        outcome: match &report.order {
                            Some(order) => format!(
                                "{:?}: {} {} {} ({})",
                                report.outcome,
                                order.side.as_str(),
                                order.qty,
                                order.status,
                                order.cl_ord_id
                            ),
                            None => format!("{:?}: {}", report.outcome, report.note),
                        },
                        orders: u32::from(
                            report.outcome == Outcome::Ordered && report.order.is_some(),
                        ),
                        duration_ms: report.duration_ms,
                    },
                    Err(error) => BotOutcome {
                        bot,
                        ok: false,
                        outcome: error.to_string(),
                        orders: 0,
                        duration_ms: elapsed_ms,
                    },
                })
                .collect(),
        }
    }
}
