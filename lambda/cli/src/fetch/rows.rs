//! One page of `/trade/bucketed` → CSV lines in BitMEX's column order, and the reading of a line
//! written earlier (to resume after it).
//!
//! Numbers are copied as the JSON text BitMEX sent: no price goes through `f64`, so nothing is
//! rounded or re-spelled. A `null` (e.g. `vwap` in a bucket without trades) becomes an empty field.

use super::times::{iso, parse_ms};
use maestro_lambda::exchange::{BinSize, ExchangeError};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The CSV header: BitMEX's `trade/bucketed` columns in BitMEX's order.
pub const HEADER: &str = "timestamp,symbol,open,high,low,close,trades,volume,vwap,lastSize,turnover,homeNotional,foreignNotional";

/// Fields per line.
const COLUMNS: usize = 13;

/// A row as BitMEX sends it; numbers kept as their JSON text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row<'a> {
    timestamp: String,
    symbol: String,
    #[serde(borrow, default)]
    open: Option<&'a RawValue>,
    #[serde(borrow, default)]
    high: Option<&'a RawValue>,
    #[serde(borrow, default)]
    low: Option<&'a RawValue>,
    #[serde(borrow, default)]
    close: Option<&'a RawValue>,
    #[serde(borrow, default)]
    trades: Option<&'a RawValue>,
    #[serde(borrow, default)]
    volume: Option<&'a RawValue>,
    #[serde(borrow, default)]
    vwap: Option<&'a RawValue>,
    #[serde(borrow, default)]
    last_size: Option<&'a RawValue>,
    #[serde(borrow, default)]
    turnover: Option<&'a RawValue>,
    #[serde(borrow, default)]
    home_notional: Option<&'a RawValue>,
    #[serde(borrow, default)]
    foreign_notional: Option<&'a RawValue>,
}

/// A page turned into CSV text, ready to append.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct CsvPage {
    /// The lines, each ending in `\n`.
    pub text: String,
    /// How many lines.
    pub rows: usize,
    /// The close time of the last line.
    pub last_close_ms: Option<i64>,
}

fn malformed(what: String) -> ExchangeError {
    ExchangeError::Malformed(format!("GET /trade/bucketed: {what}"))
}

/// Whether a field is an empty or a plain JSON number spelling (what a CSV field may safely hold).
fn is_number_text(text: &str) -> bool {
    text.parse::<f64>().is_ok_and(f64::is_finite)
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
}

/// Converts one answer into CSV lines, checking what the download relies on: the symbol asked for,
/// close times strictly increasing, after `after_ms`, at most `until_ms`, on the bucket grid, and
/// every other column a number or `null`.
pub(crate) fn page_to_csv(
    body: &str,
    symbol: &str,
    bin: BinSize,
    after_ms: i64,
    until_ms: i64,
) -> Result<CsvPage, ExchangeError> {
    let rows: Vec<Row<'_>> = serde_json::from_str(body).map_err(|e| {
        let excerpt: String = body.chars().take(120).collect();
        malformed(format!("{e} in {excerpt:?}"))
    })?;
    let mut page = CsvPage::default();
    let mut previous = after_ms;
    for row in &rows {
        if row.symbol != symbol {
            return Err(malformed(format!(
                "asked for {symbol}, got a row for {:?}",
                row.symbol
            )));
        }
        let t = parse_ms(&row.timestamp)
            .ok_or_else(|| malformed(format!("bad timestamp {:?}", row.timestamp)))?;
        if t <= previous || t > until_ms || t.rem_euclid(bin.millis()) != 0 {
            return Err(malformed(format!(
                "bucket {} is out of order, outside the range asked for, or not on the {} grid",
                row.timestamp,
                bin.as_str()
            )));
        }
        previous = t;
        // Re-spelled from the parsed time so that every line of the file has the same form.
        page.text.push_str(&iso(t));
        page.text.push(',');
        page.text.push_str(symbol);
        let numbers = [
            ("open", row.open),
            ("high", row.high),
            ("low", row.low),
            ("close", row.close),
            ("trades", row.trades),
            ("volume", row.volume),
            ("vwap", row.vwap),
            ("lastSize", row.last_size),
            ("turnover", row.turnover),
            ("homeNotional", row.home_notional),
            ("foreignNotional", row.foreign_notional),
        ];
        for (name, value) in numbers {
            page.text.push(',');
            let Some(raw) = value else { continue };
            let text = raw.get().trim();
            if text == "null" {
                continue;
            }
            if !is_number_text(text) {
                return Err(malformed(format!(
                    "{name} at {} is not a number: {text:.40}",
                    row.timestamp
                )));
            }
            page.text.push_str(text);
        }
        page.text.push('\n');
        page.rows += 1;
        page.last_close_ms = Some(t);
    }
    Ok(page)
}

/// Reads a complete line of a file this module wrote (or one in the same layout, e.g. the shared
/// BitMEX data file): its close time, after checking the symbol, the grid and every number.
pub(crate) fn close_time_of_line(line: &str, symbol: &str, bin: BinSize) -> Result<i64, String> {
    let fields: Vec<&str> = line.trim_end_matches('\r').split(',').collect();
    if fields.len() != COLUMNS {
        return Err(format!(
            "has {} fields, not the {COLUMNS} of the header",
            fields.len()
        ));
    }
    if fields[1] != symbol {
        return Err(format!(
            "holds {:?}, not {symbol}: it belongs to another download",
            fields[1]
        ));
    }
    let t = parse_ms(fields[0]).ok_or_else(|| format!("bad timestamp {:?}", fields[0]))?;
    if t.rem_euclid(bin.millis()) != 0 {
        return Err(format!(
            "time {} is not on the {} grid: the file holds another bucket size",
            fields[0],
            bin.as_str()
        ));
    }
    if let Some(bad) = fields[2..]
        .iter()
        .find(|f| !f.is_empty() && !is_number_text(f))
    {
        return Err(format!("bad number {bad:?}"));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1: &str = "2020-05-29T00:01:00.000Z";
    const T1_MS: i64 = 1_590_710_460_000;

    #[test]
    fn numbers_are_copied_as_sent_and_nulls_become_empty_fields() {
        let body = format!(
            r#"[{{"timestamp":"{T1}","symbol":"XBTUSD","open":9509.0,"high":9525.5,"low":0.1,"close":1e-7,
               "trades":94,"volume":18245,"vwap":null,"turnover":191745228,
               "homeNotional":0.42095048000000007,"foreignNotional":18245.0}}]"#
        );
        let page = page_to_csv(&body, "XBTUSD", BinSize::M1, 0, i64::MAX);
        assert_eq!(
            page.ok(),
            Some(CsvPage {
                text: format!(
                    "{T1},XBTUSD,9509.0,9525.5,0.1,1e-7,94,18245,,,191745228,0.42095048000000007,18245.0\n"
                ),
                rows: 1,
                last_close_ms: Some(T1_MS),
            }),
            "missing lastSize and null vwap are empty; every number keeps its spelling"
        );
        assert_eq!(
            page_to_csv("[]", "XBTUSD", BinSize::M1, 0, i64::MAX).ok(),
            Some(CsvPage::default())
        );
    }

    #[test]
    fn rows_the_download_cannot_trust_are_refused() {
        let row = |ts: &str, sym: &str, open: &str| {
            format!(r#"{{"timestamp":"{ts}","symbol":"{sym}","open":{open}}}"#)
        };
        let ok = row(T1, "XBTUSD", "1");
        let bad: Vec<(String, i64, i64)> = vec![
            ("not json".into(), 0, i64::MAX),
            (format!("[{}]", row(T1, "ETHUSD", "1")), 0, i64::MAX),
            (format!("[{}]", row("nope", "XBTUSD", "1")), 0, i64::MAX),
            (format!("[{}]", row(T1, "XBTUSD", "\"1,2\"")), 0, i64::MAX),
            (format!("[{}]", row(T1, "XBTUSD", "[1]")), 0, i64::MAX),
            (format!("[{ok},{ok}]"), 0, i64::MAX),
            (format!("[{ok}]"), T1_MS, i64::MAX),
            (format!("[{ok}]"), 0, T1_MS - 1),
            (
                format!("[{}]", row("2020-05-29T00:01:30.000Z", "XBTUSD", "1")),
                0,
                i64::MAX,
            ),
        ];
        for (body, after, until) in bad {
            assert!(
                matches!(
                    page_to_csv(&body, "XBTUSD", BinSize::M1, after, until),
                    Err(ExchangeError::Malformed(_))
                ),
                "expected Malformed for {body} in ({after}, {until}]"
            );
        }
    }

    #[test]
    fn written_lines_read_back_and_foreign_ones_do_not() {
        let good = "2020-05-29T00:01:00.000Z,XBTUSD,1,2,0.5,1.5,3,4,,,5,6.0,7e2";
        assert_eq!(close_time_of_line(good, "XBTUSD", BinSize::M1), Ok(T1_MS));
        let shared_layout = "2020-05-29 00:01:00+00:00,XBTUSD,9509.0,9525.5,9509.0,9509.5,94,18245,9515.6532,92.0,191745228,1.91745228,18245.0";
        assert_eq!(
            close_time_of_line(shared_layout, "XBTUSD", BinSize::M1),
            Ok(T1_MS)
        );
        for (line, bin) in [
            (good, BinSize::H1),
            ("2020-05-29T00:01:00.000Z,XBTUSD,1,2", BinSize::M1),
            (
                "2020-05-29T00:01:00.000Z,ETHUSD,1,2,0.5,1.5,3,4,,,5,6.0,7e2",
                BinSize::M1,
            ),
            ("x,XBTUSD,1,2,0.5,1.5,3,4,,,5,6.0,7e2", BinSize::M1),
            (
                "2020-05-29T00:01:00.000Z,XBTUSD,1,2,0.5,1.5,3,4,,,5,6.0,7e",
                BinSize::M1,
            ),
        ] {
            assert!(
                close_time_of_line(line, "XBTUSD", bin).is_err(),
                "{line} at {bin:?}"
            );
        }
    }
}
