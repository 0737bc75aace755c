//! `maestro sweep`.

use super::args::{FileArgs, TradeArgs, parse_range};
use super::backtest_cmd::check_svg_path;
use super::walk_forward_cmd::{self, WalkForwardArgs};
use super::{CliError, describe, load};
use crate::sweep::{PairResult, SweepError, SweepSpec, best, sweep_with};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Instant;

/// `maestro sweep FILE --short A..B --long C..D [options]`.
#[derive(Args, Debug, Clone)]
pub struct SweepArgs {
    #[command(flatten)]
    file: FileArgs,
    /// Short windows to try, FROM..TO inclusive (or one window).
    #[arg(long, default_value = "2..30", value_parser = parse_range)]
    short: RangeInclusive<u32>,
    /// Long windows to try, FROM..TO inclusive; only pairs with short < long run.
    #[arg(long, default_value = "3..200", value_parser = parse_range)]
    long: RangeInclusive<u32>,
    #[command(flatten)]
    trade: TradeArgs,
    /// How many of the best pairs (by PnL after fees) to list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Write a heatmap of every pair's PnL (short × long) to this SVG file.
    #[arg(long, value_name = "PATH")]
    heatmap: Option<PathBuf>,
    /// Write every pair's figures to this CSV file (money in the quote currency).
    #[arg(long, value_name = "PATH")]
    csv: Option<PathBuf>,
    #[command(flatten)]
    walk_forward: WalkForwardArgs,
}

/// The pairs and the trading the options ask for.
fn spec(args: &SweepArgs) -> SweepSpec {
    let t = &args.trade;
    SweepSpec {
        shorts: args.short.clone(),
        longs: args.long.clone(),
        mode: t.mode.into(),
        qty: t.qty,
        lot_size: t.lot_size,
        max_position: t.max_position(),
        guards: t.guards(),
        fee: t.fee_bp,
    }
}

pub(super) fn run(args: &SweepArgs) -> Result<(), CliError> {
    let t = &args.trade;
    let value = t.contract_tick_value(args.file.tick)?;
    if let Some(path) = &args.heatmap {
        check_svg_path(path)?;
    }
    args.walk_forward.check(&t.guards())?;
    let spec = spec(args);
    let pairs = spec.pairs().len();
    if pairs == 0 {
        return Err(CliError::Usage(
            "no pair with short < long in --short and --long: widen the ranges".into(),
        ));
    }
    let costs = t.costs()?;
    let (series, notes) = load(&args.file)?;
    say!("file: {}", args.file.file.display());
    say!("data: {}", describe(&series));
    for note in &notes {
        say!("{note}");
    }
    let bar = ProgressBar::new(pairs as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} pairs ({per_sec}, eta {eta})")
    {
        bar.set_style(style);
    }
    let started = Instant::now();
    let results = sweep_with(&series, &spec, &costs, &|| bar.inc(1));
    bar.finish_and_clear();
    let results = results.map_err(|e| match e {
        SweepError::Pair { .. } | SweepError::NoPairs => CliError::Usage(format!(
            "{e} (check --short/--long/--qty/--lot-size/--max-position)"
        )),
        other => CliError::Failed(other.to_string()),
    })?;
    let secs = started.elapsed().as_secs_f64();
    let evals = series.candles.len() as f64 * pairs as f64;
    say!(
        "swept {pairs} pairs in {secs:.2} s ({:.3e} candle×pair evaluations/s), fee {}, \
         {} contracts {:?}",
        evals / secs.max(1e-9),
        spec.fee,
        spec.qty,
        spec.mode
    );
    let winners = results.iter().filter(|r| r.pnl.0 > 0).count();
    say!(
        "pairs with a profit after fees: {winners} of {pairs}; losing or flat: {}",
        pairs - winners
    );
    say!(
        "best {} by PnL after fees (quote currency):",
        args.top.min(pairs)
    );
    say!(
        "{:>6} {:>6} {:>12} {:>12} {:>10} {:>7} {:>7} {:>6} {:>7}",
        "short",
        "long",
        "pnl",
        "max_dd",
        "fees",
        "fills",
        "flips",
        "win%",
        "expo%"
    );
    let n = series.candles.len().max(1) as f64;
    for r in best(&results, args.top) {
        say!("{}", row(&r, value, n));
    }
    if let Some(path) = &args.csv {
        write_csv(path, &results, value, n)
            .map_err(|e| CliError::Failed(format!("writing {}: {e}", path.display())))?;
        say!("all pairs: {}", path.display());
    }
    if let Some(path) = &args.heatmap {
        crate::chart::heatmap_svg(path, &results, value).map_err(|e| {
            CliError::Failed(format!("writing the heatmap {}: {e}", path.display()))
        })?;
        say!("heatmap: {}", path.display());
    }
    if args.walk_forward.walk_forward.is_some() {
        let in_sample_best = best(&results, 1);
        walk_forward_cmd::run(
            &args.walk_forward,
            &series,
            spec,
            costs,
            in_sample_best.first(),
            value,
        )?;
    }
    Ok(())
}

pub(super) fn row(r: &PairResult, value: f64, candles: f64) -> String {
    let win = if r.round_trips == 0 {
        "-".to_owned()
    } else {
        format!("{:.1}", r.wins as f64 / r.round_trips as f64 * 100.0)
    };
    format!(
        "{:>6} {:>6} {:>+12.4} {:>12.4} {:>10.4} {:>7} {:>7} {:>6} {:>7.1}",
        r.short,
        r.long,
        r.pnl.to_quote(value),
        r.max_drawdown.to_quote(value),
        r.fees.to_quote(value),
        r.fills,
        r.flips,
        win,
        r.exposed_bars as f64 / candles * 100.0
    )
}

fn write_csv(
    path: &std::path::Path,
    results: &[PairResult],
    value: f64,
    candles: f64,
) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "short,long,pnl,max_drawdown,fees,slippage,funding,realised,fills,flips,round_trips,wins,\
         exposure_pct,signals"
    )?;
    for r in results {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{:.3},{}",
            r.short,
            r.long,
            r.pnl.to_quote(value),
            r.max_drawdown.to_quote(value),
            r.fees.to_quote(value),
            r.slippage.to_quote(value),
            r.funding.to_quote(value),
            r.realised.to_quote(value),
            r.fills,
            r.flips,
            r.round_trips,
            r.wins,
            r.exposed_bars as f64 / candles * 100.0,
            r.signals
        )?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{Cli, Command};

    #[test]
    fn without_options_the_sweep_trades_the_cli_defaults() {
        let cli =
            Cli::parse_args(["maestro", "sweep", "candles.json"]).unwrap_or_else(|e| panic!("{e}"));
        let Command::Sweep(args) = cli.command else {
            panic!("not a sweep: {:?}", cli.command);
        };
        assert_eq!(spec(&args), SweepSpec::cli_defaults(2..=30, 3..=200));
    }
}
