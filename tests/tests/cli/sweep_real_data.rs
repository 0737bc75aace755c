//! The sweep on real LTC data: every result equals a plain backtest of its pair, exactly, and the
//! plain crossover loses after fees for every pair 2..30 on May 2021 (DESIGN.md).

use maestro_cli::backtest::backtest;
use maestro_cli::candles_file::{CandleSeries, LoadOptions, load};
use maestro_cli::sim::account::FeeRate;
use maestro_cli::sweep::{SweepSpec, from_backtest, sweep, sweep_pairs};
use maestro_core::{Guards, Mode};
use maestro_tests::data::data_file;

const MAY: &str = "ltcusdt-binance-spot-1m-2021-05.json";
const APRIL_GAPS: &str = "ltcusdt-binance-spot-1m-2021-04-gaps.json";
/// Bitcoin at ~46,000: prices 150 times LTC's, to exercise the integer bounds.
const BTC: &str = "btcperp-ftx-1m-2022-01.csv";

fn series(test: &str, name: &str) -> Option<CandleSeries> {
    let path = data_file(test, name)?;
    Some(load(&path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}")))
}

fn spec(mode: Mode) -> SweepSpec {
    SweepSpec {
        mode,
        ..SweepSpec::cli_defaults(2..=200, 3..=200)
    }
}

/// A reproducible random sample of pairs 2 <= short < long <= 200 (xorshift; the seed can be
/// changed with MAESTRO_SWEEP_SEED to draw another sample).
fn sample(n: usize) -> Vec<(u32, u32)> {
    let mut x: u64 = std::env::var("MAESTRO_SWEEP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_cafe_f00d);
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let a = (next() % 199) as u32 + 2;
        let b = (next() % 199) as u32 + 2;
        if a != b {
            out.push((a.min(b), a.max(b)));
        }
    }
    // Small windows trade the most and stress the accounting: always include a few.
    out.extend([(2, 3), (2, 200), (199, 200), (10, 50)]);
    // Pairs sharing a short window run four at a time in the sweep: cover that path too.
    out.extend((11..=18).map(|long| (10, long)));
    out
}

#[test]
fn sweep_results_equal_single_backtests_on_a_random_sample() {
    let test = "sweep_results_equal_single_backtests_on_a_random_sample";
    let Some(may) = series(test, MAY) else { return };
    let Some(april) = series(test, APRIL_GAPS) else {
        return;
    };
    let Some(btc) = series(test, BTC) else {
        return;
    };
    assert_eq!(april.gaps.len(), 2, "the April file has two outages");
    for (name, data, n) in [(MAY, &may, 24), (APRIL_GAPS, &april, 8), (BTC, &btc, 6)] {
        for mode in [Mode::LongShort, Mode::LongOnly] {
            let spec = spec(mode);
            let pairs = sample(n);
            let swept = sweep_pairs(data, &spec, &pairs, &|| {}).unwrap_or_else(|e| panic!("{e}"));
            for (r, &(s, l)) in swept.iter().zip(&pairs) {
                let single = backtest(data, spec.params(s, l, data.bin_ms), spec.fee)
                    .unwrap_or_else(|e| panic!("{e}"));
                let want = from_backtest(&single);
                assert_eq!(
                    (r.fills, r.flips, r.pnl),
                    (want.fills, want.flips, want.pnl),
                    "{name} {mode:?} {s}/{l}: trades, flips and PnL (exact units)"
                );
                assert_eq!(*r, want, "{name} {mode:?} {s}/{l}: every figure");
                assert!(
                    r.fills > 0,
                    "{name} {s}/{l} must trade on a month of 1m data"
                );
            }
        }
    }
}

#[test]
fn plain_crossover_loses_after_fees_for_every_pair_2_to_30_in_may_2021() {
    let test = "plain_crossover_loses_after_fees_for_every_pair_2_to_30_in_may_2021";
    let Some(may) = series(test, MAY) else { return };
    let mut spec = spec(Mode::LongShort);
    spec.shorts = 2..=30;
    spec.longs = 3..=30;
    let results = sweep(&may, &spec, &|| {}).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(results.len(), 406);
    let winners: Vec<_> = results
        .iter()
        .filter(|r| r.pnl.0 >= 0)
        .map(|r| (r.short, r.long))
        .collect();
    assert!(
        winners.is_empty(),
        "pairs that did not lose after 5 bp fees: {winners:?}"
    );
    // Without fees the same signals are not all losers: the fee is what sinks them.
    spec.fee = FeeRate::from_ppm(0);
    let free = sweep(&may, &spec, &|| {}).unwrap_or_else(|e| panic!("{e}"));
    for (paid, free) in results.iter().zip(&free) {
        assert_eq!(
            paid.fills, free.fills,
            "{}/{}: fees do not change trades",
            paid.short, paid.long
        );
        assert_eq!(
            paid.pnl.0 + paid.fees.0,
            free.pnl.0,
            "{}/{}: PnL + fees = gross",
            paid.short,
            paid.long
        );
    }
}

#[test]
fn guarded_sweep_results_equal_single_backtests_on_real_data() {
    let test = "guarded_sweep_results_equal_single_backtests_on_real_data";
    let Some(april) = series(test, APRIL_GAPS) else {
        return;
    };
    let mut spec = spec(Mode::LongShort);
    spec.guards = Guards {
        hysteresis_bp: 3,
        confirm_bars: 2,
        min_hold_bars: 10,
    };
    let pairs = sample(10);
    let swept = sweep_pairs(&april, &spec, &pairs, &|| {}).unwrap_or_else(|e| panic!("{e}"));
    for (r, &(s, l)) in swept.iter().zip(&pairs) {
        let single = backtest(&april, spec.params(s, l, april.bin_ms), spec.fee)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(*r, from_backtest(&single), "guarded {s}/{l}");
    }
}
