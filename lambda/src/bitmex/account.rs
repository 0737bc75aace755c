//! `GET /instrument` and `GET /position`: what the bot reads about the market and its holding.

use super::BitmexClient;
use super::http::{Call, parse_json};
use crate::exchange::{ExchangeError, ExchangeResult, Instrument};
use maestro_core::TickSize;
use reqwest::Method;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstrumentRow {
    symbol: String,
    state: Option<String>,
    lot_size: Option<f64>,
    tick_size: Option<f64>,
    multiplier: Option<f64>,
    underlying_to_position_multiplier: Option<f64>,
    taker_fee: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PositionRow {
    symbol: String,
    current_qty: Option<f64>,
}

/// A JSON number that must be a whole number (BitMEX sends integers; a float with a fraction here
/// means the answer is not what we think it is).
pub(crate) fn whole(route: &str, name: &str, value: f64) -> ExchangeResult<i64> {
    const LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53: beyond it f64 no longer holds every integer
    if value.is_finite() && value.fract() == 0.0 && value.abs() <= LIMIT {
        Ok(value as i64)
    } else {
        Err(ExchangeError::Malformed(format!(
            "{route}: {name} {value} is not a whole number"
        )))
    }
}

fn missing(route: &str, name: &str) -> ExchangeError {
    ExchangeError::Malformed(format!("{route}: {name} missing"))
}

/// `GET /instrument`'s answer: the row for `symbol`, checked (a 404 when it is not listed).
pub(crate) fn parse_instrument(body: &str, symbol: &str) -> ExchangeResult<Instrument> {
    const ROUTE: &str = "GET /instrument";
    let rows: Vec<InstrumentRow> = parse_json(ROUTE, body)?;
    let row = rows
        .into_iter()
        .find(|r| r.symbol == symbol)
        .ok_or_else(|| ExchangeError::Rejected {
            status: 404,
            name: "NotFound".into(),
            message: format!("no instrument {symbol}"),
        })?;
    let tick = row.tick_size.ok_or_else(|| missing(ROUTE, "tickSize"))?;
    let tick_size = TickSize::from_f64(tick)
        .map_err(|e| ExchangeError::Malformed(format!("{ROUTE}: tickSize {tick}: {e}")))?;
    let lot = whole(
        ROUTE,
        "lotSize",
        row.lot_size.ok_or_else(|| missing(ROUTE, "lotSize"))?,
    )?;
    let lot_size = u64::try_from(lot).ok().filter(|&l| l > 0).ok_or_else(|| {
        ExchangeError::Malformed(format!("{ROUTE}: lotSize {lot} is not positive"))
    })?;
    let multiplier = whole(
        ROUTE,
        "multiplier",
        row.multiplier.ok_or_else(|| missing(ROUTE, "multiplier"))?,
    )?;
    let taker_fee = row.taker_fee.ok_or_else(|| missing(ROUTE, "takerFee"))?;
    if !taker_fee.is_finite() {
        return Err(ExchangeError::Malformed(format!(
            "{ROUTE}: takerFee {taker_fee}"
        )));
    }
    Ok(Instrument {
        symbol: row.symbol,
        tick_size,
        lot_size,
        multiplier,
        underlying_to_position_multiplier: row
            .underlying_to_position_multiplier
            .filter(|m| m.is_finite()),
        taker_fee,
        state: row.state.ok_or_else(|| missing(ROUTE, "state"))?,
    })
}

/// `GET /position`'s answer: the signed position in `symbol` (flat when it is not listed).
pub(crate) fn parse_position(body: &str, symbol: &str) -> ExchangeResult<i64> {
    const ROUTE: &str = "GET /position";
    let rows: Vec<PositionRow> = parse_json(ROUTE, body)?;
    // No row for the symbol means the account never held it: flat.
    match rows.iter().find(|r| r.symbol == symbol) {
        None => Ok(0),
        Some(PositionRow {
            current_qty: None, ..
        }) => Ok(0),
        Some(PositionRow {
            current_qty: Some(qty),
            ..
        }) => whole(ROUTE, "currentQty", *qty),
    }
}

impl BitmexClient {
    pub(crate) async fn fetch_instrument(&self, symbol: &str) -> ExchangeResult<Instrument> {
        let call = Call::new(Method::GET, "/instrument")
            .public()
            .query("symbol", symbol);
        parse_instrument(&self.send(&call).await?, symbol)
    }

    pub(crate) async fn fetch_position(&self, symbol: &str) -> ExchangeResult<i64> {
        let filter = serde_json::json!({ "symbol": symbol }).to_string();
        let call = Call::new(Method::GET, "/position").query("filter", filter);
        parse_position(&self.send(&call).await?, symbol)
    }
}
