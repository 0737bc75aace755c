//! The sweep's event-driven loop: a pair's work is finding the candles where its crossover
//! flips; the closes between two flips are marked at once (one [`Span`](super::span::Span) per run, built from
//! precomputed [`Blocks`]). Flips are looked for a whole aligned block at a time with a
//! branch-free test the compiler turns into vector instructions; only a block with a flip in
//! it (about one in seven on a month of 1-minute LTC) is walked candle by candle.
//!
//! The test is in `f64`, and exact: every figure is an integer below 2^53 (the caller checks it
//! with [`fits_f64`]), so `long × short_sum` and `short × long_sum` are exact products and their
//! difference is exact; its sign is the sign of the core's `i128` cross product. Money stays in
//! the exact integers of [`Lane`].

use super::kernel::{Int, Lane, Outcome, Shared};
use super::span::{BLOCK, Blocks, Span};

/// The closes' prefix sums in `f64`, read by every pair: one array small enough to stay in the
/// core's cache while all pairs stream through it.
pub(crate) struct ShortSums<'a> {
    short: usize,
    /// `prefix[i]`: the sum of the first `i` closes.
    prefix: &'a [f64],
}

impl<'a> ShortSums<'a> {
    /// The view of `short` over `prefix` (the closes' prefix sums, exact in `f64`).
    pub(crate) fn new(prefix: &'a [f64], short: usize) -> Self {
        ShortSums { short, prefix }
    }

    /// `long × short_sum − short × long_sum` at candle `i` (the long window must fit before it).
    #[inline(always)]
    fn diff(&self, long: usize, i: usize) -> f64 {
        let p = self.prefix;
        let top = p[i + 1];
        long as f64 * (top - p[i + 1 - self.short]) - self.short as f64 * (top - p[i + 1 - long])
    }

    /// Whether the block of candles from `from` holds a candle whose sign turns against the
    /// regime (`BULL`: below zero; otherwise above). No early exit: the block is tested in
    /// vector lanes, the flags or-ed together.
    #[inline(always)]
    fn block_flips<const BULL: bool>(&self, long: usize, from: usize) -> bool {
        let (lf, sf) = (long as f64, self.short as f64);
        let p = self.prefix;
        let tops = &p[from + 1..from + 1 + BLOCK];
        let shorts = &p[from + 1 - self.short..from + 1 - self.short + BLOCK];
        let longs = &p[from + 1 - long..from + 1 - long + BLOCK];
        tops.iter()
            .zip(shorts)
            .zip(longs)
            .fold(false, |acc, ((&t, &s), &l)| {
                let d = lf * (t - s) - sf * (t - l);
                acc | if BULL { d < 0.0 } else { d > 0.0 }
            })
    }
}

/// Whether [`ShortSums`] and its test are exact for these closes and windows (see the module
/// doc): every prefix sum and every `2 × long × short × close` below 2^52.
pub(crate) fn fits_f64(prefix: &[i64], closes: &[i64], max_short: u32, max_long: u32) -> bool {
    let limit = 1i128 << 52;
    let biggest = |xs: &[i64]| xs.iter().map(|x| i128::from(x.unsigned_abs())).max();
    let (Some(p), Some(c)) = (biggest(prefix), biggest(closes)) else {
        return false;
    };
    let (s, l) = (i128::from(max_short), i128::from(max_long));
    p < limit && 2 * l * s * c < limit
}

/// One pair's walk: the lane, its regime and the run of closes not marked yet.
struct Walk<'a, T> {
    sh: &'a Shared<'a>,
    blocks: &'a Blocks,
    ss: &'a ShortSums<'a>,
    long: usize,
    lane: Lane<T>,
    /// The closes since the last flip (or the start), not marked yet.
    run: Span,
    bull: bool,
}

impl<T: Int> Walk<'_, T> {
    /// Marks the run so far, then trades at candle `at` into the regime `bull`; candle `at`'s
    /// own close starts the next run (it is marked after the fill).
    #[cold]
    fn flip(&mut self, bull: bool, at: usize) {
        self.lane.mark_span(self.run);
        self.bull = bull;
        self.lane.set_regime(bull);
        self.lane.trade(self.sh, self.sh.close(at), at);
        self.run = self.blocks.one(at);
    }

    /// Tests candle `i` alone.
    #[inline(always)]
    fn test_one(&mut self, i: usize) {
        let d = self.ss.diff(self.long, i);
        if (self.bull && d < 0.0) || (!self.bull && d > 0.0) {
            self.flip(!self.bull, i);
        } else {
            self.run = self.run.then(self.blocks.one(i));
        }
    }

    /// Adds the closes `from..to` to the run without testing them (warm-up after a gap).
    fn hold(&mut self, mut from: usize, to: usize) {
        while from < to {
            if from % BLOCK == 0 && from + BLOCK <= to {
                self.run = self.run.then(self.blocks.at(from));
                from += BLOCK;
            } else {
                self.run = self.run.then(self.blocks.one(from));
                from += 1;
            }
        }
    }

    /// Tests candles `from..to` with the regime set.
    fn test(&mut self, mut i: usize, to: usize) {
        while i < to {
            if i % BLOCK != 0 || i + BLOCK > to {
                self.test_one(i);
                i += 1;
                continue;
            }
            let flips = if self.bull {
                self.ss.block_flips::<true>(self.long, i)
            } else {
                self.ss.block_flips::<false>(self.long, i)
            };
            if flips {
                for k in i..i + BLOCK {
                    self.test_one(k);
                }
            } else {
                self.run = self.run.then(self.blocks.at(i));
            }
            i += BLOCK;
        }
    }
}

/// Runs one pair of `ss`'s short window and `long` over the closes of `blocks`.
pub(crate) fn run<T: Int>(
    sh: &Shared<'_>,
    blocks: &Blocks,
    ss: &ShortSums<'_>,
    long: usize,
) -> Outcome<T> {
    let mut w = Walk {
        sh,
        blocks,
        ss,
        long,
        lane: Lane::<T>::new(ss.short, long),
        // Never empty, so it needs no flag: it starts with the first close, which the walk then
        // adds again (a run's first or last close added twice changes none of its figures).
        run: blocks.one(0),
        bull: false,
    };
    for &(start, end) in sh.stretches {
        // A fresh strategy per stretch: no regime until both windows fill and the means differ;
        // the position is held meanwhile.
        let ready = (start + long - 1).min(end);
        w.hold(start, ready);
        let mut i = ready;
        while i < end {
            let d = ss.diff(long, i);
            i += 1;
            if d != 0.0 {
                w.flip(d > 0.0, i - 1);
                break;
            }
            w.run = w.run.then(blocks.one(i - 1));
        }
        w.test(i, end);
    }
    w.lane.mark_span(w.run);
    w.lane.finish(sh)
}
