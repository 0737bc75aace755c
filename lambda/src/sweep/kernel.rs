//! The sweep's inner loop: one window pair over the whole series, using shared prefix sums instead
//! of a strategy per pair. It reproduces the core's plain crossover exactly (regime from the sign of
//! `short_sum × long − long_sum × short`, equality holds the regime, an event only on a change,
//! fresh windows after every gap) and the backtest's accounting (same fill price, fee and round-trip
//! rules as `Account::fill`), in integers throughout and without allocating.

use core::ops::{Add, Mul, Sub};

/// The integer type the loop computes in: `i64` when the caller has proven every intermediate
/// fits, `i128` otherwise.
pub(crate) trait Int:
    Copy + Ord + Default + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + From<i64>
{
}
impl Int for i64 {}
impl Int for i128 {}

/// What is shared by every pair: the closes, their prefix sums and the gap-free stretches.
pub(crate) struct Shared<'a> {
    /// Closes in ticks.
    pub closes: &'a [i64],
    /// `prefix[i]` = sum of `closes[..i]`.
    pub prefix: &'a [i64],
    /// `[start, end)` of each gap-free stretch, in order, covering every candle.
    pub stretches: &'a [(usize, usize)],
    /// Target when bullish and when bearish (mode applied, quantity capped).
    pub bull_target: i64,
    /// Target when bearish.
    pub bear_target: i64,
    /// Lot size for order rounding.
    pub lot: i64,
    /// Fee in parts per million.
    pub fee_ppm: i64,
}

/// One pair's outcome in exact units (see `sim::account::Money`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Outcome<T> {
    pub pnl: T,
    pub max_drawdown: T,
    pub fees: T,
    pub realised: T,
    pub fills: u32,
    pub flips: u32,
    pub round_trips: u32,
    pub wins: u32,
    pub exposed_bars: u32,
    pub signals: u32,
}

const SCALE: i64 = 1_000_000;

/// Runs one pair.
#[inline(never)]
pub(crate) fn run<T: Int>(sh: &Shared<'_>, short: usize, long: usize) -> Outcome<T> {
    let mut o = Outcome::<T>::default();
    let scale = T::from(SCALE);
    let ppm = T::from(sh.fee_ppm);
    let (s_t, l_t) = (T::from(short as i64), T::from(long as i64));
    let mut pos: i64 = 0;
    let mut pos_scaled = T::default(); // pos × SCALE
    let mut cash = T::default();
    let mut peak = T::default();
    let mut trip_start = T::default();
    let mut changed_at = 0usize; // candle where the position last changed
    let closes = sh.closes;
    let prefix = sh.prefix;

    // Marks the equity at a close and updates the drawdown, without branches (the peak moves
    // unpredictably while a position is open).
    macro_rules! mark {
        ($close:expr) => {{
            let eq = cash + pos_scaled * T::from($close);
            peak = peak.max(eq);
            o.max_drawdown = o.max_drawdown.max(peak - eq);
        }};
    }

    // Moves the position to the regime's target at close `c` of candle `i` (rules of
    // `Account::fill`, in T).
    macro_rules! trade {
        ($bull:expr, $c:expr, $i:expr) => {{
            o.signals += 1;
            let target = if $bull {
                sh.bull_target
            } else {
                sh.bear_target
            };
            let diff = target - pos;
            let delta = diff - diff % sh.lot;
            if delta != 0 {
                let px = T::from($c);
                let fee_of = |q: i64| T::from(q) * px * ppm;
                let before = cash + pos_scaled * px;
                let p1 = pos + delta;
                if pos != 0 && (p1 == 0 || (pos > 0) != (p1 > 0)) {
                    let after_close = before - fee_of(pos.abs());
                    let profit = after_close - trip_start;
                    o.realised = o.realised + profit;
                    o.round_trips += 1;
                    o.wins += u32::from(profit > T::default());
                    trip_start = after_close;
                    o.flips += u32::from(p1 != 0);
                } else if pos == 0 {
                    trip_start = before;
                }
                let fee = fee_of(delta.abs());
                cash = cash - T::from(delta) * px * scale - fee;
                o.fees = o.fees + fee;
                o.fills += 1;
                if pos != 0 {
                    o.exposed_bars += ($i - changed_at) as u32;
                }
                changed_at = $i;
                pos = p1;
                pos_scaled = T::from(pos) * scale;
            }
        }};
    }

    for &(start, end) in sh.stretches {
        if start + long > end {
            // Too short to fill the long window: the position is only held and marked.
            for &c in &closes[start..end] {
                mark!(c);
            }
            continue;
        }
        let ready = start + long - 1;
        for &c in &closes[start..ready] {
            mark!(c);
        }
        // Per candle i of the stretch: the newest prefix (i + 1), the one `short` back and the one
        // `long` back, walked together so the loop has no bounds checks.
        let tops = &prefix[ready + 1..=end];
        let shorts = &prefix[ready + 1 - short..=end - short];
        let longs = &prefix[ready + 1 - long..=end - long];
        let mut rows = closes[ready..end]
            .iter()
            .zip(tops)
            .zip(shorts)
            .zip(longs)
            .map(|(((&c, &top), &sb), &lb)| (c, T::from(top - sb) * l_t, T::from(top - lb) * s_t))
            .enumerate();
        // Until the first regime: any side of the long mean starts one.
        let mut bull = false;
        for (k, (c, lhs, rhs)) in rows.by_ref() {
            if lhs != rhs {
                bull = lhs > rhs;
                trade!(bull, c, ready + k);
                mark!(c);
                break;
            }
            mark!(c);
        }
        // Then an event is a strict crossing to the other side; equality holds the regime.
        for (k, (c, lhs, rhs)) in rows {
            let (a, b) = if bull { (lhs, rhs) } else { (rhs, lhs) };
            if a < b {
                bull = !bull;
                trade!(bull, c, ready + k);
            }
            mark!(c);
        }
    }
    if pos != 0 {
        o.exposed_bars += (closes.len() - changed_at) as u32;
    }
    o.pnl = match closes.last() {
        Some(&c) => cash + pos_scaled * T::from(c),
        None => T::default(),
    };
    o
}
