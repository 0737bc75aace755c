//! Reference-model property tests: the O(1) core against naive implementations that recompute
//! every mean from scratch (the original script's `sum(closes[-n:]) / n`), compared exactly as
//! rationals.
#![allow(clippy::unwrap_used)]

use maestro_core::{
    Candle, Guards, Mean, Mode, Params, Price, Regime, RollingSma, Signal, Step, Strategy,
    price::MAX_TICKS,
};
use proptest::prelude::*;
use proptest::strategy::Strategy as _;
use std::cmp::Ordering;

/// A power-of-two capacity (ring indices wrap by mask) and one that is not (by compare).
const CAP: usize = 64;
const ODD_CAP: usize = 50;
const BIN: i64 = 60_000;

/// `a/b` against `c/d` for positive denominators, as exact rationals.
fn cmp_ratio(a: i128, b: i128, c: i128, d: i128) -> Ordering {
    (a * d).cmp(&(c * b))
}

fn naive_sum(closes: &[i64], n: usize) -> i128 {
    closes[closes.len() - n..]
        .iter()
        .map(|&x| i128::from(x))
        .sum()
}

/// Per candle: the side the naive means indicate (`None` before the long window is full or inside
/// the band), recomputed from scratch.
fn naive_indications(closes: &[i64], short: usize, long: usize, h: u32) -> Vec<Option<Regime>> {
    (1..=closes.len())
        .map(|end| {
            let seen = &closes[..end];
            if seen.len() < long {
                return None;
            }
            let (s, l) = (naive_sum(seen, short), naive_sum(seen, long));
            let (sn, ln) = (short as i128, long as i128);
            let h = i128::from(h);
            // short/sn > (l/ln)·(1 + h/10⁴)  ⇔  (s·10⁴)/sn > (l·(10⁴+h))/ln
            if cmp_ratio(s * 10_000, sn, l * (10_000 + h), ln) == Ordering::Greater {
                Some(Regime::Bullish)
            } else if cmp_ratio(s * 10_000, sn, l * (10_000 - h), ln) == Ordering::Less {
                Some(Regime::Bearish)
            } else {
                None
            }
        })
        .collect()
}

/// The naive event list: index and new regime whenever the regime changes. A flip to `x` needs
/// the last `K` indications to be `x` and `M` ready bars since the previous flip.
fn naive_events(closes: &[i64], short: usize, long: usize, g: Guards) -> Vec<(usize, Regime)> {
    let ind = naive_indications(closes, short, long, g.hysteresis_bp);
    let k = g.confirm_bars.max(1) as usize;
    let mut regime: Option<Regime> = None;
    let mut last_flip: Option<usize> = None;
    let mut out = Vec::new();
    for i in 0..closes.len() {
        let Some(x) = ind[i] else { continue };
        if Some(x) == regime || i + 1 < k {
            continue;
        }
        let confirmed = ind[i + 1 - k..=i].iter().all(|&c| c == Some(x));
        let held = last_flip.is_none_or(|f| i - f >= g.min_hold_bars as usize);
        if confirmed && held {
            regime = Some(x);
            last_flip = Some(i);
            out.push((i, x));
        }
    }
    out
}

fn candle(i: usize, close: i64) -> Candle {
    Candle {
        close_time_ms: BIN * (i as i64 + 1),
        open: Price(close),
        high: Price(close),
        low: Price(close),
        close: Price(close),
    }
}

fn params(short: usize, long: usize, mode: Mode, guards: Guards) -> Params {
    Params {
        short_window: short as u32,
        long_window: long as u32,
        mode,
        qty: 3000,
        lot_size: 1000,
        max_position: 10_000,
        bin_ms: BIN,
        guards,
    }
}

fn target(mode: Mode, r: Regime) -> i64 {
    match (mode, r) {
        (Mode::LongShort | Mode::LongOnly, Regime::Bullish) => 3000,
        (Mode::LongShort | Mode::ShortOnly, Regime::Bearish) => -3000,
        _ => 0,
    }
}

/// Close series: narrow ranges give many exact ties and crossings, wide ones big sums.
fn closes() -> impl proptest::strategy::Strategy<Value = Vec<i64>> {
    prop_oneof![
        prop::collection::vec(1i64..=4, 0..300),
        prop::collection::vec(95i64..=105, 0..300),
        prop::collection::vec(1i64..=MAX_TICKS, 0..300),
        prop::collection::vec(MAX_TICKS - 3..=MAX_TICKS, 0..200),
    ]
}

fn windows() -> impl proptest::strategy::Strategy<Value = (usize, usize)> {
    (2usize..=CAP).prop_flat_map(|long| (1..long, Just(long)))
}

fn mode() -> impl proptest::strategy::Strategy<Value = Mode> {
    prop_oneof![
        Just(Mode::LongShort),
        Just(Mode::LongOnly),
        Just(Mode::ShortOnly)
    ]
}

fn guards() -> impl proptest::strategy::Strategy<Value = Guards> {
    prop_oneof![
        Just(Guards::default()),
        (0u32..300, 0u32..5, 0u32..8).prop_map(|(h, c, m)| Guards {
            hysteresis_bp: h,
            confirm_bars: c,
            min_hold_bars: m,
        }),
    ]
}

fn run<const C: usize>(s: &mut Strategy<C>, closes: &[i64]) -> Vec<(usize, Signal)> {
    let mut out = Vec::new();
    for (i, &c) in closes.iter().enumerate() {
        let step = s.on_candle(&candle(i, c)).unwrap();
        let ready = i + 1 >= s.params().long_window as usize;
        match step {
            Step::Signal(sig) => out.push((i, sig)),
            Step::NotReady => assert!(!ready, "NotReady at {i} with a full window"),
            Step::NoChange => assert!(ready, "NoChange at {i} before the window is full"),
            Step::Duplicate => panic!("no duplicates were fed"),
        }
    }
    out
}

fn check_rolling<const C: usize>(window: usize, closes: &[i64]) -> Result<(), TestCaseError> {
    let mut sma = RollingSma::<C>::new(window).unwrap();
    for (i, &c) in closes.iter().enumerate() {
        let seen = &closes[..=i];
        let want = (seen.len() >= window).then(|| Mean {
            sum: i64::try_from(naive_sum(seen, window)).unwrap(),
            n: window as u32,
        });
        prop_assert_eq!(
            sma.push(Price(c)),
            want,
            "window {} after {} closes",
            window,
            i + 1
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn rolling_sma_equals_the_naive_mean(window in 1usize..=CAP, closes in closes()) {
        check_rolling::<CAP>(window, &closes)?;
    }

    #[test]
    fn rolling_sma_with_an_odd_capacity_equals_the_naive_mean(
        window in 1usize..=ODD_CAP, closes in closes(),
    ) {
        check_rolling::<ODD_CAP>(window, &closes)?;
    }

    #[test]
    fn plain_crossover_with_an_odd_capacity_equals_the_naive_reference(
        (short, long) in windows().prop_filter("fits", |w| w.1 <= ODD_CAP), closes in closes(),
    ) {
        let mut s = Strategy::<ODD_CAP>::new(params(short, long, Mode::LongShort, Guards::default())).unwrap();
        let got: Vec<(usize, Regime)> =
            run(&mut s, &closes).iter().map(|(i, sig)| (*i, sig.regime)).collect();
        prop_assert_eq!(got, naive_events(&closes, short, long, Guards::default()));
    }

    #[test]
    fn plain_crossover_equals_the_naive_reference(
        (short, long) in windows(), mode in mode(), closes in closes(),
    ) {
        let mut s = Strategy::<CAP>::new(params(short, long, mode, Guards::default())).unwrap();
        let got = run(&mut s, &closes);
        let want = naive_events(&closes, short, long, Guards::default());
        let got_events: Vec<(usize, Regime)> = got.iter().map(|(i, sig)| (*i, sig.regime)).collect();
        prop_assert_eq!(&got_events, &want, "windows {}/{}", short, long);
        for (i, sig) in &got {
            prop_assert_eq!(sig.target, target(mode, sig.regime));
            prop_assert_eq!(sig.close_time_ms, candle(*i, 1).close_time_ms);
        }
        // The means the strategy exposes are the naive ones.
        if closes.len() >= long {
            prop_assert_eq!(s.long_sma().map(|m| i128::from(m.sum)), Some(naive_sum(&closes, long)));
            prop_assert_eq!(s.short_sma().map(|m| i128::from(m.sum)), Some(naive_sum(&closes, short)));
        }
        prop_assert_eq!(s.regime(), want.last().map(|e| e.1));
    }

    #[test]
    fn guarded_crossover_equals_the_naive_reference(
        (short, long) in windows(), g in guards(), closes in closes(),
    ) {
        let mut s = Strategy::<CAP>::new(params(short, long, Mode::LongShort, g)).unwrap();
        let got: Vec<(usize, Regime)> =
            run(&mut s, &closes).iter().map(|(i, sig)| (*i, sig.regime)).collect();
        prop_assert_eq!(got, naive_events(&closes, short, long, g), "windows {}/{} {:?}", short, long, g);
    }
}
