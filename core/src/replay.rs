//! A deterministic demo market and a digest of decisions, so a host and a microcontroller can
//! prove they decide identically: both run [`demo_digest`] and compare one `u64`.
//!
//! Integer-only (xorshift, shifts, one 64-bit multiply per random draw): no `f64` and no 64-bit
//! division, so it stays small on Cortex-M.

use crate::candle::Candle;
use crate::price::Price;
use crate::strategy::{CandleError, Params, Step, Strategy};

/// The demo market's first close time (2021-05-03 00:00 UTC, whole minutes and hours).
pub const DEMO_START_MS: i64 = 1_620_000_000_000;

/// What the demo market is doing for a while.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Steady drift (positive up, negative down) with noise.
    Trend(i8),
    /// Noise only: sideways.
    Chop,
    /// Large alternating swings: the crossover's worst case.
    Whipsaw,
}

/// An endless, deterministic series of valid candles: trends, sideways chop, whipsaws, sudden
/// jumps, BitMEX-style opens outside `[low, high]`, and now and then the same candle twice (as a
/// poller sees it).
///
/// ```
/// use maestro_core::DemoMarket;
/// let a: Vec<_> = DemoMarket::new(7, 60_000, 60_000).take(100).collect();
/// let b: Vec<_> = DemoMarket::new(7, 60_000, 60_000).take(100).collect();
/// assert_eq!(a, b);
/// assert!(a.iter().all(|c| c.low <= c.close && c.close <= c.high && c.low.0 > 0));
/// ```
#[derive(Clone, Debug)]
pub struct DemoMarket {
    rng: u64,
    price: i64,
    next_close_ms: i64,
    bin_ms: i64,
    phase: Phase,
    phase_left: u32,
    last: Option<Candle>,
}

/// Lowest and highest close the demo market produces, in ticks.
const FLOOR: i64 = 1_000;
const CEILING: i64 = 1_000_000_000;

impl DemoMarket {
    /// A market whose first candle closes at `start_close_ms`, one candle per `bin_ms`.
    pub fn new(seed: u64, start_close_ms: i64, bin_ms: i64) -> Self {
        // xorshift never leaves 0; mix the seed so that nearby seeds give unrelated series.
        let mixed = (seed ^ 0x9E37_79B9_7F4A_7C15).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        DemoMarket {
            rng: if mixed == 0 {
                0x2545_F491_4F6C_DD1D
            } else {
                mixed
            },
            price: 10_000, // 100.00 at a cent tick
            next_close_ms: start_close_ms,
            bin_ms,
            phase: Phase::Chop,
            phase_left: 0,
            last: None,
        }
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }

    /// Uniform in `0..n` for `n` below 2^32, by a multiply-high instead of a modulo.
    fn below(&mut self, n: u32) -> i64 {
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as i64
    }

    fn new_phase(&mut self) {
        self.phase = match self.below(4) {
            0 => Phase::Trend(1),
            1 => Phase::Trend(-1),
            2 => Phase::Chop,
            _ => Phase::Whipsaw,
        };
        self.phase_left = 20 + self.below(200) as u32;
    }
}

impl Iterator for DemoMarket {
    type Item = Candle;

    fn next(&mut self) -> Option<Candle> {
        if let Some(last) = self.last
            && self.below(32) == 0
        {
            return Some(last);
        }
        if self.phase_left == 0 {
            self.new_phase();
        }
        self.phase_left -= 1;
        let p = self.price;
        let unit = (p >> 9).max(1); // about 0.2 % of the price
        let noise = self.below(2 * unit as u32 + 1) - unit;
        let step = match self.phase {
            Phase::Trend(dir) => i64::from(dir) * (unit >> 1).max(1) + noise,
            Phase::Chop => noise,
            Phase::Whipsaw => {
                let swing = 4 * unit + noise;
                if self.phase_left & 8 == 0 {
                    swing
                } else {
                    -swing
                }
            }
        };
        let jump = match self.below(256) {
            0 => p >> 3,
            1 => -(p >> 3),
            _ => 0,
        };
        let close = (p + step + jump).clamp(FLOOR, CEILING);
        // BitMEX stamps the previous close as the open, so a gap leaves it outside the range;
        // most bars here include it, some do not.
        let wick_hi = self.below(unit as u32 + 1);
        let wick_lo = self.below(unit as u32 + 1);
        let (lo_base, hi_base) = if self.below(8) == 0 {
            (close, close)
        } else {
            (p.min(close), p.max(close))
        };
        let candle = Candle {
            close_time_ms: self.next_close_ms,
            open: Price(p),
            high: Price(hi_base + wick_hi),
            low: Price((lo_base - wick_lo).max(1)),
            close: Price(close),
        };
        self.price = close;
        self.next_close_ms = self.next_close_ms.wrapping_add(self.bin_ms);
        self.last = Some(candle);
        Some(candle)
    }
}

/// FNV-1a (64-bit) over a stream of decisions.
///
/// ```
/// use maestro_core::{Digest, Step};
/// let mut a = Digest::new();
/// a.update(&Step::NotReady);
/// let mut b = Digest::new();
/// b.update(&Step::NoChange);
/// assert_ne!(a.value(), b.value());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digest(u64);

impl Default for Digest {
    fn default() -> Self {
        Self::new()
    }
}

impl Digest {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    /// The empty digest.
    pub const fn new() -> Self {
        Digest(Self::OFFSET)
    }

    fn byte(&mut self, b: u8) {
        self.0 = (self.0 ^ u64::from(b)).wrapping_mul(Self::PRIME);
    }

    /// Folds in a signed integer (little-endian bytes), e.g. the target after a step.
    pub fn write_i64(&mut self, v: i64) {
        for b in v.to_le_bytes() {
            self.byte(b);
        }
    }

    /// Folds in one step: its kind, and for a signal the regime, target and close time.
    pub fn update(&mut self, step: &Step) {
        match step {
            Step::Duplicate => self.byte(0),
            Step::NotReady => self.byte(1),
            Step::NoChange => self.byte(2),
            Step::Signal(sig) => {
                self.byte(3);
                self.byte(sig.regime as u8);
                self.write_i64(sig.target);
                self.write_i64(sig.close_time_ms);
            }
        }
    }

    /// The digest so far.
    pub const fn value(&self) -> u64 {
        self.0
    }
}

/// Runs `candles` demo candles (seed `seed`, first close at [`DEMO_START_MS`], spacing
/// `params.bin_ms`) through a fresh strategy; returns the digest of every step and target, and
/// the number of signals.
///
/// ```
/// use maestro_core::{demo_digest, Guards, Mode, Params};
/// let params = Params {
///     short_window: 10, long_window: 50, mode: Mode::LongShort, qty: 1000, lot_size: 1000,
///     max_position: 1000, bin_ms: 60_000, guards: Guards::default(),
/// };
/// let (digest, signals) = demo_digest::<50>(params, 1, 10_000).unwrap();
/// assert_eq!(demo_digest::<64>(params, 1, 10_000).unwrap(), (digest, signals));
/// assert!(signals > 10);
/// ```
pub fn demo_digest<const CAP: usize>(
    params: Params,
    seed: u64,
    candles: usize,
) -> Result<(u64, u32), CandleError> {
    let mut s = Strategy::<CAP>::new(params).map_err(CandleError::Params)?;
    let mut digest = Digest::new();
    let mut signals = 0u32;
    for candle in DemoMarket::new(seed, DEMO_START_MS, params.bin_ms).take(candles) {
        let step = s.on_candle(&candle)?;
        if matches!(step, Step::Signal(_)) {
            signals = signals.wrapping_add(1);
        }
        digest.update(&step);
        digest.write_i64(s.target_position());
    }
    Ok((digest.value(), signals))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crossover::Guards;
    use crate::strategy::Mode;

    fn params() -> Params {
        Params {
            short_window: 10,
            long_window: 50,
            mode: Mode::LongShort,
            qty: 1000,
            lot_size: 1000,
            max_position: 1000,
            bin_ms: 60_000,
            guards: Guards::default(),
        }
    }

    #[test]
    fn the_demo_market_covers_what_the_firmware_must_survive() {
        let candles: std::vec::Vec<Candle> = DemoMarket::new(1, DEMO_START_MS, 60_000)
            .take(20_000)
            .collect();
        let mut repeats = 0;
        let mut open_outside = 0;
        let mut big_moves = 0;
        for w in candles.windows(2) {
            let (a, b) = (w[0], w[1]);
            if a == b {
                repeats += 1;
                continue;
            }
            assert_eq!(b.close_time_ms - a.close_time_ms, 60_000, "spacing");
            if b.open < b.low || b.open > b.high {
                open_outside += 1;
            }
            if (b.close.0 - a.close.0).abs() * 20 > a.close.0 {
                big_moves += 1; // more than 5 % in one bar: a jump
            }
        }
        for c in &candles {
            assert!(
                c.low.0 >= 1 && c.low <= c.close && c.close <= c.high,
                "{c:?}"
            );
        }
        assert!(repeats > 100, "{repeats} repeated candles");
        assert!(
            open_outside > 100,
            "{open_outside} opens outside [low, high]"
        );
        assert!(big_moves > 10, "{big_moves} jumps");
    }

    /// FNV-1a over every field of `n` demo candles.
    fn market_digest(seed: u64, bin_ms: i64, n: usize) -> u64 {
        let mut d = Digest::new();
        for c in DemoMarket::new(seed, DEMO_START_MS, bin_ms).take(n) {
            for v in [c.close_time_ms, c.open.0, c.high.0, c.low.0, c.close.0] {
                d.write_i64(v);
            }
        }
        d.value()
    }

    /// The demo market is a contract: the host and the firmware run it separately and compare
    /// digests, and recorded digests stay comparable only while the series stays the same.
    #[test]
    fn the_demo_market_is_pinned() {
        let first = DemoMarket::new(1, DEMO_START_MS, 60_000).next();
        let want = Candle {
            close_time_ms: DEMO_START_MS,
            open: Price(10_000),
            high: Price(10_004),
            low: Price(9_977),
            close: Price(9_978),
        };
        assert_eq!(first, Some(want));
        // Every field of every candle: trends, chop, whipsaws, jumps and repeats all count.
        assert_eq!(market_digest(1, 60_000, 20_000), 0x8b32_47c2_c5bb_3d9d);
        // The one seed that mixes to 0, which xorshift cannot leave: it takes the fixed state.
        assert_eq!(
            market_digest(0x9E37_79B9_7F4A_7C15, 1, 2_000),
            0x2409_49cf_4dad_5d2e
        );
        assert_eq!(
            demo_digest::<50>(params(), 1, 20_000),
            Ok((0x11d5_936d_7758_032e, 467))
        );
    }

    #[test]
    fn the_digest_is_fnv_1a() {
        // The published FNV-1a 64-bit test vectors for "" and "a".
        assert_eq!(Digest::default().value(), 0xcbf2_9ce4_8422_2325);
        let mut d = Digest::new();
        d.byte(b'a');
        assert_eq!(d.value(), 0xaf63_dc4c_8601_ec8c);
        let mut d = Digest::new();
        d.write_i64(i64::from_le_bytes(*b"foobar\0\0"));
        let mut e = Digest::new();
        for b in *b"foobar\0\0" {
            e.byte(b);
        }
        assert_eq!(d, e, "little-endian bytes in order");
    }

    #[test]
    fn draws_stay_below_their_bound_and_reach_both_ends() {
        let mut m = DemoMarket::new(5, DEMO_START_MS, 60_000);
        for n in [1u32, 2, 3, 32, 256, u32::MAX] {
            let draws: std::vec::Vec<i64> = (0..4000).map(|_| m.below(n)).collect();
            let (lo, hi) = (*draws.iter().min().unwrap(), *draws.iter().max().unwrap());
            assert!(lo >= 0 && hi < i64::from(n), "below({n}) drew {lo}..={hi}");
            if n <= 256 {
                assert_eq!((lo, hi), (0, i64::from(n) - 1), "below({n}) range");
            } else {
                assert!(
                    hi > i64::from(n / 2) && lo < i64::from(n / 2),
                    "below({n}) spread"
                );
            }
        }
    }

    #[test]
    fn digests_depend_on_every_decision() {
        let (a, signals) = demo_digest::<50>(params(), 1, 5_000).unwrap();
        assert!(signals > 20, "{signals} signals");
        assert_eq!(demo_digest::<50>(params(), 1, 5_000).unwrap(), (a, signals));
        assert_ne!(demo_digest::<50>(params(), 2, 5_000).unwrap().0, a, "seed");
        assert_ne!(
            demo_digest::<50>(params(), 1, 4_999).unwrap().0,
            a,
            "length"
        );
        let long_only = Params {
            mode: Mode::LongOnly,
            ..params()
        };
        let (b, signals_b) = demo_digest::<50>(long_only, 1, 5_000).unwrap();
        assert_eq!(signals_b, signals, "same regimes");
        assert_ne!(b, a, "targets are part of the digest");
        assert_eq!(
            demo_digest::<50>(
                Params {
                    long_window: 51,
                    ..params()
                },
                1,
                10
            ),
            Err(CandleError::Params(
                crate::strategy::ParamsError::LongAboveCapacity {
                    long: 51,
                    capacity: 50
                }
            ))
        );
    }
}
