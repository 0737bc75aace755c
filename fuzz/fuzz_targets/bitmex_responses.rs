//! The BitMEX client's answer parsers (candles, instrument, position, orders, error bodies,
//! timestamps): never a panic, and what parses keeps the promises the tick relies on.
//!
//! Input: byte 0 picks the parser (and the candles' tick and order); the rest is the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maestro_core::TickSize;
use maestro_core::price::MAX_TICKS;
use maestro_lambda::bitmex::fuzz_api as api;
use maestro_lambda::exchange::PlacedOrder;

fn check_order(o: &PlacedOrder) {
    // Quantities are whole and non-negative by type; what matters is no panic getting here and a
    // finite average price.
    assert!(o.avg_price.is_none_or(f64::is_finite), "{o:?}");
}

fuzz_target!(|data: &[u8]| {
    let [which, rest @ ..] = data else {
        return;
    };
    let body = String::from_utf8_lossy(rest);
    match which % 8 {
        0 | 1 => {
            let tick = if which & 0x10 == 0 {
                TickSize::CENT
            } else {
                TickSize::new(5, 1).expect("valid")
            };
            if let Ok(candles) = api::candles(&body, "LTCUSDT", tick, which % 8 == 1) {
                for c in &candles {
                    for p in [c.open, c.high, c.low, c.close] {
                        assert!((1..=MAX_TICKS).contains(&p.ticks()), "{c:?}");
                    }
                }
                assert!(
                    candles
                        .windows(2)
                        .all(|w| w[0].close_time_ms < w[1].close_time_ms),
                    "candles not strictly ascending"
                );
            }
        }
        2 => {
            if let Ok(i) = api::instrument(&body, "LTCUSDT") {
                assert_eq!(i.symbol, "LTCUSDT");
                assert!(i.lot_size > 0 && i.taker_fee.is_finite(), "{i:?}");
            }
        }
        3 => {
            let _ = api::position(&body, "LTCUSDT");
        }
        4 => {
            if let Ok(o) = api::placed(&body) {
                check_order(&o);
            }
        }
        5 => {
            if let Ok(Some(o)) = api::found(&body, "cm-0123456789-abc") {
                assert_eq!(o.cl_ord_id, "cm-0123456789-abc");
                check_order(&o);
            }
        }
        6 => {
            if let Ok(orders) = api::cancelled(&body, "LTCUSDT") {
                orders.iter().for_each(check_order);
            }
        }
        _ => {
            let status = u16::from_le_bytes([rest.first().copied().unwrap_or(0), 1]);
            let (name, message) = api::error_body(status, &body);
            assert!(!name.is_empty());
            let _ = message;
            let ms = i64::from_le_bytes(
                rest.get(..8)
                    .and_then(|b| b.try_into().ok())
                    .unwrap_or([0; 8]),
            );
            let (parsed, written) = api::timestamps(&body, ms);
            // What we write for startTime reads back as the same instant.
            if let Ok(text) = written {
                assert_eq!(api::timestamps(&text, 0).0, Some(ms), "{ms} → {text}");
            }
            let _ = parsed;
        }
    }
});
