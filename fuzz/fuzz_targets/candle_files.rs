//! The CLI's candle file parsers (freqtrade JSON, BitMEX JSON, CSV, format detection): never a
//! panic, and what loads keeps the promises the backtests rely on.
//!
//! Input: byte 0 picks format, stamp and bar length, byte 1 the tick; the rest is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use maestro_cli::candles_file::{Format, LoadOptions, Stamp, parse};
use maestro_core::TickSize;
use maestro_core::price::MAX_TICKS;

const BINS: [Option<i64>; 8] = [
    None,
    None,
    Some(60_000),
    Some(3_600_000),
    Some(86_400_000),
    Some(1),
    Some(0),
    Some(i64::MAX),
];

fuzz_target!(|data: &[u8]| {
    let [opts, tick, rest @ ..] = data else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let format = match opts & 3 {
        0 => None,
        1 => Some(Format::Freqtrade),
        2 => Some(Format::BitmexJson),
        _ => Some(Format::Csv),
    };
    let stamp = match (opts >> 2) & 3 {
        1 => Some(Stamp::Start),
        2 => Some(Stamp::End),
        _ => None,
    };
    let tick = match tick % 5 {
        0 => Ok(TickSize::CENT),
        1 => TickSize::new(5, 1),
        2 => TickSize::new(1, 12),
        3 => TickSize::new(u32::MAX, 0),
        _ => TickSize::new(1_574_188_596, 10),
    }
    .expect("valid ticks");
    let options = LoadOptions {
        format,
        stamp,
        bin_ms: BINS[usize::from(opts >> 5)],
        off_grid: Default::default(),
        tick,
    };
    let Ok(series) = parse(&text, &options) else {
        return;
    };
    assert!(!series.candles.is_empty(), "a loaded file has candles");
    assert!(series.bin_ms > 0);
    for c in &series.candles {
        for p in [c.open, c.high, c.low, c.close] {
            assert!(
                (1..=MAX_TICKS).contains(&p.ticks()),
                "price {p:?} out of range"
            );
        }
        assert!(
            c.low <= c.close && c.close <= c.high,
            "close outside [low, high]: {c:?}"
        );
    }
    for pair in series.candles.windows(2) {
        let step = pair[1].close_time_ms - pair[0].close_time_ms;
        assert!(step > 0 && step % series.bin_ms == 0, "bad step {step}");
    }
    for gap in &series.gaps {
        assert!(gap.index > 0 && gap.index < series.candles.len());
        assert!(gap.missing > 0);
    }
});
