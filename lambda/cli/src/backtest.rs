//! `maestro backtest`: a candle series through the core strategy (via `run_batch`) and the shared
//! fill rule, into trades, PnL after fees, drawdown and the rest of a trader's report.
//!
//! Decisions come from the core alone: pass 1 feeds the candles to `maestro_core::run_batch` and
//! keeps each signal's target; pass 2 walks the candles, moves the position to the target with
//! [`Account::fill`] at [`fill_price`] (the candle's close, taker fee on the notional) and marks the
//! equity at every close. `SimExchange` fills with the same two functions, which is what makes a
//! replay through `maestro run` trade exactly like this.
//!
//! **Gap policy.** A file with missing bars (an exchange outage) cannot be fed through one strategy:
//! the core refuses a candle that does not follow the last by one bar (`CandleError::Gap`). The
//! backtest then does what a live bot can do: it keeps the position it holds (no order can be placed
//! during an outage, and closing at a stale price would be fiction), restarts the strategy from
//! scratch after the gap, holds the position while the new windows fill, and lets the first signal
//! after the warm-up set the target again. Every gap is listed in the report with the position held
//! through it and the bars spent warming up. The sweep applies the same policy.

pub mod costs;

use crate::candles_file::{CandleSeries, Gap};
use crate::sim::account::{Account, FeeRate, Fill, Money, fill_price};
use costs::Costs;
use maestro_core::{CandleError, Order, Params, ParamsError, Strategy, run_batch};

/// The largest long window a backtest accepts (the strategy's buffer, 8 bytes a slot).
pub const MAX_LONG_WINDOW: usize = 8192;

/// One fill of the backtest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trade {
    /// Index of the candle it filled on.
    pub index: usize,
    /// That candle's close time (ms).
    pub close_time_ms: i64,
    /// The fill.
    pub fill: Fill,
}

/// A gap in the data and what the backtest did about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GapReport {
    /// The gap.
    pub gap: Gap,
    /// The position held through it.
    pub position_held: i64,
    /// Candles after the gap before the restarted strategy was ready again.
    pub warmup_bars: usize,
}

/// Everything a backtest found.
#[derive(Clone, Debug, PartialEq)]
pub struct BacktestReport {
    /// The parameters run.
    pub params: Params,
    /// The fee charged.
    pub fee: FeeRate,
    /// Every cost applied (the fee above, slippage, funding).
    pub costs: Costs,
    /// Candles read.
    pub candles: usize,
    /// Signals the strategy emitted.
    pub signals: usize,
    /// Every fill, in order.
    pub trades: Vec<Trade>,
    /// The account after the last candle.
    pub account: Account,
    /// Equity at every candle's close (after that candle's fill).
    pub equity: Vec<Money>,
    /// Largest fall of the equity from a previous peak (the start counts as a peak of 0).
    pub max_drawdown: Money,
    /// Candles that ended with an open position.
    pub exposed_bars: usize,
    /// Gaps in the data and how they were handled.
    pub gaps: Vec<GapReport>,
}

impl BacktestReport {
    /// Profit after fees at the last close, the open position marked at that close.
    pub fn final_pnl(&self) -> Money {
        self.equity.last().copied().unwrap_or_default()
    }

    /// Share of round trips that made money after fees (`None` without a closed round trip).
    pub fn win_rate(&self) -> Option<f64> {
        (self.account.round_trips > 0)
            .then(|| self.account.wins as f64 / self.account.round_trips as f64)
    }

    /// Share of candles spent in the market.
    pub fn exposure(&self) -> f64 {
        if self.candles == 0 {
            0.0
        } else {
            self.exposed_bars as f64 / self.candles as f64
        }
    }
}

/// Why a backtest could not run.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// The parameters are invalid.
    #[error("invalid strategy parameters: {0}")]
    Params(#[from] ParamsError),
    /// The long window exceeds what the backtest supports.
    #[error("long window {0} exceeds the supported maximum of {MAX_LONG_WINDOW}")]
    WindowTooLong(u32),
    /// The core refused a candle (the loader normally catches this first).
    #[error("candle {index} (closing at {close_time_ms} ms) refused by the strategy: {error}")]
    Candle {
        /// Index in the series.
        index: usize,
        /// Its close time.
        close_time_ms: i64,
        /// The core's reason.
        error: CandleError,
    },
}

/// The signed order that moves `position` towards `target` in whole lots: the core's own rule
/// ([`Order::towards`], which `Strategy::plan_order` uses), as a change of position.
pub(crate) fn order_delta(target: i64, position: i64, lot_size: u64) -> i64 {
    Order::towards(position, target, lot_size).map_or(0, |order| {
        // Positions and targets stay within `max_position` (an i64), so the change fits unless
        // the cap is above i64::MAX / 2; such a change saturates instead of wrapping.
        let limit = i128::from(i64::MAX);
        order.delta().clamp(-limit, limit) as i64
    })
}

/// The signals of a series: `(candle index, target)` in order, one fresh strategy per gap-free
/// stretch. Also returns, per gap, the index of the first candle after it and the bars the
/// restarted strategy needed to become ready.
#[allow(clippy::type_complexity)]
pub fn signals(
    series: &CandleSeries,
    params: Params,
) -> Result<(Vec<(usize, i64)>, Vec<(usize, usize)>), BacktestError> {
    if params.long_window as usize > MAX_LONG_WINDOW {
        return Err(BacktestError::WindowTooLong(params.long_window));
    }
    let candles = &series.candles;
    let mut out = Vec::new();
    let mut warmups = Vec::new();
    let mut start = 0;
    loop {
        let mut strategy = Strategy::<MAX_LONG_WINDOW>::new(params)?;
        let stretch = &candles[start..];
        let result = run_batch(&mut strategy, stretch, |i, signal| {
            out.push((start + i, signal.target));
        });
        match result {
            Ok(_) => return Ok((out, warmups)),
            Err(e) => {
                let index = start + e.index;
                if !matches!(e.error, CandleError::Gap { .. }) {
                    return Err(BacktestError::Candle {
                        index,
                        close_time_ms: candles[index].close_time_ms,
                        error: e.error,
                    });
                }
                start = index;
                let left = candles.len() - start;
                warmups.push((start, (params.long_window as usize - 1).min(left)));
            }
        }
    }
}

/// Runs one backtest of `params` over `series`, charging `fee` on every fill.
pub fn backtest(
    series: &CandleSeries,
    params: Params,
    fee: FeeRate,
) -> Result<BacktestReport, BacktestError> {
    backtest_with(series, params, &Costs::taker_only(fee))
}

/// Runs one backtest of `params` over `series` with every cost of `costs`: the fee of its
/// liquidity and slippage on every fill, funding on the position held at each funding instant
/// (charged before that bar's fill).
pub fn backtest_with(
    series: &CandleSeries,
    params: Params,
    costs: &Costs,
) -> Result<BacktestReport, BacktestError> {
    let fee = costs.fee();
    let (signals, restarts) = signals(series, params)?;
    let candles = &series.candles;
    let mut account = Account::default();
    let mut trades = Vec::with_capacity(signals.len());
    let mut equity = Vec::with_capacity(candles.len());
    let mut next = signals.iter().peekable();
    let mut peak = Money(0);
    let mut max_drawdown = Money(0);
    let mut exposed_bars = 0;
    let mut gaps = Vec::with_capacity(restarts.len());
    let mut restart_iter = restarts.iter().peekable();
    for (i, candle) in candles.iter().enumerate() {
        if account.position != 0 {
            let after = match i {
                0 => candle.close_time_ms - series.bin_ms,
                _ => candles[i - 1].close_time_ms,
            };
            for rate in costs.funding_between(after, candle.close_time_ms) {
                account.pay_funding(rate.payment(account.position, candle.close.0));
            }
        }
        if let Some(&(_, warmup_bars)) = restart_iter.next_if(|(at, _)| *at == i) {
            let last_close_ms = candles[i.saturating_sub(1)].close_time_ms;
            let bars = (candle.close_time_ms - last_close_ms) / series.bin_ms.max(1);
            gaps.push(GapReport {
                gap: Gap {
                    index: i,
                    last_close_ms,
                    next_close_ms: candle.close_time_ms,
                    missing: (bars - 1).max(0).unsigned_abs(),
                },
                position_held: account.position,
                warmup_bars,
            });
        }
        while let Some(&(_, target)) = next.next_if(|(at, _)| *at == i) {
            let delta = order_delta(target, account.position, params.lot_size);
            if delta != 0 {
                let slip = costs.slip_per_contract(candle);
                let fill = account.fill_slipped(delta, fill_price(candle), fee, slip);
                trades.push(Trade {
                    index: i,
                    close_time_ms: candle.close_time_ms,
                    fill,
                });
            }
        }
        let eq = account.equity(candle.close);
        peak = peak.max(eq);
        max_drawdown = max_drawdown.max(peak - eq);
        exposed_bars += usize::from(account.position != 0);
        equity.push(eq);
    }
    Ok(BacktestReport {
        params,
        fee,
        costs: costs.clone(),
        candles: candles.len(),
        signals: signals.len(),
        trades,
        account,
        equity,
        max_drawdown,
        exposed_bars,
        gaps,
    })
}

#[cfg(test)]
mod tests;
