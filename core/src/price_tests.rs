use super::*;
use proptest::prelude::*;
use std::string::{String, ToString};

const CENT: TickSize = TickSize::CENT;
const HALF: TickSize = TickSize {
    mantissa: 5,
    exp: 1,
};
/// The widest mantissa at the finest exponent the type holds.
const WIDEST: TickSize = TickSize {
    mantissa: u32::MAX,
    exp: 0,
};
const PICO: TickSize = TickSize {
    mantissa: 1,
    exp: MAX_TICK_EXP,
};

#[test]
fn decimal_text_rounds_to_nearest_tick() {
    let cases: &[(&str, TickSize, Result<Price, PriceError>)] = &[
        ("71.23", CENT, Ok(Price(7123))),
        ("71.234", CENT, Ok(Price(7123))),
        ("71.235", CENT, Ok(Price(7124))),
        ("+71", CENT, Ok(Price(7100))),
        ("0.004", CENT, Err(PriceError::NotPositive)),
        ("0.005", CENT, Ok(Price(1))),
        ("9750.25", HALF, Ok(Price(19501))),
        ("9750.24", HALF, Ok(Price(19500))),
        ("0", CENT, Err(PriceError::NotPositive)),
        ("-3", CENT, Err(PriceError::NotPositive)),
        ("-0.005", CENT, Err(PriceError::NotPositive)),
        ("", CENT, Err(PriceError::Malformed)),
        (".", CENT, Err(PriceError::Malformed)),
        ("-", CENT, Err(PriceError::Malformed)),
        ("1.2.3", CENT, Err(PriceError::Malformed)),
        ("1e5", CENT, Err(PriceError::Malformed)),
        ("7 1", CENT, Err(PriceError::Malformed)),
        // A tick coarser than the text (5 decimals against 1): 0.35 ticks of 0.5 is 0.7 → 1.
        ("0.35000", HALF, Ok(Price(1))),
        ("0.24999", HALF, Err(PriceError::NotPositive)),
        // Whole-number ticks: the text's scale is above the tick's exponent of 0.
        (
            "12.5",
            TickSize {
                mantissa: 5,
                exp: 0,
            },
            Ok(Price(3)),
        ),
        (
            "12.49",
            TickSize {
                mantissa: 5,
                exp: 0,
            },
            Ok(Price(2)),
        ),
        (
            "10",
            TickSize {
                mantissa: 5,
                exp: 0,
            },
            Ok(Price(2)),
        ),
        // The range ends exactly at MAX_TICKS, on either side of the exponent comparison.
        ("10000000000.00", CENT, Ok(Price(MAX_TICKS))),
        ("10000000000", CENT, Ok(Price(MAX_TICKS))),
        ("10000000000.004", CENT, Ok(Price(MAX_TICKS))),
        ("10000000000.005", CENT, Err(PriceError::TooLarge)),
        ("10000000000.01", CENT, Err(PriceError::TooLarge)),
        ("10000000000.02", CENT, Err(PriceError::TooLarge)),
        ("99999999999999999999", CENT, Err(PriceError::TooLarge)),
        ("1", PICO, Ok(Price(MAX_TICKS))),
        ("1.000000000001", PICO, Err(PriceError::TooLarge)),
        ("0.000000000001", PICO, Ok(Price(1))),
        ("0.0000000000005", PICO, Ok(Price(1))),
        ("0.0000000000004999", PICO, Err(PriceError::NotPositive)),
        // 30 digits is the most the parser holds; the 31st is refused whatever it means.
        (
            "1234567890123456789012345678901",
            CENT,
            Err(PriceError::TooLarge),
        ),
        (
            "0.00000000000000000000000000001",
            CENT,
            Err(PriceError::NotPositive),
        ),
        (
            "0.00000000000000000000000000701",
            CENT,
            Err(PriceError::NotPositive),
        ),
        (
            "100000000.000000000000000000000",
            CENT,
            Ok(Price(MAX_TICKS / 100)),
        ),
    ];
    for (text, tick, want) in cases {
        assert_eq!(
            Price::from_decimal(text, *tick),
            *want,
            "parsing {text:?} at {tick}"
        );
    }
}

#[test]
fn decimal_conversion_never_overflows_at_the_extremes() {
    let tick = |text| TickSize::from_decimal(text).unwrap();
    let cases: &[(&str, TickSize, Result<Price, PriceError>)] = &[
        // 0.1008… / 0.1574… = 0.64 ticks: `num + den / 2` used to overflow i128 here.
        (
            ".10080000000962460000000096246",
            tick("0.1574188596"),
            Ok(Price(1)),
        ),
        // Half a tick with 29 decimals against a 2.0 tick: rounds up, not "too large".
        (
            "1.00000000000000000000000000000",
            TickSize::new(2_000_000_000, 9).unwrap(),
            Ok(Price(1)),
        ),
        (
            "0.99999999999999999999999999999",
            TickSize::new(2_000_000_000, 9).unwrap(),
            Err(PriceError::NotPositive),
        ),
        // 29 decimals against the finest tick: exactly MAX_TICKS, not an overflow.
        (
            "1.00000000000000000000000000000",
            PICO,
            Ok(Price(MAX_TICKS)),
        ),
        (
            "1.00000000000000000000000000001",
            PICO,
            Ok(Price(MAX_TICKS)),
        ),
        // mantissa × 10^29 does not fit i128: the price is far below half a tick.
        (
            "0.00000000000000000000000000001",
            WIDEST,
            Err(PriceError::NotPositive),
        ),
        (
            "9.99999999999999999999999999999",
            WIDEST,
            Err(PriceError::NotPositive),
        ),
        // digits × 10^12 does not fit i128: the price is far above MAX_TICKS.
        (
            "999999999999999999999999999999",
            PICO,
            Err(PriceError::TooLarge),
        ),
        (
            "-999999999999999999999999999999",
            PICO,
            Err(PriceError::NotPositive),
        ),
        // The quotient does not fit i64 (but does fit i128).
        (
            "99999999999999999999999999",
            CENT,
            Err(PriceError::TooLarge),
        ),
        ("4294967295", WIDEST, Ok(Price(1))),
        ("2147483647.5", WIDEST, Ok(Price(1))),
        ("2147483647.4999", WIDEST, Err(PriceError::NotPositive)),
    ];
    for (text, tick, want) in cases {
        assert_eq!(
            Price::from_decimal(text, *tick),
            *want,
            "parsing {text:?} at {tick}"
        );
    }
}

/// `n × 10^-scale` as decimal text with exactly `scale` fraction digits.
fn decimal(n: u128, scale: u32) -> String {
    let digits = n.to_string();
    let scale = scale as usize;
    if scale == 0 {
        return digits;
    }
    let padded = std::format!("{digits:0>width$}", width = scale + 1);
    let (whole, frac) = padded.split_at(padded.len() - scale);
    std::format!("{whole}.{frac}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Text that lies some units (of its last digit) away from a whole number of ticks rounds to
    /// that tick, or to a neighbour exactly from the half-way point on: the model works it out in
    /// exact integers, the offsets are drawn on both sides of both half-way points.
    #[test]
    fn decimal_text_rounds_exactly_at_the_half_tick(
        mantissa in prop_oneof![Just(1u32), Just(2), Just(5), 1u32..1000, Just(u32::MAX)],
        exp in 0u8..=MAX_TICK_EXP,
        extra in 0u32..=6,
        ticks in prop_oneof![1i64..=3, MAX_TICKS - 2..=MAX_TICKS + 1, 1i64..=MAX_TICKS],
        pick in 0u8..6,
        frac in -1.0f64..1.0,
        trim in any::<bool>(),
    ) {
        let tick = TickSize::new(mantissa, exp).unwrap();
        // One tick is `unit` units of the text's last digit.
        let unit = i128::from(mantissa) * 10i128.pow(extra);
        let off = match pick {
            0 => 0,
            1 => (unit + 1) / 2,  // the first unit at or past half a tick up: rounds up
            2 => (unit - 1) / 2,  // the last unit below it: stays
            3 => -(unit / 2),     // half a tick down or just inside it: stays
            4 => -(unit / 2) - 1, // just past half a tick down: rounds down
            _ => (frac * unit as f64) as i128,
        };
        let value = i128::from(ticks) * unit + off;
        prop_assume!(value > 0);
        let mut text = decimal(value as u128, u32::from(exp) + extra);
        if trim && text.contains('.') {
            // Fewer decimals than the tick has: the other side of the exponent comparison.
            text = text.trim_end_matches('0').trim_end_matches('.').into();
        }
        let (q, r) = (value / unit, value % unit);
        let want_ticks = if 2 * r >= unit { q + 1 } else { q };
        let want = if want_ticks < 1 {
            Err(PriceError::NotPositive)
        } else if want_ticks > i128::from(MAX_TICKS) {
            Err(PriceError::TooLarge)
        } else {
            Ok(Price(want_ticks as i64))
        };
        prop_assert_eq!(Price::from_decimal(&text, tick), want, "{} at {}", text, tick);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any digits at any tick: never a panic, and a price only when it is in range.
    #[test]
    fn any_decimal_text_is_handled(
        text in "[+-]?[0-9]{0,31}(\\.[0-9]{0,31})?",
        mantissa in any::<u32>(),
        exp in 0u8..=MAX_TICK_EXP,
    ) {
        let Ok(tick) = TickSize::new(mantissa, exp) else { return Ok(()) };
        if let Ok(p) = Price::from_decimal(&text, tick) {
            prop_assert!((1..=MAX_TICKS).contains(&p.ticks()), "{} at {}: {:?}", text, tick, p);
        }
    }
}

#[test]
fn floats_round_to_nearest_tick_and_reject_junk() {
    let cases: &[(f64, TickSize, Result<Price, PriceError>)] = &[
        (123.45, CENT, Ok(Price(12345))),
        (0.1 + 0.2, CENT, Ok(Price(30))),
        (0.005, CENT, Ok(Price(1))),
        (0.004, CENT, Err(PriceError::NotPositive)),
        (9750.25, HALF, Ok(Price(19501))),
        (9750.24, HALF, Ok(Price(19500))),
        (
            1.5,
            TickSize {
                mantissa: 1,
                exp: 0,
            },
            Ok(Price(2)),
        ),
        (1e10, CENT, Ok(Price(MAX_TICKS))),
        (1e10 + 0.004, CENT, Ok(Price(MAX_TICKS))),
        (1e10 + 0.006, CENT, Err(PriceError::TooLarge)),
        (1e10 + 0.02, CENT, Err(PriceError::TooLarge)),
        (1e300, CENT, Err(PriceError::TooLarge)),
        (f64::MAX, PICO, Err(PriceError::TooLarge)),
        (f64::NAN, CENT, Err(PriceError::NotFinite)),
        (f64::INFINITY, CENT, Err(PriceError::NotFinite)),
        (f64::NEG_INFINITY, CENT, Err(PriceError::NotFinite)),
        (-1.0, CENT, Err(PriceError::NotPositive)),
        (0.0, CENT, Err(PriceError::NotPositive)),
        (-0.0, CENT, Err(PriceError::NotPositive)),
    ];
    for (value, tick, want) in cases {
        assert_eq!(
            Price::from_f64(*value, *tick),
            *want,
            "converting {value} at {tick}"
        );
    }
}

#[test]
fn tick_sizes_parse_from_text() {
    let cases: &[(&str, Result<TickSize, PriceError>)] = &[
        ("0.01", Ok(CENT)),
        ("0.010", Ok(CENT)),
        ("+0.0100000", Ok(CENT)),
        ("0.5", Ok(HALF)),
        ("10", TickSize::new(10, 0)),
        ("100.0", TickSize::new(100, 0)),
        ("0.000000000001", Ok(PICO)),
        ("0.0000000000010", Ok(PICO)),
        ("0.0000000000001", Err(PriceError::BadTickSize)),
        ("4294967295", Ok(WIDEST)),
        ("4294967296", Err(PriceError::BadTickSize)),
        ("0", Err(PriceError::BadTickSize)),
        ("0.000", Err(PriceError::BadTickSize)),
        ("-0.01", Err(PriceError::BadTickSize)),
        ("1.2.3", Err(PriceError::BadTickSize)),
        ("", Err(PriceError::BadTickSize)),
    ];
    for (text, want) in cases {
        assert_eq!(TickSize::from_decimal(text), *want, "tick size {text:?}");
    }
}

#[test]
fn tick_sizes_recover_from_floats() {
    let cases: &[(f64, Result<TickSize, PriceError>)] = &[
        (0.5, Ok(HALF)),
        (0.01, Ok(CENT)),
        (1.0, TickSize::new(1, 0)),
        (25.0, TickSize::new(25, 0)),
        (0.1574188596, TickSize::new(1_574_188_596, 10)),
        (1e-12, Ok(PICO)),
        (1e-13, Err(PriceError::BadTickSize)),
        (4_294_967_295.0, Ok(WIDEST)),
        // Within rounding of u32::MAX, but above it.
        (4_294_967_295.3, Err(PriceError::BadTickSize)),
        (4_294_967_296.0, Err(PriceError::BadTickSize)),
        // Needs more mantissa digits than a u32 holds.
        (429_496_729.55, Err(PriceError::BadTickSize)),
        (-0.01, Err(PriceError::BadTickSize)),
        (-0.0, Err(PriceError::BadTickSize)),
        (0.0, Err(PriceError::BadTickSize)),
        (f64::MIN_POSITIVE, Err(PriceError::BadTickSize)),
        (f64::NAN, Err(PriceError::BadTickSize)),
        (f64::INFINITY, Err(PriceError::BadTickSize)),
        (f64::NEG_INFINITY, Err(PriceError::BadTickSize)),
    ];
    for (value, want) in cases {
        assert_eq!(TickSize::from_f64(*value), *want, "tick size {value}");
    }
}

#[test]
fn tick_sizes_expose_and_display_their_parts() {
    assert_eq!((HALF.mantissa(), HALF.exp()), (5, 1));
    assert_eq!((WIDEST.mantissa(), WIDEST.exp()), (u32::MAX, 0));
    assert_eq!(TickSize::new(0, 2), Err(PriceError::BadTickSize));
    assert_eq!(TickSize::new(1, 13), Err(PriceError::BadTickSize));
    let cases: &[(TickSize, &str)] = &[
        (CENT, "0.01"),
        (HALF, "0.5"),
        (
            TickSize {
                mantissa: 25,
                exp: 0,
            },
            "25",
        ),
        (
            TickSize {
                mantissa: 1234,
                exp: 2,
            },
            "12.34",
        ),
        (PICO, "0.000000000001"),
        (WIDEST, "4294967295"),
    ];
    for &(tick, text) in cases {
        assert_eq!(tick.to_string(), text);
        assert_eq!(TickSize::from_decimal(text), Ok(tick), "{text} round trip");
    }
}

#[test]
fn stored_tick_sizes_are_checked_like_new_ones() {
    let read = |json: &str| {
        serde_json_core::from_str::<TickSize>(json)
            .map(|(t, _)| t)
            .ok()
    };
    assert_eq!(read(r#"{"mantissa":5,"exp":1}"#), Some(HALF));
    assert_eq!(read(r#"{"mantissa":0,"exp":1}"#), None);
    assert_eq!(read(r#"{"mantissa":1,"exp":13}"#), None);
    let mut buf = [0u8; 64];
    let n = serde_json_core::to_slice(&HALF, &mut buf).unwrap();
    assert_eq!(&buf[..n], br#"{"mantissa":5,"exp":1}"#);
}

#[test]
fn prices_expose_their_ticks_and_display_as_floats() {
    assert_eq!(Price(7123).ticks(), 7123);
    assert_eq!(Price(-2).ticks(), -2);
    let cases: &[(Price, TickSize, f64)] = &[
        (Price(12345), CENT, 123.45),
        (Price(3), HALF, 1.5),
        (
            Price(7),
            TickSize {
                mantissa: 25,
                exp: 0,
            },
            175.0,
        ),
        (Price(MAX_TICKS), PICO, 1.0),
    ];
    for &(p, tick, want) in cases {
        let got = p.to_f64(tick);
        assert!(
            (got - want).abs() < 1e-9,
            "{p:?} at {tick}: {got}, want {want}"
        );
    }
}

#[test]
fn errors_say_what_was_wrong() {
    let cases: &[(PriceError, &str)] = &[
        (PriceError::NotFinite, "price is not a finite number"),
        (PriceError::NotPositive, "price is not positive"),
        (PriceError::TooLarge, "price is too large"),
        (PriceError::Malformed, "price is not a decimal number"),
        (
            PriceError::BadTickSize,
            "tick size must be a positive decimal no finer than 1e-12",
        ),
    ];
    for (e, text) in cases {
        assert_eq!(e.to_string(), *text);
    }
}
