//! Best-of-N ns per candle, next to criterion's means: on a shared 2-core machine other builds
//! inflate means several-fold, while the fastest of many short runs stays close to the code's own
//! cost. Same workloads as `benches/core.rs` (the demo market, and the real May 2021 closes when
//! the shared data is there), each strategy figure also given as a ratio to the three f64
//! crossovers timed in the same run. `cargo bench -p maestro-core --bench best_of`.
//!
//! Where the compiler places the loops moves `on_candle` by up to 5% between builds whose step
//! is the same (a change elsewhere in the crate shifts them). To compare two versions of the
//! step, run both also with every loop at a 64-byte boundary, which takes placement out:
//! `RUSTFLAGS="-C llvm-args=-align-loops=64" cargo bench -p maestro-core --bench best_of
//! --target-dir target/aligned` (its own directory, so the usual build is not thrown away).

#[path = "common/mod.rs"]
mod common;

use common::{
    MINUTE, demo_candles, f64_candles, f64_checked_running_means, f64_crossover, f64_running_means,
    params, real_candles,
};
use maestro_core::{Candle, RollingSma, Step, Strategy, run_batch};
use std::hint::black_box;
use std::time::Instant;

const N: usize = 10_000;
const CAP: usize = 256;
const RUNS: usize = 300;

/// Fastest of `runs` runs of `f`, in ns per item.
fn best(runs: usize, items: usize, mut f: impl FnMut() -> i64) -> f64 {
    (0..runs)
        .map(|_| time(items, &mut f))
        .fold(f64::MAX, f64::min)
}

/// One run of `f`, in ns per item.
fn time(items: usize, f: &mut impl FnMut() -> i64) -> f64 {
    let t = Instant::now();
    black_box(f());
    t.elapsed().as_nanos() as f64 / items as f64
}

/// `on_candle` over all `candles` from a clone of `fresh`; returns the number of signals.
fn steps<const C: usize>(fresh: &Strategy<C>, candles: &[Candle]) -> i64 {
    let mut s = fresh.clone();
    let mut n = 0;
    for c in black_box(candles) {
        if let Ok(Step::Signal(_)) = s.on_candle(c) {
            n += 1;
        }
    }
    n
}

/// `run_batch` over all `candles` from a clone of `fresh`; returns the number of signals.
fn batch<const C: usize>(fresh: &Strategy<C>, candles: &[Candle]) -> i64 {
    let mut s = fresh.clone();
    run_batch(&mut s, black_box(candles), |_, _| {}).map_or(-1, |st| st.signals as i64)
}

/// A fresh strategy with windows `w`, capacity `C`.
fn fresh<const C: usize>(w: (u32, u32)) -> Strategy<C> {
    Strategy::<C>::new(black_box(params(w.0, w.1))).unwrap_or_else(|e| panic!("{e}"))
}

/// One line per workload: the core's figures and their ratios to the three f64 crossovers (the
/// running means, the same with the core's candle checks, and the division). The seven loops
/// take turns within each round, so that a change in the machine's load (other jobs, a
/// neighbour on the host) falls on all of them alike; each keeps its fastest run. The windows
/// go through `black_box` for the baselines as they do for the core, so that no loop is built
/// for constant windows.
fn compare(runs: usize, name: &str, candles: &[Candle], w: (u32, u32)) {
    let closes: Vec<f64> = candles.iter().map(|c| c.close.0 as f64).collect();
    let rows = f64_candles(candles);
    let (s64, s1k) = (fresh::<64>(w), fresh::<1024>(w));
    let n = candles.len();
    let (short, long) = (w.0 as usize, w.1 as usize);
    let mut loops: [Box<dyn FnMut() -> i64 + '_>; 7] = [
        Box::new(|| {
            i64::from(f64_running_means(
                black_box(&closes),
                black_box(short),
                black_box(long),
            ))
        }),
        Box::new(|| {
            f64_checked_running_means(
                black_box(&rows),
                black_box(short),
                black_box(long),
                black_box(MINUTE),
            )
            .map_or(-1, i64::from)
        }),
        Box::new(|| {
            i64::from(f64_crossover(
                black_box(&closes),
                black_box(short),
                black_box(long),
            ))
        }),
        Box::new(|| steps(&s64, candles)),
        Box::new(|| steps(&s1k, candles)),
        Box::new(|| batch(&s64, candles)),
        Box::new(|| batch(&s1k, candles)),
    ];
    // What each loop counts (regime changes, or the core's signals): the checked crossover must
    // take every candle and count as the unchecked one does, or its time would not compare.
    let counts = loops.iter_mut().map(|f| f()).collect::<Vec<_>>();
    assert_eq!(
        counts[1], counts[0],
        "{name}: the checked f64 crossover refused a candle"
    );
    // And it does check: a close below the low, a late candle and a NaN open are refused.
    for k in [5, 7, 9] {
        let mut bad = rows.clone();
        let c = &mut bad[k];
        match k {
            5 => c.low = c.close + 1.0,
            7 => c.close_time_ms += 1,
            _ => c.open = f64::NAN,
        }
        let got = f64_checked_running_means(&bad, short, long, MINUTE);
        assert_eq!(
            got,
            Err(k),
            "{name}: the checked f64 crossover took bad candle {k}"
        );
    }
    let mut fastest = [f64::MAX; 7];
    for _ in 0..runs {
        for (f, best) in loops.iter_mut().zip(&mut fastest) {
            *best = best.min(time(n, f));
        }
    }
    let [means, checked, div, core @ ..] = fastest;
    println!(
        "{name} {}/{}: f64 running means {means:.2} | with the core's checks {checked:.2} | \
         f64 crossover {div:.2}",
        w.0, w.1,
    );
    println!("  (regime changes or signals: {counts:?})");
    let names = [
        "on_candle/64",
        "on_candle/1024",
        "run_batch/64",
        "run_batch/1024",
    ];
    for (what, ns) in names.iter().zip(core) {
        println!(
            "  {what:<15} {ns:.2}  ({:.2}x running means, {:.2}x with checks, {:.2}x f64 crossover)",
            ns / means,
            ns / checked,
            ns / div
        );
    }
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
    println!("best of {runs} runs, ns per candle (ratios: to the f64 crossovers of the same run)");
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
