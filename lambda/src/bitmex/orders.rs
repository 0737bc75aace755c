//! Orders: market order with its clOrdID, look-up, cancel-all, and the dead-man's switch.

use super::BitmexClient;
use super::account::whole;
use super::error::is_duplicate_cl_ord_id;
use super::http::{Call, parse_json};
use crate::exchange::{ExchangeError, ExchangeResult, OrderRequest, PlacedOrder, Side};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::exchange::MAX_CL_ORD_ID_LEN;

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
        order_id: row.order_id,
        cl_ord_id: row.cl_ord_id.unwrap_or_default(),
        symbol: row.symbol.unwrap_or_default(),
        side,
        avg_price: row.avg_px.filter(|p| p.is_finite()),
        status: row.ord_status.unwrap_or_default(),
    })
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
        // Resending is safe only because the body carries the same clOrdID: BitMEX refuses the
        // second copy as a duplicate instead of opening a second position.
        let call = Call::new(Method::POST, "/order")
            .body(order_body(order))
            .retryable();
        match self.send(&call).await {
            Ok(body) => match parse_json(ROUTE, &body).and_then(|row| to_placed(ROUTE, row)) {
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
            .query("count", "1");
        let rows: Vec<OrderRow> = parse_json(ROUTE, &self.send(&call).await?)?;
        rows.into_iter()
            .find(|r| r.cl_ord_id.as_deref() == Some(cl_ord_id))
            .map(|row| to_placed(ROUTE, row))
            .transpose()
    }

    pub(crate) async fn delete_all_orders(&self, symbol: &str) -> ExchangeResult<usize> {
        const ROUTE: &str = "DELETE /order/all";
        let call =
            Call::new(Method::DELETE, "/order/all").body(serde_json::json!({ "symbol": symbol }));
        let rows: Vec<Value> = parse_json(ROUTE, &self.send(&call).await?)?;
        Ok(rows.len())
    }

    pub(crate) async fn arm_cancel_all_after(&self, timeout_ms: u64) -> ExchangeResult<()> {
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
