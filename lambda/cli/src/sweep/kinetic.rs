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
//! The equity between two trades is marked in one go from the closes' [`Spans`]. Each worker
//! keeps the whole order (it is cheap) and trades the pairs of its own short windows.

use super::kernel::{Lane, Outcome, Shared};
use super::spans::{Span, Spans};
use rayon::prelude::*;
use std::cmp::Ordering;

/// The most `windows²` this loop takes (its pair table is that many `u32` per worker); larger
/// sets of windows go through the pair-by-pair loop.
const MAX_TABLE: usize = 1 << 22;

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
    if windows.len().saturating_mul(windows.len()) > MAX_TABLE {
        return None;
    }
    let index = |w: u32| windows.partition_point(|&x| x < w as usize);
    let mut unique: Vec<(usize, usize)> =
        pairs.iter().map(|&(s, l)| (index(s), index(l))).collect();
    let wanted = unique.clone();
    unique.sort_unstable();
    unique.dedup();
    let spans = Spans::new(closes);
    let plan = Plan {
        windows: &windows,
        pairs: &unique,
    };
    let parts = rayon::current_num_threads().max(1);
    let mut shares: Vec<Vec<usize>> = vec![Vec::new(); parts];
    for (k, &(short, _)) in unique.iter().enumerate() {
        shares[worker_of(short, parts)].push(k);
    }
    let mut outcomes = vec![Outcome::default(); unique.len()];
    let done: Vec<Vec<(usize, Outcome<i64>)>> = shares
        .par_iter()
        .map(|mine| run(sh, &spans, &plan, mine, progress))
        .collect();
    // Repeated pairs ran once; their calls are still owed.
    for _ in unique.len()..pairs.len() {
        progress();
    }
    for (k, o) in done.into_iter().flatten() {
        outcomes[k] = o;
    }
    Some(
        wanted
            .iter()
            .map(|p| outcomes[unique.partition_point(|u| u < p)])
            .collect(),
    )
}

/// No pair of this worker for these two windows.
const NONE: u32 = u32::MAX;

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

/// One pair of this worker.
struct Slot {
    lane: Lane<i64>,
    /// Its short and long window, as indices into the windows.
    short: usize,
    long: usize,
}

/// The worker that trades the pairs of the short window with index `short`. Short windows go
/// out in rounds of one per worker, every other round backwards (0 1 1 0 0 1 ...): shorter
/// windows flip more often, and dealing them in the same order every round would give the first
/// worker the busier window of every round.
pub(super) fn worker_of(short: usize, parts: usize) -> usize {
    let (round, seat) = (short / parts, short % parts);
    if round % 2 == 0 {
        seat
    } else {
        parts - 1 - seat
    }
}

/// What every worker shares: the windows in increasing length and the pairs as indices into them.
pub(crate) struct Plan<'a> {
    /// Distinct window lengths, increasing.
    pub windows: &'a [usize],
    /// Each pair as `(short index, long index)` into `windows`.
    pub pairs: &'a [(usize, usize)],
}

/// Runs the pairs `mine` (indices into `plan.pairs`) over the whole series.
pub(crate) fn run(
    sh: &Shared<'_>,
    spans: &Spans<'_>,
    plan: &Plan<'_>,
    mine: &[usize],
    progress: &(dyn Fn() + Sync),
) -> Vec<(usize, Outcome<i64>)> {
    let nw = plan.windows.len();
    let mut slot_of = vec![NONE; nw * nw];
    let mut slots: Vec<Slot> = Vec::with_capacity(mine.len());
    for &k in mine {
        let (s, l) = plan.pairs[k];
        slot_of[s * nw + l] = slots.len() as u32;
        slots.push(Slot {
            lane: Lane::new(plan.windows[s], plan.windows[l]),
            short: s,
            long: l,
        });
    }
    let mut w = Worker {
        sh,
        spans,
        windows: plan.windows,
        trading: vec![NONE; nw * nw],
        mine: {
            let mut shorts = vec![false; nw];
            for &k in mine {
                shorts[plan.pairs[k].0] = true;
            }
            shorts
        },
        slot_of,
        slots,
        order: Vec::with_capacity(nw),
        waiting: Vec::new(),
        crossed: Vec::new(),
        runs: Vec::new(),
        marked: vec![0; mine.len()],
    };
    let n = sh.prefix.len() - 1;
    let mut told = 0;
    for &(start, end) in sh.stretches {
        w.stretch(start, end, &mut |done| {
            // This worker's pairs, in proportion to the candles done.
            let due = mine.len() * done / n.max(1);
            for _ in told..due {
                progress();
            }
            told = told.max(due);
        });
    }
    for _ in told..mine.len() {
        progress();
    }
    mine.iter()
        .zip(w.slots)
        .zip(w.marked)
        .map(|((&k, mut slot), marked)| {
            if let Some(rest) = spans.over(marked, n) {
                slot.lane.mark_span(&rest);
            }
            (k, slot.lane.finish(sh))
        })
        .collect()
}

struct Worker<'a> {
    sh: &'a Shared<'a>,
    spans: &'a Spans<'a>,
    windows: &'a [usize],
    /// `slot_of[short × nw + long]`: this worker's slot for the pair, or [`NONE`].
    slot_of: Vec<u32>,
    /// Whether this worker trades pairs of the window as their short window (a small table in
    /// front of the large ones).
    mine: Vec<bool>,
    /// Like `slot_of`, but only for pairs that have a regime in the current stretch (their
    /// windows' order is that regime); the others are not yet full or wait for unequal means.
    trading: Vec<u32>,
    slots: Vec<Slot>,
    /// The full windows by increasing mean (one entry moves as one in the sort).
    order: Vec<Entry>,
    /// Slots whose windows are full with equal means.
    waiting: Vec<u32>,
    /// Slots whose windows crossed at the current candle, with their new regime.
    crossed: Vec<(u32, bool)>,
    /// Each crossed slot's run since its last trade (`None`: nothing to mark).
    runs: Vec<Option<Span>>,
    /// Each slot's first candle not yet marked.
    marked: Vec<usize>,
}

impl Worker<'_> {
    /// Window `w`'s sum of closes at candle `i`, as a product with `other`'s length: comparing
    /// two such products compares the two means exactly.
    #[inline]
    fn scaled(&self, w: usize, other: usize, i: usize) -> i64 {
        let p = self.sh.prefix;
        (p[i + 1] - p[i + 1 - self.windows[w]]) * self.windows[other] as i64
    }

    /// Runs candles `start..end`; `done(k)` is told now and then that the first `k` candles of
    /// the series are done.
    fn stretch(&mut self, start: usize, end: usize, done: &mut dyn FnMut(usize)) {
        self.order.clear();
        self.waiting.clear();
        let nw = self.windows.len();
        for slot in &self.slots {
            self.trading[slot.short * nw + slot.long] = NONE;
        }
        let p = self.sh.prefix;
        let mut born = 0;
        for i in start..end {
            let top = p[i + 1];
            for e in &mut self.order {
                e.sum = top - p[i + 1 - e.len as usize];
            }
            self.resort(i);
            while born < self.windows.len() && start + self.windows[born] - 1 == i {
                self.join(born, i);
                born += 1;
            }
            self.settle(i);
            if i % 4096 == 4095 {
                done(i + 1);
            }
        }
        done(end);
    }

    /// Re-sorts the order after the means moved; each swap is a crossing.
    fn resort(&mut self, i: usize) {
        let nw = self.windows.len();
        let order = &mut self.order[..];
        for j in 1..order.len() {
            let x = order[j];
            if !x.below(&order[j - 1]) {
                continue;
            }
            let mut k = j;
            loop {
                let y = order[k - 1];
                order[k] = y;
                k -= 1;
                // `x`'s mean fell below `y`'s: the pair is bullish now when `y` is its short
                // window.
                let (short, long) = (x.id.min(y.id), x.id.max(y.id));
                let bull = short == y.id;
                if self.mine[short as usize] {
                    let slot = self.trading[short as usize * nw + long as usize];
                    if slot != NONE {
                        self.crossed.push((slot, bull));
                    }
                }
                if k == 0 || !x.below(&order[k - 1]) {
                    break;
                }
            }
            order[k] = x;
        }
        // The crossed pairs' runs since their last trade, read in a pass of their own: the
        // table entries are scattered over megabytes, and reads that no work waits on are
        // fetched all at once instead of one miss at a time.
        self.runs.clear();
        for &(id, _) in &self.crossed {
            self.runs.push(self.spans.over(self.marked[id as usize], i));
        }
        for k in 0..self.crossed.len() {
            let (id, bull) = self.crossed[k];
            let run = self.runs[k];
            self.trade(id, bull, i, run);
        }
        self.crossed.clear();
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
            let id = self.slot_of[a * nw + b];
            if id == NONE {
                continue;
            }
            match self.scaled(a, b, i).cmp(&self.scaled(b, a, i)) {
                Ordering::Equal => self.waiting.push(id),
                order => {
                    self.trading[a * nw + b] = id;
                    self.signal(id, order == Ordering::Greater, i);
                }
            }
        }
    }

    /// Waiting pairs whose means differ now take their first regime.
    fn settle(&mut self, i: usize) {
        let mut k = 0;
        while k < self.waiting.len() {
            let id = self.waiting[k];
            let slot = &self.slots[id as usize];
            let order = self
                .scaled(slot.short, slot.long, i)
                .cmp(&self.scaled(slot.long, slot.short, i));
            if order == Ordering::Equal {
                k += 1;
                continue;
            }
            self.waiting.swap_remove(k);
            let nw = self.windows.len();
            self.trading[slot.short * nw + slot.long] = id;
            self.signal(id, order == Ordering::Greater, i);
        }
    }

    /// A signal of slot `id` at candle `i`: marks the equity up to `i` with the old position,
    /// then trades at `i`'s close.
    fn signal(&mut self, id: u32, bull: bool, i: usize) {
        let run = self.spans.over(self.marked[id as usize], i);
        self.trade(id, bull, i, run);
    }

    /// [`Worker::signal`] with the run since the last trade already read.
    #[inline(always)]
    fn trade(&mut self, id: u32, bull: bool, i: usize, run: Option<Span>) {
        let lane = &mut self.slots[id as usize].lane;
        if let Some(run) = run {
            lane.mark_span(&run);
            self.marked[id as usize] = i;
        }
        lane.set_regime(bull);
        lane.trade(self.sh, self.sh.close(i), i);
    }
}
