//! `maestro sweep`: every window pair of two ranges over one candle series, in parallel.
//!
//! The work is shared, not repeated per pair: the closes' prefix sums are computed once (so every
//! window's SMA sum at every candle is one subtraction) and read by all pairs. Without guards, when
//! every figure fits `i64`, one pass over the candles serves all pairs at once ([`kinetic`]): the
//! windows are kept sorted by mean, each swap of two windows is a flip of that pair, and the equity
//! between two trades is marked in one go from a table of the closes ([`spans`]); each core trades
//! the pairs of its own short windows. Otherwise each pair runs a tight integer loop ([`kernel`]),
//! four pairs of one short window at a time, spread over all cores with rayon. Every pair's result
//! equals a plain [`crate::backtest::backtest`] of that pair, exactly: same signals (the core's plain
//! crossover rule), same fills and fees (the rules of `Account::fill`), same gap policy (fresh
//! windows after a gap, position held through it).
//!
//! With whipsaw guards on, each pair feeds the same shared sums to the core's own guarded
//! crossover (`maestro_core::crossover::Crossover`, in [`guarded`]), one pair at a time, still on
//! all cores.

mod guarded;
mod kernel;
mod kinetic;
mod prepare;
mod spans;

use crate::backtest::{self, BacktestError, MAX_LONG_WINDOW};
use crate::candles_file::CandleSeries;
use crate::sim::account::{FeeRate, Money};
use kernel::{Int, Outcome, Shared};
use maestro_core::{Guards, Mode, Params};
use prepare::{fits_i64, stretches};
use rayon::prelude::*;
use std::ops::RangeInclusive;

/// What to sweep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepSpec {
    /// Short windows.
    pub shorts: RangeInclusive<u32>,
    /// Long windows (pairs with `short >= long` are skipped).
    pub longs: RangeInclusive<u32>,
    /// Trading mode.
    pub mode: Mode,
    /// Contracts when in the market.
    pub qty: u64,
    /// Lot size.
    pub lot_size: u64,
    /// Largest absolute position.
    pub max_position: u64,
    /// Whipsaw guards (all off = the fast path).
    pub guards: Guards,
    /// Fee on every fill.
    pub fee: FeeRate,
}

impl SweepSpec {
    /// The windows given with what `maestro sweep` trades when no option says otherwise: long or
    /// short, one lot of 1000 contracts (0.1 LTC on LTCUSDT) at most, no guards, the 5 bp taker
    /// fee.
    pub fn cli_defaults(shorts: RangeInclusive<u32>, longs: RangeInclusive<u32>) -> SweepSpec {
        SweepSpec {
            shorts,
            longs,
            mode: Mode::LongShort,
            qty: 1000,
            lot_size: 1000,
            max_position: 1000,
            guards: Guards::default(),
            fee: FeeRate::LTCUSDT_TAKER,
        }
    }

    /// The pairs swept, short-major.
    pub fn pairs(&self) -> Vec<(u32, u32)> {
        let mut pairs = Vec::new();
        for s in self.shorts.clone().filter(|&s| s >= 1) {
            for l in self.longs.clone().filter(|&l| l > s) {
                pairs.push((s, l));
            }
        }
        pairs
    }

    /// The core parameters of one pair.
    pub fn params(&self, short: u32, long: u32, bin_ms: i64) -> Params {
        Params {
            short_window: short,
            long_window: long,
            mode: self.mode,
            qty: self.qty,
            lot_size: self.lot_size,
            max_position: self.max_position,
            bin_ms,
            guards: self.guards,
        }
    }
}

/// One pair's results, in the backtest's exact units (the default: nothing traded, all zero).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PairResult {
    /// Short window.
    pub short: u32,
    /// Long window.
    pub long: u32,
    /// Profit after fees at the last close (open position marked there).
    pub pnl: Money,
    /// Largest equity fall from a peak.
    pub max_drawdown: Money,
    /// Fees paid.
    pub fees: Money,
    /// Slippage paid (0 on the taker-only fast path).
    pub slippage: Money,
    /// Funding paid, negative when received (0 on the taker-only fast path).
    pub funding: Money,
    /// Sum of closed round trips.
    pub realised: Money,
    /// Fills (trades).
    pub fills: u64,
    /// Fills that switched side.
    pub flips: u64,
    /// Closed round trips.
    pub round_trips: u64,
    /// Round trips that made money after fees.
    pub wins: u64,
    /// Candles that ended with an open position.
    pub exposed_bars: u64,
    /// Signals the strategy emitted.
    pub signals: u64,
}

/// Why a sweep could not run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// No pair with `short < long` in the ranges.
    #[error("no window pair with short < long in the given ranges")]
    NoPairs,
    /// A pair's parameters are invalid.
    #[error("window pair {short}/{long}: {source}")]
    Pair {
        /// Short window.
        short: u32,
        /// Long window.
        long: u32,
        /// Why.
        source: BacktestError,
    },
    /// Close times that do not step forward by whole bars (the loader never produces these).
    #[error("candle {index} does not follow the previous one by a whole number of bars")]
    OffGrid {
        /// Index of the candle.
        index: usize,
    },
    /// The series has no candles.
    #[error("the series holds no candles")]
    Empty,
}

/// Sweeps every pair of `spec` over `series`; `progress` is called once per pair (from any
/// thread) as the work advances: when a pair finishes, or, in the one-pass loop where all pairs
/// finish together, in step with the candles done. Results come in [`SweepSpec::pairs`] order.
pub fn sweep(
    series: &CandleSeries,
    spec: &SweepSpec,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<PairResult>, SweepError> {
    sweep_pairs(series, spec, &spec.pairs(), progress)
}

/// Like [`sweep`] for an explicit list of `(short, long)` pairs (the ranges of `spec` are ignored).
pub fn sweep_pairs(
    series: &CandleSeries,
    spec: &SweepSpec,
    pairs: &[(u32, u32)],
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<PairResult>, SweepError> {
    sweep_pairs_on(series, spec, pairs, progress, true)
}

/// [`sweep_pairs`] without the one-pass loop: every pair through the pair-by-pair loop. Same
/// results; for benchmarks and cross-checks.
#[doc(hidden)]
pub fn sweep_pairs_by_lanes(
    series: &CandleSeries,
    spec: &SweepSpec,
    pairs: &[(u32, u32)],
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<PairResult>, SweepError> {
    sweep_pairs_on(series, spec, pairs, progress, false)
}

fn sweep_pairs_on(
    series: &CandleSeries,
    spec: &SweepSpec,
    pairs: &[(u32, u32)],
    progress: &(dyn Fn() + Sync),
    one_pass: bool,
) -> Result<Vec<PairResult>, SweepError> {
    if pairs.is_empty() {
        return Err(SweepError::NoPairs);
    }
    if series.candles.is_empty() {
        return Err(SweepError::Empty);
    }
    // Validate every pair exactly as the core would (and get the capped quantity) before the work.
    let mut qty = 0;
    for &(short, long) in pairs {
        let params = spec.params(short, long, series.bin_ms);
        if long as usize > MAX_LONG_WINDOW {
            return Err(SweepError::Pair {
                short,
                long,
                source: BacktestError::WindowTooLong(long),
            });
        }
        qty = params
            .validate(MAX_LONG_WINDOW)
            .map_err(|e| SweepError::Pair {
                short,
                long,
                source: e.into(),
            })?;
    }
    let closes: Vec<i64> = series.candles.iter().map(|c| c.close.0).collect();
    let mut prefix = Vec::with_capacity(closes.len() + 1);
    let mut sum = 0i64;
    prefix.push(0);
    for &c in &closes {
        // Prices are at most MAX_TICKS (1e12) and files far below 9e6 rows: no overflow. Checked
        // anyway, since the file came from outside.
        sum = sum.checked_add(c).ok_or(SweepError::Empty)?;
        prefix.push(sum);
    }
    let stretches = stretches(series)?;
    let q = i64::try_from(qty).unwrap_or(i64::MAX);
    let (bull_target, bear_target) = match spec.mode {
        Mode::LongShort => (q, -q),
        Mode::LongOnly => (q, 0),
        Mode::ShortOnly => (0, -q),
    };
    let shared = Shared {
        prefix: &prefix,
        stretches: &stretches,
        bull_target,
        bear_target,
        lot: spec.lot_size,
        fee_ppm: spec.fee.ppm(),
        aligned: kernel::whole_lots([bull_target, bear_target], spec.lot_size),
    };
    let use_i64 = fits_i64(&closes, pairs, q, spec.fee.ppm());
    let guards = spec.guards;
    if one_pass
        && use_i64
        && guards == Guards::default()
        && let Some(outcomes) = kinetic::sweep(&shared, &closes, pairs, progress)
    {
        return Ok(pairs
            .iter()
            .zip(outcomes)
            .map(|(&(short, long), o)| finish(short, long, o))
            .collect());
    }
    // Pairs sharing a short window go four at a time; the rest one by one.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_short: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for (k, &(short, _)) in pairs.iter().enumerate() {
        by_short.entry(short).or_default().push(k);
    }
    for members in by_short.into_values() {
        groups.extend(members.chunks(4).map(<[usize]>::to_vec));
    }
    let computed: Vec<(usize, PairResult)> = groups
        .par_iter()
        .flat_map_iter(|group| {
            let out = if use_i64 {
                run_group::<i64>(&shared, pairs, group, guards)
            } else {
                run_group::<i128>(&shared, pairs, group, guards)
            };
            for _ in group {
                progress();
            }
            out
        })
        .collect();
    let mut results = vec![None; pairs.len()];
    for (k, r) in computed {
        results[k] = Some(r);
    }
    Ok(results.into_iter().flatten().collect())
}

/// Runs one group of pair indices (four sharing a short window, or fewer one by one; with
/// guards always one by one).
fn run_group<T: Int + Into<i128>>(
    shared: &Shared<'_>,
    pairs: &[(u32, u32)],
    group: &[usize],
    guards: Guards,
) -> Vec<(usize, PairResult)> {
    if guards != Guards::default() {
        return group
            .iter()
            .map(|&k| {
                let (s, l) = pairs[k];
                let o = guarded::run::<T>(shared, s, l, guards);
                (k, finish(s, l, o))
            })
            .collect();
    }
    if let [a, b, c, d] = *group {
        let short = pairs[a].0;
        let longs = [a, b, c, d].map(|k| pairs[k].1 as usize);
        let outs = kernel::run4::<T>(shared, short as usize, longs);
        return [a, b, c, d]
            .into_iter()
            .zip(outs)
            .map(|(k, o)| (k, finish(pairs[k].0, pairs[k].1, o)))
            .collect();
    }
    group
        .iter()
        .map(|&k| {
            let (short, long) = pairs[k];
            (
                k,
                finish(
                    short,
                    long,
                    kernel::run::<T>(shared, short as usize, long as usize),
                ),
            )
        })
        .collect()
}

fn finish<T: Int + Into<i128>>(short: u32, long: u32, o: Outcome<T>) -> PairResult {
    PairResult {
        short,
        long,
        pnl: Money(o.pnl.into()),
        max_drawdown: Money(o.max_drawdown.into()),
        fees: Money(o.fees.into()),
        slippage: Money(0),
        funding: Money(0),
        realised: Money(o.realised.into()),
        fills: o.fills.into(),
        flips: o.flips.into(),
        round_trips: o.round_trips.into(),
        wins: o.wins.into(),
        exposed_bars: o.exposed_bars.into(),
        signals: o.signals.into(),
    }
}

/// The result of a single backtest, in the sweep's shape.
pub fn from_backtest(report: &backtest::BacktestReport) -> PairResult {
    let a = &report.account;
    PairResult {
        short: report.params.short_window,
        long: report.params.long_window,
        pnl: report.final_pnl(),
        max_drawdown: report.max_drawdown,
        fees: a.fees,
        slippage: a.slippage,
        funding: a.funding,
        realised: a.realised,
        fills: a.fills,
        flips: a.flips,
        round_trips: a.round_trips,
        wins: a.wins,
        exposed_bars: report.exposed_bars as u64,
        signals: report.signals as u64,
    }
}

/// Like [`sweep`] with every cost of `costs`. Taker fee alone takes the shared fast path; with
/// slippage, funding or maker fills each pair is a [`backtest::backtest_with`] of its own (in
/// parallel), so its figures are that backtest's by construction.
pub fn sweep_with(
    series: &CandleSeries,
    spec: &SweepSpec,
    costs: &backtest::costs::Costs,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<PairResult>, SweepError> {
    if costs.is_taker_only() {
        let spec = SweepSpec {
            fee: costs.taker,
            ..spec.clone()
        };
        return sweep(series, &spec, progress);
    }
    let pairs = spec.pairs();
    if pairs.is_empty() {
        return Err(SweepError::NoPairs);
    }
    if series.candles.is_empty() {
        return Err(SweepError::Empty);
    }
    pairs
        .par_iter()
        .map(|&(short, long)| {
            let params = spec.params(short, long, series.bin_ms);
            let report = backtest::backtest_with(series, params, costs).map_err(|source| {
                SweepError::Pair {
                    short,
                    long,
                    source,
                }
            })?;
            progress();
            Ok(from_backtest(&report))
        })
        .collect()
}

/// The `n` best pairs by PnL (ties: smaller drawdown, then fewer fills).
pub fn best(results: &[PairResult], n: usize) -> Vec<PairResult> {
    let mut sorted = results.to_vec();
    sorted.sort_by(|a, b| {
        b.pnl
            .cmp(&a.pnl)
            .then(a.max_drawdown.cmp(&b.max_drawdown))
            .then(a.fills.cmp(&b.fills))
    });
    sorted.truncate(n);
    sorted
}

#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;
