//! The `StateStore` port: a bot's record, versioned, saved only if nobody saved it since it was read.

use crate::exchange::Side;
use crate::params::BotParams;
use core::future::Future;
use serde::{Deserialize, Serialize};

/// An order the tick has decided on and saved before sending, so a tick that dies half-way can finish
/// it with the same clOrdID instead of deciding again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderIntent {
    /// Deterministic client order id (bot, candle close time, target).
    pub cl_ord_id: String,
    /// Side.
    pub side: Side,
    /// Quantity in contracts.
    pub qty: u64,
    /// Reduce-only order.
    pub reduce_only: bool,
    /// Close-the-position order (`execInst=Close`).
    pub close: bool,
    /// The target position the order moves to.
    pub target: i64,
    /// Close time of the candle that led to the decision (ms).
    pub decided_at_ms: i64,
}

/// One order the bot sent (or would have sent in dry-run), kept for `/status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderLog {
    /// When it was decided (candle close time, ms): with the clOrdID, the item's key.
    pub decided_at_ms: i64,
    /// When it was recorded (ms).
    pub recorded_at_ms: i64,
    /// Client order id.
    pub cl_ord_id: String,
    /// Side.
    pub side: Side,
    /// Quantity in contracts.
    pub qty: u64,
    /// The exchange's order id, when sent.
    pub order_id: Option<String>,
    /// Exchange status (`Filled`, ...) or `dry_run`.
    pub status: String,
    /// Average fill price (display only).
    pub avg_price: Option<f64>,
}

/// Everything a bot remembers between ticks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BotRecord {
    /// Bot id (unique in a deployment).
    pub bot_id: String,
    /// Configuration in force.
    pub params: BotParams,
    /// The core's state, as encoded by maestro-core's snapshot encoder; `None` before warm-up.
    pub snapshot: Option<String>,
    /// Close time of the last candle fed to the core (ms).
    pub last_close_ms: Option<i64>,
    /// An order decided and saved but not yet confirmed placed.
    pub pending: Option<OrderIntent>,
    /// Paused bots record candles but place no orders.
    pub paused: bool,
    /// Last known exchange position (contracts).
    pub last_position: Option<i64>,
    /// When the last tick ran (ms).
    pub last_tick_ms: Option<i64>,
    /// What the last tick did, in a few words.
    pub last_outcome: Option<String>,
    /// Orders decided so far: part of every clOrdID, so a new decision (say, a correction after a
    /// hand trade at the same candle and target) never reuses an earlier decision's id.
    #[serde(default)]
    pub order_seq: u64,
    /// The last order placed while the exchange still reported it open (not yet filled): no new
    /// order is decided until it is done, so a fill in flight is never ordered twice.
    #[serde(default)]
    pub open_order: Option<String>,
    /// The position a dry-run bot would hold (its orders are never sent).
    #[serde(default)]
    pub dry_position: i64,
}

impl BotRecord {
    /// A record for a bot that has seen nothing yet.
    pub fn new(bot_id: impl Into<String>, params: BotParams) -> Self {
        BotRecord {
            bot_id: bot_id.into(),
            params,
            snapshot: None,
            last_close_ms: None,
            pending: None,
            paused: false,
            last_position: None,
            last_tick_ms: None,
            last_outcome: None,
            order_seq: 0,
            open_order: None,
            dry_position: 0,
        }
    }
}

/// A record with the version it was read at.
#[derive(Clone, Debug, PartialEq)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// Its version: 1 after the first save, +1 on every save.
    pub version: u64,
}

/// A failure of the store, split by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Someone saved the record since it was read (or created it first): reload and decide again.
    #[error("version conflict saving bot {bot_id}: expected version {expected:?}")]
    Conflict {
        /// The bot.
        bot_id: String,
        /// The version the save was conditional on (`None` = must not exist yet).
        expected: Option<u64>,
    },
    /// Worth retrying (throttling, timeouts, connection errors, 5xx).
    #[error("state store temporarily unavailable: {0}")]
    Unavailable(String),
    /// The stored data cannot be read back (corrupt or from an unknown schema); nothing was changed.
    #[error("stored state is corrupt: {0}")]
    Corrupt(String),
    /// Anything else (permissions, bad configuration): not worth retrying.
    #[error("state store error: {0}")]
    Failed(String),
}

impl StoreError {
    /// Whether a later attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Conflict { .. } | StoreError::Unavailable(_)
        )
    }
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// The state store port. Adapters: `DynamoStore` (production), `FileStore` (local runs).
pub trait StateStore: Send + Sync {
    /// Reads a bot's record with a consistent read; `None` when the bot has never been saved.
    fn load(
        &self,
        bot_id: &str,
    ) -> impl Future<Output = StoreResult<Option<Versioned<BotRecord>>>> + Send;

    /// Saves `record` only if the stored version is still `expected` (`None`: only if no record
    /// exists). Returns the new version; on a lost race returns [`StoreError::Conflict`] and changes
    /// nothing.
    fn save(
        &self,
        record: &BotRecord,
        expected: Option<u64>,
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Records an order (idempotent: the same decision and clOrdID overwrite the same item); kept for
    /// a limited time.
    fn record_order(
        &self,
        bot_id: &str,
        order: &OrderLog,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// The bot's most recent orders, newest first.
    fn recent_orders(
        &self,
        bot_id: &str,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<OrderLog>>> + Send;

    /// Claims a route-auth nonce until `expires_at_s` (UNIX seconds); `false` if it was already used.
    fn claim_nonce(
        &self,
        nonce: &str,
        expires_at_s: i64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
}
