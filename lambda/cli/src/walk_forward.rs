//! Walk-forward analysis for `maestro sweep --walk-forward TRAIN:TEST`: the honest figure for a
//! parameter choice.
//!
//! **Folds** ([`folds::layout`]): a rolling training window of TRAIN bars followed by a test
//! window of TEST bars; the next fold steps forward by TEST, so the test windows tile the end of
//! the series without overlap and the layout is anchored at the last candle. Lengths are bar
//! counts or durations turned into bars with the series' bar length (a window across a gap
//! holds that many candles, so it spans more wall time).
//!
//! **Choice on training.** Each fold sweeps only its training candles (a sub-series: nothing at
//! or after the test window's first candle is ever handed to it) through the sweep's public API
//! ([`crate::sweep::sweep_with`], [`crate::sweep::sweep_pairs`]), with every cost of the run,
//! and picks what [`crate::sweep::best`] ranks first: P&L after all costs, then the smaller
//! drawdown, then fewer fills, then the sweep's pair order (smaller short, then smaller long).
//!
//! **Guard grid** ([`GuardGrid`], optional) is two-stage, because the guarded path runs the core
//! per pair: stage 1 is the plain sweep; its best `top_pairs` pairs are then run with every
//! combination of the grid (which holds the all-off combination, so stage 2 never does worse
//! in-sample than stage 1), and the same ranking picks pair and guards, ties to the earlier grid
//! combination.
//!
//! **Trading the test window.** The chosen parameters are backtested
//! ([`crate::backtest::backtest_with`], same costs) on the sub-series that starts `long - 1`
//! candles before the test window and ends with it. Those earlier candles are past data: they
//! only fill the SMA windows, and the strategy becomes ready at the test window's first candle
//! at the earliest, so the position is flat when the window opens and no trade falls before it.
//! That backtest IS the fold's out-of-sample result (its trades, re-indexed into the full
//! series). An open position at the window's end is marked at its last close (as a backtest
//! marks it), not closed: no exit fee is charged, and the next fold starts flat.
//!
//! **Concatenation.** The out-of-sample equity is the folds' equity curves end to end (each
//! starting from the previous fold's end); its drawdown counts the start as a peak of 0.

pub mod chart;
pub mod folds;

use crate::backtest::costs::Costs;
use crate::backtest::{BacktestError, Trade, backtest_with};
use crate::candles_file::CandleSeries;
use crate::sim::account::Money;
use crate::sweep::{
    PairResult, SweepError, SweepSpec, best, from_backtest, sweep_pairs, sweep_with,
};
use folds::{Fold, layout, slice};
use maestro_core::Guards;
use rayon::prelude::*;
use std::cmp::Ordering;

/// The guard combinations tried on each fold's best plain pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardGrid {
    /// Hysteresis bands (bp).
    pub hysteresis_bp: Vec<u32>,
    /// Confirmation closes (0 = off).
    pub confirm_bars: Vec<u32>,
    /// Minimum bars between flips (0 = off).
    pub min_hold_bars: Vec<u32>,
    /// How many of the plain sweep's best pairs meet the grid.
    pub top_pairs: usize,
}

impl Default for GuardGrid {
    /// 3 × 2 × 2: hysteresis 0/10/25 bp × confirmation off/3 closes × minimum hold off/20 bars,
    /// on the 5 best plain pairs.
    fn default() -> Self {
        GuardGrid {
            hysteresis_bp: vec![0, 10, 25],
            confirm_bars: vec![0, 3],
            min_hold_bars: vec![0, 20],
            top_pairs: 5,
        }
    }
}

impl GuardGrid {
    /// Every combination, hysteresis-major; the first is all off when every list starts at 0.
    pub fn combinations(&self) -> Vec<Guards> {
        let mut out = Vec::new();
        for &hysteresis_bp in &self.hysteresis_bp {
            for &confirm_bars in &self.confirm_bars {
                for &min_hold_bars in &self.min_hold_bars {
                    out.push(Guards {
                        hysteresis_bp,
                        confirm_bars,
                        min_hold_bars,
                    });
                }
            }
        }
        out
    }
}

/// What to walk forward.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkForwardSpec {
    /// Pairs, mode, size and the guards of the plain stage.
    pub sweep: SweepSpec,
    /// Every cost, applied inside training and test windows alike.
    pub costs: Costs,
    /// Training window in bars.
    pub train: usize,
    /// Test window (and step) in bars.
    pub test: usize,
    /// Keep only the most recent folds.
    pub folds: Option<usize>,
    /// Guard grid, or only `sweep.guards`.
    pub guard_grid: Option<GuardGrid>,
}

/// What one fold chose and did.
#[derive(Clone, Debug, PartialEq)]
pub struct FoldResult {
    /// Where it lies.
    pub fold: Fold,
    /// The guards chosen (the sweep's own without a grid).
    pub guards: Guards,
    /// The chosen pair's figures on the training window.
    pub in_sample: PairResult,
    /// The chosen pair's figures on the test window.
    pub out_of_sample: PairResult,
    /// Its fills, indexed in the full series.
    pub trades: Vec<Trade>,
    /// Equity at each test candle's close, from 0 at the window's start.
    pub equity: Vec<Money>,
}

/// The whole walk forward.
#[derive(Clone, Debug, PartialEq)]
pub struct WalkForward {
    /// Every fold, oldest first.
    pub folds: Vec<FoldResult>,
    /// Concatenated out-of-sample equity: `(candle index, equity)` over every test window.
    pub equity: Vec<(usize, Money)>,
    /// Out-of-sample totals (P&L, costs, counts summed; drawdown of the concatenated curve).
    pub total: PairResult,
}

/// Why a walk forward could not run.
#[derive(Debug, thiserror::Error)]
pub enum WalkForwardError {
    /// The windows do not fit the data or the pairs.
    #[error("{0}")]
    Layout(String),
    /// A fold's sweep failed.
    #[error("fold {fold}: {source}")]
    Sweep {
        /// Which fold.
        fold: usize,
        /// Why.
        source: SweepError,
    },
    /// A fold's test backtest failed.
    #[error("fold {fold}: {source}")]
    Backtest {
        /// Which fold.
        fold: usize,
        /// Why.
        source: BacktestError,
    },
}

/// The sweep's ranking (see [`best`]): higher P&L, then smaller drawdown, then fewer fills.
fn ranking(a: &PairResult, b: &PairResult) -> Ordering {
    b.pnl
        .cmp(&a.pnl)
        .then(a.max_drawdown.cmp(&b.max_drawdown))
        .then(a.fills.cmp(&b.fills))
}

/// The listed pairs of `spec` over `series` with every cost: the shared fast path for a taker
/// fee alone, otherwise one full backtest per pair (as [`sweep_with`] does).
fn run_pairs(
    series: &CandleSeries,
    spec: &SweepSpec,
    costs: &Costs,
    pairs: &[(u32, u32)],
) -> Result<Vec<PairResult>, SweepError> {
    if costs.is_taker_only() {
        let spec = SweepSpec {
            fee: costs.taker,
            ..spec.clone()
        };
        return sweep_pairs(series, &spec, pairs, &|| {});
    }
    pairs
        .par_iter()
        .map(|&(short, long)| {
            backtest_with(series, spec.params(short, long, series.bin_ms), costs)
                .map(|r| from_backtest(&r))
                .map_err(|source| SweepError::Pair {
                    short,
                    long,
                    source,
                })
        })
        .collect()
}

/// Picks pair and guards on `train` alone (see the module doc).
pub fn choose(
    train: &CandleSeries,
    spec: &WalkForwardSpec,
) -> Result<(Guards, PairResult), SweepError> {
    let plain = sweep_with(train, &spec.sweep, &spec.costs, &|| {})?;
    let Some(grid) = &spec.guard_grid else {
        let top = best(&plain, 1);
        return top
            .first()
            .map(|r| (spec.sweep.guards, *r))
            .ok_or(SweepError::NoPairs);
    };
    let pairs: Vec<(u32, u32)> = best(&plain, grid.top_pairs.max(1))
        .iter()
        .map(|r| (r.short, r.long))
        .collect();
    let per_combo: Vec<Vec<(Guards, PairResult)>> = grid
        .combinations()
        .into_par_iter()
        .map(|guards| {
            let guarded = SweepSpec {
                guards,
                ..spec.sweep.clone()
            };
            let results = run_pairs(train, &guarded, &spec.costs, &pairs);
            results.map(|rs| rs.into_iter().map(|r| (guards, r)).collect())
        })
        .collect::<Result<_, _>>()?;
    // `min_by` keeps the first of equals: ties go to the earlier combination, then pair.
    per_combo
        .into_iter()
        .flatten()
        .min_by(|a, b| ranking(&a.1, &b.1))
        .ok_or(SweepError::NoPairs)
}

/// Trades `params` on the test window of `fold` as the module doc says; returns the result, its
/// trades re-indexed into `series`, and the equity at each test candle.
fn trade_test(
    series: &CandleSeries,
    fold: &Fold,
    spec: &WalkForwardSpec,
    guards: Guards,
    chosen: &PairResult,
) -> Result<(PairResult, Vec<Trade>, Vec<Money>), BacktestError> {
    let warmup = (chosen.long as usize).saturating_sub(1);
    // Layout checks guarantee `train >= long`, so the warm-up lies inside the training window.
    let from = fold.test.start.saturating_sub(warmup);
    let window = slice(series, from..fold.test.end);
    let params = SweepSpec {
        guards,
        ..spec.sweep.clone()
    }
    .params(chosen.short, chosen.long, series.bin_ms);
    let report = backtest_with(&window, params, &spec.costs)?;
    let skip = fold.test.start - from;
    let trades = report
        .trades
        .iter()
        .map(|t| Trade {
            index: t.index + from,
            ..*t
        })
        .collect();
    let equity = report.equity.get(skip..).unwrap_or_default().to_vec();
    Ok((from_backtest(&report), trades, equity))
}

/// Walks `spec` forward over `series`; `progress` is called once per finished fold.
pub fn walk_forward(
    series: &CandleSeries,
    spec: &WalkForwardSpec,
    progress: &(dyn Fn() + Sync),
) -> Result<WalkForward, WalkForwardError> {
    let longest = spec
        .sweep
        .pairs()
        .iter()
        .map(|p| p.1)
        .max()
        .ok_or_else(|| {
            WalkForwardError::Layout("no window pair with short < long in the given ranges".into())
        })?;
    if spec.train <= longest as usize {
        return Err(WalkForwardError::Layout(format!(
            "the training window ({} bars) must be longer than the longest long window ({longest}): \
             a pair must be able to trade in it",
            spec.train
        )));
    }
    let layout = layout(series.candles.len(), spec.train, spec.test, spec.folds)
        .map_err(WalkForwardError::Layout)?;
    let mut folds = Vec::with_capacity(layout.len());
    for fold in layout {
        let train = slice(series, fold.train.clone());
        let (guards, in_sample) =
            choose(&train, spec).map_err(|source| WalkForwardError::Sweep {
                fold: fold.index,
                source,
            })?;
        let (out_of_sample, trades, equity) = trade_test(series, &fold, spec, guards, &in_sample)
            .map_err(|source| WalkForwardError::Backtest {
            fold: fold.index,
            source,
        })?;
        progress();
        folds.push(FoldResult {
            fold,
            guards,
            in_sample,
            out_of_sample,
            trades,
            equity,
        });
    }
    let (equity, total) = concatenate(&folds);
    Ok(WalkForward {
        folds,
        equity,
        total,
    })
}

/// The folds' test results end to end.
fn concatenate(folds: &[FoldResult]) -> (Vec<(usize, Money)>, PairResult) {
    let mut equity = Vec::new();
    let mut base = Money(0);
    let mut peak = Money(0);
    let mut total = PairResult::default();
    for f in folds {
        for (k, &e) in f.equity.iter().enumerate() {
            let eq = base + e;
            peak = peak.max(eq);
            total.max_drawdown = total.max_drawdown.max(peak - eq);
            equity.push((f.fold.test.start + k, eq));
        }
        let o = &f.out_of_sample;
        base = base + o.pnl;
        total.fees = total.fees + o.fees;
        total.slippage = total.slippage + o.slippage;
        total.funding = total.funding + o.funding;
        total.realised = total.realised + o.realised;
        total.fills += o.fills;
        total.flips += o.flips;
        total.round_trips += o.round_trips;
        total.wins += o.wins;
        total.exposed_bars += o.exposed_bars;
        total.signals += o.signals;
    }
    total.pnl = base;
    (equity, total)
}

#[cfg(test)]
mod tests;
