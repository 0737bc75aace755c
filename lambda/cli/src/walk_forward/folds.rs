//! Where the folds fall: `TRAIN:TEST` as bars or durations, the rolling layout, and the
//! sub-series a fold reads.

use crate::candles_file::{CandleSeries, Gap};
use std::ops::Range;

/// A window length as the user wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    /// A number of bars (candles present in the series).
    Bars(usize),
    /// A duration in ms, turned into bars with the series' bar length.
    Millis(i64),
}

impl Length {
    /// Parses `20000` (bars) or a whole number of minutes, hours, days or weeks (`90m`, `12h`,
    /// `30d`, `2w`).
    pub fn parse(text: &str) -> Result<Length, String> {
        let t = text.trim();
        let bad = || {
            format!(
                "{text:?} is not a window length: write a number of bars (20000) or a duration \
                 such as 90m, 12h, 30d, 2w"
            )
        };
        let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit = &t[digits.len()..];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let count: i64 = digits.parse().map_err(|_| bad())?;
        if count == 0 {
            return Err(format!("{text:?}: a window must be at least one bar long"));
        }
        let unit_ms: i64 = match unit {
            "" => return usize::try_from(count).map(Length::Bars).map_err(|_| bad()),
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            _ => return Err(bad()),
        };
        count
            .checked_mul(unit_ms)
            .map(Length::Millis)
            .ok_or_else(bad)
    }

    /// The length in bars of `bin_ms`; a duration must be a whole number of bars.
    pub fn bars(self, bin_ms: i64) -> Result<usize, String> {
        match self {
            Length::Bars(n) => Ok(n),
            Length::Millis(ms) => {
                if bin_ms <= 0 || ms % bin_ms != 0 {
                    return Err(format!(
                        "{} is not a whole number of {} bars",
                        crate::candles_file::bin_name(ms),
                        crate::candles_file::bin_name(bin_ms)
                    ));
                }
                usize::try_from(ms / bin_ms).map_err(|_| "window too long".to_owned())
            }
        }
    }
}

/// `--walk-forward TRAIN:TEST`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// Training window.
    pub train: Length,
    /// Test window (also the step between folds).
    pub test: Length,
}

impl Split {
    /// Parses `TRAIN:TEST`, each a bar count or a duration (`20000:5000`, `30d:7d`, `30d:2000`).
    pub fn parse(text: &str) -> Result<Split, String> {
        let (train, test) = text.split_once(':').ok_or_else(|| {
            format!("{text:?}: write TRAIN:TEST, e.g. 20000:5000 (bars) or 30d:7d")
        })?;
        Ok(Split {
            train: Length::parse(train)?,
            test: Length::parse(test)?,
        })
    }
}

/// One fold: candle index ranges of the full series; `test` starts where `train` ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fold {
    /// 0-based, oldest first.
    pub index: usize,
    /// Training candles.
    pub train: Range<usize>,
    /// Test candles.
    pub test: Range<usize>,
}

/// The folds over `n` candles: a training window of `train` bars followed by a test window of
/// `test` bars, stepping by `test`, so the test windows tile the end of the series without
/// overlap. The layout is anchored at the last candle (the most recent data is always tested);
/// the `(n - train) % test` oldest candles that fit no fold are left out. `limit` keeps only
/// the most recent folds.
pub fn layout(
    n: usize,
    train: usize,
    test: usize,
    limit: Option<usize>,
) -> Result<Vec<Fold>, String> {
    if train == 0 || test == 0 {
        return Err("training and test windows must be at least one bar long".into());
    }
    let need = train.saturating_add(test);
    if need > n {
        return Err(format!(
            "one fold needs {train} training + {test} test = {need} bars, but the series has {n}"
        ));
    }
    let fit = (n - train) / test;
    let count = limit.map_or(fit, |l| l.min(fit));
    if count == 0 {
        return Err("--folds must be at least 1".into());
    }
    let first_test = n - count * test;
    Ok((0..count)
        .map(|k| {
            let test_start = first_test + k * test;
            Fold {
                index: k,
                train: test_start - train..test_start,
                test: test_start..test_start + test,
            }
        })
        .collect())
}

/// The candles `range` of `series` as a series of their own, gaps re-indexed (a gap at the
/// slice's first candle is dropped: nothing before it is in the slice).
pub fn slice(series: &CandleSeries, range: Range<usize>) -> CandleSeries {
    let gaps = series
        .gaps
        .iter()
        .filter(|g| g.index > range.start && g.index < range.end)
        .map(|g| Gap {
            index: g.index - range.start,
            ..*g
        })
        .collect();
    CandleSeries {
        candles: series.candles[range].to_vec(),
        gaps,
        off_grid: Vec::new(),
        ..*series
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn lengths_and_splits_parse_as_bars_or_durations() {
        let cases: &[(&str, Option<Length>)] = &[
            ("20000", Some(Length::Bars(20_000))),
            ("90m", Some(Length::Millis(90 * MIN))),
            ("12h", Some(Length::Millis(12 * 3_600_000))),
            ("30d", Some(Length::Millis(30 * 86_400_000))),
            ("2w", Some(Length::Millis(14 * 86_400_000))),
            ("0", None),
            ("0d", None),
            ("", None),
            ("d", None),
            ("-5", None),
            ("1.5d", None),
            ("7x", None),
            ("99999999999999999999", None),
        ];
        for (text, want) in cases {
            assert_eq!(Length::parse(text).ok(), *want, "length {text:?}");
        }
        assert_eq!(
            Split::parse("30d:2000"),
            Ok(Split {
                train: Length::Millis(30 * 86_400_000),
                test: Length::Bars(2000)
            })
        );
        assert!(Split::parse("20000").is_err(), "both windows are needed");
        assert!(Split::parse("20000:").is_err());
        let bars: &[(Length, i64, Option<usize>)] = &[
            (Length::Bars(7), 3_600_000, Some(7)),
            (Length::Millis(86_400_000), 3_600_000, Some(24)),
            (Length::Millis(7 * 86_400_000), 86_400_000, Some(7)),
            (Length::Millis(90 * MIN), 3_600_000, None),
            (Length::Millis(MIN), 0, None),
        ];
        for (len, bin, want) in bars {
            assert_eq!(len.bars(*bin).ok(), *want, "{len:?} in bars of {bin} ms");
        }
    }

    #[test]
    fn folds_roll_by_the_test_window_and_end_at_the_last_candle() {
        type Want = Option<&'static [(usize, usize, usize)]>;
        // (n, train, test, limit) → (train start, test start, test end) per fold.
        let cases: &[(usize, usize, usize, Option<usize>, Want)] = &[
            (10, 4, 2, None, Some(&[(0, 4, 6), (2, 6, 8), (4, 8, 10)])),
            (11, 4, 2, None, Some(&[(1, 5, 7), (3, 7, 9), (5, 9, 11)])),
            (11, 4, 2, Some(2), Some(&[(3, 7, 9), (5, 9, 11)])),
            (11, 4, 2, Some(9), Some(&[(1, 5, 7), (3, 7, 9), (5, 9, 11)])),
            (6, 4, 2, None, Some(&[(0, 4, 6)])),
            (5, 4, 2, None, None),
            (10, 0, 2, None, None),
            (10, 4, 0, None, None),
            (10, 4, 2, Some(0), None),
            (44_447, 17_000, 2_287, None, Some(&[])),
        ];
        for &(n, train, test, limit, want) in cases {
            let got = layout(n, train, test, limit);
            match want {
                None => assert!(got.is_err(), "{n} bars, {train}:{test}: expected an error"),
                Some(want) => {
                    let got = got.unwrap_or_else(|e| panic!("{n} bars, {train}:{test}: {e}"));
                    for (k, f) in got.iter().enumerate() {
                        assert_eq!(f.index, k);
                        assert_eq!(f.train.len(), train);
                        assert_eq!(f.test.len(), test);
                        assert_eq!(f.train.end, f.test.start, "test follows training");
                    }
                    assert_eq!(
                        got.last().map(|f| f.test.end),
                        Some(n),
                        "ends at the last candle"
                    );
                    if want.is_empty() {
                        assert_eq!(got.len(), 12, "the May 2021 benchmark's layout");
                    } else {
                        let triples: Vec<_> = got
                            .iter()
                            .map(|f| (f.train.start, f.test.start, f.test.end))
                            .collect();
                        assert_eq!(triples, want, "{n} bars, {train}:{test}, limit {limit:?}");
                    }
                }
            }
        }
    }
}
