//! `SimExchange`: an in-process exchange for local runs. It serves candles from a series it is given
//! up to a "now" the caller advances, fills market orders at the close of the current candle with
//! the shared fill rule ([`account::fill_price`], [`account::Account::fill`]), charges the taker
//! fee, and tracks position, cash and PnL.

pub mod account;

#[cfg(test)]
use account::Money;
use account::{Account, FeeRate, Fill, fill_price};
use maestro_core::{Candle, TickSize};
use maestro_lambda::exchange::{
    BinSize, Exchange, ExchangeError, ExchangeResult, Instrument, OrderRequest, PlacedOrder, Side,
};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// BitMEX's LTCUSDT perpetual as the bot's docs describe it (tick 0.01, lot 1000 contracts,
/// 10,000 contracts per LTC, taker fee 5 bp).
pub fn ltcusdt() -> Instrument {
    Instrument {
        symbol: "LTCUSDT".to_owned(),
        tick_size: TickSize::CENT,
        lot_size: 1000,
        multiplier: 100,
        underlying_to_position_multiplier: Some(10_000.0),
        taker_fee: 0.0005,
        state: "Open".to_owned(),
    }
}

/// The quote-currency value of one contract moving one tick, for a linear contract
/// (`tick / underlyingToPositionMultiplier`; without that field, `multiplier × tick` in 1e-6 units
/// as BitMEX's USDT contracts count). Display only.
pub fn contract_tick_value(instrument: &Instrument) -> f64 {
    let tick = maestro_core::Price(1).to_f64(instrument.tick_size);
    match instrument.underlying_to_position_multiplier {
        Some(m) if m > 0.0 => tick / m,
        _ => instrument.multiplier as f64 * tick * 1e-6,
    }
}

/// The simulated exchange. Cheap to share: all state sits behind one mutex.
#[derive(Debug)]
pub struct SimExchange {
    instrument: Instrument,
    fee: FeeRate,
    bin_ms: i64,
    candles: Vec<Candle>,
    state: Mutex<SimState>,
}

#[derive(Debug, Default)]
struct SimState {
    now_ms: i64,
    account: Account,
    orders: Vec<PlacedOrder>,
    by_cl_ord_id: HashMap<String, usize>,
    fills: Vec<Fill>,
}

impl SimExchange {
    /// An exchange trading `instrument` over `candles` (ascending, `bin_ms` apart, in the
    /// instrument's ticks). The fee is the instrument's taker fee; "now" starts before the first
    /// candle, so nothing is visible until [`SimExchange::advance_to`].
    pub fn new(instrument: Instrument, bin_ms: i64, candles: Vec<Candle>) -> Result<Self, String> {
        let fee = FeeRate::from_fraction(instrument.taker_fee)
            .ok_or_else(|| format!("taker fee {} is not a usable rate", instrument.taker_fee))?;
        Ok(Self::with_fee(instrument, fee, bin_ms, candles))
    }

    /// Like [`SimExchange::new`] with an explicit fee rate (the CLI's `--fee-bp`).
    pub fn with_fee(
        instrument: Instrument,
        fee: FeeRate,
        bin_ms: i64,
        candles: Vec<Candle>,
    ) -> Self {
        let now_ms = candles.first().map_or(0, |c| c.close_time_ms - 1);
        SimExchange {
            instrument,
            fee,
            bin_ms,
            candles,
            state: Mutex::new(SimState {
                now_ms,
                ..SimState::default()
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, SimState> {
        // A panic while holding the lock cannot leave the state half-updated (every update is a
        // few assignments after all checks), so a poisoned lock is still consistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Moves the clock forward (never back): candles closing at or before `now_ms` become visible.
    pub fn advance_to(&self, now_ms: i64) {
        let mut st = self.state();
        st.now_ms = st.now_ms.max(now_ms);
    }

    /// The simulated clock.
    pub fn now_ms(&self) -> i64 {
        self.state().now_ms
    }

    /// The account (position, cash, fees, round trips).
    pub fn account(&self) -> Account {
        self.state().account
    }

    /// Every fill so far, oldest first.
    pub fn fills(&self) -> Vec<Fill> {
        self.state().fills.clone()
    }

    /// The fee rate charged.
    pub fn fee(&self) -> FeeRate {
        self.fee
    }

    /// The last candle visible at the current clock.
    pub fn current_candle(&self) -> Option<Candle> {
        let now = self.now_ms();
        let n = self.visible(now);
        n.checked_sub(1).map(|i| self.candles[i])
    }

    fn visible(&self, now_ms: i64) -> usize {
        self.candles.partition_point(|c| c.close_time_ms <= now_ms)
    }

    fn check_symbol(&self, symbol: &str) -> ExchangeResult<()> {
        if symbol == self.instrument.symbol {
            Ok(())
        } else {
            Err(rejected(format!(
                "unknown symbol {symbol:?}: this simulated exchange trades {}",
                self.instrument.symbol
            )))
        }
    }

    fn check_series(&self, symbol: &str, bin: BinSize, tick: TickSize) -> ExchangeResult<()> {
        self.check_symbol(symbol)?;
        if bin.millis() != self.bin_ms {
            return Err(rejected(format!(
                "binSize {} is not served: the loaded candles are {} ms apart",
                bin.as_str(),
                self.bin_ms
            )));
        }
        if tick != self.instrument.tick_size {
            return Err(rejected(format!(
                "candles are in ticks of {}, not {tick}",
                self.instrument.tick_size
            )));
        }
        Ok(())
    }

    fn place(&self, order: &OrderRequest) -> ExchangeResult<PlacedOrder> {
        self.check_symbol(&order.symbol)?;
        if order.cl_ord_id.len() > 36 {
            return Err(rejected("clOrdID is longer than 36 characters".into()));
        }
        let mut st = self.state();
        if let Some(&i) = st.by_cl_ord_id.get(&order.cl_ord_id) {
            // BitMEX refuses a reused clOrdID; the port's contract turns that into "here it is".
            return Ok(st.orders[i].clone());
        }
        let Some(candle) = self
            .visible(st.now_ms)
            .checked_sub(1)
            .map(|i| self.candles[i])
        else {
            return Err(rejected(
                "no market data yet: the clock is before the first candle".into(),
            ));
        };
        let position = st.account.position;
        let reduces = match order.side {
            Side::Buy => position < 0,
            Side::Sell => position > 0,
        };
        let lot = self.instrument.lot_size;
        let qty = if order.close {
            if reduces { position.unsigned_abs() } else { 0 }
        } else {
            if order.qty == 0 || lot == 0 || !order.qty.is_multiple_of(lot) {
                return Err(rejected(format!(
                    "Invalid orderQty {}: must be a positive multiple of the lot size {lot}",
                    order.qty
                )));
            }
            match (order.reduce_only, reduces) {
                (false, _) => order.qty,
                (true, true) => order.qty.min(position.unsigned_abs()),
                (true, false) => 0,
            }
        };
        let signed = i64::try_from(qty).map_err(|_| rejected("orderQty too large".into()))?;
        let (status, avg_price) = if qty == 0 {
            // BitMEX cancels a reduce-only or close order that has nothing to reduce.
            ("Canceled", None)
        } else {
            let price = fill_price(&candle);
            let delta = match order.side {
                Side::Buy => signed,
                Side::Sell => -signed,
            };
            let fill = st.account.fill(delta, price, self.fee);
            st.fills.push(fill);
            ("Filled", Some(price.to_f64(self.instrument.tick_size)))
        };
        let placed = PlacedOrder {
            order_id: format!("sim-{}", st.orders.len() + 1),
            cl_ord_id: order.cl_ord_id.clone(),
            symbol: order.symbol.clone(),
            side: order.side,
            qty: if order.close { qty } else { order.qty },
            filled_qty: qty,
            avg_price,
            status: status.to_owned(),
            leaves_qty: 0,
            timestamp_ms: st.now_ms,
        };
        let index = st.orders.len();
        st.orders.push(placed.clone());
        st.by_cl_ord_id.insert(order.cl_ord_id.clone(), index);
        Ok(placed)
    }
}

fn rejected(message: String) -> ExchangeError {
    ExchangeError::Rejected {
        status: 400,
        name: "HTTPError".to_owned(),
        message,
    }
}

impl Exchange for SimExchange {
    async fn instrument(&self, symbol: &str) -> ExchangeResult<Instrument> {
        self.check_symbol(symbol)?;
        Ok(self.instrument.clone())
    }

    async fn candles_after(
        &self,
        symbol: &str,
        bin: BinSize,
        tick: TickSize,
        after_close_ms: i64,
        max: usize,
    ) -> ExchangeResult<Vec<Candle>> {
        self.check_series(symbol, bin, tick)?;
        let end = self.visible(self.now_ms());
        let start = self.candles[..end].partition_point(|c| c.close_time_ms <= after_close_ms);
        Ok(self.candles[start..end].iter().take(max).copied().collect())
    }

    async fn position(&self, symbol: &str) -> ExchangeResult<i64> {
        self.check_symbol(symbol)?;
        Ok(self.state().account.position)
    }

    async fn place_order(&self, order: &OrderRequest) -> ExchangeResult<PlacedOrder> {
        self.place(order)
    }

    async fn order_by_cl_ord_id(
        &self,
        symbol: &str,
        cl_ord_id: &str,
    ) -> ExchangeResult<Option<PlacedOrder>> {
        self.check_symbol(symbol)?;
        let st = self.state();
        Ok(st
            .by_cl_ord_id
            .get(cl_ord_id)
            .map(|&i| st.orders[i].clone()))
    }

    async fn orders_since(
        &self,
        symbol: &str,
        cl_ord_id_prefix: &str,
        since_ms: i64,
        max: usize,
    ) -> ExchangeResult<Vec<PlacedOrder>> {
        self.check_symbol(symbol)?;
        let st = self.state();
        let mut found: Vec<PlacedOrder> = st
            .orders
            .iter()
            .rev()
            .filter(|o| o.timestamp_ms >= since_ms && o.cl_ord_id.starts_with(cl_ord_id_prefix))
            .take(max)
            .cloned()
            .collect();
        found.reverse();
        Ok(found)
    }

    async fn cancel_orders(
        &self,
        symbol: &str,
        cl_ord_ids: &[String],
    ) -> ExchangeResult<Vec<PlacedOrder>> {
        // Market orders fill at once, so nothing is left to cancel; like BitMEX, the known ones
        // are reported as they stand and unknown ids are skipped.
        self.check_symbol(symbol)?;
        let st = self.state();
        Ok(st
            .orders
            .iter()
            .filter(|o| !o.cl_ord_id.is_empty() && cl_ord_ids.contains(&o.cl_ord_id))
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests;
