//! The batch's loop for the common case: both windows full, no band, no guard. It does what
//! [`Strategy::on_candle`] does for each on-schedule candle with valid prices, with the state in
//! locals and without the checks that cannot change an answer there (the filling windows, the
//! band, the guards' counters, the step's result). Anything else goes back to `on_candle`.

use crate::candle::Candle;
use crate::crossover::Regime;
use crate::sma::Mean;
use crate::strategy::{Signal, Strategy, check_prices, indicated_narrow};

/// Feeds `candles[start..]` while they are on schedule and valid, calling `on_signal` for each
/// signal and counting it in `signals`; returns the index of the first candle not taken (the
/// slice's length when all were). Takes none unless the strategy is ready, narrow and plain.
#[inline(always)]
pub(crate) fn run<const CAP: usize>(
    s: &mut Strategy<CAP>,
    candles: &[Candle],
    start: usize,
    signals: &mut usize,
    on_signal: &mut impl FnMut(usize, &Signal),
) -> usize {
    // `narrow` already means no band; `is_plain` means no guard and nothing pending. The first
    // regime is left to `on_candle`: with one in force, a flip is one compare.
    let (Some(last), Some(regime)) = (s.last_close_ms, s.cross.regime()) else {
        return start;
    };
    if !s.narrow || !s.cross.is_plain() {
        return start;
    }
    // A regime in force means both windows are full.
    let mut ring = s.smas.full_ring();
    let (short, long) = ring.windows();
    let (short, long) = (short as u32, long as u32);
    let bin = s.params.bin_ms;
    // Close times advance by `bin` in the loop: if the whole rest of the slice cannot carry
    // them past `i64::MAX`, the schedule is one add and one compare, with no overflow check.
    let rest = candles.len().saturating_sub(start);
    if i128::from(last) + i128::from(bin) * rest as i128 > i128::from(i64::MAX) {
        return start;
    }
    let (mut last, mut bullish) = (last, regime == Regime::Bullish);
    // Bars since the last flip are counted from where it happened, not on every candle:
    // `since_flip` is `since_base` plus the candles taken from `base` on.
    let (mut since_base, mut base) = (s.cross.state().since_flip, start);
    let Some(rest) = candles.get(start..) else {
        return start;
    };
    let mut it = rest.iter();
    // The index is worked out from the iterator when needed, which frees a register.
    let at = |it: &core::slice::Iter<'_, Candle>| candles.len() - it.len();
    let mut index = candles.len();
    while let Some(c) = it.next() {
        let t = c.close_time_ms;
        if last.wrapping_add(bin) != t || check_prices(c).is_err() {
            index = at(&it) - 1;
            break;
        }
        last = t;
        let (short_sum, long_sum) = ring.push(c.close.0);
        let short = Mean {
            sum: short_sum,
            n: short,
        };
        let long = Mean {
            sum: long_sum,
            n: long,
        };
        // Equal means keep the regime; only the opposite side flips it.
        // Equal means keep the regime; only the opposite side flips it.
        let against = if bullish {
            Some(Regime::Bearish)
        } else {
            Some(Regime::Bullish)
        };
        if indicated_narrow(short, long) == against {
            bullish = !bullish;
            let index = at(&it) - 1;
            (since_base, base) = (0, index + 1);
            let r = side(bullish);
            let target = s.params.target_for(Some(r), s.qty);
            flip(target, r, t, &mut s.target, signals, on_signal, index);
        }
    }
    ring.finish();
    s.last_close_ms = Some(last);
    let taken = u32::try_from(index - base).unwrap_or(u32::MAX);
    s.cross
        .set_plain(Some(side(bullish)), since_base.saturating_add(taken));
    index
}

/// The regime the loop's flag stands for.
#[inline(always)]
fn side(bullish: bool) -> Regime {
    if bullish {
        Regime::Bullish
    } else {
        Regime::Bearish
    }
}

/// A flip's bookkeeping, out of the loop's way.
#[inline(always)]
fn flip(
    target: i64,
    regime: Regime,
    t: i64,
    stored: &mut i64,
    signals: &mut usize,
    on_signal: &mut impl FnMut(usize, &Signal),
    index: usize,
) {
    *stored = target;
    *signals += 1;
    on_signal(
        index,
        &Signal {
            regime,
            target,
            close_time_ms: t,
        },
    );
}

#[cfg(test)]
#[path = "steady_tests.rs"]
mod tests;
