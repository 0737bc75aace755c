//! Orders: market order with its clOrdID, look-up, cancel-all, and the dead-man's switch.

use super::BitmexClient;
use super::account::whole;
use super::candles::{iso_from_ms, ms_from_iso};
use super::error::is_duplicate_cl_ord_id;
use super::http::{Call, parse_json};
use crate::exchange::{ExchangeError, ExchangeResult, OrderRequest, PlacedOrder, Side};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::exchange::MAX_CL_ORD_ID_LEN;

/// Rows per `GET /order` page (BitMEX's documented default is 100; 500 is the most its tables
/// serve per request).
pub const ORDERS_PAGE: usize = 500;
/// Pages read at most by one [`orders_since`](crate::exchange::Exchange::orders_since) call:
/// beyond that the window holds more orders than a bot makes, and an answer cut short would be
/// mistaken for the whole story, so the call fails instead.
pub(crate) const MAX_ORDER_PAGES: usize = 20;
/// Client order ids per `DELETE /order` request.
pub(crate) const CANCEL_BATCH: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderRow {
    #[serde(rename = "orderID")]
    order_id: String,
    #[serde(rename = "clOrdID", default)]
    cl_ord_id: Option<String>,
    symbol: Option<String>,
    side: Option<String>,
    order_qty: Option<f64>,
    cum_qty: Option<f64>,
    avg_px: Option<f64>,
    ord_status: Option<String>,
    leaves_qty: Option<f64>,
    timestamp: Option<String>,
}

fn to_placed(route: &str, row: OrderRow) -> ExchangeResult<PlacedOrder> {
    let side = match row.side.as_deref() {
        Some("Buy") => Side::Buy,
        Some("Sell") => Side::Sell,
        other => {
            return Err(ExchangeError::Malformed(format!(
                "{route}: order {} has side {other:?}",
                row.order_id
            )));
        }
    };
    let qty = |name: &str, v: Option<f64>| -> ExchangeResult<u64> {
        let n = whole(route, name, v.unwrap_or(0.0))?;
        u64::try_from(n)
            .map_err(|_| ExchangeError::Malformed(format!("{route}: {name} {n} is negative")))
    };
    Ok(PlacedOrder {
        qty: qty("orderQty", row.order_qty)?,
        filled_qty: qty("cumQty", row.cum_qty)?,
        leaves_qty: qty("leavesQty", row.leaves_qty)?,
        // The time only orders the answer for a reader; a missing stamp is no reason to refuse it.
        timestamp_ms: row.timestamp.as_deref().and_then(ms_from_iso).unwrap_or(0),
        order_id: row.order_id,
        cl_ord_id: row.cl_ord_id.unwrap_or_default(),
        symbol: row.symbol.unwrap_or_default(),
        side,
        avg_price: row.avg_px.filter(|p| p.is_finite()),
        status: row.ord_status.unwrap_or_default(),
    })
}

/// One order as `POST /order` answers it.
pub(crate) fn parse_placed(route: &str, body: &str) -> ExchangeResult<PlacedOrder> {
    parse_json(route, body).and_then(|row| to_placed(route, row))
}

/// The order carrying `cl_ord_id` in a `GET /order` answer, if listed.
pub(crate) fn parse_found(
    route: &str,
    body: &str,
    cl_ord_id: &str,
) -> ExchangeResult<Option<PlacedOrder>> {
    let rows: Vec<OrderRow> = parse_json(route, body)?;
    rows.into_iter()
        .find(|r| r.cl_ord_id.as_deref() == Some(cl_ord_id))
        .map(|row| to_placed(route, row))
        .transpose()
}

/// The orders on `symbol` in a `DELETE /order` answer, as they now stand.
pub(crate) fn parse_cancelled(
    route: &str,
    body: &str,
    symbol: &str,
) -> ExchangeResult<Vec<PlacedOrder>> {
    let rows: Vec<OrderRow> = parse_json(route, body)?;
    rows.into_iter()
        // An id reused on another symbol is not this bot's order here.
        .filter(|r| r.symbol.as_deref().is_none_or(|s| s == symbol))
        .map(|row| to_placed(route, row))
        .collect()
}

/// Refuses, without a request, an order BitMEX would refuse anyway.
fn check(order: &OrderRequest) -> ExchangeResult<()> {
    let refuse = |message: String| ExchangeError::Rejected {
        status: 0,
        name: "InvalidOrder".into(),
        message,
    };
    if order.cl_ord_id.is_empty() || order.cl_ord_id.len() > MAX_CL_ORD_ID_LEN {
        return Err(refuse(format!(
            "clOrdID must be 1 to {MAX_CL_ORD_ID_LEN} characters, got {}",
            order.cl_ord_id.len()
        )));
    }
    if !order.close && (order.qty == 0 || i64::try_from(order.qty).is_err()) {
        return Err(refuse(format!(
            "order quantity {} is out of range",
            order.qty
        )));
    }
    Ok(())
}

/// The `POST /order` body: a market order, explicitly (BitMEX defaults to Limit).
fn order_body(order: &OrderRequest) -> Value {
    let mut body = Map::new();
    body.insert("symbol".into(), order.symbol.clone().into());
    body.insert("side".into(), order.side.as_str().into());
    if !order.close {
        body.insert("orderQty".into(), order.qty.into());
    }
    body.insert("ordType".into(), "Market".into());
    body.insert("clOrdID".into(), order.cl_ord_id.clone().into());
    let exec_inst = if order.close {
        Some("Close")
    } else if order.reduce_only {
        Some("ReduceOnly")
    } else {
        None
    };
    if let Some(inst) = exec_inst {
        body.insert("execInst".into(), inst.into());
    }
    Value::Object(body)
}

impl BitmexClient {
    pub(crate) async fn post_order(&self, order: &OrderRequest) -> ExchangeResult<PlacedOrder> {
        const ROUTE: &str = "POST /order";
        check(order)?;
        // Sent once. Whether BitMEX refuses a second copy of a clOrdID once the first has
        // filled is not documented, so a resend after a lost answer could execute the order
        // twice: after a failure whose fate is unknown the id is looked up instead, and if the
        // exchange does not know it (yet), the caller keeps the intent and the next tick looks
        // again before deciding anything.
        let call = Call::new(Method::POST, "/order").body(order_body(order));
        match self.send(&call).await {
            Ok(body) => match parse_placed(ROUTE, &body) {
                Ok(placed) => Ok(placed),
                // A 200 means the engine took the order; only the answer is unreadable. Ask for
                // the order itself rather than leave the caller unsure whether it exists.
                Err(unreadable) => match self.find_order(&order.symbol, &order.cl_ord_id).await {
                    Ok(Some(placed)) => Ok(placed),
                    _ => Err(unreadable),
                },
            },
            Err(error) if is_duplicate_cl_ord_id(&error) => {
                tracing::info!(cl_ord_id = %order.cl_ord_id, "clOrdID already placed; looking it up");
                self.find_order(&order.symbol, &order.cl_ord_id)
                    .await?
                    .ok_or_else(|| {
                        ExchangeError::Retryable(format!(
                            "{ROUTE}: BitMEX reports clOrdID {} as a duplicate but does not list it yet",
                            order.cl_ord_id
                        ))
                    })
            }
            Err(error) if error.is_retryable() => {
                match self.find_order(&order.symbol, &order.cl_ord_id).await {
                    Ok(Some(placed)) => {
                        tracing::info!(cl_ord_id = %order.cl_ord_id, "order placed despite a failed answer");
                        Ok(placed)
                    }
                    _ => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }

    pub(crate) async fn find_order(
        &self,
        symbol: &str,
        cl_ord_id: &str,
    ) -> ExchangeResult<Option<PlacedOrder>> {
        const ROUTE: &str = "GET /order";
        let filter = serde_json::json!({ "clOrdID": cl_ord_id }).to_string();
        let call = Call::new(Method::GET, "/order")
            .query("symbol", symbol)
            .query("filter", filter)
            .query("count", "1")
            // Newest first: where BitMEX lets a finished order's id be used again, the id names
            // several orders, and the one that matters is the latest.
            .query("reverse", "true");
        parse_found(ROUTE, &self.send(&call).await?, cl_ord_id)
    }

    /// `GET /order?symbol=..&startTime=..&count=500&reverse=true[&start=..]`, paged newest first
    /// until a short page or `max` matches; the prefix is matched here because BitMEX's `filter`
    /// matches exact values only. Paging by offset while orders arrive can show a row twice (it
    /// shifts to the next page), never hide one; the order id removes the repeat.
    pub(crate) async fn list_orders_since(
        &self,
        symbol: &str,
        cl_ord_id_prefix: &str,
        since_ms: i64,
        max: usize,
    ) -> ExchangeResult<Vec<PlacedOrder>> {
        const ROUTE: &str = "GET /order";
        let start_time = iso_from_ms(since_ms)?;
        let mut found: Vec<PlacedOrder> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for page in 0..MAX_ORDER_PAGES {
            if found.len() >= max {
                break;
            }
            let mut call = Call::new(Method::GET, "/order")
                .query("symbol", symbol)
                .query("startTime", start_time.clone())
                .query("count", ORDERS_PAGE.to_string())
                .query("reverse", "true");
            if page > 0 {
                call = call.query("start", (page * ORDERS_PAGE).to_string());
            }
            let rows: Vec<OrderRow> = parse_json(ROUTE, &self.send(&call).await?)?;
            let full = rows.len() >= ORDERS_PAGE;
            for row in rows {
                let ours = row.symbol.as_deref().is_none_or(|s| s == symbol)
                    && row
                        .cl_ord_id
                        .as_deref()
                        .is_some_and(|id| id.starts_with(cl_ord_id_prefix));
                if ours && seen.insert(row.order_id.clone()) {
                    found.push(to_placed(ROUTE, row)?);
                }
            }
            if !full {
                found.truncate(max);
                found.reverse();
                return Ok(found);
            }
        }
        if found.len() >= max {
            found.truncate(max);
            found.reverse();
            return Ok(found);
        }
        Err(ExchangeError::Rejected {
            status: 0,
            name: "TooManyOrders".into(),
            message: format!(
                "{ROUTE}: more than {} orders on {symbol} since {start_time}; not all were read",
                MAX_ORDER_PAGES * ORDERS_PAGE
            ),
        })
    }

    /// `DELETE /order` with `{"clOrdID": [..]}` in batches. A 404 means BitMEX knows none of the
    /// batch; whether it would also answer 404 for a batch with one unknown id among open orders
    /// is not documented, so such a batch is sent again one id at a time.
    pub(crate) async fn cancel_by_cl_ord_ids(
        &self,
        symbol: &str,
        cl_ord_ids: &[String],
    ) -> ExchangeResult<Vec<PlacedOrder>> {
        let ids: Vec<&String> = cl_ord_ids.iter().filter(|id| !id.is_empty()).collect();
        let mut reported = Vec::new();
        for batch in ids.chunks(CANCEL_BATCH) {
            match self.delete_orders(symbol, batch).await? {
                Some(rows) => reported.extend(rows),
                None if batch.len() > 1 => {
                    for id in batch {
                        reported.extend(
                            self.delete_orders(symbol, &[*id])
                                .await?
                                .unwrap_or_default(),
                        );
                    }
                }
                None => {}
            }
        }
        Ok(reported)
    }

    /// One `DELETE /order`; `None` for a 404 (no such order: already gone, or never placed).
    async fn delete_orders(
        &self,
        symbol: &str,
        ids: &[&String],
    ) -> ExchangeResult<Option<Vec<PlacedOrder>>> {
        const ROUTE: &str = "DELETE /order";
        let call = Call::new(Method::DELETE, "/order").body(serde_json::json!({ "clOrdID": ids }));
        let body = match self.send(&call).await {
            Ok(body) => body,
            Err(ExchangeError::Rejected { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        parse_cancelled(ROUTE, &body, symbol).map(Some)
    }

    /// `DELETE /order/all` for the symbol: cancels every open order, the trader's own stops and
    /// take-profits included, and returns how many. The bot never calls it (it cancels only its
    /// own orders, by clOrdID); it is here for a trader's tools.
    pub async fn cancel_all(&self, symbol: &str) -> ExchangeResult<usize> {
        const ROUTE: &str = "DELETE /order/all";
        let call =
            Call::new(Method::DELETE, "/order/all").body(serde_json::json!({ "symbol": symbol }));
        let rows: Vec<Value> = parse_json(ROUTE, &self.send(&call).await?)?;
        Ok(rows.len())
    }

    /// `POST /order/cancelAllAfter`: the account-wide dead-man's switch (0 disarms it). It cancels
    /// only resting orders, on every symbol, the trader's own included, so the bot, which sends
    /// market orders, does not arm it; it is here for a trader's tools.
    pub async fn cancel_all_after(&self, timeout_ms: u64) -> ExchangeResult<()> {
        const ROUTE: &str = "POST /order/cancelAllAfter";
        // Arming is idempotent (it only moves the cancel time), so it may be resent.
        let call = Call::new(Method::POST, "/order/cancelAllAfter")
            .body(serde_json::json!({ "timeout": timeout_ms }))
            .retryable();
        let _: Value = parse_json(ROUTE, &self.send(&call).await?)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(qty: u64, reduce_only: bool, close: bool) -> OrderRequest {
        OrderRequest {
            symbol: "LTCUSDT".into(),
            side: Side::Sell,
            qty,
            cl_ord_id: "cm-1".into(),
            reduce_only,
            close,
        }
    }

    #[test]
    fn bodies_name_market_explicitly_and_close_sends_no_quantity() {
        let cases: &[(OrderRequest, Value)] = &[
            (
                request(1000, false, false),
                serde_json::json!({"symbol":"LTCUSDT","side":"Sell","orderQty":1000,"ordType":"Market","clOrdID":"cm-1"}),
            ),
            (
                request(1000, true, false),
                serde_json::json!({"symbol":"LTCUSDT","side":"Sell","orderQty":1000,"ordType":"Market","clOrdID":"cm-1","execInst":"ReduceOnly"}),
            ),
            (
                request(1000, true, true),
                serde_json::json!({"symbol":"LTCUSDT","side":"Sell","ordType":"Market","clOrdID":"cm-1","execInst":"Close"}),
            ),
        ];
        for (order, want) in cases {
            assert_eq!(&order_body(order), want, "body for {order:?}");
        }
    }

    #[test]
    fn invalid_orders_are_refused_before_sending() {
        assert!(check(&request(0, false, false)).is_err());
        assert!(check(&request(0, false, true)).is_ok());
        let mut long = request(1000, false, false);
        long.cl_ord_id = "x".repeat(37);
        assert!(check(&long).is_err());
        assert!(check(&request(1000, false, false)).is_ok());
    }
}
