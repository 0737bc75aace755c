//! The gap policy on a real file with two exchange outages: the core refuses to bridge a gap, so
//! the backtest holds the position through it, restarts the strategy and warms up again.

use maestro_cli::backtest::backtest;
use maestro_cli::candles_file::{LoadOptions, load};
use maestro_cli::sim::account::FeeRate;
use maestro_core::{CandleError, Guards, Mode, Params, Strategy, run_batch};
use maestro_tests::data::data_file;

#[test]
fn outages_keep_the_position_and_restart_the_warm_up() {
    let test = "outages_keep_the_position_and_restart_the_warm_up";
    let Some(path) = data_file(test, "ltcusdt-binance-spot-1m-2021-04-gaps.json") else {
        return;
    };
    let series = load(&path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let params = Params {
        short_window: 10,
        long_window: 50,
        mode: Mode::LongShort,
        qty: 1000,
        lot_size: 1000,
        max_position: 1000,
        bin_ms: series.bin_ms,
        guards: Guards::default(),
    };
    // Why a policy is needed: one strategy cannot run across the outage.
    let mut one = Strategy::<64>::new(params).unwrap_or_else(|e| panic!("{e}"));
    let stopped = run_batch(&mut one, &series.candles, |_, _| {});
    let Err(stop) = stopped else {
        panic!("the core must refuse the first gap")
    };
    assert_eq!(stop.index, series.gaps[0].index);
    assert!(
        matches!(stop.error, CandleError::Gap { missing: 150, .. }),
        "{:?}",
        stop.error
    );

    let report =
        backtest(&series, params, FeeRate::LTCUSDT_TAKER).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.gaps.len(), 2);
    for (g, file_gap) in report.gaps.iter().zip(&series.gaps) {
        assert_eq!(g.gap, *file_gap, "the report names the file's gap");
        assert_eq!(
            g.warmup_bars, 49,
            "a 50-bar window needs 49 bars before its first decision"
        );
        assert_ne!(
            g.position_held, 0,
            "a long-short bot is in the market when the outage starts"
        );
        // Held: the position before the gap is still there on the first candle after it...
        let before = report.trades.iter().rev().find(|t| t.index < g.gap.index);
        assert_eq!(before.map(|t| t.fill.position_after), Some(g.position_held));
        // ...and nothing trades while the restarted strategy warms up.
        let during = report
            .trades
            .iter()
            .filter(|t| (g.gap.index..g.gap.index + g.warmup_bars).contains(&t.index))
            .count();
        assert_eq!(during, 0, "no trade during the warm-up after a gap");
    }
}
