//! ns per candle for the O(1) rolling SMA and the full strategy step, against a naive O(window)
//! re-sum in the same run. `cargo bench -p maestro-core`; criterion's `thrpt` line gives candles
//! per second (ns/candle = 1 / thrpt).

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use maestro_core::{
    Candle, DemoMarket, Guards, Mode, Params, Price, RollingSma, Step, Strategy, run_batch,
};
use std::hint::black_box;
use std::time::Duration;

const N: usize = 10_000;
const CAP: usize = 256;

fn candles() -> Vec<Candle> {
    DemoMarket::new(7, 60_000, 60_000)
        .take(2 * N)
        .filter({
            // The demo market repeats a candle now and then; the benches want pure steps.
            let mut last = None;
            move |c: &Candle| {
                let fresh = last != Some(c.close_time_ms);
                last = Some(c.close_time_ms);
                fresh
            }
        })
        .take(N)
        .collect()
}

fn params(short: u32, long: u32) -> Params {
    Params {
        short_window: short,
        long_window: long,
        mode: Mode::LongShort,
        qty: 1000,
        lot_size: 1000,
        max_position: 1000,
        bin_ms: 60_000,
        guards: Guards::default(),
    }
}

fn sma(c: &mut Criterion) {
    let closes: Vec<Price> = candles().iter().map(|c| c.close).collect();
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

fn step(c: &mut Criterion) {
    let candles = candles();
    let mut g = c.benchmark_group("strategy_step");
    g.throughput(Throughput::Elements(candles.len() as u64));
    for (short, long) in [(10u32, 50u32), (50, 200)] {
        let id = format!("{short}_{long}");
        let fresh = Strategy::<CAP>::new(params(short, long)).unwrap_or_else(|e| panic!("{e}"));
        g.bench_function(BenchmarkId::new("on_candle", &id), |b| {
            b.iter(|| {
                let mut s = fresh.clone();
                let mut signals = 0u32;
                for c in black_box(candles.as_slice()) {
                    if let Ok(Step::Signal(_)) = s.on_candle(c) {
                        signals += 1;
                    }
                }
                signals
            })
        });
        g.bench_function(BenchmarkId::new("run_batch", &id), |b| {
            b.iter(|| {
                let mut s = fresh.clone();
                run_batch(&mut s, black_box(&candles), |_, _| {}).map(|st| st.signals)
            })
        });
        g.bench_function(BenchmarkId::new("naive_resum", &id), |b| {
            let closes: Vec<i64> = candles.iter().map(|c| c.close.0).collect();
            let (s, l) = (short as usize, long as usize);
            b.iter(|| {
                // The original script's shape: both means from scratch on every candle.
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
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = sma, step
}
criterion_main!(benches);
