//! CSV with a header row: `timestamp,open,high,low,close[,volume,...]` in any column order.

use super::{LoadError, Location, RawRow, Stamp, locate, price_cell, stamp::parse_timestamp};
use maestro_core::TickSize;

/// Columns only BitMEX's `trade/bucketed` export has: their presence means end-of-bucket stamps.
const BITMEX_COLUMNS: [&str; 2] = ["homenotional", "foreignnotional"];

/// Reads the rows and the stamp convention the header implies.
pub(super) fn read(text: &str, tick: TickSize) -> Result<(Vec<RawRow>, Stamp), LoadError> {
    let mut lines = line_spans(text).filter(|(_, line)| !line.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(LoadError::Empty);
    };
    let names: Vec<String> = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let find = |wanted: &[&str]| names.iter().position(|n| wanted.contains(&n.as_str()));
    let header_error = |what: &str| LoadError::Record {
        at: Location {
            record: 0,
            line: 1,
            column: 1,
        },
        what: format!(
            "the CSV header has no {what} column (expected timestamp,open,high,low,close[,volume])"
        ),
    };
    let ts = find(&["timestamp", "time", "date", "datetime", "open_time"])
        .ok_or_else(|| header_error("timestamp"))?;
    let open = find(&["open"]).ok_or_else(|| header_error("open"))?;
    let high = find(&["high"]).ok_or_else(|| header_error("high"))?;
    let low = find(&["low"]).ok_or_else(|| header_error("low"))?;
    let close = find(&["close"]).ok_or_else(|| header_error("close"))?;
    let stamp = if BITMEX_COLUMNS.iter().all(|c| names.iter().any(|n| n == c)) {
        Stamp::End
    } else {
        Stamp::Start
    };
    let needed = [ts, open, high, low, close].into_iter().max().unwrap_or(0) + 1;
    let mut rows = Vec::new();
    let mut cells: Vec<&str> = Vec::with_capacity(names.len());
    for (record, (offset, line)) in lines.enumerate() {
        let bad = |what: String| LoadError::Record {
            at: locate(text, offset, record + 1),
            what,
        };
        cells.clear();
        cells.extend(line.split(','));
        if cells.len() < needed {
            return Err(bad(format!(
                "{} columns, the header names {}",
                cells.len(),
                names.len()
            )));
        }
        rows.push(RawRow {
            stamp_ms: parse_timestamp(cells[ts].trim().trim_matches('"')).map_err(&bad)?,
            open: price_cell(cells[open], tick, "open").map_err(&bad)?,
            high: price_cell(cells[high], tick, "high").map_err(&bad)?,
            low: price_cell(cells[low], tick, "low").map_err(&bad)?,
            close: price_cell(cells[close], tick, "close").map_err(&bad)?,
            offset,
        });
    }
    Ok((rows, stamp))
}

/// Lines with their byte offsets, without the line terminator (`\n` or `\r\n`).
fn line_spans(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n').map(move |raw| {
        let start = offset;
        offset += raw.len();
        (start, raw.trim_end_matches(['\n', '\r']))
    })
}
