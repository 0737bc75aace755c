//! What a run of closes does to an equity curve with a constant position: the lowest and highest
//! close, the deepest fall from a running high and the highest rise from a running low. With
//! these, a pair's drawdown over all the candles between two of its trades is a handful of integer
//! operations instead of a mark per candle (see [`super::kernel::Lane::mark_span`]), exactly
//! equal to marking every close. Runs combine in order ([`Span::then`]), and [`Blocks`] holds the
//! figures of every aligned block of candles once for all pairs.

/// The figures of a run of closes, in ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    /// Lowest close.
    pub low: i64,
    /// Highest close.
    pub high: i64,
    /// Largest `high so far − close` (≥ 0).
    pub fall: i64,
    /// Largest `close − low so far` (≥ 0).
    pub rise: i64,
}

impl Span {
    /// One close.
    pub(crate) fn one(c: i64) -> Self {
        Span {
            low: c,
            high: c,
            fall: 0,
            rise: 0,
        }
    }

    /// `self` followed by `next`.
    #[inline(always)]
    pub(crate) fn then(self, next: Span) -> Span {
        Span {
            low: self.low.min(next.low),
            high: self.high.max(next.high),
            fall: self.fall.max(next.fall).max(self.high - next.low),
            rise: self.rise.max(next.rise).max(next.high - self.low),
        }
    }
}

/// Candles per block: the sweep tests a block's candles together and, when none of them flips,
/// marks the block's closes with one precomputed [`Span`].
pub(crate) const BLOCK: usize = 8;

/// The [`Span`] of every aligned block of [`BLOCK`] closes (`k × BLOCK .. (k + 1) × BLOCK`; a
/// last, shorter block is left out: it is never whole inside the series).
pub(crate) struct Blocks {
    spans: Vec<Span>,
    closes: Vec<i64>,
}

impl Blocks {
    /// The blocks of `closes`. Closes are ticks, far below `i64::MAX / 2`: differences fit.
    pub(crate) fn new(closes: &[i64]) -> Self {
        let spans = closes
            .chunks_exact(BLOCK)
            .map(|block| {
                block[1..]
                    .iter()
                    .fold(Span::one(block[0]), |acc, &c| acc.then(Span::one(c)))
            })
            .collect();
        Blocks {
            spans,
            closes: closes.to_vec(),
        }
    }

    /// The span of candle `i`'s close alone.
    #[inline(always)]
    pub(crate) fn one(&self, i: usize) -> Span {
        Span::one(self.closes[i])
    }

    /// The span of the block starting at candle `start` (a multiple of [`BLOCK`]).
    #[inline(always)]
    pub(crate) fn at(&self, start: usize) -> Span {
        self.spans[start / BLOCK]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference, straight from the definitions: every earlier close against every later one.
    fn naive(closes: &[i64]) -> Span {
        let mut s = Span::one(closes[0]);
        for (i, &c) in closes.iter().enumerate() {
            s.low = s.low.min(c);
            s.high = s.high.max(c);
            for &earlier in &closes[..=i] {
                s.fall = s.fall.max(earlier - c);
                s.rise = s.rise.max(c - earlier);
            }
        }
        s
    }

    #[test]
    fn runs_of_blocks_and_closes_equal_the_close_by_close_figures() {
        let closes: Vec<i64> = (0..100i64).map(|i| (i * 7919 + 13) % 101 - 50).collect();
        let blocks = Blocks::new(&closes);
        assert_eq!(
            blocks.spans.len(),
            100 / BLOCK,
            "the last, partial block is left out"
        );
        for a in 0..closes.len() {
            for b in a + 1..=closes.len() {
                // Single closes up to a block edge, whole blocks, then single closes.
                let mut run: Option<Span> = None;
                let mut i = a;
                while i < b {
                    let next = if i % BLOCK == 0 && i + BLOCK <= b {
                        i += BLOCK;
                        blocks.at(i - BLOCK)
                    } else {
                        i += 1;
                        blocks.one(i - 1)
                    };
                    run = Some(run.map_or(next, |r| r.then(next)));
                }
                let want = naive(&closes[a..b]);
                assert_eq!(run, Some(want), "run {a}..{b}");
                // The walk adds a run's first close twice; its figures must not change.
                let first = Span::one(closes[a]).then(want);
                assert_eq!(first, want, "first close again, run {a}..{b}");
                assert_eq!(
                    want.then(Span::one(closes[b - 1])),
                    want,
                    "last close again"
                );
            }
        }
    }

    #[test]
    fn fall_and_rise_follow_the_order_of_the_closes() {
        // A high before a low is a fall; a low before a high is a rise.
        let s = naive(&[10, 3, 8, 1, 6]);
        assert_eq!((s.low, s.high, s.fall, s.rise), (1, 10, 9, 5));
        assert_eq!(naive(&[1, 2, 3]).fall, 0);
        assert_eq!(naive(&[3, 2, 1]).rise, 0);
    }
}
