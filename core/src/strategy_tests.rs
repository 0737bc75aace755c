use super::*;
use crate::order::Side;
use crate::price::Price;

const BIN: i64 = 60_000;

fn params() -> Params {
    Params {
        short_window: 2,
        long_window: 3,
        mode: Mode::LongShort,
        qty: 2000,
        lot_size: 1000,
        max_position: 5000,
        bin_ms: BIN,
        guards: Guards::default(),
    }
}

/// A flat candle (open = high = low = close) closing at bar `i`.
fn bar(i: i64, p: i64) -> Candle {
    Candle {
        close_time_ms: BIN * i,
        open: Price(p),
        high: Price(p),
        low: Price(p),
        close: Price(p),
    }
}

fn ohlc(i: i64, o: i64, h: i64, l: i64, c: i64) -> Candle {
    Candle {
        close_time_ms: BIN * i,
        open: Price(o),
        high: Price(h),
        low: Price(l),
        close: Price(c),
    }
}

#[test]
fn params_are_validated() {
    let p = params();
    let cases: &[(Params, Result<u64, ParamsError>)] = &[
        (p, Ok(2000)),
        (
            Params {
                short_window: 0,
                ..p
            },
            Err(ParamsError::ShortWindowZero),
        ),
        (
            Params {
                short_window: 3,
                ..p
            },
            Err(ParamsError::ShortNotBelowLong { short: 3, long: 3 }),
        ),
        (
            Params {
                long_window: 9,
                ..p
            },
            Err(ParamsError::LongAboveCapacity {
                long: 9,
                capacity: 8,
            }),
        ),
        (Params { lot_size: 0, ..p }, Err(ParamsError::LotSizeZero)),
        (
            Params { qty: 0, ..p },
            Err(ParamsError::QtyNotPositiveLotMultiple),
        ),
        (
            Params { qty: 1500, ..p },
            Err(ParamsError::QtyNotPositiveLotMultiple),
        ),
        (
            Params {
                qty: 1 << 63,
                lot_size: 1,
                ..p
            },
            Err(ParamsError::TooLarge),
        ),
        (
            Params {
                max_position: 999,
                ..p
            },
            Err(ParamsError::MaxPositionBelowLot),
        ),
        (Params { bin_ms: 0, ..p }, Err(ParamsError::BinNotPositive)),
        (
            Params {
                bin_ms: -60_000,
                ..p
            },
            Err(ParamsError::BinNotPositive),
        ),
        (
            Params {
                guards: Guards {
                    hysteresis_bp: 10_001,
                    ..Guards::default()
                },
                ..p
            },
            Err(ParamsError::HysteresisTooWide),
        ),
        // qty above max_position is capped and rounded down to the lot size.
        (
            Params {
                qty: 9000,
                max_position: 3500,
                ..p
            },
            Ok(3000),
        ),
    ];
    for (params, want) in cases {
        assert_eq!(params.validate(8), *want, "{params:?}");
        assert_eq!(
            Strategy::<8>::new(*params).err(),
            want.err(),
            "Strategy::new({params:?})"
        );
    }
}

#[test]
fn candle_rules() {
    use CandleError as E;
    // Each case starts from a strategy that has accepted bars 1 and 2 (closes 100, 110).
    let cases: &[(&str, Candle, Result<Step, CandleError>)] = &[
        (
            "next bar",
            bar(3, 120),
            Ok(Step::Signal(Signal {
                regime: Regime::Bullish,
                target: 2000,
                close_time_ms: 3 * BIN,
            })),
        ),
        ("same candle again", bar(2, 110), Ok(Step::Duplicate)),
        (
            "same time, other OHLC but same close",
            ohlc(2, 90, 130, 80, 110),
            Ok(Step::Duplicate),
        ),
        (
            "same time, different close",
            bar(2, 111),
            Err(E::Conflict {
                close_time_ms: 2 * BIN,
            }),
        ),
        (
            "older",
            bar(1, 100),
            Err(E::Older {
                last_ms: 2 * BIN,
                got_ms: BIN,
            }),
        ),
        (
            "one bar missing",
            bar(4, 100),
            Err(E::Gap {
                last_ms: 2 * BIN,
                got_ms: 4 * BIN,
                missing: 1,
            }),
        ),
        (
            "many bars missing",
            bar(1002, 100),
            Err(E::Gap {
                last_ms: 2 * BIN,
                got_ms: 1002 * BIN,
                missing: 999,
            }),
        ),
        (
            "misaligned",
            Candle {
                close_time_ms: 3 * BIN + 1,
                ..bar(3, 100)
            },
            Err(E::Misaligned {
                last_ms: 2 * BIN,
                got_ms: 3 * BIN + 1,
                bin_ms: BIN,
            }),
        ),
        (
            "far future",
            Candle {
                close_time_ms: i64::MAX,
                ..bar(3, 100)
            },
            Err(E::Misaligned {
                last_ms: 2 * BIN,
                got_ms: i64::MAX,
                bin_ms: BIN,
            }),
        ),
        (
            "far past",
            Candle {
                close_time_ms: i64::MIN,
                ..bar(3, 100)
            },
            Err(E::Older {
                last_ms: 2 * BIN,
                got_ms: i64::MIN,
            }),
        ),
        ("zero close", ohlc(3, 100, 100, 100, 0), Err(E::NonPositive)),
        (
            "negative low",
            ohlc(3, 100, 100, -1, 100),
            Err(E::NonPositive),
        ),
        ("zero open", ohlc(3, 0, 100, 100, 100), Err(E::NonPositive)),
        (
            "absurd high",
            ohlc(3, 100, MAX_TICKS + 1, 100, 100),
            Err(E::TooLarge),
        ),
        (
            "close above high",
            ohlc(3, 100, 100, 90, 101),
            Err(E::CloseOutsideRange),
        ),
        (
            "close below low",
            ohlc(3, 100, 100, 90, 89),
            Err(E::CloseOutsideRange),
        ),
        (
            "low above high",
            ohlc(3, 100, 90, 110, 100),
            Err(E::CloseOutsideRange),
        ),
        (
            "open above high is fine",
            ohlc(3, 150, 120, 110, 120),
            Ok(Step::Signal(Signal {
                regime: Regime::Bullish,
                target: 2000,
                close_time_ms: 3 * BIN,
            })),
        ),
        (
            "open below low is fine",
            ohlc(3, 50, 125, 110, 111),
            Ok(Step::Signal(Signal {
                regime: Regime::Bullish,
                target: 2000,
                close_time_ms: 3 * BIN,
            })),
        ),
        (
            "a repeat with a bad close conflicts",
            ohlc(2, 100, 100, 100, 0),
            Err(E::Conflict {
                close_time_ms: 2 * BIN,
            }),
        ),
        (
            "a repeat is known by time and close alone",
            ohlc(2, -1, 0, 0, 110),
            Ok(Step::Duplicate),
        ),
    ];
    for (name, candle, want) in cases {
        let mut s = Strategy::<8>::new(params()).unwrap();
        assert_eq!(s.on_candle(&bar(1, 100)), Ok(Step::NotReady));
        assert_eq!(s.on_candle(&bar(2, 110)), Ok(Step::NotReady));
        let before = s.clone();
        let got = s.on_candle(candle);
        assert_eq!(got, *want, "{name}");
        if got.is_err() || got == Ok(Step::Duplicate) {
            // Untouched: the very next bar behaves exactly as it would have.
            assert_eq!(s.last_close_ms(), before.last_close_ms(), "{name}");
            assert_eq!(s.long_sma(), before.long_sma(), "{name}");
            let mut twin = before.clone();
            assert_eq!(
                s.on_candle(&bar(3, 95)),
                twin.on_candle(&bar(3, 95)),
                "{name}: next bar"
            );
        }
    }
}

#[test]
fn the_first_candle_sets_the_clock() {
    let mut s = Strategy::<8>::new(params()).unwrap();
    assert_eq!(s.last_close_ms(), None);
    assert_eq!(s.on_candle(&bar(-5, 100)), Ok(Step::NotReady));
    assert_eq!(s.last_close_ms(), Some(-5 * BIN));
    assert_eq!(s.on_candle(&bar(-4, 100)), Ok(Step::NotReady));
}

#[test]
fn modes_map_regimes_to_targets() {
    // Closes 100, 100, 130 (bullish), 120 (still), then 10 (bearish).
    let cases: &[(Mode, i64, i64)] = &[
        (Mode::LongShort, 2000, -2000),
        (Mode::LongOnly, 2000, 0),
        (Mode::ShortOnly, 0, -2000),
    ];
    for &(mode, bull, bear) in cases {
        let mut s = Strategy::<8>::new(Params { mode, ..params() }).unwrap();
        assert_eq!(s.target_position(), 0);
        assert_eq!(s.regime(), None);
        for (i, p) in [(1, 100), (2, 100)] {
            assert_eq!(s.on_candle(&bar(i, p)), Ok(Step::NotReady));
        }
        assert!(!s.is_ready());
        assert_eq!(s.short_sma(), Some(Mean { sum: 200, n: 2 }));
        assert_eq!(s.long_sma(), None);
        let step = s.on_candle(&bar(3, 130)).unwrap();
        assert!(s.is_ready());
        assert_eq!(
            step,
            Step::Signal(Signal {
                regime: Regime::Bullish,
                target: bull,
                close_time_ms: 3 * BIN
            }),
            "{mode:?}"
        );
        assert_eq!(s.target_position(), bull);
        assert_eq!(
            s.on_candle(&bar(4, 120)),
            Ok(Step::NoChange),
            "{mode:?}: 125 is still above 116.7"
        );
        let step = s.on_candle(&bar(5, 10)).unwrap();
        assert_eq!(
            step,
            Step::Signal(Signal {
                regime: Regime::Bearish,
                target: bear,
                close_time_ms: 5 * BIN
            }),
            "{mode:?}"
        );
        assert_eq!(s.target_position(), bear);
        assert_eq!(s.regime(), Some(Regime::Bearish));
    }
}

#[test]
fn orders_move_the_position_to_the_target() {
    // Target +2000 (bullish, LongShort, qty 2000, lot 1000, max 5000).
    let mut s = Strategy::<8>::new(params()).unwrap();
    for (i, p) in [(1, 100), (2, 100), (3, 130)] {
        s.on_candle(&bar(i, p)).unwrap();
    }
    assert_eq!(s.target_position(), 2000);
    let o = |side, qty, reduce_only| {
        Some(Order {
            side,
            qty,
            reduce_only,
        })
    };
    let cases: &[(i64, Option<Order>)] = &[
        (0, o(Side::Buy, 2000, false)),
        (2000, None),
        (1000, o(Side::Buy, 1000, false)),
        (1500, None), // 500 to go: less than a lot
        (2999, None),
        (3000, o(Side::Sell, 1000, true)),
        (5500, o(Side::Sell, 3000, true)),
        (-2000, o(Side::Buy, 4000, false)), // crosses zero: opens the long side
        (-1000, o(Side::Buy, 3000, false)),
        (-500, o(Side::Buy, 2000, false)),
        (
            i64::MIN,
            o(Side::Buy, (i64::MAX as u64 + 2001) / 1000 * 1000, false),
        ),
        (
            i64::MAX,
            o(Side::Sell, (i64::MAX as u64 - 2000) / 1000 * 1000, true),
        ),
    ];
    for &(current, want) in cases {
        assert_eq!(s.plan_order(current), want, "from position {current}");
    }
    // Flat target: closing a short is reduce-only.
    let mut flat = Strategy::<8>::new(Params {
        mode: Mode::LongOnly,
        ..params()
    })
    .unwrap();
    assert_eq!(flat.plan_order(0), None);
    for (i, p) in [(1, 100), (2, 100), (3, 50)] {
        flat.on_candle(&bar(i, p)).unwrap();
    }
    assert_eq!(flat.target_position(), 0);
    assert_eq!(flat.plan_order(-3000), o(Side::Buy, 3000, true));
    assert_eq!(flat.plan_order(2000), o(Side::Sell, 2000, true));
}

#[test]
fn errors_display_what_happened() {
    assert_eq!(
        std::format!("{} {}", Regime::Bullish, Mode::LongOnly),
        "bullish long-only"
    );
    let e = CandleError::Gap {
        last_ms: 0,
        got_ms: 180_000,
        missing: 2,
    };
    assert_eq!(
        std::format!("{e}"),
        "gap: 2 bar(s) missing between 0 and 180000"
    );
    let p = ParamsError::ShortNotBelowLong {
        short: 50,
        long: 10,
    };
    assert_eq!(
        std::format!("{p}"),
        "short window (50) must be smaller than the long window (10)"
    );
}
