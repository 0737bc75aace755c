//! `maestro sweep --walk-forward TRAIN:TEST`: the per-fold table, the out-of-sample total next
//! to the in-sample best, the folds' CSV and chart.

use super::CliError;
use super::backtest_cmd::check_svg_path;
use crate::backtest::costs::Costs;
use crate::candles_file::CandleSeries;
use crate::candles_file::stamp::format_utc;
use crate::sweep::{PairResult, SweepSpec};
use crate::walk_forward::folds::Split;
use crate::walk_forward::{
    GuardGrid, WalkForward, WalkForwardError, WalkForwardSpec, chart, walk_forward,
};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use maestro_core::Guards;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The walk-forward options of `maestro sweep`.
#[derive(Args, Debug, Clone)]
pub struct WalkForwardArgs {
    /// Walk forward: on each rolling training window of TRAIN bars pick the best pair (P&L
    /// after all costs, as the sweep ranks), trade it on the next TEST bars, step by TEST.
    /// Bar counts (20000:5000) or durations (30d:7d, 12h:2h; m, h, d, w) in the series' bars.
    /// The test windows tile the end of the series; SMAs warm up on the candles just before a
    /// test window, the position is flat when it opens and marked (not closed) at its last close.
    #[arg(long, value_name = "TRAIN:TEST", value_parser = Split::parse)]
    pub walk_forward: Option<Split>,
    /// Keep only the N most recent folds.
    #[arg(long, value_name = "N", requires = "walk_forward")]
    pub folds: Option<usize>,
    /// Also choose whipsaw guards per fold: the best --wf-top pairs of the plain sweep × a grid
    /// of hysteresis 0/10/25 bp × confirmation off/3 closes × minimum hold off/20 bars.
    #[arg(long, requires = "walk_forward")]
    pub wf_guards: bool,
    /// With --wf-guards: how many of the plain sweep's best pairs meet the guard grid.
    #[arg(long, value_name = "K", default_value_t = 5)]
    pub wf_top: usize,
    /// Write the folds (ranges, choice, in- and out-of-sample figures) to this CSV file.
    #[arg(long, value_name = "PATH", requires = "walk_forward")]
    pub wf_csv: Option<PathBuf>,
    /// Write the out-of-sample equity and the chosen windows over time to this SVG file.
    #[arg(long, value_name = "PATH", requires = "walk_forward")]
    pub wf_chart: Option<PathBuf>,
}

impl WalkForwardArgs {
    /// Refuses combinations that make no sense before any file is read.
    pub(super) fn check(&self, guards: &Guards) -> Result<(), CliError> {
        if self.wf_guards && *guards != Guards::default() {
            return Err(CliError::Usage(
                "--wf-guards chooses the guards per fold: drop --hysteresis-bp, --confirm-bars \
                 and --min-hold-bars"
                    .into(),
            ));
        }
        if self.wf_top == 0 {
            return Err(CliError::Usage("--wf-top must be at least 1".into()));
        }
        if self.folds == Some(0) {
            return Err(CliError::Usage("--folds must be at least 1".into()));
        }
        if let Some(path) = &self.wf_chart {
            check_svg_path(path)?;
        }
        Ok(())
    }
}

/// Runs the walk forward and prints it; `in_sample_best` is the whole series' best pair.
pub(super) fn run(
    args: &WalkForwardArgs,
    series: &CandleSeries,
    sweep: SweepSpec,
    costs: Costs,
    in_sample_best: Option<&PairResult>,
    value: f64,
) -> Result<(), CliError> {
    let Some(split) = args.walk_forward else {
        return Ok(());
    };
    let bars = |l: crate::walk_forward::folds::Length| {
        l.bars(series.bin_ms)
            .map_err(|e| CliError::Usage(format!("--walk-forward: {e}")))
    };
    let spec = WalkForwardSpec {
        sweep,
        costs,
        train: bars(split.train)?,
        test: bars(split.test)?,
        folds: args.folds,
        guard_grid: args.wf_guards.then(|| GuardGrid {
            top_pairs: args.wf_top,
            ..GuardGrid::default()
        }),
    };
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} folds (eta {eta})") {
        bar.set_style(style);
    }
    if let Ok(folds) =
        crate::walk_forward::folds::layout(series.candles.len(), spec.train, spec.test, spec.folds)
    {
        bar.set_length(folds.len() as u64);
    }
    let started = Instant::now();
    let wf = walk_forward(series, &spec, &|| bar.inc(1));
    bar.finish_and_clear();
    let wf = wf.map_err(|e| match e {
        WalkForwardError::Layout(m) => CliError::Usage(format!("--walk-forward: {m}")),
        other => CliError::Failed(other.to_string()),
    })?;
    say!(
        "walk-forward: {} folds of {} training + {} test bars (step {}) in {:.2} s; guards {}",
        wf.folds.len(),
        spec.train,
        spec.test,
        spec.test,
        started.elapsed().as_secs_f64(),
        match &spec.guard_grid {
            Some(g) => format!(
                "chosen per fold ({} combinations × best {} pairs)",
                g.combinations().len(),
                g.top_pairs
            ),
            None => "as given".into(),
        }
    );
    say!(
        "{:>4} {:>16} {:>16} {:>16} {:>5} {:>5} {:>11} {:>12} {:>12} {:>6}",
        "fold",
        "train from",
        "test from",
        "test to",
        "short",
        "long",
        "guards",
        "in-sample",
        "out-sample",
        "fills"
    );
    for f in &wf.folds {
        let at = |i: usize| {
            series
                .candles
                .get(i)
                .map_or(String::new(), |c| format_utc(c.close_time_ms))
        };
        say!(
            "{:>4} {:>16} {:>16} {:>16} {:>5} {:>5} {:>11} {:>+12.4} {:>+12.4} {:>6}",
            f.fold.index + 1,
            at(f.fold.train.start),
            at(f.fold.test.start),
            at(f.fold.test.end - 1),
            f.in_sample.short,
            f.in_sample.long,
            guards_text(&f.guards),
            f.in_sample.pnl.to_quote(value),
            f.out_of_sample.pnl.to_quote(value),
            f.out_of_sample.fills
        );
    }
    let t = &wf.total;
    say!(
        "out-of-sample (folds end to end, {} candles): P&L after costs {:+.4}, fees {:.4}, \
         slippage {:.4}, funding {:+.4}, max drawdown {:.4}, {} fills",
        wf.equity.len(),
        t.pnl.to_quote(value),
        t.fees.to_quote(value),
        t.slippage.to_quote(value),
        t.funding.to_quote(value),
        t.max_drawdown.to_quote(value),
        t.fills
    );
    if let Some(b) = in_sample_best {
        say!(
            "in-sample best of the whole series (chosen with hindsight): {}/{} P&L {:+.4}, max \
             drawdown {:.4}, {} fills",
            b.short,
            b.long,
            b.pnl.to_quote(value),
            b.max_drawdown.to_quote(value),
            b.fills
        );
        // The same test windows traded with that hindsight pair: what the choice cost, like for
        // like.
        let fixed = WalkForwardSpec {
            sweep: SweepSpec {
                shorts: b.short..=b.short,
                longs: b.long..=b.long,
                ..spec.sweep.clone()
            },
            guard_grid: None,
            ..spec.clone()
        };
        let same = walk_forward(series, &fixed, &|| {})
            .map_err(|e| CliError::Failed(e.to_string()))?
            .total;
        say!(
            "that pair on the same test windows (hindsight, flat at each window's start): P&L \
             {:+.4}, max drawdown {:.4}, {} fills",
            same.pnl.to_quote(value),
            same.max_drawdown.to_quote(value),
            same.fills
        );
    }
    if let Some(path) = &args.wf_csv {
        write_csv(path, series, &wf, value)
            .map_err(|e| CliError::Failed(format!("writing {}: {e}", path.display())))?;
        say!("folds: {}", path.display());
    }
    if let Some(path) = &args.wf_chart {
        chart::svg(path, series, &wf, value)
            .map_err(|e| CliError::Failed(format!("writing the chart {}: {e}", path.display())))?;
        say!("walk-forward chart: {}", path.display());
    }
    Ok(())
}

fn guards_text(g: &Guards) -> String {
    if *g == Guards::default() {
        "-".into()
    } else {
        format!("{}/{}/{}", g.hysteresis_bp, g.confirm_bars, g.min_hold_bars)
    }
}

fn write_csv(
    path: &Path,
    series: &CandleSeries,
    wf: &WalkForward,
    value: f64,
) -> std::io::Result<()> {
    use std::io::Write;
    let at = |i: usize| {
        series
            .candles
            .get(i)
            .map_or(String::new(), |c| format_utc(c.close_time_ms))
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "fold,train_first,train_last,test_first,test_last,short,long,hysteresis_bp,confirm_bars,\
         min_hold_bars,in_sample_pnl,in_sample_max_drawdown,in_sample_fills,oos_pnl,oos_fees,\
         oos_slippage,oos_funding,oos_max_drawdown,oos_fills"
    )?;
    for f in &wf.folds {
        let (i, o) = (&f.in_sample, &f.out_of_sample);
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            f.fold.index + 1,
            at(f.fold.train.start),
            at(f.fold.train.end - 1),
            at(f.fold.test.start),
            at(f.fold.test.end - 1),
            i.short,
            i.long,
            f.guards.hysteresis_bp,
            f.guards.confirm_bars,
            f.guards.min_hold_bars,
            i.pnl.to_quote(value),
            i.max_drawdown.to_quote(value),
            i.fills,
            o.pnl.to_quote(value),
            o.fees.to_quote(value),
            o.slippage.to_quote(value),
            o.funding.to_quote(value),
            o.max_drawdown.to_quote(value),
            o.fills
        )?;
    }
    out.flush()
}
