//! Longer bars from finer ones: whole UTC-aligned bins (a 1d bin is a UTC day, a 4h bin starts at
//! 00:00, 04:00, ...), open of the first bar, highest high, lowest low, close of the last.
//!
//! A bin is made only from all of its bars. One with bars missing is left out, so the strategy
//! sees a gap there (and applies the gap policy), never a short bar that would pass for a whole
//! one. Partial bins at the two ends of the file are left out too.

use super::{CandleSeries, Gap, grid::bin_name};
use maestro_core::Candle;

/// What an aggregation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Aggregation {
    /// The file's own bar length (ms).
    pub from_bin_ms: i64,
    /// Candles read.
    pub from_candles: usize,
    /// Whole bins made.
    pub bins: usize,
    /// Bins inside the data left out because bars were missing (each is part of a gap).
    pub incomplete: usize,
    /// Partial bins at the start and end of the file, left out.
    pub partial_ends: usize,
}

/// Why bars of one length cannot be made from a series.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AggregateError {
    /// The wanted bar is shorter than the file's.
    #[error(
        "cannot make {to} bars from a file of {from} bars: --bin must be the file's bar or a multiple of it"
    )]
    Finer {
        /// The file's bar.
        from: String,
        /// The wanted bar.
        to: String,
    },
    /// The wanted bar is not a whole number of the file's.
    #[error("{to} is not a whole number of the file's {from} bars")]
    NotMultiple {
        /// The file's bar.
        from: String,
        /// The wanted bar.
        to: String,
    },
    /// A candle straddles two bins (the file's bars are not on the UTC grid).
    #[error(
        "candle {index} (closing at {close}) straddles two {to} bins: the file's bars are not aligned to UTC"
    )]
    Misaligned {
        /// Its index in the series.
        index: usize,
        /// Its close time, UTC.
        close: String,
        /// The wanted bar.
        to: String,
    },
    /// Not one whole bin in the data.
    #[error(
        "the file holds no whole {to} bin ({from} candles of {from_bin}, none of its bins complete)"
    )]
    NoWholeBin {
        /// The wanted bar.
        to: String,
        /// Candles read.
        from: usize,
        /// The file's bar.
        from_bin: String,
    },
}

/// Bars of `bin_ms` made from `series` (whose bars must divide it). The same bar length returns
/// the series unchanged.
///
/// ```
/// use maestro_cli::candles_file::{aggregate, parse, LoadOptions};
/// use maestro_core::Price;
/// // Four 1m rows from 00:00: the bin 00:00-00:02 is whole, the one from 00:02 is not.
/// let text = "[[0,1,5,1,2,0],[60000,2,3,0.5,3,0],[120000,3,3,3,3,0],[240000,4,4,4,4,0]]";
/// let series = parse(text, &LoadOptions::default()).unwrap();
/// let (two, how) = aggregate(&series, 120_000).unwrap();
/// assert_eq!(two.candles.len(), 1);
/// let c = two.candles[0];
/// assert_eq!((c.open, c.high, c.low, c.close), (Price(100), Price(500), Price(50), Price(300)));
/// assert_eq!((how.bins, how.incomplete, how.partial_ends), (1, 1, 1));
/// ```
pub fn aggregate(
    series: &CandleSeries,
    bin_ms: i64,
) -> Result<(CandleSeries, Aggregation), AggregateError> {
    let from = series.bin_ms;
    let names = || (bin_name(from), bin_name(bin_ms));
    if bin_ms < from {
        let (from, to) = names();
        return Err(AggregateError::Finer { from, to });
    }
    if from <= 0 || bin_ms % from != 0 {
        let (from, to) = names();
        return Err(AggregateError::NotMultiple { from, to });
    }
    let per = bin_ms / from;
    let mut how = Aggregation {
        from_bin_ms: from,
        from_candles: series.candles.len(),
        bins: 0,
        incomplete: 0,
        partial_ends: 0,
    };
    if per == 1 {
        how.bins = series.candles.len();
        return Ok((series.clone(), how));
    }
    // (bin end, bars in it, the candle so far)
    let mut groups: Vec<(i64, i64, Candle)> = Vec::new();
    for (index, c) in series.candles.iter().enumerate() {
        let past = c.close_time_ms.rem_euclid(bin_ms);
        let end = if past == 0 {
            Some(c.close_time_ms)
        } else {
            c.close_time_ms.checked_add(bin_ms - past)
        };
        let Some(end) = end.filter(|&e| (e - c.close_time_ms) % from == 0) else {
            return Err(AggregateError::Misaligned {
                index,
                close: super::stamp::format_utc(c.close_time_ms),
                to: bin_name(bin_ms),
            });
        };
        match groups.last_mut() {
            Some((e, n, k)) if *e == end => {
                *n += 1;
                k.high = k.high.max(c.high);
                k.low = k.low.min(c.low);
                k.close = c.close;
            }
            _ => groups.push((
                end,
                1,
                Candle {
                    close_time_ms: end,
                    ..*c
                },
            )),
        }
    }
    let last = groups.len().saturating_sub(1);
    let mut candles: Vec<Candle> = Vec::with_capacity(groups.len());
    for (g, &(_, n, candle)) in groups.iter().enumerate() {
        if n == per {
            candles.push(candle);
        } else if g == 0 || g == last {
            how.partial_ends += 1;
        } else {
            how.incomplete += 1;
        }
    }
    how.bins = candles.len();
    if candles.is_empty() {
        return Err(AggregateError::NoWholeBin {
            to: bin_name(bin_ms),
            from: series.candles.len(),
            from_bin: bin_name(from),
        });
    }
    let gaps = candles
        .windows(2)
        .enumerate()
        .filter_map(|(k, p)| {
            let step = p[1].close_time_ms - p[0].close_time_ms;
            (step > bin_ms).then(|| Gap {
                index: k + 1,
                last_close_ms: p[0].close_time_ms,
                next_close_ms: p[1].close_time_ms,
                missing: (step / bin_ms - 1).unsigned_abs(),
            })
        })
        .collect();
    Ok((
        CandleSeries {
            candles,
            bin_ms,
            format: series.format,
            stamp: series.stamp,
            gaps,
            off_grid: series.off_grid.clone(),
            tick: series.tick,
        },
        how,
    ))
}
