//! The sweep against single backtests on random series: random walks with tiny steps (many equal
//! means, many flips), random gaps (stretches shorter than a long window), random windows (groups
//! of four and partly filled ones), modes, sizes and fees.

use super::*;
use crate::candles_file::{Format, Stamp};
use maestro_core::{Candle, Price, TickSize};
use proptest::prelude::*;

const MIN: i64 = 60_000;

/// Candles from close moves; each `(i, k)` of `gaps` leaves `k` bars out after candle `i`.
fn series(base: i64, moves: &[i64], gaps: &[(usize, i64)]) -> CandleSeries {
    let mut t = 1_700_000_000_000;
    let mut close = base;
    let mut candles = Vec::with_capacity(moves.len());
    for (i, &m) in moves.iter().enumerate() {
        close = (close + m).max(1);
        let p = Price(close);
        candles.push(Candle {
            close_time_ms: t,
            open: p,
            high: p,
            low: p,
            close: p,
        });
        let skipped: i64 = gaps.iter().filter(|g| g.0 == i).map(|g| g.1).sum();
        t += MIN * (1 + skipped);
    }
    CandleSeries {
        candles,
        bin_ms: MIN,
        format: Format::Freqtrade,
        stamp: Stamp::Start,
        gaps: Vec::new(),
        off_grid: Vec::new(),
        tick: TickSize::CENT,
    }
}

/// What `maestro sweep` trades by default (pairs are given apart).
fn plain_spec() -> SweepSpec {
    SweepSpec::cli_defaults(1..=1, 2..=2)
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![
        Just(Mode::LongShort),
        Just(Mode::LongOnly),
        Just(Mode::ShortOnly)
    ]
}

/// Checks every pair against its own backtest.
fn check(
    series: &CandleSeries,
    spec: &SweepSpec,
    pairs: &[(u32, u32)],
) -> Result<(), TestCaseError> {
    let results =
        sweep_pairs(series, spec, pairs, &|| {}).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(results.len(), pairs.len());
    for r in &results {
        let single = backtest::backtest(series, spec.params(r.short, r.long, MIN), spec.fee)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(*r, from_backtest(&single), "pair {}/{}", r.short, r.long);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_pair_equals_its_backtest_on_random_series(
        moves in prop::collection::vec(-3i64..=3, 1..300),
        gaps in prop::collection::vec((0usize..300, 1i64..5), 0..4),
        windows in prop::collection::vec((1u32..12, 1u32..90), 1..10),
        mode in mode(),
        lots in (1u64..=3, 1u64..=3),
        part_lot in prop_oneof![Just(0u64), 1u64..1000],
        fee in -300i64..=800,
    ) {
        let series = series(5_000, &moves, &gaps);
        let pairs: Vec<(u32, u32)> = windows.iter().map(|&(s, d)| (s, s + d)).collect();
        let spec = SweepSpec {
            shorts: 1..=1,
            longs: 2..=2,
            mode,
            qty: lots.0 * 1000,
            lot_size: 1000,
            // A cap that is not whole lots: positions round to lots below it.
            max_position: lots.1 * 1000 + part_lot,
            guards: Guards::default(),
            fee: FeeRate::from_ppm(fee),
        };
        check(&series, &spec, &pairs)?;
    }

    /// Many long windows of one short window: the groups the full grid is cut into.
    #[test]
    fn a_short_windows_longs_equal_their_backtests(
        moves in prop::collection::vec(-40i64..=40, 100..700),
        gaps in prop::collection::vec((0usize..700, 1i64..500), 0..3),
        short in 1u32..6,
    ) {
        let series = series(20_000, &moves, &gaps);
        let pairs: Vec<(u32, u32)> = (short + 1..short + 40).collect::<Vec<_>>()
            .into_iter().map(|l| (short, l)).collect();
        let spec = plain_spec();
        check(&series, &spec, &pairs)?;
    }
}

#[test]
fn prices_too_large_for_i64_take_the_wide_loop_and_stay_exact() {
    let moves: Vec<i64> = (0..3000).map(|i| ((i * 7919) % 41) - 20).collect();
    let series = series(900_000_000_000, &moves, &[(150, 3)]);
    let closes: Vec<i64> = series.candles.iter().map(|c| c.close.0).collect();
    let pairs = [(2, 9), (3, 30), (9, 60)];
    assert!(
        !fits_i64(&closes, &pairs, 1000, 500),
        "the data must need the i128 loop"
    );
    let spec = plain_spec();
    let results = sweep_pairs(&series, &spec, &pairs, &|| {}).unwrap_or_else(|e| panic!("{e}"));
    for r in &results {
        let single = backtest::backtest(&series, spec.params(r.short, r.long, MIN), spec.fee)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(*r, from_backtest(&single), "pair {}/{}", r.short, r.long);
    }
}
