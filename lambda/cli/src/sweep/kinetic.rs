//! The sweep's plain loop when every figure fits `i64`: one pass over the candles for all pairs
//! at once, paying per candle only for the windows (not the pairs) and per pair only for its
//! trades.
//!
//! A pair's regime is which of its two means is higher, and it changes only when the two means
//! cross. So the windows are kept sorted by their mean (exactly: `sum_a × b` against `sum_b × a`)
//! and re-sorted on every candle by insertion sort, which moves each window past exactly the
//! windows whose means it crossed since the previous candle: every such swap is a flip of that
//! pair, and every flip is such a swap. Insertion sort is stable, so equal means hold the order,
//! as equality holds the core's regime. Per candle that is one pass over the windows plus one
//! step per flip. After a gap the windows start again: each joins the order once it is full, and
//! its pairs start with the core's first-regime signal, or wait while their means are equal.
//!
//! The equity between two trades is marked in one go from the closes' [`Spans`]. One thread sorts
//! (the [`Sorter`]: it needs only the means, never the money) and writes each chunk of candles'
//! signals into one list per group of pairs; while it sorts the next chunk, the other threads
//! trade the groups' signals of the previous one, and the sorting thread joins them when done.

use super::kernel::{Lane, Outcome, Shared};
use super::spans::Spans;
use rayon::prelude::*;
use std::cmp::Ordering;

/// The most `windows²` this loop takes (its pair table is that many `u32`); larger sets of
/// windows go through the pair-by-pair loop.
const MAX_TABLE: usize = 1 << 22;

/// Candles the sorter runs ahead of the workers.
const CHUNK: usize = 1024;

/// No pair for these two windows, or none with a regime.
const NONE: u32 = u32::MAX;

/// Every pair of `pairs` (repeats allowed), in order, or `None` when there are too many distinct
/// windows for the pair table. The caller has checked that every figure fits `i64`. `progress`
/// is called once per pair, in step with the candles done.
pub(crate) fn sweep(
    sh: &Shared<'_>,
    closes: &[i64],
    pairs: &[(u32, u32)],
    progress: &(dyn Fn() + Sync),
) -> Option<Vec<Outcome<i64>>> {
    let mut windows: Vec<usize> = pairs
        .iter()
        .flat_map(|&(s, l)| [s as usize, l as usize])
        .collect();
    windows.sort_unstable();
    windows.dedup();
    // Signals carry their candle as a `u32`, and a pair's code its group in 8 bits.
    let n = sh.prefix.len() - 1;
    if windows.len().saturating_mul(windows.len()) > MAX_TABLE || u32::try_from(n).is_err() {
        return None;
    }
    let index = |w: u32| windows.partition_point(|&x| x < w as usize);
    let mut unique: Vec<(usize, usize)> =
        pairs.iter().map(|&(s, l)| (index(s), index(l))).collect();
    let wanted = unique.clone();
    unique.sort_unstable();
    unique.dedup();
    let spans = Spans::new(closes);
    let parts = groups();
    let mut books: Vec<Books> = (0..parts).map(|_| Books::default()).collect();
    let mut code = Vec::with_capacity(unique.len());
    for &(s, l) in &unique {
        let part = worker_of(s, parts);
        let book = &mut books[part];
        code.push(((book.lanes.len() as u32) << 8) | part as u32);
        book.lanes.push(Lane::new(windows[s], windows[l]));
        book.marked.push(0);
    }
    let mut sorter = Sorter::new(sh, &windows, &unique, &code, parts);
    let mut ready: Vec<Vec<(u32, u32)>> = vec![Vec::new(); parts];
    let mut told = 0;
    let mut from = 0;
    loop {
        let to = (from + CHUNK).min(n);
        rayon::join(
            || sorter.advance(from, to),
            || {
                books
                    .par_iter_mut()
                    .zip(&ready)
                    .with_max_len(1)
                    .for_each(|(book, signals)| book.trade(sh, &spans, signals));
            },
        );
        if from >= n {
            break;
        }
        std::mem::swap(&mut ready, &mut sorter.signals);
        for list in &mut sorter.signals {
            list.clear();
        }
        let due = due(unique.len(), to, n);
        for _ in told..due {
            progress();
        }
        told = due;
        from = to;
    }
    // Repeated pairs ran once; their calls are still owed.
    for _ in told..pairs.len() {
        progress();
    }
    let outcomes: Vec<Outcome<i64>> = code
        .iter()
        .map(|&c| {
            let book = &books[(c & 0xff) as usize];
            let k = (c >> 8) as usize;
            let mut lane = book.lanes[k];
            if let Some(rest) = spans.over(book.marked[k], n) {
                lane.mark_span(&rest);
            }
            lane.finish(sh)
        })
        .collect();
    Some(
        wanted
            .iter()
            .map(|p| outcomes[unique.partition_point(|u| u < p)])
            .collect(),
    )
}

/// How many groups the pairs go into: more than threads, so that a thread that is done (the
/// sorting one included) takes the next group and the threads finish each chunk together. At
/// most 255: a pair's code keeps its group in 8 bits.
fn groups() -> usize {
    (4 * rayon::current_num_threads()).clamp(1, 255)
}

/// Progress calls due for `pairs` pairs once `done` of `n` candles are done (`done ≤ n`).
pub(super) fn due(pairs: usize, done: usize, n: usize) -> usize {
    pairs * done / n.max(1)
}

/// The group that holds the pairs of the short window with index `short`, of `parts` groups.
/// Short windows go out in rounds of one per seat, every other round backwards (0 1 1 0 0 1
/// ...): shorter windows flip more often, and dealing them in the same order every round would
/// give the first seat the busier window of every round.
pub(super) fn worker_of(short: usize, parts: usize) -> usize {
    let (round, seat) = (short / parts, short % parts);
    if round % 2 == 0 {
        seat
    } else {
        parts - 1 - seat
    }
}

/// One group's pairs: their accounts and each one's first candle not yet marked.
#[derive(Default)]
struct Books {
    lanes: Vec<Lane<i64>>,
    marked: Vec<usize>,
}

impl Books {
    /// Trades a chunk's signals `(candle, pair << 1 | bullish)`, in candle order: marks the
    /// equity up to the signal's candle with the old position, then trades at its close.
    fn trade(&mut self, sh: &Shared<'_>, spans: &Spans<'_>, signals: &[(u32, u32)]) {
        for &(i, code) in signals {
            let (i, k, bull) = (i as usize, (code >> 1) as usize, code & 1 == 1);
            let lane = &mut self.lanes[k];
            if let Some(run) = spans.over(self.marked[k], i) {
                lane.mark_span(&run);
                self.marked[k] = i;
            }
            lane.set_regime(bull);
            lane.trade(sh, sh.close(i), i);
        }
    }
}

/// A full window in the order.
#[derive(Clone, Copy)]
struct Entry {
    /// Its sum of closes at the current candle.
    sum: i64,
    /// Its length.
    len: u32,
    /// Its index into the windows.
    id: u32,
}

impl Entry {
    /// Whether this window's mean is below `other`'s: `sum / len < other.sum / other.len`,
    /// exactly.
    #[inline(always)]
    fn below(&self, other: &Entry) -> bool {
        self.sum * i64::from(other.len) < other.sum * i64::from(self.len)
    }
}

/// The windows sorted by mean, candle after candle, and the signals that follow.
struct Sorter<'a> {
    sh: &'a Shared<'a>,
    windows: &'a [usize],
    /// Each pair as `(short index, long index)`.
    pairs: &'a [(usize, usize)],
    /// `pair_of[short × nw + long]`: the pair's code (`index << 8 | group`), or [`NONE`].
    pair_of: Vec<u32>,
    /// Like `pair_of`, but only for pairs that have a regime in the current stretch (their
    /// windows' order is that regime); the others are not yet full or wait for unequal means.
    trading: Vec<u32>,
    /// The full windows by increasing mean (one entry moves as one in the sort).
    order: Vec<Entry>,
    /// Pairs (`short × nw + long`) whose windows are full with equal means.
    waiting: Vec<usize>,
    /// The stretch being sorted, and the next of its windows to become full.
    stretch: usize,
    born: usize,
    /// Each group's signals so far: `(candle, pair << 1 | bullish)`.
    signals: Vec<Vec<(u32, u32)>>,
}

impl<'a> Sorter<'a> {
    fn new(
        sh: &'a Shared<'a>,
        windows: &'a [usize],
        pairs: &'a [(usize, usize)],
        code: &[u32],
        parts: usize,
    ) -> Self {
        let nw = windows.len();
        let mut pair_of = vec![NONE; nw * nw];
        for (&(s, l), &c) in pairs.iter().zip(code) {
            pair_of[s * nw + l] = c;
        }
        Sorter {
            sh,
            windows,
            pairs,
            pair_of,
            trading: vec![NONE; nw * nw],
            order: Vec::with_capacity(nw),
            waiting: Vec::new(),
            stretch: 0,
            born: 0,
            signals: vec![Vec::new(); parts],
        }
    }

    /// A signal of the pair with `code` at candle `i`.
    #[inline(always)]
    fn signal(&mut self, code: u32, bull: bool, i: usize) {
        self.signals[(code & 0xff) as usize].push((i as u32, ((code >> 8) << 1) | u32::from(bull)));
    }

    /// Window `w`'s sum of closes at candle `i`, as a product with `other`'s length: comparing
    /// two such products compares the two means exactly.
    #[inline]
    fn scaled(&self, w: usize, other: usize, i: usize) -> i64 {
        let p = self.sh.prefix;
        (p[i + 1] - p[i + 1 - self.windows[w]]) * self.windows[other] as i64
    }

    /// Sorts candles `from..to`.
    fn advance(&mut self, from: usize, to: usize) {
        let p = self.sh.prefix;
        let nw = self.windows.len();
        for i in from..to {
            let (start, _) = self.sh.stretches[self.stretch];
            let start = if self.sh.stretches[self.stretch].1 <= i {
                // A gap: the windows start again.
                self.stretch += 1;
                self.order.clear();
                self.waiting.clear();
                for &(s, l) in self.pairs {
                    self.trading[s * nw + l] = NONE;
                }
                self.born = 0;
                self.sh.stretches[self.stretch].0
            } else {
                start
            };
            let top = p[i + 1];
            for e in &mut self.order {
                e.sum = top - p[i + 1 - e.len as usize];
            }
            self.resort(i);
            while self.born < nw && start + self.windows[self.born] - 1 == i {
                self.join(self.born, i);
                self.born += 1;
            }
            self.settle(i);
        }
    }

    /// Re-sorts the order after the means moved; each swap is a crossing.
    fn resort(&mut self, i: usize) {
        let nw = self.windows.len();
        for j in 1..self.order.len() {
            let x = self.order[j];
            if !x.below(&self.order[j - 1]) {
                continue;
            }
            let mut k = j;
            loop {
                let y = self.order[k - 1];
                self.order[k] = y;
                k -= 1;
                // `x`'s mean fell below `y`'s: the pair is bullish now when `y` is its short
                // window.
                let (short, long) = (x.id.min(y.id), x.id.max(y.id));
                let code = self.trading[short as usize * nw + long as usize];
                if code != NONE {
                    self.signal(code, short == y.id, i);
                }
                if k == 0 || !x.below(&self.order[k - 1]) {
                    break;
                }
            }
            self.order[k] = x;
        }
    }

    /// Window `b` is full from candle `i` on: it joins the order, and its pairs (as the long
    /// window) start trading or wait for their means to differ.
    fn join(&mut self, b: usize, i: usize) {
        let p = self.sh.prefix;
        let e = Entry {
            sum: p[i + 1] - p[i + 1 - self.windows[b]],
            len: self.windows[b] as u32,
            id: b as u32,
        };
        // After every window whose mean is not above `b`'s (a join is rare: a scan will do).
        let at = self.order.iter().take_while(|x| !e.below(x)).count();
        self.order.insert(at, e);
        let nw = self.windows.len();
        for a in 0..b {
            let code = self.pair_of[a * nw + b];
            if code == NONE {
                continue;
            }
            match self.scaled(a, b, i).cmp(&self.scaled(b, a, i)) {
                Ordering::Equal => self.waiting.push(a * nw + b),
                order => {
                    self.trading[a * nw + b] = code;
                    self.signal(code, order == Ordering::Greater, i);
                }
            }
        }
    }

    /// Waiting pairs whose means differ now take their first regime.
    fn settle(&mut self, i: usize) {
        let nw = self.windows.len();
        let mut k = 0;
        while k < self.waiting.len() {
            let at = self.waiting[k];
            let (a, b) = (at / nw, at % nw);
            let order = self.scaled(a, b, i).cmp(&self.scaled(b, a, i));
            if order == Ordering::Equal {
                k += 1;
                continue;
            }
            self.waiting.swap_remove(k);
            let code = self.pair_of[at];
            self.trading[at] = code;
            self.signal(code, order == Ordering::Greater, i);
        }
    }
}
