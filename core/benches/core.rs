//! ns per candle for the O(1) rolling SMA and the full strategy step, on the demo market and on
//! real data (the May 2021 LTC/USDT closes, skipped with a message when the file is absent), with
//! baselines in the same run: three f64 two-SMA crossovers (`f64_running_means`, the fastest;
//! `f64_checked_running_means`, the same with the core's candle checks; `f64_crossover`, which
//! divides; the figures the step is judged against: compare ratios within one run, never
//! absolute figures across machines) and the naive O(window) re-sum.
//! `cargo bench -p maestro-core --bench core`; criterion's `thrpt` line gives candles per second
//! (ns/candle = 1 / thrpt).

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

#[path = "common/mod.rs"]
mod common;

use common::{
    MINUTE, demo_candles, f64_candles, f64_checked_running_means, f64_crossover, f64_running_means,
    params, real_candles,
};
use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use maestro_core::{Candle, Price, RollingSma, Step, Strategy, run_batch};
use std::hint::black_box;
use std::time::Duration;

const N: usize = 10_000;
const CAP: usize = 256;

fn sma(c: &mut Criterion) {
    let closes: Vec<Price> = demo_candles(N).iter().map(|c| c.close).collect();
    let mut g = c.benchmark_group("sma_update");
    g.throughput(Throughput::Elements(closes.len() as u64));
    for window in [10usize, 50, 200] {
        g.bench_with_input(BenchmarkId::new("rolling", window), &window, |b, &w| {
            let mut sma = RollingSma::<CAP>::new(w).unwrap_or_else(|e| panic!("{e}"));
            b.iter(|| {
                let mut acc = 0i64;
                for &p in black_box(closes.as_slice()) {
                    if let Some(m) = sma.push(p) {
                        acc = acc.wrapping_add(m.sum);
                    }
                }
                acc
            })
        });
        g.bench_with_input(BenchmarkId::new("naive_resum", window), &window, |b, &w| {
            let raw: Vec<i64> = closes.iter().map(|p| p.0).collect();
            b.iter(|| {
                let mut acc = 0i64;
                let raw = black_box(raw.as_slice());
                for end in w..=raw.len() {
                    let sum: i64 = raw[end - w..end].iter().sum();
                    acc = acc.wrapping_add(sum);
                }
                acc
            })
        });
    }
    g.finish();
}

/// The strategy's step through `on_candle` and through `run_batch`, at capacity `CAP`.
fn core_step<const C: usize>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    candles: &[Candle],
    (short, long): (u32, u32),
) {
    let fresh =
        Strategy::<C>::new(black_box(params(short, long))).unwrap_or_else(|e| panic!("{e}"));
    g.bench_function(BenchmarkId::new(format!("on_candle/{C}"), id), |b| {
        b.iter(|| {
            let mut s = fresh.clone();
            let mut signals = 0u32;
            for c in black_box(candles) {
                if let Ok(Step::Signal(_)) = s.on_candle(c) {
                    signals += 1;
                }
            }
            signals
        })
    });
    g.bench_function(BenchmarkId::new(format!("run_batch/{C}"), id), |b| {
        b.iter(|| {
            let mut s = fresh.clone();
            run_batch(&mut s, black_box(candles), |_, _| {}).map(|st| st.signals)
        })
    });
}

/// The f64 crossovers over the same candles: the step's yardsticks.
fn f64_step(g: &mut BenchmarkGroup<'_, WallTime>, id: &str, candles: &[Candle], w: (u32, u32)) {
    let closes: Vec<f64> = candles.iter().map(|c| c.close.0 as f64).collect();
    let rows = f64_candles(candles);
    let (short, long) = (w.0 as usize, w.1 as usize);
    g.bench_function(BenchmarkId::new("f64_running_means", id), |b| {
        b.iter(|| f64_running_means(black_box(&closes), black_box(short), black_box(long)))
    });
    g.bench_function(BenchmarkId::new("f64_checked_running_means", id), |b| {
        b.iter(|| {
            f64_checked_running_means(
                black_box(&rows),
                black_box(short),
                black_box(long),
                black_box(MINUTE),
            )
        })
    });
    g.bench_function(BenchmarkId::new("f64_crossover", id), |b| {
        b.iter(|| f64_crossover(black_box(&closes), black_box(short), black_box(long)))
    });
}

/// Both means from scratch on every candle, compared exactly: the original script's shape.
fn naive_step(g: &mut BenchmarkGroup<'_, WallTime>, id: &str, candles: &[Candle], w: (u32, u32)) {
    let closes: Vec<i64> = candles.iter().map(|c| c.close.0).collect();
    let (short, long) = w;
    let (s, l) = (short as usize, long as usize);
    g.bench_function(BenchmarkId::new("naive_resum", id), |b| {
        b.iter(|| {
            let mut bullish: Option<bool> = None;
            let mut signals = 0u32;
            let closes = black_box(closes.as_slice());
            for end in l..=closes.len() {
                let win = &closes[..end];
                let ss: i64 = win[end - s..].iter().sum();
                let ls: i64 = win[end - l..].iter().sum();
                let lhs = i128::from(ss) * i128::from(long);
                let rhs = i128::from(ls) * i128::from(short);
                let now = if lhs > rhs {
                    Some(true)
                } else if lhs < rhs {
                    Some(false)
                } else {
                    bullish
                };
                if now != bullish {
                    signals += 1;
                    bullish = now;
                }
            }
            signals
        })
    });
}

fn step(c: &mut Criterion) {
    let candles = demo_candles(N);
    let mut g = c.benchmark_group("strategy_step");
    g.throughput(Throughput::Elements(candles.len() as u64));
    core_step::<64>(&mut g, "10_50", &candles, (10, 50));
    core_step::<1024>(&mut g, "10_50", &candles, (10, 50));
    f64_step(&mut g, "10_50", &candles, (10, 50));
    naive_step(&mut g, "10_50", &candles, (10, 50));
    core_step::<CAP>(&mut g, "50_200", &candles, (50, 200));
    f64_step(&mut g, "50_200", &candles, (50, 200));
    naive_step(&mut g, "50_200", &candles, (50, 200));
    g.finish();
}

/// The same step on the real closes: the figures the f64 ratio is quoted from.
fn step_real(c: &mut Criterion) {
    let Some(candles) = real_candles("strategy_step_real") else {
        return;
    };
    let mut g = c.benchmark_group("strategy_step_real");
    g.throughput(Throughput::Elements(candles.len() as u64));
    core_step::<64>(&mut g, "10_50", &candles, (10, 50));
    core_step::<1024>(&mut g, "10_50", &candles, (10, 50));
    f64_step(&mut g, "10_50", &candles, (10, 50));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = sma, step, step_real
}
criterion_main!(benches);
