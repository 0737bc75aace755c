//! When the batch's own loop takes candles and when it leaves them to `on_candle`. Whether it
//! decides as `on_candle` does is `tests/batch_props.rs`; here is what it takes, which no
//! decision shows: a gate that is too strict only costs time. The same holds for the short
//! path's price test, checked here against the exact one.

use super::*;
use crate::crossover::{Crossover, CrossoverState, Guards};
use crate::params::{Mode, Params};
use crate::price::{MAX_TICKS, Price};
use crate::strategy::CandleError;
use crate::{BatchError, run_batch};
use std::vec::Vec;

const BIN: i64 = 60_000;

fn bar(t: i64, p: i64) -> Candle {
    Candle {
        close_time_ms: t,
        open: Price(p),
        high: Price(p),
        low: Price(p),
        close: Price(p),
    }
}

/// Windows 1/2, one contract in lots of one, long or short, one-minute bins, with `guards`.
pub(super) fn tiny(guards: Guards) -> Params {
    Params {
        short_window: 1,
        long_window: 2,
        mode: Mode::LongShort,
        qty: 1,
        lot_size: 1,
        max_position: 1,
        bin_ms: BIN,
        guards,
    }
}

/// Windows 1/2 with `guards`, fed 10, 12 and 13 closing at `t0` and the next two bins: bullish
/// (with a confirmation of two closes too).
fn bullish(guards: Guards, t0: i64) -> Strategy<4> {
    let mut s = Strategy::new(tiny(guards)).unwrap();
    for (i, p) in [(0, 10), (1, 12), (2, 13)] {
        s.on_candle(&bar(t0 + i * BIN, p)).unwrap();
    }
    assert_eq!(s.regime(), Some(Regime::Bullish), "{guards:?}");
    s
}

/// Closes from one bin after `s`'s last candle on.
fn after(s: &Strategy<4>, closes: &[i64]) -> Vec<Candle> {
    let t = s.last_close_ms().unwrap();
    (1..)
        .zip(closes)
        .map(|(i, &p)| bar(t + i * BIN, p))
        .collect()
}

/// How many candles of `candles` the loop takes from `start`, with the signals it gave.
fn take(s: &mut Strategy<4>, candles: &[Candle], start: usize) -> (usize, Vec<(usize, i64)>) {
    let (mut n, mut seen) = (0, Vec::new());
    let end = run(s, candles, start, &mut n, &mut |i, sig| {
        seen.push((i, sig.target))
    });
    assert_eq!(n, seen.len(), "every signal is counted");
    (end, seen)
}

#[test]
fn the_loop_takes_what_is_plain_and_leaves_the_rest() {
    let g = |hysteresis_bp, confirm_bars, min_hold_bars| Guards {
        hysteresis_bp,
        confirm_bars,
        min_hold_bars,
    };
    // (guards, candles taken of 4)
    let cases = [
        (g(0, 0, 0), 4),
        (g(0, 1, 0), 4),
        (g(0, 0, 1), 4),
        (g(0, 1, 1), 4),
        (g(0, 2, 0), 0),
        (g(0, 0, 2), 0),
        (g(1, 0, 0), 0),
    ];
    for (guards, want) in cases {
        let mut s = bullish(guards, 0);
        let candles = after(&s, &[13, 11, 10, 14]);
        let (end, _) = take(&mut s, &candles, 0);
        assert_eq!(end, want, "{guards:?}");
    }
}

#[test]
fn flips_are_signalled_at_their_index_with_their_target() {
    let mut s = bullish(Guards::default(), 0);
    // 12 → 13 keeps bullish, 11 and 10 are bearish, 10 → 10 is equal (kept), 14 bullish.
    let candles = after(&s, &[13, 11, 10, 10, 14]);
    let (end, seen) = take(&mut s, &candles, 0);
    assert_eq!((end, seen), (5, Vec::from([(1, -1), (4, 1)])));
    assert_eq!(
        (s.target_position(), s.regime()),
        (1, Some(Regime::Bullish))
    );
    assert_eq!(s.cross_state().since_flip, 0, "flipped on the last candle");
    assert_eq!(s.last_close_ms(), Some(candles[4].close_time_ms));
}

#[test]
fn bars_since_the_last_flip_are_counted_on() {
    let mut s = bullish(Guards::default(), 0);
    let candles = after(&s, &[13, 14, 15]);
    // The flip was on the 12, one bar before the 13.
    assert_eq!(s.cross_state().since_flip, 1);
    assert_eq!(take(&mut s, &candles, 0), (3, Vec::new()));
    assert_eq!(s.cross_state().since_flip, 4);
    let candles = after(&s, &[9, 8, 7]);
    assert_eq!(take(&mut s, &candles, 0), (3, Vec::from([(0, -1)])));
    assert_eq!(s.cross_state().since_flip, 2);
}

#[test]
fn it_stops_at_a_candle_off_schedule_or_with_bad_prices() {
    let mut s = bullish(Guards::default(), 0);
    let mut candles = after(&s, &[13, 14, 15, 16]);
    candles[2].close_time_ms += 1;
    assert_eq!(take(&mut s, &candles, 0).0, 2);
    let mut s = bullish(Guards::default(), 0);
    candles[2].close_time_ms -= 1;
    candles[3].close = Price(0);
    assert_eq!(take(&mut s, &candles, 0).0, 3);
}

#[test]
fn nothing_is_taken_before_the_first_regime_or_from_the_end() {
    let mut s = bullish(Guards::default(), 0);
    let candles = after(&s, &[13]);
    assert_eq!(take(&mut s, &candles, 1).0, 1, "start at the end");
    assert_eq!(take(&mut s, &candles, 2).0, 2, "start past the end");
    let mut fresh = Strategy::<4>::new(*s.params()).unwrap();
    assert_eq!(take(&mut fresh, &candles, 0).0, 0, "no candle yet");
    fresh.on_candle(&bar(0, 10)).unwrap();
    fresh.on_candle(&bar(BIN, 10)).unwrap();
    assert_eq!(fresh.regime(), None);
    let candles = after(&fresh, &[10, 12]);
    assert_eq!(take(&mut fresh, &candles, 0).0, 0, "no regime yet");
}

#[test]
fn a_confirmation_in_progress_is_left_to_the_step() {
    // Restored state: bullish, bearish pending once, the hold of 1 bar not yet over.
    let guards = Guards {
        min_hold_bars: 1,
        ..Guards::default()
    };
    let mut s = bullish(guards, 0);
    let st = CrossoverState {
        regime: Some(Regime::Bullish),
        pending: Some(Regime::Bearish),
        streak: 1,
        since_flip: 0,
    };
    s.cross = Crossover::from_state(guards, st).unwrap();
    s.refresh_steady();
    let candles = after(&s, &[13]);
    assert_eq!(take(&mut s, &candles, 0).0, 0);
}

#[test]
fn the_clock_may_end_at_i64_max_but_not_pass_it() {
    // Two more bins end exactly at i64::MAX: taken.
    let mut s = bullish(Guards::default(), i64::MAX - 4 * BIN);
    let candles = after(&s, &[13, 14]);
    assert_eq!(take(&mut s, &candles, 0).0, 2);
    assert_eq!(s.last_close_ms(), Some(i64::MAX));
    // Past it is not on the clock: two bins fit, the third "bin" wraps to the far past, which
    // the step refuses as older.
    let mut s = bullish(Guards::default(), i64::MAX - 4 * BIN - BIN / 2);
    let t = s.last_close_ms().unwrap();
    let candles = [t + BIN, t + 2 * BIN, t.wrapping_add(3 * BIN)].map(|t| bar(t, 13));
    assert_eq!(take(&mut s.clone(), &candles, 0).0, 0);
    let err = run_batch(&mut s, &candles, |_, _| {}).unwrap_err();
    assert!(
        matches!(
            err,
            BatchError {
                index: 2,
                error: CandleError::Older { .. }
            }
        ),
        "{err:?}"
    );
}

#[test]
fn the_short_path_takes_a_candle_only_one_bin_after_a_steady_clock() {
    // Before the first candle: the step test would pass a candle at -1 (one "step" of -1 after
    // 0), the order test must not.
    let mut fresh = Strategy::<4>::new(tiny(Guards::default())).unwrap();
    assert_eq!(fresh.steady_step(&bar(-1, 10)), None);
    assert_eq!(fresh.on_candle(&bar(-1, 10)), Ok(Step::NotReady));
    assert_eq!(fresh.last_close_ms(), Some(-1));
    // Not steady (a band): a repeat passes the step test of 0, and is left to the general step.
    let banded = Guards {
        hysteresis_bp: 1,
        ..Guards::default()
    };
    let mut general = bullish(banded, 0);
    let t = general.last_close_ms().unwrap();
    assert_eq!(general.steady_step(&bar(t, 13)), None);
    assert_eq!(general.on_candle(&bar(t, 13)), Ok(Step::Duplicate));
    assert_eq!(general.steady_step(&bar(t + BIN, 14)), None);
    // Steady: one bin on, and nothing else.
    let mut steady = bullish(Guards::default(), 0);
    let t = steady.last_close_ms().unwrap();
    for off in [0, -BIN, 2 * BIN, BIN - 1, BIN + 1] {
        assert_eq!(steady.steady_step(&bar(t + off, 14)), None, "{off}");
    }
    assert_eq!(steady.steady_step(&bar(t + BIN, 14)), Some(Step::NoChange));
    assert_eq!(steady.last_close_ms(), Some(t + BIN));
    // A bin past i64::MAX wraps to the far past: refused, though it is `bin` on modulo 2^64.
    let mut late = bullish(Guards::default(), i64::MAX - 2 * BIN - BIN / 2);
    let t = late.last_close_ms().unwrap();
    assert_eq!(late.steady_step(&bar(t.wrapping_add(BIN), 14)), None);
    assert_eq!(late.last_close_ms(), Some(t));
}

fn prices(open: i64, high: i64, low: i64, close: i64) -> Candle {
    Candle {
        close_time_ms: 0,
        open: Price(open),
        high: Price(high),
        low: Price(low),
        close: Price(close),
    }
}

#[test]
fn the_plain_price_test_passes_only_valid_candles() {
    const M: i64 = MAX_TICKS;
    // (open, high, low, close), whether the plain test passes it, whether it is valid.
    let cases = [
        ((5, 9, 1, 4), true, true),
        ((5, 9, 0, 4), false, false),
        ((5, 9, 4, 4), true, true),
        ((5, 9, 5, 4), false, false),
        ((5, 9, 2, 9), true, true),
        ((5, 9, 2, 10), false, false),
        // The open is only range-checked: BitMEX stamps the previous close there.
        ((1, 9, 2, 4), true, true),
        ((0, 9, 2, 4), false, false),
        ((i64::MIN, 9, 2, 4), false, false),
        ((M, 9, 2, 4), true, true),
        ((M + 1, 9, 2, 4), false, false),
        ((M + 1, 0x1000, 2, 4), false, false),
        ((5, M - 1, 2, 4), true, true),
        ((5, M + 1, 2, 4), false, false),
        ((M + 2, M + 1, 2, 4), false, false),
        ((i64::MAX, i64::MAX, 2, 4), false, false),
        // Valid, but left to the general step: a high of exactly the largest price, and an or
        // of open and high that reaches it.
        ((5, M, 2, 4), false, true),
        ((0x1001, M - 1, 2, 4), false, true),
    ];
    for ((o, h, l, x), plain, valid) in cases {
        let c = prices(o, h, l, x);
        assert_eq!(plain_prices(&c), plain, "{c:?}");
        assert_eq!(valid_prices(&c), valid, "{c:?}");
    }
}

proptest::proptest! {
    /// Any four prices, from the edges of `i64` to the usual: the plain test never passes an
    /// invalid candle, and below 2^39 ticks it passes every valid one.
    #[test]
    fn the_plain_price_test_implies_the_exact_one(
        p in proptest::array::uniform4(proptest::prop_oneof![
            proptest::num::i64::ANY,
            -2i64..=2,
            MAX_TICKS - 2..=MAX_TICKS + 2,
            1i64..1 << 39,
        ]),
    ) {
        let c = prices(p[0], p[1], p[2], p[3]);
        let valid = valid_prices(&c);
        if plain_prices(&c) {
            proptest::prop_assert!(valid, "{:?}", c);
        } else if valid {
            proptest::prop_assert!(p[0] >= 1 << 39 || p[1] >= 1 << 39, "{:?}", c);
        }
    }
}
