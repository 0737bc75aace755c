//! Candle files for backtests and sweeps: BitMEX `trade/bucketed` JSON, freqtrade JSON and CSV.
//!
//! Every row is converted once, here, into the core's [`Candle`] stamped with the END of its bucket
//! (BitMEX's convention), with prices parsed from the file's own decimal text into exact ticks. The
//! loader refuses what the core would refuse later (unsorted or repeated stamps, stamps off the bar
//! grid, `close` outside `[low, high]`, non-positive prices) and names the record, line and column of
//! the first bad row. The bar length is the most common step between rows; rows stamped off its
//! grid are skipped (the default), snapped or refused ([`OffGrid`]) and listed. Missing bars (exchange outages) are not an error: they are listed as [`Gap`]s so
//! the backtest can apply its gap policy and report it.

mod aggregate;
mod csv;
mod grid;
mod json;
pub mod stamp;

pub use aggregate::{Aggregation, aggregate};
pub use grid::{OffGrid, OffGridRow, bin_name, describe as describe_off_grid};

use maestro_core::{Candle, Price, TickSize};
use std::fmt;
use std::path::Path;

/// The file formats the CLI reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// freqtrade JSON: `[[open_time_ms, open, high, low, close, volume], ...]`, start-of-bar stamps.
    Freqtrade,
    /// BitMEX `trade/bucketed` JSON: an array of objects with `timestamp` (end of bucket) and OHLC.
    BitmexJson,
    /// CSV with a header naming `timestamp,open,high,low,close` (more columns are ignored).
    Csv,
}

impl Format {
    /// The name used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Format::Freqtrade => "freqtrade",
            Format::BitmexJson => "bitmex-json",
            Format::Csv => "csv",
        }
    }
}

/// Which instant of its bucket a row's timestamp names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// The bucket's start (freqtrade, Binance, most CSV exports).
    Start,
    /// The bucket's end (BitMEX).
    End,
}

impl Stamp {
    /// The name used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Stamp::Start => "start",
            Stamp::End => "end",
        }
    }
}

/// How to read a file. `None` fields are detected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadOptions {
    /// The format, or detect it from the content.
    pub format: Option<Format>,
    /// The stamp convention, or take the format's own: BitMEX JSON and CSV with BitMEX's columns are
    /// end-of-bucket, freqtrade JSON and other CSV start-of-bar.
    pub stamp: Option<Stamp>,
    /// The file's bar length in ms, or infer it as the most common step between consecutive rows.
    pub bin_ms: Option<i64>,
    /// What to do with rows stamped off the bar grid.
    pub off_grid: OffGrid,
    /// The instrument's price tick.
    pub tick: TickSize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            format: None,
            stamp: None,
            bin_ms: None,
            off_grid: OffGrid::Skip,
            tick: TickSize::CENT,
        }
    }
}

/// Missing bars between two consecutive rows of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    /// Index (in [`CandleSeries::candles`]) of the first candle after the gap.
    pub index: usize,
    /// Close time of the candle before the gap (ms).
    pub last_close_ms: i64,
    /// Close time of the candle after the gap (ms).
    pub next_close_ms: i64,
    /// How many bars are missing.
    pub missing: u64,
}

/// A loaded file: candles oldest first, each stamped with its bucket's end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CandleSeries {
    /// The candles.
    pub candles: Vec<Candle>,
    /// Bar length in ms.
    pub bin_ms: i64,
    /// The format read.
    pub format: Format,
    /// The stamp convention applied.
    pub stamp: Stamp,
    /// Missing bars, in file order.
    pub gaps: Vec<Gap>,
    /// Rows stamped off the bar grid (skipped or snapped), in file order.
    pub off_grid: Vec<OffGridRow>,
    /// The tick the prices are in.
    pub tick: TickSize,
}

/// Where a record sits in the file, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    /// 1-based record number (data rows; a CSV header is not counted).
    pub record: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in bytes).
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "record {} (line {}, column {})",
            self.record, self.line, self.column
        )
    }
}

/// Why a file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The content is none of the known formats.
    #[error("cannot tell the file's format: {0}; name it with --format freqtrade|bitmex-json|csv")]
    Detect(String),
    /// The file is not well-formed JSON of the expected shape (serde's message has line and column).
    #[error("malformed {format} file: {message}")]
    Syntax {
        /// The format expected.
        format: &'static str,
        /// What is wrong, with line and column.
        message: String,
    },
    /// One record is wrong.
    #[error("{at}: {what}")]
    Record {
        /// Where.
        at: Location,
        /// What is wrong and, where it helps, what to do.
        what: String,
    },
    /// Nothing to read.
    #[error("the file holds no candles")]
    Empty,
    /// The bar length cannot be known.
    #[error("{0}")]
    Bin(String),
}

/// A row as read, before the stamp convention and the checks are applied.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawRow {
    pub stamp_ms: i64,
    pub open: Price,
    pub high: Price,
    pub low: Price,
    pub close: Price,
    /// Byte offset of the row in the text.
    pub offset: usize,
}

/// Reads and converts a candle file.
pub fn load(path: &Path, options: &LoadOptions) -> Result<CandleSeries, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text, options)
}

/// Converts the text of a candle file.
///
/// ```
/// use maestro_cli::candles_file::{parse, Format, LoadOptions};
/// use maestro_core::Price;
/// // freqtrade rows stamp the bar's start; the candle carries its end.
/// let text = "[[1621092240000,316.14,316.32,315.59,315.7,1110.5],\
///              [1621092300000,315.7,316.17,315.37,316.08,920.1]]";
/// let series = parse(text, &LoadOptions::default()).unwrap();
/// assert_eq!(series.format, Format::Freqtrade);
/// assert_eq!(series.candles[0].close_time_ms, 1621092300000);
/// assert_eq!(series.candles[1].close, Price(31608));
/// // A bad row is named.
/// let err = parse("[[1621092240000,1,1,2,1,0]]", &LoadOptions::default()).unwrap_err();
/// assert!(err.to_string().starts_with("record 1 (line 1, column 2): high 1 is below low 2"));
/// ```
pub fn parse(text: &str, options: &LoadOptions) -> Result<CandleSeries, LoadError> {
    let format = match options.format {
        Some(format) => format,
        None => detect(text)?,
    };
    let (rows, native_stamp) = match format {
        Format::Freqtrade => (json::freqtrade(text, options.tick)?, Stamp::Start),
        Format::BitmexJson => (json::bitmex(text, options.tick)?, Stamp::End),
        Format::Csv => csv::read(text, options.tick)?,
    };
    let stamp = options.stamp.unwrap_or(native_stamp);
    normalise(text, &rows, format, stamp, options)
}

/// Guesses the format from the first meaningful characters.
pub(crate) fn detect(text: &str) -> Result<Format, LoadError> {
    let mut chars = text
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !c.is_whitespace());
    match (chars.next(), chars.next()) {
        (Some('['), Some('[')) => Ok(Format::Freqtrade),
        (Some('['), Some('{')) => Ok(Format::BitmexJson),
        (Some('['), Some(']')) => Err(LoadError::Empty),
        (Some('['), _) => Err(LoadError::Detect(
            "a JSON array whose items are neither arrays (freqtrade) nor objects (BitMEX)".into(),
        )),
        (Some(c), _) if c.is_ascii_alphabetic() => Ok(Format::Csv),
        (None, _) => Err(LoadError::Empty),
        (Some(c), _) => Err(LoadError::Detect(format!(
            "it starts with {c:?}, not a JSON array nor a CSV header"
        ))),
    }
}

/// Line and column (1-based) of a byte offset.
pub(crate) fn locate(text: &str, offset: usize, record: usize) -> Location {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    Location {
        record,
        line,
        column,
    }
}

fn normalise(
    text: &str,
    rows: &[RawRow],
    format: Format,
    stamp: Stamp,
    options: &LoadOptions,
) -> Result<CandleSeries, LoadError> {
    if rows.is_empty() {
        return Err(LoadError::Empty);
    }
    let bad = |i: usize, what: String| LoadError::Record {
        at: locate(text, rows[i].offset, i + 1),
        what,
    };
    let tick = options.tick;
    for (i, row) in rows.iter().enumerate() {
        if row.high < row.low {
            return Err(bad(
                i,
                format!(
                    "high {} is below low {}",
                    row.high.to_f64(tick),
                    row.low.to_f64(tick)
                ),
            ));
        }
        if row.close < row.low || row.close > row.high {
            return Err(bad(
                i,
                format!(
                    "close {} lies outside [low {}, high {}]",
                    row.close.to_f64(tick),
                    row.low.to_f64(tick),
                    row.high.to_f64(tick)
                ),
            ));
        }
    }
    for (i, pair) in rows.windows(2).enumerate() {
        if pair[1].stamp_ms <= pair[0].stamp_ms {
            return Err(bad(
                i + 1,
                format!(
                    "timestamp {} is not after the previous record's {} (rows must be sorted \
                     oldest first, without repeats)",
                    stamp::format_utc(pair[1].stamp_ms),
                    stamp::format_utc(pair[0].stamp_ms)
                ),
            ));
        }
    }
    let bin_ms = match options.bin_ms {
        Some(bin) if bin > 0 => bin,
        Some(bin) => {
            return Err(LoadError::Bin(format!(
                "bar length {bin} ms is not positive"
            )));
        }
        None => grid::most_common_step(rows).ok_or_else(|| {
            LoadError::Bin(
                "a single row does not tell the bar length; pass --bin 1m|5m|1h|1d".into(),
            )
        })?,
    };
    let (kept, off_grid) = grid::place(text, rows, bin_ms, options.off_grid)?;
    let shift = match stamp {
        Stamp::Start => bin_ms,
        Stamp::End => 0,
    };
    let mut candles = Vec::with_capacity(kept.len());
    let mut gaps = Vec::new();
    for (k, &(i, row)) in kept.iter().enumerate() {
        if k > 0 {
            // Both rows are on the grid: the step is a whole number of bars.
            let step = row.stamp_ms.saturating_sub(kept[k - 1].1.stamp_ms);
            if step > bin_ms {
                gaps.push(Gap {
                    index: k,
                    last_close_ms: kept[k - 1].1.stamp_ms + shift,
                    next_close_ms: row.stamp_ms + shift,
                    missing: (step / bin_ms - 1).unsigned_abs(),
                });
            }
        }
        let close_time_ms = row
            .stamp_ms
            .checked_add(shift)
            .ok_or_else(|| bad(i, "timestamp out of range".into()))?;
        candles.push(Candle {
            close_time_ms,
            open: row.open,
            high: row.high,
            low: row.low,
            close: row.close,
        });
    }
    if candles.is_empty() {
        return Err(LoadError::Empty);
    }
    Ok(CandleSeries {
        candles,
        bin_ms,
        format,
        stamp,
        gaps,
        off_grid,
        tick: options.tick,
    })
}

/// Parses one price cell: decimal text exactly; exponent notation through `f64`; a quoted number
/// as its text.
pub(crate) fn price_cell(raw: &str, tick: TickSize, name: &str) -> Result<Price, String> {
    let text = raw.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
        .trim();
    if text.is_empty() || text == "null" {
        return Err(format!("{name} is missing"));
    }
    let parsed = if text.contains(['e', 'E']) {
        text.parse::<f64>()
            .map_err(|_| maestro_core::PriceError::Malformed)
            .and_then(|v| Price::from_f64(v, tick))
    } else {
        Price::from_decimal(text, tick)
    };
    parsed.map_err(|e| format!("{name} {text:?}: {e}"))
}

#[cfg(test)]
mod tests;
