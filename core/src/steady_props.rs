//! `on_candle`'s short path against the general step alone: on any stream (repeats, conflicts,
//! gaps, misaligned, older and bad candles, a high at the largest price, clocks that end at or
//! wrap past `i64::MAX`, counts of bars since a flip about to saturate) both give the same answer
//! to every candle and leave the same state. The general step is the model: it is the whole rule,
//! looked at per candle.

use crate::candle::Candle;
use crate::crossover::{Crossover, CrossoverState, Guards, Regime};
use crate::params::{Mode, Params};
use crate::price::{MAX_TICKS, Price};
use crate::strategy::Strategy;
use proptest::prelude::*;
use proptest::strategy::Strategy as _;
use std::vec::Vec;

const CAP: usize = 16;
const BIN: i64 = 60_000;

/// One candle of a stream: how its time follows the last accepted one, and its close.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// One bin later.
    Next,
    /// The last accepted candle's time (a repeat when the close matches, else a conflict).
    Same,
    /// Several bins later.
    Gap,
    /// Half a bin later.
    Misaligned,
    /// A bin earlier.
    Older,
    /// One bin later with a close above its high.
    Outside,
    /// One bin later with an open of zero.
    BadOpen,
    /// One bin later with a high of exactly the largest price: valid, but left to the general
    /// step by the short path's cheaper price test.
    HighAtMax,
}

fn kind() -> impl proptest::strategy::Strategy<Value = Kind> {
    prop_oneof![
        60 => Just(Kind::Next),
        4 => Just(Kind::Same),
        1 => Just(Kind::Gap),
        1 => Just(Kind::Misaligned),
        1 => Just(Kind::Older),
        1 => Just(Kind::Outside),
        1 => Just(Kind::BadOpen),
        1 => Just(Kind::HighAtMax),
    ]
}

fn candle(t: i64, close: i64) -> Candle {
    Candle {
        close_time_ms: t,
        open: Price(close),
        high: Price(close),
        low: Price(close),
        close: Price(close),
    }
}

/// The candles a script describes from `t0` on; times wrap as an `i64` clock would.
fn stream(t0: i64, script: &[(Kind, i64)]) -> Vec<Candle> {
    let (mut last, mut out) = (t0, Vec::new());
    for &(kind, close) in script {
        let c = match kind {
            Kind::Next => candle(last.wrapping_add(BIN), close),
            Kind::Same => candle(last, close),
            Kind::Gap => candle(last.wrapping_add(3 * BIN), close),
            Kind::Misaligned => candle(last.wrapping_add(BIN / 2), close),
            Kind::Older => candle(last.wrapping_sub(BIN), close),
            Kind::Outside => Candle {
                high: Price(close - 1),
                ..candle(last.wrapping_add(BIN), close)
            },
            Kind::BadOpen => Candle {
                open: Price(0),
                ..candle(last.wrapping_add(BIN), close)
            },
            Kind::HighAtMax => Candle {
                high: Price(MAX_TICKS),
                ..candle(last.wrapping_add(BIN), close)
            },
        };
        // Only a candle the strategy may take moves the script's clock; whether it does is
        // for the strategies to say.
        if matches!(kind, Kind::Next | Kind::Gap | Kind::HighAtMax) {
            last = c.close_time_ms;
        }
        out.push(c);
    }
    out
}

fn state(s: &Strategy<CAP>) -> Vec<u8> {
    let mut buf = std::vec![0u8; Strategy::<CAP>::MAX_STATE_LEN];
    let n = s.encode_state(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn guards() -> impl proptest::strategy::Strategy<Value = Guards> {
    prop_oneof![
        4 => Just(Guards::default()),
        1 => (0u32..3, 0u32..3, 0u32..3).prop_map(|(h, c, m)| Guards {
            hysteresis_bp: h,
            confirm_bars: c,
            min_hold_bars: m,
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_short_path_decides_as_the_general_step(
        (short, long) in (2u32..=CAP as u32).prop_flat_map(|l| (1..l, Just(l))),
        mode in prop_oneof![Just(Mode::LongShort), Just(Mode::LongOnly), Just(Mode::ShortOnly)],
        guards in guards(),
        script in prop::collection::vec((kind(), 95i64..=105), 0..200),
        late in any::<bool>(),
        // Bars since the last flip set close to `u32::MAX` once a regime holds.
        saturate in prop::option::of(0u32..4),
    ) {
        let params = Params {
            short_window: short,
            long_window: long,
            mode,
            qty: 1000,
            lot_size: 1000,
            max_position: 1000,
            bin_ms: BIN,
            guards,
        };
        // Late clocks reach `i64::MAX` within the stream, or wrap past it.
        let t0 = if late { i64::MAX - BIN * (script.len() as i64 / 2) } else { 0 };
        let candles = stream(t0, &script);
        let mut fast = Strategy::<CAP>::new(params).unwrap();
        let mut model = fast.clone();
        for (i, c) in candles.iter().enumerate() {
            let got = fast.on_candle(c);
            let want = model.general_step(c);
            prop_assert_eq!(got, want, "candle {}: {:?}", i, c);
            prop_assert_eq!(state(&fast), state(&model), "state after candle {}", i);
            if let (Some(left), Some(regime)) = (saturate, model.regime()) {
                // As a restore would leave them: the count exact, the short path starting here.
                let st = CrossoverState {
                    regime: Some(regime),
                    pending: None,
                    streak: 0,
                    since_flip: u32::MAX - left,
                };
                for s in [&mut fast, &mut model] {
                    if let Some(cross) = Crossover::from_state(guards, st) {
                        s.cross = cross;
                        s.refresh_steady();
                    }
                }
            }
        }
        prop_assert_eq!(fast.target_position(), model.target_position());
    }
}

#[test]
fn the_short_path_is_taken_once_a_plain_regime_holds() {
    // A guard or a band keeps a strategy off it; without them it is taken after the first
    // regime, which this pins down so that the property above is not about the general step
    // alone.
    let params = super::tests::tiny;
    let mut plain = Strategy::<4>::new(params(Guards::default())).unwrap();
    let mut banded = Strategy::<4>::new(params(Guards {
        hysteresis_bp: 1,
        ..Guards::default()
    }))
    .unwrap();
    for (i, p) in [10, 12, 13].into_iter().enumerate() {
        for s in [&mut plain, &mut banded] {
            s.on_candle(&candle(BIN * i as i64, p)).unwrap();
        }
    }
    assert_eq!(plain.regime(), Some(Regime::Bullish));
    assert!(plain.clock.steady_last().is_some());
    assert!(banded.clock.steady_last().is_none() && banded.clock.last().is_some());
    // The general step counts every bar in `cross` and moves `since_ms` along; the short path
    // does neither, which shows which one took a candle. The regime came with the 12 (at
    // `BIN`); the 13, 14 and 15 went the short way.
    for (i, p) in [(3, 14), (4, 15)] {
        for s in [&mut plain, &mut banded] {
            s.on_candle(&candle(BIN * i, p)).unwrap();
        }
    }
    assert_eq!((plain.since_ms, plain.cross.state().since_flip), (BIN, 0));
    assert_eq!(plain.cross_state().since_flip, 3);
    assert_eq!(banded.since_ms, 4 * BIN);
}
