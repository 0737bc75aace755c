//! The sweep's loop with whipsaw guards on: the core's own guarded crossover
//! ([`Crossover`]: hysteresis band, K-close confirmation, minimum bars between flips) fed the
//! shared prefix sums, one pair at a time, with the same accounting as the plain loop.

use super::kernel::{Int, Lane, Outcome, Shared};
use maestro_core::crossover::Crossover;
use maestro_core::{Guards, Mean, Regime};

/// Runs one pair with guards.
pub(crate) fn run<T: Int>(sh: &Shared<'_>, short: u32, long: u32, g: Guards) -> Outcome<T> {
    let (s, l) = (short as usize, long as usize);
    let mut lane = Lane::<T>::new(s, l);
    let p = sh.prefix;
    for &(start, end) in sh.stretches {
        // A fresh strategy per stretch: fresh windows and a fresh crossover.
        let mut x = Crossover::new(g);
        let ready = (start + l - 1).min(end);
        for i in start..ready {
            lane.mark(sh.close(i));
        }
        for i in ready..end {
            let c = sh.close(i);
            let short_mean = Mean {
                sum: p[i + 1] - p[i + 1 - s],
                n: short,
            };
            let long_mean = Mean {
                sum: p[i + 1] - p[i + 1 - l],
                n: long,
            };
            if let Some(regime) = x.update(short_mean, long_mean) {
                lane.set_regime(regime == Regime::Bullish);
                lane.trade(sh, c, i);
            }
            lane.mark(c);
        }
    }
    lane.finish(sh)
}
