//! Crossover regime detection: exact comparison of two means, events only on a change of regime,
//! and the optional whipsaw guards (hysteresis band, K-close confirmation, minimum bars between
//! flips).

use crate::sma::Mean;
use serde::{Deserialize, Serialize};

/// Which side of the long average the short average is on (after the guards).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Regime {
    /// The short average is above the long one (golden cross).
    Bullish,
    /// The short average is below the long one (death cross).
    Bearish,
}

impl core::fmt::Display for Regime {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Regime::Bullish => "bullish",
            Regime::Bearish => "bearish",
        })
    }
}

/// Whipsaw guards. All zero (the default) is the plain crossover.
///
/// - `hysteresis_bp`: the short mean must clear the long mean by this many basis points
///   (1/10,000) to count as above (`short > long × (1 + h)`) or below (`short < long × (1 − h)`);
///   inside the band the regime holds. At most [`MAX_HYSTERESIS_BP`].
/// - `confirm_bars`: a new regime must be indicated by this many consecutive closes before it is
///   taken (0 and 1 mean at once). Applies to the first regime too.
/// - `min_hold_bars`: at least this many ready bars between two flips (0 and 1 mean no limit). The
///   first regime is never held back by it.
///
/// Unknown fields are refused when deserialising (see [`Params`](crate::Params)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guards {
    /// Hysteresis band in basis points.
    pub hysteresis_bp: u32,
    /// Consecutive confirming closes needed for a flip.
    pub confirm_bars: u32,
    /// Minimum number of bars between two flips.
    pub min_hold_bars: u32,
}

/// The widest hysteresis band: 100 % (at that width no bearish regime is possible any more).
pub const MAX_HYSTERESIS_BP: u32 = 10_000;

const BP: i128 = 10_000;

/// Where the short mean stands against the long one, with a band of `hysteresis_bp`:
/// `Some(regime)` outside the band, `None` on it or inside it.
///
/// Exact: both sides are cross-multiplied in `i128` (any `i64` sum × any `u32` count × a factor
/// of at most 20,000 stays below 2^110). A band wider than [`MAX_HYSTERESIS_BP`] counts as that
/// maximum.
///
/// ```
/// use maestro_core::{Mean, Regime, crossover::indicated};
/// let short = Mean { sum: 1010, n: 10 }; // 101
/// let long = Mean { sum: 5000, n: 50 };  // 100
/// assert_eq!(indicated(short, long, 0), Some(Regime::Bullish));
/// assert_eq!(indicated(short, long, 100), None);   // needs more than 101
/// assert_eq!(indicated(long, long, 0), None);      // equal means: no side
/// ```
#[inline(always)]
pub fn indicated(short: Mean, long: Mean, hysteresis_bp: u32) -> Option<Regime> {
    let lhs = i128::from(short.sum) * i128::from(long.n);
    let rhs = i128::from(long.sum) * i128::from(short.n);
    if hysteresis_bp == 0 {
        return if lhs > rhs {
            Some(Regime::Bullish)
        } else if lhs < rhs {
            Some(Regime::Bearish)
        } else {
            None
        };
    }
    // Params never exceed the maximum; clamping keeps direct callers inside i128 too.
    let h = i128::from(hysteresis_bp.min(MAX_HYSTERESIS_BP));
    let lhs = lhs * BP;
    if lhs > rhs * (BP + h) {
        Some(Regime::Bullish)
    } else if lhs < rhs * (BP - h) {
        Some(Regime::Bearish)
    } else {
        None
    }
}

/// The regime state machine: feed it both means once per ready candle; it answers with the new
/// regime when (and only when) the regime changes.
///
/// ```
/// use maestro_core::{Guards, Mean, Regime, crossover::Crossover};
/// let mut x = Crossover::new(Guards::default());
/// let long = Mean { sum: 300, n: 3 };
/// assert_eq!(x.update(Mean { sum: 202, n: 2 }, long), Some(Regime::Bullish));
/// assert_eq!(x.update(Mean { sum: 204, n: 2 }, long), None); // still bullish: no event
/// assert_eq!(x.update(Mean { sum: 198, n: 2 }, long), Some(Regime::Bearish));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crossover {
    guards: Guards,
    regime: Option<Regime>,
    pending: Option<Regime>,
    streak: u32,
    since_flip: u32,
}

/// The crossover's mutable state, as a snapshot stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CrossoverState {
    pub(crate) regime: Option<Regime>,
    pub(crate) pending: Option<Regime>,
    pub(crate) streak: u32,
    pub(crate) since_flip: u32,
}

impl Crossover {
    /// No regime yet.
    pub const fn new(guards: Guards) -> Self {
        Crossover {
            guards,
            regime: None,
            pending: None,
            streak: 0,
            since_flip: 0,
        }
    }

    /// The current regime, `None` until the first one is established.
    pub const fn regime(&self) -> Option<Regime> {
        self.regime
    }

    /// The guards in force.
    pub const fn guards(&self) -> Guards {
        self.guards
    }

    /// Takes one ready candle's means; returns the new regime if it changed on this candle.
    #[inline(always)]
    pub fn update(&mut self, short: Mean, long: Mean) -> Option<Regime> {
        self.update_indicated(indicated(short, long, self.guards.hysteresis_bp))
    }

    /// The band in force, for callers that work out [`indicated`] themselves.
    #[inline(always)]
    pub(crate) const fn hysteresis_bp(&self) -> u32 {
        self.guards.hysteresis_bp
    }

    /// [`update`](Self::update) with the side the means indicate already worked out.
    #[inline(always)]
    pub(crate) fn update_indicated(&mut self, cand: Option<Regime>) -> Option<Regime> {
        let g = self.guards;
        self.since_flip = self.since_flip.saturating_add(1);
        let want = match cand {
            Some(r) if Some(r) != self.regime => r,
            _ => {
                // The current regime re-asserted itself, or the means sit in the band: any
                // confirmation in progress is broken.
                self.pending = None;
                self.streak = 0;
                return None;
            }
        };
        if self.pending == Some(want) {
            self.streak = self.streak.saturating_add(1);
        } else {
            self.pending = Some(want);
            self.streak = 1;
        }
        let confirmed = self.streak >= g.confirm_bars;
        let held = self.regime.is_none() || self.since_flip >= g.min_hold_bars;
        if confirmed && held {
            self.regime = Some(want);
            self.pending = None;
            self.streak = 0;
            self.since_flip = 0;
            Some(want)
        } else {
            None
        }
    }

    /// No guard can hold a flip back and no confirmation is in progress: every indicated side
    /// other than the current regime is taken at once, and `pending`/`streak` stay cleared.
    #[inline(always)]
    pub(crate) fn is_plain(&self) -> bool {
        self.guards.confirm_bars <= 1 && self.guards.min_hold_bars <= 1 && self.pending.is_none()
    }

    /// Stores what a loop of plain updates (see [`is_plain`](Self::is_plain)) kept in locals.
    #[inline(always)]
    pub(crate) fn set_plain(&mut self, regime: Option<Regime>, since_flip: u32) {
        self.regime = regime;
        self.since_flip = since_flip;
    }

    pub(crate) fn state(&self) -> CrossoverState {
        CrossoverState {
            regime: self.regime,
            pending: self.pending,
            streak: self.streak,
            since_flip: self.since_flip,
        }
    }

    /// Restores a stored state, refusing combinations `update` can never produce.
    pub(crate) fn from_state(guards: Guards, s: CrossoverState) -> Option<Self> {
        let consistent = match s.pending {
            None => s.streak == 0,
            Some(p) => {
                s.regime != Some(p)
                    && s.streak >= 1
                    && (s.streak < guards.confirm_bars
                        || (s.regime.is_some() && s.since_flip < guards.min_hold_bars))
            }
        };
        consistent.then_some(Crossover {
            guards,
            regime: s.regime,
            pending: s.pending,
            streak: s.streak,
            since_flip: s.since_flip,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Regime::{Bearish as Bear, Bullish as Bull};

    const LONG: Mean = Mean { sum: 1000, n: 10 }; // mean 100

    /// A short mean of `m` over one close.
    fn s(m: i64) -> Mean {
        Mean { sum: m, n: 1 }
    }

    #[test]
    fn comparison_is_exact_and_respects_the_band() {
        let cases: &[(Mean, Mean, u32, Option<Regime>)] = &[
            (s(101), LONG, 0, Some(Bull)),
            (s(99), LONG, 0, Some(Bear)),
            (s(100), LONG, 0, None),
            // 1/3 vs 0.333...: exact rationals, no rounding.
            (
                Mean { sum: 1, n: 3 },
                Mean {
                    sum: 333_333_333,
                    n: 1_000_000_000,
                },
                0,
                Some(Bull),
            ),
            (s(101), LONG, 100, None), // exactly on the upper edge
            (s(102), LONG, 100, Some(Bull)),
            (s(99), LONG, 100, None), // exactly on the lower edge
            (s(98), LONG, 100, Some(Bear)),
            (s(1), LONG, MAX_HYSTERESIS_BP, None),
            (s(201), LONG, u32::MAX, Some(Bull)), // clamped to the maximum band
            (
                Mean {
                    sum: i64::MIN,
                    n: u32::MAX,
                },
                Mean {
                    sum: i64::MAX,
                    n: u32::MAX,
                },
                u32::MAX,
                Some(Bear),
            ),
            (s(201), LONG, MAX_HYSTERESIS_BP, Some(Bull)),
            (
                Mean {
                    sum: 1 << 60,
                    n: 1 << 20,
                },
                Mean {
                    sum: (1 << 60) - 1,
                    n: 1 << 20,
                },
                MAX_HYSTERESIS_BP - 1,
                None,
            ),
        ];
        for &(short, long, h, want) in cases {
            assert_eq!(
                indicated(short, long, h),
                want,
                "{short:?} vs {long:?} with {h} bp"
            );
        }
    }

    /// Runs a script of short means against the fixed long mean; returns the events.
    fn run(guards: Guards, shorts: &[i64]) -> std::vec::Vec<(usize, Regime)> {
        let mut x = Crossover::new(guards);
        let mut out = std::vec::Vec::new();
        for (i, &m) in shorts.iter().enumerate() {
            if let Some(r) = x.update(s(m), LONG) {
                out.push((i, r));
            }
            assert!(
                Crossover::from_state(guards, x.state()).is_some(),
                "state after step {i} must be restorable"
            );
        }
        out
    }

    #[test]
    fn guards_scenarios() {
        let off = Guards::default();
        let band = Guards {
            hysteresis_bp: 100,
            ..off
        };
        let confirm = Guards {
            confirm_bars: 3,
            ..off
        };
        let hold = Guards {
            min_hold_bars: 4,
            ..off
        };
        type Case<'a> = (&'a str, Guards, &'a [i64], &'a [(usize, Regime)]);
        let cases: &[Case<'_>] = &[
            (
                "plain: events only on change",
                off,
                &[101, 102, 99, 98, 100, 101],
                &[(0, Bull), (2, Bear), (5, Bull)],
            ),
            (
                "plain: equality holds the regime",
                off,
                &[100, 100, 99, 100, 99],
                &[(2, Bear)],
            ),
            (
                "band: small moves are ignored",
                band,
                &[101, 102, 100, 99, 98, 101, 103],
                &[(1, Bull), (4, Bear), (6, Bull)],
            ),
            (
                "confirm: 3 closes in a row",
                confirm,
                &[101, 101, 101, 99, 99, 101, 99, 99, 99],
                &[(2, Bull), (8, Bear)],
            ),
            (
                "confirm: the band breaks a streak",
                Guards {
                    confirm_bars: 2,
                    hysteresis_bp: 100,
                    ..off
                },
                &[102, 100, 102, 102],
                &[(3, Bull)],
            ),
            (
                "confirm: a reversal of the first candidate restarts",
                confirm,
                &[101, 101, 99, 99, 99],
                &[(4, Bear)],
            ),
            (
                "hold: flips at least 4 bars apart",
                hold,
                &[101, 99, 99, 99, 99, 101, 101, 101, 101],
                &[(0, Bull), (4, Bear), (8, Bull)],
            ),
            (
                "hold: a whipsaw inside the hold is skipped",
                hold,
                &[101, 99, 101, 101, 101, 101],
                &[(0, Bull)],
            ),
            (
                "confirm 0 and 1 are off",
                Guards {
                    confirm_bars: 1,
                    min_hold_bars: 1,
                    ..off
                },
                &[101, 99, 101],
                &[(0, Bull), (1, Bear), (2, Bull)],
            ),
        ];
        for &(name, guards, shorts, want) in cases {
            assert_eq!(run(guards, shorts), want, "{name}");
        }
    }

    #[test]
    fn inconsistent_states_are_refused() {
        let g = Guards {
            confirm_bars: 3,
            ..Guards::default()
        };
        let st = |regime, pending, streak| CrossoverState {
            regime,
            pending,
            streak,
            since_flip: 0,
        };
        assert!(Crossover::from_state(g, st(None, None, 0)).is_some());
        assert!(Crossover::from_state(g, st(None, None, 1)).is_none());
        assert!(Crossover::from_state(g, st(Some(Bull), Some(Bull), 1)).is_none());
        assert!(Crossover::from_state(g, st(Some(Bull), Some(Bear), 2)).is_some());
        assert!(Crossover::from_state(g, st(Some(Bull), Some(Bear), 3)).is_none());
        assert!(Crossover::from_state(g, st(Some(Bull), Some(Bear), 0)).is_none());
    }
}
