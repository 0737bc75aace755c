//! The sweep's inner loop: window pairs over the whole series, using shared prefix sums instead of
//! a strategy per pair. It reproduces the core's plain crossover exactly (regime from the sign of
//! `short_sum × long − long_sum × short`, equality holds the regime, an event only on a change,
//! fresh windows after every gap) and the backtest's accounting (orders rounded to lots by the
//! core's `Order::towards`, same fill price, fee and round-trip rules as `Account::fill`), in
//! integers throughout and without allocating.
//!
//! Pairs that share a short window run four at a time ([`run4`]): the newest prefix, the short
//! window's sum and the close are loaded once for four long windows, and the four independent
//! pairs keep the core busy.

use super::spans::Span;
use crate::backtest::order_delta;
use core::ops::{Add, Mul, Sub};

/// The integer type the loop computes in: `i64` when the caller has proven every intermediate
/// fits, `i128` otherwise.
pub(crate) trait Int:
    Copy + Ord + Default + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + From<i64>
{
}
impl Int for i64 {}
impl Int for i128 {}

/// What is shared by every pair: the closes' prefix sums and the gap-free stretches.
pub(crate) struct Shared<'a> {
    /// `prefix[i]` = sum of the first `i` closes.
    pub prefix: &'a [i64],
    /// `[start, end)` of each gap-free stretch, in order, covering every candle.
    pub stretches: &'a [(usize, usize)],
    /// Target when bullish (mode applied, quantity capped).
    pub bull_target: i64,
    /// Target when bearish.
    pub bear_target: i64,
    /// Lot size, for the core's order rounding.
    pub lot: u64,
    /// Fee in parts per million.
    pub fee_ppm: i64,
    /// Both targets are whole lots and at most `i64::MAX / 2` apart from zero: then every
    /// position is 0 or a target, and every order is exactly `target − position` (no rounding
    /// to lots, no overflow), so a trade skips the core's order sizing.
    pub aligned: bool,
}

impl Shared<'_> {
    pub(crate) fn close(&self, i: usize) -> i64 {
        self.prefix[i + 1] - self.prefix[i]
    }

    fn candles(&self) -> usize {
        self.prefix.len() - 1
    }
}

/// One pair's outcome in exact units (see `sim::account::Money`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Outcome<T> {
    pub pnl: T,
    pub max_drawdown: T,
    pub fees: T,
    pub realised: T,
    pub fills: u32,
    pub flips: u32,
    pub round_trips: u32,
    pub wins: u32,
    pub exposed_bars: u32,
    pub signals: u32,
}

const SCALE: i64 = 1_000_000;

/// Whether both targets are whole lots and at most `i64::MAX / 2` from zero (see
/// [`Shared::aligned`]).
pub(crate) fn whole_lots(targets: [i64; 2], lot: u64) -> bool {
    targets.iter().all(|t| {
        t.unsigned_abs() <= i64::MAX as u64 / 2 && t.unsigned_abs().checked_rem(lot) == Some(0)
    })
}

/// One pair's running state.
#[derive(Clone, Copy)]
pub(crate) struct Lane<T> {
    long: usize,
    l_t: T,
    s_t: T,
    bull: bool,
    pos: i64,
    /// `pos × SCALE`.
    pos_scaled: T,
    cash: T,
    peak: T,
    trip_start: T,
    /// Candle where the position last changed.
    changed_at: usize,
    /// First candle of the current stretch not yet processed by this lane.
    next: usize,
    o: Outcome<T>,
}

impl<T: Int> Lane<T> {
    pub(crate) fn new(short: usize, long: usize) -> Self {
        Lane {
            long,
            l_t: T::from(long as i64),
            s_t: T::from(short as i64),
            bull: false,
            pos: 0,
            pos_scaled: T::default(),
            cash: T::default(),
            peak: T::default(),
            trip_start: T::default(),
            changed_at: 0,
            next: 0,
            o: Outcome::default(),
        }
    }

    /// Marks the equity at a close and updates the drawdown, without branches (the peak moves
    /// unpredictably while a position is open).
    #[inline(always)]
    pub(crate) fn mark(&mut self, c: i64) {
        let eq = self.cash + self.pos_scaled * T::from(c);
        self.peak = self.peak.max(eq);
        self.o.max_drawdown = self.o.max_drawdown.max(self.peak - eq);
    }

    /// Marks every close of a range the position does not change in, given the range's
    /// [`Span`]: the same peak and drawdown as [`Lane::mark`] on each close in turn. With
    /// `q = position × SCALE` the equity is `cash + q × close`, so its highest and lowest values
    /// are at the range's extreme closes, and its largest fall inside the range is `q` times the
    /// closes' largest fall (long) or `|q|` times their largest rise (short).
    pub(crate) fn mark_span(&mut self, s: &Span) {
        let q = self.pos_scaled;
        let zero = T::default();
        // Flat (`q = 0`) takes the first branch: every figure is then the cash.
        let (hi, lo, inner) = if q >= zero {
            (s.max, s.min, q * T::from(s.fall))
        } else {
            (s.min, s.max, (zero - q) * T::from(s.rise))
        };
        let top = self.cash + q * T::from(hi);
        let bottom = self.cash + q * T::from(lo);
        self.o.max_drawdown = self.o.max_drawdown.max(self.peak - bottom).max(inner);
        self.peak = self.peak.max(top);
    }

    /// The crossover test on a candle where the regime is already set; trades on an event.
    #[inline(always)]
    fn step(&mut self, sh: &Shared<'_>, short_sum: i64, long_sum: i64, c: i64, i: usize) {
        let lhs = T::from(short_sum) * self.l_t;
        let rhs = T::from(long_sum) * self.s_t;
        let (a, b) = if self.bull { (lhs, rhs) } else { (rhs, lhs) };
        if a < b {
            self.bull = !self.bull;
            self.trade(sh, c, i);
        }
        self.mark(c);
    }

    /// Moves the position to the regime's target at close `c` of candle `i`: the rules of
    /// `Account::fill`, in `T`.
    #[cold]
    #[inline(never)]
    pub(crate) fn trade(&mut self, sh: &Shared<'_>, c: i64, i: usize) {
        let o = &mut self.o;
        o.signals += 1;
        let target = if self.bull {
            sh.bull_target
        } else {
            sh.bear_target
        };
        let delta = if sh.aligned {
            target - self.pos
        } else {
            order_delta(target, self.pos, sh.lot)
        };
        if delta == 0 {
            return;
        }
        let px = T::from(c);
        let ppm = T::from(sh.fee_ppm);
        let fee_of = |q: i64| T::from(q) * px * ppm;
        let before = self.cash + self.pos_scaled * px;
        let (p0, p1) = (self.pos, self.pos + delta);
        if p0 != 0 && (p1 == 0 || (p0 > 0) != (p1 > 0)) {
            let after_close = before - fee_of(p0.abs());
            let profit = after_close - self.trip_start;
            o.realised = o.realised + profit;
            o.round_trips += 1;
            o.wins += u32::from(profit > T::default());
            self.trip_start = after_close;
            o.flips += u32::from(p1 != 0);
        } else if p0 == 0 {
            self.trip_start = before;
        }
        let fee = fee_of(delta.abs());
        self.cash = self.cash - T::from(delta) * px * T::from(SCALE) - fee;
        o.fees = o.fees + fee;
        o.fills += 1;
        if p0 != 0 {
            o.exposed_bars += (i - self.changed_at) as u32;
        }
        self.changed_at = i;
        self.pos = p1;
        self.pos_scaled = T::from(p1) * T::from(SCALE);
    }

    /// Starts a stretch on its own: warm-up marks, then candles until the first regime. Leaves
    /// `next` at the first candle that needs the ordinary [`Lane::step`].
    fn begin(&mut self, sh: &Shared<'_>, short: usize, start: usize, end: usize) {
        let p = sh.prefix;
        let ready = (start + self.long - 1).min(end);
        for i in start..ready {
            self.mark(sh.close(i));
        }
        let mut i = ready;
        while i < end {
            let c = sh.close(i);
            let lhs = T::from(p[i + 1] - p[i + 1 - short]) * self.l_t;
            let rhs = T::from(p[i + 1] - p[i + 1 - self.long]) * self.s_t;
            i += 1;
            if lhs != rhs {
                self.bull = lhs > rhs;
                self.trade(sh, c, i - 1);
                self.mark(c);
                break;
            }
            self.mark(c);
        }
        self.next = i;
    }

    /// Runs this lane alone from `next` to `to`.
    fn run_alone(&mut self, sh: &Shared<'_>, short: usize, to: usize) {
        let from = self.next;
        if from >= to {
            // Nothing left here (or the stretch was too short to fill the long window).
            self.next = self.next.max(to);
            return;
        }
        let p = sh.prefix;
        // Walked together so the loop has no bounds checks; the close is the difference of two
        // consecutive prefixes.
        let tops = &p[from + 1..to + 1];
        let shorts = &p[from + 1 - short..to + 1 - short];
        let longs = &p[from + 1 - self.long..to + 1 - self.long];
        let mut prev = p[from];
        for (k, ((&top, &sb), &lb)) in tops.iter().zip(shorts).zip(longs).enumerate() {
            let c = top - prev;
            prev = top;
            self.step(sh, top - sb, top - lb, c, from + k);
        }
        self.next = to;
    }

    /// Sets the regime the next [`Lane::trade`] moves the position to.
    pub(crate) fn set_regime(&mut self, bull: bool) {
        self.bull = bull;
    }

    pub(crate) fn finish(mut self, sh: &Shared<'_>) -> Outcome<T> {
        let n = sh.candles();
        if self.pos != 0 {
            self.o.exposed_bars += (n - self.changed_at) as u32;
        }
        self.o.pnl = if n == 0 {
            T::default()
        } else {
            self.cash + self.pos_scaled * T::from(sh.close(n - 1))
        };
        self.o
    }
}

/// Runs one pair.
pub(crate) fn run<T: Int>(sh: &Shared<'_>, short: usize, long: usize) -> Outcome<T> {
    let mut lane = Lane::<T>::new(short, long);
    for &(start, end) in sh.stretches {
        lane.begin(sh, short, start, end);
        lane.run_alone(sh, short, end);
    }
    lane.finish(sh)
}

/// Runs four pairs sharing `short`, together where all four are past their warm-up.
pub(crate) fn run4<T: Int>(sh: &Shared<'_>, short: usize, longs: [usize; 4]) -> [Outcome<T>; 4] {
    let mut lanes = longs.map(|l| Lane::<T>::new(short, l));
    let p = sh.prefix;
    for &(start, end) in sh.stretches {
        for lane in &mut lanes {
            lane.begin(sh, short, start, end);
        }
        let from = lanes.iter().map(|l| l.next).max().unwrap_or(end);
        for lane in &mut lanes {
            lane.run_alone(sh, short, from);
        }
        if from >= end {
            continue;
        }
        let tops = &p[from + 1..end + 1];
        let shorts = &p[from + 1 - short..end + 1 - short];
        let l0 = &p[from + 1 - longs[0]..end + 1 - longs[0]];
        let l1 = &p[from + 1 - longs[1]..end + 1 - longs[1]];
        let l2 = &p[from + 1 - longs[2]..end + 1 - longs[2]];
        let l3 = &p[from + 1 - longs[3]..end + 1 - longs[3]];
        let mut prev = p[from];
        let rows = tops.iter().zip(shorts).zip(l0).zip(l1).zip(l2).zip(l3);
        for (k, (((((&top, &sb), &b0), &b1), &b2), &b3)) in rows.enumerate() {
            let c = top - prev;
            prev = top;
            let s = top - sb;
            let i = from + k;
            let [a, b, cc, d] = &mut lanes;
            a.step(sh, s, top - b0, c, i);
            b.step(sh, s, top - b1, c, i);
            cc.step(sh, s, top - b2, c, i);
            d.step(sh, s, top - b3, c, i);
        }
        for lane in &mut lanes {
            lane.next = end;
        }
    }
    lanes.map(|l| l.finish(sh))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::spans::Spans;
    use proptest::prelude::*;

    proptest! {
        /// Marking a range in one go from its span equals marking its closes one by one, for
        /// long, short and flat positions and any earlier peak and drawdown.
        #[test]
        fn a_span_marks_like_its_closes(
            closes in prop::collection::vec(1i64..400, 1..60),
            pos in -3i64..=3,
            cash in -2_000_000_000i64..2_000_000_000,
            peak_above in 0i64..500_000_000,
            dd in 0i64..500_000_000,
        ) {
            let mut lane = Lane::<i64>::new(2, 5);
            lane.pos = pos * 1000;
            lane.pos_scaled = lane.pos * SCALE;
            lane.cash = cash;
            lane.peak = cash + lane.pos_scaled * closes[0] + peak_above;
            lane.o.max_drawdown = dd;
            let mut one_by_one = lane;
            for &c in &closes {
                one_by_one.mark(c);
            }
            let span = Spans::new(&closes).over(0, closes.len());
            prop_assert!(span.is_some());
            lane.mark_span(&span.unwrap_or_default());
            prop_assert_eq!(lane.peak, one_by_one.peak);
            prop_assert_eq!(lane.o.max_drawdown, one_by_one.o.max_drawdown);
        }
    }
}
