//! Running a slice of candles through a strategy in one call (backtests, warm-up).

use crate::candle::Candle;
use crate::strategy::{CandleError, SHORT_PATH, Signal, Step, Strategy};
use core::fmt;

/// What a batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Candles taken (including duplicates).
    pub candles: usize,
    /// Signals emitted.
    pub signals: usize,
    /// Duplicates skipped.
    pub duplicates: usize,
    /// Candles accepted while the long window was still filling.
    pub not_ready: usize,
}

/// The candle a batch stopped at: candles before `index` were applied, the rest were not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchError {
    /// Index of the refused candle in the slice.
    pub index: usize,
    /// Why it was refused.
    pub error: CandleError,
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "candle #{}: {}", self.index, self.error)
    }
}

impl core::error::Error for BatchError {}

/// Feeds `candles` in order; calls `on_signal(index, signal)` for every signal. Stops at the first
/// refused candle, leaving the strategy as it was after the candle before it.
///
/// ```
/// use maestro_core::{run_batch, Candle, Guards, Mode, Params, Price, Strategy};
/// let params = Params {
///     short_window: 1, long_window: 2, mode: Mode::LongOnly, qty: 1, lot_size: 1,
///     max_position: 1, bin_ms: 10, guards: Guards::default(),
/// };
/// let candles: Vec<Candle> = [5, 6, 4, 7].iter().enumerate().map(|(i, &p)| Candle {
///     close_time_ms: 10 * i as i64, open: Price(p), high: Price(p), low: Price(p), close: Price(p),
/// }).collect();
/// let mut s = Strategy::<4>::new(params).unwrap();
/// let mut at = Vec::new();
/// let stats = run_batch(&mut s, &candles, |i, sig| at.push((i, sig.target))).unwrap();
/// assert_eq!(at, [(1, 1), (2, 0), (3, 1)]);
/// assert_eq!((stats.candles, stats.signals, stats.not_ready), (4, 3, 1));
/// ```
pub fn run_batch<const CAP: usize>(
    s: &mut Strategy<CAP>,
    candles: &[Candle],
    mut on_signal: impl FnMut(usize, &Signal),
) -> Result<BatchStats, BatchError> {
    let mut stats = BatchStats::default();
    let mut index = 0;
    loop {
        // The common case in a loop of its own; it stops at any candle it does not handle,
        // which the general step below then takes.
        if SHORT_PATH {
            index = crate::steady::run(s, candles, index, &mut stats.signals, &mut on_signal);
        }
        let Some(candle) = candles.get(index) else {
            break;
        };
        match s.on_candle(candle) {
            Ok(Step::NoChange) => {}
            Ok(Step::Signal(sig)) => {
                stats.signals += 1;
                on_signal(index, &sig);
            }
            Ok(Step::NotReady) => stats.not_ready += 1,
            Ok(Step::Duplicate) => stats.duplicates += 1,
            Err(error) => return Err(BatchError { index, error }),
        }
        index += 1;
    }
    stats.candles = candles.len();
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crossover::{Guards, Regime};
    use crate::price::Price;
    use crate::strategy::{Mode, Params};
    use std::string::ToString;
    use std::vec::Vec;

    const BIN: i64 = 60_000;

    fn bar(i: i64, p: i64) -> Candle {
        Candle {
            close_time_ms: BIN * i,
            open: Price(p),
            high: Price(p),
            low: Price(p),
            close: Price(p),
        }
    }

    fn strategy() -> Strategy<4> {
        Strategy::new(Params {
            short_window: 1,
            long_window: 2,
            mode: Mode::LongShort,
            qty: 1,
            lot_size: 1,
            max_position: 1,
            bin_ms: BIN,
            guards: Guards::default(),
        })
        .unwrap()
    }

    #[test]
    fn every_kind_of_step_is_counted() {
        // Not ready, bullish, duplicate, duplicate, no change, bearish, duplicate.
        let candles = [
            bar(1, 10),
            bar(2, 12),
            bar(2, 12),
            bar(2, 12),
            bar(3, 13),
            bar(4, 9),
            bar(4, 9),
        ];
        let mut s = strategy();
        let mut seen = Vec::new();
        let stats = run_batch(&mut s, &candles, |i, sig| seen.push((i, sig.regime))).unwrap();
        assert_eq!(
            stats,
            BatchStats {
                candles: 7,
                signals: 2,
                duplicates: 3,
                not_ready: 1,
            }
        );
        assert_eq!(seen, [(1, Regime::Bullish), (5, Regime::Bearish)]);
    }

    #[test]
    fn a_refused_candle_stops_the_batch_where_it_is() {
        let candles = [bar(1, 10), bar(2, 12), bar(4, 13), bar(5, 14)];
        let mut s = strategy();
        let mut signals = 0;
        let err = run_batch(&mut s, &candles, |_, _| signals += 1).unwrap_err();
        let gap = CandleError::Gap {
            last_ms: 2 * BIN,
            got_ms: 4 * BIN,
            missing: 1,
        };
        assert_eq!(
            err,
            BatchError {
                index: 2,
                error: gap
            }
        );
        assert_eq!((signals, s.last_close_ms()), (1, Some(2 * BIN)));
        assert_eq!(
            err.to_string(),
            "candle #2: gap: 1 bar(s) missing between 120000 and 240000"
        );
    }
}
