//! The test's side of the fake: set up the market, move its clock, trade by hand, inject faults,
//! inspect what happened.

use super::book::{DeadMansSwitch, FakeOrder, InstrumentSpec};
use super::faults::{FaultRule, RecordedRequest};
use super::market::Series;
use super::series::Bar;
use super::switches::{Execution, IdReuse, MarginRejection, Remainder};
use super::{FakeBitmex, State};
use maestro_lambda::exchange::BinSize;
use std::sync::MutexGuard;
use std::time::Instant;

impl FakeBitmex {
    fn lock(&self) -> MutexGuard<'_, State> {
        let mut st = self.shared.lock();
        st.market.expire(Instant::now());
        st
    }

    /// Lists (or replaces) an instrument.
    pub fn add_instrument(&self, spec: InstrumentSpec) {
        self.lock()
            .market
            .instruments
            .insert(spec.symbol.clone(), spec);
    }

    /// Accepts another API key.
    pub fn add_key(&self, key: &str, secret: &str) {
        self.lock().keys.insert(key.to_owned(), secret.to_owned());
    }

    /// Sets the symbol's candle series (stamped at close times, ascending) and how many of its bars
    /// have completed; the next one is "in progress" (served only with `partial=true`).
    pub fn set_series(&self, symbol: &str, bin: BinSize, bars: Vec<Bar>, completed: usize) {
        let completed = completed.min(bars.len());
        self.lock().market.series.insert(
            symbol.to_owned(),
            Series {
                bin,
                bars,
                completed,
            },
        );
    }

    /// Completes the next `n` buckets (the market's clock moves on); returns the completed count.
    pub fn advance(&self, symbol: &str, n: usize) -> usize {
        let mut st = self.lock();
        match st.market.series.get_mut(symbol) {
            Some(s) => {
                s.completed = (s.completed + n).min(s.bars.len());
                s.completed
            }
            None => 0,
        }
    }

    /// How many buckets have completed.
    pub fn completed(&self, symbol: &str) -> usize {
        self.lock()
            .market
            .series
            .get(symbol)
            .map_or(0, |s| s.completed)
    }

    /// The completed bars, oldest first.
    pub fn completed_bars(&self, symbol: &str) -> Vec<Bar> {
        self.lock()
            .market
            .series
            .get(symbol)
            .map(|s| s.bars[..s.completed].to_vec())
            .unwrap_or_default()
    }

    /// The close of the latest completed bucket: the price market orders fill at.
    pub fn last_close(&self, symbol: &str) -> Option<f64> {
        self.lock().market.last_close(symbol)
    }

    /// Sets the position directly, as a trade outside the bot would; the change is journaled as a
    /// [`ExecKind::HandTrade`](super::ExecKind::HandTrade) without an order.
    pub fn set_position(&self, symbol: &str, qty: i64) {
        self.lock().market.set_position(symbol, qty);
    }

    /// A trade on the account the bot did not send: a market order without clOrdID, filled at the
    /// last close, listed by `GET /order` and journaled as [`ExecKind::HandTrade`](super::ExecKind::HandTrade).
    pub fn hand_trade(&self, symbol: &str, side: &str, qty: i64) -> Result<FakeOrder, String> {
        self.lock()
            .market
            .hand_trade(symbol, side, qty)
            .map_err(|(status, message)| format!("{status}: {message}"))
    }

    /// Executes a market order as if it had come through the API (nothing is recorded as a
    /// request): fills the book fast, e.g. hundreds of orders for a paging test.
    pub fn place_direct(
        &self,
        symbol: &str,
        side: &str,
        qty: i64,
        cl_ord_id: &str,
    ) -> Result<FakeOrder, String> {
        self.lock()
            .market
            .place(super::book::NewOrder {
                symbol: symbol.into(),
                side: side.into(),
                order_qty: Some(qty),
                ord_type: "Market".into(),
                cl_ord_id: Some(cl_ord_id.into()),
                exec_inst: None,
            })
            .map_err(|(status, message)| format!("{status}: {message}"))
    }

    /// The liquidation engine takes the position over: it becomes 0, journaled as
    /// [`ExecKind::Liquidation`](super::ExecKind::Liquidation) (no order of the account is listed for it). `None` when flat.
    pub fn liquidate(&self, symbol: &str) -> Option<Execution> {
        self.lock().market.liquidate(symbol)
    }

    /// Every execution on the symbol, oldest first: what the exchange did, not what it was asked.
    pub fn executions(&self, symbol: &str) -> Vec<Execution> {
        self.lock()
            .market
            .executions
            .iter()
            .filter(|e| e.symbol == symbol)
            .cloned()
            .collect()
    }

    /// The sum of the journal's signed quantities (equals [`position`](Self::position) as long as
    /// every change went through the journal).
    pub fn executed_position(&self, symbol: &str) -> i64 {
        self.executions(symbol)
            .iter()
            .map(Execution::signed_qty)
            .sum()
    }

    /// Chooses how long a clOrdID stays reserved (default [`IdReuse::Forever`]).
    pub fn set_id_reuse(&self, mode: IdReuse) {
        self.lock().market.switches.id_reuse = mode;
    }

    /// The next `orders` market orders are taken by the engine but answered 503 "overloaded"; each
    /// executes after `lookups` more `GET /order` answers (so with 1, the first look-up still says
    /// "unknown"). It then meets the same checks as any order: a reused id may be refused.
    pub fn execute_late(&self, orders: u32, lookups: u32) {
        self.lock().market.switches.late = (orders > 0).then_some((orders, lookups));
    }

    /// Executes every late order now, whatever its count of look-ups; returns how many filled.
    pub fn release_late(&self) -> usize {
        self.lock().market.release_late(true)
    }

    /// How many late orders are still waiting.
    pub fn late_pending(&self) -> usize {
        self.lock().market.switches.pending.len()
    }

    /// The next `orders` orders that could add to the position are rejected for insufficient
    /// margin, in the shape `how` ([`INSUFFICIENT_BALANCE`] is the message); 0 turns it off.
    pub fn reject_margin(&self, how: MarginRejection, orders: u32) {
        self.lock().market.switches.margin = (orders > 0).then_some((how, orders));
    }

    /// The next `orders` orders for more than `max_qty` contracts fill only `max_qty`; the rest is
    /// cancelled or left working (`remainder`); 0 orders turns it off.
    pub fn fill_partially(&self, max_qty: i64, remainder: Remainder, orders: u32) {
        self.lock().market.switches.partial = (orders > 0).then_some((max_qty, remainder, orders));
    }

    /// Fills the rest of the symbol's working market orders at the last close; returns how many.
    pub fn fill_resting(&self, symbol: &str) -> usize {
        self.lock().market.fill_resting(symbol)
    }

    /// `DELETE /order` with several ids of which one is unknown: `true` answers 404 and cancels
    /// nothing; `false` (default) cancels the known ones and skips the rest.
    pub fn set_cancel_all_or_nothing(&self, on: bool) {
        self.lock().market.switches.cancel_all_or_nothing = on;
    }

    /// The signed position in contracts (0 when never held).
    pub fn position(&self, symbol: &str) -> i64 {
        self.lock()
            .market
            .positions
            .get(symbol)
            .copied()
            .unwrap_or(0)
    }

    /// Every order for the symbol, in arrival order.
    pub fn orders(&self, symbol: &str) -> Vec<FakeOrder> {
        self.lock()
            .market
            .orders
            .iter()
            .filter(|o| o.symbol == symbol)
            .cloned()
            .collect()
    }

    /// How many orders carry this clOrdID (more than one would be a duplicate order).
    pub fn orders_with_cl_ord_id(&self, cl_ord_id: &str) -> usize {
        self.lock()
            .market
            .orders
            .iter()
            .filter(|o| o.cl_ord_id == cl_ord_id)
            .count()
    }

    /// Open (working) orders for the symbol.
    pub fn open_orders(&self, symbol: &str) -> Vec<FakeOrder> {
        self.orders(symbol)
            .into_iter()
            .filter(FakeOrder::is_open)
            .collect()
    }

    /// Adds an open limit order (as if placed by hand); returns its orderID.
    pub fn add_resting_order(&self, symbol: &str, side: &str, qty: i64, price: f64) -> String {
        self.lock().market.add_resting(symbol, side, qty, price)
    }

    /// The armed dead-man's switch, if any.
    pub fn dead_mans_switch(&self) -> Option<DeadMansSwitch> {
        self.lock().market.dead_mans
    }

    /// How many times the dead-man's switch fired.
    pub fn dead_mans_fired(&self) -> u32 {
        self.lock().market.dead_mans_fired
    }

    /// Queues a fault; rules apply first-come, each to its next `times` matching requests.
    pub fn inject(&self, rule: FaultRule) {
        self.lock().faults.push(rule);
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Every request seen, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// Every request so far as `("METHOD /route", status)`, in order: what a test compares.
    pub fn request_log(&self) -> Vec<(String, u16)> {
        self.requests()
            .iter()
            .map(|r| (r.label(), r.status))
            .collect()
    }

    /// The requests to one route (`requests_to("POST", "/order")`).
    pub fn requests_to(&self, method: &str, route: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.route == route)
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// Sets the bucket's size in requests per minute (BitMEX's is 120 per API key), refilled
    /// evenly over a minute, and fills it.
    pub fn set_rate_limit(&self, per_minute: u32) {
        let mut st = self.lock();
        st.rate_limit = f64::from(per_minute.max(1));
        st.tokens = st.rate_limit;
        st.refilled_at = Instant::now();
    }

    /// Makes every answer wait `latency` first (a round trip to a real exchange is tens to
    /// hundreds of milliseconds; loopback is microseconds).
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.lock().latency = latency;
    }

    /// Sets how many requests are left in the rate-limit bucket (0 makes the next one a 429).
    pub fn set_rate_tokens(&self, n: u32) {
        let mut st = self.lock();
        st.tokens = f64::from(n);
        st.refilled_at = Instant::now();
    }

    /// Overrides the rate-limit headers reported (`limit`, `remaining`, reset in `s` seconds from
    /// now) without changing the real bucket; `None` reports the real bucket again.
    pub fn report_rate_limit(&self, report: Option<(u32, u32, u64)>) {
        self.lock().rate_report = report;
    }
}
