//! The bar grid of a file: its bar length (the most common step between rows), its phase (where
//! most rows fall within a bar) and what to do with rows stamped off it.
//!
//! Real exchange history has such rows: 43 hourly rows of Binance's LTC/USDT history are stamped
//! 28:16.812 past the hour. Taking the smallest step as the bar length would make one of them set
//! the grid and blame a correct row; the most common step is the bar the exchange meant.

use super::stamp::format_utc;
use super::{LoadError, Location, RawRow, locate};
use std::collections::HashMap;

/// What to do with a row whose stamp is off the bar grid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OffGrid {
    /// Leave it out (what is left is an ordinary gap); the load reports every such row.
    #[default]
    Skip,
    /// Move it to the nearest bar of the grid (half-way goes to the earlier bar).
    Snap,
    /// Refuse the file, naming the first such row.
    Error,
}

impl OffGrid {
    /// The name used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            OffGrid::Skip => "skip",
            OffGrid::Snap => "snap",
            OffGrid::Error => "error",
        }
    }
}

/// A row stamped off the bar grid, and what became of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffGridRow {
    /// Where it is in the file.
    pub at: Location,
    /// Its stamp as written (ms).
    pub stamp_ms: i64,
    /// The grid stamp it was moved to, or `None` when it was left out.
    pub snapped_ms: Option<i64>,
}

/// The most common positive step between consecutive stamps (the smaller on a tie).
pub(super) fn most_common_step(rows: &[RawRow]) -> Option<i64> {
    most_common(
        rows.windows(2)
            .map(|p| p[1].stamp_ms.saturating_sub(p[0].stamp_ms)),
    )
}

/// Where most rows fall within a bar: the most common `stamp mod bin` (the smaller on a tie).
fn phase(rows: &[RawRow], bin_ms: i64) -> i64 {
    most_common(rows.iter().map(|r| r.stamp_ms.rem_euclid(bin_ms))).unwrap_or(0)
}

fn most_common(values: impl Iterator<Item = i64>) -> Option<i64> {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(v, _)| v)
}

/// A row kept on the grid, with its index in the file.
pub(super) type Placed = (usize, RawRow);

/// Puts every row on the grid of `bin_ms` bars by `policy`: returns the rows kept (snapped ones
/// moved) and the rows that were off it. Rows come sorted and unrepeated.
pub(super) fn place(
    text: &str,
    rows: &[RawRow],
    bin_ms: i64,
    policy: OffGrid,
) -> Result<(Vec<Placed>, Vec<OffGridRow>), LoadError> {
    let phase = phase(rows, bin_ms);
    let mut kept = Vec::with_capacity(rows.len());
    let mut off = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let past = (row.stamp_ms - phase).rem_euclid(bin_ms);
        if past == 0 {
            kept.push((i, *row));
            continue;
        }
        let at = locate(text, row.offset, i + 1);
        match policy {
            OffGrid::Error => {
                return Err(LoadError::Record {
                    at,
                    what: format!(
                        "timestamp {} is off the grid of {} bars the other rows keep ({past} ms \
                         past a bar); --off-grid skip leaves such rows out, --off-grid snap \
                         moves them to the nearest bar",
                        format_ms(row.stamp_ms),
                        bin_name(bin_ms)
                    ),
                });
            }
            OffGrid::Skip => off.push(OffGridRow {
                at,
                stamp_ms: row.stamp_ms,
                snapped_ms: None,
            }),
            OffGrid::Snap => {
                let up = if past > bin_ms - past { bin_ms } else { 0 };
                let Some(snapped) = (row.stamp_ms - past).checked_add(up) else {
                    return Err(LoadError::Record {
                        at,
                        what: "timestamp out of range".into(),
                    });
                };
                if let Some((_, prev)) = kept
                    .last()
                    .filter(|(_, p): &&(usize, RawRow)| p.stamp_ms >= snapped)
                {
                    return Err(LoadError::Record {
                        at,
                        what: format!(
                            "timestamp {} snaps to {}, the bar of the previous row ({}); \
                             use --off-grid skip to leave such rows out",
                            format_ms(row.stamp_ms),
                            format_utc(snapped),
                            format_utc(prev.stamp_ms)
                        ),
                    });
                }
                off.push(OffGridRow {
                    at,
                    stamp_ms: row.stamp_ms,
                    snapped_ms: Some(snapped),
                });
                kept.push((
                    i,
                    RawRow {
                        stamp_ms: snapped,
                        ..*row
                    },
                ));
            }
        }
    }
    // A snapped row can also land on the next row's bar.
    if policy == OffGrid::Snap
        && let Some(k) = kept
            .windows(2)
            .position(|p| p[1].1.stamp_ms <= p[0].1.stamp_ms)
    {
        let (i, row) = kept[k + 1];
        return Err(LoadError::Record {
            at: locate(text, row.offset, i + 1),
            what: format!(
                "timestamp {} is the bar an off-grid row before it snaps to; use \
                     --off-grid skip to leave such rows out",
                format_utc(row.stamp_ms)
            ),
        });
    }
    Ok((kept, off))
}

/// `YYYY-MM-DD HH:MM[:SS][.mmm]` UTC.
fn format_ms(ms: i64) -> String {
    let base = format_utc(ms);
    match ms.rem_euclid(1000) {
        0 => base,
        frac if ms.rem_euclid(60_000) < 1000 => format!("{base}:00.{frac:03}"),
        frac => format!("{base}.{frac:03}"),
    }
}

/// A bar length as people write it: `1m`, `4h`, `1d`, else milliseconds.
pub fn bin_name(ms: i64) -> String {
    const UNITS: [(i64, &str); 4] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1000, "s"),
    ];
    for (unit, name) in UNITS {
        if ms > 0 && ms % unit == 0 {
            return format!("{}{name}", ms / unit);
        }
    }
    format!("{ms} ms")
}

/// One line that counts the off-grid rows and locates them: runs of consecutive records with
/// their first and last stamps (at most five runs named, then how many more).
pub fn describe(rows: &[OffGridRow], bin_ms: i64) -> Option<String> {
    let first = rows.first()?;
    let mut runs: Vec<(&OffGridRow, &OffGridRow)> = vec![(first, first)];
    for row in &rows[1..] {
        match runs.last_mut() {
            Some(run) if run.1.at.record + 1 == row.at.record => run.1 = row,
            _ => runs.push((row, row)),
        }
    }
    let named: Vec<String> = runs
        .iter()
        .take(5)
        .map(|(a, b)| {
            if a.at.record == b.at.record {
                format!(
                    "record {} (line {}, column {}; {})",
                    a.at.record,
                    a.at.line,
                    a.at.column,
                    format_ms(a.stamp_ms)
                )
            } else {
                format!(
                    "records {}–{} (from line {}, column {}; {} → {})",
                    a.at.record,
                    b.at.record,
                    a.at.line,
                    a.at.column,
                    format_ms(a.stamp_ms),
                    format_ms(b.stamp_ms)
                )
            }
        })
        .collect();
    let more = runs.len().saturating_sub(5);
    let action = if first.snapped_ms.is_some() {
        "snapped to the nearest bar"
    } else {
        "skipped (what they leave is a gap)"
    };
    Some(format!(
        "{} row(s) off the {} bar grid {action}: {}{} UTC; --off-grid snap|skip|error chooses",
        rows.len(),
        bin_name(bin_ms),
        named.join(", "),
        if more > 0 {
            format!(" and {more} more run(s)")
        } else {
            String::new()
        }
    ))
}
