//! The BitMEX answer parsers as plain functions of the body text, for the fuzz targets in `fuzz/`.
//!
//! Only built with the `fuzzing` feature: the parsers are private to the client (a caller gets
//! typed results from the [`Exchange`](crate::exchange::Exchange) methods), and driving them
//! through HTTP would make each fuzz run a network round trip. Not a stable API.

use super::{account, candles, error, orders};
use crate::exchange::{ExchangeResult, Instrument, PlacedOrder};
use maestro_core::{Candle, TickSize};

/// `GET /trade/bucketed` → candles, oldest first (`reverse`: the body is newest first).
pub fn candles(
    body: &str,
    symbol: &str,
    tick: TickSize,
    reverse: bool,
) -> ExchangeResult<Vec<Candle>> {
    candles::parse_candles(body, symbol, tick, reverse)
}

/// `GET /instrument` → the instrument `symbol`.
pub fn instrument(body: &str, symbol: &str) -> ExchangeResult<Instrument> {
    account::parse_instrument(body, symbol)
}

/// `GET /position` → the signed position in `symbol`.
pub fn position(body: &str, symbol: &str) -> ExchangeResult<i64> {
    account::parse_position(body, symbol)
}

/// `POST /order` → the order placed.
pub fn placed(body: &str) -> ExchangeResult<PlacedOrder> {
    orders::parse_placed("POST /order", body)
}

/// `GET /order?filter={"clOrdID":..}` → the order with that id, if listed.
pub fn found(body: &str, cl_ord_id: &str) -> ExchangeResult<Option<PlacedOrder>> {
    orders::parse_found("GET /order", body, cl_ord_id)
}

/// `DELETE /order` → the orders on `symbol` as they now stand.
pub fn cancelled(body: &str, symbol: &str) -> ExchangeResult<Vec<PlacedOrder>> {
    orders::parse_cancelled("DELETE /order", body, symbol)
}

/// An error answer → `(name, message)`.
pub fn error_body(status: u16, body: &str) -> (String, String) {
    error::parse_error_body(status, body)
}

/// ISO-8601 timestamp → UNIX ms, and UNIX ms → ISO-8601 (as sent in `startTime`).
pub fn timestamps(text: &str, ms: i64) -> (Option<i64>, ExchangeResult<String>) {
    (candles::ms_from_iso(text), candles::iso_from_ms(ms))
}
