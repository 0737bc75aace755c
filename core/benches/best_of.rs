//! Best-of-N ns per candle, next to criterion's means: on a shared 2-core machine other builds
//! inflate means several-fold, while the fastest of many short runs stays close to the code's own
//! cost. Same workloads as `benches/core.rs` (the demo market, and the real May 2021 closes when
//! the shared data is there), each strategy figure also given as a ratio to the plain f64
//! crossover timed in the same run. `cargo bench -p maestro-core --bench best_of`.

#[path = "common/mod.rs"]
mod common;

use common::{demo_candles, f64_crossover, params, real_candles};
use maestro_core::{Candle, RollingSma, Step, Strategy, run_batch};
use std::hint::black_box;
use std::time::Instant;

const N: usize = 10_000;
const CAP: usize = 256;
const RUNS: usize = 300;

/// Fastest of `runs` runs of `f`, in ns per item.
fn best(runs: usize, items: usize, mut f: impl FnMut() -> i64) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_nanos() as f64 / items as f64
        })
        .fold(f64::MAX, f64::min)
}

/// Best-of ns per candle of `on_candle` and of `run_batch` at capacity `C`.
fn core_step<const C: usize>(runs: usize, candles: &[Candle], w: (u32, u32)) -> (f64, f64) {
    let fresh = Strategy::<C>::new(black_box(params(w.0, w.1))).unwrap_or_else(|e| panic!("{e}"));
    let step = best(runs, candles.len(), || {
        let mut s = fresh.clone();
        let mut n = 0;
        for c in black_box(candles) {
            if let Ok(Step::Signal(_)) = s.on_candle(c) {
                n += 1;
            }
        }
        n
    });
    let batch = best(runs, candles.len(), || {
        let mut s = fresh.clone();
        run_batch(&mut s, black_box(candles), |_, _| {}).map_or(-1, |st| st.signals as i64)
    });
    (step, batch)
}

/// One line per workload: the core's figures and their ratio to the f64 crossover.
fn compare(runs: usize, name: &str, candles: &[Candle], w: (u32, u32)) {
    let closes: Vec<f64> = candles.iter().map(|c| c.close.0 as f64).collect();
    let f64_ns = best(runs, candles.len(), || {
        i64::from(f64_crossover(
            black_box(&closes),
            w.0 as usize,
            w.1 as usize,
        ))
    });
    let (s64, b64) = core_step::<64>(runs, candles, w);
    let (s1k, b1k) = core_step::<1024>(runs, candles, w);
    println!(
        "{name} {}/{}: f64 crossover {f64_ns:.2} | on_candle/64 {s64:.2} ({:.2}x) \
         on_candle/1024 {s1k:.2} ({:.2}x) run_batch/64 {b64:.2} ({:.2}x) run_batch/1024 {b1k:.2} ({:.2}x)",
        w.0,
        w.1,
        s64 / f64_ns,
        s1k / f64_ns,
        b64 / f64_ns,
        b1k / f64_ns,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it,
    // where a smoke run of every workload is enough.
    let runs = if std::env::args().any(|a| a == "--bench") {
        RUNS
    } else {
        1
    };
    let candles = demo_candles(N);
    let closes: Vec<i64> = candles.iter().map(|c| c.close.0).collect();
    println!("best of {runs} runs, ns per candle (ratio: to the f64 crossover of the same line)");
    for w in [10usize, 50, 200] {
        let mut sma = RollingSma::<CAP>::new(w).unwrap_or_else(|e| panic!("{e}"));
        let rolling = best(runs, N, || {
            let mut acc = 0i64;
            for c in black_box(candles.as_slice()) {
                if let Some(m) = sma.push(c.close) {
                    acc = acc.wrapping_add(m.sum);
                }
            }
            acc
        });
        let naive = best(runs, N - w + 1, || {
            let raw = black_box(closes.as_slice());
            (w..=raw.len())
                .map(|end| raw[end - w..end].iter().sum::<i64>())
                .fold(0i64, i64::wrapping_add)
        });
        println!(
            "sma window {w:>3}: rolling {rolling:.2}  naive re-sum {naive:.2}  ({:.0}x)",
            naive / rolling
        );
    }
    compare(runs, "demo", &candles, (10, 50));
    if let Some(real) = real_candles("best_of") {
        compare(runs / 4 + 1, "real", &real, (10, 50));
    }
}
