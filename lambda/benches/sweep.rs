//! Sweep throughput on real data: every pair 2 <= short < long <= 200 over the May 2021 LTC month
//! (the target: under 2 s on a 2-core machine), in candle×pair evaluations per second,
//! against a baseline measured in the same process: the same pairs backtested one by one with the
//! core strategy (`run_batch` + the shared fill rule), on a sample of pairs.
//!
//! Run: `cargo bench -p maestro-lambda --bench sweep` (the data directory is `../shared/data`
//! beside the project, or `MAESTRO_DATA_DIR`). Optional argument: baseline sample size.

use maestro_core::{Guards, Mode};
use maestro_lambda::backtest::backtest;
use maestro_lambda::candles_file::{LoadOptions, load};
use maestro_lambda::sim::account::FeeRate;
use maestro_lambda::sweep::{SweepSpec, sweep, sweep_pairs};
use std::path::PathBuf;
use std::time::Instant;

const FILE: &str = "ltcusdt-binance-spot-1m-2021-05.json";

fn main() {
    let dir = std::env::var_os("MAESTRO_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    let path = dir.join(FILE);
    let series = match load(&path, &LoadOptions::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sweep bench: cannot load {}: {e}", path.display());
            std::process::exit(1);
        }
    };
    let sample: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(200);
    let spec = SweepSpec {
        shorts: 2..=200,
        longs: 2..=200,
        mode: Mode::LongShort,
        qty: 1000,
        lot_size: 1000,
        max_position: 1000,
        guards: Guards::default(),
        fee: FeeRate::LTCUSDT_TAKER,
    };
    let pairs = spec.pairs();
    let n = series.candles.len();
    let evals = (n * pairs.len()) as f64;
    println!(
        "sweep bench: {} candles × {} pairs = {:.3e} evaluations, {} threads",
        n,
        pairs.len(),
        evals,
        rayon::current_num_threads()
    );

    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let results = sweep(&series, &spec, &|| {});
        let dt = t.elapsed().as_secs_f64();
        match results {
            Ok(r) => assert_eq!(r.len(), pairs.len()),
            Err(e) => {
                eprintln!("sweep failed: {e}");
                std::process::exit(1);
            }
        }
        times.push(dt);
    }
    times.sort_by(f64::total_cmp);
    let best = times[0];
    println!(
        "full sweep: best {:.3} s, median {:.3} s  →  {:.3e} evaluations/s",
        best,
        times[1],
        evals / best
    );

    // Baseline: the same work pair by pair through the core strategy, on an even sample of pairs,
    // single-threaded and then with rayon.
    let step = (pairs.len() / sample.max(1)).max(1);
    let picked: Vec<(u32, u32)> = pairs.iter().copied().step_by(step).collect();
    let t = Instant::now();
    for &(s, l) in &picked {
        let params = spec.params(s, l, series.bin_ms);
        if let Err(e) = backtest(&series, params, spec.fee) {
            eprintln!("baseline failed: {e}");
            std::process::exit(1);
        }
    }
    let base = t.elapsed().as_secs_f64();
    let base_rate = (n * picked.len()) as f64 / base;
    let t = Instant::now();
    let _ = sweep_pairs(&series, &spec, &picked, &|| {});
    let kernel_sample = t.elapsed().as_secs_f64();
    println!(
        "baseline (core Strategy per pair, 1 thread, {} pairs): {:.3e} evaluations/s; \
         full sweep is {:.1}× faster; a full sweep that way would take {:.1} s",
        picked.len(),
        base_rate,
        (evals / best) / base_rate,
        evals / base_rate
    );
    println!(
        "same sample through the sweep kernel: {:.4} s ({:.3e} evaluations/s)",
        kernel_sample,
        (n * picked.len()) as f64 / kernel_sample
    );
}
