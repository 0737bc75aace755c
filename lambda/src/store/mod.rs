//! The `StateStore` port: a bot's record, versioned, saved only if nobody saved it since it was read.

#[cfg(feature = "aws")]
pub mod dynamo;
pub mod file;
mod legacy;

#[cfg(feature = "aws")]
pub use dynamo::DynamoStore;
pub use file::FileStore;

use crate::bot_id::BotId;
use crate::exchange::Side;
use crate::params::{BotParams, LiveStrategy};
use core::future::Future;
use serde::{Deserialize, Serialize};

/// An order the tick has decided on and saved before sending. Whoever loads it next asks the
/// exchange for its clOrdID: found, it was placed and its fills count; unknown once settled, it
/// was never placed and the order is planned again from the current position. It is never sent
/// a second time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderIntent {
    /// Client order id: the bot's prefix and random digits, never used for another order.
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
    /// Close time of the candle that led to the decision (ms); the request time for a flatten.
    pub decided_at_ms: i64,
    /// When the intent was saved (ms): until [`SETTLE_MS`](crate::tick::plan::SETTLE_MS) later an
    /// exchange that does not know the id yet may still report it.
    #[serde(default)]
    pub saved_at_ms: i64,
}

/// An order the bot sent, as the circuit breaker counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMark {
    /// When it was sent (ms).
    pub at_ms: i64,
    /// Contracts.
    pub qty: u64,
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
    /// Contracts filled, as the exchange reported them; `None` in orders logged before it was kept
    /// (a `Filled` one then filled its whole `qty`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filled_qty: Option<u64>,
}

/// Everything a bot remembers between ticks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BotRecord {
    /// Bot id (unique in a deployment).
    pub bot_id: BotId,
    /// Configuration in force.
    pub params: BotParams,
    /// The core's state (without the parameters, which are `params` above); `None` before
    /// warm-up and after a change of settings.
    pub core: Option<CoreState>,
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
    /// The position a dry-run bot would hold (its orders are never sent).
    #[serde(default)]
    pub dry_position: i64,
    /// A flatten is in progress: every tick closes the position until the account is flat.
    #[serde(default)]
    pub flatten: bool,
    /// Why the bot stopped itself (the circuit breaker); it stays paused until a `resume`.
    #[serde(default)]
    pub stopped: Option<String>,
    /// The position the bot's own orders explain; `None` until the first position read, and
    /// after a `resume` or a dry-run switch, when the exchange's position is taken as it is.
    #[serde(default)]
    pub expected_position: Option<i64>,
    /// Orders rejected in a row.
    #[serde(default)]
    pub rejections: u32,
    /// Orders sent in the last day, for the breaker's hourly and daily limits.
    #[serde(default)]
    pub sent: Vec<SentMark>,
}

impl BotRecord {
    /// A record for a bot that has seen nothing yet.
    pub fn new(bot_id: BotId, params: BotParams) -> Self {
        BotRecord {
            bot_id,
            params,
            core: None,
            last_close_ms: None,
            pending: None,
            paused: false,
            last_position: None,
            last_tick_ms: None,
            last_outcome: None,
            dry_position: 0,
            flatten: false,
            stopped: None,
            expected_position: None,
            rejections: 0,
            sent: Vec::new(),
        }
    }
}

/// The core's state as a record keeps it: only what the candles built, since the record's
/// `params` hold the settings. The core's parameters are those settings on the instrument's lot
/// size, so the lot size the state was built on is kept with it: when the exchange changes it,
/// the state no longer fits and the bot warms up again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreState {
    /// The instrument's lot size (contracts) when the state was built.
    pub lot_size: u64,
    /// The state as maestro-core's `Strategy::encode_state` writes it.
    pub state: String,
    /// The instrument's tick size its prices are in (`None` in states saved before it was kept):
    /// when the exchange changes it, the state's sums no longer mean the same prices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tick_size: Option<maestro_core::TickSize>,
}

impl CoreState {
    /// The state of `strategy` with the lot size of its parameters.
    pub fn of(strategy: &LiveStrategy) -> Result<Self, maestro_core::SnapshotError> {
        let mut buf = vec![0u8; LiveStrategy::MAX_STATE_LEN];
        let len = strategy.encode_state(&mut buf)?;
        buf.truncate(len);
        // serde-json-core writes ASCII JSON, so this never fails; the error is for completeness.
        let state = String::from_utf8(buf).map_err(|_| maestro_core::SnapshotError::Malformed)?;
        Ok(CoreState {
            lot_size: strategy.params().lot_size,
            state,
            tick_size: None,
        })
    }

    /// The strategy this state and `params` describe, re-validated by the core; `Ok(None)` when the
    /// state was built on another lot size than `lot_size` (it no longer fits the parameters).
    pub fn restore(
        &self,
        params: &BotParams,
        lot_size: u64,
    ) -> Result<Option<LiveStrategy>, maestro_core::SnapshotError> {
        if self.lot_size != lot_size {
            return Ok(None);
        }
        LiveStrategy::restore_state(params.core_params(lot_size), self.state.as_bytes()).map(Some)
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
        bot_id: BotId,
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
        bot_id: &BotId,
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
    /// [`ORDER_RETENTION_S`] after its `recorded_at_ms`.
    fn record_order(
        &self,
        bot_id: &BotId,
        order: &OrderLog,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// The bot's most recent orders still kept at `now_s` (UNIX seconds), newest first.
    fn recent_orders(
        &self,
        bot_id: &BotId,
        limit: usize,
        now_s: i64,
    ) -> impl Future<Output = StoreResult<Vec<OrderLog>>> + Send;

    /// Claims a route-auth nonce at `now_s` until `expires_at_s` (UNIX seconds); `false` if it was
    /// already claimed and has not expired by `now_s`.
    fn claim_nonce(
        &self,
        nonce: &str,
        now_s: i64,
        expires_at_s: i64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
}

/// How long recorded orders are kept: long enough for `/status` to show a week of trading.
pub const ORDER_RETENTION_S: i64 = 7 * 24 * 3600;

/// The largest `decided_at_ms` a store accepts: 13 decimal digits, so keys sort by time as text.
pub(crate) const MAX_DECIDED_AT_MS: i64 = 9_999_999_999_999;

/// Checks a route-auth nonce: 1 to 128 visible ASCII characters (hex, base64 and UUIDs all fit).
pub(crate) fn validate_nonce(nonce: &str) -> StoreResult<()> {
    if (1..=128).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(StoreError::Failed(
            "invalid nonce: use 1 to 128 visible ASCII characters".to_owned(),
        ))
    }
}

/// Checks what goes into an order's key: a clOrdID of 1 to 64 visible ASCII characters and a decision
/// time that fits the 13-digit key.
fn validate_order(order: &OrderLog) -> StoreResult<()> {
    if !(0..=MAX_DECIDED_AT_MS).contains(&order.decided_at_ms) {
        return Err(StoreError::Failed(format!(
            "order decided_at_ms {} outside 0..={MAX_DECIDED_AT_MS}",
            order.decided_at_ms
        )));
    }
    let id = &order.cl_ord_id;
    if !(1..=64).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(StoreError::Failed(format!(
            "invalid clOrdID {:?}",
            shorten(id)
        )));
    }
    Ok(())
}

/// The sort key of an order: zero-padded time first so text order is time order.
fn order_sort_key(order: &OrderLog) -> String {
    format!("order#{:013}#{}", order.decided_at_ms, order.cl_ord_id)
}

/// Echoes at most 80 characters of rejected input back in an error message.
fn shorten(s: &str) -> String {
    s.chars().take(80).collect()
}

/// When a recorded order expires (UNIX seconds): [`ORDER_RETENTION_S`] after it was recorded.
fn order_expiry_s(order: &OrderLog) -> i64 {
    order
        .recorded_at_ms
        .div_euclid(1000)
        .saturating_add(ORDER_RETENTION_S)
}

/// Schema of the stored order and nonce envelopes; a reader refuses any other as corrupt rather
/// than guess.
const SCHEMA: u32 = 1;

/// Schema of the stored bot record. 2: the core's state without its parameters ([`CoreState`]),
/// guards as one object. 1 (still read, upgraded on load): the core's full snapshot, parameters
/// included, beside the record's own copy of them.
const RECORD_SCHEMA: u32 = 2;

/// Reads a record as stored under `schema`; a schema-1 record is upgraded. Errors name what is
/// wrong for [`StoreError::Corrupt`].
fn record_from_json(schema: u64, value: serde_json::Value) -> Result<BotRecord, String> {
    match schema {
        s if s == u64::from(RECORD_SCHEMA) => {
            serde_json::from_value(value).map_err(|e| e.to_string())
        }
        1 => legacy::upgrade(value),
        s => Err(format!(
            "unknown record schema {s} (this build reads 1 and {RECORD_SCHEMA})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_short_visible_ascii() {
        let cases: &[(&str, bool)] = &[
            ("0123abcd", true),
            ("b64+/=", true),
            ("", false),
            ("a b", false),
            ("é", false),
        ];
        for (nonce, ok) in cases {
            assert_eq!(validate_nonce(nonce).is_ok(), *ok, "nonce {nonce:?}");
        }
        assert!(validate_nonce(&"n".repeat(128)).is_ok());
        assert!(validate_nonce(&"n".repeat(129)).is_err());
    }

    fn order(decided_at_ms: i64, cl_ord_id: &str) -> OrderLog {
        OrderLog {
            decided_at_ms,
            recorded_at_ms: 0,
            cl_ord_id: cl_ord_id.to_owned(),
            side: Side::Buy,
            qty: 1,
            order_id: None,
            status: "New".to_owned(),
            avg_price: None,
            filled_qty: None,
        }
    }

    #[test]
    fn order_keys_sort_as_text_in_time_order() {
        let times = [0, 9, 999_999_999, 1_620_000_000_000, MAX_DECIDED_AT_MS];
        let keys: Vec<String> = times
            .iter()
            .map(|t| order_sort_key(&order(*t, "c")))
            .collect();
        assert_eq!(keys[0], "order#0000000000000#c");
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    }

    #[test]
    fn orders_outside_the_key_range_are_refused() {
        assert!(validate_order(&order(0, "c")).is_ok());
        assert!(validate_order(&order(MAX_DECIDED_AT_MS, "c")).is_ok());
        assert!(validate_order(&order(-1, "c")).is_err());
        assert!(validate_order(&order(MAX_DECIDED_AT_MS + 1, "c")).is_err());
        assert!(validate_order(&order(1, "")).is_err());
        assert!(validate_order(&order(1, "has space")).is_err());
    }
}
