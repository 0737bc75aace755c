//! What a tick did, as one structured log line per bot and as the error when it could not finish.

use crate::bot_id::BotId;
use crate::exchange::{ExchangeError, Side};
use crate::store::StoreError;
use maestro_core::{CandleError, Regime};
use serde::Serialize;

/// How a bot's tick ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// No new candle and nothing to do: nothing was written.
    Quiet,
    /// New candles were recorded; the position already matched the target.
    Advanced,
    /// Not enough candles yet for both SMAs: no order.
    WarmingUp,
    /// An order was sent (or a pending one was finished).
    Ordered,
    /// Dry run: the order was computed and recorded, not sent.
    DryRun,
    /// Paused: candles recorded, no order.
    Paused,
    /// The last order is still open on the exchange: waiting for it before deciding again.
    Waiting,
    /// Another tick saved the record first: this one stopped without acting.
    Conflict,
    /// The time budget ran out: progress so far was saved.
    OutOfTime,
    /// The bot stopped itself (the circuit breaker) and waits for a trader's `resume`.
    Stopped,
}

/// An order a tick sent, finished, or (dry run) would have sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SentOrder {
    /// Client order id.
    pub cl_ord_id: String,
    /// Side.
    pub side: Side,
    /// Quantity in contracts.
    pub qty: u64,
    /// Exchange status, or `dry_run`.
    pub status: String,
}

/// The one structured line a tick logs per bot.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TickReport {
    /// Bot id.
    pub bot_id: BotId,
    /// How it ended.
    pub outcome: Outcome,
    /// New candles fed to the core.
    pub candles: usize,
    /// Short SMA after the tick (quote currency, display only).
    pub short_sma: Option<f64>,
    /// Long SMA after the tick (quote currency, display only).
    pub long_sma: Option<f64>,
    /// Regime after the tick.
    pub regime: Option<Regime>,
    /// Target position (contracts).
    pub target: i64,
    /// Exchange position read by the tick (contracts), if read.
    pub position: Option<i64>,
    /// The order sent, finished or simulated.
    pub order: Option<SentOrder>,
    /// Why no order was sent, or what else happened, in a few words.
    pub note: String,
    /// Record version after the tick.
    pub version: Option<u64>,
    /// Wall-clock duration of the tick (ms).
    pub duration_ms: u64,
}

impl TickReport {
    /// The report of a tick that has done nothing yet.
    pub(crate) fn new(bot_id: &BotId, version: Option<u64>) -> Self {
        TickReport {
            bot_id: bot_id.clone(),
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
        }
    }
}

/// Logs a bot's one structured line for `result` and stamps its duration since `started`.
pub(crate) fn log(
    bot_id: &BotId,
    started: std::time::Instant,
    result: Result<TickReport, TickError>,
) -> Result<TickReport, TickError> {
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

/// Why a bot's tick stopped without finishing. Nothing it had not saved is lost: the next tick
/// starts from the stored record.
#[derive(Debug, thiserror::Error)]
pub enum TickError {
    /// The state store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The exchange failed.
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
    /// The exchange sent a candle the core refuses (bad prices, time going backwards).
    #[error("exchange sent an invalid candle: {0}")]
    Candle(CandleError),
    /// The stored core snapshot cannot be decoded; the record is left as it is.
    #[error("stored strategy snapshot is unusable: {0}")]
    Snapshot(String),
    /// The bot's parameters do not fit the instrument (say, a quantity that is not a lot multiple).
    #[error("bot parameters are invalid for this instrument: {0}")]
    Params(String),
    /// A failpoint fired (tests inject crashes with them).
    #[error("tick stopped at failpoint {0:?}")]
    Injected(Failpoint),
}

impl TickError {
    /// Whether a later tick may succeed without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            TickError::Store(e) => e.is_retryable(),
            TickError::Exchange(e) => e.is_retryable(),
            TickError::Injected(_) => true,
            TickError::Candle(_) | TickError::Snapshot(_) | TickError::Params(_) => false,
        }
    }
}

/// Places in the tick where a test can make it die, to prove the next tick recovers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Failpoint {
    /// After the state with the pending intent was saved, before the order is sent.
    AfterIntentSaved,
    /// After the exchange accepted the order, before the state that clears the intent is saved.
    AfterOrderAccepted,
    /// After the order was recorded in the order log, before the intent is cleared.
    AfterOrderRecorded,
    /// After the new candles were saved without an order.
    AfterCandlesSaved,
}

/// Decides whether the tick dies at a failpoint. Production uses [`NoFailpoints`].
pub trait Failpoints: Send + Sync {
    /// `true` = stop the tick here as if the process died.
    fn fire(&self, point: Failpoint) -> bool;
}

/// Never fires.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoFailpoints;

impl Failpoints for NoFailpoints {
    fn fire(&self, _point: Failpoint) -> bool {
        false
    }
}
