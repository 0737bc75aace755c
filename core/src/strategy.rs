//! The strategy: validated parameters plus state; candles in, target position and orders out.

use crate::candle::Candle;
use crate::crossover::Crossover;
use crate::num::div_rem;
use crate::order::Order;
use crate::price::MAX_TICKS;
use crate::sma::SmaPair;
use crate::steady::Clock;
use core::fmt;
use serde::{Deserialize, Serialize};

// The strategy's vocabulary, reachable from here as well as from the crate root.
pub use crate::crossover::{Guards, Regime};
pub use crate::params::{Mode, Params, ParamsError};
pub use crate::sma::Mean;

/// A change of regime and the position that goes with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Signal {
    /// The new regime.
    pub regime: Regime,
    /// The new target position in contracts (positive long, negative short, 0 flat).
    pub target: i64,
    /// Close time of the candle that caused it.
    pub close_time_ms: i64,
}

/// What one candle did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// The same candle as the last one: nothing changed.
    Duplicate,
    /// Accepted, but the long window is not full yet.
    NotReady,
    /// Accepted; the regime did not change (equal means keep the current regime).
    NoChange,
    /// Accepted; the regime changed. The first regime, once both windows are full and the means
    /// differ (beyond the band), is a change too: from no position to the first target.
    Signal(Signal),
}

/// Why a candle was refused. The strategy's state is untouched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CandleError {
    /// Older than the last accepted candle.
    Older {
        /// Close time of the last accepted candle.
        last_ms: i64,
        /// Close time of the refused candle.
        got_ms: i64,
    },
    /// Later than the next expected candle: `missing` whole bars are absent in between.
    Gap {
        /// Close time of the last accepted candle.
        last_ms: i64,
        /// Close time of the refused candle.
        got_ms: i64,
        /// How many bars are missing.
        missing: u64,
    },
    /// Not a whole number of bins after the last accepted candle.
    Misaligned {
        /// Close time of the last accepted candle.
        last_ms: i64,
        /// Close time of the refused candle.
        got_ms: i64,
        /// The expected spacing.
        bin_ms: i64,
    },
    /// The same close time as the last candle but a different close: a revised candle.
    Conflict {
        /// The close time both candles share.
        close_time_ms: i64,
    },
    /// A price that is zero or negative.
    NonPositive,
    /// A price above [`MAX_TICKS`].
    TooLarge,
    /// `close` outside `[low, high]` (or `low > high`).
    CloseOutsideRange,
    /// Only from [`demo_digest`](crate::replay::demo_digest): the parameters were refused.
    Params(ParamsError),
}

impl fmt::Display for CandleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CandleError::Older { last_ms, got_ms } => write!(
                f,
                "candle closing at {got_ms} is older than the last one ({last_ms})"
            ),
            CandleError::Gap {
                last_ms,
                got_ms,
                missing,
            } => write!(
                f,
                "gap: {missing} bar(s) missing between {last_ms} and {got_ms}"
            ),
            CandleError::Misaligned {
                last_ms,
                got_ms,
                bin_ms,
            } => write!(
                f,
                "candle closing at {got_ms} is not a multiple of {bin_ms} ms after {last_ms}"
            ),
            CandleError::Conflict { close_time_ms } => write!(
                f,
                "candle closing at {close_time_ms} repeats the last one with a different close"
            ),
            CandleError::NonPositive => f.write_str("candle has a price that is not positive"),
            CandleError::TooLarge => f.write_str("candle has a price above the supported maximum"),
            CandleError::CloseOutsideRange => f.write_str("candle close lies outside [low, high]"),
            CandleError::Params(e) => write!(f, "invalid parameters: {e}"),
        }
    }
}

impl core::error::Error for CandleError {}

/// The SMA-crossover strategy over a buffer of `CAP` closes: validated [`Params`] plus state.
///
/// No heap: `8 × CAP` bytes of closes plus about 160 bytes (`Strategy<50>` is 560 bytes on
/// thumbv7em, 576 on x86-64).
///
/// ```
/// use maestro_core::{Candle, Guards, Mode, Params, Price, Regime, Step, Strategy};
/// let params = Params {
///     short_window: 2, long_window: 3, mode: Mode::LongShort, qty: 1000, lot_size: 1000,
///     max_position: 1000, bin_ms: 60_000, guards: Guards::default(),
/// };
/// let mut s = Strategy::<8>::new(params).unwrap();
/// let c = |i: i64, p: i64| Candle {
///     close_time_ms: 60_000 * i, open: Price(p), high: Price(p), low: Price(p), close: Price(p),
/// };
/// assert_eq!(s.on_candle(&c(1, 100)), Ok(Step::NotReady));
/// assert_eq!(s.on_candle(&c(2, 100)), Ok(Step::NotReady));
/// let Ok(Step::Signal(sig)) = s.on_candle(&c(3, 130)) else { panic!() };
/// assert_eq!((sig.regime, sig.target), (Regime::Bullish, 1000));
/// assert_eq!(s.on_candle(&c(3, 130)), Ok(Step::Duplicate));
/// assert_eq!(s.plan_order(0).map(|o| o.qty), Some(1000));
/// ```
#[derive(Clone, Debug)]
pub struct Strategy<const CAP: usize> {
    pub(crate) params: Params,
    /// `params.qty` capped to `max_position`; fits `i64` by validation.
    pub(crate) qty: i64,
    pub(crate) smas: SmaPair<CAP>,
    pub(crate) cross: Crossover,
    /// The last accepted candle's close time, and whether the strategy is steady.
    pub(crate) clock: Clock,
    pub(crate) target: i64,
    /// No band and `short × long <= NARROW_WINDOWS`: the means compare exactly in `i64`.
    /// Derived from the parameters, so snapshots need not store it.
    pub(crate) narrow: bool,
    /// While steady, the short path does not count bars since the last flip one by one:
    /// `cross` holds the count as of the candle closing at `since_ms`, and every later candle is
    /// one bin after the one before (see [`Self::cross_state`]).
    pub(crate) since_ms: i64,
}

impl<const CAP: usize> Strategy<CAP> {
    /// A fresh strategy (no candle seen) with validated parameters.
    pub fn new(params: Params) -> Result<Self, ParamsError> {
        let qty = params.validate(CAP)?;
        Ok(Strategy {
            params,
            qty: qty as i64,
            smas: SmaPair::new(params.short_window as usize, params.long_window as usize),
            cross: Crossover::new(params.guards),
            clock: Clock::START,
            target: 0,
            narrow: params.guards.hysteresis_bp == 0
                && u64::from(params.short_window) * u64::from(params.long_window) <= NARROW_WINDOWS,
            since_ms: 0,
        })
    }

    /// Works out whether the strategy is steady (narrow, plain guards, nothing pending, a regime
    /// in force: see [`Clock`]) after the general step or a restore changed the state,
    /// where the crossover's count of bars since the last flip is exact.
    #[inline(always)]
    pub(crate) fn refresh_steady(&mut self) {
        let steady = self.narrow && self.cross.regime().is_some() && self.cross.is_plain();
        if let Some(last) = self.clock.last() {
            self.since_ms = last;
            self.clock = if steady {
                Clock::steady(last, self.params.bin_ms)
            } else {
                Clock::general(last)
            };
        }
    }

    /// The parameters.
    pub const fn params(&self) -> &Params {
        &self.params
    }

    /// Takes the next completed candle.
    ///
    /// On `Err` nothing changed. A candle equal in time and close to the last accepted one is a
    /// [`Step::Duplicate`] no-op (pollers re-read the last bucket).
    #[inline(always)]
    pub fn on_candle(&mut self, candle: &Candle) -> Result<Step, CandleError> {
        // The common case first: the clock's step stands for the band, the guards, the filling
        // windows and the first regime, so that none of them is looked at per candle. Only on
        // 64-bit targets (the Lambda, the CLI): on a microcontroller flash is what counts, 64-bit
        // arithmetic takes several instructions anyway, and the general step gives the same
        // answers in less code.
        if SHORT_PATH && let Some(step) = self.steady_step(candle) {
            return Ok(step);
        }
        self.general_step(candle)
    }

    /// Every candle the short path does not take (the first ones, bands, guards, repeats,
    /// refusals), and on targets without the short path every candle. It gives the same answers
    /// as the short path for a steady strategy too, which the tests hold it to.
    #[inline(always)]
    pub(crate) fn general_step(&mut self, candle: &Candle) -> Result<Step, CandleError> {
        let t = candle.close_time_ms;
        let close = candle.close.0;
        if let Some(last) = self.clock.last() {
            // The hot path is one compare; everything else is the rare, out-of-line error path.
            if last.checked_add(self.params.bin_ms) != Some(t) {
                // `None` is a duplicate. A plain error comes back, not a whole `Result`, so that the
                // hot path's result need not be merged with the call's through memory.
                // Values, not `&self`: a call that could see the strategy would keep its state
                // in memory, not in registers, across a caller's loop of candles.
                let repeat = Some(candle.close.0) == self.smas.last();
                return match off_schedule(last, self.params.bin_ms, repeat, t) {
                    None => Ok(Step::Duplicate),
                    Some(e) => Err(e),
                };
            }
        }
        check_prices(candle)?;
        if SHORT_PATH {
            // The short path may leave a valid candle here (its price test is stricter than the
            // exact one): first count the bars it took since `since_ms` into the crossover, as
            // `refresh_steady` below restarts the count from this candle. Unless the strategy is
            // steady there are none, and this writes back what the crossover holds.
            let since_flip = self.cross_state().since_flip;
            self.cross.set_plain(self.cross.regime(), since_flip);
        }
        // General until `refresh_steady` below finds a plain regime in force (none holds while
        // the windows fill).
        self.clock = Clock::general(t);
        let Some((short, long)) = self.smas.push_means(close) else {
            return Ok(Step::NotReady);
        };
        let cand = if self.narrow {
            indicated_narrow(short, long)
        } else {
            crate::crossover::indicated(short, long, self.cross.hysteresis_bp())
        };
        // `cross` counts this bar itself; `refresh_steady` then restarts the short path's count
        // from here.
        let changed = self.cross.update_indicated(cand);
        self.refresh_steady();
        match changed {
            None => Ok(Step::NoChange),
            Some(regime) => {
                self.target = self.params.target_for(Some(regime), self.qty);
                Ok(Step::Signal(Signal {
                    regime,
                    target: self.target,
                    close_time_ms: t,
                }))
            }
        }
    }

    /// The position the strategy wants: 0 until the first signal.
    pub const fn target_position(&self) -> i64 {
        self.target
    }

    /// The market order that moves `current_position` towards the target, or `None` when there
    /// is nothing to do.
    ///
    /// The quantity is `|target − current|` rounded down to the lot size, so the order never
    /// overshoots the target; as the target is within `max_position`, the position after the
    /// order never opens beyond it. `reduce_only` is set when the order only shrinks the current
    /// position without crossing zero.
    pub fn plan_order(&self, current_position: i64) -> Option<Order> {
        Order::towards(current_position, self.target, self.params.lot_size)
    }

    /// The target a regime means under these parameters.
    pub(crate) const fn target_for_regime(&self, regime: Option<Regime>) -> i64 {
        self.params.target_for(regime, self.qty)
    }

    /// The current regime, `None` until the first signal.
    pub const fn regime(&self) -> Option<Regime> {
        self.cross.regime()
    }

    /// The short mean, `None` until the short window is full.
    pub fn short_sma(&self) -> Option<Mean> {
        self.smas.short_mean()
    }

    /// The long mean, `None` until the long window is full.
    pub fn long_sma(&self) -> Option<Mean> {
        self.smas.long_mean()
    }

    /// Close time of the last accepted candle.
    pub const fn last_close_ms(&self) -> Option<i64> {
        self.clock.last()
    }

    /// Both windows are full: every further candle is compared.
    pub fn is_ready(&self) -> bool {
        self.smas.len() >= self.params.long_window as usize
    }
}

/// A candle closing at `got` that is not exactly one bin after `last`: a duplicate (`None`),
/// older, a gap or misaligned. `repeat`: its close equals the last accepted close.
#[cold]
#[inline(never)]
fn off_schedule(last: i64, bin_ms: i64, repeat: bool, got: i64) -> Option<CandleError> {
    if got == last {
        // Time and close identify a repeat: the close is all the state keeps, and it was
        // validated when first accepted. The other prices of a repeat are not looked at.
        return if repeat {
            None
        } else {
            Some(CandleError::Conflict { close_time_ms: got })
        };
    }
    if got < last {
        return Some(CandleError::Older {
            last_ms: last,
            got_ms: got,
        });
    }
    let (bars, rem) = div_rem(got.abs_diff(last), bin_ms as u64);
    if rem != 0 {
        Some(CandleError::Misaligned {
            last_ms: last,
            got_ms: got,
            bin_ms,
        })
    } else {
        Some(CandleError::Gap {
            last_ms: last,
            got_ms: got,
            missing: bars - 1,
        })
    }
}

/// Whether [`Strategy::on_candle`] has its short path for steady strategies (64-bit targets).
pub(crate) const SHORT_PATH: bool = cfg!(target_pointer_width = "64");

/// Windows whose product stays at or below this keep both cross products of validated sums
/// inside `i64`: a sum over `n` closes is at most `MAX_TICKS × n`, so `short_sum × long` and
/// `long_sum × short` are at most `MAX_TICKS × short × long <= i64::MAX`.
const NARROW_WINDOWS: u64 = (i64::MAX / MAX_TICKS) as u64;

/// [`indicated`](crate::crossover::indicated) without a band, for the strategy's own means (sums
/// of validated closes) when the windows are narrow: the cross products are then exact in `i64`,
/// which saves the 128-bit multiplies (a library call on Cortex-M).
#[inline(always)]
pub(crate) fn indicated_narrow(short: Mean, long: Mean) -> Option<Regime> {
    let (lhs, rhs) = narrow_products(short.sum, i64::from(short.n), long.sum, i64::from(long.n));
    if lhs > rhs {
        Some(Regime::Bullish)
    } else if lhs < rhs {
        Some(Regime::Bearish)
    } else {
        None
    }
}

/// The two cross products that compare a short mean (`short_sum / short`) with a long one:
/// `(short_sum × long, long_sum × short)`, exact for the strategy's narrow windows.
#[inline(always)]
pub(crate) fn narrow_products(short_sum: i64, short: i64, long_sum: i64, long: i64) -> (i64, i64) {
    (short_sum.wrapping_mul(long), long_sum.wrapping_mul(short))
}

/// Positive, at most [`MAX_TICKS`], and `low <= close <= high`. `open` is only range-checked:
/// BitMEX stamps the previous close there, which may lie outside the bucket's range.
#[inline(always)]
pub(crate) fn check_prices(c: &Candle) -> Result<(), CandleError> {
    if valid_prices(c) {
        Ok(())
    } else {
        // Which rule failed is worked out only on failure.
        Err(price_error(c.open.0, c.high.0, c.low.0, c.close.0))
    }
}

/// [`check_prices`]' verdict alone, for loops that hand a refused candle to the general step
/// (which then says why): an error worked out and thrown away would still be a call.
#[inline(always)]
pub(crate) fn valid_prices(c: &Candle) -> bool {
    let (o, h, l, x) = (c.open.0, c.high.0, c.low.0, c.close.0);
    // `v - 1` as unsigned is below MAX_TICKS exactly when `1 <= v <= MAX_TICKS`: one compare per
    // price and a single branch on the hot path.
    let bad = |v: i64| v.wrapping_sub(1) as u64 >= MAX_TICKS as u64;
    // With `low <= close <= high`, `low >= 1` and `high <= MAX_TICKS` put all three in range:
    // the same verdict as checking each price, with two compares fewer.
    !(bad(o) | (l < 1) | (h > MAX_TICKS) | (x < l) | (x > h))
}

/// Out of line: flash matters more than speed on a path that only runs for a bad candle.
#[cold]
#[inline(never)]
fn price_error(o: i64, h: i64, l: i64, x: i64) -> CandleError {
    if o <= 0 || h <= 0 || l <= 0 || x <= 0 {
        CandleError::NonPositive
    } else if o > MAX_TICKS || h > MAX_TICKS || l > MAX_TICKS || x > MAX_TICKS {
        CandleError::TooLarge
    } else {
        CandleError::CloseOutsideRange
    }
}

#[cfg(test)]
#[path = "strategy_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "strategy_edge_tests.rs"]
mod edge_tests;
