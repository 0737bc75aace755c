//! The fake exchange's books: instruments, candle series, positions, orders, the dead-man's switch.
//! Pure state, no HTTP: the server module turns requests into calls on [`Market`].

use super::book::{DeadMansSwitch, FakeOrder, InstrumentSpec, NewOrder};
use super::series::{Bar, iso};
use super::switches::{Execution, LateOrder, Switches};
use maestro_lambda::exchange::BinSize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub(crate) struct Series {
    pub bin: BinSize,
    pub bars: Vec<Bar>,
    pub completed: usize,
}

/// A refusal: HTTP status and BitMEX error message.
pub type Refusal = (u16, String);

/// The fake exchange's state.
#[derive(Default)]
pub(crate) struct Market {
    pub instruments: BTreeMap<String, InstrumentSpec>,
    pub series: BTreeMap<String, Series>,
    /// A row exists once the symbol was traded or set by hand; absent = never held (BitMEX lists none).
    pub positions: BTreeMap<String, i64>,
    pub orders: Vec<FakeOrder>,
    pub dead_mans: Option<DeadMansSwitch>,
    pub dead_mans_fired: u32,
    /// The undocumented behaviours currently chosen.
    pub switches: Switches,
    /// Every execution, oldest first.
    pub executions: Vec<Execution>,
    pub(crate) next_order: u64,
}

/// BitMEX's answer when the request (it says) never reached the engine.
pub const OVERLOADED: &str = "The system is currently overloaded. Please try again later.";

pub(crate) fn exec_insts(new: &NewOrder) -> Vec<String> {
    new.exec_inst
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(crate) fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Market {
    /// The close of the latest completed bar: the price market orders fill at.
    pub fn last_close(&self, symbol: &str) -> Option<f64> {
        let s = self.series.get(symbol)?;
        s.bars.get(s.completed.checked_sub(1)?).map(|b| b.close)
    }

    /// Checks an order as BitMEX's API layer does, then hands it to the engine (at once, or later
    /// when the late-execution switch is on).
    pub fn place(&mut self, new: NewOrder) -> Result<FakeOrder, Refusal> {
        let bad = |m: &str| Err((400, m.to_owned()));
        let Some(spec) = self.instruments.get(&new.symbol) else {
            return bad("Invalid symbol.");
        };
        let lot = spec.lot_size.max(1);
        if new.ord_type != "Market" {
            return bad("The fake BitMEX fills ordType=Market only (BitMEX's default is Limit).");
        }
        if !matches!(new.side.as_str(), "Buy" | "Sell") {
            return bad("Invalid side");
        }
        let insts = exec_insts(&new);
        if let Some(other) = insts
            .iter()
            .find(|i| !matches!(i.as_str(), "ReduceOnly" | "Close"))
        {
            return bad(&format!("Unsupported execInst {other}"));
        }
        let close = insts.iter().any(|i| i == "Close");
        match new.order_qty {
            Some(q) if q <= 0 => return bad("Invalid orderQty"),
            Some(q) if q % lot != 0 => {
                return bad(&format!(
                    "Order quantity must be a multiple of lot size: {lot}"
                ));
            }
            None if !close => return bad("Invalid orderQty"),
            _ => {}
        }
        if new
            .cl_ord_id
            .as_ref()
            .is_some_and(|id| id.chars().count() > 36)
        {
            return bad("Invalid clOrdID: longer than 36 characters");
        }
        if let Some((left, lookups)) = self.switches.late {
            // The engine has the order, but the answer says it never got there.
            self.switches.late = (left > 1).then_some((left - 1, lookups));
            self.switches.pending.push(LateOrder {
                order: new,
                lookups_left: lookups,
            });
            return Err((503, OVERLOADED.to_owned()));
        }
        self.execute(new)
    }

    pub fn add_resting(&mut self, symbol: &str, side: &str, qty: i64, price: f64) -> String {
        self.next_order += 1;
        let order = FakeOrder {
            order_id: format!("00000000-0000-4000-8000-{:012x}", self.next_order),
            cl_ord_id: String::new(),
            symbol: symbol.into(),
            side: side.into(),
            order_qty: qty,
            cum_qty: 0,
            avg_px: None,
            price: Some(price),
            ord_type: "Limit".into(),
            exec_inst: String::new(),
            ord_status: "New".into(),
            rej_reason: String::new(),
            text: "Resting order placed by the test".into(),
            timestamp_ms: wall_ms(),
        };
        let id = order.order_id.clone();
        self.orders.push(order);
        id
    }

    /// Cancels open orders (all symbols when `symbol` is `None`); returns them as cancelled.
    pub fn cancel_open(&mut self, symbol: Option<&str>, text: &str) -> Vec<Value> {
        self.orders
            .iter_mut()
            .filter(|o| o.is_open() && symbol.is_none_or(|s| o.symbol == s))
            .map(|o| {
                o.ord_status = "Canceled".into();
                o.text = text.into();
                o.to_json()
            })
            .collect()
    }

    /// Cancels by orderID / clOrdID; `None` (404) when none of them exists, or, with the
    /// all-or-nothing switch, when any of them does not. An order that is no longer open is listed
    /// unchanged with BitMEX's per-order `error`.
    pub fn cancel_ids(&mut self, ids: &[String]) -> Option<Vec<Value>> {
        let matches = |o: &FakeOrder, id: &String| {
            *id == o.order_id || (!o.cl_ord_id.is_empty() && *id == o.cl_ord_id)
        };
        let known = |id: &String| self.orders.iter().any(|o| matches(o, id));
        if self.switches.cancel_all_or_nothing && !ids.iter().all(known) {
            return None;
        }
        let mut found = Vec::new();
        for o in &mut self.orders {
            if ids.iter().any(|id| matches(o, id)) {
                let row = if o.is_open() {
                    o.ord_status = "Canceled".into();
                    o.text = "Canceled via API.".into();
                    o.to_json()
                } else {
                    let mut row = o.to_json();
                    row["error"] = Value::String(format!(
                        "Unable to cancel order due to existing state: {}",
                        o.ord_status
                    ));
                    row
                };
                found.push(row);
            }
        }
        (!found.is_empty()).then_some(found)
    }

    pub fn arm(&mut self, timeout_ms: u64, now: Instant) -> Value {
        if timeout_ms == 0 {
            self.dead_mans = None;
            return json!({});
        }
        let at = now + Duration::from_millis(timeout_ms);
        self.dead_mans = Some(DeadMansSwitch {
            timeout_ms,
            cancel_at: at,
        });
        let wall = wall_ms();
        json!({ "now": iso(wall), "cancelTime": iso(wall + timeout_ms as i64) })
    }

    /// Fires the dead-man's switch if its time has come (checked lazily, on every request and every
    /// inspection by the test).
    pub fn expire(&mut self, now: Instant) {
        if let Some(switch) = self.dead_mans
            && now >= switch.cancel_at
        {
            self.dead_mans = None;
            self.dead_mans_fired += 1;
            self.cancel_open(None, "Canceled: Cancel all after timeout");
        }
    }

    /// Rows of `/trade/bucketed` for the query, newest first when `reverse`.
    #[allow(clippy::too_many_arguments)]
    pub fn bucketed(
        &self,
        symbol: &str,
        bin: BinSize,
        partial: bool,
        start_time: Option<i64>,
        end_time: Option<i64>,
        start: usize,
        count: usize,
        reverse: bool,
    ) -> Result<Vec<Value>, Refusal> {
        let Some(series) = self.series.get(symbol) else {
            return Ok(Vec::new());
        };
        if series.bin != bin {
            return Err((
                400,
                format!(
                    "the fake serves {symbol} at binSize={} only",
                    series.bin.as_str()
                ),
            ));
        }
        let visible = if partial {
            (series.completed + 1).min(series.bars.len())
        } else {
            series.completed
        };
        let mut idx: Vec<usize> = (0..visible)
            .filter(|&i| {
                let t = series.bars[i].close_time_ms;
                start_time.is_none_or(|s| t >= s) && end_time.is_none_or(|e| t <= e)
            })
            .collect();
        if reverse {
            idx.reverse();
        }
        Ok(idx
            .into_iter()
            .skip(start)
            .take(count)
            .map(|i| {
                let b = &series.bars[i];
                // BitMEX's open is the previous bucket's close.
                let open = if i == 0 {
                    b.open
                } else {
                    series.bars[i - 1].close
                };
                json!({
                    "timestamp": iso(b.close_time_ms), "symbol": symbol,
                    "open": open, "high": b.high, "low": b.low, "close": b.close,
                    "trades": if b.volume > 0.0 { 1 } else { 0 }, "volume": b.volume as i64,
                    "vwap": if b.volume > 0.0 { Some(b.close) } else { None },
                    "lastSize": if b.volume > 0.0 { Some(1) } else { None },
                    "turnover": (b.volume * b.close) as i64, "homeNotional": b.volume,
                    "foreignNotional": b.volume * b.close,
                })
            })
            .collect())
    }
}
