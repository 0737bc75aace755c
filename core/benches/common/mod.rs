//! What both benches share: the demo market, the real market data (with the data rule's skip), the
//! parameters, and the three f64 crossovers every strategy figure is judged against: two plain
//! ones, and one that makes the core's candle checks.

use maestro_core::{Candle, DemoMarket, Guards, Mode, Params, Price, TickSize};
use std::io::Write;
use std::path::PathBuf;

/// One-minute bars, as both data sets have.
pub const MINUTE: i64 = 60_000;

/// The real data set: 44,447 one-minute LTC/USDT closes, May–June 2021 (the 19 May crash).
pub const REAL_FILE: &str = "ltcusdt-binance-spot-1m-2021-05.json";

/// `n` demo-market candles, one bin apart (the demo market's repeats dropped: the benches time
/// steps, not duplicates).
pub fn demo_candles(n: usize) -> Vec<Candle> {
    let mut last = None;
    DemoMarket::new(7, MINUTE, MINUTE)
        .filter(move |c: &Candle| {
            let fresh = last != Some(c.close_time_ms);
            last = Some(c.close_time_ms);
            fresh
        })
        .take(n)
        .collect()
}

/// The real candles, stamped with their close time, or `None` after saying so when the file is
/// absent: the shared data sits beside the project (`../shared/data`, or `MAESTRO_DATA_DIR`) and a
/// user's clone has none. Under CI (`CI=true`) a missing file is a failure, never a skip.
pub fn real_candles(bench: &str) -> Option<Vec<Candle>> {
    let dir = match std::env::var_os("MAESTRO_DATA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    };
    let path = dir.join(REAL_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !in_ci,
            "{bench}: market data file {} is missing (set MAESTRO_DATA_DIR)",
            path.display()
        );
        eprintln!(
            "SKIPPED {bench} on real data: market data file {} not found \
             (set MAESTRO_DATA_DIR or put the shared data in ../shared/data)",
            path.display()
        );
        // `.ci/test` lists every skip from this file at its end (see tests/src/data.rs).
        if let Some(list) = std::env::var_os("MAESTRO_SKIP_LIST") {
            let line = format!(
                "bench {bench}\t{}\treal market data not found\n",
                path.display()
            );
            let appended = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&list)
                .and_then(|mut f| f.write_all(line.as_bytes()));
            if let Err(e) = appended {
                eprintln!("could not list the skip in {list:?}: {e}");
            }
        }
        return None;
    };
    // freqtrade JSON: `[[open_ms, open, high, low, close, volume], ...]`, start-of-bar times.
    let rows: Vec<(i64, f64, f64, f64, f64, f64)> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let price = |v: f64| Price::from_f64(v, TickSize::CENT).unwrap_or_else(|e| panic!("{v}: {e}"));
    Some(
        rows.iter()
            .map(|&(open_ms, o, h, l, c, _volume)| Candle {
                close_time_ms: open_ms + MINUTE,
                open: price(o),
                high: price(h),
                low: price(l),
                close: price(c),
            })
            .collect(),
    )
}

/// Long/short 10/50 or any other windows, no guards, one-minute bars.
pub fn params(short: u32, long: u32) -> Params {
    Params {
        short_window: short,
        long_window: long,
        mode: Mode::LongShort,
        qty: 1000,
        lot_size: 1000,
        max_position: 1000,
        bin_ms: MINUTE,
        guards: Guards::default(),
    }
}

/// The plain two-SMA crossover in f64, as a bot without exact prices or candle checks would
/// write it: a ring of the last `long` closes, two running sums, regime = sign(short − long)
/// (equal keeps the regime). Returns the number of regime changes.
///
/// The ring starts at zero, so the windows fill without a branch of their own: until a slot was
/// written, what it evicts is 0.
pub fn f64_crossover(closes: &[f64], short: usize, long: usize) -> u32 {
    let mut ring = vec![0.0f64; long];
    let (mut head, mut sum_s, mut sum_l) = (0usize, 0.0f64, 0.0f64);
    let (ns, nl) = (short as f64, long as f64);
    let mut regime = Regime::default();
    for (i, &x) in closes.iter().enumerate() {
        let back = if head >= short {
            head - short
        } else {
            head + long - short
        };
        sum_s += x - ring[back];
        sum_l += x - ring[head];
        ring[head] = x;
        head = if head + 1 == long { 0 } else { head + 1 };
        if i + 1 >= long {
            regime.see(sum_s / ns, sum_l / nl);
        }
    }
    regime.changes
}

/// A crossover's regime in f64 (1 bullish, −1 bearish, 0 none yet) and how often it changed.
#[derive(Default)]
struct Regime {
    sign: i8,
    changes: u32,
}

impl Regime {
    /// The means of one candle: the regime follows the short one's side of the long one, and
    /// equal means keep it.
    #[inline(always)]
    fn see(&mut self, short: f64, long: f64) {
        let now = if short > long {
            1
        } else if short < long {
            -1
        } else {
            self.sign
        };
        if now != self.sign {
            self.changes += 1;
            self.sign = now;
        }
    }
}

/// One running mean the way yata's `SMA` keeps it: its own ring of the last `n` values (filled
/// with the first value, so there is no warm-up branch) and a mean moved by `(new − old) / n`,
/// the division done once as a multiplication by `1 / n`.
struct RunningMean {
    ring: Vec<f64>,
    at: usize,
    mean: f64,
    inv: f64,
}

impl RunningMean {
    fn new(n: usize, first: f64) -> Self {
        RunningMean {
            ring: vec![first; n],
            at: 0,
            mean: first,
            inv: 1.0 / n as f64,
        }
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> f64 {
        let old = std::mem::replace(&mut self.ring[self.at], x);
        self.at = if self.at + 1 == self.ring.len() {
            0
        } else {
            self.at + 1
        };
        self.mean += (x - old) * self.inv;
        self.mean
    }
}

/// The two-SMA crossover as a bot built on yata (`SMA::new` twice, then `next` on each close)
/// runs it: two running means, regime = sign(short − long), equal keeps the regime, no candle
/// checks. The fastest plain f64 crossover here: no division per candle, unlike
/// [`f64_crossover`]. Returns the number of regime changes.
pub fn f64_running_means(closes: &[f64], short: usize, long: usize) -> u32 {
    let Some(&first) = closes.first() else {
        return 0;
    };
    let (mut s, mut l) = (
        RunningMean::new(short, first),
        RunningMean::new(long, first),
    );
    let mut regime = Regime::default();
    for &x in closes {
        regime.see(s.next(x), l.next(x));
    }
    regime.changes
}

/// A candle as a bot without exact prices reads it: close time in ms, prices in f64.
#[derive(Clone, Copy)]
pub struct F64Candle {
    pub close_time_ms: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
}

/// The candles in f64 (their tick counts as floats).
pub fn f64_candles(candles: &[Candle]) -> Vec<F64Candle> {
    candles
        .iter()
        .map(|c| F64Candle {
            close_time_ms: c.close_time_ms,
            open: c.open.0 as f64,
            high: c.high.0 as f64,
            low: c.low.0 as f64,
            close: c.close.0 as f64,
        })
        .collect()
}

/// [`f64_running_means`] making the core's candle checks first, as a bot that trades on it
/// must: each candle one bin after the last (with no overflow), every price positive and within
/// the core's limit, `low <= close <= high` (NaN fails every one). Returns the number of regime
/// changes, or the index of the first candle that fails a check.
pub fn f64_checked_running_means(
    candles: &[F64Candle],
    short: usize,
    long: usize,
    bin_ms: i64,
) -> Result<u32, usize> {
    const MAX: f64 = maestro_core::price::MAX_TICKS as f64;
    // `&`, not `&&`: one branch for all the checks, not one per check.
    let prices = |c: &F64Candle| {
        (c.open > 0.0)
            & (c.open <= MAX)
            & (c.low > 0.0)
            & (c.high <= MAX)
            & (c.low <= c.close)
            & (c.close <= c.high)
    };
    let Some((first, rest)) = candles.split_first() else {
        return Ok(0);
    };
    if !prices(first) {
        return Err(0);
    }
    let (mut s, mut l) = (
        RunningMean::new(short, first.close),
        RunningMean::new(long, first.close),
    );
    let mut regime = Regime::default();
    regime.see(s.next(first.close), l.next(first.close));
    let mut last = first.close_time_ms;
    for (i, c) in rest.iter().enumerate() {
        if !((last.checked_add(bin_ms) == Some(c.close_time_ms)) & prices(c)) {
            return Err(i + 1);
        }
        last = c.close_time_ms;
        regime.see(s.next(c.close), l.next(c.close));
    }
    Ok(regime.changes)
}
