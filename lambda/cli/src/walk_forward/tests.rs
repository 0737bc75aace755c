use super::folds::slice;
use super::*;
use crate::backtest::backtest_with;
use crate::backtest::costs::{Funding, FundingRate, Slippage};
use crate::candles_file::{Format, Gap, Stamp};
use crate::sim::account::FeeRate;
use maestro_core::{Candle, DemoMarket, TickSize};

const MIN: i64 = 60_000;

/// `n` bars of the core's demo market (seed `seed`) stamped one minute apart, without the bars
/// of `cut` (gaps).
fn demo(seed: u64, n: usize, cut: &[std::ops::Range<usize>]) -> CandleSeries {
    let mut candles: Vec<Candle> = Vec::new();
    let mut gaps = Vec::new();
    for (i, c) in DemoMarket::new(seed, MIN, MIN).take(n).enumerate() {
        if cut.iter().any(|r| r.contains(&i)) {
            continue;
        }
        let close_time_ms = MIN * (i as i64 + 1);
        if let Some(last) = candles.last().map(|k| k.close_time_ms)
            && close_time_ms - last > MIN
        {
            gaps.push(Gap {
                index: candles.len(),
                last_close_ms: last,
                next_close_ms: close_time_ms,
                missing: ((close_time_ms - last) / MIN - 1) as u64,
            });
        }
        candles.push(Candle { close_time_ms, ..c });
    }
    CandleSeries {
        candles,
        bin_ms: MIN,
        format: Format::Freqtrade,
        stamp: Stamp::Start,
        gaps,
        off_grid: Vec::new(),
        tick: TickSize::CENT,
    }
}

/// `series` with every candle from `from` on replaced by another market's (same close times).
fn rewrite_from(series: &CandleSeries, from: usize, seed: u64) -> CandleSeries {
    let mut out = series.clone();
    let other = DemoMarket::new(seed, MIN, MIN);
    for (c, o) in out.candles[from..].iter_mut().zip(other.skip(from)) {
        *c = Candle {
            close_time_ms: c.close_time_ms,
            ..o
        };
    }
    out
}

fn spec(costs: Costs, grid: Option<GuardGrid>) -> WalkForwardSpec {
    WalkForwardSpec {
        sweep: SweepSpec::cli_defaults(2..=6, 8..=30),
        costs,
        train: 700,
        test: 300,
        folds: None,
        guard_grid: grid,
    }
}

fn small_grid() -> GuardGrid {
    GuardGrid {
        hysteresis_bp: vec![0, 10],
        confirm_bars: vec![0, 3],
        min_hold_bars: vec![0, 15],
        top_pairs: 3,
    }
}

fn costly() -> Costs {
    Costs {
        slippage: Slippage::PriceBp(FeeRate::from_ppm(200)),
        funding: Funding::Flat(FundingRate(10_000)),
        ..Costs::taker_only(FeeRate::LTCUSDT_TAKER)
    }
}

#[test]
fn a_slice_keeps_the_gaps_inside_it_reindexed() {
    let s = demo(3, 100, &[20..23, 60..61]);
    let cut = slice(&s, 10..70);
    assert_eq!(cut.candles, s.candles[10..70]);
    let at: Vec<usize> = cut.gaps.iter().map(|g| g.index).collect();
    assert_eq!(at, [s.gaps[0].index - 10, s.gaps[1].index - 10]);
    assert!(
        slice(&s, s.gaps[0].index..90).gaps.len() == 1,
        "a gap at the first candle is dropped"
    );
}

/// Rewriting every candle from a fold's test window on must change nothing that fold (or an
/// earlier one) chose or measured in-sample, nor any earlier fold's out-of-sample result.
fn assert_no_peeking(series: &CandleSeries, spec: &WalkForwardSpec) {
    let base = walk_forward(series, spec, &|| {}).expect("walk forward");
    assert!(base.folds.len() >= 3, "enough folds to test");
    let mut changed_somewhere = false;
    for f in &base.folds {
        let other = rewrite_from(series, f.fold.test.start, 99);
        let wf = walk_forward(&other, spec, &|| {}).expect("walk forward");
        let k = f.fold.index;
        assert_eq!(
            (wf.folds[k].guards, wf.folds[k].in_sample),
            (f.guards, f.in_sample),
            "fold {k}: candles from its test window on changed its choice or in-sample figures"
        );
        assert_eq!(
            wf.folds[..k],
            base.folds[..k],
            "fold {k}: rewriting later candles changed an earlier fold"
        );
        changed_somewhere |= wf.folds[k].out_of_sample != f.out_of_sample;
    }
    assert!(changed_somewhere, "the rewrite must reach the test windows");
}

#[test]
fn folds_never_peek_into_their_test_window() {
    let s = demo(11, 2300, &[900..903, 1990..1991]);
    assert_no_peeking(&s, &spec(Costs::taker_only(FeeRate::LTCUSDT_TAKER), None));
    assert_no_peeking(&s, &spec(costly(), None));
    assert_no_peeking(
        &s,
        &spec(
            Costs::taker_only(FeeRate::LTCUSDT_TAKER),
            Some(small_grid()),
        ),
    );
}

/// Every fold's trades and equity are those of a plain backtest of the chosen parameters on the
/// candles from `long - 1` before its test window to its end, and that backtest trades nothing
/// before the window; every fold's in-sample figures are a plain backtest on its training window.
fn assert_folds_are_plain_backtests(series: &CandleSeries, spec: &WalkForwardSpec) {
    let wf = walk_forward(series, spec, &|| {}).expect("walk forward");
    for f in &wf.folds {
        let (c, fold) = (&f.in_sample, &f.fold);
        let params = SweepSpec {
            guards: f.guards,
            ..spec.sweep.clone()
        }
        .params(c.short, c.long, series.bin_ms);
        let from = fold.test.start - (c.long as usize - 1);
        let sub = CandleSeries {
            candles: series.candles[from..fold.test.end].to_vec(),
            ..series.clone()
        };
        let plain = backtest_with(&sub, params, &spec.costs).expect("backtest");
        let shifted: Vec<Trade> = plain
            .trades
            .iter()
            .map(|t| Trade {
                index: t.index + from,
                ..*t
            })
            .collect();
        assert_eq!(f.trades, shifted, "fold {}: trades", fold.index);
        assert_eq!(
            f.out_of_sample,
            from_backtest(&plain),
            "fold {}",
            fold.index
        );
        assert_eq!(f.equity, plain.equity[fold.test.start - from..]);
        assert!(
            f.trades.iter().all(|t| fold.test.contains(&t.index)),
            "fold {}: a trade outside the test window",
            fold.index
        );
        let warm = !series
            .gaps
            .iter()
            .any(|g| (from + 1..=fold.test.start).contains(&g.index));
        if warm && f.guards == Guards::default() {
            assert_eq!(
                f.trades.first().map(|t| t.index),
                Some(fold.test.start),
                "fold {}: warmed up on past candles, the strategy trades on the window's first",
                fold.index
            );
        }
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

#[test]
fn a_folds_trades_equal_a_plain_backtest_of_the_chosen_pair() {
    let s = demo(5, 2600, &[1500..1502, 2280..2281]);
    assert_folds_are_plain_backtests(&s, &spec(Costs::taker_only(FeeRate::LTCUSDT_TAKER), None));
    assert_folds_are_plain_backtests(&s, &spec(costly(), None));
    assert_folds_are_plain_backtests(&s, &spec(costly(), Some(small_grid())));
}

#[test]
fn training_picks_the_sweeps_best_and_the_grid_its_best_candidate() {
    let s = demo(8, 2000, &[]);
    for costs in [Costs::taker_only(FeeRate::LTCUSDT_TAKER), costly()] {
        let plain = spec(costs.clone(), None);
        let gridded = spec(costs, Some(small_grid()));
        let a = walk_forward(&s, &plain, &|| {}).expect("walk forward");
        let b = walk_forward(&s, &gridded, &|| {}).expect("walk forward");
        for (fa, fb) in a.folds.iter().zip(&b.folds) {
            let train = slice(&s, fa.fold.train.clone());
            let all = crate::sweep::sweep_with(&train, &plain.sweep, &plain.costs, &|| {})
                .expect("sweep");
            assert_eq!(fa.in_sample, best(&all, 1)[0], "fold {}", fa.fold.index);
            // Every candidate of the grid, each a plain backtest: none beats the choice.
            let grid = small_grid();
            for r in best(&all, grid.top_pairs) {
                for g in grid.combinations() {
                    let params = SweepSpec {
                        guards: g,
                        ..plain.sweep.clone()
                    }
                    .params(r.short, r.long, s.bin_ms);
                    let cand =
                        from_backtest(&backtest_with(&train, params, &plain.costs).expect("bt"));
                    assert_ne!(
                        ranking(&cand, &fb.in_sample),
                        Ordering::Less,
                        "fold {}: {}/{} with {g:?} ranks above the choice",
                        fb.fold.index,
                        r.short,
                        r.long
                    );
                }
            }
            assert!(
                fb.in_sample.pnl >= fa.in_sample.pnl,
                "the grid holds the all-off guards"
            );
        }
    }
}

#[test]
fn the_out_of_sample_total_is_the_folds_end_to_end() {
    let s = demo(2, 2500, &[]);
    let wf = walk_forward(&s, &spec(costly(), None), &|| {}).expect("walk forward");
    let sum = |f: fn(&PairResult) -> Money| {
        wf.folds
            .iter()
            .fold(Money(0), |a, r| a + f(&r.out_of_sample))
    };
    assert_eq!(wf.total.pnl, sum(|r| r.pnl));
    assert_eq!(wf.total.fees, sum(|r| r.fees));
    assert_eq!(wf.total.funding, sum(|r| r.funding));
    assert_eq!(
        wf.total.fills,
        wf.folds.iter().map(|f| f.out_of_sample.fills).sum::<u64>()
    );
    let idx: Vec<usize> = wf.equity.iter().map(|e| e.0).collect();
    let want: Vec<usize> = wf.folds.iter().flat_map(|f| f.fold.test.clone()).collect();
    assert_eq!(idx, want, "one point per test candle, in order");
    assert_eq!(wf.equity.last().map(|e| e.1), Some(wf.total.pnl));
    // Drawdown of the curve, worked out naively: the largest fall after any earlier point (or 0).
    let eq: Vec<Money> = wf.equity.iter().map(|e| e.1).collect();
    let mut naive = Money(0);
    for j in 0..eq.len() {
        for i in 0..=j {
            naive = naive.max(eq[i] - eq[j]).max(Money(0) - eq[j]);
        }
    }
    assert_eq!(wf.total.max_drawdown, naive);
    assert!(naive > Money(0), "the demo market has drawdowns");
}

#[test]
fn windows_that_do_not_fit_are_refused_clearly() {
    let s = demo(1, 1000, &[]);
    let cases: &[(usize, usize, &str)] = &[
        (30, 100, "longer than the longest long window (30)"),
        (900, 200, "but the series has 1000"),
    ];
    for &(train, test, want) in cases {
        let sp = WalkForwardSpec {
            train,
            test,
            ..spec(Costs::taker_only(FeeRate::LTCUSDT_TAKER), None)
        };
        match walk_forward(&s, &sp, &|| {}) {
            Err(WalkForwardError::Layout(m)) => assert!(m.contains(want), "{m}"),
            other => panic!("{train}:{test}: expected a layout error, got {other:?}"),
        }
    }
}

#[test]
fn the_grid_ranks_like_the_sweeps_best() {
    let r = |short: u32, pnl: i128, dd: i128, fills: u64| PairResult {
        short,
        long: 50,
        pnl: Money(pnl),
        max_drawdown: Money(dd),
        fills,
        ..PairResult::default()
    };
    // (a, b, a ranks first?)
    let cases = [
        (r(1, 10, 5, 9), r(2, 9, 0, 0), Ordering::Less),
        (r(1, 10, 4, 9), r(2, 10, 5, 0), Ordering::Less),
        (r(1, 10, 5, 3), r(2, 10, 5, 4), Ordering::Less),
        (r(1, 10, 5, 4), r(2, 10, 5, 4), Ordering::Equal),
        (r(1, -1, 0, 0), r(2, 0, 9, 9), Ordering::Greater),
    ];
    for (a, b, want) in cases {
        assert_eq!(ranking(&a, &b), want, "{a:?} vs {b:?}");
        let first = best(&[a, b], 1)[0];
        let want_first = if want == Ordering::Greater { b } else { a };
        assert_eq!(first, want_first, "the sweep's best agrees");
    }
}
