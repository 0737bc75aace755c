//! What the fake exchange's book holds: instrument listings, orders, the dead-man's switch.

use super::series::iso;
use serde_json::{Value, json};
use std::time::Instant;

/// What `GET /instrument` reports for a symbol.
#[derive(Clone, Debug, PartialEq)]
pub struct InstrumentSpec {
    /// Symbol.
    pub symbol: String,
    /// Contracts per order step.
    pub lot_size: i64,
    /// Price step.
    pub tick_size: f64,
    /// BitMEX `multiplier`.
    pub multiplier: i64,
    /// BitMEX `underlyingToPositionMultiplier`.
    pub underlying_to_position_multiplier: Option<i64>,
    /// Taker fee rate.
    pub taker_fee: f64,
    /// Maker fee rate.
    pub maker_fee: f64,
    /// `Open` when tradable.
    pub state: String,
}

impl InstrumentSpec {
    /// LTCUSDT as BitMEX listed it (2022 snapshot, see BITMEX.md).
    pub fn ltcusdt() -> Self {
        InstrumentSpec {
            symbol: "LTCUSDT".into(),
            lot_size: 1000,
            tick_size: 0.01,
            multiplier: 100,
            underlying_to_position_multiplier: Some(10_000),
            taker_fee: 0.0005,
            maker_fee: -0.0001,
            state: "Open".into(),
        }
    }
}

/// An order on the fake exchange.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeOrder {
    /// Exchange id.
    pub order_id: String,
    /// Client id (empty when none was sent).
    pub cl_ord_id: String,
    /// Symbol.
    pub symbol: String,
    /// `Buy` or `Sell`.
    pub side: String,
    /// Ordered contracts.
    pub order_qty: i64,
    /// Filled contracts.
    pub cum_qty: i64,
    /// Average fill price.
    pub avg_px: Option<f64>,
    /// Limit price (resting orders only).
    pub price: Option<f64>,
    /// `Market` or `Limit`.
    pub ord_type: String,
    /// `execInst` as sent.
    pub exec_inst: String,
    /// `New`, `PartiallyFilled`, `Filled`, `Canceled`, `Rejected`.
    pub ord_status: String,
    /// Why the engine rejected it (empty unless `Rejected`).
    pub rej_reason: String,
    /// Why it ended as it did.
    pub text: String,
    /// When it was accepted, ms.
    pub timestamp_ms: i64,
}

impl FakeOrder {
    /// The order as BitMEX's JSON.
    pub fn to_json(&self) -> Value {
        let leaves = if self.is_open() {
            self.order_qty - self.cum_qty
        } else {
            0
        };
        json!({
            "orderID": self.order_id, "clOrdID": self.cl_ord_id, "clOrdLinkID": "", "account": 1,
            "symbol": self.symbol, "side": self.side, "orderQty": self.order_qty,
            "price": self.price.or(self.avg_px), "displayQty": null, "stopPx": null,
            "pegOffsetValue": null, "pegPriceType": "", "currency": "USDT", "settlCurrency": "USDt",
            "ordType": self.ord_type, "timeInForce": if self.ord_type == "Market" { "ImmediateOrCancel" } else { "GoodTillCancel" },
            "execInst": self.exec_inst, "contingencyType": "", "ordStatus": self.ord_status,
            "triggered": "", "workingIndicator": self.is_open(), "ordRejReason": self.rej_reason,
            "leavesQty": leaves, "cumQty": self.cum_qty, "avgPx": self.avg_px, "text": self.text,
            "transactTime": iso(self.timestamp_ms), "timestamp": iso(self.timestamp_ms),
        })
    }

    /// Whether the order is still working (`New` or `PartiallyFilled`).
    pub fn is_open(&self) -> bool {
        self.ord_status == "New" || self.ord_status == "PartiallyFilled"
    }
}

/// An armed dead-man's switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeadMansSwitch {
    /// The `timeout` the client sent, ms.
    pub timeout_ms: u64,
    /// When the open orders get cancelled unless re-armed.
    pub cancel_at: Instant,
}

/// A market order as the server parsed it from the request.
#[derive(Clone, Debug, Default)]
pub struct NewOrder {
    /// `symbol`.
    pub symbol: String,
    /// `side`.
    pub side: String,
    /// `orderQty`, if sent.
    pub order_qty: Option<i64>,
    /// `ordType` (BitMEX's default is `Limit`).
    pub ord_type: String,
    /// `clOrdID`, if sent.
    pub cl_ord_id: Option<String>,
    /// `execInst`, if sent.
    pub exec_inst: Option<String>,
}
