//! The walk forward on real LTC minutes with two exchange outages: every fold's test trades are
//! a plain backtest of the chosen pair warmed up on the candles before the window, none falls
//! outside it, and every fold's in-sample figures are a plain backtest on its training window.

use maestro_cli::backtest::costs::Costs;
use maestro_cli::backtest::{Trade, backtest_with};
use maestro_cli::candles_file::{CandleSeries, LoadOptions, load};
use maestro_cli::sim::account::FeeRate;
use maestro_cli::sweep::{SweepSpec, from_backtest};
use maestro_cli::walk_forward::{WalkForwardSpec, walk_forward};
use maestro_tests::data::data_file;

const APRIL_GAPS: &str = "ltcusdt-binance-spot-1m-2021-04-gaps.json";

#[test]
fn real_folds_trade_like_plain_backtests_across_outages() {
    let Some(path) = data_file(
        "real_folds_trade_like_plain_backtests_across_outages",
        APRIL_GAPS,
    ) else {
        return;
    };
    let series: CandleSeries =
        load(&path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{APRIL_GAPS}: {e}"));
    assert_eq!(series.gaps.len(), 2, "the file's two outages");
    let spec = WalkForwardSpec {
        sweep: SweepSpec::cli_defaults(2..=10, 20..=60),
        costs: Costs::taker_only(FeeRate::LTCUSDT_TAKER),
        train: 20_000,
        test: 5_000,
        folds: None,
        guard_grid: None,
    };
    let wf = walk_forward(&series, &spec, &|| {}).expect("walk forward");
    assert_eq!(wf.folds.len(), 8, "(61,277 - 20,000) / 5,000 folds");
    for f in &wf.folds {
        let (c, fold) = (&f.in_sample, &f.fold);
        let params = spec.sweep.params(c.short, c.long, series.bin_ms);
        let from = fold.test.start - (c.long as usize - 1);
        let window = CandleSeries {
            candles: series.candles[from..fold.test.end].to_vec(),
            ..series.clone()
        };
        let plain = backtest_with(&window, params, &spec.costs).expect("backtest");
        let shifted: Vec<Trade> = plain
            .trades
            .iter()
            .map(|t| Trade {
                index: t.index + from,
                ..*t
            })
            .collect();
        assert_eq!(f.trades, shifted, "fold {}: trades", fold.index);
        assert!(f.trades.iter().all(|t| fold.test.contains(&t.index)));
        assert_eq!(
            f.out_of_sample,
            from_backtest(&plain),
            "fold {}",
            fold.index
        );
        let train = CandleSeries {
            candles: series.candles[fold.train.clone()].to_vec(),
            ..series.clone()
        };
        let in_sample = backtest_with(&train, params, &spec.costs).expect("backtest");
        assert_eq!(
            f.in_sample,
            from_backtest(&in_sample),
            "fold {}",
            fold.index
        );
    }
}
