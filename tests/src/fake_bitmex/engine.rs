//! The fake's matching engine: how an accepted order executes under the current switches, and
//! every other way the position changes (hand trades, liquidation), each written to the journal.

use super::book::{FakeOrder, NewOrder};
use super::market::{Market, Refusal, exec_insts, wall_ms};
use super::switches::{
    ExecKind, Execution, INSUFFICIENT_BALANCE, IdReuse, MarginRejection, Remainder,
};

impl Market {
    /// The matching engine: duplicate check (per the id switch), margin, fill.
    pub(crate) fn execute(&mut self, new: NewOrder) -> Result<FakeOrder, Refusal> {
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
        if let Some((most, how, left)) = self.switches.partial
            && fill > most
        {
            self.switches.partial = (left > 1).then_some((most, how, left - 1));
            fill = most;
            remainder = how;
            text = "Partially filled: the book ran out of liquidity";
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
        if let Some(last) = self.executions.last_mut()
            && last.order_id == order.order_id
        {
            last.kind = ExecKind::HandTrade;
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
}
