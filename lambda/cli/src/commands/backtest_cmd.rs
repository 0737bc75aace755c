//! `maestro backtest`.

use super::args::{FileArgs, TradeArgs};
use super::{CliError, describe, load};
use crate::backtest::costs::{Funding, Slippage};
use crate::backtest::{BacktestError, BacktestReport, MAX_LONG_WINDOW, backtest_with};
use crate::candles_file::stamp::format_utc;
use crate::sim::account::Money;
use clap::Args;
use maestro_core::Params;
use std::path::PathBuf;

/// `maestro backtest FILE [options]`.
#[derive(Args, Debug, Clone)]
pub struct BacktestArgs {
    #[command(flatten)]
    file: FileArgs,
    /// Short SMA window in bars.
    #[arg(long, default_value_t = 10)]
    short: u32,
    /// Long SMA window in bars (must exceed --short).
    #[arg(long, default_value_t = 50)]
    long: u32,
    #[command(flatten)]
    trade: TradeArgs,
    /// Capital the return and drawdown percentages refer to, in the quote currency
    /// [default: the notional of --qty at the first close, i.e. 1x leverage].
    #[arg(long)]
    capital: Option<f64>,
    /// Write a chart (price, both SMAs, entries and exits, equity curve) to this SVG file.
    #[arg(long, value_name = "PATH")]
    chart: Option<PathBuf>,
    /// Also print every fill.
    #[arg(long)]
    list_trades: bool,
    /// Also print every signal: the bar, its close, and the position the strategy turned to.
    #[arg(long)]
    list_signals: bool,
}

pub(super) fn run(args: &BacktestArgs) -> Result<(), CliError> {
    let t = &args.trade;
    let value = t.contract_tick_value(args.file.tick)?;
    if let Some(path) = &args.chart {
        check_svg_path(path)?;
    }
    let mut params = Params {
        short_window: args.short,
        long_window: args.long,
        mode: t.mode.into(),
        qty: t.qty,
        lot_size: t.lot_size,
        max_position: t.max_position(),
        // Replaced by the file's bar length once it is read.
        bin_ms: 60_000,
        guards: t.guards(),
    };
    // Refuse bad options before spending time on the file.
    if args.long as usize > MAX_LONG_WINDOW {
        return Err(CliError::Usage(format!(
            "--long {} exceeds the supported maximum of {MAX_LONG_WINDOW}",
            args.long
        )));
    }
    params.validate(MAX_LONG_WINDOW).map_err(|e| {
        CliError::Usage(format!(
            "{e} (check --short/--long/--qty/--lot-size/--max-position/--hysteresis-bp)"
        ))
    })?;
    let costs = t.costs()?;
    let (series, notes) = load(&args.file)?;
    params.bin_ms = series.bin_ms;
    let report = backtest_with(&series, params, &costs).map_err(|e| match e {
        BacktestError::Candle { .. } => CliError::Failed(format!(
            "{}: {e} (the file's candles must be evenly spaced, oldest first)",
            args.file.file.display()
        )),
        _ => CliError::Usage(format!(
            "{e} (check --short/--long/--qty/--lot-size/--max-position)"
        )),
    })?;
    let first_close = series
        .candles
        .first()
        .map_or(0.0, |c| c.close.to_f64(series.tick));
    let capital = args
        .capital
        .unwrap_or(t.qty as f64 * first_close / t.contracts_per_unit as f64);
    if !(capital.is_finite() && capital > 0.0) {
        return Err(CliError::Usage(
            "--capital must be a positive amount".into(),
        ));
    }
    say!("file: {}", args.file.file.display());
    say!("data: {}", describe(&series));
    for note in &notes {
        say!("{note}");
    }
    if series.candles.len() < args.long as usize {
        say!(
            "warning: --long {} is longer than the {} candles of the data: the strategy never \
             gets ready, so there is no signal and no fill",
            args.long,
            series.candles.len()
        );
    } else if report.signals == 0 && !report.gaps.is_empty() {
        say!(
            "warning: no signal: every stretch between the data's gaps may be shorter than --long \
             {} (the strategy restarts after each gap)",
            args.long
        );
    }
    say!("{}", summary(&report, value, capital).trim_end());
    for g in &report.gaps {
        say!(
            "gap: {} bar(s) missing between {} and {} UTC; held {} contracts through it; \
             strategy restarted, {} bar(s) of warm-up",
            g.gap.missing,
            format_utc(g.gap.last_close_ms),
            format_utc(g.gap.next_close_ms),
            g.position_held,
            g.warmup_bars
        );
    }
    if args.list_signals {
        let (signals, _) = crate::backtest::signals(&series, params)
            .map_err(|e| CliError::Failed(format!("{}: {e}", args.file.file.display())))?;
        say!("signals (bar close time UTC, close, target position):");
        for (index, target) in signals {
            if let Some(c) = series.candles.get(index) {
                say!(
                    "  {}  {:.2}  {:+}",
                    format_utc(c.close_time_ms),
                    c.close.to_f64(series.tick),
                    target
                );
            }
        }
    }
    if args.list_trades {
        say!("fills (time UTC, contracts, price, fee, position after, round-trip PnL):");
        for tr in &report.trades {
            let f = tr.fill;
            say!(
                "  {}  {:+}  {:.2}  {:.6}  {:+}  {}",
                format_utc(tr.close_time_ms),
                f.delta,
                f.price.to_f64(series.tick),
                f.fee.to_quote(value),
                f.position_after,
                f.closed_trip
                    .map_or(String::new(), |m| format!("{:+.6}", m.to_quote(value)))
            );
        }
    }
    if let Some(path) = &args.chart {
        crate::chart::backtest_svg(path, &series, &report, value)
            .map_err(|e| CliError::Failed(format!("writing the chart {}: {e}", path.display())))?;
        say!("chart: {}", path.display());
    }
    Ok(())
}

pub(super) fn check_svg_path(path: &std::path::Path) -> Result<(), CliError> {
    if path.extension().and_then(|e| e.to_str()) != Some("svg") {
        return Err(CliError::Usage(format!(
            "{}: charts are written as SVG; give a path ending in .svg",
            path.display()
        )));
    }
    Ok(())
}

/// The trader's summary, one figure a line.
pub fn summary(r: &BacktestReport, value: f64, capital: f64) -> String {
    let p = &r.params;
    let a = &r.account;
    let q = |m: Money| m.to_quote(value);
    let pnl = q(r.final_pnl());
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    let g = p.guards;
    line(format!(
        "strategy: SMA {}/{} {:?}, {} contracts (lot {}, max {}), fee {} on every fill, \
         fills at the candle's close{}",
        p.short_window,
        p.long_window,
        p.mode,
        p.qty,
        p.lot_size,
        p.max_position,
        r.fee,
        if g == Default::default() {
            String::new()
        } else {
            format!(
                ", guards: hysteresis {} bp, confirm {} bars, min hold {} bars",
                g.hysteresis_bp, g.confirm_bars, g.min_hold_bars
            )
        }
    ));
    line(format!(
        "trades: {} fills, {} round trips, {} flips, {} signals",
        a.fills, a.round_trips, a.flips, r.signals
    ));
    line(format!(
        "win rate: {}",
        r.win_rate()
            .map_or("n/a (no closed round trip)".into(), |w| format!(
                "{:.1} %",
                w * 100.0
            ))
    ));
    line(format!(
        "PnL after fees: {pnl:+.4} (fees paid {:.4}, before fees {:+.4}) in the quote currency",
        q(a.fees),
        pnl + q(a.fees)
    ));
    line(format!(
        "costs: fees {:.4}, slippage {:.4} ({}), funding {:+.4} ({}; + paid, - received)",
        q(a.fees),
        q(a.slippage),
        match r.costs.slippage {
            Slippage::None => "none".to_owned(),
            Slippage::PriceBp(bp) => format!("{bp} of the price"),
            Slippage::RangePpm(ppm) => format!("{} of the bar's range", ppm as f64 / 1e6),
        },
        q(a.funding),
        match &r.costs.funding {
            Funding::None => "none".to_owned(),
            Funding::Flat(rate) => format!("{} every 8 h", rate.0 as f64 / 1e8),
            Funding::Schedule(list) => format!("{} historical rates", list.len()),
        }
    ));
    line(format!(
        "return: {:+.2} % of capital {capital:.2}",
        pnl / capital * 100.0
    ));
    line(format!(
        "max drawdown: {:.4} ({:.2} % of capital)",
        q(r.max_drawdown),
        q(r.max_drawdown) / capital * 100.0
    ));
    line(format!(
        "exposure: {:.1} % of candles in the market",
        r.exposure() * 100.0
    ));
    let last = r.equity.len().checked_sub(1);
    line(format!(
        "end: position {} contracts, realised {:+.4}, unrealised {:+.4} (marked at the last close)",
        a.position,
        q(a.realised),
        last.map_or(0.0, |_| pnl - q(a.realised))
    ));
    out
}
