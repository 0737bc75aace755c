//! Candle series the fake serves, and loaders for the real files in `../shared/data`.
//!
//! A [`Bar`] is stamped with its CLOSE time (the end of the bucket), like BitMEX. Files that stamp
//! the start of the bar are shifted by one bar length as they are read.

use maestro_lambda::exchange::BinSize;
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// One bucket of the fake's market, prices as BitMEX sends them (JSON numbers).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bar {
    /// End of the bucket, ms since the UNIX epoch.
    pub close_time_ms: i64,
    /// First trade price (the fake serves the previous close instead, as BitMEX does).
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Last price.
    pub close: f64,
    /// Traded volume.
    pub volume: f64,
}

/// How a candle file stamps and lays out its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeriesFormat {
    /// freqtrade JSON: `[[open_time_ms, o, h, l, c, v], ...]`, start-of-bar times.
    FreqtradeJson,
    /// CSV `timestamp,open,high,low,close,volume` with ISO-8601 start-of-bar times.
    CsvStartOfBar,
    /// BitMEX `trade/bucketed` CSV columns with end-of-bucket times.
    BitmexCsv,
}

/// A synthetic series: `n` bars of `bin` ending at `first_close_ms`, `first_close_ms + bin`, ...,
/// with closes from `close(i)`; high/low bracket the close by one unit.
pub fn synthetic(
    first_close_ms: i64,
    bin: BinSize,
    n: usize,
    close: impl Fn(usize) -> f64,
) -> Vec<Bar> {
    (0..n)
        .map(|i| {
            let c = close(i);
            let prev = if i == 0 { c } else { close(i - 1) };
            Bar {
                close_time_ms: first_close_ms + bin.millis() * i as i64,
                open: prev,
                high: c.max(prev) + 0.01,
                low: c.min(prev) - 0.01,
                close: c,
                volume: 1000.0,
            }
        })
        .collect()
}

/// Reads a real candle file into bars stamped at their close time.
pub fn load_bars(path: &Path, format: SeriesFormat, bin: BinSize) -> Result<Vec<Bar>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let at = |line: usize, what: &str| format!("{}:{line}: {what}", path.display());
    let mut bars = Vec::new();
    match format {
        SeriesFormat::FreqtradeJson => {
            let rows: Vec<Vec<f64>> =
                serde_json::from_str(&text).map_err(|e| at(0, &e.to_string()))?;
            for (i, row) in rows.iter().enumerate() {
                let [t, o, h, l, c, v] = row[..] else {
                    return Err(at(i + 1, "expected 6 numbers"));
                };
                bars.push(Bar {
                    close_time_ms: t as i64 + bin.millis(),
                    open: o,
                    high: h,
                    low: l,
                    close: c,
                    volume: v,
                });
            }
        }
        SeriesFormat::CsvStartOfBar | SeriesFormat::BitmexCsv => {
            let mut lines = text.lines();
            let header: Vec<&str> = lines
                .next()
                .ok_or_else(|| at(1, "empty file"))?
                .split(',')
                .collect();
            let col = |name: &str| {
                header
                    .iter()
                    .position(|h| h.trim() == name)
                    .ok_or_else(|| at(1, &format!("no {name} column")))
            };
            let cols = [
                col("timestamp")?,
                col("open")?,
                col("high")?,
                col("low")?,
                col("close")?,
                col("volume")?,
            ];
            let shift = if format == SeriesFormat::CsvStartOfBar {
                bin.millis()
            } else {
                0
            };
            for (i, line) in lines.enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let fields: Vec<&str> = line.split(',').collect();
                let field = |c: usize| fields.get(c).map(|s| s.trim()).unwrap_or("");
                let num = |c: usize| {
                    field(c)
                        .parse::<f64>()
                        .map_err(|_| at(i + 2, &format!("bad number {:?}", field(c))))
                };
                let t = parse_time(field(cols[0]))
                    .ok_or_else(|| at(i + 2, &format!("bad time {:?}", field(cols[0]))))?;
                bars.push(Bar {
                    close_time_ms: t + shift,
                    open: num(cols[1])?,
                    high: num(cols[2])?,
                    low: num(cols[3])?,
                    close: num(cols[4])?,
                    volume: num(cols[5])?,
                });
            }
        }
    }
    if let Some(w) = bars
        .windows(2)
        .find(|w| w[0].close_time_ms >= w[1].close_time_ms)
    {
        return Err(format!(
            "{}: rows out of order at {}",
            path.display(),
            w[1].close_time_ms
        ));
    }
    Ok(bars)
}

/// ISO-8601 in the spellings the shared files use (`T` or space; `Z`, `+00:00` or no zone = UTC).
pub fn parse_time(text: &str) -> Option<i64> {
    let mut s = text.trim().replacen(' ', "T", 1);
    let time_part = s.split_once('T')?.1;
    if !(time_part.ends_with('Z') || time_part.contains('+') || time_part.contains('-')) {
        s.push('Z');
    }
    let t = OffsetDateTime::parse(&s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// BitMEX's timestamp spelling for a time in ms.
pub fn iso(ms: i64) -> String {
    match OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) {
        Ok(t) => {
            let (h, m, s) = t.to_hms();
            format!(
                "{:04}-{:02}-{:02}T{h:02}:{m:02}:{s:02}.{:03}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.millisecond()
            )
        }
        Err(_) => "1970-01-01T00:00:00.000Z".to_owned(),
    }
}
