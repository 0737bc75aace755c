//! Backtest/simulated-exchange parity on real and synthetic data: driving `SimExchange` through the `Exchange`
//! port the way the tick does (advance the clock, fetch new candles, feed the core, place the
//! planned market order with a deterministic clOrdID) gives exactly the backtest's fills, fees and
//! PnL. This is what lets a replay through `maestro run` match `maestro backtest`.

use maestro_cli::backtest::{MAX_LONG_WINDOW, backtest};
use maestro_cli::candles_file::{LoadOptions, load};
use maestro_cli::sim::{SimExchange, account::FeeRate, ltcusdt};
use maestro_core::{Guards, Mode, Params, Step, Strategy, TickSize};
use maestro_lambda::exchange::{BinSize, Exchange, OrderRequest};
use maestro_tests::data::data_file;
use maestro_tests::market::{rough_market, write_freqtrade};
use maestro_tests::scratch::scratch_dir;
use std::future::Future;
use std::path::Path;
use std::task::{Context, Poll, Waker};

/// `SimExchange` never waits, so one poll completes any of its calls.
fn ready<T>(fut: impl Future<Output = T>) -> T {
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("SimExchange must never be pending"),
    }
}

#[test]
fn sim_exchange_trades_exactly_like_the_backtest() {
    let test = "sim_exchange_trades_exactly_like_the_backtest";
    let Some(path) = data_file(test, "ltcusdt-binance-spot-1m-2021-05.json") else {
        return;
    };
    // The month's first 12,000 minutes.
    sim_matches_backtest(&path, 12_000, 50);
}

#[test]
fn sim_exchange_trades_exactly_like_the_backtest_on_synthetic_data() {
    let dir = scratch_dir("sim_parity_synthetic");
    let path = write_freqtrade(dir.path(), &rough_market(0x0051_4d50, 4_000), &[]);
    sim_matches_backtest(&path, 4_000, 20);
}

/// Drives `SimExchange` over the first `n` candles of `path` like the tick does, and finds the
/// backtest's fills, account and PnL, with more than `min_fills` fills.
fn sim_matches_backtest(path: &Path, n: usize, min_fills: usize) {
    let series = load(path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let candles = series.candles[..n].to_vec();
    let mut short_series = series.clone();
    short_series.candles = candles.clone();
    for (short, long, mode) in [(10, 50, Mode::LongShort), (5, 30, Mode::LongOnly)] {
        let params = Params {
            short_window: short,
            long_window: long,
            mode,
            qty: 1000,
            lot_size: 1000,
            max_position: 1000,
            bin_ms: 60_000,
            guards: Guards::default(),
        };
        let report = backtest(&short_series, params, FeeRate::LTCUSDT_TAKER)
            .unwrap_or_else(|e| panic!("{e}"));

        let ex =
            SimExchange::new(ltcusdt(), 60_000, candles.clone()).unwrap_or_else(|e| panic!("{e}"));
        let mut strategy =
            Box::new(Strategy::<MAX_LONG_WINDOW>::new(params).unwrap_or_else(|e| panic!("{e}")));
        let mut last = 0;
        for c in &candles {
            // A tick a few seconds after the bucket closed.
            ex.advance_to(c.close_time_ms + 5_000);
            let fresh = ready(ex.candles_after("LTCUSDT", BinSize::M1, TickSize::CENT, last, 500))
                .unwrap_or_else(|e| panic!("{e}"));
            for k in &fresh {
                last = k.close_time_ms;
                let step = strategy.on_candle(k).unwrap_or_else(|e| panic!("{e}"));
                if !matches!(step, Step::Signal(_)) {
                    continue;
                }
                let position = ready(ex.position("LTCUSDT")).unwrap_or_else(|e| panic!("{e}"));
                let Some(order) = strategy.plan_order(position) else {
                    continue;
                };
                let request = OrderRequest {
                    symbol: "LTCUSDT".into(),
                    side: order.side,
                    qty: order.qty,
                    cl_ord_id: format!("bt-{}-{}", k.close_time_ms, strategy.target_position()),
                    reduce_only: order.reduce_only,
                    close: false,
                };
                let placed = ready(ex.place_order(&request)).unwrap_or_else(|e| panic!("{e}"));
                // A retried POST with the same clOrdID must not trade twice.
                let again = ready(ex.place_order(&request)).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(placed, again);
            }
        }
        let fills = ex.fills();
        let want: Vec<_> = report.trades.iter().map(|t| t.fill).collect();
        assert_eq!(
            fills.len(),
            want.len(),
            "{short}/{long} {mode:?}: number of fills"
        );
        assert_eq!(fills, want, "{short}/{long} {mode:?}: every fill");
        assert_eq!(
            ex.account(),
            report.account,
            "{short}/{long} {mode:?}: account"
        );
        let mark = candles[candles.len() - 1].close;
        assert_eq!(ex.account().equity(mark), report.final_pnl());
        assert!(
            fills.len() > min_fills,
            "{short}/{long} {mode:?}: the {n} minutes must trade ({} fills)",
            fills.len()
        );
    }
}
