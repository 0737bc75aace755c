//! The strategy at its limits: candles with several faults at once, prices at and just past
//! `MAX_TICKS`, and windows on both sides of the `i64` fast path's bound at extreme prices.

use super::*;
use crate::crossover::indicated;
use crate::price::Price;
use std::string::ToString;

const M: i64 = MAX_TICKS;

fn ohlc(o: i64, h: i64, l: i64, x: i64) -> Candle {
    Candle {
        close_time_ms: 0,
        open: Price(o),
        high: Price(h),
        low: Price(l),
        close: Price(x),
    }
}

/// Each rule alone, each pair of faults the single-branch check folds together, and every price
/// exactly at its limit (accepted) and just past it (refused).
#[test]
fn candle_prices_are_checked_fault_by_fault() {
    use CandleError::{CloseOutsideRange as Range, NonPositive as NonPos, TooLarge as Large};
    let cases: &[(&str, Candle, Result<(), CandleError>)] = &[
        ("all at 1", ohlc(1, 1, 1, 1), Ok(())),
        ("all at MAX_TICKS", ohlc(M, M, M, M), Ok(())),
        ("full range", ohlc(M, M, 1, 1), Ok(())),
        ("open below the range", ohlc(1, M, M - 1, M), Ok(())),
        ("open above the range", ohlc(M, 2, 1, 2), Ok(())),
        // One fault.
        ("open 0", ohlc(0, 5, 5, 5), Err(NonPos)),
        ("high 0", ohlc(5, 0, 0, 0), Err(NonPos)),
        ("low 0", ohlc(5, 5, 0, 5), Err(NonPos)),
        ("close 0", ohlc(5, 5, 0, 0), Err(NonPos)),
        ("open past MAX", ohlc(M + 1, 5, 5, 5), Err(Large)),
        ("high past MAX", ohlc(5, M + 1, 5, 5), Err(Large)),
        // Only the price named is past MAX_TICKS (which also puts the close out of range).
        ("low past MAX", ohlc(5, 5, M + 1, 5), Err(Large)),
        ("close past MAX", ohlc(5, 5, 1, M + 1), Err(Large)),
        ("close below low", ohlc(5, 9, 6, 5), Err(Range)),
        ("close above high", ohlc(5, 9, 6, 10), Err(Range)),
        // Two faults at once: each pair of neighbouring terms of the check.
        ("open 0 and low 0", ohlc(0, 5, 0, 5), Err(NonPos)),
        ("low 0 and high past MAX", ohlc(5, M + 1, 0, 5), Err(NonPos)),
        (
            "high past MAX and close below low",
            ohlc(5, M + 1, 6, 5),
            Err(Large),
        ),
        (
            "close below low and above high",
            ohlc(5, 4, 6, 5),
            Err(Range),
        ),
        (
            "open past MAX and close above high",
            ohlc(M + 1, 4, 1, 5),
            Err(Large),
        ),
        (
            "low below 1 and close below low",
            ohlc(5, 5, -1, -2),
            Err(NonPos),
        ),
        // A price exactly at MAX_TICKS is in range: only the range rule is broken.
        (
            "open at MAX, close above high",
            ohlc(M, 4, 1, 5),
            Err(Range),
        ),
        ("high at MAX, close below low", ohlc(5, M, 6, 5), Err(Range)),
        ("low at MAX above high", ohlc(5, 5, M, 5), Err(Range)),
        ("close at MAX above high", ohlc(5, 5, 1, M), Err(Range)),
        (
            "everything wrong",
            ohlc(i64::MIN, i64::MIN, i64::MAX, 0),
            Err(NonPos),
        ),
    ];
    for (name, candle, want) in cases {
        assert_eq!(check_prices(candle), *want, "{name}");
    }
}

/// Closes near the point where `short × long × mean` leaves `i64` (3,000/4,000 windows); the
/// strategy must agree with the `i128` comparison on every candle.
fn agrees_with_i128<const CAP: usize>(short: u32, long: u32, closes: &[i64]) -> usize {
    let mut s = Strategy::<CAP>::new(Params {
        short_window: short,
        long_window: long,
        mode: Mode::LongShort,
        qty: 1,
        lot_size: 1,
        max_position: 1,
        bin_ms: 1,
        guards: Guards::default(),
    })
    .unwrap();
    let mut reference = Crossover::new(Guards::default());
    let mut signals = 0;
    for (i, &c) in closes.iter().enumerate() {
        let candle = Candle {
            close_time_ms: i as i64,
            open: Price(c),
            high: Price(c),
            low: Price(c),
            close: Price(c),
        };
        let step = s.on_candle(&candle).unwrap();
        let want = match (s.short_sma(), s.long_sma()) {
            (Some(sm), Some(lm)) => reference.update_indicated(indicated(sm, lm, 0)),
            _ => None,
        };
        let got = match step {
            Step::Signal(sig) => Some(sig.regime),
            _ => None,
        };
        assert_eq!(got, want, "windows {short}/{long}, close #{i} = {c}");
        signals += usize::from(got.is_some());
    }
    signals
}

#[test]
fn wide_windows_at_extreme_prices_compare_exactly() {
    // Short mean 768,614,336,405 against a long mean 3.75 ticks lower: `short_sum × 4,000` is
    // just past i64::MAX while `long_sum × 3,000` is just below it, so a wrapping compare would
    // call the cross bearish.
    let hi = 768_614_336_405;
    let mut closes = std::vec![hi - 5; 1000];
    closes.extend(std::iter::repeat_n(hi, 3000));
    // Then the other way round, and at MAX_TICKS itself.
    closes.extend(std::iter::repeat_n(hi - 5, 3001));
    closes.extend(std::iter::repeat_n(M, 3001));
    closes.extend(std::iter::repeat_n(M - 1, 3001));
    assert_eq!(agrees_with_i128::<4096>(3000, 4000, &closes), 4);
}

#[test]
fn the_widest_narrow_windows_are_exact_at_max_ticks() {
    // 3,036 × 3,037 = 9,220,332 is just under the bound (9,223,372) and 3,037 × 3,038 just over:
    // the widest near-square windows that take the i64 fast path, fed closes at MAX_TICKS.
    const { assert!(3036 * 3037 <= NARROW_WINDOWS && 3037 * 3038 > NARROW_WINDOWS) };
    let mut closes = std::vec![M - 1; 3037];
    closes.extend(std::iter::repeat_n(M, 3036));
    closes.extend(std::iter::repeat_n(M - 2, 3037));
    assert_eq!(agrees_with_i128::<3040>(3036, 3037, &closes), 2);
}

#[test]
fn every_candle_error_says_what_happened() {
    let cases: &[(CandleError, &str)] = &[
        (
            CandleError::Older {
                last_ms: 120,
                got_ms: 60,
            },
            "candle closing at 60 is older than the last one (120)",
        ),
        (
            CandleError::Gap {
                last_ms: 0,
                got_ms: 180_000,
                missing: 2,
            },
            "gap: 2 bar(s) missing between 0 and 180000",
        ),
        (
            CandleError::Misaligned {
                last_ms: 0,
                got_ms: 61,
                bin_ms: 60,
            },
            "candle closing at 61 is not a multiple of 60 ms after 0",
        ),
        (
            CandleError::Conflict { close_time_ms: 60 },
            "candle closing at 60 repeats the last one with a different close",
        ),
        (
            CandleError::NonPositive,
            "candle has a price that is not positive",
        ),
        (
            CandleError::TooLarge,
            "candle has a price above the supported maximum",
        ),
        (
            CandleError::CloseOutsideRange,
            "candle close lies outside [low, high]",
        ),
        (
            CandleError::Params(ParamsError::LotSizeZero),
            "invalid parameters: lot size must be positive",
        ),
    ];
    for (e, text) in cases {
        assert_eq!(e.to_string(), *text);
    }
}
