//! The walk-forward chart (SVG): the concatenated out-of-sample equity above, the short and long
//! windows each fold chose below, on one time axis.

use super::WalkForward;
use crate::candles_file::CandleSeries;
use crate::candles_file::stamp::format_utc;
use plotters::prelude::*;
use std::path::Path;

/// Points drawn for the equity at most (display only; the figures stay exact elsewhere).
const MAX_POINTS: usize = 4000;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Writes the chart of `wf` over `series` to `path`.
pub fn svg(
    path: &Path,
    series: &CandleSeries,
    wf: &WalkForward,
    contract_tick_value: f64,
) -> Result<(), String> {
    let (Some(first), Some(last)) = (wf.folds.first(), wf.folds.last()) else {
        return Err("no fold to draw".into());
    };
    let (x0, x1) = (first.fold.test.start, last.fold.test.end);
    let eq: Vec<(usize, f64)> = wf
        .equity
        .iter()
        .step_by(wf.equity.len().div_ceil(MAX_POINTS).max(1))
        .map(|&(i, m)| (i, m.to_quote(contract_tick_value)))
        .collect();
    let (lo, hi) = eq
        .iter()
        .fold((0.0f64, 0.0f64), |(lo, hi), &(_, v)| (lo.min(v), hi.max(v)));
    let pad = ((hi - lo) * 0.05).max(1e-9);
    let longest = wf.folds.iter().map(|f| f.in_sample.long).max().unwrap_or(1);
    let label = |i: &usize| {
        series
            .candles
            .get(*i)
            .map_or(String::new(), |c| format_utc(c.close_time_ms))
    };
    let root = SVGBackend::new(path, (1600, 1000)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (top, bottom) = root.split_vertically(620);
    let t = &wf.total;
    let mut up = ChartBuilder::on(&top)
        .caption(
            format!(
                "Walk-forward out-of-sample equity ({} folds) — P&L after costs {:+.4}, max \
                 drawdown {:.4}, {} fills",
                wf.folds.len(),
                t.pnl.to_quote(contract_tick_value),
                t.max_drawdown.to_quote(contract_tick_value),
                t.fills
            ),
            ("sans-serif", 22),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, (lo - pad)..(hi + pad))
        .map_err(err)?;
    up.configure_mesh()
        .x_labels(6)
        .x_label_formatter(&label)
        .y_desc("out-of-sample equity")
        .draw()
        .map_err(err)?;
    up.draw_series(LineSeries::new(eq, BLUE)).map_err(err)?;
    up.draw_series(LineSeries::new([(x0, 0.0), (x1, 0.0)], BLACK.mix(0.3)))
        .map_err(err)?;
    // Fold boundaries, faint.
    up.draw_series(wf.folds.iter().map(|f| {
        PathElement::new(
            [(f.fold.test.start, lo - pad), (f.fold.test.start, hi + pad)],
            BLACK.mix(0.15),
        )
    }))
    .map_err(err)?;

    let mut down = ChartBuilder::on(&bottom)
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, 0u32..longest + longest / 10 + 1)
        .map_err(err)?;
    down.configure_mesh()
        .x_labels(6)
        .x_label_formatter(&label)
        .y_desc("chosen windows (bars)")
        .draw()
        .map_err(err)?;
    let steps = |pick: fn(&super::FoldResult) -> u32| -> Vec<(usize, u32)> {
        wf.folds
            .iter()
            .flat_map(|f| [(f.fold.test.start, pick(f)), (f.fold.test.end, pick(f))])
            .collect()
    };
    down.draw_series(LineSeries::new(steps(|f| f.in_sample.short), BLUE))
        .map_err(err)?
        .label("short")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE));
    down.draw_series(LineSeries::new(steps(|f| f.in_sample.long), MAGENTA))
        .map_err(err)?
        .label("long")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], MAGENTA));
    down.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}
