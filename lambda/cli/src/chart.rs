//! SVG charts for the CLI: a backtest (price, both SMAs, fills, equity curve) and a sweep heatmap.
//!
//! Charts are for looking at, so they use `f64` and thin long series to a few thousand points; every
//! figure a decision or a report depends on stays exact elsewhere.

use crate::backtest::BacktestReport;
use crate::candles_file::CandleSeries;
use crate::candles_file::stamp::format_utc;
use crate::sweep::PairResult;
use plotters::prelude::*;
use std::path::Path;

/// Points drawn per line at most.
const MAX_POINTS: usize = 4000;

/// A chart failure (I/O or drawing), as text.
pub(crate) type ChartError = String;

/// SMA of `window` bars at every candle (`None` while the window fills), restarted after gaps as
/// the backtest restarts its strategy.
fn sma_series(series: &CandleSeries, window: usize) -> Vec<Option<f64>> {
    let c = &series.candles;
    let mut out = Vec::with_capacity(c.len());
    let mut sum: i64 = 0;
    let mut start = 0;
    for i in 0..c.len() {
        if i > 0 && c[i].close_time_ms - c[i - 1].close_time_ms != series.bin_ms {
            start = i;
            sum = 0;
        }
        sum += c[i].close.0;
        if i >= start + window {
            sum -= c[i - window].close.0;
        }
        out.push(
            (i + 1 >= start + window)
                .then(|| maestro_core::Price(1).to_f64(series.tick) * sum as f64 / window as f64),
        );
    }
    out
}

fn err<E: std::fmt::Display>(e: E) -> ChartError {
    e.to_string()
}

/// Writes the backtest chart.
pub(crate) fn backtest_svg(
    path: &Path,
    series: &CandleSeries,
    report: &BacktestReport,
    contract_tick_value: f64,
) -> Result<(), ChartError> {
    let candles = &series.candles;
    let n = candles.len();
    if n == 0 {
        return Err("no candles to draw".into());
    }
    let tick = series.tick;
    let stride = n.div_ceil(MAX_POINTS).max(1);
    let close: Vec<f64> = candles.iter().map(|c| c.close.to_f64(tick)).collect();
    let short = sma_series(series, report.params.short_window as usize);
    let long = sma_series(series, report.params.long_window as usize);
    let equity: Vec<f64> = report
        .equity
        .iter()
        .map(|m| m.to_quote(contract_tick_value))
        .collect();
    let (lo, hi) = close
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let pad = ((hi - lo) * 0.05).max(1e-9);
    let (elo, ehi) = equity
        .iter()
        .fold((0.0f64, 0.0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let epad = ((ehi - elo) * 0.05).max(1e-9);
    let label = |i: &usize| {
        candles
            .get(*i)
            .map_or(String::new(), |c| format_utc(c.close_time_ms))
    };

    let root = SVGBackend::new(path, (1600, 1000)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (top, bottom) = root.split_vertically(640);
    let p = report.params;
    let title = format!(
        "SMA {}/{} {:?} — PnL after fees {:+.4}, {} fills",
        p.short_window,
        p.long_window,
        p.mode,
        report.final_pnl().to_quote(contract_tick_value),
        report.account.fills
    );
    let mut price = ChartBuilder::on(&top)
        .caption(title, ("sans-serif", 22))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(0usize..n, (lo - pad)..(hi + pad))
        .map_err(err)?;
    price
        .configure_mesh()
        .x_labels(6)
        .x_label_formatter(&label)
        .y_desc("price")
        .draw()
        .map_err(err)?;
    let thin =
        |v: &[f64]| -> Vec<(usize, f64)> { (0..n).step_by(stride).map(|i| (i, v[i])).collect() };
    price
        .draw_series(LineSeries::new(thin(&close), BLACK.mix(0.6)))
        .map_err(err)?
        .label("close")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK));
    for (values, color, name) in [
        (&short, BLUE, format!("SMA {}", p.short_window)),
        (&long, MAGENTA, format!("SMA {}", p.long_window)),
    ] {
        // One line per gap-free run of defined values.
        let mut runs: Vec<Vec<(usize, f64)>> = vec![Vec::new()];
        for i in (0..n).step_by(stride) {
            match values[i] {
                Some(v) => runs.last_mut().map_or((), |r| r.push((i, v))),
                None if runs.last().is_some_and(|r| !r.is_empty()) => runs.push(Vec::new()),
                None => {}
            }
        }
        let mut first = true;
        for run in runs.into_iter().filter(|r| !r.is_empty()) {
            let drawn = price
                .draw_series(LineSeries::new(run, color))
                .map_err(err)?;
            if first {
                drawn
                    .label(name.clone())
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color));
                first = false;
            }
        }
    }
    let buys = report.trades.iter().filter(|t| t.fill.delta > 0);
    let sells = report.trades.iter().filter(|t| t.fill.delta < 0);
    price
        .draw_series(
            buys.map(|t| {
                TriangleMarker::new((t.index, t.fill.price.to_f64(tick)), 6, GREEN.filled())
            }),
        )
        .map_err(err)?
        .label("buy")
        .legend(|(x, y)| TriangleMarker::new((x + 10, y), 6, GREEN.filled()));
    price
        .draw_series(sells.map(|t| Cross::new((t.index, t.fill.price.to_f64(tick)), 5, RED)))
        .map_err(err)?
        .label("sell")
        .legend(|(x, y)| Cross::new((x + 10, y), 5, RED));
    price
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;

    let mut eq = ChartBuilder::on(&bottom)
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(0usize..n, (elo - epad)..(ehi + epad))
        .map_err(err)?;
    eq.configure_mesh()
        .x_labels(6)
        .x_label_formatter(&label)
        .y_desc("equity after fees")
        .draw()
        .map_err(err)?;
    eq.draw_series(LineSeries::new(thin(&equity), BLUE))
        .map_err(err)?;
    eq.draw_series(LineSeries::new([(0, 0.0), (n - 1, 0.0)], BLACK.mix(0.3)))
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// Writes a heatmap of every pair's PnL: short window across, long window up; red losses, green
/// profits, white break-even.
pub(crate) fn heatmap_svg(
    path: &Path,
    results: &[PairResult],
    contract_tick_value: f64,
) -> Result<(), ChartError> {
    let Some(first) = results.first() else {
        return Err("no results to draw".into());
    };
    let (mut s0, mut s1, mut l0, mut l1) = (first.short, first.short, first.long, first.long);
    for r in results {
        s0 = s0.min(r.short);
        s1 = s1.max(r.short);
        l0 = l0.min(r.long);
        l1 = l1.max(r.long);
    }
    let pnl = |r: &PairResult| r.pnl.to_quote(contract_tick_value);
    // Colours saturate at the 90th percentile of |PnL|, so a few disastrous tiny windows do not
    // wash out the rest of the map.
    let mut magnitudes: Vec<f64> = results.iter().map(|r| pnl(r).abs()).collect();
    magnitudes.sort_by(f64::total_cmp);
    let scale = magnitudes[(magnitudes.len() - 1) * 9 / 10].max(1e-12);
    let root = SVGBackend::new(path, (1200, 1000)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let best = results
        .iter()
        .max_by(|a, b| a.pnl.cmp(&b.pnl))
        .map_or(String::new(), |r| {
            format!("best {}/{} {:+.4}", r.short, r.long, pnl(r))
        });
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("PnL after fees by window pair (red loss, green profit, full colour at ±{scale:.2}) — {best}"),
            ("sans-serif", 20),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(s0..s1 + 1, l0..l1 + 1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("short window")
        .y_desc("long window")
        .draw()
        .map_err(err)?;
    chart
        .draw_series(results.iter().map(|r| {
            let v = (pnl(r) / scale).clamp(-1.0, 1.0);
            let fade = |x: f64| (255.0 * (1.0 - x.abs())) as u8;
            let color = if v < 0.0 {
                RGBColor(255, fade(v), fade(v))
            } else {
                RGBColor(fade(v), 255, fade(v))
            };
            Rectangle::new(
                [(r.short, r.long), (r.short + 1, r.long + 1)],
                color.filled(),
            )
        }))
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candles_file::{Format, Stamp};
    use maestro_core::{Candle, Price, TickSize};

    #[test]
    fn chart_smas_restart_after_a_gap() {
        let at = |i: i64, c: i64| Candle {
            close_time_ms: 60_000 * i,
            open: Price(c),
            high: Price(c),
            low: Price(c),
            close: Price(c),
        };
        let series = CandleSeries {
            candles: vec![at(1, 100), at(2, 200), at(3, 300), at(6, 500), at(7, 700)],
            bin_ms: 60_000,
            format: Format::Freqtrade,
            stamp: Stamp::Start,
            gaps: Vec::new(),
            off_grid: Vec::new(),
            tick: TickSize::CENT,
        };
        let got = sma_series(&series, 2);
        assert_eq!(got, [None, Some(1.5), Some(2.5), None, Some(6.0)]);
    }
}
