//! The fake exchange's books: instruments, candle series, positions, orders, the dead-man's switch.
//! Pure state, no HTTP: the server module turns requests into calls on [`Market`].

use super::book::{DeadMansSwitch, FakeOrder, InstrumentSpec, NewOrder};
use super::series::{Bar, iso};
use super::switches::{
    ExecKind, Execution, INSUFFICIENT_BALANCE, IdReuse, LateOrder, MarginRejection, Remainder,
    Switches,
};
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
    next_order: u64,
}

/// BitMEX's answer when the request (it says) never reached the engine.
pub const OVERLOADED: &str = "The system is currently overloaded. Please try again later.";

fn exec_insts(new: &NewOrder) -> Vec<String> {
    new.exec_inst
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn wall_ms() -> i64 {
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

    /// The matching engine: duplicate check (per the id switch), margin, fill.
    fn execute(&mut self, new: NewOrder) -> Result<FakeOrder, Refusal> {
        let bad = |m: &str| Err((400, m.to_owned()));
        let sign = if new.side == "Buy" { 1 } else { -1 };
        let exec = new.exec_inst.clone().unwrap_or_default();
        let insts = exec_insts(&new);
        let close = insts.iter().any(|i| i == "Close");
        let reduce_only = close || insts.iter().any(|i| i == "ReduceOnly");
        if let Some(id) = new.cl_ord_id.as_ref().filter(|id| !id.is_empty()) {
            let reuse = self.switches.id_reuse;
            let taken = self
                .orders
                .iter()
                .any(|o| &o.cl_ord_id == id && (reuse == IdReuse::Forever || o.is_open()));
            if taken {
                return bad("Duplicate clOrdID");
            }
        }
        let Some(price) = self.last_close(&new.symbol) else {
            return bad("No completed candle to fill at (the test set no series for this symbol)");
        };
        let pos = self.positions.get(&new.symbol).copied().unwrap_or(0);
        let wanted = new.order_qty.unwrap_or(pos.abs());
        let margin = match self.switches.margin {
            // Reducing a position frees margin: only orders that can add to it are refused.
            Some((how, left)) if !reduce_only => {
                self.switches.margin = (left > 1).then_some((how, left - 1));
                Some(how)
            }
            _ => None,
        };
        if margin == Some(MarginRejection::Refused) {
            return bad(INSUFFICIENT_BALANCE);
        }
        let (mut fill, mut text) = if margin.is_some() {
            (0, INSUFFICIENT_BALANCE)
        } else if reduce_only && (pos == 0 || pos.signum() == sign) {
            (
                0,
                "Canceled: Order had execInst of ReduceOnly/Close and side would have increased position",
            )
        } else if reduce_only && wanted > pos.abs() {
            (
                pos.abs(),
                "Partially filled: ReduceOnly/Close capped the order at the position",
            )
        } else {
            (wanted, "Submitted via API.")
        };
        let mut remainder = Remainder::Canceled;
        if let Some((most, how, left)) = self.switches.partial {
            if fill > most {
                self.switches.partial = (left > 1).then_some((most, how, left - 1));
                fill = most;
                remainder = how;
                text = "Partially filled: the book ran out of liquidity";
            }
        }
        let status = if margin.is_some() {
            "Rejected"
        } else if fill == wanted && fill > 0 {
            "Filled"
        } else if fill > 0 && remainder == Remainder::Resting {
            "PartiallyFilled"
        } else {
            "Canceled"
        };
        self.next_order += 1;
        let order = FakeOrder {
            order_id: format!("00000000-0000-4000-8000-{:012x}", self.next_order),
            cl_ord_id: new.cl_ord_id.unwrap_or_default(),
            symbol: new.symbol.clone(),
            side: new.side,
            order_qty: wanted,
            cum_qty: fill,
            avg_px: (fill > 0).then_some(price),
            price: None,
            ord_type: "Market".into(),
            exec_inst: exec,
            ord_status: status.into(),
            rej_reason: if margin.is_some() {
                text.into()
            } else {
                String::new()
            },
            text: text.into(),
            timestamp_ms: wall_ms(),
        };
        if fill > 0 || self.positions.contains_key(&new.symbol) {
            *self.positions.entry(new.symbol).or_insert(0) += sign * fill;
        }
        if fill > 0 {
            self.journal(&order, fill, Some(price), ExecKind::Order);
        }
        self.orders.push(order.clone());
        Ok(order)
    }

    fn journal(&mut self, order: &FakeOrder, qty: i64, price: Option<f64>, kind: ExecKind) {
        self.executions.push(Execution {
            order_id: order.order_id.clone(),
            cl_ord_id: order.cl_ord_id.clone(),
            symbol: order.symbol.clone(),
            side: order.side.clone(),
            qty,
            price,
            time_ms: wall_ms(),
            kind,
        });
    }

    /// One `GET /order` was answered: late orders whose turn has come now execute. Their outcome
    /// nobody hears of, as on the exchange; a refusal (a duplicate id) leaves no trace.
    pub fn after_lookup(&mut self) {
        for late in &mut self.switches.pending {
            late.lookups_left = late.lookups_left.saturating_sub(1);
        }
        self.release_late(false);
    }

    /// Executes the late orders that are due (every one when `all`), oldest first.
    pub fn release_late(&mut self, all: bool) -> usize {
        let (due, waiting) = std::mem::take(&mut self.switches.pending)
            .into_iter()
            .partition::<Vec<_>, _>(|l| all || l.lookups_left == 0);
        self.switches.pending = waiting;
        let mut executed = 0;
        for late in due {
            if self.execute(late.order).is_ok_and(|o| o.cum_qty > 0) {
                executed += 1;
            }
        }
        executed
    }

    /// A trade on the account the bot did not send: a filled market order without a clOrdID.
    pub fn hand_trade(&mut self, symbol: &str, side: &str, qty: i64) -> Result<FakeOrder, Refusal> {
        let order = self.execute(NewOrder {
            symbol: symbol.into(),
            side: side.into(),
            order_qty: Some(qty),
            ord_type: "Market".into(),
            cl_ord_id: None,
            exec_inst: None,
        })?;
        if let Some(last) = self.executions.last_mut() {
            if last.order_id == order.order_id {
                last.kind = ExecKind::HandTrade;
            }
        }
        Ok(order)
    }

    /// Sets the position by hand; the change is journaled as a hand trade without an order.
    pub fn set_position(&mut self, symbol: &str, qty: i64) {
        let before = self.positions.insert(symbol.to_owned(), qty).unwrap_or(0);
        self.journal_position_change(symbol, qty - before, ExecKind::HandTrade);
    }

    /// The liquidation engine takes the whole position over: it becomes 0.
    pub fn liquidate(&mut self, symbol: &str) -> Option<Execution> {
        let pos = self.positions.get(symbol).copied().unwrap_or(0);
        if pos == 0 {
            return None;
        }
        self.positions.insert(symbol.to_owned(), 0);
        self.journal_position_change(symbol, -pos, ExecKind::Liquidation);
        self.executions.last().cloned()
    }

    fn journal_position_change(&mut self, symbol: &str, delta: i64, kind: ExecKind) {
        if delta == 0 {
            return;
        }
        self.executions.push(Execution {
            order_id: String::new(),
            cl_ord_id: String::new(),
            symbol: symbol.to_owned(),
            side: if delta > 0 { "Buy" } else { "Sell" }.into(),
            qty: delta.abs(),
            price: self.last_close(symbol),
            time_ms: wall_ms(),
            kind,
        });
    }

    /// Fills what is left of the symbol's open market orders (partial fills left resting).
    pub fn fill_resting(&mut self, symbol: &str) -> usize {
        let price = self.last_close(symbol);
        let mut filled = Vec::new();
        for o in &mut self.orders {
            if o.symbol == symbol && o.ord_type == "Market" && o.is_open() {
                let rest = o.order_qty - o.cum_qty;
                o.cum_qty = o.order_qty;
                o.ord_status = "Filled".into();
                o.avg_px = o.avg_px.or(price);
                filled.push((o.clone(), rest));
            }
        }
        for (o, rest) in &filled {
            let sign = if o.side == "Buy" { 1 } else { -1 };
            *self.positions.entry(o.symbol.clone()).or_insert(0) += sign * rest;
            self.journal(o, *rest, price, ExecKind::Order);
        }
        filled.len()
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
        if let Some(switch) = self.dead_mans {
            if now >= switch.cancel_at {
                self.dead_mans = None;
                self.dead_mans_fired += 1;
                self.cancel_open(None, "Canceled: Cancel all after timeout");
            }
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
