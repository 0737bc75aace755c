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
use crate::strategy::{Signal, Step, Strategy, narrow_products, valid_prices};

/// Where a strategy stands in its stream of candles: before the first candle, after one (the
/// next goes to the general step), or steady (narrow windows, so no band; plain guards, nothing
/// pending and a regime in force, so both windows are full). Steadiness is derived from the rest
/// of the state (see `Strategy::refresh_steady`), so snapshots store only the time.
///
/// Two words, read by the short path without asking which of the three it is: `step` is the bin
/// while steady, 0 after a candle and -1 before the first, and the short path takes a candle
/// closing at `t` only when `t - last == step` and `t > last`, which the last two never pass.
/// One load and one compare fewer per candle than a tag to look at first (with the pair's
/// free-running head, `on_candle` measured 3-5% faster).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Clock {
    /// The close time of the last accepted candle; 0 before the first.
    last: i64,
    /// The bin while steady, 0 when not, -1 before the first candle.
    step: i64,
}

impl Clock {
    /// No candle accepted yet.
    pub(crate) const START: Clock = Clock { last: 0, step: -1 };

    /// After the candle closing at `last`; the next one goes to the general step.
    #[inline(always)]
    pub(crate) const fn general(last: i64) -> Clock {
        Clock { last, step: 0 }
    }

    /// After the candle closing at `last`, steady, with bars `bin` ms apart (positive, by the
    /// parameters' validation).
    #[inline(always)]
    pub(crate) const fn steady(last: i64, bin: i64) -> Clock {
        Clock { last, step: bin }
    }

    /// The close time of the last accepted candle, if any.
    #[inline(always)]
    pub(crate) const fn last(self) -> Option<i64> {
        if self.step < 0 { None } else { Some(self.last) }
    }

    /// The close time of the last accepted candle, if the strategy is steady.
    #[inline(always)]
    pub(crate) const fn steady_last(self) -> Option<i64> {
        if self.step > 0 { Some(self.last) } else { None }
    }
}

impl<const CAP: usize> Strategy<CAP> {
    /// [`on_candle`](Self::on_candle) for a steady strategy: `None`, with nothing changed,
    /// unless the candle is one bin after the last one and its prices are valid.
    #[inline(always)]
    pub(crate) fn steady_step(&mut self, candle: &Candle) -> Option<Step> {
        let t = candle.close_time_ms;
        let Clock { last, step } = self.clock;
        // `last + bin == t` without overflow, and steady: exactly a bin later, and later than
        // the last (see `Clock` for the states that are not steady).
        if t.wrapping_sub(last) != step {
            return None;
        }
        if !plain_prices(candle) {
            return None;
        }
        if t <= last {
            return None;
        }
        self.clock.last = t;
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
        if let Some(last) = self.clock.steady_last() {
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
///
/// Two loops: the first `long` candles evict closes pushed before this call, which only the
/// ring holds; from then on the evicted closes are candles of this slice, `short` and `long`
/// places back, read from the slice itself ([`slide`]), and the ring is written once at the end.
#[inline(always)]
pub(crate) fn run<const CAP: usize>(
    s: &mut Strategy<CAP>,
    candles: &[Candle],
    start: usize,
    signals: &mut usize,
    on_signal: &mut impl FnMut(usize, &Signal),
) -> usize {
    let (Some(last), Some(regime)) = (s.clock.steady_last(), s.cross.regime()) else {
        return start;
    };
    // Close times advance by `bin` in the loops: if the whole rest of the slice cannot carry
    // them past `i64::MAX`, the schedule is one add and one compare, with no overflow check.
    let bin = s.params.bin_ms;
    let rest = candles.len().saturating_sub(start);
    if i128::from(last) + i128::from(bin) * rest as i128 > i128::from(i64::MAX) {
        return start;
    }
    let Some(rest) = candles.get(start..) else {
        return start;
    };
    // A regime in force means both windows are full.
    let mut ring = s.smas.full_ring();
    let (short, long) = ring.windows();
    let mut judge = Judge::new(regime, short, long);
    // What a signal changes, and the call that reports it (`i`: its index in `rest`).
    let mut signal = |regime: Regime, i: usize| {
        let t = rest.get(i).map_or(last, |c| c.close_time_ms);
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
        on_signal(start + i, &signal);
    };
    // `long` is at most `MAX_WINDOW`, so the conversions are exact.
    let (short, long) = (short as usize, long as usize);
    // The first `long` candles evict closes pushed before this call, which only the ring
    // holds.
    let mut taken = 0;
    let mut t0 = last;
    for c in rest.iter().take(long) {
        let t = c.close_time_ms;
        if t0.wrapping_add(bin) != t || !valid_prices(c) {
            break;
        }
        t0 = t;
        taken += 1;
        if let Some(regime) = judge.turns(ring.push(c.close.0)) {
            signal(regime, taken - 1);
        }
    }
    // Later ones evict candles of the slice. Each is on schedule when it closes `long` bins
    // after the candle `long` places back: by induction from the first `long` ones, checked
    // above, that is one bin after the one before. The span and the check are modulo 2^64, and
    // exact: the close time they stand for is within `i64` (checked above), and only that one
    // value of `i64` matches it modulo 2^64.
    let span = bin.wrapping_mul(long as i64);
    if taken == long {
        let mut sums = ring.sums();
        loop {
            let window = rest.get(taken - long..).unwrap_or_default();
            let (n, turn) = slide(window, short, long, span, &mut sums, &mut judge);
            taken += n;
            let Some(regime) = turn else {
                break;
            };
            signal(regime, taken - 1);
        }
        ring.set_sums(sums);
        let then = rest.get(long..taken).unwrap_or_default();
        ring.record(then.iter().map(|c| c.close.0));
    }
    ring.finish();
    let newest = taken.checked_sub(1).and_then(|i| rest.get(i));
    s.clock = Clock::steady(newest.map_or(last, |c| c.close_time_ms), bin);
    start + taken
}

/// Takes the candles of `window[long..]` while each closes `span` after the one `long` places
/// back and has plain prices, pushing their closes into the sums `(short, long)`, until the
/// regime turns; returns how many it took and the regime turned to, if it did (on the last one
/// taken). Each close evicts the ones `short` and `long` places back, which `window` holds (it
/// starts `long` candles early): three slices in step, and no index to check or mask. Out of
/// line: nothing but the loop's own state is live here, so all of it stays in registers.
#[inline(never)]
fn slide(
    window: &[Candle],
    short: usize,
    long: usize,
    span: i64,
    sums: &mut (i64, i64),
    judge: &mut Judge,
) -> (usize, Option<Regime>) {
    let new = window.get(long..).unwrap_or_default();
    let old_short = window.get(long - short..).unwrap_or_default();
    let (mut ss, mut ls) = *sums;
    let (mut taken, mut turn) = (0, None);
    // One candle: false when the loop stops here, before it (not taken) or after it (a turn).
    let mut take = |c: &Candle, s: &Candle, l: &Candle| {
        if c.close_time_ms.wrapping_sub(l.close_time_ms) != span || !plain_prices(c) {
            return false;
        }
        let x = c.close.0;
        ss = ss.wrapping_add(x.wrapping_sub(s.close.0));
        ls = ls.wrapping_add(x.wrapping_sub(l.close.0));
        taken += 1;
        turn = judge.turns((ss, ls));
        turn.is_none()
    };
    'blocks: {
        // Blocks of a fixed length, whose indexes are known to be in bounds: the loop's count
        // and compare once per block.
        let blocks = new
            .chunks_exact(BLOCK)
            .zip(old_short.chunks_exact(BLOCK))
            .zip(window.chunks_exact(BLOCK));
        for ((cs, ss_), ls_) in blocks {
            for k in 0..BLOCK {
                if !take(&cs[k], &ss_[k], &ls_[k]) {
                    break 'blocks;
                }
            }
        }
        // The last few, fewer than a block.
        let done = new.len() - new.len() % BLOCK;
        let tail = new.get(done..).unwrap_or_default().iter();
        let olds = old_short.get(done..).unwrap_or_default();
        for ((c, s), l) in tail.zip(olds).zip(window.get(done..).unwrap_or_default()) {
            if !take(c, s, l) {
                break;
            }
        }
    }
    *sums = (ss, ls);
    (taken, turn)
}

/// Candles per block of [`slide`] (measured: 4 and 16 are slower).
const BLOCK: usize = 8;

/// A steady regime's test for turning over, kept in two signed multipliers: the short mean is
/// above the long one when `short_sum × long > long_sum × short`, and a bullish regime turns on
/// the opposite, so its multipliers are negated. One compare and no select per candle; the rare
/// turn negates them back.
struct Judge {
    long: i64,
    short: i64,
}

impl Judge {
    #[inline(always)]
    fn new(regime: Regime, short: i64, long: i64) -> Self {
        let sign = if regime == Regime::Bullish { -1 } else { 1 };
        Judge {
            long: sign * long,
            short: sign * short,
        }
    }

    /// The regime turned to on the sums `(short_sum, long_sum)`, if it turns. Narrow windows
    /// keep both products within `i64` whatever the multipliers' sign, so the compare is exact:
    /// negated, it is the other way round, as a bullish regime needs.
    #[inline(always)]
    fn turns(&mut self, (short_sum, long_sum): (i64, i64)) -> Option<Regime> {
        if short_sum.wrapping_mul(self.long) > long_sum.wrapping_mul(self.short) {
            self.long = self.long.wrapping_neg();
            self.short = self.short.wrapping_neg();
            // Negated multipliers stand for a bullish regime.
            Some(side(self.long.is_negative()))
        } else {
            None
        }
    }
}

/// The short path's price test: `low` positive, `low <= close <= high`, and the bitwise or of
/// `open − 1` and `high` below `MAX_TICKS` (the or is at least each of them, so both are).
///
/// It implies the exact check ([`valid_prices`]): `open` and `high` are then within
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
/// over; equal means keep it. [`Strategy::on_candle`]'s steady step.
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
