//! What the drawdown needs to know about the closes of any range of candles, in O(1) per range.
//!
//! Between two trades a pair's equity is `cash + position × close`, a straight function of the
//! close. So the highest and lowest equity of such a run, and its largest fall from a peak inside
//! the run, follow from four figures of the closes alone: their maximum and minimum, their largest
//! fall (`c[i] − c[j]`, `i ≤ j`) and their largest rise (`c[j] − c[i]`, `i ≤ j`). Those four are
//! the same for every pair, so they are tabled once per sweep (a disjoint sparse table: for every
//! level `h`, each aligned block of `2^(h+1)` candles keeps the figures from every candle to its
//! middle and from its middle to every candle) and a pair pays two table reads per run instead of
//! a multiply, a compare and two maxima per candle.

use rayon::prelude::*;

/// The four figures of a range of closes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    /// Highest close.
    pub max: i64,
    /// Lowest close.
    pub min: i64,
    /// Largest `c[i] − c[j]` with `i ≤ j` (0 when the closes never fall).
    pub fall: i64,
    /// Largest `c[j] − c[i]` with `i ≤ j` (0 when the closes never rise).
    pub rise: i64,
}

impl Span {
    /// One close.
    pub(crate) fn one(c: i64) -> Span {
        Span {
            max: c,
            min: c,
            fall: 0,
            rise: 0,
        }
    }

    /// This range followed directly by `next`.
    pub(crate) fn then(self, next: Span) -> Span {
        Span {
            max: self.max.max(next.max),
            min: self.min.min(next.min),
            fall: self.fall.max(next.fall).max(self.max - next.min),
            rise: self.rise.max(next.rise).max(next.max - self.min),
        }
    }
}

/// The table of [`Span`]s over one series of closes.
pub(crate) struct Spans<'a> {
    closes: &'a [i64],
    /// `levels × closes.len()` entries; level `h` is `table[h × n .. (h + 1) × n]`.
    table: Vec<Span>,
}

impl<'a> Spans<'a> {
    /// Builds the table (`n × ⌈log2 n⌉` entries).
    pub(crate) fn new(closes: &'a [i64]) -> Self {
        let n = closes.len();
        let levels = levels(n);
        let mut table = vec![Span::default(); levels * n];
        // Levels are independent: built in parallel (a sweep waits for the table).
        table
            .par_chunks_exact_mut(n.max(1))
            .enumerate()
            .take(levels)
            .for_each(|(h, level)| {
                let half = 1usize << h;
                for block in (0..n).step_by(2 * half) {
                    let mid = (block + half).min(n);
                    let mut acc: Option<Span> = None;
                    for i in (block..mid).rev() {
                        let s = acc.map_or(Span::one(closes[i]), |a| Span::one(closes[i]).then(a));
                        level[i] = s;
                        acc = Some(s);
                    }
                    let mut acc: Option<Span> = None;
                    for i in mid..(block + 2 * half).min(n) {
                        let s = acc.map_or(Span::one(closes[i]), |a| a.then(Span::one(closes[i])));
                        level[i] = s;
                        acc = Some(s);
                    }
                }
            });
        Spans { closes, table }
    }

    /// The figures of closes `from..to` (`to ≤ n`); `None` for an empty range.
    #[inline]
    pub(crate) fn over(&self, from: usize, to: usize) -> Option<Span> {
        if from >= to {
            return None;
        }
        let last = to - 1;
        if last == from {
            return Some(Span::one(self.closes[from]));
        }
        // The highest bit where the two ends differ is the level whose block has `from` in its
        // lower half and `last` in its upper half.
        let h = (usize::BITS - 1 - (from ^ last).leading_zeros()) as usize;
        let n = self.closes.len();
        Some(self.table[h * n + from].then(self.table[h * n + last]))
    }
}

/// Levels needed so that any two distinct indices below `n` differ in a tabled bit.
fn levels(n: usize) -> usize {
    if n < 2 {
        0
    } else {
        (usize::BITS - (n - 1).leading_zeros()) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The four figures by definition, quadratically.
    fn naive(c: &[i64]) -> Span {
        let mut s = Span::one(c[0]);
        s.max = *c.iter().max().unwrap_or(&0);
        s.min = *c.iter().min().unwrap_or(&0);
        for i in 0..c.len() {
            for j in i..c.len() {
                s.fall = s.fall.max(c[i] - c[j]);
                s.rise = s.rise.max(c[j] - c[i]);
            }
        }
        s
    }

    proptest! {
        #[test]
        fn every_range_equals_its_definition(
            closes in prop::collection::vec(1i64..50, 1..140),
        ) {
            let spans = Spans::new(&closes);
            for from in 0..closes.len() {
                for to in from + 1..=closes.len() {
                    prop_assert_eq!(spans.over(from, to), Some(naive(&closes[from..to])), "{}..{}", from, to);
                }
            }
        }
    }

    #[test]
    fn a_fall_and_a_rise_are_told_apart() {
        let closes = [5, 9, 2, 4, 1, 7];
        let spans = Spans::new(&closes);
        let s = spans.over(0, 6).unwrap_or_default();
        assert_eq!((s.max, s.min, s.fall, s.rise), (9, 1, 8, 6));
        assert_eq!(spans.over(2, 3), Some(Span::one(2)));
        assert_eq!(spans.over(3, 3), None);
        assert_eq!(spans.over(4, 2), None);
        assert_eq!(levels(0), 0);
        assert_eq!(levels(1), 0);
        assert_eq!(levels(2), 1);
        assert_eq!(levels(3), 2);
        assert_eq!(levels(4), 2);
        assert_eq!(levels(5), 3);
    }
}
