//! Best-of-N ns per candle, next to criterion's means: on a shared 2-core machine other builds
//! inflate means several-fold, while the fastest of many short runs stays close to the code's own
//! cost. Same workloads as `benches/core.rs`; `cargo bench -p maestro-core --bench best_of`.

use maestro_core::{Candle, DemoMarket, Guards, Mode, Params, RollingSma, Step, Strategy};
use std::hint::black_box;
use std::time::Instant;

const N: usize = 10_000;
const CAP: usize = 256;
const RUNS: usize = 300;

fn candles() -> Vec<Candle> {
    let mut last = None;
    DemoMarket::new(7, 60_000, 60_000)
        .filter(move |c: &Candle| {
            let fresh = last != Some(c.close_time_ms);
            last = Some(c.close_time_ms);
            fresh
        })
        .take(N)
        .collect()
}

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

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it,
    // where a smoke run of every workload is enough.
    let runs = if std::env::args().any(|a| a == "--bench") {
        RUNS
    } else {
        1
    };
    let candles = candles();
    let closes: Vec<i64> = candles.iter().map(|c| c.close.0).collect();
    println!("best of {runs} runs over {N} candles, ns per candle");
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
    for (short, long) in [(10u32, 50u32), (50, 200)] {
        let params = Params {
            short_window: short,
            long_window: long,
            mode: Mode::LongShort,
            qty: 1000,
            lot_size: 1000,
            max_position: 1000,
            bin_ms: 60_000,
            guards: Guards::default(),
        };
        let fresh = Strategy::<CAP>::new(params).unwrap_or_else(|e| panic!("{e}"));
        let step = best(runs, N, || {
            let mut s = fresh.clone();
            let mut n = 0;
            for c in black_box(candles.as_slice()) {
                if let Ok(Step::Signal(_)) = s.on_candle(c) {
                    n += 1;
                }
            }
            n
        });
        println!("strategy step {short}/{long}: {step:.2}");
    }
}
