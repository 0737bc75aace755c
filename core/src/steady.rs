//! The common case of the step: both windows full, a regime in force, no band, no guard, nothing
//! pending (the strategy is `steady`). A candle one bin after the last one with valid prices
//! then needs none of the checks that cannot change an answer there (the filling windows, the
//! band, the guards' counters), and bars since the last flip need not be counted one by one.
//! [`Strategy::on_candle`] takes such candles here one at a time, and [`run`] a whole slice with
//! the state in locals; anything else goes to the general step.

use crate::candle::Candle;
use crate::crossover::{CrossoverState, Regime};
use crate::num::div_rem;
use crate::price::MAX_TICKS;
use crate::sma::FullRing;
use crate::strategy::{Signal, Step, Strategy, check_prices, narrow_products};

/// Where a strategy stands in its stream of candles. Steadiness rides on the clock's tag, so that
/// the short path asks one question per candle, and a steady strategy without a last candle
/// cannot be written down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Clock {
    /// No candle accepted yet.
    Start,
    /// The close time of the last accepted candle; the next one goes to the general step.
    General(i64),
    /// The close time of the last accepted candle, and the strategy is steady: narrow windows
    /// (so no band), plain guards, nothing pending and a regime in force (so both windows are
    /// full). Derived from the rest of the state (see `Strategy::refresh_steady`), so snapshots
    /// store only the time.
    Steady(i64),
}

impl Clock {
    /// The close time of the last accepted candle, if any.
    #[inline(always)]
    pub(crate) const fn last(self) -> Option<i64> {
        match self {
            Clock::Start => None,
            Clock::General(t) | Clock::Steady(t) => Some(t),
        }
    }
}

impl<const CAP: usize> Strategy<CAP> {
    /// [`on_candle`](Self::on_candle) for a steady strategy: `None`, with nothing changed,
    /// unless the candle is one bin after the last one and its prices are valid.
    #[inline(always)]
    pub(crate) fn steady_step(&mut self, candle: &Candle) -> Option<Step> {
        let t = candle.close_time_ms;
        let bin = self.params.bin_ms;
        let Clock::Steady(last) = &mut self.clock else {
            return None;
        };
        // `last + bin == t` without overflow: exactly a bin later, and later than the last.
        if t.wrapping_sub(*last) != bin {
            return None;
        }
        if !plain_prices(candle) {
            return None;
        }
        if t <= *last {
            return None;
        }
        *last = t;
        let bullish = self.cross.regime() == Some(Regime::Bullish);
        let mut ring = self.smas.full_ring();
        let windows = ring.windows();
        let (lhs, rhs) = push_products(&mut ring, windows, candle.close.0);
        ring.finish();
        // A branch on the regime, not the batch loop's select: here the regime comes from
        // memory, and a predicted branch need not wait for it (measured faster).
        let turned = if bullish { lhs < rhs } else { lhs > rhs };
        if !turned {
            return Some(Step::NoChange);
        }
        let regime = side(!bullish);
        // The signal is built here, from registers: a whole `Step` returned by a call would come
        // back through memory, to be read back wider than it was written.
        Some(Step::Signal(Signal {
            regime,
            target: self.turn(regime, t),
            close_time_ms: t,
        }))
    }

    /// A steady strategy's regime turns over to `regime` on the candle closing at `t`; returns
    /// the new target. Inline: a call that could see the strategy would keep its state in
    /// memory across a caller's loop of candles (measured slower).
    #[inline(always)]
    fn turn(&mut self, regime: Regime, t: i64) -> i64 {
        self.cross.set_plain(Some(regime), 0);
        self.since_ms = t;
        self.target = self.params.target_for(Some(regime), self.qty);
        self.target
    }

    /// The crossover's state with the bars the short path took since `since_ms` counted in:
    /// each was one bin after the one before, so they are the bins between `since_ms` and the
    /// last close.
    pub(crate) fn cross_state(&self) -> CrossoverState {
        let mut st = self.cross.state();
        if let Clock::Steady(last) = self.clock {
            let (bars, _) = div_rem(last.abs_diff(self.since_ms), self.params.bin_ms as u64);
            let bars = u32::try_from(bars).unwrap_or(u32::MAX);
            st.since_flip = st.since_flip.saturating_add(bars);
        }
        st
    }
}

/// Feeds `candles[start..]` while they are on schedule and valid, calling `on_signal` for each
/// signal and counting it in `signals`; returns the index of the first candle not taken (the
/// slice's length when all were). Takes none unless the strategy is steady.
#[inline(always)]
pub(crate) fn run<const CAP: usize>(
    s: &mut Strategy<CAP>,
    candles: &[Candle],
    start: usize,
    signals: &mut usize,
    on_signal: &mut impl FnMut(usize, &Signal),
) -> usize {
    let (Clock::Steady(last), Some(regime)) = (s.clock, s.cross.regime()) else {
        return start;
    };
    // Close times advance by `bin` in the loop: if the whole rest of the slice cannot carry
    // them past `i64::MAX`, the schedule is one add and one compare, with no overflow check.
    let bin = s.params.bin_ms;
    let rest = candles.len().saturating_sub(start);
    if i128::from(last) + i128::from(bin) * rest as i128 > i128::from(i64::MAX) {
        return start;
    }
    let Some(rest) = candles.get(start..) else {
        return start;
    };
    let (mut last, mut bullish) = (last, regime == Regime::Bullish);
    // A regime in force means both windows are full.
    let mut ring = s.smas.full_ring();
    let windows = ring.windows();
    let mut it = rest.iter();
    // The index is worked out from the iterator when needed, which frees a register.
    let at = |it: &core::slice::Iter<'_, Candle>| candles.len() - it.len();
    let mut index = candles.len();
    while let Some(c) = it.next() {
        let t = c.close_time_ms;
        // The exact check: with the state in registers, `plain_prices` measured no faster here.
        if last.wrapping_add(bin) != t || check_prices(c).is_err() {
            index = at(&it) - 1;
            break;
        }
        last = t;
        let (lhs, rhs) = push_products(&mut ring, windows, c.close.0);
        // The sides swapped for a bullish regime: one compare, which the compiler makes a
        // select rather than a branch on the regime.
        let (lhs, rhs) = if bullish { (rhs, lhs) } else { (lhs, rhs) };
        if lhs > rhs {
            bullish = !bullish;
            let regime = side(bullish);
            let target = s.params.target_for(Some(regime), s.qty);
            s.cross.set_plain(Some(regime), 0);
            s.since_ms = t;
            s.target = target;
            *signals += 1;
            let signal = Signal {
                regime,
                target,
                close_time_ms: t,
            };
            on_signal(at(&it) - 1, &signal);
        }
    }
    ring.finish();
    s.clock = Clock::Steady(last);
    index
}

/// The short path's price test: `low` positive, `low <= close <= high`, and the bitwise or of
/// `open − 1` and `high` below `MAX_TICKS` (the or is at least each of them, so both are).
///
/// It implies the exact check ([`check_prices`]): `open` and `high` are then within
/// `1..=MAX_TICKS`, and `low` and `close` lie between. A valid candle it turns down (a `high` of
/// exactly `MAX_TICKS`, or an or that reaches it) goes to the general step, which decides
/// exactly; below 2^39 ticks it turns none down. It costs one compare and one 64-bit constant
/// fewer than the exact check, which counts where the step keeps its state in memory.
#[inline(always)]
pub(crate) fn plain_prices(c: &Candle) -> bool {
    let (o, h, l, x) = (c.open.0, c.high.0, c.low.0, c.close.0);
    !((l < 1) | (x < l) | (x > h) | ((o.wrapping_sub(1) | h) as u64 >= MAX_TICKS as u64))
}

/// Pushes close `x` (ticks, validated) into the full ring of a narrow strategy and returns the
/// cross products the regime is judged on, `(short_sum × long, long_sum × short)`: the short
/// mean is above the long one when the first is larger. Only the opposite side turns a regime
/// over; equal means keep it. The step both [`run`] and [`Strategy::on_candle`] take.
#[inline(always)]
pub(crate) fn push_products<const CAP: usize>(
    ring: &mut FullRing<'_, CAP>,
    (short, long): (i64, i64),
    x: i64,
) -> (i64, i64) {
    let (short_sum, long_sum) = ring.push(x);
    narrow_products(short_sum, short, long_sum, long)
}

/// The regime a flag for "bullish" stands for.
#[inline(always)]
pub(crate) fn side(bullish: bool) -> Regime {
    if bullish {
        Regime::Bullish
    } else {
        Regime::Bearish
    }
}

#[cfg(test)]
#[path = "steady_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "steady_props.rs"]
mod props;
