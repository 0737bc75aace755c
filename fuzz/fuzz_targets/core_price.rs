//! The core's decimal and float price parsing, checked against an exact big-integer reference.
//!
//! Input: byte 0 picks how the tick is given (raw parts from bytes 1..6, or text after a `|`), the
//! rest is the price text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maestro_core::price::MAX_TICKS;
use maestro_core::{Price, PriceError, TickSize};
use maestro_fuzz::{exact_ticks, plain_decimal};

fuzz_target!(|data: &[u8]| {
    if data.len() < 6 {
        return;
    }
    let raw_tick = TickSize::new(
        u32::from_le_bytes([data[1], data[2], data[3], data[4]]),
        data[5] % 13,
    );
    let Ok(text) = std::str::from_utf8(&data[6..]) else {
        return;
    };
    let (text, tick) = match (data[0] & 1, text.split_once('|')) {
        (1, Some((price, tick))) => {
            let parsed = TickSize::from_decimal(tick);
            if let Ok(t) = parsed {
                // A tick is accepted only from positive plain decimal text, and it displays as
                // text that parses back to itself.
                assert!(
                    plain_decimal(tick).is_some_and(|(neg, digits, _)| !neg && digits > 0),
                    "tick {tick:?} accepted as {t}"
                );
                let again = TickSize::from_decimal(&t.to_string());
                assert_eq!(again, Ok(t), "tick {tick:?} does not round-trip");
            }
            (price, parsed)
        }
        _ => (text, raw_tick),
    };
    let Ok(tick) = tick else {
        return;
    };

    let got = Price::from_decimal(text, tick);
    match plain_decimal(text) {
        Some((negative, digits, scale)) => {
            let want = match exact_ticks(
                negative,
                digits,
                scale,
                tick.mantissa(),
                u32::from(tick.exp()),
                MAX_TICKS,
            ) {
                Ok(t) => Ok(Price(t)),
                Err(true) => Err(PriceError::TooLarge),
                Err(false) => Err(PriceError::NotPositive),
            };
            assert_eq!(got, want, "{text:?} at tick {tick}");
        }
        None => assert!(
            got.is_err(),
            "{text:?} is no plain decimal but gave {got:?}"
        ),
    }

    // The float path: never a panic, and a price only within range.
    if let Ok(value) = text.parse::<f64>() {
        if let Ok(p) = Price::from_f64(value, tick) {
            assert!((1..=MAX_TICKS).contains(&p.ticks()), "{value} → {p:?}");
        }
        if let Ok(t) = TickSize::from_f64(value) {
            assert!(t.mantissa() > 0 && t.exp() <= 12, "{value} → {t:?}");
        }
    }
});
