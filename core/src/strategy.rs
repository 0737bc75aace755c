//! The strategy: validated parameters plus state; candles in, target position and orders out.

use crate::candle::Candle;
use crate::crossover::{Crossover, Guards, MAX_HYSTERESIS_BP, Regime};
use crate::order::{Order, Side};
use crate::price::{MAX_TICKS, MAX_WINDOW};
use crate::sma::{Mean, SmaPair};
use core::fmt;
use serde::{Deserialize, Serialize};

/// Which positions the strategy may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mode {
    /// Long in a bullish regime, short in a bearish one.
    LongShort,
    /// Long in a bullish regime, flat in a bearish one.
    LongOnly,
    /// Flat in a bullish regime, short in a bearish one.
    ShortOnly,
}

/// Strategy configuration. Checked once by [`Strategy::new`] (and again when a snapshot is
/// decoded); a `Strategy` never holds invalid parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Params {
    /// Short window in candles: `1 <= short_window < long_window`.
    pub short_window: u32,
    /// Long window in candles: `long_window <= CAP`.
    pub long_window: u32,
    /// Which sides the strategy trades.
    pub mode: Mode,
    /// Contracts held when in the market; a positive multiple of `lot_size`.
    pub qty: u64,
    /// The exchange's lot size in contracts; positive.
    pub lot_size: u64,
    /// The largest absolute position; `qty` is capped to it (rounded down to the lot size).
    pub max_position: u64,
    /// Candle spacing in milliseconds; positive.
    pub bin_ms: i64,
    /// Whipsaw guards (all off by default).
    pub guards: Guards,
}

/// Why parameters were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamsError {
    /// The short window is 0.
    ShortWindowZero,
    /// The short window is not below the long window.
    ShortNotBelowLong {
        /// Short window.
        short: u32,
        /// Long window.
        long: u32,
    },
    /// The long window does not fit the strategy's buffer.
    LongAboveCapacity {
        /// Long window.
        long: u32,
        /// The buffer capacity (`CAP`).
        capacity: usize,
    },
    /// The lot size is 0.
    LotSizeZero,
    /// `qty` is 0 or not a multiple of the lot size.
    QtyNotPositiveLotMultiple,
    /// `qty` or `max_position` does not fit a signed 64-bit position.
    TooLarge,
    /// `max_position` is below one lot: the strategy could never hold anything.
    MaxPositionBelowLot,
    /// `bin_ms` is not positive.
    BinNotPositive,
    /// The hysteresis band is wider than [`MAX_HYSTERESIS_BP`].
    HysteresisTooWide,
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamsError::ShortWindowZero => f.write_str("short window must be at least 1"),
            ParamsError::ShortNotBelowLong { short, long } => write!(
                f,
                "short window ({short}) must be smaller than the long window ({long})"
            ),
            ParamsError::LongAboveCapacity { long, capacity } => write!(
                f,
                "long window ({long}) exceeds the buffer capacity ({capacity})"
            ),
            ParamsError::LotSizeZero => f.write_str("lot size must be positive"),
            ParamsError::QtyNotPositiveLotMultiple => {
                f.write_str("quantity must be a positive multiple of the lot size")
            }
            ParamsError::TooLarge => f.write_str("quantity or max position is too large"),
            ParamsError::MaxPositionBelowLot => {
                f.write_str("max position must be at least one lot")
            }
            ParamsError::BinNotPositive => f.write_str("bin length must be positive"),
            ParamsError::HysteresisTooWide => write!(
                f,
                "hysteresis band must be at most {MAX_HYSTERESIS_BP} basis points"
            ),
        }
    }
}

impl core::error::Error for ParamsError {}

impl Params {
    /// Checks every rule against a buffer of `capacity` closes and returns the contracts held in
    /// the market (`qty` capped to `max_position`, rounded down to the lot size).
    pub fn validate(&self, capacity: usize) -> Result<u64, ParamsError> {
        if self.short_window == 0 {
            return Err(ParamsError::ShortWindowZero);
        }
        if self.short_window >= self.long_window {
            return Err(ParamsError::ShortNotBelowLong {
                short: self.short_window,
                long: self.long_window,
            });
        }
        if self.long_window as usize > capacity || self.long_window as usize > MAX_WINDOW {
            return Err(ParamsError::LongAboveCapacity {
                long: self.long_window,
                capacity,
            });
        }
        if self.lot_size == 0 {
            return Err(ParamsError::LotSizeZero);
        }
        if self.qty == 0 || self.qty % self.lot_size != 0 {
            return Err(ParamsError::QtyNotPositiveLotMultiple);
        }
        if self.qty > i64::MAX as u64 || self.max_position > i64::MAX as u64 {
            return Err(ParamsError::TooLarge);
        }
        if self.max_position < self.lot_size {
            return Err(ParamsError::MaxPositionBelowLot);
        }
        if self.bin_ms <= 0 {
            return Err(ParamsError::BinNotPositive);
        }
        if self.guards.hysteresis_bp > MAX_HYSTERESIS_BP {
            return Err(ParamsError::HysteresisTooWide);
        }
        let cap = self.max_position - self.max_position % self.lot_size;
        Ok(self.qty.min(cap))
    }

    /// The target position for a regime under these parameters, given the capped quantity.
    const fn target_for(&self, regime: Option<Regime>, qty: i64) -> i64 {
        match (regime, self.mode) {
            (None, _) => 0,
            (Some(Regime::Bullish), Mode::LongShort | Mode::LongOnly) => qty,
            (Some(Regime::Bearish), Mode::LongShort | Mode::ShortOnly) => -qty,
            (Some(_), _) => 0,
        }
    }
}

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
    /// Accepted; the regime did not change.
    NoChange,
    /// Accepted; the regime changed.
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
/// No heap; `size_of` is about `8 × CAP` bytes plus a few words.
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
    pub(crate) last_close_ms: Option<i64>,
    pub(crate) target: i64,
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
            last_close_ms: None,
            target: 0,
        })
    }

    /// The parameters.
    pub const fn params(&self) -> &Params {
        &self.params
    }

    /// Takes the next completed candle.
    ///
    /// On `Err` nothing changed. A candle equal in time and close to the last accepted one is a
    /// [`Step::Duplicate`] no-op (pollers re-read the last bucket).
    #[inline]
    pub fn on_candle(&mut self, candle: &Candle) -> Result<Step, CandleError> {
        let t = candle.close_time_ms;
        let close = candle.close.0;
        if let Some(last) = self.last_close_ms {
            // The hot path is one compare; everything else is the rare, out-of-line error path.
            if last.checked_add(self.params.bin_ms) != Some(t) {
                return self.off_schedule(last, candle);
            }
        }
        check_prices(candle)?;
        self.smas.push(close);
        self.last_close_ms = Some(t);
        let Some((short, long)) = self.smas.means() else {
            return Ok(Step::NotReady);
        };
        match self.cross.update(short, long) {
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

    /// A candle that is not exactly one bin after the last: duplicate, older, gap or misaligned.
    #[cold]
    #[inline(never)]
    fn off_schedule(&self, last: i64, candle: &Candle) -> Result<Step, CandleError> {
        let got = candle.close_time_ms;
        if got == last {
            check_prices(candle)?;
            return if Some(candle.close.0) == self.smas.last() {
                Ok(Step::Duplicate)
            } else {
                Err(CandleError::Conflict { close_time_ms: got })
            };
        }
        if got < last {
            return Err(CandleError::Older {
                last_ms: last,
                got_ms: got,
            });
        }
        let (bars, rem) = div_rem(got.abs_diff(last), self.params.bin_ms as u64);
        if rem != 0 {
            Err(CandleError::Misaligned {
                last_ms: last,
                got_ms: got,
                bin_ms: self.params.bin_ms,
            })
        } else {
            Err(CandleError::Gap {
                last_ms: last,
                got_ms: got,
                missing: bars - 1,
            })
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
        let diff = i128::from(self.target) - i128::from(current_position);
        // |target| <= i64::MAX, so |diff| < 2^64.
        let dist = diff.unsigned_abs() as u64;
        let lot = self.params.lot_size;
        let qty = dist - dist % lot;
        if qty == 0 {
            return None;
        }
        let side = if diff > 0 { Side::Buy } else { Side::Sell };
        let reduce_only = match side {
            Side::Buy => current_position < 0 && qty <= current_position.unsigned_abs(),
            Side::Sell => current_position > 0 && qty <= current_position.unsigned_abs(),
        };
        Some(Order {
            side,
            qty,
            reduce_only,
        })
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
        self.last_close_ms
    }

    /// Both windows are full: every further candle is compared.
    pub fn is_ready(&self) -> bool {
        self.smas.len() >= self.params.long_window as usize
    }
}

/// Positive, at most [`MAX_TICKS`], and `low <= close <= high`. `open` is only range-checked:
/// BitMEX stamps the previous close there, which may lie outside the bucket's range.
#[inline(always)]
fn check_prices(c: &Candle) -> Result<(), CandleError> {
    let (o, h, l, x) = (c.open.0, c.high.0, c.low.0, c.close.0);
    if o <= 0 || h <= 0 || l <= 0 || x <= 0 {
        return Err(CandleError::NonPositive);
    }
    if o > MAX_TICKS || h > MAX_TICKS || l > MAX_TICKS || x > MAX_TICKS {
        return Err(CandleError::TooLarge);
    }
    if x < l || x > h {
        return Err(CandleError::CloseOutsideRange);
    }
    Ok(())
}

/// Shift-and-subtract division. The error path needs it, and calling the compiler's 64-bit
/// division would link a large soft routine into Cortex-M builds for a path that almost never runs.
/// The loop counter goes through `black_box` so that the optimiser keeps one small loop instead of
/// unrolling it (unrolled, it tripled the error path's flash size on Cortex-M).
#[inline(never)]
fn div_rem(n: u64, d: u64) -> (u64, u64) {
    if d == 0 {
        return (0, n);
    }
    let (mut q, mut r) = (0u64, 0u64);
    let mut i = u64::BITS - n.leading_zeros();
    while i > 0 {
        i = core::hint::black_box(i) - 1;
        r = (r << 1) | ((n >> i) & 1);
        q <<= 1;
        if r >= d {
            r -= d;
            q |= 1;
        }
    }
    (q, r)
}

#[cfg(test)]
#[path = "strategy_tests.rs"]
mod tests;
