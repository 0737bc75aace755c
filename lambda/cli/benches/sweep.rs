//! Sweep throughput on real data: every pair 2 <= short < long <= 200 over the May 2021 LTC month
//! (the target: under 2 s on a 2-core machine), in candle×pair evaluations per second,
//! against a baseline measured in the same process: the same pairs backtested one by one with the
//! core strategy (`run_batch` + the shared fill rule), on a sample of pairs.
//!
//! Run: `cargo bench -p maestro-cli --bench sweep` (the data directory is `../shared/data`
//! beside the project, or `MAESTRO_DATA_DIR`). Optional argument: baseline sample size.

use maestro_cli::backtest::backtest;
use maestro_cli::candles_file::{LoadOptions, load};
use maestro_cli::sweep::{
    PairResult, SweepError, SweepSpec, sweep, sweep_pairs, sweep_pairs_by_lanes,
};
use std::path::PathBuf;
use std::time::Instant;

mod common;
use common::cpu_seconds;

const FILE: &str = "ltcusdt-binance-spot-1m-2021-05.json";

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it, and
    // then a quick smoke run on generated data is enough (and needs no data files).
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
            eprintln!("sweep bench: cannot load {}: {e}", path.display());
            std::process::exit(1);
        }
    };
    let sample: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(200);
    let spec = SweepSpec::cli_defaults(2..=200, 2..=200);
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

    // The sweep (one pass over the candles for all pairs) and, as the baseline in the same
    // process, the pair-by-pair loop it replaced, alternating so both see the same neighbours.
    let mut fast = Timings::default();
    let mut lanes = Timings::default();
    for _ in 0..3 {
        fast.add(|| sweep(&series, &spec, &|| {}), pairs.len());
        lanes.add(
            || sweep_pairs_by_lanes(&series, &spec, &pairs, &|| {}),
            pairs.len(),
        );
    }
    // Real data as evidence on top of the tests: every pair's figures from both loops, equal.
    if fast.last != lanes.last {
        eprintln!("sweep bench: the one-pass and the pair-by-pair loops disagree on real data");
        std::process::exit(1);
    }
    println!(
        "both loops give the same figures for all {} pairs",
        pairs.len()
    );
    let best = fast.best_wall();
    println!(
        "full sweep: best {:.3} s wall, {:.3} CPU-s  →  {:.3e} evaluations/s",
        best,
        fast.best_cpu(),
        evals / best
    );
    println!(
        "pair-by-pair loop (baseline): best {:.3} s wall, {:.3} CPU-s; the sweep takes {:.2}× its \
         wall time and {:.2}× its CPU time",
        lanes.best_wall(),
        lanes.best_cpu(),
        best / lanes.best_wall(),
        fast.best_cpu() / lanes.best_cpu()
    );

    // On a shared machine wall time depends on the neighbours; CPU time much less so. On an idle
    // machine the wall time is about CPU time / threads.
    println!(
        "full sweep CPU time: best {:.3} s  →  {:.3e} evaluations per CPU-second; \
         idle-machine estimate {:.3} s wall on {} threads",
        fast.best_cpu(),
        evals / fast.best_cpu(),
        fast.best_cpu() / rayon::current_num_threads() as f64,
        rayon::current_num_threads()
    );

    // Baseline: the same work pair by pair through the core strategy, on an even sample of pairs,
    // single-threaded and then with rayon.
    let step = (pairs.len() / sample.max(1)).max(1);
    let picked: Vec<(u32, u32)> = pairs.iter().copied().step_by(step).collect();
    let cpu0 = cpu_seconds();
    let t = Instant::now();
    for &(s, l) in &picked {
        let params = spec.params(s, l, series.bin_ms);
        if let Err(e) = backtest(&series, params, spec.fee) {
            eprintln!("baseline failed: {e}");
            std::process::exit(1);
        }
    }
    let base = t.elapsed().as_secs_f64();
    let base_cpu = cpu_seconds() - cpu0;
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
        "baseline CPU time {:.3} s → {:.3e} evaluations per CPU-second; the sweep does {:.1}× more \
         work per CPU-second",
        base_cpu,
        (n * picked.len()) as f64 / base_cpu,
        (evals / fast.best_cpu()) / ((n * picked.len()) as f64 / base_cpu)
    );
    println!(
        "same sample through the sweep kernel: {:.4} s ({:.3e} evaluations/s)",
        kernel_sample,
        (n * picked.len()) as f64 / kernel_sample
    );
}

/// Best wall and CPU seconds of repeated runs.
#[derive(Default)]
struct Timings {
    wall: Vec<f64>,
    cpu: Vec<f64>,
    /// The last run's results.
    last: Vec<PairResult>,
}

impl Timings {
    /// Times one run, which must give `pairs` results.
    fn add(&mut self, run: impl FnOnce() -> Result<Vec<PairResult>, SweepError>, pairs: usize) {
        let cpu0 = cpu_seconds();
        let t = Instant::now();
        let results = run();
        self.wall.push(t.elapsed().as_secs_f64());
        self.cpu.push(cpu_seconds() - cpu0);
        match results {
            Ok(r) => {
                assert_eq!(r.len(), pairs);
                self.last = r;
            }
            Err(e) => {
                eprintln!("sweep failed: {e}");
                std::process::exit(1);
            }
        }
    }

    fn best_wall(&self) -> f64 {
        self.wall.iter().copied().fold(f64::MAX, f64::min)
    }

    fn best_cpu(&self) -> f64 {
        self.cpu.iter().copied().fold(f64::MAX, f64::min)
    }
}

/// A small sweep over the core's demo market, checked against one plain backtest.
fn smoke() {
    use maestro_cli::candles_file::{CandleSeries, Format, Stamp};
    use maestro_core::DemoMarket;
    let mut candles: Vec<maestro_core::Candle> = Vec::new();
    for c in DemoMarket::new(1, 60_000, 60_000).take(3000) {
        // The demo market repeats a candle now and then, as a poller re-reads one; files do not.
        if candles
            .last()
            .is_none_or(|k| k.close_time_ms < c.close_time_ms)
        {
            candles.push(c);
        }
    }
    let series = CandleSeries {
        candles,
        bin_ms: 60_000,
        format: Format::Freqtrade,
        stamp: Stamp::Start,
        gaps: Vec::new(),
        off_grid: Vec::new(),
        tick: maestro_core::TickSize::CENT,
    };
    let spec = SweepSpec::cli_defaults(2..=12, 3..=30);
    let results = match sweep(&series, &spec, &|| {}) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sweep bench smoke run failed: {e}");
            std::process::exit(1);
        }
    };
    let last = results[results.len() - 1];
    let single = backtest(
        &series,
        spec.params(last.short, last.long, 60_000),
        spec.fee,
    );
    let same = single.is_ok_and(|r| maestro_cli::sweep::from_backtest(&r) == last);
    if !same {
        eprintln!(
            "sweep bench smoke run: pair {}/{} differs from its backtest",
            last.short, last.long
        );
        std::process::exit(1);
    }
    println!(
        "sweep bench smoke run: {} pairs ok (run `cargo bench` for figures)",
        results.len()
    );
}
