//! The core on real market data: 44,447 one-minute LTC/USDT candles (May–June 2021, including the
//! 19 May crash). The O(1) strategy's signal times must equal, exactly, those of a naive reference
//! that recomputes both means from scratch on every candle (the original script's
//! `sum(closes[-n:]) / n`) and compares them as exact rationals. Each check also runs on a seeded
//! synthetic market (trends, chop, a crash, outages cut in), so it runs on every clone.
#![allow(clippy::unwrap_used)]

use maestro_core::{
    Candle, CandleError, Guards, Mode, Params, Price, Regime, Strategy, TickSize, run_batch,
};
use maestro_tests::data::data_file;
use maestro_tests::market::{rough_market, write_freqtrade};
use maestro_tests::scratch::scratch_dir;
use std::path::Path;

const MINUTE: i64 = 60_000;

/// Reads a freqtrade JSON file (`[[open_ms, o, h, l, c, v], ...]`, start-of-bar times) into
/// candles stamped with their close time.
fn load_freqtrade(path: &Path) -> Vec<Candle> {
    let text = std::fs::read_to_string(path).unwrap();
    let rows: Vec<(i64, f64, f64, f64, f64, f64)> = serde_json::from_str(&text).unwrap();
    let tick = TickSize::CENT;
    rows.iter()
        .map(|&(open_ms, o, h, l, c, _volume)| Candle {
            close_time_ms: open_ms + MINUTE,
            open: Price::from_f64(o, tick).unwrap(),
            high: Price::from_f64(h, tick).unwrap(),
            low: Price::from_f64(l, tick).unwrap(),
            close: Price::from_f64(c, tick).unwrap(),
        })
        .collect()
}

fn params(short: u32, long: u32) -> Params {
    Params {
        short_window: short,
        long_window: long,
        mode: Mode::LongShort,
        qty: 1000,
        lot_size: 1000,
        max_position: 1000,
        bin_ms: MINUTE,
        guards: Guards::default(),
    }
}

/// Signal times and regimes from scratch: both sums re-added every candle, means compared as
/// rationals (`s/short` vs `l/long` ⇔ `s·long` vs `l·short`), equal means keep the regime.
fn naive_signals(candles: &[Candle], short: usize, long: usize) -> Vec<(i64, Regime)> {
    let closes: Vec<i128> = candles.iter().map(|c| i128::from(c.close.0)).collect();
    let mut regime = None;
    let mut out = Vec::new();
    for end in long..=closes.len() {
        let s: i128 = closes[end - short..end].iter().sum();
        let l: i128 = closes[end - long..end].iter().sum();
        let (lhs, rhs) = (s * long as i128, l * short as i128);
        let now = if lhs > rhs {
            Some(Regime::Bullish)
        } else if lhs < rhs {
            Some(Regime::Bearish)
        } else {
            regime
        };
        if now != regime {
            regime = now;
            out.push((candles[end - 1].close_time_ms, now.unwrap()));
        }
    }
    out
}

#[test]
fn signal_times_on_real_ltc_data_equal_the_naive_reference() {
    let Some(path) = data_file(
        "signal_times_on_real_ltc_data_equal_the_naive_reference",
        "ltcusdt-binance-spot-1m-2021-05.json",
    ) else {
        return;
    };
    let candles = load_freqtrade(&path);
    assert_eq!(candles.len(), 44_447, "candles in {}", path.display());
    plain_signals_equal_the_naive_reference(&candles, 500, 20_011);
}

#[test]
fn signal_times_on_synthetic_data_equal_the_naive_reference() {
    let candles = synthetic_candles(&[]);
    plain_signals_equal_the_naive_reference(&candles, 60, 5_011);
}

/// The core's 10/50 signals over `candles` (more than `min_signals`) equal the naive reference's,
/// also when the run is cut in two by a snapshot at candle `cut`.
fn plain_signals_equal_the_naive_reference(candles: &[Candle], min_signals: usize, cut: usize) {
    let mut s = Strategy::<64>::new(params(10, 50)).unwrap();
    let mut got = Vec::new();
    let stats = run_batch(&mut s, candles, |_, sig| {
        got.push((sig.close_time_ms, sig.regime))
    })
    .unwrap_or_else(|e| panic!("candles refused: {e}"));
    let want = naive_signals(candles, 10, 50);

    assert_eq!(stats.candles, candles.len());
    assert_eq!(stats.not_ready, 49);
    assert!(
        want.len() > min_signals,
        "only {} reference signals",
        want.len()
    );
    if let Some(i) = got.iter().zip(&want).position(|(a, b)| a != b) {
        panic!(
            "first difference at signal #{i}: core {:?}, reference {:?}",
            got[i], want[i]
        );
    }
    assert_eq!(got.len(), want.len(), "signal counts differ");
    eprintln!(
        "10/50 on {} candles: {} signals, equal to the naive reference",
        candles.len(),
        got.len()
    );

    // Cut the run in two with a snapshot (as the runner does between ticks): same signals.
    let mut first = Strategy::<64>::new(params(10, 50)).unwrap();
    run_batch(&mut first, &candles[..cut], |_, _| {}).unwrap();
    let mut buf = [0u8; Strategy::<64>::MAX_SNAPSHOT_LEN];
    let n = first.encode(&mut buf).unwrap();
    eprintln!("snapshot of 10/50 at candle {cut}: {n} bytes");
    let mut second = Strategy::<64>::decode(&buf[..n]).unwrap();
    let mut tail = Vec::new();
    run_batch(&mut second, &candles[cut..], |_, sig| {
        tail.push((sig.close_time_ms, sig.regime))
    })
    .unwrap();
    let split = want
        .iter()
        .position(|&(t, _)| t > candles[cut - 1].close_time_ms)
        .unwrap();
    assert_eq!(
        tail,
        want[split..],
        "signals after a snapshot at candle {cut}"
    );
}

/// The guarded reference, from scratch per candle: the side is taken outside a band of `h` basis
/// points; a flip to a side needs the last `K` candles to indicate it and `M` candles since the
/// previous flip.
fn naive_guarded_signals(
    candles: &[Candle],
    short: usize,
    long: usize,
    g: Guards,
) -> Vec<(i64, Regime)> {
    let closes: Vec<i128> = candles.iter().map(|c| i128::from(c.close.0)).collect();
    let h = i128::from(g.hysteresis_bp);
    let side: Vec<Option<Regime>> = (1..=closes.len())
        .map(|end| {
            if end < long {
                return None;
            }
            let s: i128 = closes[end - short..end].iter().sum();
            let l: i128 = closes[end - long..end].iter().sum();
            let (lhs, rhs) = (s * long as i128 * 10_000, l * short as i128);
            if lhs > rhs * (10_000 + h) {
                Some(Regime::Bullish)
            } else if lhs < rhs * (10_000 - h) {
                Some(Regime::Bearish)
            } else {
                None
            }
        })
        .collect();
    let k = g.confirm_bars.max(1) as usize;
    let (mut regime, mut last_flip) = (None, None::<usize>);
    let mut out = Vec::new();
    for i in 0..closes.len() {
        let Some(x) = side[i] else { continue };
        let confirmed = i + 1 >= k && side[i + 1 - k..=i].iter().all(|&c| c == Some(x));
        let held = last_flip.is_none_or(|f| i - f >= g.min_hold_bars as usize);
        if Some(x) != regime && confirmed && held {
            regime = Some(x);
            last_flip = Some(i);
            out.push((candles[i].close_time_ms, x));
        }
    }
    out
}

#[test]
fn guarded_signal_times_on_real_ltc_data_equal_the_naive_reference() {
    let Some(path) = data_file(
        "guarded_signal_times_on_real_ltc_data_equal_the_naive_reference",
        "ltcusdt-binance-spot-1m-2021-05.json",
    ) else {
        return;
    };
    let candles = load_freqtrade(&path);
    guarded_signals_equal_the_naive_reference(&candles);
}

#[test]
fn guarded_signal_times_on_synthetic_data_equal_the_naive_reference() {
    guarded_signals_equal_the_naive_reference(&synthetic_candles(&[]));
}

/// With each kind of guard, the core's signals over `candles` equal the naive guarded reference's,
/// and are fewer than the plain crossover's.
fn guarded_signals_equal_the_naive_reference(candles: &[Candle]) {
    let plain = naive_signals(candles, 10, 50).len();
    let cases = [
        Guards {
            hysteresis_bp: 10,
            confirm_bars: 0,
            min_hold_bars: 0,
        },
        Guards {
            hysteresis_bp: 0,
            confirm_bars: 3,
            min_hold_bars: 0,
        },
        Guards {
            hysteresis_bp: 0,
            confirm_bars: 0,
            min_hold_bars: 30,
        },
        Guards {
            hysteresis_bp: 5,
            confirm_bars: 2,
            min_hold_bars: 15,
        },
    ];
    for g in cases {
        let mut s = Strategy::<64>::new(Params {
            guards: g,
            ..params(10, 50)
        })
        .unwrap();
        let mut got = Vec::new();
        run_batch(&mut s, candles, |_, sig| {
            got.push((sig.close_time_ms, sig.regime))
        })
        .unwrap();
        let want = naive_guarded_signals(candles, 10, 50, g);
        assert_eq!(got, want, "{g:?}");
        assert!(
            got.len() < plain,
            "{g:?} should filter some of the {plain} plain signals"
        );
        eprintln!("10/50 with {g:?}: {} signals (plain: {plain})", got.len());
    }
}

#[test]
fn real_exchange_outages_are_reported_as_gaps() {
    let Some(path) = data_file(
        "real_exchange_outages_are_reported_as_gaps",
        "ltcusdt-binance-spot-1m-2021-04-gaps.json",
    ) else {
        return;
    };
    let candles = load_freqtrade(&path);
    assert_eq!(candles.len(), 61_277, "candles in {}", path.display());
    let gaps = outages(&candles);
    eprintln!("missing bars per outage: {gaps:?}");
    // The data README lists outages of 151 and 284 minutes between bars: 150 and 283 missing.
    assert_eq!(gaps, [150, 283], "the file has two real outages");
}

#[test]
fn synthetic_exchange_outages_are_reported_as_gaps() {
    // Outages as long as the April 2021 file's: 150 and 283 bars never produced.
    let candles = synthetic_candles(&[3_000..3_150, 8_000..8_283]);
    assert_eq!(outages(&candles), [150, 283]);
}

/// The bars missing in each outage the core refuses to bridge, restarting the strategy after each
/// as a runner does.
fn outages(candles: &[Candle]) -> Vec<u64> {
    let mut s = Strategy::<64>::new(params(10, 50)).unwrap();
    let mut from = 0;
    let mut gaps = Vec::new();
    loop {
        match run_batch(&mut s, &candles[from..], |_, _| {}) {
            Ok(_) => break,
            Err(e) => {
                let CandleError::Gap {
                    last_ms,
                    got_ms,
                    missing,
                } = e.error
                else {
                    panic!("unexpected refusal: {e}");
                };
                assert_eq!(got_ms - last_ms, (missing as i64 + 1) * MINUTE);
                // The refused candle is the first after the outage; the state stayed before it.
                assert_eq!(s.last_close_ms(), Some(last_ms));
                gaps.push(missing);
                // A runner warms up again from scratch after an outage.
                from += e.index;
                s = Strategy::<64>::new(params(10, 50)).unwrap();
            }
        }
    }
    gaps
}

/// 12,000 minutes of the seeded rough market (trends, chop, a crash), less the bars in `holes`,
/// through the same freqtrade file reader as the real data.
fn synthetic_candles(holes: &[std::ops::Range<usize>]) -> Vec<Candle> {
    let dir = scratch_dir("core_synthetic");
    let path = write_freqtrade(dir.path(), &rough_market(0x0000_636f_7265, 12_000), holes);
    load_freqtrade(&path)
}
