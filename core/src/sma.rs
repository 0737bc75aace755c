//! Rolling simple moving averages over a fixed ring buffer, with exact integer running sums.
//!
//! Two shapes share one idea (subtract the evicted close, add the new one): [`RollingSma`] is a
//! single average; the strategy's `SmaPair` keeps the short and the long average of a crossover in
//! ONE buffer, because the short window's closes are always the newest closes of the long window.
//! That halves the memory of the strategy and the stores per candle.
//!
//! Sums use wrapping arithmetic on purpose: modular addition is exact whenever the true sum fits in
//! `i64`, which [`MAX_TICKS`](crate::price::MAX_TICKS) × [`MAX_WINDOW`] guarantees for validated
//! prices, and it keeps overflow checks (and their panics) out of the hot path.

use crate::price::{MAX_WINDOW, Price};
use core::fmt;

/// An exact mean as a rational number: the sum of `n` prices, in ticks.
///
/// Comparing two means never divides: `a.sum * b.n` against `b.sum * a.n` in `i128`.
///
/// ```
/// use maestro_core::{Mean, TickSize};
/// let m = Mean { sum: 301, n: 2 };
/// assert_eq!(m.to_f64(TickSize::CENT), 1.505);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mean {
    /// Sum of the prices in the window, in ticks.
    pub sum: i64,
    /// Number of prices in the window (the window length); never 0.
    pub n: u32,
}

impl Mean {
    /// The mean in quote currency, for display and charts only (never for decisions).
    pub fn to_f64(self, tick: crate::TickSize) -> f64 {
        Price(self.sum).to_f64(tick) / f64::from(self.n)
    }
}

/// A window length that is zero or larger than the buffer capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowError {
    /// The window asked for.
    pub window: usize,
    /// The capacity of the buffer.
    pub capacity: usize,
}

impl fmt::Display for WindowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "window {} is outside 1..={} (the buffer's capacity)",
            self.window, self.capacity
        )
    }
}

impl core::error::Error for WindowError {}

/// Index `back` slots behind `head` in a ring of `CAP` slots, for `1 <= back <= CAP`.
///
/// A compare-and-add instead of `%`: the modulo would be a division on every candle.
#[inline(always)]
const fn behind<const CAP: usize>(head: usize, back: usize) -> usize {
    if CAP.is_power_of_two() {
        head.wrapping_sub(back) & (CAP - 1)
    } else if head >= back {
        head - back
    } else {
        head + CAP - back
    }
}

/// The next slot after `head` in a ring of `CAP` slots.
#[inline(always)]
const fn next<const CAP: usize>(head: usize) -> usize {
    if CAP.is_power_of_two() {
        // Decided at compile time: a mask is one operation on the update's dependency chain.
        (head + 1) & (CAP - 1)
    } else if head + 1 == CAP {
        0
    } else {
        head + 1
    }
}

/// The head after one push in a ring of `CAP` slots. For a power-of-two `CAP` the head runs free
/// (wrapping): every index masks it anyway ([`slot`], [`behind`]), so the increment needs no mask
/// of its own, one operation fewer on the dependency chain from one candle's head to the next.
#[inline(always)]
const fn advance<const CAP: usize>(head: usize) -> usize {
    if CAP.is_power_of_two() {
        head.wrapping_add(1)
    } else {
        next::<CAP>(head)
    }
}

/// `i` as a slot index; for a power-of-two `CAP` the mask lets the compiler drop the bounds check.
#[inline(always)]
const fn slot<const CAP: usize>(i: usize) -> usize {
    if CAP.is_power_of_two() {
        i & (CAP - 1)
    } else {
        i
    }
}

/// A simple moving average of the last `window` prices over a ring buffer of `CAP` slots.
///
/// O(1) per update, no allocation, no division. Returns `None` until `window` prices were pushed.
///
/// ```
/// use maestro_core::{Mean, Price, RollingSma};
/// let mut sma = RollingSma::<8>::new(3).unwrap();
/// assert_eq!(sma.push(Price(10)), None);
/// assert_eq!(sma.push(Price(20)), None);
/// assert_eq!(sma.push(Price(30)), Some(Mean { sum: 60, n: 3 }));
/// assert_eq!(sma.push(Price(40)), Some(Mean { sum: 90, n: 3 }));
/// assert!(RollingSma::<8>::new(9).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct RollingSma<const CAP: usize> {
    buf: [i64; CAP],
    head: usize,
    /// The oldest slot of the window once it is full (`head - window`, wrapped).
    tail: usize,
    len: usize,
    window: usize,
    sum: i64,
}

impl<const CAP: usize> RollingSma<CAP> {
    const CAP_OK: () = assert!(
        CAP > 0 && CAP <= MAX_WINDOW,
        "CAP must be in 1..=MAX_WINDOW"
    );

    /// An empty average over `window` prices; `window` must lie in `1..=CAP`.
    pub const fn new(window: usize) -> Result<Self, WindowError> {
        #[allow(clippy::let_unit_value)]
        let () = Self::CAP_OK;
        if window == 0 || window > CAP {
            return Err(WindowError {
                window,
                capacity: CAP,
            });
        }
        Ok(RollingSma {
            buf: [0; CAP],
            head: 0,
            tail: 0,
            len: 0,
            window,
            sum: 0,
        })
    }

    /// Adds a price and returns the mean of the last `window` prices once there are that many.
    ///
    /// Exact for prices in `1..=MAX_TICKS`; larger prices may wrap the running sum.
    #[inline]
    pub fn push(&mut self, price: Price) -> Option<Mean> {
        let x = price.0;
        let head = self.head;
        if self.len >= self.window {
            // Steady state: the evicted slot trails the head by `window`.
            let old = self.buf[slot::<CAP>(self.tail)];
            self.buf[slot::<CAP>(head)] = x;
            self.sum = self.sum.wrapping_add(x.wrapping_sub(old));
            self.head = next::<CAP>(head);
            self.tail = next::<CAP>(self.tail);
            Some(Mean {
                sum: self.sum,
                n: self.window as u32,
            })
        } else {
            self.buf[head] = x;
            self.sum = self.sum.wrapping_add(x);
            self.head = next::<CAP>(head);
            self.len += 1;
            self.mean()
        }
    }

    /// The current mean, or `None` while fewer than `window` prices were pushed.
    #[inline]
    pub fn mean(&self) -> Option<Mean> {
        if self.len >= self.window {
            Some(Mean {
                sum: self.sum,
                n: self.window as u32,
            })
        } else {
            None
        }
    }

    /// The window length.
    pub const fn window(&self) -> usize {
        self.window
    }

    /// How many of the window's prices are held (`window` once ready).
    pub const fn len(&self) -> usize {
        self.len
    }

    /// No price pushed yet.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The window is full and [`mean`](Self::mean) is `Some`.
    pub const fn is_ready(&self) -> bool {
        self.len >= self.window
    }

    /// Forgets every price, keeping the window.
    pub fn clear(&mut self) {
        self.head = 0;
        self.tail = 0;
        self.len = 0;
        self.sum = 0;
    }
}

/// The short and the long moving average of a crossover, sharing one ring buffer.
///
/// Invariants (checked again when a snapshot is decoded): `1 <= short < long <= CAP`,
/// `len <= long`, `long_sum` is the sum of the newest `len` closes and `short_sum` the sum of the
/// newest `min(len, short)` closes.
#[derive(Clone, Debug)]
pub(crate) struct SmaPair<const CAP: usize> {
    buf: [i64; CAP],
    /// The next slot to write: below `CAP`, or for a power-of-two `CAP` running free, masked
    /// wherever it indexes (see [`advance`]).
    head: usize,
    len: usize,
    short: usize,
    long: usize,
    short_sum: i64,
    long_sum: i64,
}

impl<const CAP: usize> SmaPair<CAP> {
    const CAP_OK: () = assert!(
        CAP > 0 && CAP <= MAX_WINDOW,
        "CAP must be in 1..=MAX_WINDOW"
    );

    /// Empty pair; the caller has validated `1 <= short < long <= CAP`.
    pub(crate) const fn new(short: usize, long: usize) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::CAP_OK;
        SmaPair {
            buf: [0; CAP],
            head: 0,
            len: 0,
            short,
            long,
            short_sum: 0,
            long_sum: 0,
        }
    }

    /// Rebuilds a pair from its closes, oldest first, recomputing both sums.
    /// `None` when the closes do not fit the windows.
    pub(crate) fn from_closes(short: usize, long: usize, closes: &[i64]) -> Option<Self> {
        if short == 0 || short >= long || long > CAP || closes.len() > long {
            return None;
        }
        let mut pair = Self::new(short, long);
        for &c in closes {
            pair.push(c);
        }
        Some(pair)
    }

    /// Adds a close (ticks, already validated) and returns both means once the long window is
    /// full: two loads, one store and two adds, the same while the windows fill as after.
    ///
    /// No branch for the filling windows: the buffer starts zeroed and fills from slot 0, so
    /// until a window is full the slot it evicts has never been written and subtracts 0. Every
    /// pair starts that way (`new`, and `from_closes` through `new`).
    #[inline(always)]
    pub(crate) fn push_means(&mut self, x: i64) -> Option<(Mean, Mean)> {
        self.push(x);
        self.means()
    }

    /// Adds a close (ticks, already validated).
    #[inline(always)]
    pub(crate) fn push(&mut self, x: i64) {
        // `slot` masks the head for a power-of-two `CAP`, so the store needs no bounds check.
        let head = slot::<CAP>(self.head);
        let ds = x.wrapping_sub(self.buf[behind::<CAP>(head, self.short)]);
        let dl = x.wrapping_sub(self.buf[behind::<CAP>(head, self.long)]);
        self.buf[head] = x;
        self.short_sum = self.short_sum.wrapping_add(ds);
        self.long_sum = self.long_sum.wrapping_add(dl);
        self.head = advance::<CAP>(self.head);
        if self.len < self.long {
            self.len += 1;
        }
    }

    /// The ring with its head and sums held apart, for a loop over candles once the long window
    /// is full (the caller knows: a regime in force means full windows, for a fresh strategy as
    /// for a restored one). [`FullRing::finish`] stores them back.
    #[inline(always)]
    pub(crate) fn full_ring(&mut self) -> FullRing<'_, CAP> {
        debug_assert!(self.len >= self.long, "the long window is not full");
        FullRing {
            head: self.head,
            short_sum: self.short_sum,
            long_sum: self.long_sum,
            pair: self,
        }
    }

    /// Both means once the long window is full (the short one is full by then too).
    #[inline(always)]
    pub(crate) fn means(&self) -> Option<(Mean, Mean)> {
        if self.len >= self.long {
            Some((self.short_mean_unchecked(), self.long_mean_unchecked()))
        } else {
            None
        }
    }

    #[inline(always)]
    fn short_mean_unchecked(&self) -> Mean {
        Mean {
            sum: self.short_sum,
            n: self.short as u32,
        }
    }

    #[inline(always)]
    fn long_mean_unchecked(&self) -> Mean {
        Mean {
            sum: self.long_sum,
            n: self.long as u32,
        }
    }

    /// The short mean once its window is full.
    pub(crate) fn short_mean(&self) -> Option<Mean> {
        (self.len >= self.short).then(|| self.short_mean_unchecked())
    }

    /// The long mean once its window is full.
    pub(crate) fn long_mean(&self) -> Option<Mean> {
        (self.len >= self.long).then(|| self.long_mean_unchecked())
    }

    /// The newest close, if any.
    #[inline(always)]
    pub(crate) fn last(&self) -> Option<i64> {
        if self.len == 0 {
            None
        } else {
            Some(self.buf[behind::<CAP>(self.head, 1)])
        }
    }

    /// Both running sums as stored (the short one is partial while its window fills).
    pub(crate) fn sums(&self) -> (i64, i64) {
        (self.short_sum, self.long_sum)
    }

    /// Number of closes held (at most the long window).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The held closes, oldest first.
    pub(crate) fn closes(&self) -> impl ExactSizeIterator<Item = i64> + '_ {
        let start = behind::<CAP>(self.head, self.len.max(1));
        let start = if self.len == 0 { self.head } else { start };
        (0..self.len).map(move |i| {
            let j = start + i;
            self.buf[if j >= CAP { j - CAP } else { j }]
        })
    }
}

/// A full [`SmaPair`] whose head and sums live in the loop's locals (registers), not in the
/// pair: the length no longer changes and need not be looked at, and nothing the loop calls can
/// see the pair, so the compiler has no reason to store the sums back on every candle.
pub(crate) struct FullRing<'a, const CAP: usize> {
    pair: &'a mut SmaPair<CAP>,
    /// The pair's head, advanced as the pair's own push does (see [`advance`]).
    head: usize,
    short_sum: i64,
    long_sum: i64,
}

impl<const CAP: usize> FullRing<'_, CAP> {
    /// The pair's push for a full pair: both sums after adding close `x` (ticks, validated).
    #[inline(always)]
    pub(crate) fn push(&mut self, x: i64) -> (i64, i64) {
        let buf = &mut self.pair.buf;
        let head = slot::<CAP>(self.head);
        let ds = x.wrapping_sub(buf[behind::<CAP>(head, self.pair.short)]);
        let dl = x.wrapping_sub(buf[behind::<CAP>(head, self.pair.long)]);
        buf[head] = x;
        self.short_sum = self.short_sum.wrapping_add(ds);
        self.long_sum = self.long_sum.wrapping_add(dl);
        self.head = advance::<CAP>(self.head);
        (self.short_sum, self.long_sum)
    }

    /// Both sums, as [`push`](Self::push) returns them.
    #[inline(always)]
    pub(crate) fn sums(&self) -> (i64, i64) {
        (self.short_sum, self.long_sum)
    }

    /// Sets both sums, for a loop that worked them out from closes it holds itself (the ones
    /// they evict included); the closes go into the ring with [`record`](Self::record).
    #[inline(always)]
    pub(crate) fn set_sums(&mut self, (short_sum, long_sum): (i64, i64)) {
        (self.short_sum, self.long_sum) = (short_sum, long_sum);
    }

    /// Writes `closes`, already counted in the sums (see [`set_sums`](Self::set_sums)), into the
    /// ring in order, as [`push`](Self::push) would have. Only the last `long` of them are
    /// written: the pair never reads a slot further back (evictions, [`SmaPair::last`] and
    /// [`SmaPair::closes`] all look within the long window), so at most `long` stores.
    #[inline(always)]
    pub(crate) fn record(&mut self, closes: impl ExactSizeIterator<Item = i64>) {
        let skip = closes.len().saturating_sub(self.pair.long);
        self.head = if CAP.is_power_of_two() {
            self.head.wrapping_add(skip)
        } else {
            // `head < CAP` here; a constant divisor is a multiply, not a division.
            let h = self.head + skip % CAP;
            if h >= CAP { h - CAP } else { h }
        };
        for x in closes.skip(skip) {
            self.pair.buf[slot::<CAP>(self.head)] = x;
            self.head = advance::<CAP>(self.head);
        }
    }

    /// Both window lengths, `(short, long)`, as the cross products take them (windows are at
    /// most `MAX_WINDOW`, so the conversion is exact).
    #[inline(always)]
    pub(crate) fn windows(&self) -> (i64, i64) {
        (self.pair.short as i64, self.pair.long as i64)
    }

    /// Stores the head and the sums back into the pair.
    #[inline(always)]
    pub(crate) fn finish(self) {
        self.pair.head = self.head;
        self.pair.short_sum = self.short_sum;
        self.pair.long_sum = self.long_sum;
    }
}

#[cfg(test)]
#[path = "sma_tests.rs"]
mod tests;
