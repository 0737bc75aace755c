//! `GET /trade/bucketed` → core candles.
//!
//! BitMEX stamps a bucket with the END of its period, which is exactly the core's `close_time_ms`:
//! the timestamp is converted once, here, and nowhere else. Prices become exact ticks with the
//! instrument's tick size; a row that cannot be read is an error, never a panic or a silent skip.

use super::BitmexClient;
use super::http::{Call, parse_json};
use crate::exchange::{BinSize, ExchangeError, ExchangeResult};
use maestro_core::{Candle, Price, TickSize};
use reqwest::Method;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// The most candles asked for in one request (BitMEX allows 1000; staying at 500 keeps answers
/// small and far from the limit).
pub const MAX_CANDLES_PER_REQUEST: usize = 500;

const ROUTE: &str = "GET /trade/bucketed";

/// One row of `/trade/bucketed`; only what the bot reads. Prices are optional here so that a
/// null price is reported as malformed instead of failing the whole body's decoding opaquely.
#[derive(Debug, Deserialize)]
struct TradeBin {
    timestamp: String,
    symbol: String,
    open: Option<f64>,
    high: Option<f64>,
    low: Option<f64>,
    close: Option<f64>,
}

/// ISO-8601 with milliseconds, as BitMEX writes and reads it. Only years 0000 to 9999: RFC 3339
/// has no other, and a time outside them would be a query BitMEX refuses.
pub(crate) fn iso_from_ms(ms: i64) -> ExchangeResult<String> {
    let bad = || ExchangeError::Malformed(format!("time {ms} ms is out of range"));
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .filter(|t| (0..=9999).contains(&t.year()))
        .ok_or_else(bad)?;
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .map_err(|_| bad())
}

/// Milliseconds since the epoch from BitMEX's ISO-8601 timestamp.
pub(crate) fn ms_from_iso(text: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

fn to_candle(row: &TradeBin, symbol: &str, tick: TickSize) -> ExchangeResult<Candle> {
    if row.symbol != symbol {
        return Err(ExchangeError::Malformed(format!(
            "{ROUTE}: asked for {symbol}, got a row for {:?}",
            row.symbol
        )));
    }
    let close_time_ms = ms_from_iso(&row.timestamp).ok_or_else(|| {
        ExchangeError::Malformed(format!("{ROUTE}: bad timestamp {:?}", row.timestamp))
    })?;
    let price = |name: &str, value: Option<f64>| -> ExchangeResult<Price> {
        let value = value.ok_or_else(|| {
            ExchangeError::Malformed(format!("{ROUTE}: {name} missing at {}", row.timestamp))
        })?;
        Price::from_f64(value, tick).map_err(|e| {
            ExchangeError::Malformed(format!("{ROUTE}: {name} {value} at {}: {e}", row.timestamp))
        })
    };
    Ok(Candle {
        close_time_ms,
        open: price("open", row.open)?,
        high: price("high", row.high)?,
        low: price("low", row.low)?,
        close: price("close", row.close)?,
    })
}

/// Parses an answer into candles, oldest first, checking the order BitMEX promised.
pub(crate) fn parse_candles(
    body: &str,
    symbol: &str,
    tick: TickSize,
    reverse: bool,
) -> ExchangeResult<Vec<Candle>> {
    let rows: Vec<TradeBin> = parse_json(ROUTE, body)?;
    let mut candles = rows
        .iter()
        .map(|row| to_candle(row, symbol, tick))
        .collect::<ExchangeResult<Vec<_>>>()?;
    if reverse {
        candles.reverse();
    }
    if let Some(pair) = candles
        .windows(2)
        .find(|w| w[0].close_time_ms >= w[1].close_time_ms)
    {
        return Err(ExchangeError::Malformed(format!(
            "{ROUTE}: buckets out of order ({} then {})",
            pair[0].close_time_ms, pair[1].close_time_ms
        )));
    }
    Ok(candles)
}

fn bucketed(symbol: &str, bin: BinSize, count: usize, reverse: bool) -> Call {
    Call::new(Method::GET, "/trade/bucketed")
        .public()
        .query("binSize", bin.as_str())
        .query("partial", "false")
        .query("symbol", symbol)
        .query("count", count.to_string())
        .query("reverse", if reverse { "true" } else { "false" })
}

impl BitmexClient {
    /// Completed candles with a close time strictly after `after_close_ms` (and at or before
    /// `until_close_ms` when given), oldest first, at most `max` (capped at
    /// [`MAX_CANDLES_PER_REQUEST`]): one request. Works on a public client.
    pub(crate) async fn candles_page(
        &self,
        symbol: &str,
        bin: BinSize,
        tick: TickSize,
        after_close_ms: i64,
        until_close_ms: Option<i64>,
        max: usize,
    ) -> ExchangeResult<Vec<Candle>> {
        let count = max.min(MAX_CANDLES_PER_REQUEST);
        if count == 0 || until_close_ms.is_some_and(|until| until <= after_close_ms) {
            return Ok(Vec::new());
        }
        // startTime filters on the bucket's (end) timestamp, inclusive: one millisecond past the
        // last close we hold is "strictly after" whatever the alignment.
        let mut call = bucketed(symbol, bin, count, false)
            .query("startTime", iso_from_ms(after_close_ms.saturating_add(1))?);
        if let Some(until) = until_close_ms {
            call = call.query("endTime", iso_from_ms(until)?);
        }
        let body = self.send(&call).await?;
        let mut candles = parse_candles(&body, symbol, tick, false)?;
        candles.retain(|c| {
            c.close_time_ms > after_close_ms && until_close_ms.is_none_or(|u| c.close_time_ms <= u)
        });
        Ok(candles)
    }

    /// The last `n` completed candles, oldest first; pages backwards when `n` exceeds one request.
    pub async fn last_candles(
        &self,
        symbol: &str,
        bin: BinSize,
        tick: TickSize,
        n: usize,
    ) -> ExchangeResult<Vec<Candle>> {
        let mut newest_first: Vec<Candle> = Vec::new();
        while newest_first.len() < n {
            let count = (n - newest_first.len()).min(MAX_CANDLES_PER_REQUEST);
            let mut call = bucketed(symbol, bin, count, true);
            if let Some(oldest) = newest_first.last() {
                call = call.query("endTime", iso_from_ms(oldest.close_time_ms - 1)?);
            }
            let body = self.send(&call).await?;
            let page = parse_candles(&body, symbol, tick, true)?;
            if let (Some(newest_in_page), Some(oldest)) = (page.last(), newest_first.last())
                && newest_in_page.close_time_ms >= oldest.close_time_ms
            {
                return Err(ExchangeError::Malformed(format!(
                    "{ROUTE}: page overlaps the previous one at {}",
                    newest_in_page.close_time_ms
                )));
            }
            let short = page.len() < count;
            newest_first.extend(page.into_iter().rev());
            if short {
                break; // the exchange has no older buckets
            }
        }
        newest_first.reverse();
        Ok(newest_first)
    }

    /// Downloads every completed candle with a close time in `(after_close_ms, until_close_ms]`,
    /// oldest first, paging forward; `progress` is told the size of each page as it arrives. Works
    /// on a public client (history for `maestro fetch`).
    pub async fn history(
        &self,
        symbol: &str,
        bin: BinSize,
        tick: TickSize,
        after_close_ms: i64,
        until_close_ms: i64,
        mut progress: impl FnMut(&[Candle]),
    ) -> ExchangeResult<Vec<Candle>> {
        let mut all: Vec<Candle> = Vec::new();
        let mut after = after_close_ms;
        loop {
            let page = self
                .candles_page(
                    symbol,
                    bin,
                    tick,
                    after,
                    Some(until_close_ms),
                    MAX_CANDLES_PER_REQUEST,
                )
                .await?;
            progress(&page);
            let Some(last) = page.last() else { break };
            after = last.close_time_ms;
            let short = page.len() < MAX_CANDLES_PER_REQUEST;
            all.extend(page);
            if short || after >= until_close_ms {
                break;
            }
        }
        Ok(all)
    }

    /// One page of `/trade/bucketed` exactly as BitMEX sent it (the JSON text): completed buckets
    /// with a close time in `(after_close_ms, until_close_ms]`, oldest first, at most `max` rows
    /// (capped at [`MAX_CANDLES_PER_REQUEST`]); one request. For callers that keep every column and
    /// the exact decimal text of prices (`maestro fetch`): nothing here goes through `f64`. The rows
    /// are not checked; the caller reads them.
    pub async fn bucketed_page_json(
        &self,
        symbol: &str,
        bin: BinSize,
        after_close_ms: i64,
        until_close_ms: i64,
        max: usize,
    ) -> ExchangeResult<String> {
        let count = max.min(MAX_CANDLES_PER_REQUEST);
        if count == 0 || until_close_ms <= after_close_ms {
            return Ok("[]".to_owned());
        }
        let call = bucketed(symbol, bin, count, false)
            .query("startTime", iso_from_ms(after_close_ms.saturating_add(1))?)
            .query("endTime", iso_from_ms(until_close_ms)?);
        self.send(&call).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_as_end_of_bucket() {
        assert_eq!(
            iso_from_ms(1_590_710_460_000).ok().as_deref(),
            Some("2020-05-29T00:01:00.000Z")
        );
        assert_eq!(
            ms_from_iso("2020-05-29T00:01:00.000Z"),
            Some(1_590_710_460_000)
        );
        assert_eq!(ms_from_iso("2020-05-29T00:01:00Z"), Some(1_590_710_460_000));
        assert_eq!(ms_from_iso("yesterday"), None);
    }

    /// Found by the `bitmex_responses` fuzz target: a time before year 0 was written as
    /// `-3067-06-19T23:24:34.811Z`, which is no RFC 3339 timestamp (BitMEX would refuse the
    /// query, and we could not read it back). Every time we write reads back as itself.
    #[test]
    fn only_times_rfc_3339_can_write_are_written() {
        let cases: &[(i64, Option<&str>)] = &[
            (-158_937_640_525_189, None),
            (-62_167_219_200_001, None),
            (-62_167_219_200_000, Some("0000-01-01T00:00:00.000Z")),
            (0, Some("1970-01-01T00:00:00.000Z")),
            (253_402_300_799_999, Some("9999-12-31T23:59:59.999Z")),
            (253_402_300_800_000, None),
            (i64::MAX, None),
            (i64::MIN, None),
        ];
        for &(ms, want) in cases {
            let got = iso_from_ms(ms);
            assert_eq!(got.as_deref().ok(), want, "{ms} ms");
            if let Ok(text) = got {
                assert_eq!(ms_from_iso(&text), Some(ms), "{text} reads back");
            }
        }
    }

    #[test]
    fn rows_become_candles_or_malformed_errors() {
        let tick = TickSize::CENT;
        let good = r#"[{"timestamp":"2020-05-29T00:01:00.000Z","symbol":"LTCUSDT","open":45.1,"high":45.3,"low":45.2,"close":45.25,"vwap":null}]"#;
        let candles = parse_candles(good, "LTCUSDT", tick, false).unwrap_or_default();
        assert_eq!(
            candles,
            vec![Candle {
                close_time_ms: 1_590_710_460_000,
                open: Price(4510),
                high: Price(4530),
                low: Price(4520),
                close: Price(4525),
            }],
            "open outside [low, high] is normal on BitMEX and must be accepted"
        );
        let bad: &[&str] = &[
            "not json",
            r#"{"error":"x"}"#,
            r#"[{"timestamp":"nope","symbol":"LTCUSDT","open":1,"high":1,"low":1,"close":1}]"#,
            r#"[{"timestamp":"2020-05-29T00:01:00.000Z","symbol":"XBTUSD","open":1,"high":1,"low":1,"close":1}]"#,
            r#"[{"timestamp":"2020-05-29T00:01:00.000Z","symbol":"LTCUSDT","open":1,"high":1,"low":1,"close":null}]"#,
            r#"[{"timestamp":"2020-05-29T00:01:00.000Z","symbol":"LTCUSDT","open":1,"high":1,"low":-1,"close":1}]"#,
            r#"[{"timestamp":"2020-05-29T00:02:00.000Z","symbol":"LTCUSDT","open":1,"high":1,"low":1,"close":1},
                {"timestamp":"2020-05-29T00:01:00.000Z","symbol":"LTCUSDT","open":1,"high":1,"low":1,"close":1}]"#,
        ];
        for body in bad {
            assert!(
                matches!(
                    parse_candles(body, "LTCUSDT", tick, false),
                    Err(ExchangeError::Malformed(_))
                ),
                "expected Malformed for {body}"
            );
        }
    }
}
