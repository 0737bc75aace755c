//! Walk-forward time on real data: 12 folds of 17,000 training + 2,287 test one-minute bars over
//! the May 2021 LTC month (44,447 candles), pairs 2..30 × 3..200 (the sweep's defaults), with and
//! without the guard grid (the aim: under 10 s with the grid on a 2-core machine). The
//! baseline, measured in the same process: one plain sweep of the same pairs over the whole file,
//! so the figures also read as "so many full sweeps".
//!
//! Run: `cargo bench -p maestro-cli --bench walk_forward` (the data directory is `../shared/data`
//! beside the project, or `MAESTRO_DATA_DIR`).

use maestro_cli::backtest::costs::Costs;
use maestro_cli::candles_file::{LoadOptions, load};
use maestro_cli::sim::account::FeeRate;
use maestro_cli::sweep::{SweepSpec, sweep};
use maestro_cli::walk_forward::{GuardGrid, WalkForwardSpec, walk_forward};
use std::path::PathBuf;
use std::time::Instant;

mod common;
use common::cpu_seconds;

const FILE: &str = "ltcusdt-binance-spot-1m-2021-05.json";

fn spec(grid: Option<GuardGrid>, train: usize, test: usize) -> WalkForwardSpec {
    WalkForwardSpec {
        sweep: SweepSpec::cli_defaults(2..=30, 3..=200),
        costs: Costs::taker_only(FeeRate::LTCUSDT_TAKER),
        train,
        test,
        folds: None,
        guard_grid: grid,
    }
}

fn main() {
    // `cargo test --all-targets` runs this binary without --bench: a quick run on generated data.
    if !std::env::args().any(|a| a == "--bench") {
        smoke();
        return;
    }
    let dir = std::env::var_os("MAESTRO_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let path = dir.join(FILE);
    let series = match load(&path, &LoadOptions::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("walk-forward bench: cannot load {}: {e}", path.display());
            std::process::exit(1);
        }
    };
    println!(
        "walk-forward bench: {} candles, {} threads",
        series.candles.len(),
        rayon::current_num_threads()
    );
    let plain = spec(None, 17_000, 2_287);
    let t = Instant::now();
    let cpu = cpu_seconds();
    if let Err(e) = sweep(&series, &plain.sweep, &|| {}) {
        eprintln!("sweep failed: {e}");
        std::process::exit(1);
    }
    let base = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    println!(
        "baseline: one plain sweep of {} pairs over the whole file: {:.3} s wall, {:.3} s CPU",
        plain.sweep.pairs().len(),
        base.0,
        base.1
    );
    for (name, s) in [
        ("12 folds, plain", plain.clone()),
        (
            "12 folds, guard grid 3×2×2 on the best 5 pairs",
            spec(Some(GuardGrid::default()), 17_000, 2_287),
        ),
    ] {
        let mut runs = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let cpu = cpu_seconds();
            match walk_forward(&series, &s, &|| {}) {
                Ok(wf) => assert_eq!(wf.folds.len(), 12, "the layout gives 12 folds"),
                Err(e) => {
                    eprintln!("walk forward failed: {e}");
                    std::process::exit(1);
                }
            }
            runs.push((t.elapsed().as_secs_f64(), cpu_seconds() - cpu));
        }
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        println!(
            "{name}: best {:.3} s wall (median {:.3} s), {:.3} s CPU; {:.1}× the baseline sweep",
            runs[0].0,
            runs[1].0,
            runs[0].1,
            runs[0].0 / base.0.max(1e-9)
        );
    }
}

/// A small walk forward on the core's demo market.
fn smoke() {
    use maestro_cli::candles_file::{CandleSeries, Format, Stamp};
    use maestro_core::{Candle, DemoMarket};
    let candles: Vec<Candle> = DemoMarket::new(1, 60_000, 60_000)
        .take(3000)
        .enumerate()
        .map(|(i, c)| Candle {
            close_time_ms: 60_000 * (i as i64 + 1),
            ..c
        })
        .collect();
    let series = CandleSeries {
        candles,
        bin_ms: 60_000,
        format: Format::Freqtrade,
        stamp: Stamp::Start,
        gaps: Vec::new(),
        off_grid: Vec::new(),
        tick: maestro_core::TickSize::CENT,
    };
    match walk_forward(
        &series,
        &spec(Some(GuardGrid::default()), 1000, 500),
        &|| {},
    ) {
        Ok(wf) => println!(
            "walk-forward bench smoke run: {} folds ok (run `cargo bench` for figures)",
            wf.folds.len()
        ),
        Err(e) => {
            eprintln!("walk-forward bench smoke run failed: {e}");
            std::process::exit(1);
        }
    }
}
