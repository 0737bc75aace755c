//! The `Exchange` port: everything the tick and the routes need from a futures exchange.

use core::future::Future;
pub use maestro_core::Side;
use maestro_core::{Candle, TickSize};
use serde::{Deserialize, Serialize};

/// Candle bucket length, as BitMEX offers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinSize {
    /// One minute.
    #[serde(rename = "1m")]
    M1,
    /// Five minutes.
    #[serde(rename = "5m")]
    M5,
    /// One hour.
    #[serde(rename = "1h")]
    H1,
    /// One day.
    #[serde(rename = "1d")]
    D1,
}

impl BinSize {
    /// The bucket length in milliseconds.
    pub const fn millis(self) -> i64 {
        match self {
            BinSize::M1 => 60_000,
            BinSize::M5 => 300_000,
            BinSize::H1 => 3_600_000,
            BinSize::D1 => 86_400_000,
        }
    }

    /// BitMEX's name for it (`"1m"`, `"5m"`, `"1h"`, `"1d"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            BinSize::M1 => "1m",
            BinSize::M5 => "5m",
            BinSize::H1 => "1h",
            BinSize::D1 => "1d",
        }
    }

    /// Parses BitMEX's name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "1m" => Some(BinSize::M1),
            "5m" => Some(BinSize::M5),
            "1h" => Some(BinSize::H1),
            "1d" => Some(BinSize::D1),
            _ => None,
        }
    }
}

/// What the bot reads from the instrument at start-up instead of hard-coding it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Instrument {
    /// Symbol, e.g. `LTCUSDT`.
    pub symbol: String,
    /// Price increment.
    pub tick_size: TickSize,
    /// Order quantity increment in contracts.
    pub lot_size: u64,
    /// BitMEX `multiplier`.
    pub multiplier: i64,
    /// BitMEX `underlyingToPositionMultiplier` (contracts per unit of the underlying), if any.
    pub underlying_to_position_multiplier: Option<f64>,
    /// Taker fee rate (0.0005 = 5 bp), for reporting and simulation, never for decisions.
    pub taker_fee: f64,
    /// Instrument state (`Open` when tradable).
    pub state: String,
}

/// A market order the bot wants placed. `cl_ord_id` is derived from the decision, so a retry of the
/// same decision carries the same id and the exchange can refuse a duplicate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    /// Symbol.
    pub symbol: String,
    /// Side.
    pub side: Side,
    /// Quantity in contracts (positive, a multiple of the lot size). Ignored for `close`.
    pub qty: u64,
    /// Client order id (at most 36 characters).
    pub cl_ord_id: String,
    /// Only reduce the position (`execInst=ReduceOnly`).
    pub reduce_only: bool,
    /// Close the whole position (`execInst=Close`, no quantity sent).
    pub close: bool,
}

/// An order as the exchange knows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlacedOrder {
    /// Exchange order id.
    pub order_id: String,
    /// Client order id.
    pub cl_ord_id: String,
    /// Symbol.
    pub symbol: String,
    /// Side.
    pub side: Side,
    /// Ordered quantity in contracts.
    pub qty: u64,
    /// Filled quantity in contracts.
    pub filled_qty: u64,
    /// Average fill price in quote currency, if any fill (display only).
    pub avg_price: Option<f64>,
    /// BitMEX `ordStatus` (`New`, `PartiallyFilled`, `Filled`, `Canceled`, `Rejected`, ...).
    pub status: String,
    /// Contracts still working (`leavesQty`): more than 0 only while the order is open.
    #[serde(default)]
    pub leaves_qty: u64,
    /// When the exchange last stamped the order (`timestamp`), ms since the UNIX epoch; 0 when
    /// unknown.
    #[serde(default)]
    pub timestamp_ms: i64,
}

impl PlacedOrder {
    /// Whether the order can still execute (BitMEX's working states `New` and `PartiallyFilled`).
    pub fn is_open(&self) -> bool {
        matches!(self.status.as_str(), "New" | "PartiallyFilled")
    }
}

/// A failure talking to the exchange, split by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// Worth retrying later (timeout, connection error, 5xx, 503 overload, 429): the request may or
    /// may not have reached the engine.
    #[error("exchange temporarily unavailable: {0}")]
    Retryable(String),
    /// The exchange refused the request (400, 403, 404): retrying the same request will not help.
    #[error("exchange rejected the request (HTTP {status}, {name}): {message}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// BitMEX error name.
        name: String,
        /// BitMEX error message.
        message: String,
    },
    /// Bad API key or signature (401): never retried.
    #[error("exchange refused the credentials: {0}")]
    Unauthorized(String),
    /// The answer could not be understood (malformed body, missing field, bad price).
    #[error("malformed exchange response: {0}")]
    Malformed(String),
    /// The caller's time budget ran out before the request could be made or retried.
    #[error("time budget exhausted: {0}")]
    BudgetExhausted(String),
}

impl ExchangeError {
    /// Whether a later attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ExchangeError::Retryable(_) | ExchangeError::BudgetExhausted(_)
        )
    }
}

/// The longest client order id an order may carry (BitMEX's limit on `clOrdID`).
pub(crate) const MAX_CL_ORD_ID_LEN: usize = 36;

/// Result of an exchange call.
pub type ExchangeResult<T> = Result<T, ExchangeError>;

/// The exchange port. Adapters: `BitmexClient` (production), `SimExchange` (local runs).
///
/// Candles are completed buckets only, ascending by close time, already converted to exact ticks with
/// the instrument's tick size.
pub trait Exchange: Send + Sync {
    /// Reads the instrument's tick size, lot size, fees and state.
    fn instrument(&self, symbol: &str) -> impl Future<Output = ExchangeResult<Instrument>> + Send;

    /// Completed candles whose close time is strictly after `after_close_ms`, oldest first, at most
    /// `max` of them (one request; the caller pages).
    fn candles_after(
        &self,
        symbol: &str,
        bin: BinSize,
        tick: TickSize,
        after_close_ms: i64,
        max: usize,
    ) -> impl Future<Output = ExchangeResult<Vec<Candle>>> + Send;

    /// The signed position in contracts (negative = short; flat when the exchange lists none).
    fn position(&self, symbol: &str) -> impl Future<Output = ExchangeResult<i64>> + Send;

    /// Places a market order. A "Duplicate clOrdID" refusal is resolved by looking the order up and
    /// returning it: for the caller that is success.
    fn place_order(
        &self,
        order: &OrderRequest,
    ) -> impl Future<Output = ExchangeResult<PlacedOrder>> + Send;

    /// Looks an order up by its client order id; when several orders carried it (an exchange that
    /// frees a finished order's id), the newest.
    fn order_by_cl_ord_id(
        &self,
        symbol: &str,
        cl_ord_id: &str,
    ) -> impl Future<Output = ExchangeResult<Option<PlacedOrder>>> + Send;

    /// The orders for the symbol whose client order id starts with `cl_ord_id_prefix` (every order
    /// when it is empty), stamped at or after `since_ms`, oldest first. When more than `max` match,
    /// the newest `max`. Every state is listed (open, filled, cancelled, rejected); the same id may
    /// appear more than once when the exchange lets a finished order's id be used again.
    fn orders_since(
        &self,
        symbol: &str,
        cl_ord_id_prefix: &str,
        since_ms: i64,
        max: usize,
    ) -> impl Future<Output = ExchangeResult<Vec<PlacedOrder>>> + Send;

    /// Cancels the symbol's orders with these client order ids, and only those. Returns the orders
    /// the exchange reported, as they now stand: a cancelled one as `Canceled`, one that had already
    /// finished (filled, perhaps just before) unchanged. An id the exchange does not know is not an
    /// error: it is simply not in the answer.
    fn cancel_orders(
        &self,
        symbol: &str,
        cl_ord_ids: &[String],
    ) -> impl Future<Output = ExchangeResult<Vec<PlacedOrder>>> + Send;
}

/// An exchange adapter that can be handed a deadline for all its retries (the Lambda's remaining
/// time): `BitmexClient` gives a cheap copy sharing its connections.
pub(crate) trait Deadlined: Exchange + Sized {
    /// A copy of the adapter that stops retrying at `deadline`.
    fn until(&self, deadline: std::time::Instant) -> Self;
}
