//! Behaviours BitMEX does not document, each offered as a switch so a test can hold the bot to
//! every plausible one, and the journal of what the fake actually executed.

use super::book::NewOrder;

/// How long a `clOrdID` stays reserved once an order carried it. BitMEX does not say.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IdReuse {
    /// Reserved forever: any later order with the id is refused with 400 `Duplicate clOrdID`.
    /// The default, because it is what the fake always did.
    #[default]
    Forever,
    /// Reserved only while its order is open: once the order is filled, cancelled or rejected, the
    /// same id is accepted (and executed) again.
    WhileOpen,
}

/// How BitMEX answers an order the account's margin cannot carry. Both shapes are seen in the wild.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarginRejection {
    /// HTTP 400 `ValidationError` "Account has insufficient Available Balance, ..."; nothing is booked,
    /// so the id is not used.
    Refused,
    /// HTTP 200 with an order row `ordStatus=Rejected`, `ordRejReason` saying why, `cumQty` 0; the
    /// order is listed by `GET /order`.
    RejectedOrder,
}

/// The message BitMEX gives when the margin does not suffice.
pub const INSUFFICIENT_BALANCE: &str =
    "Account has insufficient Available Balance, 1094530 USDt required";

/// What becomes of the unfilled part of a partially filled market order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Remainder {
    /// Cancelled at once (`ordStatus=Canceled`, `cumQty` < `orderQty`), as when the book runs dry.
    Canceled,
    /// Left working (`ordStatus=PartiallyFilled`, `leavesQty` > 0): it stays open until cancelled
    /// or [`FakeBitmex::fill_resting`](super::FakeBitmex::fill_resting) completes it.
    Resting,
}

/// What kind of event an [`Execution`] records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecKind {
    /// A fill of an order sent through the API.
    Order,
    /// A trade on the account that the API client did not send (the website, another program).
    HandTrade,
    /// The liquidation engine closed the position.
    Liquidation,
}

/// One execution (fill) the fake performed: what a test counts instead of accepted requests.
#[derive(Clone, Debug, PartialEq)]
pub struct Execution {
    /// The order that filled (empty for a liquidation or a position set by hand).
    pub order_id: String,
    /// Its client id (empty when none).
    pub cl_ord_id: String,
    /// Symbol.
    pub symbol: String,
    /// `Buy` or `Sell`.
    pub side: String,
    /// Contracts executed (positive).
    pub qty: i64,
    /// Price executed at (`None` when no candle was set yet).
    pub price: Option<f64>,
    /// Wall-clock time of the execution, ms.
    pub time_ms: i64,
    /// What it was.
    pub kind: ExecKind,
}

impl Execution {
    /// The position change: positive for a buy.
    pub fn signed_qty(&self) -> i64 {
        if self.side == "Buy" {
            self.qty
        } else {
            -self.qty
        }
    }
}

/// An order the engine received but executes only later (the answer said it failed).
#[derive(Clone, Debug)]
pub(crate) struct LateOrder {
    pub order: NewOrder,
    /// `GET /order` answers still to go before it executes.
    pub lookups_left: u32,
}

/// The switches' current settings.
#[derive(Debug, Default)]
pub(crate) struct Switches {
    pub id_reuse: IdReuse,
    /// The shape of a margin rejection and how many more orders get it.
    pub margin: Option<(MarginRejection, u32)>,
    /// Contracts the next orders fill at most, what happens to the rest, and how many more orders.
    pub partial: Option<(i64, Remainder, u32)>,
    /// The next this-many orders execute late, each after this many look-ups.
    pub late: Option<(u32, u32)>,
    /// Orders waiting to execute late.
    pub pending: Vec<LateOrder>,
    /// `DELETE /order` with several ids, one unknown: 404 and nothing cancelled (else the known
    /// ones are cancelled and the unknown skipped).
    pub cancel_all_or_nothing: bool,
}
