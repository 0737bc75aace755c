//! The two JSON layouts: freqtrade's arrays and BitMEX's `trade/bucketed` objects.

use super::{LoadError, RawRow, locate, price_cell, stamp::parse_timestamp};
use maestro_core::TickSize;
use serde::Deserialize;
use serde_json::value::RawValue;

/// Byte offset of a borrowed raw value inside the text it was parsed from.
fn offset_in(text: &str, raw: &RawValue) -> usize {
    (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize)
}

fn syntax(format: &'static str, e: &serde_json::Error) -> LoadError {
    LoadError::Syntax {
        format,
        message: e.to_string(),
    }
}

/// `[[open_time_ms, open, high, low, close, volume], ...]`.
pub(super) fn freqtrade(text: &str, tick: TickSize) -> Result<Vec<RawRow>, LoadError> {
    let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| syntax("freqtrade", &e))?;
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let offset = offset_in(text, item);
        let bad = |what: String| LoadError::Record {
            at: locate(text, offset, i + 1),
            what,
        };
        let cells: Vec<&RawValue> = serde_json::from_str(item.get()).map_err(|_| {
            bad("expected an array [open_time_ms, open, high, low, close, volume]".into())
        })?;
        if cells.len() < 5 {
            return Err(bad(format!(
                "{} values, expected [open_time_ms, open, high, low, close, volume]",
                cells.len()
            )));
        }
        let stamp_text = cells[0].get();
        let stamp_ms = match stamp_text.parse::<i64>() {
            Ok(ms) => ms,
            // Some exporters write the time as a float (`1621092240000.0`).
            Err(_) => match stamp_text.parse::<f64>() {
                Ok(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 9e15 => v as i64,
                _ => {
                    return Err(bad(format!(
                        "open time {stamp_text} is not whole milliseconds"
                    )));
                }
            },
        };
        rows.push(RawRow {
            stamp_ms,
            open: price_cell(cells[1].get(), tick, "open").map_err(&bad)?,
            high: price_cell(cells[2].get(), tick, "high").map_err(&bad)?,
            low: price_cell(cells[3].get(), tick, "low").map_err(&bad)?,
            close: price_cell(cells[4].get(), tick, "close").map_err(&bad)?,
            offset,
        });
    }
    Ok(rows)
}

#[derive(Deserialize)]
struct BitmexRow<'a> {
    #[serde(borrow)]
    timestamp: &'a RawValue,
    #[serde(borrow)]
    open: &'a RawValue,
    #[serde(borrow)]
    high: &'a RawValue,
    #[serde(borrow)]
    low: &'a RawValue,
    #[serde(borrow)]
    close: &'a RawValue,
}

/// `[{"timestamp": "...Z", "open": .., "high": .., "low": .., "close": .., ...}, ...]`.
pub(super) fn bitmex(text: &str, tick: TickSize) -> Result<Vec<RawRow>, LoadError> {
    let items: Vec<&RawValue> =
        serde_json::from_str(text).map_err(|e| syntax("bitmex-json", &e))?;
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let offset = offset_in(text, item);
        let bad = |what: String| LoadError::Record {
            at: locate(text, offset, i + 1),
            what,
        };
        let row: BitmexRow<'_> = serde_json::from_str(item.get()).map_err(|e| {
            bad(format!(
                "expected an object with timestamp, open, high, low, close ({e})"
            ))
        })?;
        let stamp_text = row.timestamp.get().trim_matches('"');
        rows.push(RawRow {
            stamp_ms: parse_timestamp(stamp_text).map_err(&bad)?,
            open: price_cell(row.open.get(), tick, "open").map_err(&bad)?,
            high: price_cell(row.high.get(), tick, "high").map_err(&bad)?,
            low: price_cell(row.low.get(), tick, "low").map_err(&bad)?,
            close: price_cell(row.close.get(), tick, "close").map_err(&bad)?,
            offset,
        });
    }
    Ok(rows)
}
