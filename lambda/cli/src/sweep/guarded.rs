//! The sweep's loop with whipsaw guards on: the core's guarded crossover state machine
//! (`maestro_core::crossover::Crossover`: hysteresis band, K-close confirmation, minimum bars
//! between flips) replayed on the shared prefix sums, one pair at a time, with the same accounting
//! as the plain loop.

use super::kernel::{Int, Lane, Outcome, Shared};
use maestro_core::Guards;

/// Basis points in one.
const BP: i64 = 10_000;

/// The crossover's state, as the core keeps it (regimes as +1 bullish / −1 bearish / 0 none).
#[derive(Default)]
struct Cross {
    regime: i8,
    pending: i8,
    streak: u32,
    since_flip: u32,
}

/// Runs one pair with guards.
pub(crate) fn run<T: Int>(sh: &Shared<'_>, short: usize, long: usize, g: Guards) -> Outcome<T> {
    let mut lane = Lane::<T>::new(short, long);
    let p = sh.prefix;
    let bp = T::from(BP);
    let upper = T::from(BP + i64::from(g.hysteresis_bp));
    let lower = T::from(BP - i64::from(g.hysteresis_bp));
    for &(start, end) in sh.stretches {
        // A fresh strategy per stretch: fresh windows and a fresh crossover.
        let mut x = Cross::default();
        let ready = (start + long - 1).min(end);
        for i in start..ready {
            lane.mark(sh.close(i));
        }
        for i in ready..end {
            let c = sh.close(i);
            let lhs = T::from(p[i + 1] - p[i + 1 - short]) * lane.l_t();
            let rhs = T::from(p[i + 1] - p[i + 1 - long]) * lane.s_t();
            x.since_flip = x.since_flip.saturating_add(1);
            let cand: i8 = if g.hysteresis_bp == 0 {
                i8::from(lhs > rhs) - i8::from(lhs < rhs)
            } else if lhs * bp > rhs * upper {
                1
            } else if lhs * bp < rhs * lower {
                -1
            } else {
                0
            };
            if cand == 0 || cand == x.regime {
                // The regime re-asserted itself, or the means sit in the band: any confirmation
                // in progress is broken.
                x.pending = 0;
                x.streak = 0;
            } else {
                if x.pending == cand {
                    x.streak = x.streak.saturating_add(1);
                } else {
                    x.pending = cand;
                    x.streak = 1;
                }
                let confirmed = x.streak >= g.confirm_bars;
                let held = x.regime == 0 || x.since_flip >= g.min_hold_bars;
                if confirmed && held {
                    x.regime = cand;
                    x.pending = 0;
                    x.streak = 0;
                    x.since_flip = 0;
                    lane.set_regime(cand > 0);
                    lane.trade(sh, c, i);
                }
            }
            lane.mark(c);
        }
    }
    lane.finish(sh)
}
